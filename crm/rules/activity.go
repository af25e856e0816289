package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omniphone/omniphone/settings"
)

// activityOps returns the call activity and its recording upload, unless
// RC2 stops them (RC1, RC2, CP3 "every processed call adds a call
// activity: missed → not completed; answered → completed").
func (d *decision) activityOps(rule string) []Op {
	if !d.recordingFilterAllows() {
		d.tr.skipped("RC1", "RC2 stops the activity, so no recording is sent")
		return nil
	}
	call := d.call
	if d.resp.activity <= 0 {
		d.tr.fired(rule, "no activity is added: nobody answered, no existing entity and no default responsible (RS1)")
		d.tr.skipped("RC1", "no activity, so no recording is sent")
		return nil
	}
	completed, state := "N", "not completed"
	if call.Answered() {
		completed, state = "Y", "completed"
	}
	dir := 1
	if !d.incoming() {
		dir = 2
	}
	f := Fields{
		"TYPE_ID":        2,
		"DIRECTION":      dir,
		"SUBJECT":        subject(d.incoming(), call.Answered(), call.ContactNumber),
		"COMPLETED":      completed,
		"RESPONSIBLE_ID": d.resp.activity,
		"START_TIME":     call.StartedAt.Format(time.RFC3339),
		"END_TIME":       call.EndedAt.Format(time.RFC3339),
		"COMMUNICATIONS": []Communication{{Type: "PHONE", Value: call.ContactNumber}},
		"ORIGINATOR_ID":  Originator,
		"ORIGIN_ID":      call.ID,
	}
	if desc := d.description(); desc != "" {
		f["DESCRIPTION"] = desc
	}
	if d.incoming() && !call.Answered() {
		f["SETTINGS"] = map[string]bool{"MISSED_CALL": true}
	}
	ops := []Op{{Kind: OpAddActivity, Ref: RefActivity, Fields: f, Bindings: d.bindings}}
	d.tr.fired(rule, "the call activity is added, %s (%s), responsible %d, bound to %s, ORIGIN_ID %s", state, call.Outcome, d.resp.activity, describeRefs(d.bindings), call.ID)
	switch {
	case !d.s.Recordings.Send:
		d.tr.skipped("RC1", "off: recordings are not sent")
	case call.Recording == nil:
		d.tr.skipped("RC1", "on, but the call has no recording")
	default:
		ops = append(ops, Op{Kind: OpUploadRecording, Target: ptr(RefID(RefActivity)), Recording: call.Recording})
		d.tr.fired("RC1", "on: the recording is uploaded and attached to the call activity (a retried job)")
	}
	return ops
}

func subject(incoming, answered bool, number string) string {
	switch {
	case incoming && answered:
		return "Входящий звонок от " + number
	case incoming:
		return "Пропущенный звонок от " + number
	case answered:
		return "Исходящий звонок на " + number
	}
	return "Исходящий звонок на " + number + " без ответа"
}

// description says which virtual number took the call and how long it was.
func (d *decision) description() string {
	var parts []string
	if vn := d.call.VirtualNumber; vn != "" {
		if d.incoming() {
			parts = append(parts, "Звонок на номер "+vn)
		} else {
			parts = append(parts, "Звонок с номера "+vn)
		}
	}
	if d.call.Answered() {
		parts = append(parts, "длительность "+templateVars(d.call, d.dir, d.s.Responsibles.Talker)["duration"])
	}
	return strings.Join(parts, ", ")
}

func describeRefs(refs []EntityRef) string {
	if len(refs) == 0 {
		return "nothing"
	}
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = fmt.Sprintf("%s %s", r.Entity, r.ID)
	}
	return strings.Join(parts, ", ")
}

// recordingFilterAllows applies RC2: when the call filter (CP7) has a
// condition on employee or last scenario operation, RC2 decides whether the
// activity and the recording are created.
func (d *decision) recordingFilterAllows() bool {
	f := d.callFilter()
	params := []settings.Param{settings.ParamEmployee, settings.ParamLastOperation}
	include := slices.ContainsFunc(params, func(p settings.Param) bool { return f.UsesMode(p, settings.ModeInclude) })
	exclude := slices.ContainsFunc(params, func(p settings.Param) bool { return f.UsesMode(p, settings.ModeExclude) })
	on := d.s.Recordings.WithFilters
	switch {
	case !include && !exclude:
		d.tr.skipped("RC2", "the call filter has no condition on employee or last scenario operation, so RC1 decides")
		return true
	case on && exclude:
		d.tr.fired("RC2", "on, and the call filter excludes by employee or last scenario operation: no activity and no recording")
		return false
	case on:
		d.tr.fired("RC2", "on, and the call filter includes by employee or last scenario operation: the activity and the recording are created")
		return true
	case include:
		d.tr.fired("RC2", "off, and the call filter includes by employee or last scenario operation: no activity and no recording, even with RC1 on")
		return false
	}
	d.tr.skipped("RC2", "off, and the call filter only excludes by employee or last scenario operation, so RC1 decides")
	return true
}

// completeEarlier completes the client's earlier open call activities bound
// to the same entities, when the call was answered (CP3).
func (d *decision) completeEarlier(rule string) []Op {
	if !d.call.Answered() {
		return nil
	}
	bound := map[Binding]bool{}
	for _, b := range d.bindings {
		if !b.ID.IsRef() {
			bound[Binding{Entity: b.Entity, ID: b.ID.Known}] = true
		}
	}
	var ids []int
	for _, a := range d.snap.Activities {
		if !a.StartedAt.IsZero() && !a.StartedAt.Before(d.call.StartedAt) {
			continue
		}
		if slices.ContainsFunc(a.Bindings, func(b Binding) bool { return bound[b] }) && !slices.Contains(ids, a.ID) {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ops := make([]Op, len(ids))
	words := make([]string, len(ids))
	for i, id := range ids {
		ops[i] = Op{Kind: OpCompleteActivity, Target: ptr(Known(id)), Fields: Fields{"COMPLETED": "Y"}}
		words[i] = fmt.Sprint(id)
	}
	d.tr.fired(rule, "the call was answered, so the earlier open call activities %s of the same entities are completed", strings.Join(words, ", "))
	return ops
}
