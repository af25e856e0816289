package main

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// trayHost reports whether the desktop shows tray icons. On Linux Fyne's
// tray is a StatusNotifierItem (fyne.io/systray registers it with
// org.kde.StatusNotifierWatcher); with no watcher, or a watcher with no
// host (a panel that draws the icons), the icon is never seen, and a window
// started hidden could not be reached.
func trayHost() (bool, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false, fmt.Errorf("session bus: %w", err)
	}
	defer func() { _ = conn.Close() }()
	v, err := conn.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
		GetProperty("org.kde.StatusNotifierWatcher.IsStatusNotifierHostRegistered")
	if err != nil {
		return false, fmt.Errorf("no StatusNotifierWatcher on the session bus: %w", err)
	}
	ok, _ := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the StatusNotifierWatcher has no host registered")
	}
	return true, nil
}
