package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// The client, the number it called and the start of every test call.
const (
	clientNumber  = "+79161234567"
	virtualNumber = "+74951234567"
	ruleNumber    = "+74950000001"
	otherRuleNum  = "+74950000002"
	callID        = "call-1"
)

var (
	msk = time.FixedZone("MSK", 3*60*60)
	t0  = time.Date(2026, 11, 25, 10, 0, 0, 0, msk)
)

// Users: 1 is the incoming default, 7 the outgoing default; 5, 9 and 11
// are employees on extensions 101, 102 and 105; 13 is inactive on 109.
var testUsers = []User{
	{ID: 1, Name: "Администратор", InnerPhone: "100", Active: true},
	{ID: 5, Name: "Ирина Петрова", InnerPhone: "101", Active: true},
	{ID: 7, Name: "Олег Смирнов", InnerPhone: "107", Active: true},
	{ID: 9, Name: "Павел Орлов", InnerPhone: "102", Active: true},
	{ID: 11, Name: "Анна Козлова", InnerPhone: "105", Active: true},
	{ID: 13, Name: "Уволенный", InnerPhone: "109", Active: false},
	{ID: 20, Name: "Мария Волкова", InnerPhone: "120", Active: true},
}

// base returns valid settings with CP3 and CP4 on and everything optional
// off, so each test switches on what it is about.
func base() settings.Settings {
	s := settings.Default()
	s.Portals = []settings.Portal{{ID: "main", Name: "Company", Domain: "https://company.bitrix24.ru", Main: true,
		Auth: settings.Auth{Kind: settings.AuthOAuth, ClientID: "local.abc"}}}
	s.CallProcessing.CreateForIncoming = true
	s.CallProcessing.CreateForOutgoing = true
	s.Responsibles.DefaultIncoming = 1
	s.Responsibles.DefaultOutgoing = 7
	s.Responsibles.Talker = settings.TalkerLast
	return s
}

// valid fails the test when s does not pass Validate.
func valid(t *testing.T, s settings.Settings) settings.Settings {
	t.Helper()
	require.NoError(t, s.Validate())
	return s
}

// withRule adds RS2 rule: calls to number go to user.
func withRule(s settings.Settings, number string, user int) settings.Settings {
	s.Responsibles.Rules = append(s.Responsibles.Rules, settings.ResponsibleRule{
		Filter: filterOf(settings.ParamVirtualNumber, settings.ModeInclude, number), UserID: user})
	return s
}

func filterOf(p settings.Param, m settings.Mode, values ...string) settings.Filter {
	return settings.Filter{Groups: []settings.Group{{Conditions: []settings.Condition{{Param: p, Mode: m, Values: values}}}}}
}

func call(dir settings.Direction, outcome crm.Outcome, rung, talked []string) crm.Call {
	c := crm.Call{
		ID: callID, Direction: dir, Outcome: outcome,
		ContactNumber: clientNumber, VirtualNumber: virtualNumber,
		Rung: rung, Talked: talked,
		StartedAt: t0, EndedAt: t0.Add(3*time.Minute + 10*time.Second),
	}
	if outcome == crm.OutcomeAnswered {
		at := t0.Add(9 * time.Second)
		c.AnsweredAt = &at
	} else {
		c.EndedAt = t0.Add(30 * time.Second)
	}
	return c
}

func inMissed(rung ...string) crm.Call {
	return call(settings.DirectionIn, crm.OutcomeMissed, rung, nil)
}

func inAnswered(talked ...string) crm.Call {
	return call(settings.DirectionIn, crm.OutcomeAnswered, talked, talked)
}

func outAnswered(caller string) crm.Call {
	return call(settings.DirectionOut, crm.OutcomeAnswered, []string{caller}, []string{caller})
}

func outMissed(caller string) crm.Call {
	return call(settings.DirectionOut, crm.OutcomeMissed, []string{caller}, nil)
}

func to(c crm.Call, number string) crm.Call {
	c.VirtualNumber = number
	return c
}

// Snapshot builders.
func snap(mode Mode) Snapshot { return Snapshot{Mode: mode, Users: testUsers} }

func openE(id, responsible int) Entity {
	return Entity{ID: id, Responsible: responsible, Semantics: SemanticsProcess, ModifiedAt: t0.Add(-48 * time.Hour)}
}

func closedDeal(id, responsible int) Entity {
	return Entity{ID: id, Responsible: responsible, Semantics: SemanticsSuccess, Closed: true, StageID: "WON", ModifiedAt: t0.Add(-48 * time.Hour)}
}

func person(id, responsible int) Entity {
	return Entity{ID: id, Responsible: responsible, ModifiedAt: t0.Add(-72 * time.Hour)}
}

// Expected operations, written out field by field.

var phone = []Multifield{{Value: clientNumber, ValueType: "WORK"}}

func defaultTitle(dir settings.Direction) string {
	if dir == settings.DirectionOut {
		return "Исходящий звонок на номер " + clientNumber + " из приложения Omniphone"
	}
	return "Входящий звонок на номер " + clientNumber + " из приложения Omniphone"
}

type mod func(*Op)

func set(key string, v any) mod { return func(o *Op) { o.Fields[key] = v } }
func link(key string, id ID) mod {
	return func(o *Op) {
		if o.Links == nil {
			o.Links = map[string]ID{}
		}
		o.Links[key] = id
	}
}

