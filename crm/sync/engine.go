package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	gosync "sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// Options configure an Engine.
type Options struct {
	// DB is sqlite:PATH (embedded) or postgres://… (team mode).
	DB Database
	// Settings are the integration settings (the document the desktop
	// exports); Secrets holds the portals' credentials.
	Settings settings.Settings
	Secrets  settings.SecretStore
	// Migrate creates the tables at start (the desktop app does; omnisync
	// serve does it too unless told not to).
	Migrate bool
	// HTTPClient carries Bitrix24 requests (default b24.NewHTTPClient).
	HTTPClient *http.Client
	// Limit is each portal's request rate. Zero is Bitrix24's 2/s with a
	// burst of 50; negative Rate turns limiting off (benchmarks). On
	// PostgreSQL the limit is a token bucket in the database that every
	// node shares; embedded it is the client's own limiter.
	Limit b24.Limit
	// Workers is the number of jobs one node runs at once (default 4).
	Workers int
	// FetchCooldown is River's pause between fetches (default 20 ms; River's
	// own 100 ms caps a node at ~10 jobs/s per worker).
	FetchCooldown time.Duration
	// FetchPollInterval is how often an idle node looks for new jobs when
	// no notification arrives (default 200 ms). A desktop sets it higher:
	// each poll is a query, and an idle phone should cost nothing.
	FetchPollInterval time.Duration
	// PollOnly runs River without its notification listener. On SQLite
	// that listener is a query of the notification table every 50 ms
	// (riversqlite's fixed interval), the bulk of an idle desktop's CPU;
	// without it a new job waits up to FetchPollInterval to be picked up.
	// A single embedded node, which no other node notifies, loses nothing
	// else by it.
	PollOnly bool
	// JobTimeout bounds one job (default 60 s: a snapshot batch and a write
	// batch at Bitrix24's worst).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when a running job of a dead node is retried
	// (default 90 s; River's default is 1 h).
	RescueStuckJobsAfter time.Duration
	// PortalDataTTL is how long users, pipelines and the CRM mode are
	// reused between snapshots (default 10 min).
	PortalDataTTL time.Duration
	// Logger receives the engine's and River's logs (default: discard).
	Logger *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Engine is the sync engine: it takes call records, keeps them in the
// ledger, and carries each one to Bitrix24 exactly once in effect.
type Engine struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	q       queue
	metrics *metrics
	decider *rules.Decider

	mu      gosync.Mutex
	portals map[string]*portalConn
	bucket  *pgBucket
}

// New opens the database and builds the engine; Run starts the workers.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.DB.kind == "" {
		return nil, errors.New("sync: no database: use sqlite:PATH or postgres://…")
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.FetchPollInterval <= 0 {
		opts.FetchPollInterval = 200 * time.Millisecond
	}
	if opts.FetchCooldown <= 0 {
		opts.FetchCooldown = 20 * time.Millisecond
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 60 * time.Second
	}
	if opts.RescueStuckJobsAfter <= 0 {
		opts.RescueStuckJobsAfter = 90 * time.Second
	}
	opts.RescueStuckJobsAfter = max(opts.RescueStuckJobsAfter, 2*opts.JobTimeout)
	if opts.PortalDataTTL <= 0 {
		opts.PortalDataTTL = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Secrets == nil {
		opts.Secrets = settings.EnvStore{}
	}
	e := &Engine{opts: opts, log: opts.Logger, now: opts.Now, portals: map[string]*portalConn{}, decider: rules.NewDecider(opts.Settings)}
	e.metrics = newMetrics(e)
	q, err := openQueue(ctx, e, opts.Migrate)
	if err != nil {
		return nil, err
	}
	e.q = q
	if opts.DB.IsPostgres() && opts.Limit.Rate >= 0 {
		e.bucket = &pgBucket{q: q.db(), limit: opts.Limit}
	}
	return e, nil
}

// Start starts the workers and returns.
func (e *Engine) Start(ctx context.Context) error {
	if !e.opts.DB.IsPostgres() {
		// Embedded: one process owns the file (the app is single-instance),
		// so a job still "running" at start belongs to a process that died.
		// River would leave it until RescueStuckJobsAfter plus a rescuer
		// tick on the leader (30 s, not configurable) after a new leader is
		// elected; there is no public "rescue now" API (Client.JobRetry
		// skips running jobs), so make them available again here.
		if _, err := e.q.db().exec(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
			return fmt.Errorf("sync: rescue jobs of a crashed run: %w", err)
		}
	}
	if err := e.q.start(ctx); err != nil {
		return fmt.Errorf("sync: start: %w", err)
	}
	return nil
}

// Run starts the workers and blocks until ctx ends, then stops them.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.Stop(stopCtx)
}

