package app

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// callView is the call on screen: who, its state and talk time, and the
// controls — mute, hold, hang up, blind transfer and consult (attended)
// transfer to a number or a colleague picked from the portal's employees —
// above the other lines (held calls, a second call) with a button to switch
// to each. The keypad sends DTMF while it is shown.
type callView struct {
	peer      *widget.Label
	state     *widget.Label
	timer     *widget.Label
	mute      *widget.Button
	hold      *widget.Button
	sound     *widget.Button
	hangup    *widget.Button
	transfer  *keyEntry
	colleague *widget.Select
	xfer      *widget.Button
	consult   *widget.Button
	complete  *widget.Button
	others    *fyne.Container
	root      *widget.Card
	// colleagues are the picker's employees, by label.
	colleagues map[string]Employee
	switchTo   func(id string)
	// relayout: see cardView.relayout.
	relayout func()
}

type callActions struct {
	mute, hold, hangup, sound func()
	// transfer is a blind transfer, consult dials target for an attended
	// one and complete joins the held call with the consult call.
	transfer, consult func(target string)
	complete          func()
	switchTo          func(id string)
	// keys carries out the window's call keys (the transfer field passes
	// them on).
	keys func(fyne.Shortcut) bool
}

func newCallView(act callActions) *callView {
	v := &callView{}
	v.peer = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.peer.Wrapping = fyne.TextWrapWord
	v.state = widget.NewLabel("")
	v.timer = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
	v.mute = widget.NewButtonWithIcon(lang.L("Mute"), theme.VolumeMuteIcon(), act.mute)
	v.hold = widget.NewButtonWithIcon(lang.L("Hold"), theme.MediaPauseIcon(), act.hold)
	v.sound = widget.NewButtonWithIcon("", theme.VolumeUpIcon(), act.sound)
	v.hangup = widget.NewButtonWithIcon(lang.L("Hang up"), theme.CancelIcon(), act.hangup)
	v.hangup.Importance = widget.DangerImportance
	v.transfer = newKeyEntry(act.keys)
	v.transfer.SetPlaceHolder(lang.L("Extension or number"))
	v.colleague = widget.NewSelect(nil, func(label string) {
		if e, ok := v.colleagues[label]; ok {
			v.transfer.SetText(e.Extension)
		}
	})
	v.colleague.PlaceHolder = lang.L("Colleague…")
	v.xfer = widget.NewButtonWithIcon(lang.L("Transfer"), theme.MailForwardIcon(), func() { act.transfer(v.transfer.Text) })
	v.consult = widget.NewButtonWithIcon(lang.L("Consult first"), theme.MailReplyIcon(), func() { act.consult(v.transfer.Text) })
	v.complete = widget.NewButtonWithIcon(lang.L("Complete transfer"), theme.ConfirmIcon(), act.complete)
	v.complete.Importance = widget.HighImportance
	v.complete.Hide()
	v.others = container.NewVBox()
	v.switchTo = act.switchTo
	// Two controls a row and the hang-up button alone: the phone's window
	// is narrow and the Russian labels are long.
	v.root = widget.NewCard("", "", container.NewVBox(
		container.NewBorder(nil, nil, nil, v.timer, v.peer),
		v.state,
		container.NewBorder(nil, nil, nil, v.sound, container.NewGridWithColumns(2, v.mute, v.hold)),
		v.hangup,
		v.complete,
		container.NewBorder(nil, nil, nil, v.colleague, v.transfer),
		container.NewGridWithColumns(2, v.xfer, v.consult),
		v.others,
	))
	v.root.Hide()
	return v
}

// setColleagues fills the transfer picker with the employees that have an
// extension.
func (v *callView) setColleagues(list []Employee) {
	v.colleagues = make(map[string]Employee, len(list))
	labels := make([]string, 0, len(list))
	for _, e := range list {
		if e.Extension == "" {
			continue
		}
		v.colleagues[e.label()] = e
		labels = append(labels, e.label())
	}
	v.colleague.SetOptions(labels)
}

// lineShown is another call of the operator, shown under the current one.
type lineShown struct {
	ID, Peer, State string
}

// callShown is what the call view shows.
type callShown struct {
	Peer   string
	State  string
	Talk   time.Duration
	Muted  bool
	Held   bool
	Active bool // answered: talk time, hold and transfer make sense
	// Encrypted: the answered call's audio is SRTP (the account's policy
	// or WebRTC), said next to its state.
	Encrypted bool
	// Consulting is set on a consult call while the call it is for waits
	// on hold: "Complete transfer" joins the two.
	Consulting bool
	Others     []lineShown
}

func (v *callView) show(s callShown) {
	v.peer.SetText(s.Peer)
	state := s.State
	if s.Active && s.Encrypted {
		state += " · " + lang.L("audio encrypted")
	}
	v.state.SetText(state)
	if s.Active {
		v.timer.SetText(clock(s.Talk))
		v.hold.Enable()
		v.xfer.Enable()
		v.consult.Enable()
	} else {
		v.timer.SetText("")
		v.hold.Disable()
		v.xfer.Disable()
		v.consult.Disable()
	}
	relayout := false
	if s.Consulting && s.Active && !v.complete.Visible() {
		v.complete.Show()
		relayout = true
	} else if (!s.Consulting || !s.Active) && v.complete.Visible() {
		v.complete.Hide()
		relayout = true
	}
	if v.showOthers(s.Others) {
		relayout = true
	}
	if s.Muted {
		v.mute.SetText(lang.L("Unmute"))
		v.mute.Importance = widget.WarningImportance
	} else {
		v.mute.SetText(lang.L("Mute"))
		v.mute.Importance = widget.MediumImportance
	}
	v.mute.Refresh()
	if s.Held {
		v.hold.SetText(lang.L("Resume"))
		v.hold.SetIcon(theme.MediaPlayIcon())
	} else {
		v.hold.SetText(lang.L("Hold"))
		v.hold.SetIcon(theme.MediaPauseIcon())
	}
	if !v.root.Visible() {
		v.root.Show()
		relayout = true
	}
	if relayout {
		v.layout()
	}
}

// showOthers lists the other lines; it reports whether the list changed size.
func (v *callView) showOthers(lines []lineShown) bool {
	changed := len(v.others.Objects) != len(lines)
	if changed {
		v.others.RemoveAll()
		for range lines {
			label := widget.NewLabel("")
			label.Truncation = fyne.TextTruncateEllipsis
			b := widget.NewButtonWithIcon(lang.L("Switch"), theme.MediaPlayIcon(), nil)
			v.others.Add(container.NewBorder(nil, nil, nil, b, label))
		}
	}
	for i, l := range lines {
		row := v.others.Objects[i].(*fyne.Container)
		label, b := row.Objects[0].(*widget.Label), row.Objects[1].(*widget.Button)
		label.SetText(l.State + ": " + l.Peer)
		id := l.ID
		b.OnTapped = func() { v.switchTo(id) }
	}
	return changed
}

func (v *callView) hide() {
	v.root.Hide()
	v.layout()
}

func (v *callView) layout() {
	if v.relayout != nil {
		v.relayout()
	}
}

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
