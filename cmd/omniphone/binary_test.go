package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

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
