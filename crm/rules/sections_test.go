package rules

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

func TestC1_ClickToCallLinkedCall(t *testing.T) {
	on := base()
	on.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951112233", OverrideCallerID: true}
	on.Recordings.Send = true
	cbOnly := base()
	cbOnly.Callback = settings.Callback{Enabled: true, Number: "+74957654321"}
	linked := func(c crm.Call) crm.Call {
		id := "externalCall.89350264e026dace3f2b14d1f438257c.1773236989"
		c.Bitrix24CallID = &id
		return c
	}
	answered := linked(outAnswered("101"))
	answered.Recording = &crm.Recording{URL: "https://pbx/rec/1.mp3"}
	finish := func(extra Fields) Op {
		f := Fields{"CALL_ID": "externalCall.89350264e026dace3f2b14d1f438257c.1773236989", "ADD_TO_CHAT": 0}
		for k, v := range extra {
			f[k] = v
		}
		return Op{Kind: OpFinishCall, Fields: f}
	}
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		want []Op
		rule string
	}{
		{"C1 on: finish the Bitrix24 call and attach the recording", on, answered, []Op{
			finish(Fields{"USER_ID": 5, "DURATION": 181, "STATUS_CODE": "200"}),
			{Kind: OpUploadRecording, CallID: "externalCall.89350264e026dace3f2b14d1f438257c.1773236989", Recording: answered.Recording},
		}, "C1"},
		{"C1 on, not answered, unknown extension: USER_PHONE_INNER", on, linked(outMissed("199")), []Op{
			finish(Fields{"USER_PHONE_INNER": "199", "DURATION": 0, "STATUS_CODE": "304"}),
		}, "C1"},
		{"CB1 on: a callback call is finished the same way", cbOnly, linked(outAnswered("101")), []Op{
			finish(Fields{"USER_ID": 5, "DURATION": 181, "STATUS_CODE": "200"}),
		}, "CB1"},
		{"C1 off: the link is ignored, an ordinary outgoing call", base(), linked(outAnswered("101")), []Op{
			wantLead(out, 5), wantActivity(outAnswered("101"), 5, newRef(settings.EntityLead)),
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops)
			if tt.rule != "" {
				requireStep(t, tr, tt.rule, true, "the call is linked to Bitrix24 call externalCall.")
				requireStep(t, tr, "D3", true, "Bitrix24 registers it in the CRM itself")
			} else {
				requireStep(t, tr, "C1", false, "off (and callback CB1 off): the link to Bitrix24 call")
			}
		})
	}
}

func TestC2_C3_ClickToCallCallerID(t *testing.T) {
	override := base()
	override.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951112233", OverrideCallerID: true}
	plain := override
	plain.ClickToCall.OverrideCallerID = false
	disabled := override
	disabled.ClickToCall.Enabled = false
	tests := []struct {
		name string
		s    settings.Settings
		want ClickToCallPlan
	}{
		{"C3 on: the client sees only the click-to-call number (C2)", override, ClickToCallPlan{CallerID: "+74951112233"}},
		{"C3 off: the SIP account's caller ID", plain, ClickToCallPlan{}},
		{"C1 off: the event is ignored", disabled, ClickToCallPlan{Ignore: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tr := ClickToCall(valid(t, tt.s))
			require.Equal(t, tt.want, got)
			require.NotEmpty(t, tr)
		})
	}
	require.Error(t, func() error { s := override; s.ClickToCall.Number = ""; return s.Validate() }(), "C2: the number is required")
}

func TestCB1_Callback(t *testing.T) {
	on := base()
	on.Callback = settings.Callback{Enabled: true, Number: "+74957654321"}
	known := snap(ModeClassic)
	known.Contacts = []Entity{person(12, 5)}
	noSIP := snap(ModeClassic)
	noSIP.Users = append([]User{{ID: 30, Name: "Без SIP", Active: true}}, testUsers...)
	noSIP.Deals = []Entity{openE(40, 30)}
	tests := []struct {
		name string
		s    settings.Settings
		snap Snapshot
		want CallbackPlan
	}{
		{"the mapped employee rings first", on, known, CallbackPlan{Employee: &Target{UserID: 5, Extension: "101"}}},
		{"no employee mapped: the configured number", on, snap(ModeClassic), CallbackPlan{Number: "+74957654321"}},
		{"employee without a SIP account: the configured number", on, noSIP, CallbackPlan{Number: "+74957654321"}},
		{"off: ignored", base(), known, CallbackPlan{Ignore: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tr := Callback(valid(t, tt.s), tt.snap)
			require.Equal(t, tt.want, got)
			require.Len(t, tr.Rule("CB1"), 1)
		})
	}
}

