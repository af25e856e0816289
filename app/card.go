package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// cardView is the incoming-call card: who is calling and what the CRM
// knows, with Answer, Decline and Open in Bitrix24. It is shown inside the
// main window without taking the keyboard focus.
type cardView struct {
	title   *widget.Label
	number  *widget.Label
	status  *widget.Label
	lines   *fyne.Container
	answer  *widget.Button
	decline *widget.Button
	open    *widget.Button
	openURL string
	openFn  func(rawURL string)
	root    *widget.Card
	// relayout re-lays the phone tab out when the card appears or goes:
	// a container does not resize for a child's Show/Hide by itself, so
	// without it a card shown with no user input would stay zero-sized.
	relayout func()
}

// newCardView builds the card; onOpen opens an entity's page (the app logs
// and shows a failure).
func newCardView(onAnswer, onDecline func(), onOpen func(rawURL string)) *cardView {
	v := &cardView{openFn: onOpen}
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.Wrapping = fyne.TextWrapWord
	v.number = widget.NewLabel("")
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.lines = container.NewVBox()
	v.answer = widget.NewButtonWithIcon(lang.L("Answer"), phoneIcon, onAnswer)
	v.answer.Importance = widget.SuccessImportance
	v.decline = widget.NewButtonWithIcon(lang.L("Decline"), theme.CancelIcon(), onDecline)
	v.decline.Importance = widget.DangerImportance
	v.open = widget.NewButtonWithIcon(lang.L("Open in Bitrix24"), theme.ComputerIcon(), v.onOpen)
	v.root = widget.NewCard("", "", container.NewVBox(
		v.title, v.number, v.status, v.lines,
		container.NewGridWithColumns(2, v.answer, v.decline), v.open,
	))
	v.root.Hide()
	return v
}

// show fills the card from st; it is called again as CRM data arrives.
func (v *cardView) show(st cardState) {
	v.title.SetText(st.Title)
	if st.Outgoing || st.Answered {
		v.number.SetText(st.Number)
	} else {
		v.number.SetText(lang.L("Incoming call") + " · " + st.Number)
	}
	v.status.SetText(st.Status)
	v.status.Hidden = st.Status == ""
	if st.Warning {
		v.status.Importance = widget.WarningImportance
	} else {
		v.status.Importance = widget.MediumImportance
	}
	v.status.Refresh()
	v.lines.RemoveAll()
	for _, l := range st.Lines {
		h := widget.NewLabelWithStyle(l.Heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		h.Wrapping = fyne.TextWrapWord
		v.lines.Add(h)
		if l.Detail != "" {
			d := widget.NewLabel(l.Detail)
			d.Wrapping = fyne.TextWrapWord
			v.lines.Add(d)
		}
	}
	v.answer.Hidden = st.Outgoing || st.Answered
	v.decline.Hidden = v.answer.Hidden
	v.answer.Refresh()
	v.decline.Refresh()
	v.openURL = st.OpenURL
	if st.OpenURL == "" {
		v.open.Disable()
	} else {
		v.open.Enable()
	}
	v.root.Show()
	v.layout()
}

// answered takes Answer and Decline away once the call was taken.
func (v *cardView) answered() {
	if v.answer.Visible() {
		v.number.SetText(strings.TrimPrefix(v.number.Text, lang.L("Incoming call")+" · "))
		v.answer.Hide()
		v.decline.Hide()
		v.layout()
	}
}

func (v *cardView) hide() {
	v.root.Hide()
	v.layout()
}

func (v *cardView) layout() {
	if v.relayout != nil {
		v.relayout()
	}
}

func (v *cardView) onOpen() {
	if v.openURL != "" && v.openFn != nil {
		v.openFn(v.openURL)
	}
}
