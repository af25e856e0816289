package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// FilterResult is the outcome of matching a SPEC §9 filter against a call.
type FilterResult struct {
	Matched bool
	// Empty means the filter has no condition and so matches every call.
	Empty bool
	// Group is the 1-based group that matched, and Conditions its
	// conditions.
	Group      int
	Conditions []settings.Condition
	// Misses name, for each group, the first condition the call failed;
	// set when the filter did not match.
	Misses []Miss
}

// Miss is a condition a call failed.
type Miss struct {
	Group     int
	Condition settings.Condition
	// Why says what the call had instead.
	Why string
}

func (m Miss) String() string {
	return fmt.Sprintf("group %d, condition '%s' (%s)", m.Group, describeCondition(m.Condition), m.Why)
}

func (r FilterResult) String() string {
	switch {
	case r.Empty:
		return "no condition, so every call matches"
	case r.Matched:
		conds := make([]string, len(r.Conditions))
		for i, c := range r.Conditions {
			conds[i] = "'" + describeCondition(c) + "'"
		}
		return fmt.Sprintf("group %d matched (%s)", r.Group, strings.Join(conds, " and "))
	}
	parts := make([]string, len(r.Misses))
	for i, m := range r.Misses {
		parts[i] = m.String()
	}
	return strings.Join(parts, "; ")
}

// MatchFilter matches a call against a filter (SPEC §9): groups are joined
// by OR, a group's conditions by AND; include matches when one of the call's
// values for the parameter equals one of the condition's values, exclude when
// none does; an empty filter matches everything. On an incoming call that
// was not answered a condition on an answer-only parameter (CP8: employee,
// visitor-selected group, last scenario operation) never matches. users map
// extensions to employees for the employee parameter.
func MatchFilter(f settings.Filter, call crm.Call, users []User) FilterResult {
	return matchFilter(f, call, newDirectory(users))
}

func matchFilter(f settings.Filter, call crm.Call, dir directory) FilterResult {
	if f.IsEmpty() {
		return FilterResult{Matched: true, Empty: true}
	}
	var r FilterResult
	for gi, g := range f.Groups {
		if len(g.Conditions) == 0 {
			continue // an empty group is ignored, as Filter.IsEmpty does
		}
		miss, ok := matchGroup(g, call, dir)
		if ok {
			return FilterResult{Matched: true, Group: gi + 1, Conditions: g.Conditions}
		}
		miss.Group = gi + 1
		r.Misses = append(r.Misses, miss)
	}
	return r
}

func matchGroup(g settings.Group, call crm.Call, dir directory) (Miss, bool) {
	for _, c := range g.Conditions {
		if why, ok := matchCondition(c, call, dir); !ok {
			return Miss{Condition: c, Why: why}, false
		}
	}
	return Miss{}, true
}

// matchCondition reports whether the call meets c, and if not, why.
func matchCondition(c settings.Condition, call crm.Call, dir directory) (string, bool) {
	if call.Direction == settings.DirectionIn && !call.Answered() && slices.Contains(settings.AnswerOnlyParams, c.Param) {
		return fmt.Sprintf("CP8: %s is known only once an employee answers, and the call was %s", c.Param, call.Outcome), false
	}
	have := paramValues(c.Param, call)
	hit := slices.ContainsFunc(have, func(v string) bool {
		return slices.ContainsFunc(c.Values, func(want string) bool { return paramEqual(c.Param, v, want, dir) })
	})
	switch c.Mode {
	case settings.ModeInclude:
		if hit {
			return "", true
		}
	case settings.ModeExclude:
		if !hit {
			return "", true
		}
	default:
		return fmt.Sprintf("unknown mode %q", c.Mode), false
	}
	return "call has " + describeValues(have), false
}

// paramValues returns the call's values of a parameter. The employee of an
// incoming call is every extension that rang or talked; of an outgoing call,
// the caller.
func paramValues(p settings.Param, call crm.Call) []string {
	var v string
	switch p {
	case settings.ParamEmployee:
		if call.Direction == settings.DirectionOut {
			if ext := caller(call); ext != "" {
				return []string{ext}
			}
			return nil
		}
		var exts []string
		for _, e := range slices.Concat(call.Rung, call.Talked) {
			if e != "" && !slices.Contains(exts, e) {
				exts = append(exts, e)
			}
		}
		return exts
	case settings.ParamVirtualNumber:
		v = call.VirtualNumber
	case settings.ParamContactNumber:
		v = call.ContactNumber
	case settings.ParamLastOperation:
		v = call.Params.LastOperation
	case settings.ParamScenario:
		v = call.Params.Scenario
	case settings.ParamGroup:
		v = call.Params.Group
	case settings.ParamCampaign:
		v = call.Params.Campaign
	case settings.ParamFirstCampaign:
		v = call.Params.FirstCampaign
	case settings.ParamSite:
		v = call.Params.Site
	case settings.ParamSource:
		v = call.Params.Source
	}
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	return []string{v}
}

// paramEqual compares a call value with a filter value: phone numbers by
// their digits (a leading 8 of an 11-digit number read as 7), employees by
// extension or by the Bitrix24 user ID mapped to it, text ignoring case and
// surrounding spaces.
func paramEqual(p settings.Param, have, want string, dir directory) bool {
	want = strings.TrimSpace(want)
	switch p {
	case settings.ParamVirtualNumber, settings.ParamContactNumber:
		a, b := phoneDigits(have), phoneDigits(want)
		return a != "" && a == b
	case settings.ParamEmployee:
		return have == want || dir.userID(have) == want
	}
	return strings.EqualFold(have, want)
}

// phoneDigits keeps the digits of a phone number and reads a Russian trunk
// prefix 8 of an 11-digit number as 7, as Bitrix24's duplicate search does.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}

// caller is the extension that made an outgoing call.
func caller(call crm.Call) string {
	if len(call.Rung) > 0 && call.Rung[0] != "" {
		return call.Rung[0]
	}
	if len(call.Talked) > 0 {
		return call.Talked[0]
	}
	return ""
}

func describeCondition(c settings.Condition) string {
	return fmt.Sprintf("%s %s %s", c.Param, c.Mode, strings.Join(c.Values, ", "))
}

func describeValues(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}
