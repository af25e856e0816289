package app

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/lookup"
	"github.com/omniphone/omniphone/settings"
)

// tray is the system tray icon and its menu: the registration state (the
// icon is dimmed while the phone is not registered), show the window, the
// missed calls since the operator last looked, quit. Where the desktop has
// no tray the menu is simply not shown; closing the window still quits.
type tray struct {
	desk   desktop.App
	menu   *fyne.Menu
	state  *fyne.MenuItem
	missed *fyne.MenuItem
	count  int
	// icon and dimmed are the tray icons for registered and not.
	icon, dimmed fyne.Resource
	registered   bool
}

func (a *App) setupTray() {
	desk, ok := a.fyne.(desktop.App)
	if !ok {
		return
	}
	t := &tray{desk: desk, icon: a.fyne.Icon()}
	t.dimmed = dimIcon(t.icon)
	t.state = fyne.NewMenuItem("", nil)
	t.state.Disabled = true
	show := fyne.NewMenuItem(lang.L("Show Omniphone"), func() {
		a.win.Show()
		a.win.RequestFocus()
		t.count = 0
		t.update()
	})
	t.missed = fyne.NewMenuItem("", func() {
		show.Action()
		a.tabs.SelectIndex(1)
	})
	t.menu = fyne.NewMenu(Title, t.state, fyne.NewMenuItemSeparator(), show, t.missed)
	desk.SetSystemTrayMenu(t.menu)
	desk.SetSystemTrayIcon(t.dimmed)
	desk.SetSystemTrayWindow(a.win) // a left click shows the window
	a.tray = t
	t.update()
}

// setRegistration shows the phone's state in the menu and the icon.
func (t *tray) setRegistration(text string, registered bool) {
	t.state.Label = text
	if registered != t.registered {
		t.registered = registered
		if registered {
			t.desk.SetSystemTrayIcon(t.icon)
		} else {
			t.desk.SetSystemTrayIcon(t.dimmed)
		}
	}
	t.menu.Refresh()
}

// trayIconSize is the edge of the dimmed tray icon: panels draw 16–32 px.
const trayIconSize = 64

// dimIcon is icon in grey at half opacity, at tray size: the tray's "not
// registered". It samples the picture rather than filtering it — at 64 px
// the difference does not show, and it keeps start-up fast (the full
// 512 px icon took ~150 ms here). An icon that is not a PNG is returned as
// it is.
func dimIcon(icon fyne.Resource) fyne.Resource {
	if icon == nil {
		return nil
	}
	img, err := png.Decode(bytes.NewReader(icon.Content()))
	if err != nil {
		return icon
	}
	b := img.Bounds()
	size := min(trayIconSize, b.Dx(), b.Dy())
	out := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x*b.Dx()/size, b.Min.Y+y*b.Dy()/size)).(color.NRGBA)
			grey := uint8((299*uint32(c.R) + 587*uint32(c.G) + 114*uint32(c.B)) / 1000)
			out.SetNRGBA(x, y, color.NRGBA{R: grey, G: grey, B: grey, A: c.A / 2})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return icon
	}
	return fyne.NewStaticResource("dimmed-"+icon.Name(), buf.Bytes())
}

func (t *tray) update() {
	t.missed.Label = fmt.Sprintf(lang.L("Missed calls: %d"), t.count)
	t.missed.Disabled = t.count == 0
	t.menu.Refresh()
}

// noteMissed counts a missed incoming call in the tray and tells the
// operator with an OS notification.
func (a *App) noteMissed(rec crm.Call) {
	if rec.Direction != settings.DirectionIn || rec.Answered() {
		return
	}
	if a.tray != nil {
		a.tray.count++
		a.tray.update()
	}
	a.fyne.SendNotification(fyne.NewNotification(lang.L("Missed call"),
		lookup.Format(lookup.Normalize(rec.ContactNumber))))
}
