package rules

import "fmt"

// notify applies OL1: after an incoming call, answered or not, a message
// naming the client number and the outcome, with a link to the entity, goes
// to the responsible employee's chat.
func (d *decision) notify() {
	switch {
	case !d.s.OpenLines.NotifyEmployee:
		d.tr.skipped("OL1", "off")
		return
	case !d.incoming():
		d.tr.skipped("OL1", "outgoing call: messages are posted about incoming calls only")
		return
	case d.resp.activity <= 0:
		d.tr.skipped("OL1", "there is no responsible employee to tell")
		return
	}
	text := "Входящий звонок от " + d.call.ContactNumber
	if d.call.VirtualNumber != "" {
		text += " на " + d.call.VirtualNumber
	}
	text += ": " + outcomeWord(d.call.Outcome)
	op := Op{Kind: OpNotify, Fields: Fields{"USER_ID": d.resp.activity, "MESSAGE": text}}
	link := "no entity to link to"
	switch {
	case len(d.bindings) > 0:
		op.Bindings = d.bindings[:1]
	default:
		if h, ok := first(d.client.priority()); ok {
			op.Bindings = []EntityRef{h.ref()}
		}
	}
	if len(op.Bindings) > 0 {
		link = fmt.Sprintf("a link to %s %s", op.Bindings[0].Entity, op.Bindings[0].ID)
	}
	d.add(op)
	d.tr.fired("OL1", "a message to user %d: «%s», with %s", d.resp.activity, text, link)
}
