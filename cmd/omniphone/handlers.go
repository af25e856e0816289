package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/omniphone/omniphone/assets"
)

// desktopFile is the desktop entry's name: the app ID, as the package
// installs it.
const desktopFile = appID + ".desktop"

// runRegisterHandlers makes omniphone this user's handler of tel:, callto:
// and sip: links (SPEC C5). On Linux it writes the desktop entry to
// $XDG_DATA_HOME/applications with Exec set to this binary and makes it the
// default for the three schemes with xdg-mime. Windows and macOS register
// URL schemes at install time (README).
func runRegisterHandlers(stdout, stderr io.Writer) int {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		fmt.Fprintln(stderr, "omniphone: --register-handlers is for Linux; on Windows and macOS see README, \"Links: tel:, callto:, sip:\"")
		return 2
	}
	path, err := registerHandlers()
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	fmt.Fprintf(stdout, "omniphone: %s handles %s links (%s)\n", desktopFile, strings.Join(linkSchemes, ":, ")+":", path)
	return 0
}

func registerHandlers() (string, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	dataHome := os.Getenv("XDG_DATA_HOME")
	if dataHome == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the home directory: %w", err)
		}
		dataHome = filepath.Join(home, ".local", "share")
	}
	apps := filepath.Join(dataHome, "applications")
	if err := os.MkdirAll(apps, 0o755); err != nil {
		return "", fmt.Errorf("desktop entry: %w", err)
	}
	path := filepath.Join(apps, desktopFile)
	if err := os.WriteFile(path, desktopEntry(exe), 0o644); err != nil {
		return "", fmt.Errorf("desktop entry: %w", err)
	}
	xdgMime, err := exec.LookPath("xdg-mime")
	if err != nil {
		return "", fmt.Errorf("wrote %s, but xdg-mime is missing (Debian package xdg-utils) to make it the default: %w", path, err)
	}
	args := []string{"default", desktopFile}
	for _, s := range linkSchemes {
		args = append(args, "x-scheme-handler/"+s)
	}
	if out, err := exec.Command(xdgMime, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("xdg-mime %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	// Launchers that cache the MIME database see the entry at once; it is
	// found without the cache too.
	if udd, err := exec.LookPath("update-desktop-database"); err == nil {
		_ = exec.Command(udd, apps).Run()
	}
	return path, nil
}

// desktopEntry is the packaged desktop entry with Exec naming exe, quoted
// as the Desktop Entry Specification asks when it has reserved characters.
func desktopEntry(exe string) []byte {
	exe = strings.ReplaceAll(exe, "%", "%%") // not a field code
	if strings.ContainsAny(exe, " \t\"'\\$`<>~|&;*?#()") {
		r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`)
		exe = `"` + r.Replace(exe) + `"`
	}
	return bytes.Replace(assets.DesktopEntry, []byte("\nExec=omniphone "), []byte("\nExec="+exe+" "), 1)
}
