package sip

import (
	"testing"
	"time"

	"github.com/omniphone/omniphone/sip/siptest"
)

// BenchmarkIntegrationSIPpFlood floods the phone with 100 INVITEs/s for
// 30 s (OMNIPHONE_FLOOD_SECONDS), first straight at its port, then through
// Kamailio, and reports the process's RSS before, at its peak during and
// after each flood, with how many INVITEs rang and were refused. The phone
// must stay registered and answer OPTIONS (flood checks that). One run;
// the machine's other jobs make the figures noisy.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench SIPpFlood -benchtime=1x ./sip/
func BenchmarkIntegrationSIPpFlood(b *testing.B) {
	seconds := envInt("OMNIPHONE_FLOOD_SECONDS", 30)
	const rate = 100
	k := siptest.StartKamailio(b, callUsers)
	for range b.N {
		p, pingPort, rings := hostilePhone(b, k)
		for _, tt := range []struct{ name, target string }{{"direct", p.LocalAddr()}, {"proxy", k.Addr()}} {
			r := flood(b, k, p, pingPort, rings, "sipp-flood-"+tt.name, tt.target, rate, seconds)
			b.Logf("%s flood %d/s for %d s: %s", tt.name, rate, seconds, r)
			mib := func(v int64) float64 { return float64(v) / (1 << 20) }
			b.ReportMetric(mib(r.rssBefore), tt.name+"-rss-before-MiB")
			b.ReportMetric(mib(r.rssPeak), tt.name+"-rss-peak-MiB")
			b.ReportMetric(mib(r.rssAfter), tt.name+"-rss-after-MiB")
			b.ReportMetric(float64(r.rings), tt.name+"-rang")
			b.ReportMetric(float64(r.stats.Forbidden+r.stats.Limited+r.stats.Dropped), tt.name+"-refused")
		}
	}
}

// BenchmarkIntegrationRegistrarReturn stops Kamailio under a registered
// phone and starts it again, and reports the time from Kamailio answering
// again to the phone's binding being back in its location table (goal
// ≤ 5 s; the test uses a 1 s keep-alive, see resilientConfig).
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -run '^$' -bench RegistrarReturn -benchtime=1x ./sip/
func BenchmarkIntegrationRegistrarReturn(b *testing.B) {
	var total time.Duration
	for range b.N {
		total += registrarReturn(b, TransportUDP)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "reregister-s")
}
