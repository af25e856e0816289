package main

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/control"
	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegration_AnswerAndHangupFromTheCommandLine: `omniphone --answer`
// and `omniphone --hangup` — what a desktop binds to global keys, as Fyne
// has none — act on the running phone (here headless, registered to
// Kamailio; baresip calls it). Without a ringing call --answer says so and
// fails; without a running omniphone both fail at once.
func TestIntegration_AnswerAndHangupFromTheCommandLine(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"101": "secret101", "caller": "caller123"})
	profile := phoneProfile(t, k, "101", nil)

	_, errOut, code := runOmniphone(t, nil, "--config-dir", profile, "--answer")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no omniphone is running with the profile")
	_, _, code = runOmniphone(t, nil, "--config-dir", profile, "--answer", "--hangup")
	require.Equal(t, 2, code)

	env := []string{"OMNIPHONE_SECRET_SIP_ACC1_PASSWORD=secret101"}
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	phone := startOmniphone(t, "phone", profile, env, "--headless", "--control", addr)
	api := dialControl(t, phone, addr)
	api.waitRegistered(t, phone)
	events := api.events(t)

	_, errOut, code = runOmniphone(t, nil, "--config-dir", profile, "--answer")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no call is ringing")

	caller := siptest.StartBaresip(t, siptest.BaresipOptions{User: "caller", Password: "caller123", Proxy: k.Addr(), ToneHz: 1000})
	caller.Command("dial", "sip:101@"+k.Addr())
	waitCall(t, events, func(c *control.CallView) bool { return c.State == "incoming" })
	out, errOut, code := runOmniphone(t, nil, "--config-dir", profile, "--answer")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "answered")
	waitCall(t, events, func(c *control.CallView) bool { return c.State == "active" })

	out, errOut, code = runOmniphone(t, nil, "--config-dir", profile, "--hangup")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "hung up")
	ended := waitCall(t, events, func(c *control.CallView) bool { return c.State == "ended" })
	require.Equal(t, "local-hangup", ended.Cause)
	require.NotNil(t, ended.Answered)
}
