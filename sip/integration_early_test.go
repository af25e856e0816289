package sip

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationEarlyMedia: a SIPp UAS registered at Kamailio answers our
// INVITE with 183 + SDP and streams 1 kHz for 2 s before 200 OK. The phone
// plays the early media (no ringback), then the call continues on the same
// RTP session. On ws the phone's leg is WebRTC, bridged by rtpengine.
func TestIntegrationEarlyMedia(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportWS} {
		t.Run(string(tr), func(t *testing.T) { earlyMedia(t, tr) })
	}
}

func earlyMedia(t *testing.T, tr Transport) {
	users := map[string]string{"gouac": "go123", "sippuas": "uas123"}
	k, setTransport := startKamailioFor(t, users, tr)
	p := startPhone(t, k, "gouac", "go123", phoneHz, setTransport)
	p.ev.waitReg(t, RegRegistered, 0)

	wav := filepath.Join(t.TempDir(), "tone1000-ulaw.wav")
	writeUlawWAV(t, wav, baresipHz, 2*time.Second)
	uas := startSIPpUAS(t, k, "uas-early.xml", "__WAV__", wav, "__EARLY_MS__", "2000")

	c, err := p.Dial("sippuas")
	require.NoError(t, err)
	ringing := p.ev.waitCall(t, c, CallRinging, 20*time.Second)
	require.True(t, ringing.EarlyMedia, "183 with SDP must be reported as early media")
	mark := p.dev.heardLen()
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	early := p.dev.heardSince(mark)
	requireTone(t, "early media", early, SampleRate, baresipHz, 1)
	require.Less(t, siptest.ToneSeconds(early, ringbackHz, SampleRate), 0.2, "ringback played over early media")

	mark = p.dev.heardLen()
	waitTone(t, "after the answer", func() []int16 { return p.dev.heardSince(mark) }, baresipHz, 1, 15*time.Second)
	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	uas.wait(t)
}

// TestIntegrationRingback: the callee rings (180 without SDP), so the phone
// plays the local ringback tone (425 Hz, 1 s on, 4 s off) until we give up.
func TestIntegrationRingback(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	bob := startPhone(t, k, "bob", "bob123", targetHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)
	bob.ev.waitReg(t, RegRegistered, 0)

	c, err := p.Dial("bob")
	require.NoError(t, err)
	ringing := p.ev.waitCall(t, c, CallRinging, 20*time.Second)
	require.False(t, ringing.EarlyMedia)
	in := bob.ev.waitIncoming(t, 1)
	time.Sleep(1500 * time.Millisecond)
	heard := p.dev.heardSince(0)
	requireTone(t, "ringback", heard, SampleRate, ringbackHz, 0.8)
	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	bob.ev.waitCall(t, in, CallEnded, 20*time.Second)
	// The tone stops with the call.
	n := p.dev.heardLen()
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, n, p.dev.heardLen())
}

// TestIntegrationAnswerCrossesCancel: we hang up while the callee rings,
// and its 200 OK crosses our CANCEL (a SIPp UAS that answers the INVITE
// after the CANCEL instead of 487). The phone must ACK that 200 (Kamailio
// logs it) and send BYE at once (RFC 3261 §9.1, §15; the SIPp scenario
// fails without it), and the call ends as cancelled.
func TestIntegrationAnswerCrossesCancel(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"gouac": "go123", "sippuas": "uas123"})
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)
	uas := startSIPpUAS(t, k, "uas-answer-over-cancel.xml")

	c, err := p.Dial("sippuas")
	require.NoError(t, err)
	p.ev.waitCall(t, c, CallRinging, 20*time.Second)
	require.NoError(t, c.Hangup())
	end := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseCancelled, end.Cause, end.Reason)
	uas.wait(t) // it got the BYE
	require.Eventually(t, func() bool { return k.Proc.CountLog("REQ ACK", c.SIPCallID()) > 0 },
		5*time.Second, 50*time.Millisecond, "the 200 was ACKed")
}
