package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntegration_C5_SecondLaunchReachesTheWindow runs the real window
// (Xvfb in make test) and launches omniphone again with the same profile:
// without a link the window is raised and the launch exits 0; with a link
// the window's phone is asked to dial it — this profile has no SIP
// account, so the second launch reports why, exit 1. The window keeps
// running. (Its clean exit on SIGTERM is TestIntegration_WindowScreenshot's.)
func TestIntegration_C5_SecondLaunchReachesTheWindow(t *testing.T) {
	requireX(t)
	profile := filepath.Join(t.TempDir(), "profile")
	var appOut bytes.Buffer
	cmd := exec.Command(omniphoneBinary(t), "--config-dir", profile)
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	cmd.Stdout, cmd.Stderr = &appOut, &appOut
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitForWindow(t, cmd.Process.Pid, "Omniphone", exited, &appOut)

	out, errOut, code := runOmniphone(t, nil, "--config-dir", profile)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "handed to the running omniphone ("+profile+"): window raised")

	_, errOut, code = runOmniphone(t, nil, "--config-dir", profile, "callto://+7 912 345 67 89")
	require.Equal(t, 1, code)
	require.Equal(t, "omniphone: the running omniphone: the phone is not registered\n", errOut)

	waitForWindow(t, cmd.Process.Pid, "Omniphone", exited, &appOut) // still there
	require.Contains(t, logOf(t, profile), `msg="dialling a link" link="callto://+7 912 345 67 89" target=+79123456789`)
}

func logOf(t *testing.T, profile string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(profile, "logs", "omniphone.log"))
	require.NoError(t, err)
	return string(b)
}
