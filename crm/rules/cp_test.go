package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

const (
	in  = settings.DirectionIn
	out = settings.DirectionOut
)

// otherTelephony returns CP1 settings with two extra fields and the
// first-communication field, and every other option switched on to prove
// CP1 ignores them.
func otherTelephony() settings.Settings {
	s := base()
	s.CallProcessing = settings.CallProcessing{
		UseOtherTelephony: true, FirstCommunicationField: "UF_CRM_FIRST_COMM",
		ForwardToPersonalManager: true, CreateForIncoming: true, CreateForOutgoing: true,
		UpdateResponsibleAfterMinutes: 5, VirtualNumberAsSource: true,
		Filters: settings.CallFilters{Enabled: true, Incoming: filterOf(settings.ParamSite, settings.ModeInclude, "nowhere.ru")},
	}
	s.OpenLines.NotifyEmployee = true
	s.Recordings.Send = true
	s.ExtraFields.Mappings = []settings.FieldMapping{{Field: "UF_CRM_SOURCE", Param: settings.ParamSource}, {Field: "UF_CRM_CAMPAIGN", Param: settings.ParamCampaign}}
	return s
}

func TestCP1_UseOtherTelephony(t *testing.T) {
	c := inAnswered("105")
	c.Params.Source, c.Params.Campaign, c.Params.FirstCommunicationID = "yandex", "", "fc-9"
	c.Recording = &crm.Recording{URL: "https://pbx/rec.mp3"}
	during := func(e Entity) Entity { e.ModifiedAt = t0.Add(time.Minute); return e }
	withFields := func(e Entity, f map[string]string) Entity { e.Fields = f; return e }
	tests := []struct {
		name  string
		snap  func(Snapshot) Snapshot
		want  []Op
		trace string
	}{
		{
			// «если происходит любое изменение в сделке, то после этого мы обновляем доп. поля,
			// но обновляем только в тех сущностях, в которых были произведены изменения во время звонка»
			name: "deal and contact, the deal changed during the call: only the deal is updated",
			snap: func(s Snapshot) Snapshot {
				s.Deals = []Entity{during(openE(40, 5))}
				s.Contacts = []Entity{person(12, 7)}
				s.Activities = []Activity{{ID: 900, StartedAt: t0.Add(-time.Hour), Bindings: []Binding{{settings.EntityDeal, 40}}}}
				return s
			},
			want:  []Op{update(settings.EntityDeal, Known(40), Fields{"UF_CRM_SOURCE": "yandex", "UF_CRM_FIRST_COMM": "fc-9"})},
			trace: "deal 40 modified during the call: UF_CRM_FIRST_COMM=fc-9, UF_CRM_SOURCE=yandex",
		},
		{
			name: "lead changed during the call",
			snap: func(s Snapshot) Snapshot { s.Leads = []Entity{during(openE(3, 5))}; return s },
			want: []Op{update(settings.EntityLead, Known(3), Fields{"UF_CRM_SOURCE": "yandex", "UF_CRM_FIRST_COMM": "fc-9"})},
		},
		{
			// «если изменений не было никаких в сущностях - то ничего не обновляем»
			name: "no entity changed during the call: nothing is updated",
			snap: func(s Snapshot) Snapshot {
				s.Deals = []Entity{openE(40, 5)}
				s.Contacts = []Entity{person(12, 7)}
				return s
			},
			want:  []Op{journal("CP1: no entity of the client was modified during the call")},
			trace: "contact 12 not modified during the call; deal 40 not modified during the call",
		},
		{
			// «Если у клиента сущностей нет вообще, то мы ничего не создаем, но события регистрируем»
			name:  "client has no entities: nothing is created, the call goes to the journal",
			snap:  func(s Snapshot) Snapshot { return s },
			want:  []Op{journal("CP1: the client has no entities; another telephony owns the CRM integration")},
			trace: "the client has no entities",
		},
		{
			// «Если это поле пустое в измененных сущностях, то мы его пробрасываем в сущность»
			name: "first communication ID is filled only where empty",
			snap: func(s Snapshot) Snapshot {
				s.Deals = []Entity{withFields(during(openE(40, 5)), map[string]string{"UF_CRM_FIRST_COMM": "fc-1"})}
				s.Contacts = []Entity{withFields(during(person(12, 7)), map[string]string{"UF_CRM_SOURCE": "yandex"})}
				return s
			},
			want: []Op{
				update(settings.EntityContact, Known(12), Fields{"UF_CRM_FIRST_COMM": "fc-9"}),
				update(settings.EntityDeal, Known(40), Fields{"UF_CRM_SOURCE": "yandex"}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, otherTelephony()), c, tt.snap(snap(ModeSimple)))
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, "CP1", true, tt.trace)
			// «Дело обновить не возможно и мы ничего с ним не делаем»; every other option is ignored.
			for _, r := range []string{"CP3", "CP5", "CP6", "CP7", "RC1", "OL1", "RS8"} {
				requireStep(t, tr, r, false, "CP1 is on")
			}
		})
	}
}

