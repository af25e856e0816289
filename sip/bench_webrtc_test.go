package sip

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// BenchmarkIntegrationWebRTC_CallSetup times Dial → CallActive (200 OK and
// ACK, and for WebRTC also ICE and the DTLS handshake with rtpengine) of
// calls to baresip through one Kamailio: from a phone on ws with WebRTC
// media bridged by rtpengine, and, as the anchor in the same run, from a
// phone on UDP with plain RTP (not anchored). One call at a time; each is
// hung up and closed at baresip before the next. The feasibility study
// measured ~213 ms for diago WebRTC through rtpengine (feasibility-sip.md
// §7). The machine's two cores are shared, so the figures are noisy.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench WebRTC_CallSetup -benchtime 20x ./sip/
func BenchmarkIntegrationWebRTC_CallSetup(b *testing.B) {
	k := siptest.StartKamailioWS(b, callUsers, siptest.WSOptions{RTPEngine: true})
	alice := siptest.StartBaresip(b, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	require.Eventually(b, func() bool { return k.Registered("alice") }, 10*time.Second, 50*time.Millisecond)
	closed := 0
	for _, tc := range []struct {
		name, user, password string
		mutate               func(*Config)
	}{
		{"udp", "bob", "bob123", nil},
		{"webrtc", "gouac", "go123", overWS(k, TransportWS)},
	} {
		p := startPhone(b, k.Kamailio, tc.user, tc.password, phoneHz, tc.mutate)
		p.ev.waitReg(b, RegRegistered, 0)
		setups := make([]float64, 0, b.N)
		for range b.N {
			start := time.Now()
			c, err := p.Dial("alice")
			require.NoError(b, err)
			p.ev.waitCall(b, c, CallActive, 20*time.Second)
			setups = append(setups, float64(time.Since(start).Microseconds())/1000)
			require.NoError(b, c.Hangup())
			p.ev.waitCall(b, c, CallEnded, 20*time.Second)
			closed++
			alice.WaitCount(b, "CALL_CLOSED", closed, 20*time.Second)
		}
		slices.Sort(setups)
		b.ReportMetric(setups[len(setups)/2], tc.name+"-setup-p50-ms")
		b.ReportMetric(setups[len(setups)-1], tc.name+"-setup-max-ms")
	}
}
