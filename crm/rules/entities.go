package rules

import (
	"fmt"
	"strings"

	"github.com/omniphone/omniphone/settings"
)

// creation is an entity the plan creates.
type creation struct {
	entity settings.EntityType
	links  map[string]ID
}

// register applies CP3/CP4 with CP5, CP6, T1–T2, F1–F2, EF1 and the call
// activity (RC1–RC2): reuse the client's open entities or create new ones,
// then add the activity.
func (d *decision) register() {
	rule, other := "CP3", "CP4"
	on := d.s.CallProcessing.CreateForIncoming
	if !d.incoming() {
		rule, other = "CP4", "CP3"
		on = d.s.CallProcessing.CreateForOutgoing
	}
	d.tr.skipped(other, "applies to %s calls", directionWord(otherDirection(d.call.Direction)))
	if !on {
		d.tr.skipped(rule, "off: %s calls are not registered in the CRM (no entity, no activity)", directionWord(d.call.Direction))
		d.noEntity = rule + " is off"
		d.journal = rule + ": " + directionWord(d.call.Direction) + " calls are not registered in the CRM"
		d.tr.rest(rule+" is off: nothing is registered", "CP5", "CP6", "T1", "T2", "F1", "F2", "RC1", "RC2")
		d.tr.rest(rule+" is off: no entity is created", "EF1")
		return
	}
	creates, bindings, why := d.chooseEntities()
	d.tr.fired(rule, "%s", why)

	cp := d.s.CallProcessing
	real := d.resp.entity
	initial := real
	delay := 0
	if len(creates) > 0 && cp.UpdateResponsibleAfterMinutes > 0 {
		delay = cp.UpdateResponsibleAfterMinutes
		initial = d.defaultResponsible()
	}
	if len(creates) > 0 && (initial <= 0 || real <= 0) {
		d.noEntity = fmt.Sprintf("no default responsible for %s calls is set (RS1): choose one in Responsibles, or press \"Sync employees\" if the list is empty", directionWord(d.call.Direction))
		d.journal = "D3: " + d.noEntity
		d.explainNoEntity()
		d.tr.rest("no entity could be created (D3)", "CP5", "CP6", "T1", "T2", "F1", "F2", "EF1", "RC1", "RC2")
		return
	}
	for _, c := range creates {
		d.add(Op{Kind: OpCreate, Ref: entityRefName(c.entity), Entity: c.entity, Fields: d.createFields(c.entity, initial), Links: c.links})
	}
	d.created = len(creates)
	d.bindings = bindings
	if len(creates) > 0 {
		d.tr.rest("every created entity's title comes from a template (T1)", "T2")
		d.tr.rest("no template applies to the created entities, so the default is used (T2)", "T1")
	}
	d.traceSource()
	if len(creates) == 0 {
		d.tr.rest("no entity is created", "T1", "T2", "F1", "F2", "EF1")
		d.noEntity = "the client's open entities are reused (" + rule + ")"
	}

	d.add(d.completeEarlier(rule)...)
	activity := d.activityOps(rule)
	switch {
	case delay > 0:
		var later []Op
		if real != initial {
			for _, c := range creates {
				later = append(later, Op{Kind: OpUpdate, Entity: c.entity, Target: ptr(RefID(entityRefName(c.entity))), Fields: Fields{"ASSIGNED_BY_ID": real}})
			}
		}
		later = append(later, activity...)
		if len(later) > 0 {
			d.add(Op{Kind: OpSchedule, DelayMinutes: delay, Ops: later})
		}
		d.tr.fired("CP5", "N = %d: entities are created with the default responsible %d; after %d minutes a scheduled job sets the real responsible %d and adds the activity", delay, initial, delay, real)
	case len(creates) > 0:
		d.add(activity...)
		d.tr.skipped("CP5", "N = 0: entities get the real responsible %d at once", real)
	default:
		d.add(activity...)
		d.tr.skipped("CP5", "no entity is created, so nothing waits: the activity is added now")
	}
}

