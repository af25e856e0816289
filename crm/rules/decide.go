package rules

import (
	"strings"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// Originator is the ORIGINATOR_ID of everything the engine creates; with
// ORIGIN_ID = the call id it lets the executor find what a crashed attempt
// already created (SPEC D2).
const Originator = "omniphone"

// decision is the state of one Decide call.
type decision struct {
	s      settings.Settings // effective settings
	call   crm.Call
	snap   Snapshot
	dir    directory
	client client
	tr     tracer
	plan   Plan

	resp responsibility
	// bindings are the entities the call activity is bound to, owner first.
	bindings []EntityRef
	// created counts the entities the plan creates.
	created int
	// noEntity says why no entity was created, for D3.
	noEntity string
	// journal says why the call reached only the journal.
	journal string
}

// Decide decides what a finished call means for the CRM: the plan the sync
// engine carries out and the trace that says why. It reads only its
// arguments: no I/O, no clock, no randomness. It acts on s.Effective().
func Decide(s settings.Settings, call crm.Call, snap Snapshot) (Plan, Trace) {
	return NewDecider(s).Decide(call, snap)
}

// Decider decides calls under one set of settings, whose effective form it
// works out once: the sync engine decides every call under the same
// settings, and Settings.Effective copies them whole.
type Decider struct {
	s settings.Settings // effective; never changed
}

// NewDecider prepares decisions under s.
func NewDecider(s settings.Settings) *Decider { return &Decider{s: s.Effective()} }

// Decide is Decide under the Decider's settings; it is safe for concurrent
// use.
func (dc *Decider) Decide(call crm.Call, snap Snapshot) (Plan, Trace) {
	d := &decision{
		s:      dc.s,
		call:   call,
		snap:   snap,
		dir:    newDirectory(snap.Users),
		client: newClient(snap),
		plan:   Plan{CallID: call.ID, Ops: []Op{}},
	}
	d.run()
	d.finish()
	return d.plan, d.tr.steps
}

func (d *decision) run() {
	if d.otherTelephony() {
		return
	}
	d.routing()
	if d.linkedCall() {
		return
	}
	if !d.passesFilter() {
		return
	}
	d.decideResponsibles()
	d.updateExistingFields()
	d.register()
	d.notify()
}

// finish adds the journal operation when nothing reaches the CRM, the D3
// step, and a step for every rule not considered.
func (d *decision) finish() {
	d.explainNoEntity()
	if len(d.plan.Ops) == 0 {
		why := d.journal
		if why == "" {
			why = "nothing to change in the CRM for this call"
		}
		d.plan.Ops = append(d.plan.Ops, Op{Kind: OpJournal, Reason: why})
	}
	d.tr.rest("not applicable to this call", Rules...)
}

// explainNoEntity adds the D3 step once: why no entity was created.
func (d *decision) explainNoEntity() {
	switch {
	case d.tr.has("D3"):
	case d.created > 0:
		d.tr.skipped("D3", "entities are created")
	case d.noEntity != "":
		d.tr.fired("D3", "no entity was created: %s", d.noEntity)
	default:
		d.tr.fired("D3", "no entity was created")
	}
}

func (d *decision) add(ops ...Op) { d.plan.Ops = append(d.plan.Ops, ops...) }

// incoming reports whether the call is incoming.
func (d *decision) incoming() bool { return d.call.Direction != settings.DirectionOut }

// callFilter is the CP7 filter of the call's direction (empty when CP7 is
// off: Effective clears it).
func (d *decision) callFilter() settings.Filter {
	if d.incoming() {
		return d.s.CallProcessing.Filters.Incoming
	}
	return d.s.CallProcessing.Filters.Outgoing
}

// defaultResponsible is the RS1 default of the call's direction.
func (d *decision) defaultResponsible() int {
	if d.incoming() {
		return d.s.Responsibles.DefaultIncoming
	}
	return d.s.Responsibles.DefaultOutgoing
}

func joinSemi(parts []string) string { return strings.Join(parts, "; ") }