func TestCP2_Route(t *testing.T) {
	s := base()
	s.CallProcessing.ForwardToPersonalManager = true
	inactive := snap(ModeClassic)
	inactive.Contacts = []Entity{person(12, 13)}
	inactive.Leads = []Entity{openE(3, 9)}
	withContact := snap(ModeClassic)
	withContact.Contacts = []Entity{person(12, 5)}
	withContact.Deals = []Entity{openE(40, 9)}
	cp1 := otherTelephony()
	tests := []struct {
		name string
		s    settings.Settings
		snap Snapshot
		want Target
		ok   bool
		why  string
	}{
		{"off: no route", base(), withContact, Target{}, false, "off"},
		{"CP1 on: no route", cp1, withContact, Target{}, false, "off (or CP1 on)"},
		{"contact's responsible first", s, withContact, Target{UserID: 5, Extension: "101"}, true, "contact 12's responsible (RS8 priority): route to extension 101"},
		{"inactive responsible is passed over", s, inactive, Target{UserID: 9, Extension: "102"}, true, "lead 3's responsible"},
		{"unknown number: no route", s, snap(ModeClassic), Target{}, false, "the number belongs to no client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, tr := Route(tt.s, tt.snap)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
			requireStep(t, tr, "CP2", tt.ok, tt.why)
		})
	}
}

