package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/crm/lookup"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/sip"
)

// callBook tracks the calls the UI knows: the one ringing, the one shown
// as active, and what the app knows about each beyond SIP (callLink).
type callBook struct {
	mu      sync.Mutex
	ringing callHandle
	active  callHandle
	// lines are the calls not ended, in the order they came (lines.go).
	lines []callHandle
	// consults maps a consult call's ID to the held call it is for.
	consults map[string]callHandle
	links    map[string]callLink // by sip call ID
	// names are the callers' CRM names, by sip call ID, once the card found them.
	names map[string]string
	timer context.CancelFunc
	// callback dials the client of a callback request the operator accepts.
	callback func()
}

func newCallBook() *callBook {
	return &callBook{links: map[string]callLink{}, consults: map[string]callHandle{}, names: map[string]string{}}
}

// attachPhone subscribes to the phone's events. Handlers run on the
// phone's goroutines and hand the work to the UI goroutine with fyne.Do.
func (a *App) attachPhone() {
	p := a.opts.Phone
	if p == nil {
		return
	}
	account := a.opts.Account.User + "@" + a.opts.Account.Domain
	p.OnRegState(func(ev sip.RegEvent) {
		a.do(func() {
			a.regText, a.registered = regText(ev, account), ev.State == sip.RegRegistered
			if ev.Err != nil {
				a.opts.Logger.Warn("SIP registration", "state", ev.State.String(), "err", ev.Err)
			}
			a.refresh()
		})
	})
	p.OnIncoming(func(c *sip.Call) { a.do(func() { a.onIncoming(c) }) })
	p.OnCallState(func(ev sip.CallEvent) {
		if ev.Call == nil {
			return
		}
		if ev.State == sip.CallEnded {
			// Not through the UI goroutine: a call that ends while the app
			// shuts down must still reach the sync engine.
			a.onEnded(ev, ev.Call)
			return
		}
		a.do(func() { a.onCallState(ev, ev.Call) })
	})
}

// onIncoming shows the card at once, without taking the keyboard focus,
// and fills it in as the CRM answers (SPEC §0: ringing never waits for
// the CRM).
func (a *App) onIncoming(c callHandle) {
	info := c.Info()
	a.calls.mu.Lock()
	a.calls.ringing = c
	a.calls.mu.Unlock()
	a.calls.addLine(c)
	if active := a.activeCall(); active != nil {
		a.renderCall(active) // list the waiting call under the current one
	} else if r := a.opts.Ringer; r != nil {
		// A second call does not ring over the first: its card and its
		// line under the current call announce it.
		r.Ring()
	}
	if !a.opts.Settings.App.Card.Show {
		return
	}
	a.card.show(buildCardState(info.Remote, info.RemoteName, lookupState{Pending: a.opts.Cards != nil}))
	if a.opts.Cards == nil {
		a.card.show(buildCardState(info.Remote, info.RemoteName, lookupState{Err: errors.New(lang.L("no portal connected"))}))
		return
	}
	a.goAsync(func(ctx context.Context) {
		card, err := a.opts.Cards.Lookup(ctx, info.Remote)
		if errors.Is(err, lookup.ErrNoNumber) {
			err = errors.New(lang.L("the caller's number is hidden"))
		}
		a.do(func() { a.updateCard(c, info, lookupState{Card: card, Err: err}) })
		if err != nil {
			return
		}
		full, err := a.opts.Cards.Details(ctx, card)
		if err == nil {
			a.do(func() { a.updateCard(c, info, lookupState{Card: full}) })
		}
	})
}

// updateCard shows lookup results if the card is still about that call.
func (a *App) updateCard(c callHandle, info sip.Info, l lookupState) {
	a.calls.mu.Lock()
	same := a.calls.ringing == c || a.calls.active == c
	a.calls.mu.Unlock()
	a.calls.rememberName(info.ID, l.Card)
	if same && a.card.root.Visible() {
		st := buildCardState(info.Remote, info.RemoteName, l)
		st.Answered = c.Info().State != sip.CallIncoming
		a.card.show(st)
	}
}

// stopRinging silences the ring when c is the call that rings.
func (a *App) stopRinging(c callHandle) {
	a.calls.mu.Lock()
	ringing := a.calls.ringing == c
	a.calls.mu.Unlock()
	if ringing && a.opts.Ringer != nil {
		a.opts.Ringer.Stop()
	}
}

