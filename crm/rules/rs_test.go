package rules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// withRules is base() with RS2 rules: calls to ruleNumber go to 20, calls to
// otherRuleNum go to 9.
func withRules() settings.Settings {
	return withRule(withRule(base(), ruleNumber, 20), otherRuleNum, 9)
}

func TestRS1_DefaultResponsibles(t *testing.T) {
	noDefaults := base()
	noDefaults.Portals = nil // a fresh install validates without defaults
	noDefaults.Responsibles.DefaultIncoming, noDefaults.Responsibles.DefaultOutgoing = 0, 0
	lead3 := snap(ModeClassic)
	lead3.Leads = []Entity{openE(3, 5)}
	const d3 = "D3: no default responsible for incoming calls is set (RS1): choose one in Responsibles, or press \"Sync employees\" if the list is empty"
	tests := []struct {
		name string
		call crm.Call
		snap Snapshot
		want []Op
	}{
		{"missed first call without a default: nothing is created (D3)", inMissed("101"), snap(ModeClassic), []Op{journal(d3)}},
		{"answered first call needs no default", inAnswered("105"), snap(ModeClassic),
			[]Op{wantLead(in, 11), wantActivity(inAnswered("105"), 11, newRef(settings.EntityLead))}},
		{"repeat call needs no default", inMissed("101"), lead3, []Op{wantActivity(inMissed("101"), 5, ref(settings.EntityLead, 3))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, noDefaults), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			if p.Ops[0].Kind == OpJournal {
				requireStep(t, tr, "D3", true, "no default responsible for incoming calls is set (RS1)")
				requireStep(t, tr, "RS1", true, "the incoming default responsible is needed but not set")
			}
		})
	}
}

func TestRS2_ResponsibleRules(t *testing.T) {
	tests := []struct {
		name   string
		call   crm.Call
		want   int
		fired  bool
		reason string
	}{
		{"first matching rule assigns", to(inMissed("101"), ruleNumber), 20, true, "rule 1 (group 1 matched ('virtual_number include +74950000001')) assigns 20"},
		{"second rule", to(inMissed("101"), otherRuleNum), 9, true, "rule 2"},
		{"no rule matches: default", inMissed("101"), 1, false, "no rule matches: rule 1: group 1, condition 'virtual_number include +74950000001' (call has +74951234567)"},
		{"outgoing calls have no rules", to(outMissed("199"), ruleNumber), 7, false, "responsible rules apply to incoming calls only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, withRules()), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops[0].Fields["ASSIGNED_BY_ID"])
			requireStep(t, tr, "RS2", tt.fired, tt.reason)
		})
	}
}

func TestRS3_FirstOrLastTalker(t *testing.T) {
	transferred := inAnswered("102", "105")
	for _, tt := range []struct {
		talker settings.Talker
		want   int
	}{{settings.TalkerFirst, 9}, {settings.TalkerLast, 11}} {
		t.Run(string(tt.talker), func(t *testing.T) {
			s := base()
			s.Responsibles.Talker = tt.talker
			p, tr := decide(t, valid(t, s), transferred, snap(ModeClassic))
			require.Equal(t, []Op{wantLead(in, tt.want), wantActivity(transferred, tt.want, newRef(settings.EntityLead))}, p.Ops)
			requireStep(t, tr, "RS3", true, "talker \""+string(tt.talker)+"\"")
		})
	}
}

