package rules

import (
	"fmt"
	"time"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// AppName is the value of the {{app_name}} template variable.
const AppName = "Omniphone"

// Title is a rendered entity title and where its template came from.
type Title struct {
	Entity settings.EntityType `json:"entity"`
	Text   string              `json:"text"`
	// Template is the 1-based index of the template rule used (T1), or 0
	// for the default (T2).
	Template int `json:"template"`
	// Why says why that template was chosen.
	Why string `json:"why"`
}

// title renders the title of a created entity of type t (T1, T2).
func title(s settings.Settings, call crm.Call, t settings.EntityType, dir directory) Title {
	vars := templateVars(call, dir, s.Responsibles.Talker)
	var skipped []string
	for i, r := range s.Templates.Rules {
		if r.Direction != call.Direction || r.Entity != t {
			continue
		}
		if m := matchFilter(r.Filter, call, dir); !m.Matched {
			skipped = append(skipped, fmt.Sprintf("template %d: %s", i+1, m))
			continue
		}
		tpl, err := settings.ParseTemplate(r.Template)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("template %d does not parse (%v)", i+1, err))
			continue
		}
		return Title{Entity: t, Text: tpl.Render(vars), Template: i + 1,
			Why: fmt.Sprintf("template %d for %s %s calls matches", i+1, directionWord(call.Direction), t)}
	}
	tpl, err := settings.ParseTemplate(settings.DefaultTitle(call.Direction))
	if err != nil {
		// Unreachable: the defaults parse (settings tests check them).
		panic("rules: default title: " + err.Error())
	}
	why := fmt.Sprintf("no template for %s %s calls", directionWord(call.Direction), t)
	if len(skipped) > 0 {
		why = fmt.Sprintf("no template for %s %s calls matches (%s)", directionWord(call.Direction), t, joinSemi(skipped))
	}
	return Title{Entity: t, Text: tpl.Render(vars), Why: why + ", so the default is used"}
}

// templateVars fills the variable catalogue from a call.
func templateVars(call crm.Call, dir directory, talker settings.Talker) map[string]string {
	ext := employeeExt(call, talker)
	name := ""
	if u, ok := dir.byExt(ext); ok {
		name = u.Name
	}
	dur := call.Duration().Round(time.Second)
	return map[string]string{
		"contact_phone_number": call.ContactNumber,
		"virtual_number":       call.VirtualNumber,
		"app_name":             AppName,
		"direction":            map[settings.Direction]string{settings.DirectionIn: "входящий", settings.DirectionOut: "исходящий"}[call.Direction],
		"outcome":              outcomeWord(call.Outcome),
		"employee_name":        name,
		"employee_extension":   ext,
		"call_date":            call.StartedAt.Format("02.01.2006"),
		"call_time":            call.StartedAt.Format("15:04"),
		"duration":             fmt.Sprintf("%d:%02d", int(dur.Minutes()), int(dur.Seconds())%60),
		"scenario":             call.Params.Scenario,
		"last_operation":       call.Params.LastOperation,
		"group":                call.Params.Group,
		"campaign":             call.Params.Campaign,
		"first_campaign":       call.Params.FirstCampaign,
		"site":                 call.Params.Site,
		"source":               call.Params.Source,
	}
}

// employeeExt is the call's employee: who answered (RS3) an incoming call,
// or who made an outgoing one; "" for an unanswered incoming call.
func employeeExt(call crm.Call, talker settings.Talker) string {
	if call.Direction == settings.DirectionOut {
		return caller(call)
	}
	if !call.Answered() {
		return ""
	}
	return call.Talker(talker)
}

func outcomeWord(o crm.Outcome) string {
	switch o {
	case crm.OutcomeAnswered:
		return "принят"
	case crm.OutcomeMissed:
		return "пропущен"
	case crm.OutcomeBusy:
		return "занято"
	case crm.OutcomeFailed:
		return "не состоялся"
	}
	return string(o)
}

// Preview renders the title of every entity type for a sample call, the way
// Decide would (T1 "preview"). users may be nil; then {{employee_name}} is
// empty.
func Preview(s settings.Settings, sample crm.Call, users ...User) []Title {
	dir := newDirectory(users)
	types := []settings.EntityType{settings.EntityLead, settings.EntityDeal, settings.EntityContact, settings.EntityCompany}
	out := make([]Title, len(types))
	for i, t := range types {
		out[i] = title(s, sample, t, dir)
	}
	return out
}

// SampleCall returns a call built from the variable catalogue's sample
// values, for previews: answered, 3:01 long, on 25.11.2026 at 10:00.
func SampleCall(d settings.Direction) crm.Call {
	sample := func(name string) string {
		v, _ := settings.LookupVariable(name)
		return v.Sample
	}
	zone := time.FixedZone("MSK", 3*60*60)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, zone)
	answered := start.Add(9 * time.Second)
	ext := sample("employee_extension")
	return crm.Call{
		ID:            "preview",
		Direction:     d,
		Outcome:       crm.OutcomeAnswered,
		ContactNumber: sample("contact_phone_number"),
		VirtualNumber: sample("virtual_number"),
		Rung:          []string{ext},
		Talked:        []string{ext},
		StartedAt:     start,
		AnsweredAt:    &answered,
		EndedAt:       answered.Add(3*time.Minute + time.Second),
		Params: crm.CallParams{
			Scenario:      sample("scenario"),
			LastOperation: sample("last_operation"),
			Group:         sample("group"),
			Campaign:      sample("campaign"),
			FirstCampaign: sample("first_campaign"),
			Site:          sample("site"),
			Source:        sample("source"),
		},
	}
}

// SampleUsers returns the employee the sample call talks to, so a preview
// can fill {{employee_name}}.
func SampleUsers() []User {
	name, _ := settings.LookupVariable("employee_name")
	ext, _ := settings.LookupVariable("employee_extension")
	return []User{{ID: 1, Name: name.Sample, InnerPhone: ext.Sample, Active: true}}
}

func directionWord(d settings.Direction) string {
	if d == settings.DirectionOut {
		return "outgoing"
	}
	return "incoming"
}
