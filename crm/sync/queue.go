package sync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// commitFunc ends a job's work: write (the ledger's record of what was
// done) runs in one transaction with the insert of the follow-up jobs, so
// they never disagree. The job itself is completed by River's batch
// completer when Work returns nil. A crash between the two leaves the job
// running; when it runs again its ledger row (or step row) says done and it
// returns at once, sending nothing. (river.JobCompleteTx would complete it
// in the same transaction, but River's completer then sets the state again
// in a query of its own: that was two more statements per call, a tenth of
// a node's work, to close a window the ledger closes already.)
type commitFunc func(ctx context.Context, write func(q querier) error, follow []river.InsertManyParams) error

// queue hides River's transaction type (*sql.Tx for SQLite, pgx.Tx for
// PostgreSQL) from the rest of the engine.
type queue interface {
	db() querier
	// submit runs write and, when it reports a change, inserts the job in
	// the same transaction. A unique job of the same args that is over
	// (completed, kept a day) is made available again; one still running
	// is errJobBusy and nothing is written.
	submit(ctx context.Context, write func(q querier) (bool, error), args river.JobArgs) (bool, error)
	// group runs write in a transaction shared with other writes (see
	// group.go) and inserts the jobs it returns.
	group(ctx context.Context, write groupWrite) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
	close()
}

type riverQueue[TDriver riverdriver.Driver[TTx], TTx any] struct {
	client   *river.Client[TTx]
	pool     querier
	begin    func(ctx context.Context) (TTx, error)
	commit   func(ctx context.Context, tx TTx) error
	rollback func(ctx context.Context, tx TTx)
	txq      func(tx TTx) querier
	closeDB  func()

	// The group-commit writers (group.go): writes is unbuffered, so a
	// write is either taken by a writer, which answers it, or not sent.
	writers     int
	writes      chan *groupReq
	closed      chan struct{}
	writersDone gosync.WaitGroup
}

func (r *riverQueue[TDriver, TTx]) db() querier { return r.pool }

