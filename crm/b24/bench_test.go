package b24

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// BenchmarkLimit_300ReadsAt2Per50 sends 300 reads as fast as 10 workers
// can against a simulator enforcing 2 requests/s with a burst of 50, the
// portal default. It reports how many the portal refused (goal 0) and the
// achieved share of the allowed rate (goal ≥ 95 %): 300 requests are
// allowed after 50 + 2·t seconds, so ideally t = 125 s.
func BenchmarkLimit_300ReadsAt2Per50(b *testing.B) {
	const total, workers = 300, 10
	for range b.N {
		sim, err := b24sim.New(b24sim.Options{WebhookUserID: 1, WebhookCode: webhookCode, RateLimit: 2, RateBurst: 50})
		require.NoError(b, err)
		srv := httptest.NewServer(sim.Handler())
		c, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}})
		require.NoError(b, err)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= total {
					if _, err := c.CRMMode(context.Background()); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		st := c.Stats()["crm.settings.mode.get"]
		allowed := 50 + 2*elapsed.Seconds()
		b.ReportMetric(float64(st.Failures[CodeQueryLimit]), "QUERY_LIMIT_EXCEEDED")
		b.ReportMetric(elapsed.Seconds(), "s/300reads")
		b.ReportMetric(100*total/allowed, "%ofAllowedRate")
		srv.Close()
		_ = sim.Close()
	}
}

// BenchmarkClientOverhead is the client's own cost per request (encoding,
// limiter, HTTP, envelope decoding) against a server that answers at once.
func BenchmarkClientOverhead(b *testing.B) {
	body := []byte(`{"result":{"ID":"1","TITLE":"Lead","ASSIGNED_BY_ID":"7","PHONE":[{"ID":"1","VALUE":"+79991234567","VALUE_TYPE":"WORK","TYPE_ID":"PHONE"}]},"time":{"start":1,"finish":1,"duration":0,"processing":0}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, Limit: Limit{Rate: -1}})
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.GetEntity(ctx, Lead, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/request")
}
