package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Keyboard control of calls. Inside the window: Ctrl+Shift+A answers the
// ringing call, Ctrl+Shift+H hangs up the call on screen (or declines the
// ringing one), Ctrl+Shift+M mutes. Fyne has no system-wide hotkeys, so for
// a key that works while another application has the focus the desktop
// binds one to `omniphone --answer` / `omniphone --hangup`, which hand the
// action to this running instance (cmd/omniphone) and end up in
// [App.AnswerKey] and [App.HangupKey].

// Call keys inside the window.
var (
	keyAnswer = &desktop.CustomShortcut{KeyName: fyne.KeyA, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift}
	keyHangup = &desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift}
	keyMute   = &desktop.CustomShortcut{KeyName: fyne.KeyM, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift}
)

// A call key pressed with no call it applies to.
var (
	errNothingRings = errors.New("no call is ringing")
	errNoCallUp     = errors.New("no call to hang up")
)

// addCallKeys registers the call keys on the window's canvas.
func (a *App) addCallKeys() {
	for _, k := range []*desktop.CustomShortcut{keyAnswer, keyHangup, keyMute} {
		a.win.Canvas().AddShortcut(k, func(s fyne.Shortcut) { a.callKey(s) })
	}
}

// callKey carries out a call key; false when s is none.
func (a *App) callKey(s fyne.Shortcut) bool {
	switch s.ShortcutName() {
	case keyAnswer.ShortcutName():
		_, _ = a.answerKey()
	case keyHangup.ShortcutName():
		_, _ = a.hangupKey()
	case keyMute.ShortcutName():
		a.onMute()
	default:
		return false
	}
	return true
}

// AnswerKey answers the ringing call (or accepts the callback request) as
// the Answer button does, and says what it did. Safe from any goroutine.
func (a *App) AnswerKey() (string, error) { return a.onUI(a.answerKey) }

// HangupKey hangs up the call on screen, or declines the ringing call
// when no call is up, and says what it did. Safe from any goroutine.
func (a *App) HangupKey() (string, error) { return a.onUI(a.hangupKey) }

// ringingOrCallback reports a ringing call or a callback request waiting.
func (a *App) ringingOrCallback() bool {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	return a.calls.ringing != nil || a.calls.callback != nil
}

func (a *App) answerKey() (string, error) {
	if !a.ringingOrCallback() {
		return "", errNothingRings
	}
	a.onAnswer()
	return "answered", nil
}

func (a *App) hangupKey() (string, error) {
	if a.activeCall() != nil {
		a.onHangup()
		return "hung up", nil
	}
	if !a.ringingOrCallback() {
		return "", errNoCallUp
	}
	a.onDecline()
	return "declined", nil
}

// onUI runs f on Fyne's goroutine and returns its result; a window that is
// gone answers errNoWindow.
func (a *App) onUI(f func() (string, error)) (string, error) {
	type result struct {
		note string
		err  error
	}
	done := make(chan result, 1)
	if a.uiGone.Load() {
		return "", errNoWindow
	}
	a.do(func() {
		note, err := f()
		done <- result{note, err}
	})
	select {
	case r := <-done:
		return r.note, r.err
	case <-a.ctx.Done():
		return "", errNoWindow
	}
}

// errNoWindow: the window has closed.
var errNoWindow = errors.New("the window has closed")

// keyEntry is an Entry that passes the call keys on to the window: Fyne
// gives a shortcut to the focused widget only, and the number field has
// the focus most of the time.
type keyEntry struct {
	widget.Entry
	keys func(fyne.Shortcut) bool
}

func newKeyEntry(keys func(fyne.Shortcut) bool) *keyEntry {
	e := &keyEntry{keys: keys}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut implements fyne.Shortcutable.
func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if e.keys != nil && e.keys(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}
