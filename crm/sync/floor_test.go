package sync_test

import (
	"context"
	"path/filepath"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	crmsync "github.com/omniphone/omniphone/crm/sync"
)

// The floor benchmarks run River as the throughput benchmarks configure it
// (benchWorkers workers, benchCooldown, benchSubmitters clients inserting
// one job per transaction) with jobs that do nothing: no ledger, no
// Bitrix24, no rules. What they measure is River's own cost per job and its
// ceiling on this machine at this moment, the floor under the engine's
// figures.

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	worked atomic.Int64
}

func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.worked.Add(1)
	return nil
}

func runFloor[TTx any](b *testing.B, driver riverdriver.Driver[TTx], dbCPU func() time.Duration) {
	ctx := context.Background()
	m, err := rivermigrate.New(driver, nil)
	require.NoError(b, err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(b, err)
	w := &noopWorker{}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(driver, &river.Config{
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: benchWorkers}},
		Workers:       workers,
		FetchCooldown: benchCooldown,
	})
	require.NoError(b, err)
	require.NoError(b, client.Start(ctx))
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(sctx)
	})
	jobs := make(chan int, benchSubmitters)
	var wg gosync.WaitGroup
	errs := make(chan error, benchSubmitters)
	for range benchSubmitters {
		wg.Go(func() {
			for n := range jobs {
				if _, err := client.Insert(ctx, noopArgs{N: n}, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	node0, db0 := selfCPU(), dbCPU()
	start := time.Now()
	n := 0
	for b.Loop() {
		jobs <- n
		n++
	}
	close(jobs)
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	deadline := time.Now().Add(5 * time.Minute)
	for w.worked.Load() < int64(n) {
		require.True(b, time.Now().Before(deadline), "only %d of %d jobs worked", w.worked.Load(), n)
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	nodeCPU, dbUsed := selfCPU()-node0, dbCPU()-db0
	b.ReportMetric(float64(n)/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(nodeCPU.Microseconds())/float64(n), "node-cpu-us/job")
	b.ReportMetric(float64(dbUsed.Microseconds())/float64(n), "db-cpu-us/job")
	b.ReportMetric(float64(n)/(nodeCPU+dbUsed).Seconds(), "node-jobs/cpu-s")
}

// BenchmarkRiverFloorSQLite: River alone on SQLite (riversqlite on the
// engine's connection: one, WAL, the statement cache).
func BenchmarkRiverFloorSQLite(b *testing.B) {
	db, err := crmsync.OpenSQLite(filepath.Join(b.TempDir(), "floor.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	runFloor(b, riversqlite.New(db), func() time.Duration { return 0 })
}

// BenchmarkRiverFloorPostgres: River alone on PostgreSQL (riverpgxv5, the
// engine's pool size).
func BenchmarkRiverFloorPostgres(b *testing.B) {
	url := startPostgres(b)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(b, err)
	cfg.MaxConns = 2*benchWorkers + 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	dir, _ := pgDataDirs.Load(url)
	pid, err := postmasterPID(dir.(string))
	require.NoError(b, err)
	runFloor(b, riverpgxv5.New(pool), func() time.Duration {
		d, err := procCPU(pid, true)
		require.NoError(b, err)
		return d
	})
}
