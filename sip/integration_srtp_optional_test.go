package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationSRTP_Optional: an account with SRTP optional talks to an
// SRTP-only peer (baresip mediaenc=srtp-mand: encrypted), a plain peer
// (baresip without mediaenc, which refuses our SRTP offer with 488: the
// call falls back to plain RTP without a failure in between) and a
// best-effort peer (baresip mediaenc=srtp: RTP/AVP with a=crypto), in both
// directions, with audio both ways. The events and Info say whether the
// call is encrypted. The call setup time (Dial to CallActive) is logged.
func TestIntegrationSRTP_Optional(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mediaEnc  string
		dir       Direction
		encrypted bool
		offers    int // outgoing: INVITEs sent (1, or 2 after a fallback)
	}{
		{"SRTP-only peer, outgoing", "srtp-mand", Outbound, true, 1},
		{"SRTP-only peer, incoming", "srtp-mand", Inbound, true, 0},
		{"plain peer, outgoing falls back", "", Outbound, false, 2},
		{"plain peer, incoming", "", Inbound, false, 0},
		{"best-effort peer, outgoing", "srtp", Outbound, true, 1}, // baresip takes our RTP/SAVP offer
		{"best-effort peer, incoming answered plain", "srtp", Inbound, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := siptest.StartKamailio(t, callUsers)
			alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz, MediaEnc: tc.mediaEnc})
			p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.SRTP = SRTPOptional })
			p.ev.waitReg(t, RegRegistered, 0)

			c := connect(t, k, p, alice, tc.dir)
			if info := c.Info(); tc.dir == Outbound {
				t.Logf("call setup (Dial to CallActive) %s: %v", tc.name, info.Answered.Sub(info.Created).Round(time.Millisecond))
			}
			active := p.ev.waitCall(t, c, CallActive, 0)
			require.Equal(t, tc.encrypted, active.Encrypted, "CallActive event")
			require.Equal(t, tc.encrypted, c.Info().Encrypted, "Info")
			// Kamailio challenges each INVITE (407), so an offer is two.
			require.Equal(t, 2*tc.offers, k.Proc.CountLog("REQ INVITE sip:alice@"), "INVITEs to the callee")
			// Talk until the phone has heard 3 s of baresip (both ways are
			// checked for 2 s below), however slowly a loaded machine runs.
			waitTone(t, "phone received", func() []int16 { return p.dev.heardSince(0) }, baresipHz, 3, 20*time.Second)
			cause := CauseLocalHangup
			if tc.dir == Outbound {
				// The callee's BYE reaches us at the Contact of the offer
				// it took (after a fallback: the plain transport's port).
				alice.Command("hangup", "")
				cause = CauseRemoteHangup
			} else {
				require.NoError(t, c.Hangup())
			}
			ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
			alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))
			require.Equal(t, cause, ended.Cause)
			require.Equal(t, tc.encrypted, ended.Encrypted, "CallEnded event")

			p.ev.mu.Lock()
			states := summarize(p.ev.calls)
			p.ev.mu.Unlock()
			for i, st := range states {
				require.Equal(t, i == len(states)-1, strings.HasPrefix(st, CallEnded.String()), "one call, no failure in between: %v", states)
			}
			requireTwoWayTone(t, p, alice, 2)
		})
	}
}

// TestIntegrationSRTP_OptionalAnswerMirrorsBestEffortOffer: SIPp offers
// RTP/AVP with a=crypto (best-effort SRTP), in the INVITE and again in a
// re-INVITE; the scenario fails unless each answer is RTP/AVP without
// a=crypto (RFC 3264 §6: the answer's profile mirrors the offer's).
func TestIntegrationSRTP_OptionalAnswerMirrorsBestEffortOffer(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.SRTP = SRTPOptional })
	p.ev.waitReg(t, RegRegistered, 0)
	// The scenario fails when an answer does not mirror the RTP/AVP offer.
	sipp := startSIPpUAC(t, k, "uac-best-effort-srtp.xml", "gouac")

	c := p.ev.waitIncoming(t, 1)
	require.NoError(t, c.Answer())
	active := p.ev.waitCall(t, c, CallActive, 20*time.Second)
	require.False(t, active.Encrypted)
	p.ev.waitCall(t, c, CallEnded, 30*time.Second)
	sipp.wait(t)
}

