package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Group commit.
//
// Every call writes the ledger three times (the POST's insert with its job,
// "sending" before the write leaves, "done" with the follow-up jobs), and
// with limits off dozens of jobs do so at once. Each write in a transaction
// of its own was most of the database's work: a commit each (on SQLite one
// connection and a WAL commit; on PostgreSQL three round trips), and River
// inserting jobs one statement per call — its JobInsertFastMany was the
// dearest statement in pg_stat_statements. So ledger writes queue for a
// writer goroutine, which runs whatever has gathered in one transaction
// and inserts all their jobs with one InsertManyTx. Under light load a
// write finds a writer idle and commits alone, as before; the batch grows
// with the load. SQLite has one writer (it has one connection);
// PostgreSQL has pgWriters, so that a batch waiting on the server's round
// trips does not hold up every other write. A write that fails fails its batch, which is then
// run again one write per transaction, so one bad write costs only itself.

// groupWrite is one caller's write: it runs in the batch's transaction and
// returns the jobs to insert with it. It may run twice (in the failed batch
// and then alone), so it must set anything it reports on each run.
type groupWrite func(ctx context.Context, q querier) ([]river.InsertManyParams, error)

type groupReq struct {
	write groupWrite
	done  chan error
}

// maxGroup bounds a batch; batchTimeout bounds its transaction (the
// callers' contexts are not the batch's: one POST going away must not
// roll back the others).
const (
	maxGroup     = 128
	batchTimeout = 30 * time.Second
	pgWriters    = 4
)

// errClosed: the engine was closed.
var errClosed = errors.New("sync: the engine is closed")

// group runs write in the writer's next transaction and returns when it
// has committed.
func (r *riverQueue[TDriver, TTx]) group(ctx context.Context, write groupWrite) error {
	req := &groupReq{write: write, done: make(chan error, 1)}
	select {
	case r.writes <- req:
	case <-r.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be committed or fail: wait for the
	// answer rather than the context, so no caller leaves a write behind
	// that it believes did not happen.
	return <-req.done
}

// writer is a goroutine that commits the queued writes until close.
func (r *riverQueue[TDriver, TTx]) writer() {
	defer r.writersDone.Done()
	for {
		var first *groupReq
		select {
		case first = <-r.writes:
		case <-r.closed:
			return
		}
		batch := []*groupReq{first}
	gather:
		for len(batch) < maxGroup {
			select {
			case req := <-r.writes:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		r.commitGroup(batch)
	}
}

func (r *riverQueue[TDriver, TTx]) commitGroup(batch []*groupReq) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	err := r.runGroup(ctx, batch)
	if err == nil || len(batch) == 1 {
		for _, req := range batch {
			req.done <- err
		}
		return
	}
	for _, req := range batch {
		req.done <- r.runGroup(ctx, []*groupReq{req})
	}
}

// runGroup runs the writes in one transaction with one insert of their jobs.
func (r *riverQueue[TDriver, TTx]) runGroup(ctx context.Context, batch []*groupReq) error {
	return r.inTx(ctx, func(tx TTx, q querier) error {
		var jobs []river.InsertManyParams
		for _, req := range batch {
			js, err := req.write(ctx, q)
			if err != nil {
				return err
			}
			jobs = append(jobs, js...)
		}
		if len(jobs) == 0 {
			return nil
		}
		res, err := r.client.InsertManyTx(ctx, tx, jobs)
		if err != nil {
			return fmt.Errorf("insert jobs: %w", err)
		}
		for _, jr := range res {
			// A call's job that River still keeps as completed (a ledger
			// restored without its queue) is made available again; any
			// other duplicate is a job that will run or is running.
			if jr.UniqueSkippedAsDuplicate && jr.Job.State == rivertype.JobStateCompleted && jr.Job.Kind == (ProcessCallArgs{}).Kind() {
				if _, err := r.client.JobRetryTx(ctx, tx, jr.Job.ID); err != nil {
					return fmt.Errorf("retry job %d: %w", jr.Job.ID, err)
				}
			}
		}
		return nil
	})
}
