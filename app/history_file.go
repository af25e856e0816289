package app

import (
	"context"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/calllog"
)

// historyKeep is how many calls History shows and keeps across restarts.
const historyKeep = 500

// stateChecking is a reloaded call whose sync state is being asked for.
const stateChecking = "checking"

// loadHistory shows the calls of earlier runs (SPEC D1: the trace stays
// one click away after a restart; anchors-softphones.md §6: history that
// regresses is what users of other softphones complain about).
func (a *App) loadHistory() {
	if a.opts.History == nil {
		return
	}
	items, bad, err := a.opts.History.Recent(historyKeep)
	if err != nil {
		a.opts.Logger.Error("call history not read", "err", err)
	}
	if bad > 0 {
		a.opts.Logger.Warn("call history: unreadable lines skipped", "count", bad)
	}
	for _, it := range items {
		e := historyEntry{Record: it.Record, Name: it.Name, State: stateChecking, Elsewhere: it.Elsewhere}
		if it.Elsewhere {
			e.State, e.Reason = "not sent", lang.L("the device that answered reports it")
		}
		a.history.add(e)
	}
}

// checkHistory asks the sync engine for the state of the reloaded calls
// and follows those still queued.
func (a *App) checkHistory() {
	if a.opts.Sink == nil {
		return
	}
	var ids []string
	a.history.mu.Lock()
	for _, e := range a.history.entries {
		if e.State == stateChecking {
			ids = append(ids, e.Record.ID)
		}
	}
	a.history.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	a.goAsync(func(ctx context.Context) {
		for _, id := range ids {
			st, err := a.opts.Sink.Status(ctx, id)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				a.do(func() { a.history.update(id, "not sent", err.Error(), nil) })
			case st == nil:
				a.do(func() { a.history.update(id, "not sent", "", nil) })
			case st.State == "queued":
				a.goAsync(func(ctx context.Context) { a.follow(ctx, id, *st) })
			default:
				a.do(func() { a.history.update(id, st.State, st.Reason, st.Trace) })
			}
		}
	})
}

// keepInHistory writes a finished call to the history file.
func (a *App) keepInHistory(e historyEntry) {
	if a.opts.History == nil {
		return
	}
	if err := a.opts.History.Append(calllog.HistoryItem{Record: e.Record, Name: e.Name, Elsewhere: e.Elsewhere}); err != nil {
		a.opts.Logger.Error("call not kept in the history file", "call", e.Record.ID, "err", err)
	}
}

// retrier is a sync engine that re-queues failed calls (crm/sync's Engine
// and Client).
type retrier interface {
	Retry(ctx context.Context, id string) error
}

// retryCall re-queues a failed call and follows it again.
func (a *App) retryCall(id string) {
	r, ok := a.opts.Sink.(retrier)
	if !ok {
		return
	}
	a.history.update(id, "queued", "", nil)
	a.goAsync(func(ctx context.Context) {
		if err := r.Retry(ctx, id); err != nil {
			a.do(func() { a.history.update(id, "failed", err.Error(), nil) })
			return
		}
		st, err := a.opts.Sink.Status(ctx, id)
		if err != nil || st == nil {
			return
		}
		a.follow(ctx, id, *st)
	})
}
