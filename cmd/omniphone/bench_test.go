package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// BenchmarkClickToInvite measures a click in the portal → the INVITE at
// the client (baresip, behind Kamailio), with the real binaries:
//
//   - handler: team mode — the simulator POSTs the event to omnisync
//     (--public-url), whose hub pushes it over SSE to the headless desktop
//     of the clicking employee (102);
//   - offline: a headless desktop (103) polling the portal's offline queue
//     itself, at most every 3 s.
//
// The INVITE is timed where it arrives (baresip's first event of the call,
// the offer), so the
// figure includes Kamailio's digest challenge and relay, about a
// millisecond on loopback. Between clicks the client answers and hangs up
// and the call is finished in Bitrix24 (a click on a number whose call is
// not finished gets that call's CALL_ID again, which is dialled once).
// p50_ms and p99_ms are the latencies; ns/op means nothing. Two shared
// cores: the figures are noisy.
//
//	go test -run '^$' -bench ClickToInvite -benchtime 40x ./cmd/omniphone/
func BenchmarkClickToInvite(b *testing.B) {
	k := siptest.StartKamailio(b, map[string]string{"102": "secret102", "103": "secret103", clientUser: "client"})
	client := siptest.StartBaresip(b, siptest.BaresipOptions{User: clientUser, Password: "client", Proxy: k.Addr(), ToneHz: 440})
	portal := startPortal(b)
	team := startOmnisync(b, portal, nil)
	teamDesk := startDesktop(b, k, "102", []string{"OMNIPHONE_SECRET_SYNC_TOKEN=" + teamToken}, func(s *settings.Settings) {
		portal.portalSettings(s)
		s.Sync = settings.Sync{Mode: settings.SyncTeam, TeamURL: team}
	})
	require.Eventually(b, func() bool { return slices.Contains(connectedDesktops(b, team), "102") },
		30*time.Second, 100*time.Millisecond, "the team desktop follows omnisync")
	pollingDesk := startPollingDesktop(b, k, portal, "103")
	for _, d := range []*desktop{teamDesk, pollingDesk} {
		go func() {
			for range d.events { // nobody reads them here; keep the stream flowing
			}
		}()
	}
	b.Run("handler", func(b *testing.B) { benchInvites(b, portal, client, 2, 0) })
	// Clicks 0–3 s apart, like an operator at work: the poll's phase
	// then varies as it does for a real desktop.
	b.Run("offline", func(b *testing.B) { benchInvites(b, portal, client, 3, 3*time.Second) })
}

// benchInvites clicks the client's number as user b.N times, each after a
// random pause of up to spacing.
func benchInvites(b *testing.B, portal *portalSim, client *siptest.Baresip, user int, spacing time.Duration) {
	lat := make([]time.Duration, 0, b.N)
	for range b.N {
		if spacing > 0 {
			time.Sleep(rand.N(spacing)) //nolint:gosec // test jitter
		}
		calls, answered := client.Calls(), client.Count("CALL_ESTABLISHED")
		start := time.Now()
		ev, err := portal.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: user, Phone: clientNumber})
		require.NoError(b, err)
		client.WaitCount(b, "CALL_ESTABLISHED", answered+1, 30*time.Second)
		_, at := client.CallArrival(calls + 1)
		lat = append(lat, at.Sub(start))
		client.Command("hangup", "")
		portal.waitFinished(b, ev.CallID)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
