package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// Tones used to tell the directions apart.
const (
	phoneHz   = 440.0
	baresipHz = 1000.0
)

// callUsers are the accounts the call tests register with Kamailio.
var callUsers = map[string]string{"alice": "alice123", "bob": "bob123", "gouac": "go123", "carol": "carol123"}

// requireTone checks that samples carry freq for at least secs seconds.
func requireTone(t *testing.T, what string, samples []int16, rate int, freq, secs float64) {
	t.Helper()
	got := siptest.ToneSeconds(samples, freq, rate)
	require.GreaterOrEqual(t, got, secs, "%s: %.1f s of %.0f Hz in %.1f s of audio", what, got, freq, float64(len(samples))/float64(rate))
}

// waitTone waits until heard (the audio a phone's device received so far,
// at SampleRate) carries secs of freq, and fails with requireTone's
// message after timeout. Waiting for the audio rather than sleeping a
// fixed time keeps the check honest on a loaded machine, where frames
// arrive late.
func waitTone(t *testing.T, what string, heard func() []int16, freq, secs float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		samples := heard()
		if siptest.ToneSeconds(samples, freq, SampleRate) >= secs || time.Now().After(deadline) {
			requireTone(t, what, samples, SampleRate, freq, secs)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIntegrationCallOut(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	recDir := t.TempDir()
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.RecordDir = recDir })
	p.ev.waitReg(t, RegRegistered, 0)

	c, err := p.Dial("alice")
	require.NoError(t, err)
	require.Equal(t, Outbound, c.Direction())
	active := p.ev.waitCall(t, c, CallActive, 20*time.Second)
	require.Equal(t, "alice", active.AnsweredBy)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))

	time.Sleep(4 * time.Second)
	require.NoError(t, c.SendDTMF("159#"))
	require.NoError(t, c.Hangup())
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseLocalHangup, ended.Cause)
	require.Greater(t, ended.TalkDuration, 3*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))

	// The phone heard baresip's tone; baresip heard ours.
	requireTone(t, "phone received", p.dev.heardSince(0), SampleRate, baresipHz, 2.5)
	rx, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
	requireTone(t, "baresip received", rx, rate, phoneHz, 2.5)

	// RFC 4733 digits reached baresip.
	for _, d := range "159#" {
		d := string(d)
		alice.WaitEvent(t, 10*time.Second, func(ev map[string]any) bool {
			return ev["type"] == "CALL_DTMF_START" && ev["param"] == d
		})
	}

	// Our recording: left = sent (440 Hz), right = received (1000 Hz), and closed cleanly.
	path := c.RecordingPath()
	require.NotEmpty(t, path)
	left, rate := siptest.ReadWAV(t, path, 0)
	right, _ := siptest.ReadWAV(t, path, 1)
	requireTone(t, "recording left (sent)", left, rate, phoneHz, 3)
	requireTone(t, "recording right (received)", right, rate, baresipHz, 2.5)
}

func TestIntegrationCallIn(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)

	alice.Command("dial", "sip:gouac@"+k.Addr())
	c := p.ev.waitIncoming(t, 1)
	require.Equal(t, Inbound, c.Direction())
	require.Equal(t, "alice", c.Remote())
	require.Equal(t, CallIncoming, c.State())
	require.NotEmpty(t, c.Header("Via"))
	require.NoError(t, c.Answer())
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))

	time.Sleep(3 * time.Second)
	// RFC 4733 digits from baresip.
	for _, d := range []string{"4", "7", "#"} {
		alice.Command("sndcode", d)
		time.Sleep(300 * time.Millisecond)
	}
	p.ev.wait(t, 10*time.Second, "DTMF 47#", func() bool { return len(p.ev.dtmf) >= 3 })
	require.Equal(t, "47#", p.ev.digits())

	// Remote hangup.
	alice.Command("hangup", "")
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseRemoteHangup, ended.Cause)

	requireTwoWayTone(t, p, alice, 2)
}

// requireTwoWayTone checks that the phone heard baresip's tone and baresip
// ours, each for at least secs seconds.
func requireTwoWayTone(t *testing.T, p *testPhone, b *siptest.Baresip, secs float64) {
	t.Helper()
	requireTone(t, "phone received", p.dev.heardSince(0), SampleRate, baresipHz, secs)
	rx, rate := siptest.ReadWAV(t, b.DecodedRecording(t), 0)
	requireTone(t, "baresip received", rx, rate, phoneHz, secs)
}

func TestIntegrationHoldResume(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})

	for _, dir := range []Direction{Outbound, Inbound} {
		t.Run(dir.String(), func(t *testing.T) {
			p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
			p.ev.waitReg(t, RegRegistered, 0)
			c := connect(t, k, p, alice, dir)
			time.Sleep(time.Second)
			callID := c.SIPCallID()
			require.NotEmpty(t, callID)
			invites := k.Proc.CountLog("REQ INVITE", callID)

			ctx := siptest.Ctx(t, 60*time.Second)
			require.NoError(t, c.Hold(ctx))
			require.Equal(t, CallHeld, c.State())
			p.ev.waitCall(t, c, CallHeld, 5*time.Second)
			// The hold re-INVITE went through the proxy (the route set), not straight to baresip.
			require.Equal(t, invites+1, k.Proc.CountLog("REQ INVITE", callID), "hold re-INVITE did not pass Kamailio")
			time.Sleep(time.Second)

			require.NoError(t, c.Resume(ctx))
			require.Equal(t, CallActive, c.State())
			require.Equal(t, invites+2, k.Proc.CountLog("REQ INVITE", callID), "resume re-INVITE did not pass Kamailio")
			mark := p.dev.heardLen()
			waitTone(t, "phone received after resume", func() []int16 { return p.dev.heardSince(mark) }, baresipHz, 1.5, 15*time.Second)

			hangUp(t, p, alice, c)
		})
	}
}
