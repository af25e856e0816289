package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func writeJSON(t *testing.T, s settings.Settings) string {
	t.Helper()
	data, err := settings.Marshal(s)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func TestSettingsCLI_Path(t *testing.T) {
	dir := t.TempDir()
	out, _, code := runCLI(t, "--config-dir", dir, "settings", "path")
	require.Zero(t, code)
	require.Equal(t, filepath.Join(dir, "settings.json")+"\n", out)

	t.Setenv("OMNIPHONE_CONFIG_DIR", dir)
	out, _, _ = runCLI(t, "settings", "path")
	require.Equal(t, filepath.Join(dir, "settings.json")+"\n", out, "OMNIPHONE_CONFIG_DIR is honoured")
	other := t.TempDir()
	out, _, _ = runCLI(t, "settings", "path", "--config-dir", other)
	require.Equal(t, filepath.Join(other, "settings.json")+"\n", out, "the flag beats the environment")
}

func TestSettingsCLI_ValidatePrintsEveryProblem(t *testing.T) {
	s := settings.Default()
	s.ClickToCall.Enabled = true
	s.Callback.Enabled = true
	s.Portals = []settings.Portal{{ID: "p", Name: "P", Domain: "http://crm.example.com", Main: true,
		Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}}
	path := writeJSON(t, s)
	_, errOut, code := runCLI(t, "settings", "validate", path)
	require.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Equal(t, []string{
		path + ": portals[0].domain: must start with https:// — plain http is allowed only on this computer (127.0.0.1)",
		path + ": click_to_call.number: is required when click-to-call is on (C2)",
		path + ": callback.number: is required when callback is on (CB1)",
		path + ": responsibles.default_incoming: is required (RS1): pick an employee, or press \"Sync employees\" if the list is empty",
		path + ": responsibles.default_outgoing: is required (RS1): pick an employee, or press \"Sync employees\" if the list is empty",
	}, lines)

	good := writeJSON(t, settings.Default())
	out, _, code := runCLI(t, "settings", "validate", good)
	require.Zero(t, code)
	require.Equal(t, good+": valid\n", out)

	broken := filepath.Join(t.TempDir(), "broken.json")
	require.NoError(t, os.WriteFile(broken, []byte("{\n\"version\": 1,,\n}"), 0o600))
	_, errOut, code = runCLI(t, "settings", "validate", broken)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, broken+":2:")
}

func TestSettingsCLI_ImportExport(t *testing.T) {
	dir := t.TempDir()
	s := settings.Default()
	s.App.Language = settings.LanguageEN
	s.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951234567"}
	in := writeJSON(t, s)
	out, errOut, code := runCLI(t, "--config-dir", dir, "settings", "import", in)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "imported")

	out, _, code = runCLI(t, "--config-dir", dir, "settings", "export")
	require.Zero(t, code)
	exported, err := settings.Parse([]byte(out))
	require.NoError(t, err)
	require.Equal(t, s, exported)

	file := filepath.Join(t.TempDir(), "out.json")
	_, _, code = runCLI(t, "--config-dir", dir, "settings", "export", file)
	require.Zero(t, code)
	got, err := settings.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, s, got)

	bad := settings.Default()
	bad.Callback.Enabled = true
	_, errOut, code = runCLI(t, "--config-dir", dir, "settings", "import", writeJSON(t, bad))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "callback.number")
	loaded, err := settings.Dir{Path: dir}.Load()
	require.NoError(t, err)
	require.Equal(t, s, loaded, "a refused import changes nothing")
}

func TestCLI_Usage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"settings"}, 2, "Usage: omniphone"},
		{[]string{"settings", "validate"}, 2, "expected one FILE"},
		{[]string{"settings", "export", "a", "b"}, 2, "at most one FILE"},
		{[]string{"settings", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"dial"}, 2, `unknown command "dial"`},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "Usage:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := runCLI(t, tt.args...)
			require.Equal(t, tt.code, code)
			require.Contains(t, errOut, tt.say)
		})
	}
}

func TestNoDisplay_OneClearLine(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	_, errOut, code := runCLI(t, "--config-dir", t.TempDir())
	require.Equal(t, 2, code)
	require.Equal(t, "omniphone: no display to open a window on: DISPLAY is not set; "+
		"start it in a desktop session, or on a server under a virtual display: xvfb-run -a omniphone\n", errOut)

	t.Setenv("DISPLAY", ":4242")
	_, errOut, code = runCLI(t, "--config-dir", t.TempDir())
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "the X server at DISPLAY=:4242 does not answer")
}

func TestXServerAddress(t *testing.T) {
	tests := []struct{ display, network, addr string }{
		{":0", "unix", "/tmp/.X11-unix/X0"},
		{":99.0", "unix", "/tmp/.X11-unix/X99"},
		{"unix:3", "unix", "/tmp/.X11-unix/X3"},
		{"localhost:10.0", "tcp", "localhost:6010"},
		{"[::1]:1", "tcp", "[::1]:6001"},
		{"nonsense", "", ""},
	}
	for _, tt := range tests {
		network, addr, ok := xServerAddress(tt.display)
		require.Equal(t, tt.network != "", ok, tt.display)
		require.Equal(t, tt.network, network, tt.display)
		require.Equal(t, tt.addr, addr, tt.display)
	}
}
