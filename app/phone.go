package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

// keypadKeys are the dial pad's keys, row by row.
var keypadKeys = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"}

// phoneView is the dialer: a number entry, a keypad and the call button,
// under the incoming-call card and the active call when there are any.
type phoneView struct {
	number *keyEntry
	keys   map[string]*widget.Button
	erase  *widget.Button
	call   *widget.Button
	hint   *widget.Label
	root   fyne.CanvasObject
	// inCall makes the keypad send DTMF instead of typing.
	inCall bool
	dtmf   func(key string)
}

func newPhoneView(card, active fyne.CanvasObject, dial func(number string), dtmf func(key string), callKeys func(fyne.Shortcut) bool) *phoneView {
	v := &phoneView{keys: map[string]*widget.Button{}, dtmf: dtmf}
	v.number = newKeyEntry(callKeys)
	v.number.SetPlaceHolder(lang.L("Number or SIP address"))
	v.erase = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), v.onErase)
	v.erase.Importance = widget.LowImportance

	pad := container.NewGridWithColumns(3)
	for _, k := range keypadKeys {
		b := widget.NewButton(k, func() { v.onKey(k) })
		v.keys[k] = b
		pad.Add(b)
	}
	v.call = widget.NewButtonWithIcon(lang.L("Call"), phoneIcon, func() { dial(v.number.Text) })
	v.call.Importance = widget.SuccessImportance
	v.hint = widget.NewLabel("")
	v.hint.Wrapping = fyne.TextWrapWord
	v.hint.Alignment = fyne.TextAlignCenter

	v.number.OnSubmitted = func(string) {
		if !v.call.Disabled() {
			dial(v.number.Text)
		}
	}
	v.root = container.NewVBox(
		card, active,
		container.NewBorder(nil, nil, nil, v.erase, v.number),
		pad,
		v.call,
		v.hint,
	)
	return v
}

func (v *phoneView) onKey(k string) {
	if v.inCall && v.dtmf != nil {
		v.dtmf(k)
		return
	}
	v.setNumber(v.number.Text + k)
}

func (v *phoneView) onErase() {
	if t := []rune(v.number.Text); len(t) > 0 {
		v.setNumber(string(t[:len(t)-1]))
	}
}

// setNumber replaces the number and keeps the cursor at its end, so typing
// after using the keypad continues the number instead of prefixing it.
func (v *phoneView) setNumber(text string) {
	v.number.SetText(text)
	v.number.CursorRow, v.number.CursorColumn = 0, len([]rune(text))
	v.number.Refresh()
}

// update shows whether calls can be made: until the phone is registered the
// call button stays off and the hint says why.
func (v *phoneView) update(s settings.Settings, hasPhone, registered bool) {
	switch _, ok := s.DefaultSIPAccount(); {
	case !ok:
		v.call.Disable()
		v.hint.SetText(lang.L("Add a SIP account in Settings to make calls."))
	case !hasPhone:
		v.call.Disable()
		v.hint.SetText(lang.L("The phone is not running: check the account's password in Settings."))
	case !registered:
		v.call.Disable()
		v.hint.SetText(lang.L("Not registered: the phone is not connected to the PBX."))
	default:
		v.call.Enable()
		v.hint.SetText("")
	}
}
