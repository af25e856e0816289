package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the file in the profile directory that keeps
// the API's bearer token.
const TokenFile = "control.token"

// LoadToken returns the bearer token kept in dir/control.token, creating
// the file (0600, 32 random bytes in hex) if it is missing. It refuses a
// token file that others can read.
func LoadToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createToken(dir, path)
	}
	if err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("control token %s is readable by others (mode %v); run chmod 600 on it", path, info.Mode().Perm())
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 16 {
		return "", fmt.Errorf("control token %s is too short; delete it to have a new one made", path)
	}
	return tok, nil
}

func createToken(dir, path string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	tok := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return LoadToken(dir)
	}
	if err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("control token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	return tok, nil
}

// ErrNotLoopback means the control address is not on this computer only.
var ErrNotLoopback = errors.New("the control API listens on a loopback address only")

// CheckAddr accepts host:port where host is a loopback IP literal
// (127.0.0.0/8 or ::1) or "localhost".
func CheckAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("control address %q: %w (want 127.0.0.1:PORT)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q is not one (use 127.0.0.1:PORT)", ErrNotLoopback, addr)
	}
	return nil
}

// Listen checks addr with [CheckAddr] and listens on it; "localhost" is
// bound as 127.0.0.1 so that no resolver can make it something else.
func Listen(addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control API: %w", err)
	}
	return ln, nil
}
