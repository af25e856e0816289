package sip

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// BenchmarkIntegrationSRTPOptionalSetup: call setup time (Dial to
// CallActive) of an account with SRTP optional, through Kamailio, to
// baresip that takes the SRTP offer ("direct") and to baresip that refuses
// it with 488, after which the phone offers plain RTP ("fallback": two
// INVITE transactions, each challenged by Kamailio). Reports the median and
// worst setup in ms.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench SRTPOptionalSetup ./sip/
func BenchmarkIntegrationSRTPOptionalSetup(b *testing.B) {
	k := siptest.StartKamailio(b, callUsers)
	peers := map[string]*siptest.Baresip{
		"direct":   siptest.StartBaresip(b, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz, MediaEnc: "srtp-mand"}),
		"fallback": siptest.StartBaresip(b, siptest.BaresipOptions{User: "bob", Password: "bob123", Proxy: k.Addr(), ToneHz: baresipHz}),
	}
	p := startPhone(b, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.SRTP = SRTPOptional })
	p.ev.waitReg(b, RegRegistered, 0)

	for _, tc := range []struct{ name, callee string }{{"direct", "alice"}, {"fallback", "bob"}} {
		b.Run(tc.name, func(b *testing.B) {
			var setups []float64
			peer := peers[tc.name]
			for b.Loop() {
				closed := peer.Count("CALL_CLOSED")
				c, err := p.Dial(tc.callee)
				require.NoError(b, err)
				p.ev.waitCall(b, c, CallActive, 20*time.Second)
				info := c.Info()
				require.Equal(b, tc.name == "direct", info.Encrypted)
				setups = append(setups, float64(info.Answered.Sub(info.Created).Microseconds())/1000)
				require.NoError(b, c.Hangup())
				p.ev.waitCall(b, c, CallEnded, 20*time.Second)
				peer.WaitCount(b, "CALL_CLOSED", closed+1, 10*time.Second)
			}
			slices.Sort(setups)
			b.ReportMetric(setups[len(setups)/2], "setup-p50-ms")
			b.ReportMetric(setups[len(setups)-1], "setup-max-ms")
		})
	}
}
