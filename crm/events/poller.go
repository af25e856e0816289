package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
)

// OfflineQueue is the part of *b24.Client the Poller uses.
type OfflineQueue interface {
	OfflineEventsOf(ctx context.Context, connector string, limit int) (b24.OfflineBatch, error)
	ClearOfflineEvents(ctx context.Context, processID string, ids []int) error
	OfflineEventsError(ctx context.Context, processID string, messageIDs []string) error
}

var _ OfflineQueue = (*b24.Client)(nil)

// PollerOptions configure a Poller.
type PollerOptions struct {
	// Queue is the portal client, with an administrator's OAuth token
	// (required).
	Queue OfflineQueue
	// Dispatcher receives each event (required).
	Dispatcher Dispatcher
	// Domain is stamped on the events (offline rows do not name their
	// portal).
	Domain string
	// Connector is the offline queue bound by Install (AUTH_CONNECTOR).
	Connector string
	// Limit is the batch size (default 50).
	Limit int
	// MinInterval is the wait after a poll that found events (default 1 s);
	// each empty poll waits half as long again, up to MaxInterval (default
	// 10 s). A full batch is followed at once by the next poll.
	MinInterval time.Duration
	MaxInterval time.Duration
	// MaxErrorInterval caps the doubling wait after failed polls (default
	// 60 s).
	MaxErrorInterval time.Duration
	// DispatchTimeout bounds one Dispatch (default 15 s).
	DispatchTimeout time.Duration
	// Logger receives failures (default: discard).
	Logger *slog.Logger
}

// Poller reads offline events (reference §4.6) for a desktop that no
// portal can reach: event.offline.get with clear=0 reserves a batch under a
// process_id, each event is dispatched, then event.offline.clear removes
// the handled ones and event.offline.error marks the failed ones.
type Poller struct {
	opts PollerOptions
	log  *slog.Logger
	poke chan struct{}

	mu      sync.Mutex
	pending []settle // settlements that failed, retried before the next get
	stats   PollerStats
}

// settle is the clear or error call that ends a batch.
type settle struct {
	processID string
	clear     []int
	failed    []string
}

// PollerStats are counters for a health panel.
type PollerStats struct {
	Polls      int
	Events     int
	Dispatched int
	Failed     int
	LastPoll   time.Time
	LastError  error
	// Interval is the wait after the last poll.
	Interval time.Duration
}

// NewPoller returns a Poller; Run starts it.
func NewPoller(opts PollerOptions) (*Poller, error) {
	if opts.Queue == nil || opts.Dispatcher == nil {
		return nil, errors.New("events: poller needs a queue and a dispatcher")
	}
	if opts.Limit <= 0 {
		opts.Limit = 50
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Second
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = 10 * time.Second
	}
	opts.MaxInterval = max(opts.MaxInterval, opts.MinInterval)
	if opts.MaxErrorInterval <= 0 {
		opts.MaxErrorInterval = 60 * time.Second
	}
	opts.MaxErrorInterval = max(opts.MaxErrorInterval, opts.MaxInterval)
	if opts.DispatchTimeout <= 0 {
		opts.DispatchTimeout = 15 * time.Second
	}
	p := &Poller{opts: opts, log: opts.Logger, poke: make(chan struct{}, 1)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Stats returns the counters.
func (p *Poller) Stats() PollerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Poke makes a waiting Run poll now (the UI's "check now", or a hint that
// a click is likely).
func (p *Poller) Poke() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends and then returns nil. Failures never stop it:
// they are logged, kept in Stats and retried after a doubling wait.
func (p *Poller) Run(ctx context.Context) error {
	var w waits
	for ctx.Err() == nil {
		n, err := p.PollOnce(ctx)
		wait := p.next(&w, n, err)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("bitrix24 offline events: poll failed", "retry_in", wait, "err", err)
		}
		p.note(func(s *PollerStats) { s.Interval = wait })
		if !p.sleep(ctx, wait) {
			break
		}
	}
	return nil
}

// waits is Run's adaptive state: the next idle wait and the last error
// wait.
type waits struct {
	idle, err time.Duration
}

// next returns the wait after a poll that found n events or failed.
func (p *Poller) next(w *waits, n int, err error) time.Duration {
	if w.idle == 0 {
		w.idle = p.opts.MinInterval
	}
	switch {
	case err != nil:
		w.err = min(max(2*w.err, p.opts.MinInterval), p.opts.MaxErrorInterval)
		if b24.IsLimit(err) || b24.IsAuth(err) {
			w.err = max(w.err, p.opts.MaxInterval)
		}
		return w.err
	case n >= p.opts.Limit:
		w.err, w.idle = 0, p.opts.MinInterval
		return 0
	case n > 0:
		w.err, w.idle = 0, p.opts.MinInterval
		return p.opts.MinInterval
	default:
		wait := w.idle
		w.err, w.idle = 0, min(w.idle*3/2, p.opts.MaxInterval)
		return wait
	}
}

// sleep waits d, a Poke or the end of ctx; it reports whether to go on.
func (p *Poller) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-p.poke:
		return true
	case <-t.C:
		return true
	}
}