func (a *App) onAnswer() {
	a.calls.mu.Lock()
	c, callback := a.calls.ringing, a.calls.callback
	a.calls.callback = nil
	a.calls.mu.Unlock()
	if c == nil && callback != nil {
		callback()
		return
	}
	if c == nil {
		return
	}
	if err := c.Answer(); err != nil {
		a.showError(fmt.Errorf("answer: %w", err))
		return
	}
	if a.opts.Settings.App.Card.OpenEntityOnAnswer && a.card.openURL != "" {
		a.openPage(a.card.openURL)
	}
	if a.opts.Settings.App.Card.HideOnAnswer {
		a.card.hide()
	}
}

func (a *App) onDecline() {
	a.calls.mu.Lock()
	c, callback := a.calls.ringing, a.calls.callback
	a.calls.callback = nil
	a.calls.mu.Unlock()
	if c == nil && callback != nil {
		a.card.hide()
		return
	}
	if c == nil {
		return
	}
	if err := c.Reject(603); err != nil {
		a.showError(fmt.Errorf("decline: %w", err))
	}
}

// onDial dials a number typed by the operator; a call in progress is put
// on hold first and stays listed as another line.
func (a *App) onDial(number string) {
	if a.opts.Phone == nil || strings.TrimSpace(number) == "" {
		return
	}
	a.opts.Logger.Info("dialling", "number", number)
	if c := a.activeCall(); c == nil || c.Info().State != sip.CallActive {
		if _, err := a.dialLinked(number, callLink{}); err != nil {
			a.showError(err)
		}
		return
	}
	a.goAsync(func(ctx context.Context) {
		_, err := a.holdActive(ctx)
		a.do(func() {
			if err != nil {
				a.showError(err)
				return
			}
			if _, err := a.dialLinked(number, callLink{}); err != nil {
				a.showError(err)
			}
		})
	})
}

// onCallState follows a call through ringing, answer, hold and its end.
func (a *App) onCallState(ev sip.CallEvent, c callHandle) {
	if c == nil {
		return
	}
	switch ev.State {
	case sip.CallActive, sip.CallHeld, sip.CallRinging, sip.CallDialing:
		a.stopRinging(c)
		a.calls.mu.Lock()
		answered := a.calls.ringing == c && ev.State == sip.CallActive
		if answered {
			a.calls.ringing = nil
		}
		a.calls.mu.Unlock()
		if answered {
			a.card.answered()
		}
		a.showCall(c)
	case sip.CallEnded:
		a.onEnded(ev, c)
	}
}

// showCall makes c the call on screen and keeps its talk time running.
func (a *App) showCall(c callHandle) {
	a.calls.mu.Lock()
	a.calls.active = c
	if a.calls.timer == nil {
		ctx, cancel := context.WithCancel(a.ctx)
		a.calls.timer = cancel
		a.goAsync(func(context.Context) { a.tick(ctx) })
	}
	a.calls.mu.Unlock()
	a.phone.inCall = true
	a.renderCall(c)
	a.loadColleagues()
}

func (a *App) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.do(func() {
				a.calls.mu.Lock()
				c := a.calls.active
				a.calls.mu.Unlock()
				if c != nil {
					a.renderCall(c)
				}
			})
		}
	}
}

func (a *App) renderCall(c callHandle) {
	info := c.Info()
	s := callShown{Peer: a.peerText(info), State: stateText(info.State), Muted: c.Muted(), Held: info.State == sip.CallHeld,
		Consulting: a.calls.consultFor(c) != nil, Others: a.linesShown()}
	if info.State == sip.CallActive || info.State == sip.CallHeld {
		s.Active, s.Encrypted = true, info.Encrypted
		s.Talk = time.Since(info.Answered)
	}
	a.call.show(s)
}

// onEnded records a finished call, hands it to the sync engine and clears
// the screen. It may run on any goroutine.
func (a *App) onEnded(ev sip.CallEvent, c callHandle) {
	info := c.Info()
	a.stopRinging(c)
	a.calls.mu.Lock()
	if a.calls.ringing == c {
		a.calls.ringing = nil
	}
	wasActive := a.calls.active == c
	link := a.calls.links[info.ID]
	delete(a.calls.links, info.ID)
	name := a.calls.names[info.ID]
	delete(a.calls.names, info.ID)
	a.calls.mu.Unlock()
	next := a.calls.dropLine(c)
	a.calls.mu.Lock()
	if wasActive && next == nil {
		a.calls.active = nil
		if a.calls.timer != nil {
			a.calls.timer()
			a.calls.timer = nil
		}
	}
	a.calls.mu.Unlock()
	if withAttrs, ok := c.(interface{ Attributes() map[string]string }); ok {
		link = calllog.WithAttributes(link, withAttrs.Attributes())
	}

	rec := callRecord(info, ev, a.opts.Account, link)
	elsewhere := calllog.AnsweredElsewhere(ev)
	entry := historyEntry{Record: rec, Name: name, State: "not sent", Elsewhere: elsewhere}
	switch {
	case elsewhere:
		entry.Reason = lang.L("the device that answered reports it")
	case a.opts.Sink == nil:
		entry.Reason = lang.L("no sync engine")
	}
	a.keepInHistory(entry)
	a.do(func() {
		switch active := a.activeCall(); {
		case wasActive && next != nil:
			a.showCall(next) // the other line, still on hold until Switch
		case wasActive:
			a.call.hide()
			a.phone.inCall = false
		case active != nil:
			a.renderCall(active)
		}
		a.card.hide()
		a.history.add(entry)
		if !elsewhere {
			a.noteMissed(rec)
		}
	})
	if a.opts.Sink != nil && !elsewhere {
		a.submit(rec.ID, rec)
	}
}