func (r *riverQueue[TDriver, TTx]) inTx(ctx context.Context, fn func(tx TTx, q querier) error) error {
	tx, err := r.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx, r.txq(tx)); err != nil {
		r.rollback(ctx, tx)
		return err
	}
	if err := r.commit(ctx, tx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (r *riverQueue[TDriver, TTx]) submit(ctx context.Context, write func(q querier) (bool, error), args river.JobArgs) (bool, error) {
	var inserted bool
	err := r.inTx(ctx, func(tx TTx, q querier) error {
		var err error
		if inserted, err = write(q); err != nil || !inserted {
			return err
		}
		res, err := r.client.InsertTx(ctx, tx, args, nil)
		if err != nil || !res.UniqueSkippedAsDuplicate {
			return err
		}
		switch res.Job.State {
		case rivertype.JobStateRunning:
			return errJobBusy
		case rivertype.JobStateCompleted:
			_, err = r.client.JobRetryTx(ctx, tx, res.Job.ID)
			return err
		}
		return nil // waiting to run already
	})
	return inserted, err
}

// errJobBusy: the call's previous job is still running (it has marked the
// call failed and River has not yet recorded its end).
var errJobBusy = errors.New("the call's last attempt is still finishing")

func (r *riverQueue[TDriver, TTx]) start(ctx context.Context) error { return r.client.Start(ctx) }
func (r *riverQueue[TDriver, TTx]) stop(ctx context.Context) error  { return r.client.Stop(ctx) }

// close stops the writer and closes the database.
func (r *riverQueue[TDriver, TTx]) close() {
	close(r.closed)
	r.writersDone.Wait()
	r.closeDB()
}

// finish is the queue's commitFunc: the job's last write joins the group
// commit with its follow-up jobs.
func (r *riverQueue[TDriver, TTx]) finish(ctx context.Context, write func(q querier) error, follow []river.InsertManyParams) error {
	if write == nil && len(follow) == 0 {
		return nil
	}
	return r.group(ctx, func(_ context.Context, q querier) ([]river.InsertManyParams, error) {
		if write != nil {
			if err := write(q); err != nil {
				return nil, err
			}
		}
		return follow, nil
	})
}

// worker adapts one job kind to an engine method.
type worker[TDriver riverdriver.Driver[TTx], TTx any, A river.JobArgs] struct {
	river.WorkerDefaults[A]
	q       *riverQueue[TDriver, TTx]
	timeout time.Duration
	work    func(ctx context.Context, job *river.Job[A], done commitFunc) error
}

func (w *worker[TDriver, TTx, A]) Timeout(*river.Job[A]) time.Duration { return w.timeout }

func (w *worker[TDriver, TTx, A]) Work(ctx context.Context, job *river.Job[A]) error {
	return w.work(ctx, job, w.q.finish)
}

func addWorkers[TDriver riverdriver.Driver[TTx], TTx any](e *Engine, r *riverQueue[TDriver, TTx]) *river.Workers {
	ws := river.NewWorkers()
	t := e.opts.JobTimeout
	river.AddWorker(ws, &worker[TDriver, TTx, ProcessCallArgs]{q: r, timeout: t, work: e.workProcess})
	river.AddWorker(ws, &worker[TDriver, TTx, DelayedStepArgs]{q: r, timeout: t, work: e.workDelayed})
	river.AddWorker(ws, &worker[TDriver, TTx, RecordingArgs]{q: r, timeout: 2 * t, work: e.workRecording})
	river.AddWorker(ws, &worker[TDriver, TTx, ChatMessageArgs]{q: r, timeout: t, work: e.workChat})
	return ws
}

func (e *Engine) riverConfig(ws *river.Workers) *river.Config {
	o := e.opts
	return &river.Config{
		Queues:        map[string]river.QueueConfig{queueBitrix: {MaxWorkers: o.Workers}},
		Workers:       ws,
		FetchCooldown: o.FetchCooldown,
		// FetchPollInterval bounds pickup latency when no notification
		// arrives (SQLite polls its notification table).
		FetchPollInterval: max(o.FetchCooldown, o.FetchPollInterval),
		PollOnly:          o.PollOnly,
		JobTimeout:        o.JobTimeout,
		// The default (1 h) leaves a job of a crashed node running for an
		// hour; the rescuer runs every 30 s on the leader, so a crashed
		// job is retried within RescueStuckJobsAfter + ~30 s.
		RescueStuckJobsAfter: o.RescueStuckJobsAfter,
		MaxAttempts:          25,
		Logger:               e.log,
		// Completed jobs keep the unique key for a day; the ledger keeps
		// it forever.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
}

// openQueue opens the database, migrates it when asked, and builds the
// River client for the engine.
func openQueue(ctx context.Context, e *Engine, migrate bool) (queue, error) {
	if e.opts.DB.IsPostgres() {
		// Every worker holds a connection for its ledger reads and its
		// completing transaction, and River keeps some for itself (the
		// LISTEN connection, the producer's fetches, the completer, the
		// leader's maintenance), as do concurrent POSTs: with fewer, jobs
		// wait for a connection instead of for Bitrix24 (pgxpool's default
		// is max(4, CPUs)).
		pool, err := openPostgres(ctx, e.opts.DB.dsn, 2*e.opts.Workers+8)
		if err != nil {
			return nil, err
		}
		r := &riverQueue[*riverpgxv5.Driver, pgx.Tx]{
			writers:  pgWriters,
			pool:     poolQ(pool),
			begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
			commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
			rollback: func(ctx context.Context, tx pgx.Tx) { _ = tx.Rollback(ctx) },
			txq:      func(tx pgx.Tx) querier { return txQ(tx) },
			closeDB:  pool.Close,
		}
		if err := buildClient(ctx, e, r, riverpgxv5.New(pool), migrate); err != nil {
			pool.Close()
			return nil, err
		}
		return r, nil
	}
	db, err := openSQLite(e.opts.DB.dsn)
	if err != nil {
		return nil, err
	}
	r := &riverQueue[*riversqlite.Driver, *sql.Tx]{
		pool:     sqlQ{db},
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) { _ = tx.Rollback() },
		txq:      func(tx *sql.Tx) querier { return sqlQ{tx} },
		closeDB:  func() { _ = db.Close() },
	}
	if err := buildClient(ctx, e, r, riversqlite.New(db), migrate); err != nil {
		_ = db.Close()
		return nil, err
	}
	return r, nil
}

func buildClient[TDriver riverdriver.Driver[TTx], TTx any](ctx context.Context, e *Engine, r *riverQueue[TDriver, TTx], driver TDriver, migrate bool) error {
	if migrate {
		if err := migrateDB(ctx, driver, r.pool); err != nil {
			return err
		}
	}
	client, err := river.NewClient(driver, e.riverConfig(addWorkers(e, r)))
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	r.client = client
	r.writes, r.closed = make(chan *groupReq), make(chan struct{})
	for range max(r.writers, 1) {
		r.writersDone.Add(1)
		go r.writer()
	}
	return nil
}

// migrateDB brings River's tables and the ledger up to date.
func migrateDB[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], q querier) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	for _, s := range schema {
		if _, err := q.exec(ctx, s); err != nil {
			return fmt.Errorf("migrate ledger: %w", err)
		}
	}
	for _, c := range addedColumns {
		// A probe rather than ADD COLUMN IF NOT EXISTS, which SQLite lacks.
		if _, err := q.exec(ctx, `SELECT `+c.column+` FROM `+c.table+` WHERE 1 = 0`); err == nil {
			continue
		}
		if _, err := q.exec(ctx, `ALTER TABLE `+c.table+` ADD COLUMN `+c.column+` `+c.def); err != nil {
			return fmt.Errorf("migrate ledger: add %s.%s: %w", c.table, c.column, err)
		}
	}
	if driver.DatabaseName() == riverdriver.DatabaseNamePostgres {
		// A call's row is about 5 kB (the trace alone 3.4 kB), over
		// PostgreSQL's 2 kB TOAST threshold, so every write of it compresses
		// it: with the default pglz that was most of the cost of the
		// "sending" update, the dearest ledger statement. lz4 does the same
		// at a fraction of the CPU. A server built without lz4 refuses; the
		// columns then keep pglz, which is slower but equally correct. The
		// ALTER locks the table, so it runs only while a column lacks lz4
		// (before PostgreSQL 14, which has neither, the probe fails).
		var pglz int
		err := q.queryRow(ctx, `SELECT count(*) FROM pg_attribute WHERE attrelid = 'omnisync_call'::regclass
			AND attname IN ('record', 'plan', 'trace', 'result') AND attcompression <> 'l'`).Scan(&pglz)
		if err == nil && pglz > 0 {
			_, _ = q.exec(ctx, `ALTER TABLE omnisync_call ALTER COLUMN record SET COMPRESSION lz4,
				ALTER COLUMN plan SET COMPRESSION lz4, ALTER COLUMN trace SET COMPRESSION lz4,
				ALTER COLUMN result SET COMPRESSION lz4`)
		}
	}
	return nil
}