func TestRC1_RC2_Recordings(t *testing.T) {
	rec := inAnswered("105")
	rec.Recording = &crm.Recording{URL: "https://pbx/rec/1.mp3"}
	upload := Op{Kind: OpUploadRecording, Target: ptr(RefID(RefActivity)), Recording: rec.Recording}
	lead := newRef(settings.EntityLead)
	mk := func(send, withFilters bool, f settings.Filter) settings.Settings {
		s := base()
		s.Recordings = settings.Recordings{Send: send, WithFilters: withFilters}
		s.CallProcessing.Filters = settings.CallFilters{Enabled: !f.IsEmpty(), Incoming: f}
		return s
	}
	include := filterOf(settings.ParamEmployee, settings.ModeInclude, "105")
	exclude := filterOf(settings.ParamEmployee, settings.ModeExclude, "199")
	lastOp := filterOf(settings.ParamLastOperation, settings.ModeInclude, "Меню")
	recMenu := rec
	recMenu.Params.LastOperation = "Меню"
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		want []Op
		rule string
		fire bool
	}{
		{"RC1 on: the recording follows the activity", mk(true, false, settings.Filter{}), rec, []Op{wantLead(in, 11), wantActivity(rec, 11, lead), upload}, "RC1", true},
		{"RC1 off: no recording", mk(false, false, settings.Filter{}), rec, []Op{wantLead(in, 11), wantActivity(rec, 11, lead)}, "RC1", false},
		{"RC1 on, no recording in the call", mk(true, false, settings.Filter{}), inAnswered("105"), []Op{wantLead(in, 11), wantActivity(inAnswered("105"), 11, lead)}, "RC1", false},
		// «если есть фильтр по сотруднику(Включен) и включена данная функция, то запись и дело в сущности создается»
		{"RC2 on + employee include: activity and recording", mk(true, true, include), rec, []Op{wantLead(in, 11), wantActivity(rec, 11, lead), upload}, "RC2", true},
		// «Если тоже самое только фильтр по сотруднику (Исключен), то не создадим»
		{"RC2 on + employee exclude: neither", mk(true, true, exclude), rec, []Op{wantLead(in, 11)}, "RC2", true},
		// «есть фильтр по сотруднику(Включен), то даже если включена «Передавать записи разговора» - то записи разговора и дела в сущности не будет»
		{"RC2 off + employee include: neither, even with RC1 on", mk(true, false, include), rec, []Op{wantLead(in, 11)}, "RC2", true},
		// «Если все тоже самое, но нет фильтра по сотруднику, то запись разговора передадим»
		{"RC2 off, no such filter: RC1 sends the recording", mk(true, false, filterOf(settings.ParamSite, settings.ModeExclude, "x.ru")), rec,
			[]Op{wantLead(in, 11), wantActivity(rec, 11, lead), upload}, "RC2", false},
		{"RC2 on + last operation include: activity and recording", mk(true, true, lastOp), recMenu,
			[]Op{wantLead(in, 11), wantActivity(recMenu, 11, lead), upload}, "RC2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops)
			require.Equal(t, tt.fire, tr.Fired(tt.rule), tr.String())
		})
	}
}

func TestOL1_ChatMessage(t *testing.T) {
	on := base()
	on.OpenLines.NotifyEmployee = true
	lead := newRef(settings.EntityLead)
	msg := func(user int, text string, to EntityRef) Op {
		return Op{Kind: OpNotify, Fields: Fields{"USER_ID": user, "MESSAGE": text}, Bindings: []EntityRef{to}}
	}
	offCP3 := on
	offCP3.CallProcessing.CreateForIncoming = false
	known := snap(ModeClassic)
	known.Contacts = []Entity{person(12, 7)}
	tests := []struct {
		name string
		s    settings.Settings
		call crm.Call
		snap Snapshot
		want []Op
	}{
		{"missed incoming: the responsible is told, with a link", on, inMissed("101"), snap(ModeClassic), []Op{
			wantLead(in, 1), wantActivity(inMissed("101"), 1, lead),
			msg(1, "Входящий звонок от +79161234567 на +74951234567: пропущен", lead)}},
		{"answered incoming: who answered is told", on, inAnswered("105"), snap(ModeClassic), []Op{
			wantLead(in, 11), wantActivity(inAnswered("105"), 11, lead),
			msg(11, "Входящий звонок от +79161234567 на +74951234567: принят", lead)}},
		{"CP3 off: still told, linked to the existing entity", offCP3, inMissed("101"), known, []Op{
			msg(7, "Входящий звонок от +79161234567 на +74951234567: пропущен", ref(settings.EntityContact, 12))}},
		{"outgoing: no message", on, outAnswered("101"), snap(ModeClassic), []Op{
			wantLead(out, 5), wantActivity(outAnswered("101"), 5, lead)}},
		{"off: no message", base(), inMissed("101"), snap(ModeClassic), []Op{
			wantLead(in, 1), wantActivity(inMissed("101"), 1, lead)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := decide(t, valid(t, tt.s), tt.call, tt.snap)
			require.Equal(t, tt.want, p.Ops)
		})
	}
}