func otherDirection(dir settings.Direction) settings.Direction {
	if dir == settings.DirectionOut {
		return settings.DirectionIn
	}
	return settings.DirectionOut
}

// chooseEntities decides, by CRM mode, which entities the call uses:
// the client's open lead/deal when one exists (CP3 repeat call), otherwise
// new ones — classic: a lead; simple: a deal, plus a contact when the client
// has neither a contact nor a company. It returns what to create, the
// activity's bindings (owner first) and why.
func (d *decision) chooseEntities() ([]creation, []EntityRef, string) {
	c := d.client
	contact, hasContact := first(c.contacts)
	company, hasCompany := first(c.companies)
	openDeal, hasOpenDeal := open(c.deals)
	openLead, hasOpenLead := open(c.leads)
	if d.snap.Mode == ModeSimple {
		hasOpenLead = false // simple CRM has no leads to reuse
	}

	var bindings []EntityRef
	appendKnown := func(h held, ok bool) {
		if ok {
			bindings = append(bindings, h.ref())
		}
	}
	if hasOpenDeal || hasOpenLead {
		appendKnown(openDeal, hasOpenDeal)
		appendKnown(openLead, hasOpenLead)
		appendKnown(contact, hasContact)
		appendKnown(company, hasCompany)
		var reused []string
		for _, b := range bindings[:btoi(hasOpenDeal)+btoi(hasOpenLead)] {
			reused = append(reused, fmt.Sprintf("%s %s", b.Entity, b.ID))
		}
		why := fmt.Sprintf("repeat call: the client has open %s, so it is reused and nothing is created", strings.Join(reused, " and "))
		if d.snap.Mode == ModeSimple {
			if l, ok := open(c.leads); ok {
				why += fmt.Sprintf(" (%s is open, but simple CRM does not use leads)", l)
			}
		}
		return nil, bindings, why
	}

	var why string
	switch {
	case c.empty():
		why = "first call: "
	case len(c.leads)+len(c.deals) == 0:
		why = "repeat call: the client has no lead or deal, so "
	default:
		why = fmt.Sprintf("repeat call: every lead and deal of the client is final (%s), so ", d.finals())
	}
	if d.snap.Mode != ModeSimple {
		create := creation{entity: settings.EntityLead, links: linkMap(hasContact, Known(contact.ID), company, hasCompany)}
		bindings = append(bindings, EntityRef{Entity: settings.EntityLead, ID: RefID(RefLead)})
		appendKnown(contact, hasContact)
		appendKnown(company, hasCompany)
		return []creation{create}, bindings, why + "a new lead is created (classic CRM)" + linkWords(hasContact, contact, hasCompany, company)
	}
	var creates []creation
	contactID := Known(contact.ID)
	newContact := !hasContact && !hasCompany
	if newContact {
		creates = append(creates, creation{entity: settings.EntityContact})
		contactID = RefID(RefContact)
	}
	creates = append(creates, creation{entity: settings.EntityDeal, links: linkMap(hasContact || newContact, contactID, company, hasCompany)})
	bindings = append(bindings, EntityRef{Entity: settings.EntityDeal, ID: RefID(RefDeal)})
	if hasContact || newContact {
		bindings = append(bindings, EntityRef{Entity: settings.EntityContact, ID: contactID})
	}
	appendKnown(company, hasCompany)
	if newContact {
		return creates, bindings, why + "a new deal and a new contact are created (simple CRM; the call names no company)"
	}
	return creates, bindings, why + "a new deal is created (simple CRM)" + linkWords(hasContact, contact, hasCompany, company)
}

