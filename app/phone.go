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

// phoneView is the dialer: a number entry, a keypad and the call button.
type phoneView struct {
	number *widget.Entry
	keys   map[string]*widget.Button
	erase  *widget.Button
	call   *widget.Button
	hint   *widget.Label
	root   fyne.CanvasObject
}

func newPhoneView() *phoneView {
	v := &phoneView{keys: map[string]*widget.Button{}}
	v.number = widget.NewEntry()
	v.number.SetPlaceHolder(lang.L("Number or SIP address"))
	v.erase = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), v.onErase)
	v.erase.Importance = widget.LowImportance

	pad := container.NewGridWithColumns(3)
	for _, k := range keypadKeys {
		b := widget.NewButton(k, func() { v.onKey(k) })
		v.keys[k] = b
		pad.Add(b)
	}
	v.call = widget.NewButtonWithIcon(lang.L("Call"), phoneIcon, nil)
	v.call.Importance = widget.SuccessImportance
	v.hint = widget.NewLabel("")
	v.hint.Wrapping = fyne.TextWrapWord
	v.hint.Alignment = fyne.TextAlignCenter

	v.root = container.NewVBox(
		container.NewBorder(nil, nil, nil, v.erase, v.number),
		pad,
		v.call,
		v.hint,
	)
	return v
}

func (v *phoneView) onKey(k string) {
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

// update shows whether calls can be made with these settings. Until the
// phone is registered the call button stays off and the hint says why.
func (v *phoneView) update(s settings.Settings) {
	v.call.Disable()
	if _, ok := s.DefaultSIPAccount(); !ok {
		v.hint.SetText(lang.L("Add a SIP account in Settings to make calls."))
		return
	}
	v.hint.SetText(lang.L("Not registered: the phone is not connected to the PBX."))
}
