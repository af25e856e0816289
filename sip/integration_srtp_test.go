package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationSRTP_RequiredTalksToAnSRTPOnlyPeer: baresip accepts only
// RTP/SAVP (mediaenc=srtp-mand), so a call with audio both ways proves the
// media was SRTP with SDES keys both sides understood.
func TestIntegrationSRTP_RequiredTalksToAnSRTPOnlyPeer(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz, MediaEnc: "srtp-mand"})
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.SRTP = SRTPRequired })
	p.ev.waitReg(t, RegRegistered, 0)

	c := connect(t, k, p, alice, Outbound)
	waitTone(t, "phone received (decrypted)", func() []int16 { return p.dev.heardSince(0) }, baresipHz, 3.5, 20*time.Second)
	hangUp(t, p, alice, c)

	requireTone(t, "phone received (decrypted)", p.dev.heardSince(0), SampleRate, baresipHz, 2.5)
	rx, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
	requireTone(t, "baresip received (decrypted)", rx, rate, phoneHz, 2.5)
}

// TestIntegrationSRTP_PolicyMismatchIsRefused: with SRTP off, an SRTP-only
// peer refuses our plain offer, and we refuse its encrypted one with 488
// without ringing.
func TestIntegrationSRTP_PolicyMismatchIsRefused(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz, MediaEnc: "srtp-mand"})
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)

	c, err := p.Dial("alice")
	require.NoError(t, err)
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, 488, ended.SIPCode, "baresip refuses plain RTP: %s", ended.Reason)

	alice.Command("dial", "sip:gouac@"+k.Addr())
	closed := alice.WaitEvent(t, 20*time.Second, func(ev map[string]any) bool {
		return ev["type"] == "CALL_CLOSED" && ev["direction"] == "outgoing"
	})
	require.Contains(t, closed["param"], "488", "baresip's call was answered 488: %v", closed)
	p.ev.mu.Lock()
	rang := len(p.ev.in)
	p.ev.mu.Unlock()
	require.Zero(t, rang, "an offer we cannot accept never rings")
}

func TestSRTP_OfferMatchesPolicy(t *testing.T) {
	plain := []byte("v=0\r\nm=audio 4000 RTP/AVP 0 8\r\n")
	secure := []byte("v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n")
	bestEffort := []byte("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n")
	keyless := []byte("v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:x\r\n")
	dtls := []byte("v=0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 AA\r\n")
	for _, tc := range []struct {
		name   string
		sdp    []byte
		policy SRTPPolicy
		ok     bool
	}{
		{"plain, off", plain, SRTPOff, true},
		{"secure, required", secure, SRTPRequired, true},
		{"plain, required", plain, SRTPRequired, false},
		{"secure, off", secure, SRTPOff, false},
		{"no offer", nil, SRTPRequired, true},
		{"garbage", []byte("m=audio\r\n\x00\xff"), SRTPRequired, true},
		{"plain, optional", plain, SRTPOptional, true},
		{"secure, optional", secure, SRTPOptional, true},
		{"best effort, optional", bestEffort, SRTPOptional, true},
		{"best effort, off (crypto ignored)", bestEffort, SRTPOff, true},
		{"best effort, required", bestEffort, SRTPRequired, false},
		{"SAVP without a key diago uses, optional", keyless, SRTPOptional, false},
		{"SAVP without a key diago uses, required", keyless, SRTPRequired, false},
		{"DTLS-SRTP, optional", dtls, SRTPOptional, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := offerMatchesSRTP(tc.sdp, tc.policy)
			require.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}
