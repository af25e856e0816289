package rules

import (
	"fmt"
	"slices"

	"github.com/omniphone/omniphone/settings"
)

// stage decides where a created lead or deal goes (F1, F2): the first
// pipeline rule of the call's direction whose filter matches, else the
// default of the direction. A stage the snapshot shows does not exist is
// passed over; an empty stage means the portal's default.
func (d *decision) stage() settings.Stage {
	p := d.s.Pipelines
	def := p.DefaultIncoming
	if !d.incoming() {
		def = p.DefaultOutgoing
	}
	var misses []string
	rules := 0
	for i, r := range p.Rules {
		if r.Direction != d.call.Direction {
			continue
		}
		rules++
		m := matchFilter(r.Filter, d.call, d.dir)
		if !m.Matched {
			misses = append(misses, fmt.Sprintf("rule %d: %s", i+1, m))
			continue
		}
		if why := d.missingStage(r.Stage); why != "" {
			misses = append(misses, fmt.Sprintf("rule %d matches but %s", i+1, why))
			continue
		}
		d.tr.fired("F2", "pipeline rule %d (%s) sends the call to %s", i+1, m, d.describeStage(r.Stage))
		d.tr.skipped("F1", "a pipeline rule decided (F2)")
		return r.Stage
	}
	if rules == 0 {
		d.tr.skipped("F2", "no pipeline rule for %s calls", directionWord(d.call.Direction))
	} else {
		d.tr.skipped("F2", "no pipeline rule sends the call to its pipeline: %s", joinSemi(misses))
	}
	if why := d.missingStage(def); why != "" {
		d.tr.fired("F1", "the default for %s calls, %s, but %s, so the portal's default stage is used", directionWord(d.call.Direction), d.describeStage(def), why)
		return settings.Stage{}
	}
	d.tr.fired("F1", "the default for %s calls: %s", directionWord(d.call.Direction), d.describeStage(def))
	return def
}

// missingStage says why the snapshot shows st does not exist, or "".
func (d *decision) missingStage(st settings.Stage) string {
	if d.snap.Mode != ModeSimple {
		if st.StageID == "" || len(d.snap.LeadStatuses) == 0 {
			return ""
		}
		if !slices.ContainsFunc(d.snap.LeadStatuses, func(s Stage) bool { return s.ID == st.StageID }) {
			return fmt.Sprintf("lead status %s does not exist on the portal (press refresh)", st.StageID)
		}
		return ""
	}
	if len(d.snap.Pipelines) == 0 {
		return ""
	}
	i := slices.IndexFunc(d.snap.Pipelines, func(p Pipeline) bool { return p.ID == st.CategoryID })
	if i < 0 {
		return fmt.Sprintf("pipeline %d does not exist on the portal (press refresh)", st.CategoryID)
	}
	if st.StageID != "" && !slices.ContainsFunc(d.snap.Pipelines[i].Stages, func(s Stage) bool { return s.ID == st.StageID }) {
		return fmt.Sprintf("stage %s is not in pipeline %d (press refresh)", st.StageID, st.CategoryID)
	}
	return ""
}

func (d *decision) describeStage(st settings.Stage) string {
	stage := st.StageID
	if stage == "" {
		stage = "(the first stage)"
	}
	if d.snap.Mode != ModeSimple {
		return "lead status " + stage
	}
	return fmt.Sprintf("pipeline %d, stage %s", st.CategoryID, stage)
}
