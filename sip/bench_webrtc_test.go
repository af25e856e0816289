package sip

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// benchPhone is a phone of the WebRTC benchmarks, named by its media.
type benchPhone struct {
	name string
	*testPhone
}

// webrtcBenchPeers starts Kamailio (ws, rtpengine) and baresip as alice,
// and two phones calling her: "udp" (plain RTP, not anchored: the anchor)
// and "webrtc" (on ws, bridged by rtpengine), both registered.
func webrtcBenchPeers(b *testing.B) (*siptest.KamailioWS, *siptest.Baresip, []benchPhone) {
	k := siptest.StartKamailioWS(b, callUsers, siptest.WSOptions{RTPEngine: true})
	alice := siptest.StartBaresip(b, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	require.Eventually(b, func() bool { return k.Registered("alice") }, 10*time.Second, 50*time.Millisecond)
	phones := []benchPhone{
		{"udp", startPhone(b, k.Kamailio, "bob", "bob123", phoneHz, nil)},
		{"webrtc", startPhone(b, k.Kamailio, "gouac", "go123", phoneHz, overWS(k, TransportWS))},
	}
	for _, p := range phones {
		p.ev.waitReg(b, RegRegistered, 0)
	}
	return k, alice, phones
}

// benchCall dials alice and waits until the call is active; hangup ends
// it and waits until baresip has closed it (its closed-th call).
func benchCall(b *testing.B, p benchPhone, alice *siptest.Baresip, closed int) (time.Duration, func()) {
	start := time.Now()
	c, err := p.Dial("alice")
	require.NoError(b, err)
	p.ev.waitCall(b, c, CallActive, 20*time.Second)
	setup := time.Since(start)
	return setup, func() {
		require.NoError(b, c.Hangup())
		p.ev.waitCall(b, c, CallEnded, 20*time.Second)
		alice.WaitCount(b, "CALL_CLOSED", closed, 20*time.Second)
	}
}

// BenchmarkIntegrationWebRTC_CallSetup times Dial → CallActive (200 OK and
// ACK, and for WebRTC also ICE and the DTLS handshake with rtpengine) of
// calls to baresip through one Kamailio: from a phone on ws with WebRTC
// media bridged by rtpengine, and, as the anchor in the same run, from a
// phone on UDP with plain RTP. One call at a time; each is hung up and
// closed at baresip before the next. The feasibility study measured
// ~213 ms for diago WebRTC through rtpengine (feasibility-sip.md §7). The
// machine's two cores are shared, so the figures are noisy.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench WebRTC_CallSetup -benchtime 20x ./sip/
func BenchmarkIntegrationWebRTC_CallSetup(b *testing.B) {
	_, alice, phones := webrtcBenchPeers(b)
	closed := 0
	for _, p := range phones {
		setups := make([]float64, 0, b.N)
		for range b.N {
			setup, hangup := benchCall(b, p, alice, closed+1)
			setups = append(setups, float64(setup.Microseconds())/1000)
			hangup()
			closed++
		}
		slices.Sort(setups)
		b.ReportMetric(setups[len(setups)/2], p.name+"-setup-p50-ms")
		b.ReportMetric(setups[len(setups)-1], p.name+"-setup-max-ms")
	}
}

// BenchmarkIntegrationWebRTC_CallCPU measures the CPU of one talking call
// (20 ms frames both ways) over OMNIPHONE_BENCH_SECONDS (default 10): in
// this process, which holds the phone, for the plain UDP call (the anchor)
// and the WebRTC one (SRTP and ICE consent on top), and in rtpengine,
// which bridges the WebRTC call. Figures are % of one core; the machine's
// two cores are shared, so they are noisy.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench WebRTC_CallCPU -benchtime 1x ./sip/
func BenchmarkIntegrationWebRTC_CallCPU(b *testing.B) {
	k, alice, phones := webrtcBenchPeers(b)
	talk := time.Duration(envInt("OMNIPHONE_BENCH_SECONDS", 10)) * time.Second
	rtpengine := k.RTPEngine.Proc.Pid()
	closed := 0
	for _, p := range phones {
		var self, relay time.Duration
		for range b.N {
			_, hangup := benchCall(b, p, alice, closed+1)
			time.Sleep(500 * time.Millisecond) // past the handshakes
			self0, relay0 := selfCPU(), procCPU(b, rtpengine)
			time.Sleep(talk)
			self += selfCPU() - self0
			relay += procCPU(b, rtpengine) - relay0
			hangup()
			closed++
		}
		total := talk.Seconds() * float64(b.N)
		b.ReportMetric(100*self.Seconds()/total, p.name+"-phone-cpu%")
		b.ReportMetric(100*relay.Seconds()/total, p.name+"-rtpengine-cpu%")
	}
}
