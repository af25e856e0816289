package app

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/assets"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// trayApp is the test app with a system tray, as the desktop drivers have.
type trayApp struct {
	fyne.App
	appIcon fyne.Resource // the test app keeps none
	mu      sync.Mutex
	menu    *fyne.Menu
	icon    fyne.Resource
	window  fyne.Window
}

func (t *trayApp) Icon() fyne.Resource            { return t.appIcon }
func (t *trayApp) SetSystemTrayMenu(m *fyne.Menu) { t.mu.Lock(); t.menu = m; t.mu.Unlock() }
func (t *trayApp) SetSystemTrayIcon(r fyne.Resource) {
	t.mu.Lock()
	t.icon = r
	t.mu.Unlock()
}
func (t *trayApp) SetSystemTrayWindow(w fyne.Window) { t.mu.Lock(); t.window = w; t.mu.Unlock() }

func newTrayApp(t *testing.T) *trayApp {
	return &trayApp{App: test.NewTempApp(t), appIcon: fyne.NewStaticResource("icon.png", assets.Icon)}
}

func TestTray_ShowsTheRegistrationAndDimsTheIconUntilRegistered(t *testing.T) {
	fa := newTrayApp(t)
	p := &fakePhone{}
	s := withAccount()
	a := New(fa, Options{Dir: settings.Dir{Path: t.TempDir()}, Settings: s})
	a.Attach(Services{Account: s.SIP.Accounts[0], Phone: p})
	t.Cleanup(a.Close)

	require.Equal(t, a.win, fa.window, "a click on the icon shows the window")
	require.True(t, strings.HasPrefix(fa.icon.Name(), "dimmed-"), "not registered: dimmed icon")
	require.NotEqual(t, fa.appIcon.Content(), fa.icon.Content())
	require.Equal(t, "SIP: not registered", fa.menu.Items[0].Label)
	require.True(t, fa.menu.Items[0].Disabled, "the state is a label, not an action")

	p.reg(sip.RegEvent{State: sip.RegRegistered})
	require.Equal(t, fa.appIcon, fa.icon, "registered: the normal icon")
	require.Equal(t, "SIP: registered (101@pbx.example.com)", fa.menu.Items[0].Label)

	p.reg(sip.RegEvent{State: sip.RegFailed, Err: errors.New("timeout")})
	require.True(t, strings.HasPrefix(fa.icon.Name(), "dimmed-"))
}

func TestStartMinimised_OnlyWhereATrayIconIsSeen(t *testing.T) {
	yes := func() (bool, error) { return true, nil }
	no := func() (bool, error) { return false, errors.New("no StatusNotifierWatcher") }
	for _, tc := range []struct {
		name     string
		pref     bool
		tray     bool // the Fyne app has a system tray
		host     func() (bool, error)
		wantHide bool
	}{
		{"preference off", false, true, yes, false},
		{"tray shown", true, true, yes, true},
		{"no tray host", true, true, no, false},
		{"host unknown", true, true, nil, false},
		{"driver without tray", true, false, yes, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := test.NewTempApp(t)
			if tc.tray {
				fa = newTrayApp(t)
			}
			s := withAccount()
			s.App.StartMinimised = tc.pref
			a := New(fa, Options{Dir: settings.Dir{Path: t.TempDir()}, Settings: s, TrayHost: tc.host})
			t.Cleanup(a.Close)
			require.Equal(t, tc.wantHide, a.startHidden())
		})
	}
}

func BenchmarkDimIcon(b *testing.B) {
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	for b.Loop() {
		if dimIcon(icon) == icon {
			b.Fatal("not dimmed")
		}
	}
}
