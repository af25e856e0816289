package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
)

// snWatcher is a StatusNotifierWatcher with one host, as a desktop panel
// provides it on the session bus: it records the tray items that register.
type snWatcher struct{ items chan string }

// RegisterStatusNotifierItem is the watcher's D-Bus method: an item at
// path (fyne.io/systray: /StatusNotifierItem) of the sender appeared.
func (w *snWatcher) RegisterStatusNotifierItem(path string, sender dbus.Sender) *dbus.Error {
	w.items <- string(sender)
	return nil
}

// startTrayHost makes the session bus look like a desktop with a tray.
func startTrayHost(t *testing.T) (*dbus.Conn, *snWatcher) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
			t.Fatalf("no session bus (make test runs the tests under dbus-run-session): %v", err)
		}
		t.Skip("no session bus; `make test` provides one")
	}
	t.Cleanup(func() { _ = conn.Close() })
	const name, path, iface = "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"
	w := &snWatcher{items: make(chan string, 4)}
	require.NoError(t, conn.Export(w, path, iface))
	_, err = prop.Export(conn, path, prop.Map{iface: {
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitFalse},
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitFalse},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitFalse},
	}})
	require.NoError(t, err)
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	require.NoError(t, err)
	require.Equal(t, dbus.RequestNameReplyPrimaryOwner, reply, "another watcher owns %s on this bus", name)
	return conn, w
}

// TestIntegration_StartMinimisedToTheTray: with "start minimised" and a
// desktop that shows tray icons, the real app starts with its tray icon and
// no window; activating the icon (a click in the panel) brings the window.
func TestIntegration_StartMinimisedToTheTray(t *testing.T) {
	requireX(t)
	conn, watcher := startTrayHost(t)
	profile := filepath.Join(t.TempDir(), "profile")
	s := settings.Default()
	s.App.StartMinimised = true
	require.NoError(t, settings.Dir{Path: profile}.Save(s))

	app := startApp(t, profile)
	var item string
	select {
	case item = <-watcher.items:
	case err := <-app.exited:
		t.Fatalf("the app exited (%v):\n%s", err, app.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no tray icon registered within 30 s:\n%s", app.out.String())
	}
	// The icon is up; the window must stay unmapped.
	time.Sleep(time.Second)
	_, shown := windowGeometry(app.cmd.Process.Pid, "Omniphone")
	require.False(t, shown, "started minimised, the window must not show")

	call := conn.Object(item, "/StatusNotifierItem").Call("org.kde.StatusNotifierItem.Activate", 0, int32(10), int32(10))
	require.NoError(t, call.Err)
	waitForWindow(t, app.cmd.Process.Pid, "Omniphone", app.exited, app.out)
	require.NotContains(t, app.stop(t), "start minimised needs a tray")
}