func TestT1_T2_Templates(t *testing.T) {
	s := base()
	s.Templates.Rules = []settings.TitleTemplate{
		{Direction: in, Entity: settings.EntityLead, Template: "Реклама: {{campaign}} → {{ virtual_number }}",
			Filter: filterOf(settings.ParamCampaign, settings.ModeInclude, "Контекст")},
		{Direction: in, Entity: settings.EntityLead, Template: "{{direction}} {{outcome}} {{call_date}} {{call_time}} {{employee_name}} ({{employee_extension}}) {{duration}}"},
		{Direction: in, Entity: settings.EntityDeal, Template: "Сделка {{contact_phone_number}} {{site}}"},
	}
	campaign := inMissed("101")
	campaign.Params.Campaign = "Контекст"
	tests := []struct {
		name   string
		s      settings.Settings
		call   crm.Call
		entity settings.EntityType
		want   string
		rule   string
	}{
		{"T1 first matching template wins", s, campaign, settings.EntityLead, "Реклама: Контекст → +74951234567", "T1"},
		{"T1 next template when the filter fails; variables from the call", s, inAnswered("105"), settings.EntityLead,
			"входящий принят 25.11.2026 10:00 Анна Козлова (105) 3:01", "T1"},
		{"T2 default for incoming", base(), inMissed("101"), settings.EntityLead, defaultTitle(in), "T2"},
		{"T2 default for outgoing", s, outAnswered("101"), settings.EntityLead, defaultTitle(out), "T2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, snap(ModeClassic))
			require.Equal(t, tt.want, p.Ops[0].Fields["TITLE"])
			requireStep(t, tr, tt.rule, true, tt.want)
		})
	}
	t.Run("T2 a template that does not parse falls back to the default", func(t *testing.T) {
		bad := base()
		bad.Templates.Rules = []settings.TitleTemplate{{Direction: in, Entity: settings.EntityLead, Template: "{{nope}}"}}
		require.Error(t, bad.Validate(), "an unknown variable is a Save error")
		p, tr := decide(t, bad, inMissed("101"), snap(ModeClassic))
		require.Equal(t, defaultTitle(in), p.Ops[0].Fields["TITLE"])
		requireStep(t, tr, "T2", true, "template 1 does not parse")
	})
	t.Run("T1 preview on a sample call", func(t *testing.T) {
		got := Preview(s, SampleCall(in), SampleUsers()...)
		require.Equal(t, []Title{
			{Entity: settings.EntityLead, Text: "Реклама: Контекст → +7 495 123-45-67", Template: 1,
				Why: "template 1 for incoming lead calls matches"},
			{Entity: settings.EntityDeal, Text: "Сделка +7 916 123-45-67 example.ru", Template: 3, Why: "template 3 for incoming deal calls matches"},
			{Entity: settings.EntityContact, Text: "Входящий звонок на номер +7 916 123-45-67 из приложения Omniphone",
				Why: "no template for incoming contact calls, so the default is used"},
			{Entity: settings.EntityCompany, Text: "Входящий звонок на номер +7 916 123-45-67 из приложения Omniphone",
				Why: "no template for incoming company calls, so the default is used"},
		}, got)
		require.NoError(t, SampleCall(out).Validate())
		other := SampleCall(in)
		other.Params.Campaign = "Поиск"
		require.Equal(t, "входящий принят 25.11.2026 10:00 Ирина Петрова (101) 3:01", Preview(s, other, SampleUsers()...)[0].Text)
	})
}

