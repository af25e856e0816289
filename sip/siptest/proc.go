package siptest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// RequirePeer returns the path of a peer binary. Without it the test is
// skipped, or fails when OMNIPHONE_REQUIRE_PEERS=1.
func RequirePeer(t testing.TB, bin, debPackage string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err == nil {
		return path
	}
	if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s not found: install the Debian package %s", bin, debPackage)
	}
	t.Skipf("%s not found (Debian package %s); set OMNIPHONE_REQUIRE_PEERS=1 to make this fatal", bin, debPackage)
	return ""
}

// Proc is a peer process started by a test.
type Proc struct {
	name string
	cmd  *exec.Cmd
	// Log is the file holding the process's output.
	Log  string
	done chan struct{}
}

// StartProc starts bin in dir with its output in dir/<name>.log and stops
// it (SIGTERM, then SIGKILL to its process group) in t.Cleanup, showing the
// log's tail when the test failed.
func StartProc(t testing.TB, name, dir, bin string, args ...string) *Proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &Proc{name: name, cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("--- %s log (tail) ---\n%s", name, Tail(string(b), 4000))
			}
		}
	})
	return p
}

// Pid is the process's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop terminates the process and its children; it is idempotent.
func (p *Proc) Stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Logf("%s (pid %d) did not exit", p.name, pgid)
		}
	}
	// Children of a foreground Kamailio may outlive the main process briefly.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// CountLog counts the lines of the process's log that contain all of subs.
func (p *Proc) CountLog(subs ...string) int {
	b, _ := os.ReadFile(p.Log)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// Tail is the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// Port returns a port free for both UDP and TCP on 127.0.0.1.
func Port(t testing.TB) int {
	t.Helper()
	return freePorts(t, 1)
}

// PortPair returns a port p such that p and p+1 are both free for UDP and
// TCP on 127.0.0.1 — baresip binds its SIP/TLS transport to its SIP port + 1.
func PortPair(t testing.TB) int {
	t.Helper()
	return freePorts(t, 2)
}

func freePorts(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		if port, ok := freeRun(n); ok {
			return port
		}
	}
	t.Fatalf("no %d adjacent ports free for both UDP and TCP on 127.0.0.1", n)
	return 0
}

// freeRun asks the kernel for a free UDP port p and checks that p…p+n-1
// can all be bound for UDP and TCP.
func freeRun(n int) (int, bool) {
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, false
	}
	defer func() { _ = u.Close() }()
	port := u.LocalAddr().(*net.UDPAddr).Port
	if port+n-1 > 65535 {
		return 0, false
	}
	for i := range n {
		addr := "127.0.0.1:" + strconv.Itoa(port+i)
		if i > 0 {
			ui, err := net.ListenPacket("udp", addr)
			if err != nil {
				return 0, false
			}
			defer func() { _ = ui.Close() }()
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return 0, false
		}
		defer func() { _ = l.Close() }()
	}
	return port, true
}

// Ctx returns a context that ends after d or when the test ends.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the ended process's exit code (-1 while it runs or when a
// signal ended it).
func (p *Proc) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}
