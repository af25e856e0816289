package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// overWS points a test phone at Kamailio's ws listener, or its wss one
// trusting the test's CA.
func overWS(k *siptest.KamailioWS, tr Transport) func(*Config) {
	return func(c *Config) {
		c.Account.Transport = tr
		c.Account.Domain = k.WSAddr()
		if tr == TransportWSS {
			c.Account.Domain, c.Account.CAFile = k.WSSAddr(), k.CAFile
		}
	}
}

// startKamailioFor starts Kamailio for phones on tr: with WebSocket and
// rtpengine for ws and wss. setTransport points a phone's config at it.
func startKamailioFor(t testing.TB, users map[string]string, tr Transport) (k *siptest.Kamailio, setTransport func(*Config)) {
	t.Helper()
	if tr.webrtc() {
		kw := siptest.StartKamailioWS(t, users, siptest.WSOptions{RTPEngine: true})
		return kw.Kamailio, overWS(kw, tr)
	}
	return siptest.StartKamailio(t, users), func(c *Config) { c.Account.Transport = tr }
}

// startWebrtcPeers starts Kamailio with WebSocket (and rtpengine when opts
// ask), baresip as alice (answering as answerMode says: "" is auto) and
// the phone as gouac on tr, and waits until both are registered.
func startWebrtcPeers(t *testing.T, tr Transport, opts siptest.WSOptions, answerMode string) (*siptest.KamailioWS, *siptest.Baresip, *testPhone) {
	t.Helper()
	k := siptest.StartKamailioWS(t, callUsers, opts)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz, AnswerMode: answerMode})
	p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, overWS(k, tr))
	p.ev.waitReg(t, RegRegistered, 0)
	require.Eventually(t, func() bool { return k.Registered("alice") }, 10*time.Second, 50*time.Millisecond)
	return k, alice, p
}

// TestIntegrationWebRTC_RegisterOverWebSocket: accounts on ws and on wss
// (certificate verified against the test's CA) register with Kamailio's
// WebSocket listeners, and Kamailio saw the REGISTERs arrive over them.
func TestIntegrationWebRTC_RegisterOverWebSocket(t *testing.T) {
	k := siptest.StartKamailioWS(t, callUsers, siptest.WSOptions{})
	for _, tr := range []Transport{TransportWS, TransportWSS} {
		t.Run(string(tr), func(t *testing.T) {
			before := k.Proc.CountLog("REQ REGISTER", "proto="+string(tr))
			p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, overWS(k, tr))
			p.ev.waitReg(t, RegRegistered, 0)
			require.True(t, k.Registered("gouac"))
			require.Greater(t, k.Proc.CountLog("REQ REGISTER", "proto="+string(tr)), before, "the REGISTER came over %s", tr)
		})
	}
}

// TestIntegrationWebRTC_WebSocketPath: the account's WebSocket path is the
// one the gateway sees in the upgrade request, on ws and wss.
func TestIntegrationWebRTC_WebSocketPath(t *testing.T) {
	k := siptest.StartKamailioWS(t, callUsers, siptest.WSOptions{})
	for _, tr := range []Transport{TransportWS, TransportWSS} {
		t.Run(string(tr), func(t *testing.T) {
			path := "/sip-" + string(tr) + "?client=omniphone"
			p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, func(c *Config) {
				overWS(k, tr)(c)
				c.Account.WSPath = path
			})
			p.ev.waitReg(t, RegRegistered, 0)
			require.Equal(t, 1, k.Proc.CountLog("HTTP GET "+path+" from"), "the upgrade asked for %s", path)
		})
	}
}

// TestIntegrationWebRTC_UntrustedWSSCertificateSaysSo: wss verifies the
// gateway's certificate like tls does.
func TestIntegrationWebRTC_UntrustedWSSCertificateSaysSo(t *testing.T) {
	k := siptest.StartKamailioWS(t, callUsers, siptest.WSOptions{})
	p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, func(c *Config) {
		overWS(k, TransportWSS)(c)
		c.Account.CAFile = ""
	})
	ev := p.ev.waitReg(t, RegFailed, 0)
	require.ErrorIs(t, ev.Err, ErrTLSUntrusted)
}

// TestIntegrationWebRTC_CallOutThroughRTPEngine: a WebRTC call (ICE,
// DTLS-SRTP over SIP/WebSocket) from the phone through Kamailio, whose
// rtpengine bridges it to baresip's plain RTP; the tone is checked both
// ways, and the callee hangs up.
func TestIntegrationWebRTC_CallOutThroughRTPEngine(t *testing.T) {
	for _, tr := range []Transport{TransportWS, TransportWSS} {
		t.Run(string(tr), func(t *testing.T) {
			k, alice, p := startWebrtcPeers(t, tr, siptest.WSOptions{RTPEngine: true}, "")

			c, err := p.Dial("alice")
			require.NoError(t, err)
			p.ev.waitCall(t, c, CallRinging, 20*time.Second)
			active := p.ev.waitCall(t, c, CallActive, 20*time.Second)
			require.Equal(t, "alice", active.AnsweredBy)
			alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))

			time.Sleep(3 * time.Second)
			// RFC 4733 digits pass rtpengine to baresip.
			require.NoError(t, c.SendDTMF("7#"))
			for _, d := range []string{"7", "#"} {
				alice.WaitEvent(t, 10*time.Second, func(ev map[string]any) bool {
					return ev["type"] == "CALL_DTMF_START" && ev["param"] == d
				})
			}
			alice.Command("hangup", "")
			ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
			require.Equal(t, CauseRemoteHangup, ended.Cause)

			requireTwoWayTone(t, p, alice, 2)
			// rtpengine bridged DTLS-SRTP to plain RTP: our leg was WebRTC.
			require.Positive(t, k.RTPEngine.Proc.CountLog("DTLS-SRTP successfully negotiated"), "rtpengine negotiated DTLS-SRTP with the phone")
		})
	}
}

