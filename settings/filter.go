package settings

import "slices"

// Direction is a call direction, spelled as in the call record (SPEC §11).
type Direction string

// Call directions.
const (
	DirectionIn  Direction = "in"
	DirectionOut Direction = "out"
)

// Param is a call parameter a filter, an extra field or a template can use
// (SPEC §9, CP7, EF1). The names match the keys of the call record.
type Param string

// Call parameters.
const (
	ParamVirtualNumber Param = "virtual_number"
	ParamLastOperation Param = "last_operation"
	ParamScenario      Param = "scenario"
	ParamGroup         Param = "group"
	ParamEmployee      Param = "employee"
	ParamCampaign      Param = "campaign"
	ParamFirstCampaign Param = "first_campaign"
	ParamSite          Param = "site"
	ParamSource        Param = "source"
	// ParamContactNumber is the client's number; extra fields only.
	ParamContactNumber Param = "contact_number"
)

// FilterParams lists, per direction, the parameters a filter may use (CP7).
var FilterParams = map[Direction][]Param{
	DirectionIn: {
		ParamVirtualNumber, ParamLastOperation, ParamScenario, ParamGroup,
		ParamEmployee, ParamCampaign, ParamFirstCampaign, ParamSite, ParamSource,
	},
	DirectionOut: {ParamVirtualNumber, ParamEmployee},
}

// ExtraFieldParams lists the parameters an extra field may carry (EF1).
var ExtraFieldParams = []Param{
	ParamSource, ParamCampaign, ParamFirstCampaign, ParamSite, ParamVirtualNumber,
	ParamScenario, ParamGroup, ParamLastOperation, ParamEmployee, ParamContactNumber,
}

// Mode is how a condition compares.
type Mode string

// Condition modes.
const (
	ModeInclude Mode = "include"
	ModeExclude Mode = "exclude"
)

// Filter is SPEC §9: groups joined by OR; an empty filter matches every call.
type Filter struct {
	Groups []Group `json:"groups,omitempty"`
}

// Group is a list of conditions joined by AND.
type Group struct {
	Conditions []Condition `json:"conditions"`
}

// Condition is one comparison: include matches when the call's parameter
// equals one of Values, exclude when it equals none of them.
type Condition struct {
	Param  Param    `json:"param"`
	Mode   Mode     `json:"mode"`
	Values []string `json:"values"`
}

// IsEmpty reports whether the filter has no condition at all, and so
// matches every call.
func (f Filter) IsEmpty() bool {
	for _, g := range f.Groups {
		if len(g.Conditions) > 0 {
			return false
		}
	}
	return true
}

// Uses reports whether any condition of the filter is on one of params.
func (f Filter) Uses(params ...Param) bool {
	return f.find(func(c Condition) bool { return slices.Contains(params, c.Param) })
}

// UsesMode reports whether a condition on param with the given mode exists.
func (f Filter) UsesMode(param Param, mode Mode) bool {
	return f.find(func(c Condition) bool { return c.Param == param && c.Mode == mode })
}

func (f Filter) find(pred func(Condition) bool) bool {
	for _, g := range f.Groups {
		for _, c := range g.Conditions {
			if pred(c) {
				return true
			}
		}
	}
	return false
}

// AnswerOnlyParams are the incoming parameters known only once an employee
// has answered (CP8): a filter on them never matches a missed call.
var AnswerOnlyParams = []Param{ParamEmployee, ParamGroup, ParamLastOperation}
