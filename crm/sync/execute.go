package sync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// permanentError is a plan Bitrix24 refused as invalid: retrying will not
// help, so the call is marked failed with this reason.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// run carries out one list of plan operations: the main plan of a call or
// its delayed CP5 step.
type run struct {
	e    *Engine
	pc   *portalConn
	call crm.Call
	// ids are the Bitrix24 IDs behind the plan's refs, known before the
	// write (found by the crash check) or returned by it.
	ids map[string]int
	// bound are the entities a found activity is already bound to.
	bound   []rules.Binding
	res     Result
	journal string
	follow  []river.InsertManyParams
	steps   []string
}

// batch keys of the activity chain.
const (
	keyRegister = "reg"
	keyFinish   = "fin"
	keyActivity = "act"
	keyAdd      = "act_add"
	keyLinked   = "finish_linked"
)

func refKey(ref string) string { return "c_" + strings.TrimPrefix(ref, "$") }

// carryOut runs ops against the portal: at most one check read (only when
// an earlier attempt may have sent the write), one batched write, and a
// second write only when Bitrix24 could not write the call activity
// through telephony. uncertain says an earlier attempt may have sent it.
func (e *Engine) carryOut(ctx context.Context, pc *portalConn, call crm.Call, ops []rules.Op, users []rules.User, uncertain bool) (*run, error) {
	r := &run{e: e, pc: pc, call: call, ids: map[string]int{}}
	if uncertain {
		r.res.Resumed = true
		if err := r.check(ctx, ops); err != nil {
			return r, err
		}
		for ref := range r.ids {
			r.res.Found = append(r.res.Found, ref)
		}
		slices.Sort(r.res.Found)
		if len(r.res.Found) > 0 {
			r.e.log.Warn("an earlier attempt's write had reached Bitrix24 unrecorded; only what is missing is sent", "call", call.ID, "found", r.res.Found)
		}
	}
	b := b24.NewBatch()
	var deferred []rules.Op
	for i, op := range ops {
		switch op.Kind {
		case rules.OpCreate:
			if _, done := r.ids[op.Ref]; done {
				r.note("%s was created by an earlier attempt (ID %d)", op.Ref, r.ids[op.Ref])
				continue
			}
			f := b24.Params(maps.Clone(op.Fields))
			for k, id := range op.Links {
				f[k] = r.value(id)
			}
			b.Add(refKey(op.Ref), "crm."+string(op.Entity)+".add", b24.Params{"fields": f, "params": b24.Params{"REGISTER_SONET_EVENT": "N"}})
		case rules.OpUpdate:
			b.Add(fmt.Sprintf("u%d", i), "crm."+string(op.Entity)+".update", b24.Params{"id": r.value(*op.Target), "fields": b24.Params(maps.Clone(op.Fields))})
		case rules.OpCompleteActivity:
			b.Add(fmt.Sprintf("k%d", i), "crm.activity.update", b24.Params{"id": r.value(*op.Target), "fields": b24.Params{"COMPLETED": "Y"}})
		case rules.OpAddActivity:
			r.addActivity(b, op, users)
		case rules.OpFinishCall:
			b.Add(keyLinked, "telephony.externalcall.finish", b24.Params(maps.Clone(op.Fields)))
		case rules.OpNotify:
			if len(op.Bindings) > 0 && op.Bindings[0].ID.IsRef() && r.ids[op.Bindings[0].ID.Ref] == 0 {
				deferred = append(deferred, op) // the link needs the new entity's ID
				continue
			}
			b.Add(fmt.Sprintf("n%d", i), "im.notify.system.add", r.notifyParams(op))
		case rules.OpJournal:
			r.journal = op.Reason
		}
	}
	if b.Len() > 0 {
		res, err := pc.client.Batch(ctx, b)
		r.res.Requests++
		if err != nil {
			return r, fmt.Errorf("write: %w", err)
		}
		if err := r.collect(ctx, res, ops, uncertain); err != nil {
			return r, err
		}
	}
	return r, r.followUps(ops, deferred)
}

func (r *run) note(format string, args ...any) {
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, args...))
}

// value is an ID as a batch parameter: a number, or a $result reference to
// the command of this batch that creates it.
func (r *run) value(id rules.ID) any {
	if !id.IsRef() {
		return id.Known
	}
	if v, ok := r.ids[id.Ref]; ok {
		return v
	}
	if id.Ref == rules.RefActivity {
		return b24.Ref(keyFinish, "CRM_ACTIVITY_ID")
	}
	return b24.Ref(refKey(id.Ref))
}

