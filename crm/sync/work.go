package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
)

// workProcess carries one call to Bitrix24: snapshot, decision, write, and
// the ledger update in the transaction that completes the job.
func (e *Engine) workProcess(ctx context.Context, job *river.Job[ProcessCallArgs], done commitFunc) error {
	id := job.Args.CallID
	row, err := loadCall(ctx, e.q.db(), id)
	if err != nil {
		return err
	}
	if row == nil {
		return river.JobCancel(fmt.Errorf("call %s: %w", id, errNoCall))
	}
	if row.State == StateDone || row.State == StateFailed {
		return done(ctx, nil, nil) // a repeated job: the ledger says it is over
	}
	call, err := crm.DecodeCall(row.Record)
	if err != nil {
		return e.giveUp(ctx, id, fmt.Errorf("stored record: %w", err))
	}
	pc, err := e.conn(row.Portal)
	if err != nil {
		return e.giveUp(ctx, id, err)
	}
	uncertain := row.State == StateSending
	requests := 0
	plan, trace := row.Plan, row.Trace
	var users []rules.User
	if plan == nil || !uncertain {
		snap, n, err := e.readSnapshot(ctx, pc, call.ContactNumber)
		requests += n
		if err != nil {
			return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, id, err)
		}
		p, t := e.decider.Decide(call, snap)
		plan, trace, users = &p, t, snap.Users
	} else {
		var n int
		users, n, err = e.portalUsers(ctx, pc, call.ContactNumber)
		requests += n
		if err != nil {
			return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, id, err)
		}
	}
	err = e.q.group(ctx, func(ctx context.Context, q querier) ([]river.InsertManyParams, error) {
		return nil, markSending(ctx, q, id, *plan, trace)
	})
	if err != nil {
		return err
	}
	r, err := e.carryOut(ctx, pc, call, plan.Ops, users, uncertain)
	if err != nil {
		return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, id, err)
	}
	r.res.Requests += requests
	r.res.IDs = r.ids
	now := e.now()
	err = done(ctx, func(q querier) error {
		if err := markDone(ctx, q, id, r.res, r.journal, now); err != nil {
			return err
		}
		return queueSteps(ctx, q, id, r.steps, now)
	}, r.follow)
	if err == nil {
		e.metrics.callDone(call, now, r.res.Requests)
	}
	return err
}

// portalUsers are the portal's users for the executor's check that a
// responsible is an active user telephony accepts: cached, or read again
// with a snapshot. A restarted engine has none cached; resuming a stored
// plan without them would write the call activity with crm.activity.add
// and lose the call's telephony statistics row.
func (e *Engine) portalUsers(ctx context.Context, pc *portalConn, number string) ([]rules.User, int, error) {
	if pd := pc.cached(e.now(), 24*time.Hour); pd != nil {
		return pd.Users, 0, nil
	}
	snap, n, err := e.readSnapshot(ctx, pc, number)
	if err != nil {
		return nil, n, err
	}
	return snap.Users, n, nil
}

// workDelayed is CP5's delayed step.
func (e *Engine) workDelayed(ctx context.Context, job *river.Job[DelayedStepArgs], done commitFunc) error {
	id := job.Args.CallID
	state, call, pc, err := e.pendingStep(ctx, id, stepSchedule)
	if err != nil {
		return err
	}
	if state == StateDone {
		return done(ctx, nil, nil)
	}
	users, _, err := e.portalUsers(ctx, pc, call.ContactNumber)
	if err != nil {
		return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, "", err)
	}
	if err := setStep(ctx, e.q.db(), id, stepSchedule, StateSending, "", e.now()); err != nil {
		return err
	}
	r, err := e.carryOut(ctx, pc, call, job.Args.Ops, users, state == StateSending)
	if err != nil {
		return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, "", err)
	}
	detail, _ := json.Marshal(r.ids)
	now := e.now()
	return done(ctx, func(q querier) error {
		if err := setStep(ctx, q, id, stepSchedule, StateDone, string(detail), now); err != nil {
			return err
		}
		return queueSteps(ctx, q, id, r.steps, now)
	}, r.follow)
}

// errNotYet is a recording that is not there yet.
var errNotYet = errors.New("the recording is not there yet")

// workRecording uploads a recording (RC1) and attaches it to the Bitrix24
// call, snoozing while the file is not there.
func (e *Engine) workRecording(ctx context.Context, job *river.Job[RecordingArgs], done commitFunc) error {
	id := job.Args.CallID
	state, _, pc, err := e.pendingStep(ctx, id, stepRecording)
	if err != nil {
		return err
	}
	if state == StateDone {
		return done(ctx, nil, nil)
	}
	rec := job.Args.Recording
	var fileID int
	switch {
	case rec.File != "":
		data, rerr := os.ReadFile(rec.File)
		if errors.Is(rerr, os.ErrNotExist) || (rerr == nil && len(data) == 0) {
			return e.snoozeRecording(ctx, job, fmt.Errorf("%s: %w", rec.File, errNotYet))
		}
		if rerr != nil {
			return e.snoozeRecording(ctx, job, rerr)
		}
		fileID, err = pc.client.AttachRecord(ctx, job.Args.TelephonyCallID, filepath.Base(rec.File), data)
	case rec.URL != "":
		err = pc.client.AttachRecordURL(ctx, job.Args.TelephonyCallID, path.Base(strings.SplitN(rec.URL, "?", 2)[0]), rec.URL)
	default:
		err = errors.New("the recording names neither a file nor a URL")
	}
	if err != nil {
		var be *b24.Error
		if errors.As(err, &be) && strings.Contains(be.Description, "HTTP error code") {
			return e.snoozeRecording(ctx, job, err) // the URL is not there yet
		}
		return e.snoozeRecording(ctx, job, err)
	}
	now := e.now()
	return done(ctx, func(q querier) error {
		return setStep(ctx, q, id, stepRecording, StateDone, fmt.Sprintf("file %d", fileID), now)
	}, nil)
}

