package rules

import (
	"github.com/omniphone/omniphone/crm"
)

// statusCode is the telephony.externalCall.finish STATUS_CODE of an outcome.
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

// routing traces CP2: it works before calls, through Route.
func (d *decision) routing() {
	if d.s.CallProcessing.ForwardToPersonalManager {
		d.tr.skipped("CP2", "on: routing queries are answered before calls (Route); nothing to do after a call")
	} else {
		d.tr.skipped("CP2", "off: routing queries get \"no route\"; nothing to do after a call")
	}
}

// linkedCall handles a call Bitrix24 registered itself (click-to-call C1/C4
// or callback CB1, the record's bitrix24_call_id) and reports whether it
// did: the engine only finishes that call, and Bitrix24 writes its activity.
func (d *decision) linkedCall() bool {
	c2c, cb := d.s.ClickToCall, d.s.Callback
	if c2c.Enabled {
		d.tr.skipped("C2", "click-to-call number is %s (required while C1 is on)", c2c.Number)
		if c2c.OverrideCallerID {
			d.tr.skipped("C3", "on: click-to-call calls show the client only %s; the phone sets it on the INVITE", c2c.Number)
		} else {
			d.tr.skipped("C3", "off: click-to-call calls show the SIP account's caller ID")
		}
	} else {
		d.tr.skipped("C2", "C1 is off, so the click-to-call number is unused")
		d.tr.skipped("C3", "C1 is off, so the caller ID is never overridden")
	}
	if d.call.Bitrix24CallID == nil || *d.call.Bitrix24CallID == "" {
		d.tr.skipped("C1", "the call was not started from Bitrix24 (no bitrix24_call_id)")
		d.tr.skipped("CB1", "the call was not started by a Bitrix24 callback (no bitrix24_call_id)")
		return false
	}
	id := *d.call.Bitrix24CallID
	if !c2c.Enabled && !cb.Enabled {
		d.tr.skipped("C1", "off (and callback CB1 off): the link to Bitrix24 call %s is ignored and the call is processed like any other", id)
		d.tr.skipped("CB1", "off")
		return false
	}
	rule, other := "C1", "CB1"
	if !c2c.Enabled {
		rule, other = "CB1", "C1"
	}
	fields := Fields{
		"CALL_ID":     id,
		"DURATION":    int(d.call.Duration().Seconds()),
		"STATUS_CODE": statusCode(d.call.Outcome),
		"ADD_TO_CHAT": 0,
	}
	ext := employeeExt(d.call, d.s.Responsibles.Talker)
	u, why := d.dir.employee(ext)
	switch {
	case u.ID > 0:
		fields["USER_ID"] = u.ID
	case ext != "":
		fields["USER_PHONE_INNER"] = ext
	case d.defaultResponsible() > 0:
		fields["USER_ID"] = d.defaultResponsible()
	default:
		d.tr.fired(rule, "the call is linked to Bitrix24 call %s, but it cannot be finished: %s and no default responsible is set (RS1)", id, why)
		d.tr.skipped(other, "the call is handled as %s", rule)
		d.noEntity = "the Bitrix24 call could not be finished: no employee and no default responsible (RS1)"
		d.journal = "Bitrix24 call " + id + " could not be finished: no employee and no default responsible"
		d.explainNoEntity()
		d.tr.rest("the call is linked to a Bitrix24 call, so Bitrix24 registers it", Rules...)
		return true
	}
	d.add(Op{Kind: OpFinishCall, Fields: fields})
	d.tr.fired(rule, "the call is linked to Bitrix24 call %s (click-to-call or callback): the engine finishes that call with status %s; Bitrix24 writes the activity (ORIGIN_ID VI_%s)",
		id, fields["STATUS_CODE"], id)
	d.tr.skipped(other, "the call is handled as %s", rule)
	switch {
	case !d.s.Recordings.Send:
		d.tr.skipped("RC1", "off: recordings are not sent")
	case d.call.Recording == nil:
		d.tr.skipped("RC1", "on, but the call has no recording")
	default:
		d.add(Op{Kind: OpUploadRecording, CallID: id, Recording: d.call.Recording})
		d.tr.fired("RC1", "on: the recording is attached to Bitrix24 call %s", id)
	}
	d.noEntity = "the call is linked to Bitrix24 call " + id + ", and Bitrix24 registers it in the CRM itself"
	d.explainNoEntity()
	d.tr.rest("the call is linked to a Bitrix24 call, so Bitrix24 registers it", Rules...)
	return true
}
