package main

// A minimal Kamailio for the headless integration test, copied from the
// sip package's test helpers (sip/peers_test.go) with its config template
// sip/testdata/kamailio.cfg.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kamailio is a registrar/proxy on 127.0.0.1 started by a test.
type kamailio struct{ port int }

// Addr is the proxy's host:port.
func (k *kamailio) Addr() string { return "127.0.0.1:" + strconv.Itoa(k.port) }

// startKamailio starts Kamailio with users (user → password) on a free
// port and stops it in t.Cleanup. Without kamailio the test is skipped, or
// fails when OMNIPHONE_REQUIRE_PEERS=1.
func startKamailio(t testing.TB, users map[string]string) *kamailio {
	t.Helper()
	bin := requirePeer(t, "kamailio", "kamailio")
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "sip", "testdata", "kamailio.cfg"))
	require.NoError(t, err)
	var seed strings.Builder
	for u, pw := range users {
		fmt.Fprintf(&seed, "\t$sht(users=>%s) = \"%s\";\n", u, pw)
	}
	k := &kamailio{port: freeUDPTCPPort(t)}
	cfg := strings.NewReplacer("__KROOT__", dir, "__KPORT__", strconv.Itoa(k.port), "#USERS#\n", seed.String()).Replace(string(tmpl))
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))

	logPath, done := startPeer(t, "kamailio", dir, bin, "-f", cfgPath, "-DD", "-E", "-m", "64", "-M", "8", "-Y", dir)
	deadline := time.Now().Add(20 * time.Second)
	for !sipPing(k.Addr()) {
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("kamailio exited:\n%s", tail(string(b), 3000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio did not answer on %s", k.Addr())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return k
}

// freeUDPTCPPort returns a port free for both UDP and TCP on 127.0.0.1.
func freeUDPTCPPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		_ = u.Close()
		if err == nil {
			_ = l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// sipPing sends OPTIONS over UDP and reports whether a 200 came back.
func sipPing(addr string) bool {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	la := c.LocalAddr().String()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + la + ";branch=z9hG4bK" + id + ";rport\r\n" +
		"From: <sip:ping@" + la + ">;tag=p1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: ping-" + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write([]byte(msg)); err != nil {
		return false
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	return err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200")
}