// Stop stops fetching jobs and waits for running ones.
func (e *Engine) Stop(ctx context.Context) error {
	if err := e.q.stop(ctx); err != nil {
		return fmt.Errorf("sync: stop: %w", err)
	}
	return nil
}

// Close releases the database. Stop the engine first.
func (e *Engine) Close() error {
	e.q.close()
	return nil
}

// CallStatus is what the API says about one call.
type CallStatus struct {
	ID string `json:"id"`
	// State is queued, done or failed.
	State string `json:"state"`
	// Phase is the ledger state (queued, sending, done, failed).
	Phase   string `json:"phase"`
	Reason  string `json:"reason,omitempty"`
	Retries int    `json:"retries"`
	// ManualRetries counts the times a person re-queued the failed call
	// (Retry, POST /api/v1/calls/{id}/retry).
	ManualRetries int               `json:"manual_retries"`
	ReceivedAt    time.Time         `json:"received_at"`
	DoneAt        *time.Time        `json:"done_at,omitempty"`
	Journal       string            `json:"journal,omitempty"`
	Steps         map[string]string `json:"steps,omitempty"`
	Result        *Result           `json:"result,omitempty"`
	Plan          *rules.Plan       `json:"plan,omitempty"`
	Trace         rules.Trace       `json:"trace,omitempty"`
}

func statusOf(r *callRow) CallStatus {
	s := CallStatus{ID: r.CallID, Phase: r.State, Reason: r.Reason, Retries: max(r.Attempts-1, 0), ManualRetries: r.Requeued,
		ReceivedAt: r.ReceivedAt, Journal: r.Journal, Result: r.Result, Plan: r.Plan, Trace: r.Trace}
	switch r.State {
	case StateDone, StateFailed:
		s.State = r.State
		d := r.DoneAt
		s.DoneAt = &d
	default:
		s.State = StateQueued
	}
	return s
}

// FieldError is a bad call record: which field and what is wrong (HTTP 400).
type FieldError = crm.FieldError

// Submit takes a call record (SPEC §11 JSON). A new call is written to the
// ledger and queued in one transaction; a call id already known changes
// nothing. It returns the call's status and whether it was new.
func (e *Engine) Submit(ctx context.Context, record []byte) (CallStatus, bool, error) {
	call, err := crm.DecodeCall(record)
	if err != nil {
		return CallStatus{}, false, err
	}
	portal, err := e.portalFor(call)
	if err != nil {
		return CallStatus{}, false, err
	}
	canon, err := json.Marshal(call)
	if err != nil {
		return CallStatus{}, false, fmt.Errorf("encode call: %w", err)
	}
	now := e.now()
	var inserted bool
	err = e.q.group(ctx, func(ctx context.Context, q querier) ([]river.InsertManyParams, error) {
		var err error
		if inserted, err = insertCall(ctx, q, portal.ID, call, canon, now); err != nil || !inserted {
			return nil, err
		}
		return []river.InsertManyParams{{Args: ProcessCallArgs{CallID: call.ID}}}, nil
	})
	if err != nil {
		return CallStatus{}, false, fmt.Errorf("sync: queue call %s: %w", call.ID, err)
	}
	if inserted {
		// Just written: its status is known without reading it back (on
		// SQLite every read waits for the one connection the workers use).
		return CallStatus{ID: call.ID, State: StateQueued, Phase: StateQueued, ReceivedAt: now.UTC().Truncate(time.Millisecond)}, true, nil
	}
	st, err := e.Status(ctx, call.ID)
	if err != nil {
		return CallStatus{}, false, err
	}
	return *st, inserted, nil
}

// Status returns one call's state; nil when the id is unknown.
func (e *Engine) Status(ctx context.Context, id string) (*CallStatus, error) {
	r, err := loadCall(ctx, e.q.db(), id)
	if err != nil || r == nil {
		return nil, err
	}
	s := statusOf(r)
	for _, step := range []string{stepSchedule, stepRecording, stepNotify} {
		state, detail, err := stepState(ctx, e.q.db(), id, step)
		if err != nil {
			return nil, err
		}
		if state != "" {
			if s.Steps == nil {
				s.Steps = map[string]string{}
			}
			if detail != "" {
				state += ": " + detail
			}
			s.Steps[step] = state
		}
	}
	return &s, nil
}

// History lists calls received since, oldest first (at most limit).
func (e *Engine) History(ctx context.Context, since time.Time, limit int) ([]CallStatus, error) {
	rows, err := listCalls(ctx, e.q.db(), since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]CallStatus, 0, len(rows))
	for _, r := range rows {
		s := statusOf(r)
		s.Plan, s.Trace = nil, nil
		out = append(out, s)
	}
	return out, nil
}

// Counts returns the ledger's calls by state.
func (e *Engine) Counts(ctx context.Context) (map[string]int, error) {
	return countCalls(ctx, e.q.db())
}
