package sync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of Retry (the API answers 404 and 409 with them).
var (
	// ErrUnknownCall: no call has that id.
	ErrUnknownCall = errors.New("no such call")
	// ErrNotFailed: the call is not failed — it is done, or queued and
	// retried by the engine itself.
	ErrNotFailed = errors.New("only a failed call can be retried")
)

// Retry re-queues a failed call, e.g. after its portal was reconnected.
// The ledger row and the job change in one transaction, and the call keeps
// its exactly-once guarantees: a call that had stored its plan reuses it
// and checks Bitrix24 before creating anything (see requeueCall). The
// call's status counts these re-queues (manual_retries). A call that is
// not failed is ErrNotFailed, an unknown one ErrUnknownCall.
func (e *Engine) Retry(ctx context.Context, id string) error {
	row, err := loadCall(ctx, e.q.db(), id)
	if err != nil {
		return err
	}
	if row == nil {
		return fmt.Errorf("call %q: %w", id, ErrUnknownCall)
	}
	if row.State == StateFailed {
		// The portal's credentials are read again from the secret store
		// (a person may have reconnected it since the call failed) — before
		// the job is queued, so it cannot start on the old client.
		e.forget(row.Portal)
	}
	// giveUp marks the call failed before River records its job's end; a
	// retry in that window waits for it (tens of milliseconds).
	for wait := 10 * time.Millisecond; ; wait *= 2 {
		failed, err := e.q.submit(ctx, func(q querier) (bool, error) { return requeueCall(ctx, q, id) }, ProcessCallArgs{CallID: id})
		switch {
		case errors.Is(err, errJobBusy) && wait < 5*time.Second:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		case err != nil:
			return fmt.Errorf("sync: retry %s: %w", id, err)
		case failed:
			return nil
		}
		return notFailed(ctx, e, id)
	}
}

// notFailed explains why a call cannot be retried.
func notFailed(ctx context.Context, e *Engine, id string) error {
	row, err := loadCall(ctx, e.q.db(), id)
	switch {
	case err != nil:
		return err
	case row == nil:
		return fmt.Errorf("call %q: %w", id, ErrUnknownCall)
	case row.State == StateDone:
		return fmt.Errorf("call %q is already in Bitrix24: %w", id, ErrNotFailed)
	}
	return fmt.Errorf("call %q is queued and retried automatically: %w", id, ErrNotFailed)
}

// forget drops a portal's client, so the next job builds it afresh with
// the credentials in the secret store.
func (e *Engine) forget(portal string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.portals, portal)
}
