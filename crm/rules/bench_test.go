package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// realistic returns a busy portal's settings and a client with history:
// 200 users, 10 pipelines of 8 stages, a contact, a company, 3 leads,
// 5 deals and 10 open activities.
func realistic() (settings.Settings, crm.Call, Snapshot) {
	s := base()
	s.CallProcessing.VirtualNumberAsSource = true
	s.CallProcessing.UpdateResponsibleAfterMinutes = 5
	s.CallProcessing.FirstCommunicationField = "UF_CRM_FIRST_COMM"
	s.CallProcessing.Filters = settings.CallFilters{Enabled: true, Incoming: groups(
		[]settings.Condition{cond(settings.ParamVirtualNumber, settings.ModeInclude, virtualNumber, ruleNumber), cond(settings.ParamSite, settings.ModeExclude, "example.com")},
		[]settings.Condition{cond(settings.ParamSource, settings.ModeInclude, "yandex", "google")},
	)}
	s.Recordings.Send = true
	s.OpenLines.NotifyEmployee = true
	s.Templates.Rules = []settings.TitleTemplate{
		{Direction: in, Entity: settings.EntityDeal, Template: "{{source}}: {{contact_phone_number}} ({{employee_name}})", Filter: filterOf(settings.ParamSource, settings.ModeInclude, "yandex")},
		{Direction: in, Entity: settings.EntityContact, Template: "Клиент {{contact_phone_number}}"},
	}
	s.Pipelines.Rules = []settings.PipelineRule{{Direction: in, Filter: filterOf(settings.ParamSource, settings.ModeInclude, "yandex"), Stage: settings.Stage{CategoryID: 3, StageID: "C3:NEW"}}}
	s = withRule(withRule(s, ruleNumber, 20), otherRuleNum, 9)
	s.ExtraFields = settings.ExtraFields{AlwaysUpdate: true, Mappings: []settings.FieldMapping{
		{Field: "UF_CRM_SOURCE", Param: settings.ParamSource}, {Field: "UF_CRM_CAMPAIGN", Param: settings.ParamCampaign}}}

	c := inAnswered("102", "105")
	c.Params = crm.CallParams{Source: "yandex", Campaign: "Контекст", Site: "shop.ru", FirstCommunicationID: "fc-1"}
	c.Recording = &crm.Recording{URL: "https://pbx.example.com/rec/1.mp3"}

	sn := snap(ModeSimple)
	for i := 0; i < 200; i++ {
		sn.Users = append(sn.Users, User{ID: 100 + i, Name: fmt.Sprintf("Сотрудник %d", i), InnerPhone: fmt.Sprint(200 + i), Active: i%10 != 0})
	}
	for p := 0; p < 10; p++ {
		pl := Pipeline{ID: p, Name: fmt.Sprintf("Воронка %d", p)}
		for st := 0; st < 8; st++ {
			pl.Stages = append(pl.Stages, Stage{ID: fmt.Sprintf("C%d:S%d", p, st), Semantics: SemanticsProcess})
		}
		sn.Pipelines = append(sn.Pipelines, pl)
	}
	sn.Pipelines[3].Stages = append(sn.Pipelines[3].Stages, Stage{ID: "C3:NEW"})
	sn.Contacts = []Entity{person(12, 7)}
	sn.Companies = []Entity{person(30, 9)}
	for i := 0; i < 3; i++ {
		l := openE(3+i, 5)
		l.Semantics = SemanticsFailure
		sn.Leads = append(sn.Leads, l)
	}
	for i := 0; i < 5; i++ {
		sn.Deals = append(sn.Deals, closedDeal(40+i, 5))
	}
	for i := 0; i < 10; i++ {
		sn.Activities = append(sn.Activities, Activity{ID: 900 + i, StartedAt: t0.Add(-time.Duration(i+1) * time.Hour),
			Bindings: []Binding{{settings.EntityContact, 12}, {settings.EntityDeal, 40 + i%5}}})
	}
	return s, c, sn
}

func BenchmarkDecide(b *testing.B) {
	s, c, sn := realistic()
	if err := s.Validate(); err != nil {
		b.Fatal(err)
	}
	if p, _ := Decide(s, c, sn); len(p.Ops) < 5 {
		b.Fatalf("the benchmark plan is too small: %+v", p)
	}
	b.ReportAllocs()
	for b.Loop() {
		Decide(s, c, sn)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
