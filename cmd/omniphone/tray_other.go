//go:build !linux

package main

// trayHost reports whether the desktop shows tray icons: Windows' and
// macOS' always do.
func trayHost() (bool, error) { return true, nil }
