package rules

import (
	"github.com/omniphone/omniphone/settings"
)

// Target is an employee a call is routed to.
type Target struct {
	UserID    int    `json:"user_id"`
	Extension string `json:"extension"`
}

// Route answers the PBX's routing query "who is the personal manager of
// this client?" (CP2, GET /api/v1/route): the responsible of the client's
// entity by RS8 priority (Contact > Company > Lead/Deal) who is an active
// employee with an extension. ok is false — "no route", HTTP 404 — when CP2
// is off (or CP1 on), or no such employee exists. snap holds the client's
// entities found by the number.
func Route(s settings.Settings, snap Snapshot) (Target, bool, Trace) {
	var tr tracer
	e := s.Effective()
	if !e.CallProcessing.ForwardToPersonalManager {
		tr.skipped("CP2", "off (or CP1 on): no route, the PBX ends this scenario branch")
		return Target{}, false, tr.steps
	}
	t, ok, why := personalManager(snap)
	if !ok {
		tr.skipped("CP2", "no route: %s", why)
		return Target{}, false, tr.steps
	}
	tr.fired("CP2", "%s: route to extension %s (user %d)", why, t.Extension, t.UserID)
	return t, true, tr.steps
}

// personalManager finds the client's responsible employee by RS8 priority.
func personalManager(snap Snapshot) (Target, bool, string) {
	c := newClient(snap)
	if c.empty() {
		return Target{}, false, "the number belongs to no client"
	}
	dir := newDirectory(snap.Users)
	var passed []string
	for _, h := range c.priority() {
		u, ok := dir.byID(h.Responsible)
		switch {
		case h.Responsible <= 0:
			passed = append(passed, h.String()+": no responsible")
		case !ok:
			passed = append(passed, h.String()+": its responsible is not a known user")
		case !u.Active:
			passed = append(passed, h.String()+": its responsible is inactive")
		case u.InnerPhone == "":
			passed = append(passed, h.String()+": its responsible has no extension")
		default:
			return Target{UserID: u.ID, Extension: u.InnerPhone}, true, h.String() + "'s responsible (RS8 priority)"
		}
	}
	return Target{}, false, "no responsible is an active employee with an extension (" + joinSemi(passed) + ")"
}

// CallbackPlan is what the phone does for a Bitrix24 callback request
// (CB1): ring Employee first and then dial the client, or dial Number.
type CallbackPlan struct {
	// Ignore means callback is off: acknowledge and log the event.
	Ignore   bool    `json:"ignore,omitempty"`
	Employee *Target `json:"employee,omitempty"`
	// Number is the callback number from settings, used when no employee
	// with an extension is mapped to the client.
	Number string `json:"number,omitempty"`
}

// Callback decides a callback request (OnExternalCallBackStart, CB1): the
// employee mapped to the client — the responsible of the client's entities
// by RS8 priority, or of the entity the event names, put in snap — rings
// first; without one (or without an extension, i.e. no SIP account) the
// configured number is called instead.
func Callback(s settings.Settings, snap Snapshot) (CallbackPlan, Trace) {
	var tr tracer
	cb := s.Effective().Callback
	if !cb.Enabled {
		tr.skipped("CB1", "off: the callback request is acknowledged and logged only")
		return CallbackPlan{Ignore: true}, tr.steps
	}
	t, ok, why := personalManager(snap)
	if !ok {
		tr.fired("CB1", "%s, so the callback number %s is called", why, cb.Number)
		return CallbackPlan{Number: cb.Number}, tr.steps
	}
	tr.fired("CB1", "%s: extension %s rings first, then the client is dialled", why, t.Extension)
	return CallbackPlan{Employee: &t}, tr.steps
}

// ClickToCallPlan is how the phone places a click-to-call call (C1–C3).
type ClickToCallPlan struct {
	// Ignore means click-to-call is off: acknowledge and log the event.
	Ignore bool `json:"ignore,omitempty"`
	// CallerID, when set, is the only number the client sees (C3); empty
	// means the SIP account's caller ID.
	CallerID string `json:"caller_id,omitempty"`
}

// ClickToCall decides an OnExternalCallStart event (C1–C3).
func ClickToCall(s settings.Settings) (ClickToCallPlan, Trace) {
	var tr tracer
	c := s.Effective().ClickToCall
	if !c.Enabled {
		tr.skipped("C1", "off: the click-to-call event is acknowledged and logged only")
		return ClickToCallPlan{Ignore: true}, tr.steps
	}
	tr.fired("C1", "on: dial the clicked number and link the call to the event's CALL_ID")
	if !c.OverrideCallerID {
		tr.skipped("C3", "off: the SIP account's caller ID is shown")
		return ClickToCallPlan{}, tr.steps
	}
	tr.fired("C3", "on: the client sees only %s (C2)", c.Number)
	return ClickToCallPlan{CallerID: c.Number}, tr.steps
}
