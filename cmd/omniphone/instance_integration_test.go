package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"

	"github.com/omniphone/omniphone/control"
	"github.com/omniphone/omniphone/settings"
)

// phoneProfile writes a profile with one SIP account on Kamailio.
func phoneProfile(t testing.TB, k *siptest.Kamailio, user string, edit func(*settings.Settings)) string {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "p")
	s := settings.Default()
	s.App.Language = settings.LanguageEN
	s.SIP.Accounts = []settings.SIPAccount{{ID: "acc1", User: user, Domain: k.Addr(), Transport: settings.TransportUDP,
		ExpirySeconds: 60, Codecs: []string{"PCMU", "PCMA"}, DTMF: settings.DTMFRFC4733, Default: true}}
	s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 1, 1
	if edit != nil {
		edit(&s)
	}
	require.NoError(t, settings.Dir{Path: profile}.Save(s))
	return profile
}

// TestIntegration_C5_LinksGoToTheRunningPhone runs the real binary: a
// headless phone registered to Kamailio takes the profile; a second launch
// with a tel: link hands it over and exits 0, and the first one dials it
// (404 from Kamailio: nobody has the number); a launch without a link gets
// "nothing to raise"; a bad link fails at once. Then the first instance is
// killed (no clean-up: a stale socket), and a new one takes the profile
// over, dials the link it was started with, and the next one handed over.
func TestIntegration_C5_LinksGoToTheRunningPhone(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"101": "secret101"})
	profile := phoneProfile(t, k, "101", nil)
	env := []string{"OMNIPHONE_SECRET_SIP_ACC1_PASSWORD=secret101"}
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	first := startOmniphone(t, "first", profile, env, "--headless", "--control", addr)
	api := dialControl(t, first, addr)
	api.waitRegistered(t, first)
	events := api.events(t)

	out, errOut, code := runOmniphone(t, nil, "--config-dir", profile, "tel:+7 (912) 345-67-89")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "handed to the running omniphone ("+profile+"): dialling +79123456789")
	call := waitCall(t, events, func(c *control.CallView) bool { return c.State == "ended" })
	require.Equal(t, "outbound", call.Direction)
	require.Equal(t, "+79123456789", call.Remote)
	require.Equal(t, 404, call.SIPCode, "the call went through Kamailio")

	out, errOut, code = runOmniphone(t, nil, "--config-dir", profile)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "without a window to raise")

	_, errOut, code = runOmniphone(t, nil, "--config-dir", profile, "tel:call-me-maybe")
	require.Equal(t, 2, code)
	require.Equal(t, "omniphone: \"tel:call-me-maybe\": not a phone number: number \"call-me-maybe\": unexpected character 'c'\n", errOut)

	// A crash: the kernel drops the lock, the socket file stays.
	require.NoError(t, first.cmd.Process.Kill())
	require.Error(t, <-first.exited, "killed")
	_, err := os.Stat(socketPath(profile))
	require.NoError(t, err, "the killed instance left its socket")

	addr2 := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	second := startOmniphone(t, "second", profile, env, "--headless", "--control", addr2, "tel:998")
	api2 := dialControl(t, second, addr2)
	api2.waitRegistered(t, second)
	require.Eventually(t, func() bool {
		return strings.Contains(second.log(), `msg="call ended"`) && strings.Contains(second.log(), "cause=not-found")
	}, 20*time.Second, 100*time.Millisecond, "the link given at start is dialled once the phone registers")
	require.Contains(t, second.log(), `msg="dialling a link" link=tel:998 target=998`)
	events2 := api2.events(t)
	out, errOut, code = runOmniphone(t, nil, "--config-dir", profile, "sip:999@"+k.Addr())
	require.Zero(t, code, errOut)
	require.Contains(t, out, "dialling sip:999@"+k.Addr())
	// The stream may still carry the end of the 998 call (its event can
	// follow the log line the wait above saw): wait for this call's end.
	call = waitCall(t, events2, func(c *control.CallView) bool { return c.State == "ended" && c.Remote == "999" })
	require.Equal(t, 404, call.SIPCode)
	second.stop(t)
	_, err = os.Stat(socketPath(profile))
	require.ErrorIs(t, err, os.ErrNotExist, "a clean exit removes the socket")
}