func (r *run) known(id rules.ID) (int, bool) {
	if !id.IsRef() {
		return id.Known, true
	}
	v, ok := r.ids[id.Ref]
	return v, ok
}

// registerTarget is the binding telephony.externalCall.register can take
// (a lead, contact or company), or -1.
func registerTarget(bs []rules.EntityRef) int {
	return slices.IndexFunc(bs, func(b rules.EntityRef) bool {
		return b.Entity == settings.EntityLead || b.Entity == settings.EntityContact || b.Entity == settings.EntityCompany
	})
}

func activeUser(users []rules.User, id int) bool {
	return slices.ContainsFunc(users, func(u rules.User) bool { return u.ID == id && u.Active })
}

func intField(f rules.Fields, k string) int {
	switch v := f[k].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// addActivity writes the call activity through telephony: register (with
// CRM_CREATE=0 and the entity), finish — Bitrix24 writes the call activity
// with its statistics row and recording slot — then update it to the
// plan's responsible, completion and subject, and bind the plan's other
// entities. Without an entity register accepts, or a responsible who is an
// active user, it falls back to crm.activity.add.
func (r *run) addActivity(b *b24.Batch, op rules.Op, users []rules.User) {
	upd := b24.Params{}
	for k, v := range op.Fields {
		switch k {
		// The finish set these; ORIGIN_ID stays Bitrix24's VI_<CALL_ID>,
		// which its call provider reads (doc.go, "ORIGIN_ID").
		case "TYPE_ID", "COMMUNICATIONS", "ORIGIN_ID", "SETTINGS":
		default:
			upd[k] = v
		}
	}
	if id, ok := r.ids[rules.RefActivity]; ok { // found by the crash check
		b.Add(keyActivity, "crm.activity.update", b24.Params{"id": id, "fields": upd})
		r.bindRest(b, op.Bindings, id, nil)
		return
	}
	at := registerTarget(op.Bindings)
	resp := intField(op.Fields, "RESPONSIBLE_ID")
	if at < 0 || !activeUser(users, resp) {
		why := "no lead, contact or company to register the call with"
		if at >= 0 {
			why = fmt.Sprintf("responsible %d is not an active user telephony accepts", resp)
		}
		r.note("activity added with crm.activity.add, without telephony statistics: %s", why)
		r.plainAdd(b, op)
		return
	}
	target := op.Bindings[at]
	typ := 2
	if r.call.Direction == settings.DirectionOut {
		typ = 1
	}
	reg := b24.Params{
		"USER_ID": resp, "PHONE_NUMBER": r.call.ContactNumber, "TYPE": typ,
		"CALL_START_DATE": r.call.StartedAt.Format(time.RFC3339), "CRM_CREATE": 0, "SHOW": 0,
		"EXTERNAL_CALL_ID": r.call.ID, "CRM_ENTITY_TYPE": strings.ToUpper(string(target.Entity)), "CRM_ENTITY_ID": r.value(target.ID),
	}
	if r.call.VirtualNumber != "" {
		reg["LINE_NUMBER"] = r.call.VirtualNumber
	}
	b.Add(keyRegister, "telephony.externalcall.register", reg)
	b.Add(keyFinish, "telephony.externalcall.finish", b24.Params{
		"CALL_ID": b24.Ref(keyRegister, "CALL_ID"), "USER_ID": resp, "DURATION": int(r.call.Duration().Seconds()),
		"STATUS_CODE": statusCode(r.call.Outcome), "ADD_TO_CHAT": 0,
	})
	b.Add(keyActivity, "crm.activity.update", b24.Params{"id": b24.Ref(keyFinish, "CRM_ACTIVITY_ID"), "fields": upd})
	r.bindRest(b, op.Bindings, b24.Ref(keyFinish, "CRM_ACTIVITY_ID"), &target)
}

// plainAdd is the crm.activity.add fallback, bound to the owner (first
// binding) and, through crm.activity.binding.add, to the rest.
func (r *run) plainAdd(b *b24.Batch, op rules.Op) {
	f := b24.Params(maps.Clone(op.Fields))
	owner := op.Bindings[0]
	f["OWNER_TYPE_ID"] = rules.OwnerTypeID(owner.Entity)
	f["OWNER_ID"] = r.value(owner.ID)
	b.Add(keyAdd, "crm.activity.add", b24.Params{"fields": f})
	r.bindRest(b, op.Bindings, b24.Ref(keyAdd), &owner)
}

// bindRest binds the activity to every plan binding it does not have yet.
func (r *run) bindRest(b *b24.Batch, bs []rules.EntityRef, activity any, has *rules.EntityRef) {
	for i, x := range bs {
		if has != nil && x == *has {
			continue
		}
		if id, ok := r.known(x.ID); ok && slices.Contains(r.bound, rules.Binding{Entity: x.Entity, ID: id}) {
			continue
		}
		b.Add(fmt.Sprintf("bind%d", i), "crm.activity.binding.add", b24.Params{
			"activityId": activity, "entityTypeId": rules.OwnerTypeID(x.Entity), "entityId": r.value(x.ID),
		})
	}
}

// statusCode is telephony.externalCall.finish's STATUS_CODE of an outcome.
func statusCode(o crm.Outcome) string {
	switch o {
	case crm.OutcomeAnswered:
		return "200"
	case crm.OutcomeBusy:
		return "486"
	case crm.OutcomeFailed:
		return "603"
	}
	return "304"
}

// collect reads the write batch's answer into ids and the result, and runs
// the crm.activity.add fallback when telephony could not write the activity.
func (r *run) collect(ctx context.Context, res *b24.BatchResult, ops []rules.Op, uncertain bool) error {
	for _, op := range ops {
		if op.Kind != rules.OpCreate {
			continue
		}
		if _, done := r.ids[op.Ref]; done {
			continue
		}
		var id b24.Int
		if err := res.Decode(refKey(op.Ref), &id); err != nil {
			return &permanentError{fmt.Errorf("create %s: %w", op.Entity, err)}
		}
		r.ids[op.Ref] = int(id)
	}
	var addOp *rules.Op
	for i := range ops {
		if ops[i].Kind == rules.OpAddActivity {
			addOp = &ops[i]
		}
	}
	if addOp != nil {
		if err := r.collectActivity(ctx, res, *addOp); err != nil {
			return err
		}
	}
	for key, err := range res.Errors {
		switch {
		case key == keyLinked && uncertain && strings.Contains(err.Description, "Call is not found"):
			r.note("the Bitrix24 call was finished by an earlier attempt")
		case key == keyLinked:
			return &permanentError{fmt.Errorf("finish Bitrix24 call: %w", err)}
		case strings.HasPrefix(key, "c_"), key == keyRegister, key == keyFinish, key == keyAdd:
			// handled above
		default:
			r.note("%s: %s", key, err.Error())
		}
	}
	if raw, ok := res.Results[keyLinked]; ok && raw != nil {
		var f b24.FinishedCall
		if res.Decode(keyLinked, &f) == nil && f.CRMActivityID > 0 {
			r.ids[rules.RefActivity] = int(f.CRMActivityID)
			r.res.TelephonyCallID = string(f.CallID)
		}
	}
	return nil
}

func (r *run) collectActivity(ctx context.Context, res *b24.BatchResult, op rules.Op) error {
	if _, ok := r.ids[rules.RefActivity]; ok {
		return nil // found by the check
	}
	if _, plain := res.Results[keyAdd]; plain {
		var id b24.Int
		if err := res.Decode(keyAdd, &id); err != nil {
			return &permanentError{fmt.Errorf("add activity: %w", err)}
		}
		r.ids[rules.RefActivity] = int(id)
		return nil
	}
	if e, ok := res.Errors[keyAdd]; ok {
		return &permanentError{fmt.Errorf("add activity: %w", e)}
	}
	var reg b24.RegisteredCall
	if err := res.Decode(keyRegister, &reg); err == nil {
		r.res.TelephonyCallID = string(reg.CallID)
	}
	var fin struct {
		b24.FinishedCall
		Errors map[string]string `json:"ERRORS"`
	}
	ferr := res.Decode(keyFinish, &fin)
	if ferr == nil && fin.CRMActivityID > 0 {
		r.ids[rules.RefActivity] = int(fin.CRMActivityID)
		return nil
	}
	// Telephony did not write the activity: add it ourselves.
	why := "telephony wrote no activity"
	switch {
	case ferr != nil:
		why = ferr.Error()
	case len(fin.Errors) > 0:
		why = fmt.Sprint(fin.Errors)
	}
	r.note("activity added with crm.activity.add: %s", why)
	b := b24.NewBatch()
	r.plainAdd(b, op)
	res2, err := r.pc.client.Batch(ctx, b)
	r.res.Requests++
	if err != nil {
		return fmt.Errorf("add activity: %w", err)
	}
	var id b24.Int
	if err := res2.Decode(keyAdd, &id); err != nil {
		return &permanentError{fmt.Errorf("add activity: %w", err)}
	}
	r.ids[rules.RefActivity] = int(id)
	for k, e := range res2.Errors {
		r.note("%s: %s", k, e.Error())
	}
	return nil
}

// notifyParams is OL1's message with the link to its entity. TAG makes a
// repeated notification replace the first one.
func (r *run) notifyParams(op rules.Op) b24.Params {
	msg, _ := op.Fields["MESSAGE"].(string)
	if len(op.Bindings) > 0 {
		if id, ok := r.known(op.Bindings[0].ID); ok {
			msg += "\n" + r.link(op.Bindings[0].Entity, id)
		}
	}
	return b24.Params{"USER_ID": op.Fields["USER_ID"], "MESSAGE": msg, "TAG": "omnisync|" + r.call.ID}
}

func (r *run) link(t settings.EntityType, id int) string {
	return fmt.Sprintf("%s/crm/%s/details/%d/", r.pc.domain, t, id)
}

// followUps queues the jobs that come after the write: the recording
// upload (RC1), the delayed CP5 step and OL1 messages that link to an
// entity created just now.
func (r *run) followUps(ops []rules.Op, deferred []rules.Op) error {
	for _, op := range ops {
		switch op.Kind {
		case rules.OpUploadRecording:
			tel := op.CallID
			if tel == "" {
				tel = r.res.TelephonyCallID
			}
			if tel == "" || op.Recording == nil {
				r.note("RC1: the recording is not attached: there is no Bitrix24 call to attach it to")
				continue
			}
			r.add(RecordingArgs{CallID: r.call.ID, TelephonyCallID: tel, Recording: *op.Recording}, time.Time{}, stepRecording)
		case rules.OpSchedule:
			later, err := r.resolve(op.Ops)
			if err != nil {
				return err
			}
			at := r.call.EndedAt.Add(time.Duration(op.DelayMinutes) * time.Minute)
			r.add(DelayedStepArgs{CallID: r.call.ID, Ops: later}, at, stepSchedule)
		}
	}
	for _, op := range deferred {
		p := r.notifyParams(op)
		uid, _ := p["USER_ID"].(int)
		r.add(ChatMessageArgs{CallID: r.call.ID, UserID: uid, Message: p["MESSAGE"].(string)}, time.Time{}, stepNotify)
	}
	return nil
}

type argsWithOpts interface {
	river.JobArgs
	InsertOpts() river.InsertOpts
}

func (r *run) add(args argsWithOpts, at time.Time, step string) {
	opts := args.InsertOpts()
	if at.After(r.e.now()) {
		opts.ScheduledAt = at
	}
	r.follow = append(r.follow, river.InsertManyParams{Args: args, InsertOpts: &opts})
	r.steps = append(r.steps, step)
}

// resolve replaces refs to this plan's entities in delayed operations by
// their IDs, so the delayed job needs nothing but its args.
func (r *run) resolve(ops []rules.Op) ([]rules.Op, error) {
	fix := func(id rules.ID) (rules.ID, error) {
		if !id.IsRef() || id.Ref == rules.RefActivity {
			return id, nil
		}
		v, ok := r.ids[id.Ref]
		if !ok {
			return id, fmt.Errorf("delayed step refers to %s, which the plan did not create", id.Ref)
		}
		return rules.Known(v), nil
	}
	out := make([]rules.Op, len(ops))
	for i, op := range ops {
		op.Fields = maps.Clone(op.Fields)
		if op.Target != nil {
			t, err := fix(*op.Target)
			if err != nil {
				return nil, err
			}
			op.Target = &t
		}
		if op.Links != nil {
			links := make(map[string]rules.ID, len(op.Links))
			for k, id := range op.Links {
				v, err := fix(id)
				if err != nil {
					return nil, err
				}
				links[k] = v
			}
			op.Links = links
		}
		bs := make([]rules.EntityRef, len(op.Bindings))
		for j, b := range op.Bindings {
			v, err := fix(b.ID)
			if err != nil {
				return nil, err
			}
			bs[j] = rules.EntityRef{Entity: b.Entity, ID: v}
		}
		op.Bindings = bs
		out[i] = op
	}
	return out, nil
}

var errNoCall = errors.New("the call is not in the ledger")