// First calls, from the seed's «Ответственные» examples.
func TestRS4_RS7_FirstCall(t *testing.T) {
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		want []Op
		rule string
	}{
		// «Исходящий, сотрудник не найден = в лид и в дело ставим ответственного по умолчанию»
		{"RS4 outgoing, employee not found: the outgoing default", base(), outAnswered("199"),
			[]Op{wantLead(out, 7), wantActivity(outAnswered("199"), 7, newRef(settings.EntityLead))}, "RS4"},
		// «Исходящий, если сотрудник найден = в лиде и в деле ответственный тот кто делает исходящий звонок»
		{"RS4 outgoing, employee found: the caller", base(), outAnswered("101"),
			[]Op{wantLead(out, 5), wantActivity(outAnswered("101"), 5, newRef(settings.EntityLead))}, "RS4"},
		{"RS4 outgoing, inactive employee counts as not found", base(), outMissed("109"),
			[]Op{wantLead(out, 7), wantActivity(outMissed("109"), 7, newRef(settings.EntityLead))}, "RS4"},
		// «Входящий пропущенный (без фильтров) = за лид и дело ответственный тот, кто в поле по умолчанию»
		{"RS5 incoming missed, no rule: the incoming default", base(), inMissed("101", "102"),
			[]Op{wantLead(in, 1), wantActivity(inMissed("101", "102"), 1, newRef(settings.EntityLead))}, "RS5"},
		// «Входящий успешный = за лид и дело ответственный тот, кто принял звонок»
		{"RS6 incoming answered: who answered", base(), inAnswered("105"),
			[]Op{wantLead(in, 11), wantActivity(inAnswered("105"), 11, newRef(settings.EntityLead))}, "RS6"},
		// «пропущенный входящий на номер из фильтра = … создаем сущность и дело на того, кто указан в фильтре»
		{"RS7 missed to a rule's number: the rule's responsible", withRules(), to(inMissed("101", "102"), ruleNumber),
			[]Op{wantLead(in, 20), wantActivity(to(inMissed("101", "102"), ruleNumber), 20, newRef(settings.EntityLead))}, "RS7"},
		{"RS7 answered to a rule's number: entity on the rule, activity on who answered", withRules(), to(inAnswered("105"), ruleNumber),
			[]Op{wantLead(in, 20), wantActivity(to(inAnswered("105"), ruleNumber), 11, newRef(settings.EntityLead))}, "RS7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, tt.rule, true)
			requireStep(t, tr, "RS8", false, "first call: the client has no entity")
		})
	}
}

func TestRS8_Priority(t *testing.T) {
	all := snap(ModeClassic)
	all.Contacts = []Entity{person(12, 7)}
	all.Companies = []Entity{person(30, 9)}
	all.Leads = []Entity{openE(3, 5)}
	noContact := all
	noContact.Contacts = nil
	inactiveContact := all
	inactiveContact.Contacts = []Entity{person(12, 13)}
	onlyLead := snap(ModeClassic)
	onlyLead.Leads = []Entity{openE(3, 5)}
	// An existing entity beats the called employee and the rule.
	calledToRule := to(inMissed("120"), ruleNumber)
	tests := []struct {
		name string
		snap Snapshot
		want int
		why  string
	}{
		{"contact first", all, 7, "contact 12's responsible 7 comes first (Contact > Company > Lead/Deal)"},
		{"then company", noContact, 9, "company 30's responsible 9"},
		{"an inactive responsible is passed over", inactiveContact, 9, "passed over contact 12: user 13 is inactive"},
		{"then lead, before the rule", onlyLead, 5, "lead 3's responsible 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, withRules()), calledToRule, tt.snap)
			act, ok := p.Find(OpAddActivity)
			require.True(t, ok)
			require.Equal(t, tt.want, act.Fields["RESPONSIBLE_ID"])
			requireStep(t, tr, "RS8", true, tt.why)
		})
	}
}

// Repeat calls, from the seed's examples «Входящий с фильтром + повторный …»:
// the client has an old lead of user 5; the rules send ruleNumber to 20 and
// otherRuleNum to 9.
func TestRS9_RS10_RepeatCall(t *testing.T) {
	old := snap(ModeClassic)
	old.Leads = []Entity{openE(3, 5)}
	lead := ref(settings.EntityLead, 3)
	tests := []struct {
		name string
		call crm.Call
		want int
		rule string
	}{
		// «повторный пропущенный входящий на номер из фильтра = … дело ставится на того, кто в старом лиде ответственный»
		{"RS9 missed to the rule's number: the old lead's responsible", to(inMissed("120"), ruleNumber), 5, "RS9"},
		// «повторный пропущенный входящий на номер из НЕ фильтра»
		{"RS9 missed to a number in no rule: the old lead's responsible", inMissed("120"), 5, "RS9"},
		// «пропущенный входящий на другой номер из фильтра»
		{"RS9 missed to another rule's number: the old lead's responsible", to(inMissed("120"), otherRuleNum), 5, "RS9"},
		// «успешный повторный входящий на номер из фильтра = ответственный … в деле тот кто принял звонок»
		{"RS10 answered to the rule's number: who answered", to(inAnswered("105"), ruleNumber), 11, "RS10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, withRules()), tt.call, old)
			require.Equal(t, []Op{wantActivity(tt.call, tt.want, lead)}, p.Ops)
			requireStep(t, tr, tt.rule, true)
		})
	}
}

