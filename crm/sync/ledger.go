package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/rules"
)

// schema is the ledger: one permanent row per call id (the idempotency key
// of SPEC §11), the plan and trace of its decision, what Bitrix24 returned
// (created IDs, the telephony call), and one row per follow-up step. The
// same SQL runs on SQLite and PostgreSQL.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS omnisync_call (
		call_id     TEXT PRIMARY KEY,
		portal      TEXT NOT NULL,
		record      TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		ended_at    BIGINT NOT NULL,
		state       TEXT NOT NULL,
		reason      TEXT NOT NULL DEFAULT '',
		attempts    INTEGER NOT NULL DEFAULT 0,
		plan        TEXT NOT NULL DEFAULT '',
		trace       TEXT NOT NULL DEFAULT '',
		result      TEXT NOT NULL DEFAULT '',
		journal     TEXT NOT NULL DEFAULT '',
		done_at     BIGINT NOT NULL DEFAULT 0,
		requeued    INTEGER NOT NULL DEFAULT 0
	)`,
	`CREATE INDEX IF NOT EXISTS omnisync_call_received ON omnisync_call (received_at)`,
	`CREATE TABLE IF NOT EXISTS omnisync_step (
		call_id    TEXT NOT NULL,
		step       TEXT NOT NULL,
		state      TEXT NOT NULL,
		detail     TEXT NOT NULL DEFAULT '',
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (call_id, step)
	)`,
	`CREATE TABLE IF NOT EXISTS omnisync_bucket (
		portal     TEXT PRIMARY KEY,
		tokens     DOUBLE PRECISION NOT NULL,
		updated_us BIGINT NOT NULL
	)`,
}

// addedColumns are ledger columns newer than the first schema: migrateDB
// adds them to a ledger created before.
var addedColumns = []struct{ table, column, def string }{
	{"omnisync_call", "requeued", "INTEGER NOT NULL DEFAULT 0"},
}

// Ledger states of a call. queued → sending (a write batch may have left)
// → done or failed.
const (
	StateQueued  = "queued"
	StateSending = "sending"
	StateDone    = "done"
	StateFailed  = "failed"
)

// callRow is one ledger row.
type callRow struct {
	CallID     string
	Portal     string
	Record     []byte
	ReceivedAt time.Time
	EndedAt    time.Time
	State      string
	Reason     string
	Attempts   int
	Plan       *rules.Plan
	Trace      rules.Trace
	Result     *Result
	Journal    string
	DoneAt     time.Time
	// Requeued counts the times a person re-queued the failed call.
	Requeued int
}

// Result is what carrying out a call's plan produced: the IDs behind the
// plan's refs and the Bitrix24 telephony call.
type Result struct {
	// IDs maps refs ("$lead", "$activity") to Bitrix24 IDs.
	IDs map[string]int `json:"ids,omitempty"`
	// TelephonyCallID is the CALL_ID of telephony.externalCall.register.
	TelephonyCallID string `json:"telephony_call_id,omitempty"`
	// Requests counts the Bitrix24 requests the call took (recording
	// upload and follow-up steps not counted).
	Requests int `json:"requests"`
	// Notes say what the executor did besides the plan (a fallback taken).
	Notes []string `json:"notes,omitempty"`
	// Resumed says an earlier attempt had marked the call "sending" and
	// did not record a result (a crash or an unclear failure), so this one
	// checked Bitrix24 before writing. Found lists the refs that check
	// found already created — the earlier write had reached Bitrix24: it
	// was sent but not recorded, and was not sent again.
	Resumed bool     `json:"resumed,omitempty"`
	Found   []string `json:"found,omitempty"`
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// insertCall adds a call row unless one exists and reports whether it did.
func insertCall(ctx context.Context, q querier, portal string, call crm.Call, record []byte, now time.Time) (bool, error) {
	n, err := q.exec(ctx, `INSERT INTO omnisync_call (call_id, portal, record, received_at, ended_at, state)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`,
		call.ID, portal, string(record), ms(now), ms(call.EndedAt), StateQueued)
	if err != nil {
		return false, fmt.Errorf("ledger: insert call %s: %w", call.ID, err)
	}
	return n == 1, nil
}

const callColumns = `call_id, portal, record, received_at, ended_at, state, reason, attempts, plan, trace, result, journal, done_at, requeued`

func scanCall(s scanner) (*callRow, error) {
	var (
		r                           callRow
		record, plan, trace, result string
		received, ended, doneAt     int64
		attempts, requeued          int64
	)
	if err := s.Scan(&r.CallID, &r.Portal, &record, &received, &ended, &r.State, &r.Reason, &attempts,
		&plan, &trace, &result, &r.Journal, &doneAt, &requeued); err != nil {
		return nil, err
	}
	r.Requeued = int(requeued)
	r.Record = []byte(record)
	r.ReceivedAt, r.EndedAt, r.DoneAt = fromMS(received), fromMS(ended), fromMS(doneAt)
	r.Attempts = int(attempts)
	if plan != "" {
		r.Plan = &rules.Plan{}
		if err := json.Unmarshal([]byte(plan), r.Plan); err != nil {
			return nil, fmt.Errorf("ledger: plan of %s: %w", r.CallID, err)
		}
	}
	if trace != "" {
		if err := json.Unmarshal([]byte(trace), &r.Trace); err != nil {
			return nil, fmt.Errorf("ledger: trace of %s: %w", r.CallID, err)
		}
	}
	if result != "" {
		r.Result = &Result{}
		if err := json.Unmarshal([]byte(result), r.Result); err != nil {
			return nil, fmt.Errorf("ledger: result of %s: %w", r.CallID, err)
		}
	}
	return &r, nil
}

// loadCall reads one call; (nil, nil) when there is none.
func loadCall(ctx context.Context, q querier, id string) (*callRow, error) {
	r, err := scanCall(q.queryRow(ctx, `SELECT `+callColumns+` FROM omnisync_call WHERE call_id = ?`, id))
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: load %s: %w", id, err)
	}
	return r, nil
}

// listCalls reads calls received since, oldest first, at most limit.
func listCalls(ctx context.Context, q querier, since time.Time, limit int) ([]*callRow, error) {
	rows, err := q.query(ctx, `SELECT `+callColumns+` FROM omnisync_call WHERE received_at >= ? ORDER BY received_at, call_id LIMIT ?`, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: list: %w", err)
	}
	defer rows.Close()
	var out []*callRow
	for rows.Next() {
		r, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// markSending stores the plan and trace and says a write may now leave:
// after a crash from here on, the executor checks Bitrix24 before creating.
func markSending(ctx context.Context, q querier, id string, plan rules.Plan, trace rules.Trace) error {
	p, err := json.Marshal(plan)
	if err != nil {
		return fmt.Errorf("ledger: encode plan: %w", err)
	}
	t, err := json.Marshal(trace)
	if err != nil {
		return fmt.Errorf("ledger: encode trace: %w", err)
	}
	_, err = q.exec(ctx, `UPDATE omnisync_call SET state = ?, plan = ?, trace = ?, attempts = attempts + 1, reason = '' WHERE call_id = ?`,
		StateSending, string(p), string(t), id)
	if err != nil {
		return fmt.Errorf("ledger: mark %s sending: %w", id, err)
	}
	return nil
}

// noteAttempt records a failed attempt and why.
func noteAttempt(ctx context.Context, q querier, id, reason string) error {
	_, err := q.exec(ctx, `UPDATE omnisync_call SET reason = ? WHERE call_id = ?`, reason, id)
	if err != nil {
		return fmt.Errorf("ledger: note attempt of %s: %w", id, err)
	}
	return nil
}

// markDone records the result; it runs in the transaction that completes
// the job.
func markDone(ctx context.Context, q querier, id string, res Result, journal string, now time.Time) error {
	r, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("ledger: encode result: %w", err)
	}
	_, err = q.exec(ctx, `UPDATE omnisync_call SET state = ?, result = ?, journal = ?, reason = '', done_at = ? WHERE call_id = ?`,
		StateDone, string(r), journal, ms(now), id)
	if err != nil {
		return fmt.Errorf("ledger: mark %s done: %w", id, err)
	}
	return nil
}

// markFailed records a call that will not be retried.
func markFailed(ctx context.Context, q querier, id, reason string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE omnisync_call SET state = ?, reason = ?, done_at = ? WHERE call_id = ?`, StateFailed, reason, ms(now), id)
	if err != nil {
		return fmt.Errorf("ledger: mark %s failed: %w", id, err)
	}
	return nil
}

