package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// errNoDisplay explains the way out when there is no screen to open a
// window on. Without this check GLFW prints a PlatformError and panics.
var errNoDisplay = errors.New("no display to open a window on")

// checkDisplay fails with one actionable sentence when, on an X11 system,
// there is no reachable X server.
func checkDisplay() error {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" && runtime.GOOS != "openbsd" && runtime.GOOS != "netbsd" {
		return nil
	}
	const wayOut = "start it in a desktop session, or on a server under a virtual display: xvfb-run -a omniphone"
	display := os.Getenv("DISPLAY")
	if display == "" {
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			return fmt.Errorf("%w: DISPLAY is not set (Omniphone needs XWayland on Wayland); %s", errNoDisplay, wayOut)
		}
		return fmt.Errorf("%w: DISPLAY is not set; %s", errNoDisplay, wayOut)
	}
	network, addr, ok := xServerAddress(display)
	if !ok {
		return nil // an unusual DISPLAY form: let the toolkit try
	}
	conn, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("%w: the X server at DISPLAY=%s does not answer; %s", errNoDisplay, display, wayOut)
	}
	_ = conn.Close()
	return nil
}

// xServerAddress turns DISPLAY ("[host]:N[.S]") into where the X server
// listens: a Unix socket for a local display, TCP 6000+N otherwise.
func xServerAddress(display string) (network, addr string, ok bool) {
	i := strings.LastIndex(display, ":")
	if i < 0 {
		return "", "", false
	}
	host, num := display[:i], display[i+1:]
	if dot := strings.Index(num, "."); dot >= 0 {
		num = num[:dot]
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return "", "", false
	}
	if host == "" || host == "unix" {
		return "unix", "/tmp/.X11-unix/X" + num, true
	}
	if strings.HasPrefix(host, "/") { // macOS launchd socket paths
		return "", "", false
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return "tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)), true
}
