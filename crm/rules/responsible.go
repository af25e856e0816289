package rules

import (
	"fmt"
	"strings"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// responsibility is who gets what for one call (SPEC §7).
type responsibility struct {
	// entity is the responsible of entities the engine creates; 0 when
	// there is none (D3).
	entity int
	// activity is the responsible of the call activity and of the OL1
	// message.
	activity int
	// existing is the entity whose responsible was taken (RS8), if any.
	existing *held
	// employee is the user who answered (incoming) or made (outgoing) the
	// call, 0 when not found.
	employee int
	// employeeExt is that user's extension, "" when nobody answered.
	employeeExt string
	// fromDefault says the entity responsible is the RS1 default.
	fromDefault bool
}

// decideResponsibles applies RS1–RS17.
//
// Entities the engine creates get, in order: the responsible of an existing
// entity (Contact > Company > Lead/Deal, RS8, RS11, RS17); for outgoing calls
// the calling employee, else the outgoing default (RS4); for incoming calls
// the first matching rule (RS2, RS7), else who answered (RS6), else the
// incoming default (RS5).
//
// The call activity goes to who answered an incoming call (RS3, RS6, RS7,
// RS10) or to who made an outgoing one (RS4), when that extension is an
// active employee; otherwise to the entity responsible above (RS5, RS9).
func (d *decision) decideResponsibles() {
	rs := d.s.Responsibles
	r := &d.resp
	call := d.call
	first := d.client.empty()

	// RS8: an existing entity's responsible.
	var passed []string
	for _, h := range d.client.priority() {
		if ok, why := d.dir.usable(h.Responsible); !ok {
			passed = append(passed, fmt.Sprintf("%s: %s", h, why))
			continue
		}
		r.existing = &h
		break
	}

	// The employee who was called: who answered, or who made the call.
	r.employeeExt = employeeExt(call, rs.Talker)
	emp, empWhy := d.dir.employee(r.employeeExt)
	r.employee = emp.ID
	d.traceTalker(empWhy)

	// RS2: responsible rules, incoming only.
	ruleUser, ruleWhy := d.matchRule()

	def := d.defaultResponsible()
	defWord := "incoming"
	if !d.incoming() {
		defWord = "outgoing"
	}
	var entityWhy string
	switch {
	case r.existing != nil:
		r.entity, entityWhy = r.existing.Responsible, fmt.Sprintf("%s's responsible %d", r.existing, r.existing.Responsible)
	case !d.incoming() && r.employee > 0:
		r.entity, entityWhy = r.employee, fmt.Sprintf("the calling employee %d (extension %s)", r.employee, r.employeeExt)
	case d.incoming() && ruleUser > 0:
		r.entity, entityWhy = ruleUser, fmt.Sprintf("the rule's responsible %d", ruleUser)
	case d.incoming() && r.employee > 0:
		r.entity, entityWhy = r.employee, fmt.Sprintf("who answered, %d (extension %s)", r.employee, r.employeeExt)
	default:
		r.entity, entityWhy, r.fromDefault = def, fmt.Sprintf("the %s default %d", defWord, def), true
	}
	answeredIn := d.incoming() && call.Answered()
	var activityWhy string
	switch {
	case (answeredIn || !d.incoming()) && r.employee > 0:
		r.activity = r.employee
		activityWhy = fmt.Sprintf("who answered, %d (extension %s)", r.employee, r.employeeExt)
		if !d.incoming() {
			activityWhy = fmt.Sprintf("the calling employee %d (extension %s)", r.employee, r.employeeExt)
		}
	default:
		r.activity, activityWhy = r.entity, entityWhy
	}

	// RS1
	switch {
	case r.fromDefault && def > 0:
		d.tr.fired("RS1", "the %s default responsible %d is used", defWord, def)
	case r.fromDefault:
		d.tr.fired("RS1", "the %s default responsible is needed but not set", defWord)
	default:
		d.tr.skipped("RS1", "defaults (incoming %d, outgoing %d) are not needed", rs.DefaultIncoming, rs.DefaultOutgoing)
	}

	// RS8
	switch {
	case r.existing != nil && len(passed) > 0:
		d.tr.fired("RS8", "%s's responsible %d comes first (Contact > Company > Lead/Deal); passed over %s", r.existing, r.existing.Responsible, joinSemi(passed))
	case r.existing != nil:
		d.tr.fired("RS8", "%s's responsible %d comes first (Contact > Company > Lead/Deal)", r.existing, r.existing.Responsible)
	case first:
		d.tr.skipped("RS8", "first call: the client has no entity, so %s", priorityRest(d.incoming()))
	default:
		d.tr.skipped("RS8", "no existing entity has a usable responsible (%s), so %s", joinSemi(passed), priorityRest(d.incoming()))
	}

	d.traceFirstCall(first, ruleUser, ruleWhy, entityWhy, activityWhy)
	d.traceRepeatCall(first, entityWhy, activityWhy)
	d.traceCombination(first, entityWhy, activityWhy)
}

func priorityRest(incoming bool) string {
	if incoming {
		return "a matching rule, then who answered, then the default decide"
	}
	return "the calling employee, then the default decide"
}

// traceTalker traces RS3.
func (d *decision) traceTalker(empWhy string) {
	call := d.call
	switch {
	case !d.incoming():
		d.tr.skipped("RS3", "outgoing call: the calling employee counts, not a talker")
	case !call.Answered():
		d.tr.skipped("RS3", "nobody answered")
	case empWhy != "":
		d.tr.fired("RS3", "talker %q: who answered is extension %s (talked: %s), but %s", d.s.Responsibles.Talker, d.resp.employeeExt, strings.Join(call.Talked, ", "), empWhy)
	default:
		d.tr.fired("RS3", "talker %q: who answered is extension %s, user %d (talked: %s)", d.s.Responsibles.Talker, d.resp.employeeExt, d.resp.employee, strings.Join(call.Talked, ", "))
	}
}

// matchRule applies RS2: the first responsible rule whose filter matches an
// incoming call.
func (d *decision) matchRule() (int, string) {
	rules := d.s.Responsibles.Rules
	switch {
	case !d.incoming():
		d.tr.skipped("RS2", "responsible rules apply to incoming calls only")
		return 0, ""
	case len(rules) == 0:
		d.tr.skipped("RS2", "no responsible rule is set")
		return 0, "no rule"
	}
	var misses []string
	for i, rule := range rules {
		m := matchFilter(rule.Filter, d.call, d.dir)
		if m.Matched && rule.UserID > 0 {
			why := fmt.Sprintf("rule %d (%s) assigns %d", i+1, m, rule.UserID)
			d.tr.fired("RS2", "%s", why)
			return rule.UserID, why
		}
		misses = append(misses, fmt.Sprintf("rule %d: %s", i+1, m))
	}
	why := "no rule matches: " + joinSemi(misses)
	d.tr.skipped("RS2", "%s", why)
	return 0, why
}

// traceFirstCall traces RS4–RS7.
func (d *decision) traceFirstCall(first bool, ruleUser int, ruleWhy, entityWhy, activityWhy string) {
	r := d.resp
	const notFirst = "repeat call: the client already has entities"
	if !d.incoming() {
		switch {
		case !first:
			d.tr.skipped("RS4", "%s; the activity goes to %s", notFirst, activityWhy)
		case r.employee > 0:
			d.tr.fired("RS4", "outgoing, employee found: entity and activity on %s", activityWhy)
		default:
			d.tr.fired("RS4", "outgoing, calling employee not found (%s): entity and activity on %s", employeeMissing(d.call, d.dir, d.s.Responsibles.Talker), entityWhy)
		}
		d.tr.rest("incoming calls only", "RS5", "RS6", "RS7", "RS9", "RS10")
		return
	}
	d.tr.skipped("RS4", "outgoing calls only")
	if !first {
		d.tr.rest(notFirst, "RS5", "RS6", "RS7")
		return
	}
	answered := d.call.Answered()
	switch {
	case ruleUser > 0 && answered:
		d.tr.fired("RS7", "%s: the entity goes to %d; the call was answered, so the activity goes to %s", ruleWhy, ruleUser, activityWhy)
	case ruleUser > 0:
		d.tr.fired("RS7", "%s: entity and activity go to %d", ruleWhy, ruleUser)
	default:
		d.tr.skipped("RS7", "%s", orText(ruleWhy, "no rule matches"))
	}
	switch {
	case answered && ruleUser > 0:
		d.tr.skipped("RS6", "a rule matched, so the entity goes to the rule's responsible (RS7); the activity still goes to who answered")
	case answered && r.employee > 0:
		d.tr.fired("RS6", "incoming answered: entity and activity on %s", activityWhy)
	case answered:
		d.tr.skipped("RS6", "who answered (extension %s) is not an active employee: entity and activity on %s", r.employeeExt, entityWhy)
	default:
		d.tr.skipped("RS6", "the call was not answered")
	}
	switch {
	case !answered && ruleUser == 0:
		d.tr.fired("RS5", "incoming %s, no rule matches: entity and activity on %s", d.call.Outcome, entityWhy)
	case answered:
		d.tr.skipped("RS5", "the call was answered")
	default:
		d.tr.skipped("RS5", "a rule matched (RS7)")
	}
}

// traceRepeatCall traces RS9–RS10.
func (d *decision) traceRepeatCall(first bool, entityWhy, activityWhy string) {
	if !d.incoming() || d.tr.has("RS9") {
		return
	}
	if first {
		d.tr.rest("first call: the client has no entity yet", "RS9", "RS10")
		return
	}
	if d.call.Answered() {
		d.tr.skipped("RS9", "the call was answered")
		if d.resp.employee > 0 {
			d.tr.fired("RS10", "repeat call answered: the activity goes to %s; new entities go to %s and existing ones keep their responsible", activityWhy, entityWhy)
		} else {
			d.tr.skipped("RS10", "who answered (extension %s) is not an active employee, so the activity goes to %s", d.resp.employeeExt, activityWhy)
		}
		return
	}
	d.tr.fired("RS9", "repeat call %s: the activity goes to %s (RS8)", d.call.Outcome, activityWhy)
	d.tr.skipped("RS10", "the call was not answered")
}

// traceCombination traces RS11–RS17: the existing-entity combinations SPEC
// names. They follow from RS8–RS10; the step says which one this is.
func (d *decision) traceCombination(firstCall bool, entityWhy, activityWhy string) {
	combos := []string{"RS11", "RS12", "RS13", "RS14", "RS15", "RS16", "RS17"}
	rule := d.client.combination()
	if firstCall || rule == "" {
		why := "the client has " + d.client.kinds() + ", a combination SPEC does not name (RS8 applies)"
		if firstCall {
			why = "first call: the client has no entity"
		}
		d.tr.rest(why, combos...)
		return
	}
	r := d.resp
	var b strings.Builder
	fmt.Fprintf(&b, "%s: new entities go to %s", d.client.kinds(), entityWhy)
	if r.existing != nil && r.employee > 0 && r.employee != r.existing.Responsible {
		fmt.Fprintf(&b, ", overriding the called employee %d", r.employee)
	}
	fmt.Fprintf(&b, "; the activity goes to %s", activityWhy)
	if c, ok := first(d.client.contacts); ok && (rule == "RS14" || rule == "RS15" || rule == "RS16") && !d.call.Answered() {
		fmt.Fprintf(&b, " (the contact's responsible: the activity is bound to %s as well)", c)
	}
	d.tr.fired(rule, "%s", b.String())
	d.tr.rest("the client has "+d.client.kinds()+", not this combination", combos...)
}

func employeeMissing(call crm.Call, dir directory, t settings.Talker) string {
	_, why := dir.employee(employeeExt(call, t))
	return why
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