func TestCP3_CreateForIncoming(t *testing.T) {
	lead3 := func(s Snapshot) Snapshot { s.Leads = []Entity{openE(3, 5)}; return s }
	finals := func(s Snapshot) Snapshot {
		l := openE(3, 5)
		l.Semantics = SemanticsSuccess
		s.Leads, s.Deals = []Entity{l}, []Entity{closedDeal(40, 9)}
		return s
	}
	earlier := func(s Snapshot) Snapshot {
		s = lead3(s)
		s.Activities = []Activity{
			{ID: 902, StartedAt: t0.Add(time.Minute), Bindings: []Binding{{settings.EntityLead, 3}}},    // later: kept
			{ID: 900, StartedAt: t0.Add(-time.Hour), Bindings: []Binding{{settings.EntityLead, 3}}},     // completed
			{ID: 901, StartedAt: t0.Add(-time.Hour), Bindings: []Binding{{settings.EntityLead, 99}}},    // other entity: kept
			{ID: 903, StartedAt: t0.Add(-2 * time.Hour), Bindings: []Binding{{settings.EntityLead, 3}}}, // completed
		}
		return s
	}
	off := base()
	off.CallProcessing.CreateForIncoming = false
	tests := []struct {
		name  string
		s     settings.Settings
		call  crm.Call
		snap  Snapshot
		want  []Op
		trace string
	}{
		{
			name: "first call, classic CRM: a lead; missed → activity not completed",
			s:    base(), call: inMissed("101", "102"), snap: snap(ModeClassic),
			want:  []Op{wantLead(in, 1), wantActivity(inMissed("101", "102"), 1, newRef(settings.EntityLead))},
			trace: "first call: a new lead is created (classic CRM)",
		},
		{
			name: "first call, simple CRM: deal + contact; answered → activity completed",
			s:    base(), call: inAnswered("105"), snap: snap(ModeSimple),
			want: []Op{
				wantContact(in, 11),
				wantDeal(in, 11, link("CONTACT_ID", RefID(RefContact))),
				wantActivity(inAnswered("105"), 11, newRef(settings.EntityDeal), newRef(settings.EntityContact)),
			},
			trace: "first call: a new deal and a new contact are created (simple CRM; the call names no company)",
		},
		{
			name: "repeat call with an open lead: reused, nothing created",
			s:    base(), call: inMissed("101"), snap: lead3(snap(ModeClassic)),
			want:  []Op{wantActivity(inMissed("101"), 5, ref(settings.EntityLead, 3))},
			trace: "repeat call: the client has open lead 3, so it is reused and nothing is created",
		},
		{
			name: "repeat call, every lead/deal final: a new lead",
			s:    base(), call: inMissed("101"), snap: finals(snap(ModeClassic)),
			want:  []Op{wantLead(in, 9), wantActivity(inMissed("101"), 9, newRef(settings.EntityLead))},
			trace: "every lead and deal of the client is final (deal 40 closed, lead 3 success)",
		},
		{
			// «Если в сущности есть "не выполненное" дело, и далее происходит успешный входящий звонок,
			// то "не выполненное" предыдущее дело получит статус "Обработано"»
			name: "answered call completes earlier open activities of the same entities",
			s:    base(), call: inAnswered("105"), snap: earlier(snap(ModeClassic)),
			want:  []Op{complete(900), complete(903), wantActivity(inAnswered("105"), 11, ref(settings.EntityLead, 3))},
			trace: "earlier open call activities 900, 903 of the same entities are completed",
		},
		{
			name: "missed call completes nothing",
			s:    base(), call: inMissed("101"), snap: earlier(snap(ModeClassic)),
			want: []Op{wantActivity(inMissed("101"), 5, ref(settings.EntityLead, 3))},
		},
		{
			name: "off: nothing is registered",
			s:    off, call: inMissed("101"), snap: snap(ModeClassic),
			want: []Op{journal("CP3: incoming calls are not registered in the CRM")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			if tt.trace != "" {
				requireStep(t, tr, "CP3", true, tt.trace)
			}
		})
	}
}

func TestCP4_CreateForOutgoing(t *testing.T) {
	off := base()
	off.CallProcessing.CreateForOutgoing = false
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		snap Snapshot
		want []Op
	}{
		{"first outgoing answered: lead on the caller, activity completed", base(), outAnswered("101"), snap(ModeClassic),
			[]Op{wantLead(out, 5), wantActivity(outAnswered("101"), 5, newRef(settings.EntityLead))}},
		{"first outgoing not answered: activity not completed", base(), outMissed("101"), snap(ModeClassic),
			[]Op{wantLead(out, 5), wantActivity(outMissed("101"), 5, newRef(settings.EntityLead))}},
		{"simple CRM: deal + contact", base(), outAnswered("101"), snap(ModeSimple),
			[]Op{wantContact(out, 5), wantDeal(out, 5, link("CONTACT_ID", RefID(RefContact))),
				wantActivity(outAnswered("101"), 5, newRef(settings.EntityDeal), newRef(settings.EntityContact))}},
		{"off: nothing is registered", off, outAnswered("101"), snap(ModeClassic),
			[]Op{journal("CP4: outgoing calls are not registered in the CRM")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, "CP3", false, "applies to incoming calls")
		})
	}
}