// submitTimeout bounds handing one record to the sync engine; it is a
// local write (or one request in team mode).
const submitTimeout = 15 * time.Second

// submit sends the record and follows its sync state until it is done or
// failed (SPEC §11: the same id again changes nothing, so a retry is safe).
func (a *App) submit(id string, rec any) {
	data, err := json.Marshal(rec)
	if err != nil {
		a.history.update(id, "not sent", err.Error(), nil)
		return
	}
	a.goAsync(func(ctx context.Context) {
		// Closing the app must not lose a call that just ended: the hand-over
		// outlives the app's context; Close waits for it.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), submitTimeout)
		st, _, err := a.opts.Sink.Submit(sctx, data)
		cancel()
		if err != nil {
			a.opts.Logger.Error("call not handed to the sync engine", "call", id, "err", err)
			a.do(func() { a.history.update(id, "not sent", err.Error(), nil) })
			return
		}
		a.follow(ctx, id, st)
	})
}

// follow shows a call's sync state in History and asks again while it is
// queued, less often as time goes by.
func (a *App) follow(ctx context.Context, id string, st crmsync.CallStatus) {
	// The log says what History shows: for support, and for the window test.
	a.opts.Logger.Info("call sync state", "call", id, "state", st.State, "reason", st.Reason)
	a.do(func() { a.history.update(id, st.State, st.Reason, st.Trace) })
	for wait := time.Second; st.State == "queued"; wait = min(2*wait, 30*time.Second) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		next, err := a.opts.Sink.Status(ctx, id)
		if err != nil || next == nil {
			continue
		}
		if next.State != st.State {
			a.opts.Logger.Info("call sync state", "call", id, "state", next.State, "reason", next.Reason)
		}
		st = *next
		a.do(func() { a.history.update(id, st.State, st.Reason, st.Trace) })
	}
}

func (a *App) activeCall() callHandle {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	return a.calls.active
}

func (a *App) onMute() {
	if c := a.activeCall(); c != nil {
		c.SetMuted(!c.Muted())
		a.renderCall(c)
	}
}

func (a *App) onHold() {
	c := a.activeCall()
	if c == nil {
		return
	}
	held := c.Info().State == sip.CallHeld
	a.goAsync(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var err error
		if held {
			err = c.Resume(ctx)
		} else {
			err = c.Hold(ctx)
		}
		if err != nil {
			a.do(func() { a.showError(fmt.Errorf("hold: %w", err)) })
		}
	})
}

func (a *App) onHangup() {
	if c := a.activeCall(); c != nil {
		if err := c.Hangup(); err != nil {
			a.showError(fmt.Errorf("hang up: %w", err))
		}
	}
}

func (a *App) onTransfer(target string) {
	c := a.activeCall()
	if c == nil || strings.TrimSpace(target) == "" {
		return
	}
	a.goAsync(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := c.Transfer(ctx, strings.TrimSpace(target)); err != nil {
			a.do(func() { a.showError(fmt.Errorf("transfer to %s: %w", target, err)) })
		}
	})
}

func (a *App) onDTMF(key string) {
	if c := a.activeCall(); c != nil {
		if err := c.SendDTMF(key); err != nil {
			a.showError(fmt.Errorf("send %s: %w", key, err))
		}
	}
}

// openPage opens a CRM page in the browser.
func (a *App) openPage(raw string) {
	open := a.opts.OpenURL
	if open == nil {
		open = func(s string) error {
			u, err := url.Parse(s)
			if err != nil {
				return err
			}
			return a.fyne.OpenURL(u)
		}
	}
	if err := open(raw); err != nil {
		a.opts.Logger.Error("cannot open the page", "url", raw, "err", err)
		dialog.ShowError(fmt.Errorf("%s: %w", lang.L("The page could not be opened"), err), a.win)
	}
}