func TestF1_F2_Pipelines(t *testing.T) {
	mk := func(rules ...settings.PipelineRule) settings.Settings {
		s := base()
		s.Pipelines = settings.Pipelines{
			DefaultIncoming: settings.Stage{CategoryID: 0, StageID: "NEW"},
			DefaultOutgoing: settings.Stage{CategoryID: 2, StageID: "C2:NEW"},
			Rules:           rules,
		}
		return s
	}
	includeYandex := settings.PipelineRule{Direction: in, Filter: filterOf(settings.ParamSource, settings.ModeInclude, "yandex"),
		Stage: settings.Stage{CategoryID: 3, StageID: "C3:NEW"}}
	excludeShop := settings.PipelineRule{Direction: in, Filter: filterOf(settings.ParamSite, settings.ModeExclude, "shop.ru"),
		Stage: settings.Stage{CategoryID: 3, StageID: "C3:NEW"}}
	source := func(site, src string) crm.Call {
		c := inMissed("101")
		c.Params.Site, c.Params.Source = site, src
		return c
	}
	pipes := snap(ModeSimple)
	pipes.Pipelines = []Pipeline{
		{ID: 0, Stages: []Stage{{ID: "NEW"}}},
		{ID: 2, Stages: []Stage{{ID: "C2:NEW"}}},
		{ID: 3, Stages: []Stage{{ID: "C3:NEW"}}},
	}
	stale := pipes
	stale.Pipelines = pipes.Pipelines[:2]
	tests := []struct {
		name     string
		s        settings.Settings
		call     crm.Call
		snap     Snapshot
		category int
		stage    string
		rule     string
	}{
		{"F1 incoming default", mk(), inMissed("101"), pipes, 0, "NEW", "F1"},
		{"F1 outgoing default", mk(), outAnswered("101"), pipes, 2, "C2:NEW", "F1"},
		{"F2 include rule: matching calls go to its pipeline", mk(includeYandex), source("", "yandex"), pipes, 3, "C3:NEW", "F2"},
		{"F2 include rule: the rest go to the default", mk(includeYandex), source("", "google"), pipes, 0, "NEW", "F1"},
		{"F2 exclude rule: matching calls go to the default", mk(excludeShop), source("shop.ru", ""), pipes, 0, "NEW", "F1"},
		{"F2 exclude rule: the rest go to its pipeline", mk(excludeShop), source("blog.ru", ""), pipes, 3, "C3:NEW", "F2"},
		{"F2 a pipeline gone from the portal falls back to the default", mk(includeYandex), source("", "yandex"), stale, 0, "NEW", "F1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), tt.call, tt.snap)
			deal, ok := p.Find(OpCreate)
			for deal.Entity != settings.EntityDeal {
				p.Ops = p.Ops[1:]
				deal, ok = p.Find(OpCreate)
			}
			require.True(t, ok)
			require.Equal(t, tt.category, deal.Fields["CATEGORY_ID"])
			require.Equal(t, tt.stage, deal.Fields["STAGE_ID"])
			requireStep(t, tr, tt.rule, true)
		})
	}
	t.Run("F1 classic CRM: the stage is the lead status", func(t *testing.T) {
		p, _ := decide(t, valid(t, mk()), inMissed("101"), snap(ModeClassic))
		require.Equal(t, "NEW", p.Ops[0].Fields["STATUS_ID"])
	})
}

func TestEF1_EF2_ExtraFields(t *testing.T) {
	mk := func(always bool) settings.Settings {
		s := base()
		s.ExtraFields = settings.ExtraFields{AlwaysUpdate: always, Mappings: []settings.FieldMapping{
			{Field: "UF_CRM_SOURCE", Param: settings.ParamSource},
			{Field: "UF_CRM_CAMPAIGN", Param: settings.ParamCampaign},
			{Field: "UF_CRM_EMPLOYEE", Param: settings.ParamEmployee},
		}}
		return s
	}
	c := inAnswered("105")
	c.Params.Source = "yandex"
	existing := snap(ModeClassic)
	existing.Companies = []Entity{person(30, 9)}
	existing.Leads = []Entity{openE(3, 5)}
	same := existing
	same.Companies = []Entity{{ID: 30, Responsible: 9, Fields: map[string]string{"UF_CRM_SOURCE": "yandex", "UF_CRM_EMPLOYEE": "105"}}}
	bindings := []EntityRef{ref(settings.EntityLead, 3), ref(settings.EntityCompany, 30)}
	tests := []struct {
		name string
		s    settings.Settings
		snap Snapshot
		want []Op
		rule string
		fire bool
	}{
		// «Если переключатель "Обновлять всегда" выключен, то поля будут заполняться только при автоматическом создании "Лида"»
		{"EF1 the created lead gets the fields; empty values are skipped", mk(false), snap(ModeClassic), []Op{
			wantLead(in, 11, set("UF_CRM_SOURCE", "yandex"), set("UF_CRM_EMPLOYEE", "105")),
			wantActivity(c, 11, newRef(settings.EntityLead)),
		}, "EF1", true},
		{"EF2 off: existing entities are not touched", mk(false), existing, []Op{wantActivity(c, 11, bindings...)}, "EF2", false},
		// «Если "Обновлять всегда" включен, то данные будут обновляться в первой найденной сущности по приоритету "Контакт", "Компания", "Лид"»
		{"EF2 on: the first existing entity by priority", mk(true), existing, []Op{
			update(settings.EntityCompany, Known(30), Fields{"UF_CRM_SOURCE": "yandex", "UF_CRM_EMPLOYEE": "105"}),
			wantActivity(c, 11, bindings...),
		}, "EF2", true},
		{"EF2 on: values already there", mk(true), same, []Op{wantActivity(c, 11, bindings...)}, "EF2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tr := decide(t, valid(t, tt.s), c, tt.snap)
			require.Equal(t, tt.want, p.Ops)
			require.Equal(t, tt.fire, tr.Fired(tt.rule), tr.String())
		})
	}
}

