package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestC5_RegisterHandlers writes the desktop entry into a private
// XDG_DATA_HOME and asks the real xdg-mime which program handles each
// scheme afterwards.
func TestC5_RegisterHandlers(t *testing.T) {
	xdgMime := siptest.RequirePeer(t, "xdg-mime", "xdg-utils")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CURRENT_DESKTOP", "")
	t.Setenv("DE", "")

	out, errOut, code := runCLI(t, "--register-handlers")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "ru.omniphone.app.desktop handles tel:, callto:, sip: links")

	entry, err := os.ReadFile(filepath.Join(home, "data", "applications", "ru.omniphone.app.desktop"))
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	exe, err = filepath.EvalSymlinks(exe)
	require.NoError(t, err)
	require.Contains(t, string(entry), "\nExec="+exe+" %u\n", "Exec names this binary and takes the link as a URL")
	require.Contains(t, string(entry), "\nMimeType=x-scheme-handler/tel;x-scheme-handler/callto;x-scheme-handler/sip;\n")

	for _, scheme := range linkSchemes {
		got, err := exec.Command(xdgMime, "query", "default", "x-scheme-handler/"+scheme).Output()
		require.NoError(t, err)
		require.Equal(t, "ru.omniphone.app.desktop", strings.TrimSpace(string(got)), scheme)
	}
}

func TestDesktopEntry_QuotesTheExecPath(t *testing.T) {
	tests := []struct{ exe, want string }{
		{"/usr/bin/omniphone", "Exec=/usr/bin/omniphone %u"},
		{"/opt/My Apps/omniphone", `Exec="/opt/My Apps/omniphone" %u`},
		{`/opt/a"b$c/omniphone`, `Exec="/opt/a\\"b\\$c/omniphone" %u`},
		{"/opt/100%/omniphone", "Exec=/opt/100%%/omniphone %u"},
	}
	for _, tt := range tests {
		require.Contains(t, string(desktopEntry(tt.exe)), "\n"+tt.want+"\n", tt.exe)
	}
}
