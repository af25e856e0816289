package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// historyView lists finished calls with their CRM sync state. Calls reach
// it from the phone and the sync engine; until the first one it explains
// what will appear.
type historyView struct {
	empty *widget.Label
	root  fyne.CanvasObject
}

func newHistoryView() *historyView {
	v := &historyView{}
	v.empty = widget.NewLabel(lang.L("No calls yet. Every finished call appears here with its CRM sync state."))
	v.empty.Wrapping = fyne.TextWrapWord
	v.empty.Alignment = fyne.TextAlignCenter
	v.root = container.NewVBox(v.empty)
	return v
}
