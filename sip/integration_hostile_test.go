package sip

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// hostilePhone starts bob on k with a trusted OPTIONS pinger port (the
// "registrar's health check" stand-in: every other local port is a
// stranger) and an incoming handler that counts rings and rejects them.
func hostilePhone(t testing.TB, k *siptest.Kamailio) (*testPhone, int, *atomic.Int64) {
	t.Helper()
	pingPort := siptest.Port(t)
	p := startPhone(t, k, "bob", "bob123", phoneHz, func(c *Config) {
		c.Hardening.TrustedSources = []string{"127.0.0.1:" + strconv.Itoa(pingPort)}
	})
	var rings atomic.Int64
	p.OnIncoming(func(c *Call) {
		rings.Add(1)
		go func() { _ = c.Reject(486) }()
	})
	p.ev.waitReg(t, RegRegistered, 0)
	return p, pingPort, &rings
}

// runSipp runs one SIPp scenario from testdata against target and returns
// its exit code.
func runSipp(t testing.TB, name, scenario, target string, args ...string) int {
	t.Helper()
	bin := siptest.RequirePeer(t, "sipp", "sip-tester")
	dir := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	require.NoError(t, err)
	all := append([]string{target, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(siptest.Port(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(20000 + siptest.Port(t)%20000), "-nostdin", "-trace_err"}, args...)
	p := siptest.StartProc(t, name, dir, bin, all...)
	select {
	case <-p.Done():
	case <-time.After(3 * time.Minute):
		t.Fatalf("%s: SIPp did not finish", name)
	}
	return p.ExitCode()
}

// TestIntegrationGhostCall sends an INVITE straight to the phone's port
// (a scanner's "ghost call") and one through Kamailio: the first gets 403
// and never rings, the second rings.
func TestIntegrationGhostCall(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p, _, rings := hostilePhone(t, k)

	code := runSipp(t, "sipp-direct", "ghost-invite.xml", p.LocalAddr(), "-s", "bob", "-m", "1", "-timeout", "30s")
	require.Equal(t, 0, code, "SIPp got no 403 from the phone")
	require.Zero(t, rings.Load(), "a ghost call rang")
	require.EqualValues(t, 1, p.GateStats().Forbidden)

	code = runSipp(t, "sipp-proxy", "invite-flood.xml", k.Addr(), "-s", "bob", "-m", "1", "-timeout", "30s")
	require.Equal(t, 0, code, "SIPp's call through Kamailio did not end")
	require.EqualValues(t, 1, rings.Load(), "the call through Kamailio did not ring")

	// Off: the same direct INVITE rings.
	open := startPhone(t, k, "carol", "carol123", phoneHz, func(c *Config) { c.Hardening.AllowAnySource = true })
	var openRings atomic.Int64
	open.OnIncoming(func(c *Call) { openRings.Add(1); go func() { _ = c.Reject(486) }() })
	open.ev.waitReg(t, RegRegistered, 0)
	code = runSipp(t, "sipp-open", "invite-flood.xml", open.LocalAddr(), "-s", "carol", "-m", "1", "-timeout", "30s")
	require.Equal(t, 0, code)
	require.EqualValues(t, 1, openRings.Load(), "with AllowAnySource the direct call should ring")
}

// floodResult is what one INVITE flood did to the phone.
type floodResult struct {
	rssBefore, rssPeak, rssAfter int64 // bytes
	rings                        int64
	stats                        GateStats
	elapsed                      time.Duration
}

// flood sends rate INVITEs per second for seconds at target with SIPp,
// sampling the process's RSS, then checks the phone survived: still
// registered at Kamailio, answering a trusted OPTIONS, and its calls gone.
func flood(t testing.TB, k *siptest.Kamailio, p *testPhone, pingPort int, rings *atomic.Int64, name, target string, rate, seconds int) floodResult {
	t.Helper()
	before := p.GateStats()
	ringsBefore := rings.Load()
	res := floodResult{rssBefore: procRSS(t, os.Getpid())}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if r := procRSS(t, os.Getpid()); r > res.rssPeak {
					res.rssPeak = r
				}
			}
		}
	}()
	start := time.Now()
	// Exit codes are not checked: INVITEs dropped beyond the answer budget
	// end as SIPp timeouts, by design.
	runSipp(t, name, "invite-flood.xml", target, "-s", "bob", "-r", strconv.Itoa(rate),
		"-m", strconv.Itoa(rate*seconds), "-l", strconv.Itoa(rate*4), "-recv_timeout", "4000", "-timeout", strconv.Itoa(seconds+60)+"s")
	res.elapsed = time.Since(start)
	close(stop)
	wg.Wait()

	require.Eventually(t, func() bool { return len(p.Calls()) == 0 }, 30*time.Second, 100*time.Millisecond, "calls left after the flood")
	require.Equal(t, RegRegistered, p.RegState())
	require.True(t, k.Registered("bob"), "registration lost in the flood")
	require.Equal(t, 200, siptest.Options(pingPort, p.LocalAddr(), 2*time.Second), "the phone does not answer OPTIONS after the flood")
	res.rssAfter = procRSS(t, os.Getpid())
	after := p.GateStats()
	res.stats = GateStats{
		Forbidden: after.Forbidden - before.Forbidden, Limited: after.Limited - before.Limited,
		Dropped: after.Dropped - before.Dropped, Malformed: after.Malformed - before.Malformed,
	}
	res.rings = rings.Load() - ringsBefore
	return res
}

func (r floodResult) String() string {
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("%s: rings %d, 403 %d, 503 %d, dropped %d; RSS %.1f → peak %.1f → %.1f MiB",
		r.elapsed.Round(100*time.Millisecond), r.rings, r.stats.Forbidden, r.stats.Limited, r.stats.Dropped,
		mib(r.rssBefore), mib(r.rssPeak), mib(r.rssAfter))
}

// TestIntegrationFlood sends 100 INVITEs/s for 5 s straight at the phone
// and then through Kamailio (BenchmarkIntegrationSIPpFlood runs 30 s):
// the phone keeps its registration, answers OPTIONS, rings only within its
// rate and call limits, and its RSS stays bounded.
func TestIntegrationFlood(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p, pingPort, rings := hostilePhone(t, k)
	const rate, seconds = 100, 5

	direct := flood(t, k, p, pingPort, rings, "sipp-flood-direct", p.LocalAddr(), rate, seconds)
	t.Logf("direct %s", direct)
	require.Zero(t, direct.rings, "a direct INVITE rang")
	require.Greater(t, direct.stats.Forbidden, uint64(0))
	require.Less(t, direct.rssPeak-direct.rssBefore, int64(64<<20), "RSS grew by more than 64 MiB")

	proxied := flood(t, k, p, pingPort, rings, "sipp-flood-proxy", k.Addr(), rate, seconds)
	t.Logf("through Kamailio %s", proxied)
	require.Greater(t, proxied.rings, int64(0), "no call through Kamailio rang")
	require.Greater(t, proxied.stats.Limited, uint64(0), "the flood through Kamailio was not limited")
	// Token bucket: at most burst + rate × time, retransmissions included.
	require.LessOrEqual(t, float64(proxied.rings), defaultRequestBurst+defaultRequestRate*proxied.elapsed.Seconds()+1)
	require.Less(t, proxied.rssPeak-proxied.rssBefore, int64(64<<20), "RSS grew by more than 64 MiB")
}