// The seven existing-entity combinations of the seed («приоритетность …
// "Контакт" - "Компания" - "ЛИД"/"Сделка"»), each missed (rang 120, user 20,
// who is nobody's responsible) and answered (by 105, user 11).
func TestRS11_RS17_Combinations(t *testing.T) {
	contact, company := person(12, 7), person(30, 9)
	openDeal, closed, lead := openE(40, 5), closedDeal(40, 5), openE(3, 20)
	with := func(mode Mode, f func(*Snapshot)) Snapshot {
		s := snap(mode)
		f(&s)
		return s
	}
	missed, answered := inMissed("120"), inAnswered("105")
	c12, co30, d40, l3 := ref(settings.EntityContact, 12), ref(settings.EntityCompany, 30), ref(settings.EntityDeal, 40), ref(settings.EntityLead, 3)
	newDeal := newRef(settings.EntityDeal)
	tests := []struct {
		rule, name string
		snap       Snapshot
		call       crm.Call
		want       []Op
		why        string
	}{
		// «Есть Контакт, Компания и Сделка = берем ответственного с Контакта, если сделка закрыта то создаем новую
		// сделку на того кто в контакте, не смотря на то что звонили на другого сотрудника»
		{"RS11", "contact + company + open deal, missed: contact's responsible",
			with(ModeSimple, func(s *Snapshot) {
				s.Contacts, s.Companies, s.Deals = []Entity{contact}, []Entity{company}, []Entity{openDeal}
			}),
			missed, []Op{wantActivity(missed, 7, d40, c12, co30)}, "new entities go to contact 12's responsible 7"},
		{"RS11", "contact + company + closed deal, answered by another employee: new deal on the contact's responsible",
			with(ModeSimple, func(s *Snapshot) {
				s.Contacts, s.Companies, s.Deals = []Entity{contact}, []Entity{company}, []Entity{closed}
			}),
			answered, []Op{
				wantDeal(in, 7, link("CONTACT_ID", Known(12)), link("COMPANY_ID", Known(30))),
				wantActivity(answered, 11, newDeal, c12, co30),
			}, "contact 12's responsible 7, overriding the called employee 11"},
		{"RS11", "contact + company + closed deal, missed: new deal and activity on the contact's responsible",
			with(ModeSimple, func(s *Snapshot) {
				s.Contacts, s.Companies, s.Deals = []Entity{contact}, []Entity{company}, []Entity{closed}
			}),
			missed, []Op{
				wantDeal(in, 7, link("CONTACT_ID", Known(12)), link("COMPANY_ID", Known(30))),
				wantActivity(missed, 7, newDeal, c12, co30),
			}, "the activity goes to contact 12's responsible 7"},
		// «Есть Компания и Сделка = берем ответственного с Компании если звонок пропущенный. Если успешный то ставим того кто говорил»
		{"RS12", "company + deal, missed: company's responsible",
			with(ModeSimple, func(s *Snapshot) { s.Companies, s.Deals = []Entity{company}, []Entity{openDeal} }),
			missed, []Op{wantActivity(missed, 9, d40, co30)}, "company 30's responsible 9"},
		{"RS12", "company + deal, answered: who talked",
			with(ModeSimple, func(s *Snapshot) { s.Companies, s.Deals = []Entity{company}, []Entity{openDeal} }),
			answered, []Op{wantActivity(answered, 11, d40, co30)}, "the activity goes to who answered, 11"},
		// «Есть только Сделка = берем ответственного со сделки»
		{"RS13", "deal only, missed: deal's responsible",
			with(ModeSimple, func(s *Snapshot) { s.Deals = []Entity{openDeal} }),
			missed, []Op{wantActivity(missed, 5, d40)}, "deal 40's responsible 5"},
		{"RS13", "closed deal only: a new deal and contact on the deal's responsible",
			with(ModeSimple, func(s *Snapshot) { s.Deals = []Entity{closed} }),
			missed, []Op{
				wantContact(in, 5), wantDeal(in, 5, link("CONTACT_ID", RefID(RefContact))),
				wantActivity(missed, 5, newDeal, newRef(settings.EntityContact)),
			}, "deal 40's responsible 5"},
		// «Есть Сделка и Контакт = берем с контакта при пропущенном, создается дело в контакте и в сделке. При успешном тот кто разговаривал»
		{"RS14", "deal + contact, missed: contact's responsible, activity in contact and deal",
			with(ModeSimple, func(s *Snapshot) { s.Contacts, s.Deals = []Entity{contact}, []Entity{openDeal} }),
			missed, []Op{wantActivity(missed, 7, d40, c12)}, "bound to contact 12 as well"},
		{"RS14", "deal + contact, answered: who talked",
			with(ModeSimple, func(s *Snapshot) { s.Contacts, s.Deals = []Entity{contact}, []Entity{openDeal} }),
			answered, []Op{wantActivity(answered, 11, d40, c12)}, "who answered, 11"},
		// «Есть Лид, контакт, Сделка и Компания = берем в дело ответственного из контакта и ставим на пропущенный в дело его.
		// При успешном ответственный тот, кто говорил»
		{"RS15", "lead + contact + deal + company, missed: contact's responsible",
			with(ModeClassic, func(s *Snapshot) {
				s.Leads, s.Contacts, s.Deals, s.Companies = []Entity{lead}, []Entity{contact}, []Entity{openDeal}, []Entity{company}
			}),
			missed, []Op{wantActivity(missed, 7, d40, l3, c12, co30)}, "contact 12's responsible 7"},
		{"RS15", "lead + contact + deal + company, answered: who talked",
			with(ModeClassic, func(s *Snapshot) {
				s.Leads, s.Contacts, s.Deals, s.Companies = []Entity{lead}, []Entity{contact}, []Entity{openDeal}, []Entity{company}
			}),
			answered, []Op{wantActivity(answered, 11, d40, l3, c12, co30)}, "who answered, 11"},
		// «Есть Лид и Контакт = берем ответственного с контакта, в деле ответственный тот кто в контакте, если звонок был неудачный.
		// Если звонок успешный, то в деле у нас ответственный тот, кто разговаривал в зависимости от настроек первый/последний»
		{"RS16", "lead + contact, missed: contact's responsible",
			with(ModeClassic, func(s *Snapshot) { s.Leads, s.Contacts = []Entity{lead}, []Entity{contact} }),
			missed, []Op{wantActivity(missed, 7, l3, c12)}, "contact 12's responsible 7"},
		{"RS16", "lead + contact, answered: who talked (RS3)",
			with(ModeClassic, func(s *Snapshot) { s.Leads, s.Contacts = []Entity{lead}, []Entity{contact} }),
			answered, []Op{wantActivity(answered, 11, l3, c12)}, "who answered, 11"},
		// «Есть Лид = берем с лида ответственного и ставим его в новую сделку. В дело же ставим того кто разговаривал,
		// либо если звонок неуспешный то ставим того же, кто стоит в лиде»
		{"RS17", "lead only, simple CRM, answered: new deal on the lead's responsible, activity on who talked",
			with(ModeSimple, func(s *Snapshot) { s.Leads = []Entity{lead} }),
			answered, []Op{
				wantContact(in, 20), wantDeal(in, 20, link("CONTACT_ID", RefID(RefContact))),
				wantActivity(answered, 11, newDeal, newRef(settings.EntityContact)),
			}, "new entities go to lead 3's responsible 20"},
		{"RS17", "lead only, simple CRM, missed: everything on the lead's responsible",
			with(ModeSimple, func(s *Snapshot) { s.Leads = []Entity{lead} }),
			missed, []Op{
				wantContact(in, 20), wantDeal(in, 20, link("CONTACT_ID", RefID(RefContact))),
				wantActivity(missed, 20, newDeal, newRef(settings.EntityContact)),
			}, "the activity goes to lead 3's responsible 20"},
		{"RS17", "lead only, classic CRM: the open lead is reused",
			with(ModeClassic, func(s *Snapshot) { s.Leads = []Entity{lead} }),
			answered, []Op{wantActivity(answered, 11, l3)}, "lead: new entities go to lead 3's responsible 20"},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, base()), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			requireStep(t, tr, tt.rule, true, tt.why)
		})
	}
}
