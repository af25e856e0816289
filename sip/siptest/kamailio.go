package siptest

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

//go:embed kamailio.cfg
var kamailioCfg string

// SharedDomain is a SIP domain every test Kamailio serves besides its own
// 127.0.0.1:port, so that one account can register with any of several
// instances (registrar failover). It is never resolved: requests go to the
// instances' addresses.
const SharedDomain = "omniphone.test"

// Kamailio is a running registrar/proxy with digest users.
type Kamailio struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	// Proc is the running process (replaced by Start after a Stop).
	Proc *Proc
}

// Addr is the proxy's host:port.
func (k *Kamailio) Addr() string { return "127.0.0.1:" + strconv.Itoa(k.port) }

// StartKamailio starts Kamailio on a free port of 127.0.0.1 with users
// (user → password) and stops it in t.Cleanup.
func StartKamailio(t testing.TB, users map[string]string) *Kamailio {
	t.Helper()
	return firstStart(t, func() *Kamailio { return newKamailio(t, users, nil) })
}

// firstStart builds a Kamailio with build and starts it. The ports build
// chooses are free when chosen, but another test process may bind one
// before Kamailio does; Kamailio then exits during start-up, and
// firstStart builds it again on new ports (three attempts in all).
func firstStart[K interface{ start() error }](t testing.TB, build func() K) K {
	t.Helper()
	for attempt := 1; ; attempt++ {
		k := build()
		err := k.start()
		if err == nil {
			return k
		}
		if !errors.Is(err, errExited) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; starting it again on new ports", attempt, err)
	}
}

// errExited: Kamailio ended during start-up.
var errExited = errors.New("kamailio exited during start-up")

// newKamailio writes the configuration for users, changed by edit (which
// may also write more files into k's directory), without starting Kamailio.
func newKamailio(t testing.TB, users map[string]string, edit func(k *Kamailio, cfg string) string) *Kamailio {
	t.Helper()
	bin := RequirePeer(t, "kamailio", "kamailio")
	dir := t.TempDir()
	var seed strings.Builder
	for u, pw := range users {
		fmt.Fprintf(&seed, "\t$sht(users=>%s) = \"%s\";\n", u, pw)
	}
	k := &Kamailio{t: t, bin: bin, dir: dir, port: Port(t)}
	cfg := strings.NewReplacer("__KROOT__", dir, "__KPORT__", strconv.Itoa(k.port), "#USERS#\n", seed.String()).Replace(kamailioCfg)
	if edit != nil {
		cfg = edit(k, cfg)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kamailio.cfg"), []byte(cfg), 0o644))
	return k
}

// Stop stops Kamailio; its registrations are lost.
func (k *Kamailio) Stop() { k.Proc.Stop(k.t) }

// Start starts Kamailio (again) on the same port and waits until it
// answers OPTIONS.
func (k *Kamailio) Start() {
	k.t.Helper()
	if err := k.start(); err != nil {
		k.t.Fatal(err)
	}
}

// start starts Kamailio and waits until it answers OPTIONS; the error
// carries the end of its log.
func (k *Kamailio) start() error {
	k.Proc = StartProc(k.t, "kamailio", k.dir, k.bin,
		"-f", filepath.Join(k.dir, "kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8", "-Y", k.dir)
	deadline := time.Now().Add(20 * time.Second)
	for !Ping(k.Addr()) {
		exited := k.Proc.Exited()
		if exited || time.Now().After(deadline) {
			b, _ := os.ReadFile(k.Proc.Log)
			k.Proc.Stop(k.t)
			err := errors.New("kamailio did not answer within 20 s")
			if exited {
				err = errExited
			}
			return fmt.Errorf("%w on %s:\n%s", err, k.Addr(), Tail(string(b), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// Ping sends OPTIONS over UDP to addr and reports whether a 200 came back
// within 300 ms.
func Ping(addr string) bool {
	return Options(0, addr, 300*time.Millisecond) == 200
}

// Options sends OPTIONS over UDP from 127.0.0.1:fromPort (0: any port) to
// addr and returns the status code of the answer, or 0 when none came
// within timeout.
func Options(fromPort int, addr string, timeout time.Duration) int {
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return 0
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: fromPort})
	if err != nil {
		return 0
	}
	defer c.Close()
	la := c.LocalAddr().String()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + la + ";branch=z9hG4bK" + id + ";rport\r\n" +
		"From: <sip:ping@" + la + ">;tag=p1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: ping-" + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.WriteTo([]byte(msg), ra); err != nil {
		return 0
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return 0
		}
		var code int
		if _, err := fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code); err == nil && code >= 200 {
			return code
		}
	}
}

// SendUDP sends each datagram to addr from 127.0.0.1:fromPort (0: an
// ephemeral port).
func SendUDP(fromPort int, addr string, datagrams ...[]byte) error {
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", addr, err)
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: fromPort}, ra)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			return fmt.Errorf("send to %s: %w", addr, err)
		}
	}
	return nil
}

// Unregister removes user's bindings from the location table (a UA
// killed without unREGISTER leaves one).
func (k *Kamailio) Unregister(user string) error {
	k.t.Helper()
	kamcmd := RequirePeer(k.t, "kamcmd", "kamailio")
	out, err := exec.Command(kamcmd, "-s", "unix:"+filepath.Join(k.dir, "kamailio_ctl"),
		"ul.rm", "location", "s:"+user).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not found") {
		return fmt.Errorf("kamcmd ul.rm %s: %w: %s", user, err, out)
	}
	return nil
}

// Registered reports whether user has a binding in Kamailio's location
// table, asked over its control socket with kamcmd.
func (k *Kamailio) Registered(user string) bool {
	k.t.Helper()
	return len(k.Contacts(user)) > 0
}

// Contacts lists the Contact addresses of user's bindings in Kamailio's
// location table (none when the user has no binding or kamcmd fails).
func (k *Kamailio) Contacts(user string) []string {
	k.t.Helper()
	kamcmd := RequirePeer(k.t, "kamcmd", "kamailio")
	out, err := exec.Command(kamcmd, "-s", "unix:"+filepath.Join(k.dir, "kamailio_ctl"),
		"ul.lookup", "location", "s:"+user).CombinedOutput() // s: keeps "102" a string
	if err != nil {
		return nil
	}
	// kamcmd exits 0 on "500 - AOR not found" too; a binding reads
	// "Contact: { Address: sip:…".
	var contacts []string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Address:"); ok {
			contacts = append(contacts, strings.TrimSpace(v))
		}
	}
	return contacts
}
