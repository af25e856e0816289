package sip

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// TestIntegrationMalformedTraffic sends garbage and truncated SIP to the
// phone's port, from a stranger and from a trusted address: the phone
// stays registered and still answers OPTIONS.
func TestIntegrationMalformedTraffic(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p, pingPort, rings := hostilePhone(t, k)
	invite := "INVITE sip:bob@" + p.LocalAddr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx;rport\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:bob@y>\r\n" +
		"Call-ID: junk\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 500\r\n\r\nv=0\r\n"
	junk := [][]byte{
		[]byte("\x00\x01\x02\xff\xfe garbage"),
		[]byte(invite[:40]), // cut in the Via
		[]byte(invite),      // Content-Length beyond the body
		[]byte(strings.Replace(invite, "CSeq: 1 INVITE", "CSeq: x", 1)),
		[]byte(strings.Replace(invite, "Via:", "Via", 1)), // a header without a colon
		[]byte("SIP/2.0 999999999999 Whatever\r\n\r\n"),
		[]byte("INVITE  SIP/2.0\r\n\r\n"),
		[]byte(strings.Repeat("A", 60000)),
		[]byte("\r\n\r\n\r\n\r\n\r\n"),
		[]byte("OPTIONS sip:x SIP/2.0\r\n" + strings.Repeat("X-Long: "+strings.Repeat("v", 1000)+"\r\n", 50) + "\r\n"),
	}
	for _, from := range []int{0, pingPort} {
		for range 20 {
			require.NoError(t, siptest.SendUDP(from, p.LocalAddr(), junk...))
		}
	}
	// The trusted sender's valid requests among the junk spent its token
	// bucket: the phone answers again once the bucket refills.
	require.Eventually(t, func() bool { return siptest.Options(pingPort, p.LocalAddr(), time.Second) == 200 },
		15*time.Second, 200*time.Millisecond, "the phone does not answer OPTIONS after the garbage")
	require.Greater(t, p.GateStats().Malformed, uint64(0))
	require.Zero(t, rings.Load())
	require.Equal(t, RegRegistered, p.RegState())
	require.True(t, k.Registered("bob"))
	p.Reregister() // the registrar still talks to us
	n := p.ev.regCount()
	p.ev.waitReg(t, RegRegistered, n)
}

// TestIntegrationSipvicious points the sipvicious scanners at the phone:
// svmap may see a SIP device answering 403, svwar must find no extension
// (with and without --force) and svcrack no password; the phone stays
// registered and never rings.
func TestIntegrationSipvicious(t *testing.T) {
	svmap := siptest.RequirePeer(t, "svmap", "sipvicious")
	svwar := siptest.RequirePeer(t, "svwar", "sipvicious")
	svcrack := siptest.RequirePeer(t, "svcrack", "sipvicious")
	k := siptest.StartKamailio(t, callUsers)
	p, pingPort, rings := hostilePhone(t, k)
	_, port, err := net.SplitHostPort(p.LocalAddr())
	require.NoError(t, err)
	run := func(name, bin string, args ...string) string {
		dir := t.TempDir()
		pr := siptest.StartProc(t, name, dir, bin, append(args, "-p", port, "-b", "127.0.0.1", "127.0.0.1")...)
		select {
		case <-pr.Done():
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s did not finish", name)
		}
		out, err := os.ReadFile(pr.Log)
		require.NoError(t, err)
		t.Logf("%s:\n%s", name, siptest.Tail(string(out), 1500))
		return string(out)
	}

	dict := filepath.Join(t.TempDir(), "users.txt")
	require.NoError(t, os.WriteFile(dict, []byte("alice\nbob\ncarol\nadmin\n"), 0o644))
	run("svmap", svmap)
	for _, args := range [][]string{{"-m", "REGISTER"}, {"-m", "INVITE"}, {"-m", "OPTIONS"}, {"-m", "REGISTER", "--force"}} {
		out := run("svwar"+strings.Join(args, ""), svwar, append([]string{"-e", "100-130", "-d", dict}, args...)...)
		require.Contains(t, out, "found nothing", "svwar %v enumerated something", args)
	}
	// svcrack gets no challenge to answer, only a few 403s, then silence:
	// it stops by itself (after --maximumtime, 10 s, without an answer).
	out := run("svcrack", svcrack, "-u", "bob", "-r", "100-999")
	require.NotContains(t, out, "The password for", "svcrack found a password")
	require.Contains(t, out, "since we last received a response - stopping")

	require.Zero(t, rings.Load(), "a scanner's INVITE rang")
	require.Greater(t, p.GateStats().Forbidden, uint64(0))
	require.Equal(t, RegRegistered, p.RegState())
	require.True(t, k.Registered("bob"))
	require.Equal(t, 200, siptest.Options(pingPort, p.LocalAddr(), 2*time.Second))
}