// snoozeRecording retries a recording later without using up attempts,
// backing off to 10 minutes, for about a day in all.
func (e *Engine) snoozeRecording(ctx context.Context, job *river.Job[RecordingArgs], err error) error {
	n := snoozes(job.Metadata)
	if n >= 150 {
		_ = setStep(ctx, e.q.db(), job.Args.CallID, stepRecording, StateFailed, err.Error(), e.now())
		return river.JobCancel(err)
	}
	_ = setStep(ctx, e.q.db(), job.Args.CallID, stepRecording, StateQueued, err.Error(), e.now())
	return river.JobSnooze(min(time.Second<<min(n, 10), 10*time.Minute))
}

// workChat posts OL1's message once its entity exists.
func (e *Engine) workChat(ctx context.Context, job *river.Job[ChatMessageArgs], done commitFunc) error {
	id := job.Args.CallID
	state, _, pc, err := e.pendingStep(ctx, id, stepNotify)
	if err != nil {
		return err
	}
	if state == StateDone {
		return done(ctx, nil, nil)
	}
	var mid b24.Int
	err = pc.client.Call(ctx, "im.notify.system.add", b24.Params{"USER_ID": job.Args.UserID, "MESSAGE": job.Args.Message, "TAG": "omnisync|" + id}, &mid, b24.Idempotent())
	if err != nil {
		return e.retry(ctx, pc, job.Attempt, job.MaxAttempts, job.Metadata, "", err)
	}
	now := e.now()
	return done(ctx, func(q querier) error {
		return setStep(ctx, q, id, stepNotify, StateDone, fmt.Sprintf("message %d", mid), now)
	}, nil)
}

// queueSteps records the follow-up steps a carried-out plan enqueued.
func queueSteps(ctx context.Context, q querier, id string, steps []string, now time.Time) error {
	for _, s := range steps {
		if err := setStep(ctx, q, id, s, StateQueued, "", now); err != nil {
			return err
		}
	}
	return nil
}

// pendingStep reads a follow-up step's state and, unless the step is already
// done, the call and portal connection it works on.
func (e *Engine) pendingStep(ctx context.Context, id, step string) (string, crm.Call, *portalConn, error) {
	state, _, err := stepState(ctx, e.q.db(), id, step)
	if err != nil || state == StateDone {
		return state, crm.Call{}, nil, err
	}
	_, call, pc, err := e.callOf(ctx, id)
	return state, call, pc, err
}

func (e *Engine) callOf(ctx context.Context, id string) (*callRow, crm.Call, *portalConn, error) {
	row, err := loadCall(ctx, e.q.db(), id)
	if err != nil {
		return nil, crm.Call{}, nil, err
	}
	if row == nil {
		return nil, crm.Call{}, nil, river.JobCancel(fmt.Errorf("call %s: %w", id, errNoCall))
	}
	call, err := crm.DecodeCall(row.Record)
	if err != nil {
		return nil, crm.Call{}, nil, river.JobCancel(err)
	}
	pc, err := e.conn(row.Portal)
	if err != nil {
		return nil, crm.Call{}, nil, err
	}
	return row, call, pc, nil
}

// retry decides what a failed attempt means: Bitrix24's limits and outages
// snooze the job (no attempt used up, so a long outage loses nothing),
// refusals fail the call, anything else is retried with River's backoff.
func (e *Engine) retry(ctx context.Context, pc *portalConn, attempt, maxAttempts int, meta []byte, id string, err error) error {
	var (
		perm  *permanentError
		recon *b24.ReconnectError
	)
	switch {
	case errors.As(err, &recon):
		// The portal's credentials are dead (refresh token refused, webhook
		// deleted, application removed): no retry helps until a person
		// reconnects the portal, and the reason says so. The request that
		// met it never ran, so nothing of this attempt was written. The
		// client is dropped: the next job reads the credentials again
		// (the portal may have been reconnected by then).
		e.forget(pc.id)
		if id != "" {
			return e.giveUp(ctx, id, err)
		}
		return river.JobCancel(err)
	case errors.As(err, &perm) || b24.IsValidation(err):
		if id != "" {
			return e.giveUp(ctx, id, err)
		}
		return river.JobCancel(err)
	case b24.IsLimit(err) || b24.IsTransient(err):
		if id != "" {
			_ = noteAttempt(ctx, e.q.db(), id, err.Error())
		}
		n := snoozes(meta)
		e.log.Warn("bitrix24 unavailable; snoozing", "call", id, "err", err, "snoozes", n)
		return river.JobSnooze(min(time.Second<<min(n, 6), 60*time.Second))
	}
	if id != "" {
		if attempt >= maxAttempts {
			return e.giveUp(ctx, id, err)
		}
		_ = noteAttempt(ctx, e.q.db(), id, err.Error())
	}
	return err
}

// giveUp marks the call failed for good and cancels its job.
func (e *Engine) giveUp(ctx context.Context, id string, err error) error {
	if ferr := markFailed(ctx, e.q.db(), id, err.Error(), e.now()); ferr != nil {
		return ferr
	}
	e.metrics.callFailed()
	return river.JobCancel(err)
}

// snoozes reads River's snooze count from a job's metadata.
func snoozes(meta []byte) int {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(meta, &m)
	return m.Snoozes
}
