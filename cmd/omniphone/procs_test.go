package main

// Helpers that run the real omniphone binary, as a user or a desktop
// session would, for the end-to-end tests.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"

	"github.com/omniphone/omniphone/control"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// TestMain removes the binary built for the end-to-end tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// shippedTags are the build tags the Makefile builds omniphone with (GOTAGS):
// the tests and benchmarks run the binary users get.
const shippedTags = "with_opus_c,no_emoji"

// TestShippedTags_AreTheMakefiles: the tests build omniphone with the tags
// make build uses, so they test what users run.
func TestShippedTags_AreTheMakefiles(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	var tags string
	for _, line := range strings.Split(string(mk), "\n") {
		if v, ok := strings.CutPrefix(line, "GOTAGS ?="); ok {
			tags = strings.TrimSpace(v)
		}
	}
	require.Equal(t, shippedTags, tags, "the Makefile's GOTAGS")
}

// omniphoneBinary builds cmd/omniphone, as the Makefile does, once per
// test run.
func omniphoneBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "omniphone-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "omniphone")
		built.out, built.err = exec.Command("go", "build", "-tags", shippedTags, "-o", built.bin, ".").CombinedOutput()
	})
	require.NoError(t, built.err, "%s", built.out)
	return built.bin
}

// omniProc is a long-running omniphone started by a test.
type omniProc struct {
	name    string
	cmd     *exec.Cmd
	out     syncBuffer
	exited  chan error
	profile string
}

// startOmniphone runs bin with args and env (added to the environment
// without a display) and kills it at the end of the test, printing its
// output and log if the test failed.
func startOmniphone(t testing.TB, name, profile string, env []string, args ...string) *omniProc {
	t.Helper()
	p := &omniProc{name: name, profile: profile, exited: make(chan error, 1)}
	p.cmd = exec.Command(omniphoneBinary(t), append([]string{"--config-dir", profile}, args...)...)
	p.cmd.Env = append(append(withoutDisplay(os.Environ()), "LANG=en_US.UTF-8"), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("--- %s output ---\n%s\n--- %s log ---\n%s", name, p.out.String(), name, siptest.Tail(p.log(), 6000))
		}
	})
	return p
}

func (p *omniProc) log() string {
	b, _ := os.ReadFile(filepath.Join(p.profile, "logs", "omniphone.log"))
	return string(b)
}

// stop sends SIGTERM and requires a clean exit.
func (p *omniProc) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.exited:
		require.NoError(t, err, "%s exits cleanly on SIGTERM", p.name)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop on SIGTERM", p.name)
	}
}

// requireRunning fails the test if the process has exited.
func (p *omniProc) requireRunning(t testing.TB) {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("%s exited: %v", p.name, err)
	default:
	}
}

// runOmniphone runs a short-lived omniphone (a second launch) and returns
// its output and exit code.
func runOmniphone(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(omniphoneBinary(t), args...)
	cmd.Env = append(append(withoutDisplay(os.Environ()), "LANG=en_US.UTF-8"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out.String(), errOut.String(), exit.ExitCode()
		}
		require.NoError(t, err)
		return out.String(), errOut.String(), 0
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("omniphone %v did not return", args)
		return "", "", 0
	}
}

// controlClient talks to a headless omniphone's control API.
type controlClient struct {
	base, token string
}

// dialControl waits for the control token of profile and returns a client
// for the API on addr.
func dialControl(t testing.TB, p *omniProc, addr string) controlClient {
	t.Helper()
	var token string
	require.Eventually(t, func() bool {
		p.requireRunning(t)
		b, err := os.ReadFile(filepath.Join(p.profile, control.TokenFile))
		token = strings.TrimSpace(string(b))
		return err == nil && len(token) == 64
	}, 20*time.Second, 50*time.Millisecond, "%s creates control.token", p.name)
	return controlClient{base: "http://" + addr, token: token}
}

func (c controlClient) get(path string, into any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(into)
}

// waitRegistered waits until the phone reports "registered".
func (c controlClient) waitRegistered(t testing.TB, p *omniProc) {
	t.Helper()
	require.Eventually(t, func() bool {
		p.requireRunning(t)
		var st control.Status
		code, err := c.get("/v1/status", &st)
		return err == nil && code == http.StatusOK && st.Registration == "registered"
	}, 30*time.Second, 100*time.Millisecond, "%s registers", p.name)
}

// events opens the control API's event stream.
func (c controlClient) events(t testing.TB) <-chan control.Event {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+"/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return sseEvents(resp)
}

// waitCall returns the first call event for which f holds.
func waitCall(t testing.TB, events <-chan control.Event, f func(c *control.CallView) bool) *control.CallView {
	t.Helper()
	for {
		ev := nextEvent(t, events)
		if ev.Type == "call" && ev.Call != nil && f(ev.Call) {
			return ev.Call
		}
	}
}