// TestIntegrationWebRTC_CallInThroughRTPEngine: baresip (plain RTP) calls
// the phone registered over ws; rtpengine offers it WebRTC, the phone
// answers, the tone is checked both ways, baresip's digits arrive, and
// the phone hangs up.
func TestIntegrationWebRTC_CallInThroughRTPEngine(t *testing.T) {
	k, alice, p := startWebrtcPeers(t, TransportWS, siptest.WSOptions{RTPEngine: true}, "")

	alice.Command("dial", "sip:gouac@"+k.Addr())
	c := p.ev.waitIncoming(t, 1)
	require.Equal(t, "alice", c.Remote())
	require.NoError(t, c.Answer())
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))

	time.Sleep(3 * time.Second)
	// RFC 4733 digits from baresip reach us through rtpengine and DTLS-SRTP.
	for _, d := range []string{"3", "*"} {
		alice.Command("sndcode", d)
		time.Sleep(300 * time.Millisecond)
	}
	p.ev.wait(t, 10*time.Second, "DTMF 3*", func() bool { return len(p.ev.dtmf) >= 2 })
	require.Equal(t, "3*", p.ev.digits())
	require.NoError(t, c.Hangup())
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseLocalHangup, ended.Cause)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))

	requireTwoWayTone(t, p, alice, 2)
}

// TestIntegrationWebRTC_NoMediaBridgeMeans488: without rtpengine Kamailio
// passes SDP unchanged between the phone on ws and baresip (plain RTP).
// baresip's plain offer gets 488 from the phone, and the call never rings;
// the phone's WebRTC offer gets 488 from baresip, and the call ends as
// failed with that status.
func TestIntegrationWebRTC_NoMediaBridgeMeans488(t *testing.T) {
	k, alice, p := startWebrtcPeers(t, TransportWS, siptest.WSOptions{}, "")

	alice.Command("dial", "sip:gouac@"+k.Addr())
	closed := alice.WaitEvent(t, 10*time.Second, func(ev map[string]any) bool {
		return ev["type"] == "CALL_CLOSED" && strings.Contains(fmt.Sprint(ev["param"]), "488")
	})
	t.Logf("baresip: %v", closed["param"])
	require.Positive(t, k.Proc.CountLog("REQ INVITE sip:gouac@", "proto=udp"), "the INVITE reached Kamailio")
	require.Empty(t, p.Calls())
	p.ev.mu.Lock()
	require.Empty(t, p.ev.in, "a refused offer does not ring")
	p.ev.mu.Unlock()

	c, err := p.Dial("alice")
	require.NoError(t, err)
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseFailed, ended.Cause)
	require.Equal(t, 488, ended.SIPCode)
}

// TestIntegrationWebRTC_PhoneToPhoneOverWS: two phones on ws call each
// other through Kamailio without rtpengine (both legs are WebRTC, so
// media goes straight between them, ICE on 127.0.0.1); tone both ways,
// and the callee's hang-up ends the caller's call.
func TestIntegrationWebRTC_PhoneToPhoneOverWS(t *testing.T) {
	k := siptest.StartKamailioWS(t, callUsers, siptest.WSOptions{})
	caller := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, overWS(k, TransportWS))
	callee := startPhone(t, k.Kamailio, "bob", "bob123", baresipHz, overWS(k, TransportWSS))
	caller.ev.waitReg(t, RegRegistered, 0)
	callee.ev.waitReg(t, RegRegistered, 0)

	c, err := caller.Dial("bob")
	require.NoError(t, err)
	in := callee.ev.waitIncoming(t, 1)
	caller.ev.waitCall(t, c, CallRinging, 10*time.Second)
	require.NoError(t, in.Answer())
	caller.ev.waitCall(t, c, CallActive, 20*time.Second)
	time.Sleep(3 * time.Second)
	require.NoError(t, in.Hangup())
	ended := caller.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseRemoteHangup, ended.Cause)
	requireTone(t, "caller heard", caller.dev.heardSince(0), SampleRate, baresipHz, 2)
	requireTone(t, "callee heard", callee.dev.heardSince(0), SampleRate, phoneHz, 2)
}

// TestIntegrationWebRTC_CancelAndDecline: a WebRTC call that rings at
// baresip (through rtpengine) ends as cancelled when the phone hangs up
// before the answer, and as declined when baresip rejects the next one.
func TestIntegrationWebRTC_CancelAndDecline(t *testing.T) {
	_, alice, p := startWebrtcPeers(t, TransportWS, siptest.WSOptions{RTPEngine: true}, "manual")

	c, err := p.Dial("alice")
	require.NoError(t, err)
	p.ev.waitCall(t, c, CallRinging, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_INCOMING"))
	require.NoError(t, c.Hangup())
	require.Equal(t, CauseCancelled, p.ev.waitCall(t, c, CallEnded, 20*time.Second).Cause)
	alice.WaitCount(t, "CALL_CLOSED", 1, 10*time.Second)

	c, err = p.Dial("alice")
	require.NoError(t, err)
	p.ev.waitCall(t, c, CallRinging, 20*time.Second)
	alice.WaitCount(t, "CALL_INCOMING", 2, 10*time.Second)
	alice.Command("hangup", "")
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	t.Logf("declined: %v, %d %s", ended.Cause, ended.SIPCode, ended.Reason)
	require.Equal(t, CauseBusy, ended.Cause, "baresip's hangup of a ringing call answers 486")
	require.Empty(t, p.Calls())
}
