package app

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// systemDefault labels the system's default device in the pickers.
func systemDefault() string { return lang.L("System default") }

// onSound lets the operator move the call to another microphone or speaker
// (a headset plugged in mid-call). The choice lasts until the app restarts;
// the preferences keep the devices calls start with.
func (a *App) onSound() {
	snd := a.opts.Sound
	if snd == nil {
		a.showError(fmt.Errorf("%s", lang.L("no sound card is open")))
		return
	}
	ins, outs, err := snd.Devices()
	if err != nil {
		a.showError(fmt.Errorf("%s: %w", lang.L("sound devices"), err))
		return
	}
	curIn, curOut := snd.Current()
	mic := deviceSelect(ins, curIn)
	speaker := deviceSelect(outs, curOut)
	form := widget.NewForm(widget.NewFormItem(lang.L("Microphone"), mic), widget.NewFormItem(lang.L("Speaker"), speaker))
	a.soundPick = soundPick{mic: mic, speaker: speaker}
	a.soundPick.dlg = dialog.NewCustomConfirm(lang.L("Sound devices"), lang.L("Use"), lang.L("Cancel"), form, func(ok bool) {
		if !ok {
			return
		}
		in, out := deviceName(mic.Selected), deviceName(speaker.Selected)
		a.goAsync(func(context.Context) {
			if err := snd.Use(in, out); err != nil {
				a.do(func() { a.showError(err) })
			}
		})
	}, a.win)
	a.soundPick.dlg.Show()
}

// soundPick is the open device picker (tests choose and confirm in it).
type soundPick struct {
	dlg          *dialog.ConfirmDialog
	mic, speaker *widget.Select
}

// deviceSelect picks among names, with the system default first.
func deviceSelect(names []string, current string) *widget.Select {
	s := widget.NewSelect(append([]string{systemDefault()}, names...), nil)
	if current == "" {
		current = systemDefault()
	}
	s.SetSelected(current)
	return s
}

func deviceName(label string) string {
	if label == systemDefault() {
		return ""
	}
	return label
}
