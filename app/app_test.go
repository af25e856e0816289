package app

import (
	"errors"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/app/apptest"
	"github.com/omniphone/omniphone/settings"
)

func newTestApp(t *testing.T, opts Options) *App {
	t.Helper()
	if opts.Dir.Path == "" {
		opts.Dir = settings.Dir{Path: t.TempDir()}
	}
	if opts.Settings.Version == 0 {
		opts.Settings = settings.Default()
	}
	a := New(test.NewTempApp(t), opts)
	a.win.Resize(fyne.NewSize(420, 600))
	return a
}

func withAccount() settings.Settings {
	s := settings.Default()
	acc := settings.NewSIPAccount("office")
	acc.User, acc.Domain, acc.Default, acc.DisplayName = "101", "pbx.example.com", true, "Irina"
	s.SIP.Accounts = []settings.SIPAccount{acc}
	return s
}

func TestMainWindow_TabsAndStatus(t *testing.T) {
	a := newTestApp(t, Options{})
	require.Equal(t, Title, a.win.Title())
	var names []string
	for _, item := range a.tabs.Items {
		names = append(names, item.Text)
	}
	require.Equal(t, []string{"Phone", "History", "Settings"}, names)
	require.Equal(t, "SIP: no account · CRM: not connected · Sync: embedded", a.status.Text)
}

func TestPhone_KeypadTypesAndErases(t *testing.T) {
	a := newTestApp(t, Options{})
	for _, k := range []string{"8", "4", "9", "5", "*", "#"} {
		test.Tap(a.phone.keys[k])
	}
	require.Equal(t, "8495*#", a.phone.number.Text)
	test.Tap(a.phone.erase)
	test.Tap(a.phone.erase)
	require.Equal(t, "8495", a.phone.number.Text)
	test.Type(a.phone.number, "1234")
	require.Equal(t, "84951234", a.phone.number.Text)
}

func TestPhone_CallNeedsARegisteredAccount(t *testing.T) {
	a := newTestApp(t, Options{})
	require.True(t, a.phone.call.Disabled())
	require.Equal(t, "Add a SIP account in Settings to make calls.", a.phone.hint.Text)

	a = newTestApp(t, Options{Settings: withAccount()})
	require.True(t, a.phone.call.Disabled())
	require.Equal(t, "The phone is not running: check the account's password in Settings.", a.phone.hint.Text)
	require.Equal(t, "Irina <101@pbx.example.com> (default)", a.settings.accounts.Text)
}

func TestSettingsView_ShowsProblemsAndWarnings(t *testing.T) {
	s := withAccount()
	s.ClickToCall.Enabled = true
	s.CallProcessing.CreateForIncoming = true
	a := newTestApp(t, Options{Settings: s})
	require.Contains(t, a.settings.problems.Text, "click_to_call.number: is required when click-to-call is on (C2)")
	require.True(t, a.settings.warnings.Visible())
	require.Contains(t, a.settings.warnings.Text, "(D2)")
	require.Contains(t, a.status.Text, "Settings: 1 problems")
	require.False(t, a.settings.loadErr.Visible())
	require.False(t, a.settings.restore.Visible())
}

func TestSettingsView_BrokenFileOffersBackup(t *testing.T) {
	dir := settings.Dir{Path: t.TempDir()}
	good := withAccount()
	require.NoError(t, dir.Save(settings.Default()))
	require.NoError(t, dir.Save(good)) // backup: defaults
	require.NoError(t, os.WriteFile(dir.File(), []byte("{\n  \"version\": 1,\n  oops\n}"), 0o600))
	s, err := dir.Load()
	require.Error(t, err)

	a := newTestApp(t, Options{Dir: dir, Settings: settings.Default(), LoadErr: err})
	require.True(t, a.settings.loadErr.Visible())
	require.Contains(t, a.settings.loadErr.Text, dir.File()+":3:")
	require.Contains(t, a.status.Text, "Settings: broken file")
	require.True(t, a.settings.restore.Visible())
	_ = s

	test.Tap(a.settings.restore)
	require.False(t, a.settings.loadErr.Visible())
	require.False(t, a.settings.restore.Visible())
	require.NotContains(t, a.status.Text, "broken")
	loaded, err := dir.Load()
	require.NoError(t, err)
	require.Equal(t, settings.Default(), loaded)
}

func TestImportSettings_AllOrNothing(t *testing.T) {
	dir := settings.Dir{Path: t.TempDir()}
	data, err := settings.Marshal(withAccount())
	require.NoError(t, err)
	s, err := importSettings(dir, strings.NewReader(string(data)), "good.json")
	require.NoError(t, err)
	require.Equal(t, withAccount(), s)

	_, err = importSettings(dir, strings.NewReader(`{"version": 1, "click_to_call": {"enabled": true}}`), "bad.json")
	var ps settings.Problems
	require.True(t, errors.As(err, &ps))
	require.Contains(t, err.Error(), "import bad.json")
	loaded, err := dir.Load()
	require.NoError(t, err)
	require.Equal(t, withAccount(), loaded, "a bad import leaves the saved settings as they were")
}

func TestMainWindow_Renders(t *testing.T) {
	a := newTestApp(t, Options{Settings: withAccount()})
	a.win.Show()
	colours, spread := apptest.ImageStats(a.win.Canvas().Capture())
	require.Greater(t, colours, 10, "the window draws more than a blank background")
	require.Greater(t, spread, 0.02)
}
