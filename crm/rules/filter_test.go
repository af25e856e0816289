package rules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

func cond(p settings.Param, m settings.Mode, values ...string) settings.Condition {
	return settings.Condition{Param: p, Mode: m, Values: values}
}

func groups(gs ...[]settings.Condition) settings.Filter {
	var f settings.Filter
	for _, g := range gs {
		f.Groups = append(f.Groups, settings.Group{Conditions: g})
	}
	return f
}

func TestFilterLanguage_S9(t *testing.T) {
	withSite := func(c crm.Call, site, source string) crm.Call {
		c.Params.Site, c.Params.Source = site, source
		return c
	}
	inc, exc := settings.ModeInclude, settings.ModeExclude
	tests := []struct {
		name    string
		filter  settings.Filter
		call    crm.Call
		matched bool
		text    string
	}{
		{"empty filter matches everything", settings.Filter{}, inMissed(), true, "no condition, so every call matches"},
		{"include: equals one of the values", filterOf(settings.ParamSite, inc, "a.ru", "b.ru"), withSite(inMissed(), "b.ru", ""), true, "group 1 matched ('site include a.ru, b.ru')"},
		{"include: equals none", filterOf(settings.ParamSite, inc, "a.ru"), withSite(inMissed(), "c.ru", ""), false, "group 1, condition 'site include a.ru' (call has c.ru)"},
		{"include: empty parameter", filterOf(settings.ParamSite, inc, "a.ru"), inMissed(), false, "group 1, condition 'site include a.ru' (call has none)"},
		{"exclude: equals none", filterOf(settings.ParamSite, exc, "example.com"), withSite(inMissed(), "shop.ru", ""), true, ""},
		{"exclude: equals one", filterOf(settings.ParamSite, exc, "example.com"), withSite(inMissed(), "example.com", ""), false, "group 1, condition 'site exclude example.com' (call has example.com)"},
		{"text ignores case and spaces", filterOf(settings.ParamSite, inc, " Example.COM "), withSite(inMissed(), "example.com", ""), true, ""},
		{"phone numbers compare by digits", filterOf(settings.ParamVirtualNumber, inc, "8 (495) 123-45-67"), inMissed(), true, ""},
		{"groups are joined by OR", groups(
			[]settings.Condition{cond(settings.ParamSite, inc, "a.ru")},
			[]settings.Condition{cond(settings.ParamSource, inc, "yandex", "google")}),
			withSite(inMissed(), "b.ru", "google"), true, "group 2 matched ('source include yandex, google')"},
		{"conditions are joined by AND", groups(
			[]settings.Condition{cond(settings.ParamSite, inc, "a.ru"), cond(settings.ParamSource, inc, "yandex")}),
			withSite(inMissed(), "a.ru", "google"), false, "group 1, condition 'source include yandex' (call has google)"},
		{"every group's miss is named", groups(
			[]settings.Condition{cond(settings.ParamVirtualNumber, inc, virtualNumber), cond(settings.ParamSite, exc, "example.com")},
			[]settings.Condition{cond(settings.ParamSource, inc, "yandex", "google")}),
			withSite(inMissed(), "example.com", ""), false,
			"group 1, condition 'site exclude example.com' (call has example.com); group 2, condition 'source include yandex, google' (call has none)"},
		{"employee: any extension that rang or talked", filterOf(settings.ParamEmployee, inc, "102"), inAnswered("101", "102"), true, ""},
		{"employee: Bitrix24 user ID of the extension", filterOf(settings.ParamEmployee, inc, "11"), inAnswered("105"), true, ""},
		{"employee exclude: none of them", filterOf(settings.ParamEmployee, exc, "102"), inAnswered("101", "102"), false, "call has 101, 102"},
		{"employee of an outgoing call is the caller", filterOf(settings.ParamEmployee, exc, "199"), outAnswered("101"), true, ""},
		{"employee of an outgoing call is the caller (excluded)", filterOf(settings.ParamEmployee, exc, "199"), outAnswered("199"), false, "call has 199"},
		{"CP8: answer-only include never matches a missed call", filterOf(settings.ParamEmployee, inc, "101"), inMissed("101"), false,
			"CP8: employee is known only once an employee answers, and the call was missed"},
		{"CP8: answer-only exclude never matches a missed call", filterOf(settings.ParamGroup, exc, "sales"), inMissed("101"), false, "CP8: group"},
		{"CP8: busy counts as not answered", filterOf(settings.ParamLastOperation, inc, "menu"),
			call(settings.DirectionIn, crm.OutcomeBusy, nil, nil), false, "CP8: last_operation"},
		{"CP8: answered calls match answer-only params", groups([]settings.Condition{cond(settings.ParamLastOperation, exc, "menu")}), inAnswered("101"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := MatchFilter(tt.filter, tt.call, testUsers)
			require.Equal(t, tt.matched, r.Matched, r.String())
			if tt.text != "" {
				require.Contains(t, r.String(), tt.text)
			}
		})
	}
}
