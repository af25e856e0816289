package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationWebRTC_HoldIsLocal: Hold on a WebRTC call (through
// rtpengine to baresip) sends no re-INVITE (diago cannot yet, see
// reinviteHold): the phone stops playing what arrives and sends silence,
// reports CallHeld, and after Resume the tone flows both ways again.
func TestIntegrationWebRTC_HoldIsLocal(t *testing.T) {
	k, alice, p := startWebrtcPeers(t, TransportWS, siptest.WSOptions{RTPEngine: true}, "")
	c, err := p.Dial("alice")
	require.NoError(t, err)
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))
	time.Sleep(2 * time.Second)
	invites := k.Proc.CountLog("REQ INVITE", c.SIPCallID())

	ctx := siptest.Ctx(t, 30*time.Second)
	require.NoError(t, c.Hold(ctx))
	p.ev.waitCall(t, c, CallHeld, 5*time.Second)
	held := p.dev.heardLen()
	time.Sleep(2 * time.Second)
	require.Zero(t, siptest.ToneSeconds(p.dev.heardSince(held), baresipHz, SampleRate), "nothing is played while held")

	require.NoError(t, c.Resume(ctx))
	require.Equal(t, CallActive, c.State())
	resumed := p.dev.heardLen()
	// 3 s of tone after the resume: baresip's side of the check below
	// counts on about as much talk.
	waitTone(t, "phone received after resume", func() []int16 { return p.dev.heardSince(resumed) }, baresipHz, 3, 15*time.Second)
	require.Equal(t, invites, k.Proc.CountLog("REQ INVITE", c.SIPCallID()), "no re-INVITE")

	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))
	// baresip heard our tone before the hold and after it, and silence
	// between: about 2 s + 3 s of the 7 s call.
	rx, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
	got := siptest.ToneSeconds(rx, phoneHz, rate)
	total := float64(len(rx)) / float64(rate)
	t.Logf("baresip heard %.1f s of our tone in %.1f s", got, total)
	require.GreaterOrEqual(t, got, 4.0, "baresip heard %.1f s of tone in %.1f s", got, total)
	require.LessOrEqual(t, got, total-1.5, "baresip heard %.1f s of tone in %.1f s: the hold sent tone", got, total)
}