// PollOnce reads one batch, dispatches it and settles it; it returns how
// many events the batch held.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	n, err := 0, p.settlePending(ctx)
	if err == nil {
		n, err = p.pollBatch(ctx)
	}
	p.note(func(s *PollerStats) {
		s.Polls++
		s.Events += n
		s.LastPoll = time.Now()
		s.LastError = err
	})
	return n, err
}

func (p *Poller) note(f func(*PollerStats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

func (p *Poller) pollBatch(ctx context.Context) (int, error) {
	batch, err := p.opts.Queue.OfflineEventsOf(ctx, p.opts.Connector, p.opts.Limit)
	if err != nil {
		return 0, fmt.Errorf("event.offline.get: %w", err)
	}
	if len(batch.Events) == 0 {
		return 0, nil
	}
	st := settle{processID: string(batch.ProcessID)}
	for _, row := range batch.Events {
		if err := p.dispatch(ctx, row); err != nil {
			p.log.Error("bitrix24 offline event failed; marking it", "event", string(row.Event),
				"message_id", string(row.MessageID), "err", err)
			st.failed = append(st.failed, string(row.MessageID))
			p.note(func(s *PollerStats) { s.Failed++ })
			continue
		}
		st.clear = append(st.clear, int(row.ID))
		p.note(func(s *PollerStats) { s.Dispatched++ })
	}
	if st.processID == "" {
		return len(batch.Events), errors.New("event.offline.get returned events without a process_id")
	}
	if err := p.settle(ctx, st); err != nil {
		p.mu.Lock()
		p.pending = append(p.pending, st)
		p.mu.Unlock()
		return len(batch.Events), err
	}
	return len(batch.Events), nil
}

// dispatch hands one row to the dispatcher; rows of other events are
// handled by dropping them.
func (p *Poller) dispatch(ctx context.Context, row b24.OfflineEvent) error {
	if KindOf(string(row.Event)) == KindUnknown {
		p.log.Info("bitrix24 offline event ignored: not handled here", "event", string(row.Event))
		return nil
	}
	ev, err := FromOffline(row)
	if err != nil {
		return err
	}
	ev.Domain = p.opts.Domain
	dctx, cancel := context.WithTimeout(ctx, p.opts.DispatchTimeout)
	defer cancel()
	return p.opts.Dispatcher.Dispatch(dctx, ev)
}

// settle clears the handled rows and marks the failed ones. Rows stay
// reserved under their process_id until then, so no other reader takes
// them, and a crash before settling never dials them again.
func (p *Poller) settle(ctx context.Context, st settle) error {
	if len(st.clear) > 0 {
		if err := p.opts.Queue.ClearOfflineEvents(ctx, st.processID, st.clear); err != nil {
			return fmt.Errorf("event.offline.clear: %w", err)
		}
	}
	if len(st.failed) > 0 {
		if err := p.opts.Queue.OfflineEventsError(ctx, st.processID, st.failed); err != nil {
			return fmt.Errorf("event.offline.error: %w", err)
		}
	}
	return nil
}

// settlePending retries settlements that failed.
func (p *Poller) settlePending(ctx context.Context) error {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for i, st := range pending {
		if err := p.settle(ctx, st); err != nil {
			p.mu.Lock()
			p.pending = append(pending[i:], p.pending...)
			p.mu.Unlock()
			return err
		}
	}
	return nil
}
