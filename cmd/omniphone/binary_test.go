package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The real omniphone binary, built once for the tests that run it.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// omniphoneBinary builds this command once per test run and returns its path.
func omniphoneBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "omniphone-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "omniphone")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// runningApp is the real app started by a test.
type runningApp struct {
	cmd     *exec.Cmd
	exited  chan error
	out     *syncBuffer
	profile string
}

// startApp runs the binary with its window on profile; it is killed at the
// end of the test if still running.
func startApp(t *testing.T, profile string) *runningApp {
	t.Helper()
	r := &runningApp{exited: make(chan error, 1), out: &syncBuffer{}, profile: profile}
	r.cmd = exec.Command(omniphoneBinary(t), "--config-dir", profile)
	r.cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	require.NoError(t, r.cmd.Start())
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("--- omniphone output ---\n%s", r.out.String())
		}
	})
	return r
}

// stop sends SIGTERM, expects a clean exit and returns the profile's log.
func (r *runningApp) stop(t *testing.T) string {
	t.Helper()
	stopWithSIGTERM(t, r.cmd, r.exited)
	log, err := os.ReadFile(filepath.Join(r.profile, "logs", "omniphone.log"))
	require.NoError(t, err)
	require.NotContains(t, r.out.String(), "panic")
	return string(log)
}
