package rules

import (
	"github.com/omniphone/omniphone/settings"
)

// passesFilter applies CP7 (and CP8 through the matcher) and reports
// whether the call is processed.
func (d *decision) passesFilter() bool {
	cf := d.s.CallProcessing.Filters
	f := d.callFilter()
	answerOnly := d.incoming() && f.Uses(settings.AnswerOnlyParams...)
	switch {
	case !answerOnly:
		d.tr.skipped("CP8", "the call filter uses no answer-only parameter (employee, group, last operation) for %s calls", directionWord(d.call.Direction))
	case d.call.Answered():
		d.tr.skipped("CP8", "the incoming filter uses an answer-only parameter, but the call was answered")
	default:
		d.tr.fired("CP8", "the incoming filter uses employee, group or last operation, which are known only once an employee answers: such conditions never match this %s call", d.call.Outcome)
	}
	switch {
	case !cf.Enabled:
		d.tr.skipped("CP7", "off: every call is processed")
		return true
	case f.IsEmpty():
		d.tr.skipped("CP7", "on, but no condition for %s calls: every call is processed", directionWord(d.call.Direction))
		return true
	}
	m := matchFilter(f, d.call, d.dir)
	if m.Matched {
		d.tr.fired("CP7", "included: %s", m)
		return true
	}
	d.tr.fired("CP7", "excluded: %s", m)
	d.journal = "CP7: the call filter excluded the call: " + m.String()
	d.noEntity = "the call filter (CP7) excluded the call: " + m.String()
	d.explainNoEntity()
	d.tr.rest("CP7 excluded the call, so nothing else applies", Rules...)
	return false
}
