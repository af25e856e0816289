package sip

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWebRTC_OfferMustBeDTLSSRTP(t *testing.T) {
	for _, tc := range []struct {
		name, sdp, want string
	}{
		{"webrtc", "v=0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 0 101\r\n", ""},
		{"plain", "v=0\r\nm=audio 40000 RTP/AVP 0\r\n", "offers RTP/AVP audio"},
		{"sdes", "v=0\r\nm=audio 40000 RTP/SAVP 0\r\n", "offers RTP/SAVP audio"},
		{"no offer", "", "no SDP offer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := offerIsWebrtc([]byte(tc.sdp))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestWebRTC_CandidatesFollowTheBindAddress: a loopback phone gathers and
// accepts only loopback candidates (tests never send media off
// 127.0.0.1); a phone bound to one address gathers only there.
func TestWebRTC_CandidatesFollowTheBindAddress(t *testing.T) {
	lo, lan, other := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")
	for _, tc := range []struct {
		bind                string
		loopback            bool
		localOK, remoteOK   []netip.Addr
		localBad, remoteBad []netip.Addr
	}{
		{bind: "127.0.0.1", loopback: true, localOK: []netip.Addr{lo}, localBad: []netip.Addr{lan}, remoteOK: []netip.Addr{lo}, remoteBad: []netip.Addr{lan}},
		{bind: "192.0.2.10", localOK: []netip.Addr{lan}, localBad: []netip.Addr{other, lo}},
		{bind: "0.0.0.0"},
	} {
		t.Run(tc.bind, func(t *testing.T) {
			p, err := New(Config{Account: Account{User: "1", Domain: "pbx.example.com", Transport: TransportWS}, BindHost: tc.bind, BindPort: 5070})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, p.Close()) })
			conf := p.webrtcConfig()
			require.Equal(t, tc.loopback, conf.IncludeLoopback)
			require.Equal(t, uint16(10000), conf.PortMin)
			require.Equal(t, uint16(20000), conf.PortMax)
			if tc.localOK == nil && tc.localBad == nil {
				require.Nil(t, conf.IPFilter, "an unspecified bind address gathers on every interface")
			}
			for _, a := range tc.localOK {
				require.True(t, conf.IPFilter(a), "local %s", a)
			}
			for _, a := range tc.localBad {
				require.False(t, conf.IPFilter(a), "local %s", a)
			}
			for _, a := range tc.remoteOK {
				require.True(t, conf.RemoteIPFilter(a), "remote %s", a)
			}
			for _, a := range tc.remoteBad {
				require.False(t, conf.RemoteIPFilter(a), "remote %s", a)
			}
		})
	}
}