func apply(o Op, mods []mod) Op {
	for _, m := range mods {
		m(&o)
	}
	return o
}

func wantLead(dir settings.Direction, responsible int, mods ...mod) Op {
	return apply(Op{Kind: OpCreate, Ref: RefLead, Entity: settings.EntityLead, Fields: Fields{
		"TITLE": defaultTitle(dir), "ASSIGNED_BY_ID": responsible, "SOURCE_ID": "CALL", "PHONE": phone,
		"ORIGINATOR_ID": "omniphone", "ORIGIN_ID": callID,
	}}, mods)
}

func wantDeal(dir settings.Direction, responsible int, mods ...mod) Op {
	return apply(Op{Kind: OpCreate, Ref: RefDeal, Entity: settings.EntityDeal, Fields: Fields{
		"TITLE": defaultTitle(dir), "ASSIGNED_BY_ID": responsible, "SOURCE_ID": "CALL", "CATEGORY_ID": 0,
		"ORIGINATOR_ID": "omniphone", "ORIGIN_ID": callID,
	}}, mods)
}

func wantContact(dir settings.Direction, responsible int, mods ...mod) Op {
	return apply(Op{Kind: OpCreate, Ref: RefContact, Entity: settings.EntityContact, Fields: Fields{
		"NAME": defaultTitle(dir), "ASSIGNED_BY_ID": responsible, "SOURCE_ID": "CALL", "PHONE": phone,
		"ORIGINATOR_ID": "omniphone", "ORIGIN_ID": callID,
	}}, mods)
}

// wantActivity is the call activity of c for responsible, bound to refs.
func wantActivity(c crm.Call, responsible int, refs ...EntityRef) Op {
	in := c.Direction == settings.DirectionIn
	f := Fields{
		"TYPE_ID": 2, "DIRECTION": 1, "COMPLETED": "N", "RESPONSIBLE_ID": responsible,
		"START_TIME": c.StartedAt.Format(time.RFC3339), "END_TIME": c.EndedAt.Format(time.RFC3339),
		"COMMUNICATIONS": []Communication{{Type: "PHONE", Value: clientNumber}},
		"ORIGINATOR_ID":  "omniphone", "ORIGIN_ID": callID,
	}
	switch {
	case in && c.Answered():
		f["SUBJECT"], f["COMPLETED"] = "Входящий звонок от "+clientNumber, "Y"
		f["DESCRIPTION"] = "Звонок на номер " + c.VirtualNumber + ", длительность 3:01"
	case in:
		f["SUBJECT"] = "Пропущенный звонок от " + clientNumber
		f["DESCRIPTION"] = "Звонок на номер " + c.VirtualNumber
		f["SETTINGS"] = map[string]bool{"MISSED_CALL": true}
	case c.Answered():
		f["SUBJECT"], f["COMPLETED"], f["DIRECTION"] = "Исходящий звонок на "+clientNumber, "Y", 2
		f["DESCRIPTION"] = "Звонок с номера " + c.VirtualNumber + ", длительность 3:01"
	default:
		f["SUBJECT"], f["DIRECTION"] = "Исходящий звонок на "+clientNumber+" без ответа", 2
		f["DESCRIPTION"] = "Звонок с номера " + c.VirtualNumber
	}
	return Op{Kind: OpAddActivity, Ref: RefActivity, Fields: f, Bindings: refs}
}

func ref(t settings.EntityType, id int) EntityRef { return EntityRef{Entity: t, ID: Known(id)} }
func newRef(t settings.EntityType) EntityRef      { return EntityRef{Entity: t, ID: RefID("$" + string(t))} }

func complete(id int) Op {
	return Op{Kind: OpCompleteActivity, Target: ptr(Known(id)), Fields: Fields{"COMPLETED": "Y"}}
}

func update(t settings.EntityType, id ID, f Fields) Op {
	return Op{Kind: OpUpdate, Entity: t, Target: &id, Fields: f}
}

func journal(reason string) Op { return Op{Kind: OpJournal, Reason: reason} }

// decide runs Decide and checks what every decision must hold: the plan
// belongs to the call, and the trace accounts for every rule.
func decide(t *testing.T, s settings.Settings, c crm.Call, sn Snapshot) (Plan, Trace) {
	t.Helper()
	require.NoError(t, c.Validate())
	require.NoError(t, sn.Validate())
	p, tr := Decide(s, c, sn)
	require.Equal(t, c.ID, p.CallID)
	require.NotEmpty(t, p.Ops)
	for _, r := range Rules {
		require.NotEmpty(t, tr.Rule(r), "trace has no step for %s:\n%s", r, tr)
	}
	return p, tr
}

// requireStep fails unless rule has a step with the given fired flag whose
// text contains every part.
func requireStep(t *testing.T, tr Trace, rule string, fired bool, parts ...string) {
	t.Helper()
	for _, s := range tr.Rule(rule) {
		if s.Fired != fired {
			continue
		}
		ok := true
		for _, p := range parts {
			if !strings.Contains(s.Why, p) {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	require.Failf(t, "step not found", "%s fired=%v with %q not in trace:\n%s", rule, fired, parts, tr)
}
