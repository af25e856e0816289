package sync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// check runs before a write that an earlier attempt may already have sent
// (a crash or an unclear failure between "sent" and "recorded"): one batch
// finds what that attempt created — entities by ORIGINATOR_ID/ORIGIN_ID,
// the call activity by ORIGINATOR_ID, start time and phone — so the write
// creates only what is missing.
func (r *run) check(ctx context.Context, ops []rules.Op) error {
	b := b24.NewBatch()
	origin := b24.Params{"ORIGINATOR_ID": rules.Originator, "ORIGIN_ID": r.call.ID}
	hasActivity := false
	for _, op := range ops {
		switch op.Kind {
		case rules.OpCreate:
			b.Add("f_"+string(op.Entity), "crm."+string(op.Entity)+".list", b24.Params{"filter": origin, "select": []string{"ID"}})
		case rules.OpAddActivity:
			hasActivity = true
		}
	}
	sel := []string{"ID", "ORIGIN_ID", "OWNER_ID", "OWNER_TYPE_ID", "COMMUNICATIONS", "BINDINGS"}
	if hasActivity {
		b.Add("f_act", "crm.activity.list", b24.Params{"filter": b24.Params{
			"ORIGINATOR_ID": rules.Originator, "TYPE_ID": b24.ActivityTypeCall, "START_TIME": r.call.StartedAt.Format(time.RFC3339),
		}, "select": sel})
		b.Add("f_act_add", "crm.activity.list", b24.Params{"filter": origin, "select": sel})
	}
	if b.Len() == 0 {
		return nil
	}
	res, err := r.pc.client.Batch(ctx, b)
	r.res.Requests++
	if err != nil {
		return fmt.Errorf("check for an earlier attempt: %w", err)
	}
	for _, op := range ops {
		if op.Kind != rules.OpCreate {
			continue
		}
		var rows []struct {
			ID b24.Int `json:"ID"`
		}
		if err := res.Decode("f_"+string(op.Entity), &rows); err != nil {
			return fmt.Errorf("check for an earlier attempt: %w", err)
		}
		if len(rows) > 0 {
			r.ids[op.Ref] = int(rows[0].ID)
		}
	}
	if !hasActivity {
		return nil
	}
	want := digits(r.call.ContactNumber)
	for _, key := range []string{"f_act", "f_act_add"} {
		var rows []activityRow2
		if err := res.Decode(key, &rows); err != nil {
			return fmt.Errorf("check for an earlier attempt: %w", err)
		}
		for _, a := range rows {
			if key == "f_act" && !a.hasPhone(want) {
				continue
			}
			r.ids[rules.RefActivity] = int(a.ID)
			if tel, ok := strings.CutPrefix(string(a.OriginID), "VI_"); ok {
				r.res.TelephonyCallID = tel
			}
			r.bound = a.bindings()
			return nil
		}
	}
	return nil
}

// activityRow2 is an activity as the crash check reads it.
type activityRow2 struct {
	activityRow
	OriginID       b24.String          `json:"ORIGIN_ID"`
	Communications []b24.Communication `json:"COMMUNICATIONS"`
}

func (a activityRow2) hasPhone(d string) bool {
	for _, c := range a.Communications {
		if digits(string(c.Value)) == d {
			return true
		}
	}
	return false
}

func (a activityRow2) bindings() []rules.Binding {
	return a.activity().Bindings
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

var _ = settings.EntityLead
