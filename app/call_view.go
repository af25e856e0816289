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

// callView is the active call: who, its state and talk time, and the
// controls — mute, hold, transfer, hang up. The keypad sends DTMF while it
// is shown.
type callView struct {
	peer     *widget.Label
	state    *widget.Label
	timer    *widget.Label
	mute     *widget.Button
	hold     *widget.Button
	hangup   *widget.Button
	transfer *widget.Entry
	xfer     *widget.Button
	root     *widget.Card
	// relayout: see cardView.relayout.
	relayout func()
}

type callActions struct {
	mute, hold, hangup func()
	transfer           func(target string)
}

func newCallView(act callActions) *callView {
	v := &callView{}
	v.peer = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.peer.Wrapping = fyne.TextWrapWord
	v.state = widget.NewLabel("")
	v.timer = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
	v.mute = widget.NewButtonWithIcon(lang.L("Mute"), theme.VolumeMuteIcon(), act.mute)
	v.hold = widget.NewButtonWithIcon(lang.L("Hold"), theme.MediaPauseIcon(), act.hold)
	v.hangup = widget.NewButtonWithIcon(lang.L("Hang up"), theme.CancelIcon(), act.hangup)
	v.hangup.Importance = widget.DangerImportance
	v.transfer = widget.NewEntry()
	v.transfer.SetPlaceHolder(lang.L("Transfer to (extension or number)"))
	v.xfer = widget.NewButtonWithIcon("", theme.MailForwardIcon(), func() { act.transfer(v.transfer.Text) })
	// Two controls a row and the hang-up button alone: the phone's window
	// is narrow and the Russian labels are long.
	v.root = widget.NewCard("", "", container.NewVBox(
		container.NewBorder(nil, nil, nil, v.timer, v.peer),
		v.state,
		container.NewGridWithColumns(2, v.mute, v.hold),
		v.hangup,
		container.NewBorder(nil, nil, nil, v.xfer, v.transfer),
	))
	v.root.Hide()
	return v
}

// callShown is what the call view shows.
type callShown struct {
	Peer   string
	State  string
	Talk   time.Duration
	Muted  bool
	Held   bool
	Active bool // answered: talk time, hold and transfer make sense
}

func (v *callView) show(s callShown) {
	v.peer.SetText(s.Peer)
	v.state.SetText(s.State)
	if s.Active {
		v.timer.SetText(clock(s.Talk))
		v.hold.Enable()
		v.xfer.Enable()
	} else {
		v.timer.SetText("")
		v.hold.Disable()
		v.xfer.Disable()
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
		v.layout()
	}
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
