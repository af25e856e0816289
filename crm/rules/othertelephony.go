package rules

import (
	"fmt"
)

// otherTelephony applies CP1 and reports whether it did: another telephony
// owns the CRM integration, so the engine only updates the extra fields and
// the first-communication field of entities modified during the call.
func (d *decision) otherTelephony() bool {
	cp := d.s.CallProcessing
	if !cp.UseOtherTelephony {
		d.tr.skipped("CP1", "off: this integration processes the calls")
		return false
	}
	const ignored = "CP1 is on: another telephony processes the calls, so this is ignored"
	if d.client.empty() {
		d.tr.fired("CP1", "on: the client has no entities, so nothing is created; the call is recorded in the journal only")
		d.journal = "CP1: the client has no entities; another telephony owns the CRM integration"
		d.noEntity = "CP1 is on (another telephony creates entities)"
		d.tr.skipped("EF1", "%s", "CP1: the client has no entity to update")
		d.explainNoEntity()
		d.tr.rest(ignored, Rules...)
		return true
	}
	values := d.extraFieldValues()
	var notes []string
	updated := 0
	for _, h := range d.client.all() {
		if h.ModifiedAt.Before(d.call.StartedAt) || h.ModifiedAt.After(d.call.EndedAt) {
			notes = append(notes, fmt.Sprintf("%s not modified during the call", h))
			continue
		}
		f := changedFields(h.Entity, values)
		if fc := cp.FirstCommunicationField; fc != "" && d.call.Params.FirstCommunicationID != "" && h.Fields[fc] == "" {
			f[fc] = d.call.Params.FirstCommunicationID
		}
		if len(f) == 0 {
			notes = append(notes, fmt.Sprintf("%s modified during the call but already holds these values", h))
			continue
		}
		d.add(Op{Kind: OpUpdate, Entity: h.Type, Target: ptr(Known(h.ID)), Fields: f})
		notes = append(notes, fmt.Sprintf("%s modified during the call: %s", h, describeFields(f)))
		updated++
	}
	switch {
	case updated > 0:
		d.tr.fired("CP1", "on: updating only entities modified during the call, activities untouched: %s", joinSemi(notes))
		d.tr.fired("EF1", "extra fields of the entities modified during the call are updated (CP1)")
	default:
		d.tr.fired("CP1", "on: nothing is updated, activities untouched: %s", joinSemi(notes))
		d.journal = "CP1: no entity of the client was modified during the call"
	}
	d.noEntity = "CP1 is on (another telephony creates entities)"
	d.explainNoEntity()
	d.tr.rest(ignored, Rules...)
	return true
}
