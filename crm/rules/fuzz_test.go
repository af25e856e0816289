package rules

import (
	"testing"
	"time"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// fuzzSettings builds settings from a fixture by toggling its switches with
// the bits of sw and putting value into every filter.
func fuzzSettings(sw uint32, delay uint16, param uint8, value string) settings.Settings {
	s := base()
	bit := func(i int) bool { return sw&(1<<i) != 0 }
	params := settings.FilterParams[settings.DirectionIn]
	p := params[int(param)%len(params)]
	outParams := settings.FilterParams[settings.DirectionOut]
	op := outParams[int(param)%len(outParams)]
	mode := settings.ModeInclude
	if bit(0) {
		mode = settings.ModeExclude
	}
	f := filterOf(p, mode, value)
	cp := &s.CallProcessing
	cp.UseOtherTelephony = bit(1)
	cp.FirstCommunicationField = "UF_CRM_FIRST_COMM"
	cp.ForwardToPersonalManager = bit(2)
	cp.CreateForIncoming = bit(3)
	cp.CreateForOutgoing = bit(4)
	cp.UpdateResponsibleAfterMinutes = int(delay) % (settings.MaxResponsibleDelayMinutes + 1)
	cp.VirtualNumberAsSource = bit(5)
	cp.Filters = settings.CallFilters{Enabled: bit(6), Incoming: f, Outgoing: filterOf(op, mode, value)}
	s.ClickToCall = settings.ClickToCall{Enabled: bit(7), Number: "+74951112233", OverrideCallerID: bit(8)}
	s.Callback = settings.Callback{Enabled: bit(9), Number: "+74957654321"}
	s.Recordings = settings.Recordings{Send: bit(10), WithFilters: bit(11)}
	s.OpenLines.NotifyEmployee = bit(12)
	if bit(13) {
		s.Templates.Rules = []settings.TitleTemplate{{Direction: in, Entity: settings.EntityLead, Template: "{{source}} " + "{{employee_name}}", Filter: f}}
	}
	if bit(14) {
		s.Pipelines.Rules = []settings.PipelineRule{{Direction: in, Filter: f, Stage: settings.Stage{CategoryID: 3, StageID: "C3:NEW"}}}
	}
	if bit(15) {
		s.Responsibles.Rules = []settings.ResponsibleRule{{Filter: f, UserID: 20}}
	}
	if bit(16) {
		s.Responsibles.Talker = settings.TalkerFirst
	}
	s.ExtraFields = settings.ExtraFields{AlwaysUpdate: bit(17), Mappings: []settings.FieldMapping{{Field: "UF_CRM_X", Param: settings.ExtraFieldParams[int(param)%len(settings.ExtraFieldParams)]}}}
	if bit(18) {
		s.Portals = nil
		s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 0, 0
	}
	return s
}

// fuzzSnapshot picks one of a few client situations.
func fuzzSnapshot(which uint8) Snapshot {
	mode := ModeClassic
	if which&1 != 0 {
		mode = ModeSimple
	}
	s := snap(mode)
	if which&2 != 0 {
		s.Contacts = []Entity{person(12, 13), person(14, 7)}
	}
	if which&4 != 0 {
		s.Companies = []Entity{person(30, 0)}
	}
	if which&8 != 0 {
		s.Leads = []Entity{openE(3, 5), {ID: 4, Responsible: 99, Semantics: SemanticsFailure}}
	}
	if which&16 != 0 {
		s.Deals = []Entity{closedDeal(40, 9), {ID: 41, Responsible: 5, ModifiedAt: t0.Add(time.Minute)}}
	}
	if which&32 != 0 {
		s.Activities = []Activity{{ID: 900, Bindings: []Binding{{settings.EntityContact, 14}, {settings.EntityDeal, 41}}}}
	}
	if which&64 != 0 {
		s.Users = nil
	}
	return s
}

func FuzzDecide(f *testing.F) {
	f.Add(uint32(0), uint16(0), uint8(0), "101", true, uint8(0), "101", "102", uint16(181), false, uint8(0))
	f.Add(uint32(0xffffffff), uint16(5), uint8(4), "105", false, uint8(1), "", "105", uint16(0), true, uint8(0xff))
	f.Add(uint32(1<<1|1<<3), uint16(0), uint8(7), "example.com", true, uint8(2), "109", "", uint16(10), false, uint8(18))
	f.Fuzz(func(t *testing.T, sw uint32, delay uint16, param uint8, value string, incoming bool, outcome uint8,
		ext1, ext2 string, seconds uint16, linked bool, which uint8) {
		s := fuzzSettings(sw, delay, param, value)
		if s.Validate() != nil {
			t.Skip()
		}
		dir := settings.DirectionOut
		if incoming {
			dir = settings.DirectionIn
		}
		outcomes := []crm.Outcome{crm.OutcomeAnswered, crm.OutcomeMissed, crm.OutcomeBusy, crm.OutcomeFailed}
		c := call(dir, outcomes[int(outcome)%len(outcomes)], []string{ext1, ext2}, []string{ext2, ext1})
		c.EndedAt = c.StartedAt.Add(time.Duration(seconds) * time.Second)
		if !c.Answered() {
			c.Talked = nil
		} else if at := c.StartedAt.Add(time.Duration(seconds/2) * time.Second); true {
			c.AnsweredAt = &at
		}
		c.Params = crm.CallParams{Site: value, Source: value, LastOperation: value, Group: value, Campaign: value, FirstCommunicationID: value}
		if linked {
			id := "externalCall." + value
			c.Bitrix24CallID = &id
		}
		if c.Validate() != nil {
			t.Skip()
		}
		p, tr := Decide(s, c, fuzzSnapshot(which))
		if len(tr) == 0 || len(p.Ops) == 0 {
			t.Fatalf("empty plan or trace: %+v %v", p, tr)
		}
		for _, r := range Rules {
			if len(tr.Rule(r)) == 0 {
				t.Fatalf("no step for %s:\n%s", r, tr)
			}
		}
	})
}
