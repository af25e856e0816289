package sync_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	gosync "sync"
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

// waitCounts waits until n calls are out of the queue, polling the
// ledger's counts every 100 ms (one query, not one per call: on SQLite every
// read takes the connection the workers need, and the count scans the
// ledger — polled every 25 ms it was a tenth of PostgreSQL's work).
func waitCounts(b *testing.B, eng *crmsync.Engine, n int) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := eng.Counts(ctx)
		require.NoError(b, err)
		require.Zero(b, c["failed"], "failed calls")
		if c["done"] >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d calls done: %v", c["done"], n, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lastDone returns when the last of the n calls received since was done,
// from the ledger, so waitCounts' period does not count.
func lastDone(b *testing.B, eng *crmsync.Engine, since time.Time, n int) time.Time {
	b.Helper()
	calls, err := eng.History(context.Background(), since.Add(-time.Second), n+1)
	require.NoError(b, err)
	require.Len(b, calls, n)
	var last time.Time
	for _, c := range calls {
		require.Equal(b, "done", c.State)
		if c.DoneAt.After(last) {
			last = *c.DoneAt
		}
	}
	return last
}

// runThroughput posts b.N calls to one node (limits off) and waits until
// every one is in the CRM. The simulator runs in a process of its own.
// Besides calls/s (wall clock, everything on the machine's shared cores)
// it reports where the CPU went, per call: node-cpu-us (this process: the
// engine with its River client and Bitrix24 client, and the submitters),
// db-cpu-us (the PostgreSQL server), sim-cpu-us (the simulator), and
// node-calls/cpu-s, the calls one CPU-second of node and database carries
// — the node's capacity when Bitrix24 is elsewhere, as it is in
// production — and node-only-calls/cpu-s, one CPU-second of the node
// alone: its capacity per core when PostgreSQL has a host of its own. sim-busy is the share of the wall time the simulator held
// its state lock (its serial part), submitted/s how fast the node took the
// calls in (the ledger insert with its job, from benchSubmitters clients).
func runThroughput(b *testing.B, db string) {
	sim := startSimProcess(b, seedWith(nil)())
	p := sim.portal
	n := newNode(b, db, baseSettings(p.srv.URL), func(o *crmsync.Options) {
		o.Limit = b24.Limit{Rate: -1}
		o.Workers = benchWorkers
		o.FetchCooldown = benchCooldown
	})
	dbCPU := func() time.Duration { return 0 }
	if dir, ok := pgDataDirs.Load(db); ok {
		pid, err := postmasterPID(dir.(string))
		require.NoError(b, err)
		dbCPU = func() time.Duration {
			d, err := procCPU(pid, true)
			require.NoError(b, err)
			return d
		}
	}
	simCPU := func() time.Duration {
		d, err := procCPU(sim.pid, false)
		require.NoError(b, err)
		return d
	}
	ctx := context.Background()
	before := readLog(b, p)
	// Calls arrive from several clients at once (PBXs, operators' apps),
	// as POSTs do: one submitter would measure its own round trips.
	recs := make(chan []byte, benchSubmitters)
	var (
		wg       gosync.WaitGroup
		mu       gosync.Mutex
		firstErr error
	)
	for range benchSubmitters {
		wg.Go(func() {
			for rec := range recs {
				if _, _, err := n.eng.Submit(ctx, rec); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	node0, db0, sim0 := selfCPU(), dbCPU(), simCPU()
	start := time.Now()
	i := 0
	for b.Loop() {
		recs <- benchRecord(i, fmt.Sprintf("+7917%07d", i))
		i++
	}
	close(recs)
	wg.Wait()
	require.NoError(b, firstErr)
	submitted := time.Since(start)
	waitCounts(b, n.eng, i)
	nodeCPU, dbUsed, simUsed := selfCPU()-node0, dbCPU()-db0, simCPU()-sim0
	elapsed := lastDone(b, n.eng, start, i).Sub(start)
	b.StopTimer()
	log := readLog(b, p)
	locked := time.Duration(log.LockedUS-before.LockedUS) * time.Microsecond
	perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(i) }
	b.ReportMetric(float64(i)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(log.crmRequests()-before.crmRequests())/float64(i), "requests/call")
	b.ReportMetric(perCall(nodeCPU), "node-cpu-us/call")
	b.ReportMetric(perCall(dbUsed), "db-cpu-us/call")
	b.ReportMetric(perCall(simUsed), "sim-cpu-us/call")
	b.ReportMetric(float64(i)/(nodeCPU+dbUsed).Seconds(), "node-calls/cpu-s")
	b.ReportMetric(float64(i)/nodeCPU.Seconds(), "node-only-calls/cpu-s")
	b.ReportMetric(locked.Seconds()/elapsed.Seconds(), "sim-busy")
	b.ReportMetric(float64(i)/submitted.Seconds(), "submitted/s")
}

// The node's settings in the throughput benchmarks: the engine's defaults
// are 4 workers and a 20 ms fetch cooldown (doc.go). With limits off a
// call waits only for the simulator and the database, so more of them are
// in flight; the cooldown stays the default. (32 workers with a 2 ms
// cooldown did no better: three times as many fetches of a third as many
// jobs each, 100–160 µs of PostgreSQL per job for fetching alone.)
const (
	benchWorkers    = 64
	benchCooldown   = 20 * time.Millisecond
	benchSubmitters = 8
)

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

// BenchmarkCallsAtLimit: a backlog of calls (a busy hour, or the portal
// back after an outage) through one node at Bitrix24's 2 requests/s with
// its burst of 50. At two requests a call a node could clear one call a
// second; reads of calls waiting at the same moment share a request
// (b24.Client.BatchShared), so it clears more. Reports calls/s from the
// first submit to the last call done, and requests per call from the
// simulator's log.
func BenchmarkCallsAtLimit(b *testing.B) {
	const backlog = 120
	for b.Loop() {
		p := newPortal(b, b24sim.ModeClassic, seedWith(nil)(), func(o *b24sim.Options) { o.RateLimit, o.RateBurst = 2, 50 })
		n := newNode(b, sqliteDB(b), baseSettings(p.srv.URL)) // the engine's defaults: 4 workers
		ctx := context.Background()
		before := readLog(b, p)
		start := time.Now()
		for i := range backlog {
			_, _, err := n.eng.Submit(ctx, benchRecord(i, fmt.Sprintf("+7921%07d", i)))
			require.NoError(b, err)
		}
		waitCounts(b, n.eng, backlog)
		elapsed := lastDone(b, n.eng, start, backlog).Sub(start)
		b.ReportMetric(backlog/elapsed.Seconds(), "calls/s")
		b.ReportMetric(float64(readLog(b, p).crmRequests()-before.crmRequests())/backlog, "requests/call")
		require.Zero(b, limitErrors(b, p))
	}
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