func TestCP5_UpdateResponsibleAfter(t *testing.T) {
	delayed := base()
	delayed.CallProcessing.UpdateResponsibleAfterMinutes = 5
	withRec := delayed
	withRec.Recordings.Send = true
	rec := inAnswered("105")
	rec.Recording = &crm.Recording{File: "/var/rec/1.wav"}
	lead3 := snap(ModeClassic)
	lead3.Leads = []Entity{openE(3, 5)}
	tests := []struct {
		name  string
		s     settings.Settings
		call  crm.Call
		snap  Snapshot
		want  []Op
		fired bool
		trace string
	}{
		{
			// «сначала создается сущность с ответственным по умолчанию, и далее, спустя выбранное время
			// уже обновляем ответственного и добавляем дело»
			name: "N = 5: created with the default, then the real responsible and the activity",
			s:    delayed, call: inAnswered("105"), snap: snap(ModeClassic),
			want: []Op{wantLead(in, 1), {Kind: OpSchedule, DelayMinutes: 5, Ops: []Op{
				update(settings.EntityLead, RefID(RefLead), Fields{"ASSIGNED_BY_ID": 11}),
				wantActivity(inAnswered("105"), 11, newRef(settings.EntityLead)),
			}}},
			fired: true, trace: "N = 5: entities are created with the default responsible 1; after 5 minutes a scheduled job sets the real responsible 11",
		},
		{
			name: "N = 5, the real responsible is the default: only the activity waits",
			s:    delayed, call: inMissed("101"), snap: snap(ModeClassic),
			want: []Op{wantLead(in, 1), {Kind: OpSchedule, DelayMinutes: 5, Ops: []Op{
				wantActivity(inMissed("101"), 1, newRef(settings.EntityLead)),
			}}},
			fired: true,
		},
		{
			name: "N = 5, simple CRM: both created entities are reassigned",
			s:    delayed, call: inAnswered("105"), snap: snap(ModeSimple),
			want: []Op{wantContact(in, 1), wantDeal(in, 1, link("CONTACT_ID", RefID(RefContact))), {Kind: OpSchedule, DelayMinutes: 5, Ops: []Op{
				update(settings.EntityContact, RefID(RefContact), Fields{"ASSIGNED_BY_ID": 11}),
				update(settings.EntityDeal, RefID(RefDeal), Fields{"ASSIGNED_BY_ID": 11}),
				wantActivity(inAnswered("105"), 11, newRef(settings.EntityDeal), newRef(settings.EntityContact)),
			}}},
			fired: true,
		},
		{
			name: "N = 5 with a recording: the upload follows the delayed activity",
			s:    withRec, call: rec, snap: snap(ModeClassic),
			want: []Op{wantLead(in, 1), {Kind: OpSchedule, DelayMinutes: 5, Ops: []Op{
				update(settings.EntityLead, RefID(RefLead), Fields{"ASSIGNED_BY_ID": 11}),
				wantActivity(rec, 11, newRef(settings.EntityLead)),
				{Kind: OpUploadRecording, Target: ptr(RefID(RefActivity)), Recording: rec.Recording},
			}}},
			fired: true,
		},
		{
			name: "N = 5, entity reused: nothing waits",
			s:    delayed, call: inMissed("101"), snap: lead3,
			want:  []Op{wantActivity(inMissed("101"), 5, ref(settings.EntityLead, 3))},
			trace: "no entity is created, so nothing waits",
		},
		{
			name: "N = 0: immediately",
			s:    base(), call: inAnswered("105"), snap: snap(ModeClassic),
			want:  []Op{wantLead(in, 11), wantActivity(inAnswered("105"), 11, newRef(settings.EntityLead))},
			trace: "N = 0: entities get the real responsible 11 at once",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, "CP5", tt.fired, tt.trace)
		})
	}
}

func TestCP6_VirtualNumberAsSource(t *testing.T) {
	on := base()
	on.CallProcessing.VirtualNumberAsSource = true
	transferred := inAnswered("102", "105")
	outCall := to(outAnswered("101"), "+74957770000")
	sd := func(v string) mod { return set("SOURCE_DESCRIPTION", v) }
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		mode Mode
		want []Op
	}{
		// «Входящий/исходящий потерянный/успешный звонок → … номер виртуального номера на который звонили, либо с которого был исход»
		{"incoming missed: the number the client called", on, inMissed("101"), ModeClassic,
			[]Op{wantLead(in, 1, sd(virtualNumber)), wantActivity(inMissed("101"), 1, newRef(settings.EntityLead))}},
		{"outgoing answered: the caller ID used", on, outCall, ModeClassic,
			[]Op{wantLead(out, 5, sd("+74957770000")), wantActivity(outCall, 5, newRef(settings.EntityLead))}},
		// «С трансфером … записываем … первый виртуальный номер, который принял звонок»
		{"transferred call: the first virtual number (as the PBX reports it)", on, transferred, ModeSimple,
			[]Op{wantContact(in, 11, sd(virtualNumber)), wantDeal(in, 11, sd(virtualNumber), link("CONTACT_ID", RefID(RefContact))),
				wantActivity(transferred, 11, newRef(settings.EntityDeal), newRef(settings.EntityContact))}},
		{"off: no SOURCE_DESCRIPTION", base(), inMissed("101"), ModeClassic,
			[]Op{wantLead(in, 1), wantActivity(inMissed("101"), 1, newRef(settings.EntityLead))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := decide(t, valid(t, tt.s), tt.call, snap(tt.mode))
			require.Equal(t, tt.want, p.Ops)
		})
	}
}

