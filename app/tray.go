package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/lookup"
	"github.com/omniphone/omniphone/settings"
)

// tray is the system tray icon's menu: show the window, the missed calls
// since the operator last looked, quit. Where the desktop has no tray the
// menu is simply not shown; closing the window still quits.
type tray struct {
	desk   desktop.App
	menu   *fyne.Menu
	missed *fyne.MenuItem
	count  int
}

func (a *App) setupTray() {
	desk, ok := a.fyne.(desktop.App)
	if !ok {
		return
	}
	t := &tray{desk: desk}
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
	t.menu = fyne.NewMenu(Title, show, t.missed)
	desk.SetSystemTrayMenu(t.menu)
	desk.SetSystemTrayIcon(a.fyne.Icon())
	a.tray = t
	t.update()
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
