package sip

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// sippRun is a running SIPp scenario.
type sippRun struct {
	proc *siptest.Proc
}

// startSIPpUAS registers "sippuas" (password uas123, which users must
// hold) at k with SIPp and then runs the UAS scenario testdata/name, with
// repl (old, new pairs) replaced in it, for one call.
func startSIPpUAS(t *testing.T, k *siptest.Kamailio, name string, repl ...string) *sippRun {
	t.Helper()
	sippBin := siptest.RequirePeer(t, "sipp", "sip-tester")
	dir := t.TempDir()
	write := func(name string, repl ...string) string {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(strings.NewReplacer(repl...).Replace(string(b))), 0o644))
		return path
	}
	port := strconv.Itoa(siptest.Port(t))
	reg := siptest.StartProc(t, "sipp-register", dir, sippBin, k.Addr(), "-sf", write("register.xml"),
		"-s", "sippuas", "-au", "sippuas", "-ap", "uas123", "-i", "127.0.0.1", "-p", port, "-m", "1", "-nostdin", "-timeout", "20s")
	select {
	case <-reg.Done():
		require.Zero(t, reg.ExitCode(), "SIPp REGISTER failed")
	case <-time.After(30 * time.Second):
		t.Fatal("SIPp REGISTER did not finish")
	}
	uas := siptest.StartProc(t, "sipp-uas", dir, sippBin, "-sf", write(name, repl...),
		"-s", "sippuas", "-i", "127.0.0.1", "-p", port, "-mi", "127.0.0.1", "-mp", strconv.Itoa(20000+siptest.Port(t)%20000),
		"-m", "1", "-nostdin", "-timeout", "60s", "-trace_err")
	time.Sleep(300 * time.Millisecond) // SIPp binds its port
	return &sippRun{proc: uas}
}

// startSIPpUAC runs the UAC scenario testdata/name once as "bob" through
// k, calling user; the scenario's <pause/> lasts 500 ms.
func startSIPpUAC(t *testing.T, k *siptest.Kamailio, name, user string) *sippRun {
	t.Helper()
	sippBin := siptest.RequirePeer(t, "sipp", "sip-tester")
	dir := t.TempDir()
	tmpl, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	scenario := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(scenario, tmpl, 0o644))
	return &sippRun{proc: siptest.StartProc(t, "sipp-uac", dir, sippBin, k.Addr(),
		"-sf", scenario, "-s", user, "-au", "bob", "-ap", "bob123", "-key", "from_user", "bob",
		"-i", "127.0.0.1", "-p", strconv.Itoa(siptest.Port(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(20000+siptest.Port(t)%20000),
		"-d", "500", "-m", "1", "-nostdin", "-timeout", "60s", "-trace_err")}
}

// wait requires the scenario to end successfully.
func (u *sippRun) wait(t *testing.T) {
	t.Helper()
	select {
	case <-u.proc.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("SIPp UAS did not finish")
	}
	require.Zero(t, u.proc.ExitCode(), "SIPp UAS scenario failed")
}