func TestCP7_CallFilters(t *testing.T) {
	filtered := func(in, out settings.Filter) settings.Settings {
		s := base()
		s.CallProcessing.Filters = settings.CallFilters{Enabled: true, Incoming: in, Outgoing: out}
		return s
	}
	disabled := filtered(filterOf(settings.ParamSite, settings.ModeInclude, "nowhere.ru"), settings.Filter{})
	disabled.CallProcessing.Filters.Enabled = false
	siteExcluded := filtered(groups(
		[]settings.Condition{cond(settings.ParamVirtualNumber, settings.ModeInclude, ruleNumber)},
		[]settings.Condition{cond(settings.ParamSite, settings.ModeExclude, "example.com")},
	), settings.Filter{})
	fromExample := inMissed("101")
	fromExample.Params.Site = "example.com"
	processed := []Op{wantLead(in, 1), wantActivity(inMissed("101"), 1, newRef(settings.EntityLead))}
	tests := []struct {
		name  string
		s     settings.Settings
		call  crm.Call
		want  []Op
		fired bool
		trace string
	}{
		{"off: every call is processed", disabled, inMissed("101"), processed, false, "off: every call is processed"},
		{"on without a condition: every call is processed", filtered(settings.Filter{}, settings.Filter{}), inMissed("101"), processed, false, "on, but no condition"},
		{"matching call is processed", siteExcluded, inMissed("101"), processed, true, "included: group 2 matched ('site exclude example.com')"},
		{"other calls are excluded, and the trace names the condition", siteExcluded, fromExample,
			[]Op{journal("CP7: the call filter excluded the call: group 1, condition 'virtual_number include +74950000001' (call has +74951234567); group 2, condition 'site exclude example.com' (call has example.com)")},
			true, "excluded: group 1, condition 'virtual_number include +74950000001' (call has +74951234567); group 2, condition 'site exclude example.com' (call has example.com)"},
		{"outgoing filter on employee", filtered(settings.Filter{}, filterOf(settings.ParamEmployee, settings.ModeExclude, "101")), outAnswered("101"),
			[]Op{journal("CP7: the call filter excluded the call: group 1, condition 'employee exclude 101' (call has 101)")}, true, "excluded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, "CP7", tt.fired, tt.trace)
			if p.Ops[0].Kind == OpJournal {
				requireStep(t, tr, "D3", true, "no entity was created: the call filter (CP7) excluded the call")
			}
		})
	}
}

func TestCP8_AnswerOnlyFilters(t *testing.T) {
	s := base()
	s.CallProcessing.Filters = settings.CallFilters{Enabled: true, Incoming: filterOf(settings.ParamEmployee, settings.ModeInclude, "101")}
	require.NotEmpty(t, s.Warnings(), "the UI warns (CP8)")
	tests := []struct {
		name string
		call crm.Call
		want []Op
		step bool
	}{
		{"missed call to the filtered employee is not registered", inMissed("101"),
			[]Op{journal("CP7: the call filter excluded the call: group 1, condition 'employee include 101' (CP8: employee is known only once an employee answers, and the call was missed)")}, true},
		// RC2 is off and the filter includes by employee, so no activity (RC2).
		{"answered call is registered", inAnswered("101"), []Op{wantLead(in, 5)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops)
			require.Equal(t, tt.step, tr.Fired("CP8"), tr.String())
		})
	}
}