// linkMap returns the CONTACT_ID and COMPANY_ID links of a created entity.
func linkMap(hasContact bool, contactID ID, company held, hasCompany bool) map[string]ID {
	m := map[string]ID{}
	if hasContact {
		m["CONTACT_ID"] = contactID
	}
	if hasCompany {
		m["COMPANY_ID"] = Known(company.ID)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func linkWords(hasContact bool, contact held, hasCompany bool, company held) string {
	var parts []string
	if hasContact {
		parts = append(parts, contact.String())
	}
	if hasCompany {
		parts = append(parts, company.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return ", linked to the existing " + strings.Join(parts, " and ")
}

// finals describes the client's leads and deals and why each is final.
func (d *decision) finals() string {
	var parts []string
	for _, h := range sortWork(append(append([]held(nil), d.client.leads...), d.client.deals...)) {
		state := string(h.Semantics)
		if h.Closed {
			state = "closed"
		}
		parts = append(parts, fmt.Sprintf("%s %s", h, state))
	}
	return strings.Join(parts, ", ")
}

// createFields returns the Bitrix24 fields of a created entity.
func (d *decision) createFields(t settings.EntityType, responsible int) Fields {
	call := d.call
	f := Fields{"ASSIGNED_BY_ID": responsible, "ORIGINATOR_ID": Originator, "ORIGIN_ID": call.ID}
	ttl := title(d.s, call, t, d.dir)
	key := "TITLE"
	if t == settings.EntityContact {
		key = "NAME" // contacts have no TITLE
	}
	f[key] = ttl.Text
	if ttl.Template > 0 {
		d.tr.fired("T1", "%s %s «%s»: %s", t, key, ttl.Text, ttl.Why)
	} else {
		d.tr.fired("T2", "%s %s «%s»: %s", t, key, ttl.Text, ttl.Why)
	}
	if t != settings.EntityCompany { // companies have no SOURCE_* fields
		f["SOURCE_ID"] = "CALL"
		if d.s.CallProcessing.VirtualNumberAsSource && call.VirtualNumber != "" {
			f["SOURCE_DESCRIPTION"] = call.VirtualNumber
		}
	}
	if t != settings.EntityDeal { // deals have no PHONE
		f["PHONE"] = []Multifield{{Value: call.ContactNumber, ValueType: "WORK"}}
	}
	switch t {
	case settings.EntityLead:
		if st := d.stage(); st.StageID != "" {
			f["STATUS_ID"] = st.StageID
		}
	case settings.EntityDeal:
		st := d.stage()
		f["CATEGORY_ID"] = st.CategoryID
		if st.StageID != "" {
			f["STAGE_ID"] = st.StageID
		}
	}
	values := d.extraFieldValues()
	for _, v := range values {
		f[v.field] = v.value
	}
	switch {
	case len(d.s.ExtraFields.Mappings) == 0:
	case len(values) == 0:
		d.tr.skipped("EF1", "the call has no value for any mapped extra field (created %s)", t)
	default:
		ef := Fields{}
		for _, v := range values {
			ef[v.field] = v.value
		}
		d.tr.fired("EF1", "the created %s gets %s", t, describeFields(ef))
	}
	if fc := d.s.CallProcessing.FirstCommunicationField; fc != "" && call.Params.FirstCommunicationID != "" {
		f[fc] = call.Params.FirstCommunicationID
	}
	return f
}

// traceSource traces CP6 once the entities are known.
func (d *decision) traceSource() {
	cp := d.s.CallProcessing
	switch {
	case !cp.VirtualNumberAsSource:
		d.tr.skipped("CP6", "off: SOURCE_DESCRIPTION is not written")
	case d.created == 0:
		d.tr.skipped("CP6", "on, but no entity is created; existing entities keep their source")
	case d.call.VirtualNumber == "":
		d.tr.skipped("CP6", "on, but the call has no virtual number")
	case d.incoming():
		d.tr.fired("CP6", "SOURCE_DESCRIPTION = %s, the number the client called (for a transferred call the PBX reports the first virtual number that took it)", d.call.VirtualNumber)
	default:
		d.tr.fired("CP6", "SOURCE_DESCRIPTION = %s, the caller ID used", d.call.VirtualNumber)
	}
}