func TestModes_ClassicAndSimple(t *testing.T) {
	withCompany := snap(ModeSimple)
	withCompany.Companies = []Entity{person(30, 9)}
	openLeadSimple := snap(ModeSimple)
	openLeadSimple.Leads = []Entity{openE(3, 5)}
	openLeadSimple.Deals = []Entity{closedDeal(40, 9)}
	tests := []struct {
		name string
		snap Snapshot
		want []Op
	}{
		{"simple CRM, company known: a deal linked to it, no new contact", withCompany, []Op{
			wantDeal(in, 9, link("COMPANY_ID", Known(30))),
			wantActivity(inMissed("101"), 9, newRef(settings.EntityDeal), ref(settings.EntityCompany, 30)),
		}},
		{"simple CRM ignores an open lead: a new deal", openLeadSimple, []Op{
			wantContact(in, 5), wantDeal(in, 5, link("CONTACT_ID", RefID(RefContact))),
			wantActivity(inMissed("101"), 5, newRef(settings.EntityDeal), newRef(settings.EntityContact)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := decide(t, valid(t, base()), inMissed("101"), tt.snap)
			require.Equal(t, tt.want, p.Ops)
		})
	}
}

func TestDecodeSnapshot(t *testing.T) {
	good := `{"mode":"classic","leads":[{"id":3,"responsible":5,"semantics":"process","modified_at":"2026-11-25T10:00:00+03:00","fields":{"UF_CRM_X":"a"}}],
		"deals":[],"contacts":[],"companies":[],"activities":[{"id":9,"started_at":"2026-11-24T10:00:00+03:00","bindings":[{"entity":"lead","id":3}]}],
		"users":[{"id":5,"inner_phone":"101","active":true}],"pipelines":[],"lead_statuses":[{"id":"NEW","semantics":"process"}]}`
	s, err := DecodeSnapshot([]byte(good))
	require.NoError(t, err)
	require.Equal(t, Entity{ID: 3, Responsible: 5, Semantics: SemanticsProcess, ModifiedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, msk),
		Fields: map[string]string{"UF_CRM_X": "a"}}.Fields, s.Leads[0].Fields)
	for name, doc := range map[string]string{
		"unknown key":       `{"mode":"classic","colour":1}`,
		"bad mode":          `{"mode":"pro"}`,
		"bad semantics":     `{"mode":"simple","deals":[{"id":1,"semantics":"won"}]}`,
		"duplicate id":      `{"mode":"simple","deals":[{"id":1},{"id":1}]}`,
		"contact status":    `{"mode":"simple","contacts":[{"id":1,"closed":true}]}`,
		"bad binding":       `{"mode":"simple","activities":[{"id":1,"bindings":[{"entity":"quote","id":1}]}]}`,
		"bad time":          `{"mode":"simple","leads":[{"id":1,"modified_at":"yesterday"}]}`,
		"two documents":     `{"mode":"simple"} {}`,
		"zero user":         `{"mode":"simple","users":[{"id":0}]}`,
		"wrong type for id": `{"mode":"simple","leads":[{"id":"1"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeSnapshot([]byte(doc))
			var se *SnapshotError
			require.ErrorAs(t, err, &se)
		})
	}
}

func TestPlanJSON_RefsAndIDs(t *testing.T) {
	p, _ := Decide(valid(t, base()), inMissed("101"), snap(ModeSimple))
	data, err := json.Marshal(p)
	require.NoError(t, err)
	require.Contains(t, string(data), `"links":{"CONTACT_ID":"$contact"}`)
	require.Contains(t, string(data), `"bindings":[{"entity":"deal","id":"$deal"},{"entity":"contact","id":"$contact"}]`)
	var back Plan
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, RefID(RefContact), back.Ops[1].Links["CONTACT_ID"])
}