// requeueCall puts a failed call back in the queue and reports whether it
// was failed. A call whose plan was stored goes back to "sending": an
// earlier write may have reached Bitrix24 (in part), so the job reuses
// that plan and checks before creating, as after a crash. A call that
// failed before deciding goes back to "queued" and is decided afresh.
func requeueCall(ctx context.Context, q querier, id string) (bool, error) {
	n, err := q.exec(ctx, `UPDATE omnisync_call
		SET state = CASE WHEN plan = '' THEN ? ELSE ? END, reason = '', done_at = 0, requeued = requeued + 1
		WHERE call_id = ? AND state = ?`, StateQueued, StateSending, id, StateFailed)
	if err != nil {
		return false, fmt.Errorf("ledger: requeue %s: %w", id, err)
	}
	return n == 1, nil
}

// Steps of a call after its main plan.
const (
	stepSchedule  = "schedule"  // CP5
	stepRecording = "recording" // RC1
	stepNotify    = "notify"    // OL1
)

// stepState reads a follow-up step's state ("" when none).
func stepState(ctx context.Context, q querier, id, step string) (string, string, error) {
	var state, detail string
	err := q.queryRow(ctx, `SELECT state, detail FROM omnisync_step WHERE call_id = ? AND step = ?`, id, step).Scan(&state, &detail)
	if errors.Is(err, errNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("ledger: step %s of %s: %w", step, id, err)
	}
	return state, detail, nil
}

// setStep writes a follow-up step's state.
func setStep(ctx context.Context, q querier, id, step, state, detail string, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO omnisync_step (call_id, step, state, detail, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (call_id, step) DO UPDATE SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at`,
		id, step, state, detail, ms(now))
	if err != nil {
		return fmt.Errorf("ledger: step %s of %s: %w", step, id, err)
	}
	return nil
}

// countCalls counts ledger rows by state, for metrics and status.
func countCalls(ctx context.Context, q querier) (map[string]int, error) {
	out, err := countByState(ctx, q, `SELECT state, COUNT(*) FROM omnisync_call GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("ledger: count: %w", err)
	}
	return out, nil
}

// countJobs counts River jobs by state.
func countJobs(ctx context.Context, q querier) (map[string]int, error) {
	out, err := countByState(ctx, q, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}

// countByState runs a "SELECT state, COUNT(*) … GROUP BY state" query.
func countByState(ctx context.Context, q querier, query string) (map[string]int, error) {
	rows, err := q.query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = int(n)
	}
	return out, rows.Err()
}