// Migrate creates or updates the database's tables (River's and the
// ledger) and returns; omnisync migrate runs it once per deployment.
func Migrate(ctx context.Context, db Database) error {
	if db.IsPostgres() {
		pool, err := openPostgres(ctx, db.dsn, 2)
		if err != nil {
			return err
		}
		defer pool.Close()
		return migrateDB(ctx, riverpgxv5.New(pool), poolQ(pool))
	}
	sdb, err := openSQLite(db.dsn)
	if err != nil {
		return err
	}
	defer func() { _ = sdb.Close() }()
	return migrateDB(ctx, riversqlite.New(sdb), sqlQ{sdb})
}

var _ = (*pgxpool.Pool)(nil)

// DBStatus is what omnisync status prints.
type DBStatus struct {
	Calls map[string]int `json:"calls"`
	Jobs  map[string]int `json:"jobs"`
}

// ReadStatus counts the ledger's calls and River's jobs by state.
func ReadStatus(ctx context.Context, db Database) (DBStatus, error) {
	var q querier
	if db.IsPostgres() {
		pool, err := openPostgres(ctx, db.dsn, 2)
		if err != nil {
			return DBStatus{}, err
		}
		defer pool.Close()
		q = poolQ(pool)
	} else {
		sdb, err := openSQLite(db.dsn)
		if err != nil {
			return DBStatus{}, err
		}
		defer func() { _ = sdb.Close() }()
		q = sqlQ{sdb}
	}
	calls, err := countCalls(ctx, q)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") {
			return DBStatus{}, fmt.Errorf("%s has no omnisync tables: run omnisync migrate --db first (%w)", db, err)
		}
		return DBStatus{}, err
	}
	jobs, err := countJobs(ctx, q)
	if err != nil {
		return DBStatus{}, err
	}
	return DBStatus{Calls: calls, Jobs: jobs}, nil
}
