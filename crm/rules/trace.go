package rules

import (
	"fmt"
	"slices"
	"strings"
)

// Rules lists every SPEC rule ID a decision trace accounts for, in SPEC
// order. Decide leaves a step for each of them.
var Rules = []string{
	"CP1", "CP2", "CP3", "CP4", "CP5", "CP6", "CP7", "CP8",
	"C1", "C2", "C3", "CB1", "RC1", "RC2", "OL1",
	"RS1", "RS2", "RS3", "RS4", "RS5", "RS6", "RS7", "RS8", "RS9", "RS10",
	"RS11", "RS12", "RS13", "RS14", "RS15", "RS16", "RS17",
	"T1", "T2", "F1", "F2", "EF1", "EF2", "D3",
}

// Step is one rule considered for a call: whether it fired and why, in
// plain words.
type Step struct {
	Rule  string `json:"rule"`
	Fired bool   `json:"fired"`
	Why   string `json:"why"`
}

func (s Step) String() string {
	mark := "skipped"
	if s.Fired {
		mark = "fired"
	}
	return fmt.Sprintf("%s %s: %s", s.Rule, mark, s.Why)
}

// Trace is the decision trace of one call (SPEC D1), in the order the
// rules were considered.
type Trace []Step

// Rule returns the steps of one rule.
func (t Trace) Rule(id string) []Step {
	var out []Step
	for _, s := range t {
		if s.Rule == id {
			out = append(out, s)
		}
	}
	return out
}

// Fired reports whether a step of rule id fired.
func (t Trace) Fired(id string) bool {
	return slices.ContainsFunc(t, func(s Step) bool { return s.Rule == id && s.Fired })
}

// String renders the trace one step a line, for logs and the CLI.
func (t Trace) String() string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// tracer collects steps.
type tracer struct {
	steps Trace
}

func (t *tracer) fired(rule, format string, args ...any) {
	t.steps = append(t.steps, Step{Rule: rule, Fired: true, Why: fmt.Sprintf(format, args...)})
}

func (t *tracer) skipped(rule, format string, args ...any) {
	t.steps = append(t.steps, Step{Rule: rule, Why: fmt.Sprintf(format, args...)})
}

// has reports whether rule already has a step.
func (t *tracer) has(rule string) bool {
	return slices.ContainsFunc(t.steps, func(s Step) bool { return s.Rule == rule })
}

// rest adds a skipped step with why for each of rules not traced yet.
func (t *tracer) rest(why string, rules ...string) {
	for _, r := range rules {
		if !t.has(r) {
			t.skipped(r, "%s", why)
		}
	}
}
