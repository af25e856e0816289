package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// BenchmarkIntegrationCallCPU measures the CPU one live call costs, Opus
// against PCMU in the same run (issue 10): the phone calls baresip through
// Kamailio (one codec on each side), and the process CPU time (getrusage)
// over OMNIPHONE_BENCH_CALL_SECONDS (default 10) of talk, minus the same
// span registered but idle, is reported as % of one core; baresip's own CPU
// (/proc) over the call is the anchor. The tones are checked both ways, so
// a silent call cannot pass. Noisy on a shared 2-core machine.
//
//	OMNIPHONE_REQUIRE_PEERS=1 go test -tags with_opus_c -run '^$' -bench CallCPU -benchtime=1x ./sip/
func BenchmarkIntegrationCallCPU(b *testing.B) {
	if !opusBuiltIn {
		b.Skip("Opus is not built in (no with_opus_c tag)")
	}
	span := time.Duration(envInt("OMNIPHONE_BENCH_CALL_SECONDS", 10)) * time.Second
	k := siptest.StartKamailio(b, callUsers)
	for _, codec := range []struct{ ours, theirs string }{{CodecPCMU, "PCMU"}, {CodecOpus, baresipOpus}} {
		b.Run(codec.ours, func(b *testing.B) {
			for range b.N {
				ours, anchor := callCPU(b, k, codec.ours, codec.theirs, span)
				b.ReportMetric(ours, "cpu%/call")
				b.ReportMetric(anchor, "baresip-cpu%/call")
			}
		})
	}
}

// callCPU runs one call with codec and returns the % of one core the
// phone's process and baresip spent on it.
func callCPU(b *testing.B, k *siptest.Kamailio, ours, theirs string, span time.Duration) (float64, float64) {
	alice := siptest.StartBaresip(b, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(),
		ToneHz: baresipHz, Codecs: []string{theirs}, OpusTone: ours == CodecOpus})
	p := startPhone(b, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.Codecs = []string{ours} })
	p.ev.waitReg(b, RegRegistered, 0)
	percent := func(cpu, wall time.Duration) float64 { return 100 * cpu.Seconds() / wall.Seconds() }

	cpu0, t0 := selfCPU(), time.Now()
	time.Sleep(span / 2)
	idle := percent(selfCPU()-cpu0, time.Since(t0))

	c, err := p.Dial("alice")
	require.NoError(b, err)
	p.ev.waitCall(b, c, CallActive, 20*time.Second)
	alice.WaitEvent(b, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))
	require.Equal(b, ours, c.Codec())
	time.Sleep(time.Second) // past call setup
	pid := alice.Proc.Pid()
	mark := p.dev.heardLen()
	cpu1, anchor1, t1 := selfCPU(), procCPU(b, pid), time.Now()
	time.Sleep(span)
	wall := time.Since(t1)
	busy := percent(selfCPU()-cpu1, wall)
	anchor := percent(procCPU(b, pid)-anchor1, wall)
	require.NoError(b, c.Hangup())
	p.ev.waitCall(b, c, CallEnded, 20*time.Second)
	alice.WaitEvent(b, 10*time.Second, siptest.EvType("CALL_CLOSED"))

	heard := siptest.ToneSeconds(p.dev.heardSince(mark), baresipHz, SampleRate)
	require.Greater(b, heard, span.Seconds()/2, "the phone heard %.1f s of baresip's tone", heard)
	rx, rate := siptest.ReadWAV(b, alice.DecodedRecording(b), 0)
	require.Greater(b, siptest.ToneSeconds(rx, phoneHz, rate), span.Seconds()/2, "baresip heard our tone")
	b.Logf("%s: phone %.2f%% of a core during the call, %.2f%% idle → %.2f%% per call; baresip %.2f%%",
		ours, busy, idle, busy-idle, anchor)
	return busy - idle, anchor
}
