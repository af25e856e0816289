package events

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// stampTarget records when each CALL_ID was dialled.
type stampTarget struct{ at chan time.Time }

func (s stampTarget) Dial(context.Context, DialRequest) error {
	s.at <- time.Now()
	return nil
}

// BenchmarkClickToDial measures click → Target.Dial through the simulator:
// "handler" is the online path (the simulator POSTs to a Handler on
// 127.0.0.1), "offline" the Poller with its default intervals (1 s after
// activity, growing to 10 s), clicks spaced 0–2 s apart like an operator at
// work. p50_ms and p99_ms are the latencies; ns/op is not meaningful.
//
//	go test -run '^$' -bench ClickToDial -benchtime 200x ./crm/events/   # handler
//	go test -run '^$' -bench ClickToDial/offline -benchtime 30x ./crm/events/
func BenchmarkClickToDial(b *testing.B) {
	b.Run("handler", func(b *testing.B) {
		tb := setup(b)
		target := stampTarget{at: make(chan time.Time, 1)}
		router := newRouter(b, tb, target, conf(c2cOn, cbOn), UserFilter{})
		_, url := serveHandler(b, HandlerOptions{Dispatcher: router, Portals: []Portal{tb.portal()},
			Tokens: SecretTokens{Secrets: newSecrets(portalID, tb.appToken)}})
		_, err := Install(context.Background(), tb.client, InstallOptions{HandlerURL: url})
		require.NoError(b, err)
		benchClicks(b, tb, target, 0)
	})
	b.Run("offline", func(b *testing.B) {
		tb := setup(b)
		target := stampTarget{at: make(chan time.Time, 1)}
		_, err := Install(context.Background(), tb.client, InstallOptions{})
		require.NoError(b, err)
		p, err := NewPoller(PollerOptions{Queue: tb.client, Dispatcher: newRouter(b, tb, target, conf(c2cOn, cbOn), UserFilter{})})
		require.NoError(b, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		defer func() { cancel(); <-done }()
		benchClicks(b, tb, target, 2*time.Second)
	})
}

func benchClicks(b *testing.B, tb testBundle, target stampTarget, spacing time.Duration) {
	b.Helper()
	// Warm the employee cache as the app does at start.
	_, err := tb.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(b, err)
	<-target.at
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if spacing > 0 {
			time.Sleep(rand.N(spacing)) //nolint:gosec // test jitter
		}
		start := time.Now()
		// A new number each time: Bitrix24 reuses the CALL_ID of an
		// unfinished call to the same number, which the Router dedups.
		phone := fmt.Sprintf("+7900%07d", i)
		_, err := tb.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: phone})
		require.NoError(b, err)
		select {
		case at := <-target.at:
			lat = append(lat, at.Sub(start))
		case <-time.After(30 * time.Second):
			b.Fatal("not dialled")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
