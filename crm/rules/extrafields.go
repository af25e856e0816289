package rules

import (
	"fmt"
	"strings"

	"github.com/omniphone/omniphone/settings"
)

// fieldValue is one extra field (EF1) with the call's value for it.
type fieldValue struct {
	field, value string
}

// extraFieldValues returns the mapped extra fields (EF1) whose call
// parameter has a value; an empty value never overwrites anything.
func (d *decision) extraFieldValues() []fieldValue {
	var out []fieldValue
	for _, m := range d.s.ExtraFields.Mappings {
		v := d.paramValue(m.Param)
		if v != "" {
			out = append(out, fieldValue{m.Field, v})
		}
	}
	return out
}

// paramValue is the call's single value of a parameter; the employee is the
// one who answered or made the call.
func (d *decision) paramValue(p settings.Param) string {
	if p == settings.ParamEmployee {
		return employeeExt(d.call, d.s.Responsibles.Talker)
	}
	if vs := paramValues(p, d.call); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// changedFields returns the extra fields whose value differs from what e
// holds.
func changedFields(e Entity, values []fieldValue) Fields {
	f := Fields{}
	for _, v := range values {
		if e.Fields[v.field] != v.value {
			f[v.field] = v.value
		}
	}
	return f
}

func describeFields(f Fields) string {
	parts := make([]string, 0, len(f))
	for _, k := range sortedKeys(f) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, f[k]))
	}
	return strings.Join(parts, ", ")
}

// updateExistingFields applies EF2: with "always update" on, the extra
// fields are written to the client's first existing entity by priority
// Contact, Company, Lead/Deal.
func (d *decision) updateExistingFields() {
	ef := d.s.ExtraFields
	if len(ef.Mappings) == 0 {
		d.tr.skipped("EF1", "no extra field is mapped")
		d.tr.skipped("EF2", "no extra field is mapped")
		return
	}
	if !ef.AlwaysUpdate {
		d.tr.skipped("EF2", "\"always update\" is off: extra fields are filled only on entities the engine creates")
		return
	}
	target, ok := first(d.client.priority())
	if !ok {
		d.tr.skipped("EF2", "\"always update\" is on, but the client has no existing entity")
		return
	}
	values := d.extraFieldValues()
	if len(values) == 0 {
		d.tr.skipped("EF2", "\"always update\" is on, but the call has no value for any mapped field")
		return
	}
	f := changedFields(target.Entity, values)
	if len(f) == 0 {
		d.tr.skipped("EF2", "\"always update\" is on; %s, the first by priority Contact > Company > Lead/Deal, already holds these values", target)
		return
	}
	d.add(Op{Kind: OpUpdate, Entity: target.Type, Target: ptr(Known(target.ID)), Fields: f})
	d.tr.fired("EF2", "\"always update\" is on: %s, the first by priority Contact > Company > Lead/Deal, gets %s", target, describeFields(f))
}

func ptr[T any](v T) *T { return &v }
