package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
)

func benchRecord(i int, number string) []byte {
	now := time.Now()
	c := call(fmt.Sprintf("bench-%d-%d", now.UnixNano(), i), "in", "answered", []string{"102"}, []string{"102"})
	c["contact_number"] = number
	c["started_at"] = now.Add(-time.Minute).Format(time.RFC3339Nano)
	c["answered_at"] = now.Add(-50 * time.Second).Format(time.RFC3339Nano)
	c["ended_at"] = now.Format(time.RFC3339Nano)
	data, _ := json.Marshal(c)
	return data
}

// waitAll waits until every id is done and returns the call-end → CRM
// latencies.
func waitAll(b *testing.B, eng *crmsync.Engine, ids []string, ended map[string]time.Time) []time.Duration {
	b.Helper()
	ctx := context.Background()
	var lat []time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	for _, id := range ids {
		for {
			st, err := eng.Status(ctx, id)
			require.NoError(b, err)
			if st != nil && st.State != "queued" {
				require.Equal(b, "done", st.State, st.Reason)
				lat = append(lat, st.DoneAt.Sub(ended[id]))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s not done", id)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return lat
}

func runThroughput(b *testing.B, db string) {
	p := newPortal(b, b24sim.ModeClassic, seedWith(nil)())
	n := newNode(b, db, baseSettings(p.srv.URL), func(o *crmsync.Options) {
		o.Limit = b24.Limit{Rate: -1}
		o.Workers = 16
		o.FetchCooldown = 2 * time.Millisecond
	})
	ctx := context.Background()
	ended := map[string]time.Time{}
	var ids []string
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		rec := benchRecord(i, fmt.Sprintf("+7917%07d", i))
		st, _, err := n.eng.Submit(ctx, rec)
		require.NoError(b, err)
		ids = append(ids, st.ID)
		ended[st.ID] = time.Now()
	}
	waitAll(b, n.eng, ids, ended)
	b.ReportMetric(float64(len(ids))/time.Since(start).Seconds(), "calls/s")
	log := readLog(b, p)
	b.ReportMetric(float64(log.crmRequests())/float64(len(ids)), "requests/call")
}

// BenchmarkThroughputSQLite: calls through one embedded node, limits off.
func BenchmarkThroughputSQLite(b *testing.B) { runThroughput(b, sqliteDB(b)) }

// BenchmarkThroughputPostgres: calls through one node on PostgreSQL,
// limits off.
func BenchmarkThroughputPostgres(b *testing.B) { runThroughput(b, startPostgres(b)) }

// BenchmarkRequestsPerCall: first and repeat calls of a few clients (every
// fourth number comes back), counted from the simulator's request log.
func BenchmarkRequestsPerCall(b *testing.B) {
	p := newPortal(b, b24sim.ModeClassic, seedWith(nil)())
	s := baseSettings(p.srv.URL)
	s.OpenLines.NotifyEmployee = true
	n := newNode(b, sqliteDB(b), s, func(o *crmsync.Options) { o.Limit = b24.Limit{Rate: -1} })
	ctx := context.Background()
	ended := map[string]time.Time{}
	var ids []string
	for i := 0; b.Loop(); i++ {
		st, _, err := n.eng.Submit(ctx, benchRecord(i, fmt.Sprintf("+7918%07d", i/4)))
		require.NoError(b, err)
		ids = append(ids, st.ID)
		ended[st.ID] = time.Now()
		waitAll(b, n.eng, []string{st.ID}, ended)
	}
	b.ReportMetric(float64(readLog(b, p).crmRequests())/float64(len(ids)), "requests/call")
}

// BenchmarkLatencyAtLimit: one call a second (two requests each) at the
// portal's 2/s limit; latency from the call's end to the CRM.
func BenchmarkLatencyAtLimit(b *testing.B) {
	p := newPortal(b, b24sim.ModeClassic, seedWith(nil)(), func(o *b24sim.Options) { o.RateLimit, o.RateBurst = 2, 50 })
	n := newNode(b, sqliteDB(b), baseSettings(p.srv.URL))
	ctx := context.Background()
	ended := map[string]time.Time{}
	var ids []string
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; b.Loop(); i++ {
		for range 8 {
			<-tick.C
			st, _, err := n.eng.Submit(ctx, benchRecord(i, fmt.Sprintf("+7919%07d", len(ids))))
			require.NoError(b, err)
			ids = append(ids, st.ID)
			ended[st.ID] = time.Now()
		}
	}
	lat := waitAll(b, n.eng, ids, ended)
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
	require.Zero(b, limitErrors(b, p))
}