// TestIntegrationSRTP_OptionalOverTLS: two phones over TLS (where SDES
// belongs), one with SRTP optional. Against "off" the optional caller falls
// back to plain RTP from its second transport, and the callee's in-dialog
// requests (hold and resume re-INVITEs, BYE) reach it at that transport's
// Contact; against "required" the call is encrypted. Audio both ways.
func TestIntegrationSRTP_OptionalOverTLS(t *testing.T) {
	for _, tc := range []struct {
		name           string
		caller, callee SRTPPolicy
		encrypted      bool
	}{
		{"optional calls off: falls back", SRTPOptional, SRTPOff, false},
		{"optional calls required", SRTPOptional, SRTPRequired, true},
		{"required calls optional", SRTPRequired, SRTPOptional, true},
		{"off calls optional", SRTPOff, SRTPOptional, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := siptest.StartKamailioTLS(t, callUsers)
			policy := func(s SRTPPolicy) func(*Config) { return func(c *Config) { c.Account.SRTP = s } }
			caller, callee, c, in := callOverTLS(t, k, policy(tc.caller), policy(tc.callee))
			require.Equal(t, tc.encrypted, caller.ev.waitCall(t, c, CallActive, 20*time.Second).Encrypted, "caller")
			require.Equal(t, tc.encrypted, callee.ev.waitCall(t, in, CallActive, 20*time.Second).Encrypted, "callee")
			time.Sleep(2 * time.Second)

			// The callee holds and resumes; so does the caller.
			ctx := siptest.Ctx(t, 30*time.Second)
			for _, side := range []*Call{in, c} {
				require.NoError(t, side.Hold(ctx))
				require.NoError(t, side.Resume(ctx))
			}
			require.Equal(t, CallActive, c.State())
			mark := caller.dev.heardLen()
			waitTone(t, "caller heard after hold and resume", func() []int16 { return caller.dev.heardSince(mark) }, baresipHz, 1.2, 15*time.Second)
			waitTone(t, "callee heard", func() []int16 { return callee.dev.heardSince(0) }, phoneHz, 2.5, 15*time.Second)
			require.NoError(t, in.Hangup())
			ended := caller.ev.waitCall(t, c, CallEnded, 20*time.Second)
			require.Equal(t, CauseRemoteHangup, ended.Cause)
			require.Equal(t, tc.encrypted, c.Info().Encrypted)
		})
	}
}

// TestIntegrationSRTP_OptionalAnswerIn183: the callee takes the SRTP offer
// in a 183 with SDP and its 200 carries none, so the 183's SDP is the
// answer: the call is reported encrypted.
func TestIntegrationSRTP_OptionalAnswerIn183(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"gouac": "go123", "sippuas": "uas123"})
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.SRTP = SRTPOptional })
	p.ev.waitReg(t, RegRegistered, 0)
	uas := startSIPpUAS(t, k, "uas-early-srtp.xml")

	c, err := p.Dial("sippuas")
	require.NoError(t, err)
	require.True(t, p.ev.waitCall(t, c, CallRinging, 20*time.Second).EarlyMedia)
	require.True(t, p.ev.waitCall(t, c, CallActive, 20*time.Second).Encrypted)
	require.True(t, c.Info().Encrypted)
	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	uas.wait(t)
	// The scenario takes the ACK and the BYE in either order (Kamailio's
	// UDP workers may swap them): the ACK is checked where it passed.
	require.Eventually(t, func() bool { return k.Proc.CountLog("REQ ACK", c.SIPCallID()) > 0 },
		5*time.Second, 50*time.Millisecond, "the 200 was not ACKed")
}
