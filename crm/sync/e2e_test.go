package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

type scenario struct {
	name  string
	mode  int
	seed  func() *b24sim.Seed
	set   func(s *settings.Settings, dir string)
	calls func(t *testing.T, p *portal, dir string) []map[string]any
	check func(t *testing.T, st *b24sim.State, states map[string]map[string]any)
}

func seedWith(mut func(s *b24sim.Seed)) func() *b24sim.Seed {
	return func() *b24sim.Seed {
		s := &b24sim.Seed{Users: users()}
		if mut != nil {
			mut(s)
		}
		return s
	}
}

func one(c map[string]any) func(*testing.T, *portal, string) []map[string]any {
	return func(*testing.T, *portal, string) []map[string]any { return []map[string]any{c} }
}

func activities(st *b24sim.State) []*b24sim.Activity { return st.Activities }

func bound(a *b24sim.Activity, typeID, id int) bool {
	for _, b := range a.Bindings {
		if b.OwnerTypeID == typeID && b.OwnerID == id {
			return true
		}
	}
	return false
}

// scenarios are the SPEC examples end to end: seeded portal → POST the call
// → the simulator holds exactly the expected entities and activities.
var scenarios = []scenario{
	{
		name: "CP3_RS6_first_incoming_answered_creates_lead", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: one(call("c-rs6", "in", "answered", []string{"102"}, []string{"102"})),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "2", field(leads[0].Fields, "ASSIGNED_BY_ID"))
			require.Equal(t, "c-rs6", field(leads[0].Fields, "ORIGIN_ID"))
			require.Equal(t, "omniphone", field(leads[0].Fields, "ORIGINATOR_ID"))
			require.Len(t, activities(st), 1)
			a := activities(st)[0]
			require.Equal(t, "2", field(a.Fields, "RESPONSIBLE_ID"))
			require.Equal(t, "Y", field(a.Fields, "COMPLETED"))
			require.Equal(t, "omniphone", field(a.Fields, "ORIGINATOR_ID"))
			require.True(t, bound(a, 1, leads[0].ID))
			require.Len(t, st.Stats, 1, "telephony statistics: registered and finished")
			require.Equal(t, "c-rs6", st.Stats[0].Call.ExternalCallID)
			require.Equal(t, a.ID, st.Stats[0].ActivityID)
			require.Empty(t, st.Calls, "no call left unfinished")
		},
	},
	{
		name: "CP3_RS5_first_incoming_missed_goes_to_default", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: one(call("c-rs5", "in", "missed", []string{"102", "103"}, nil)),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "3", field(leads[0].Fields, "ASSIGNED_BY_ID"))
			require.Len(t, activities(st), 1)
			require.Equal(t, "N", field(activities(st)[0].Fields, "COMPLETED"))
			require.Equal(t, "3", field(activities(st)[0].Fields, "RESPONSIBLE_ID"))
		},
	},
	{
		name: "CP3_repeat_call_reuses_open_lead_and_completes_earlier", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			s.Leads = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "open", "STATUS_ID": "IN_PROCESS", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
		}),
		calls: func(*testing.T, *portal, string) []map[string]any {
			second := call("c-rep-2", "in", "answered", []string{"102"}, []string{"102"})
			return []map[string]any{call("c-rep-1", "in", "missed", []string{"102"}, nil), second}
		},
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, entities(st, "LEAD"), 1, "the open lead is reused")
			require.Len(t, activities(st), 2)
			for _, a := range activities(st) {
				require.Equal(t, "Y", field(a.Fields, "COMPLETED"), "the answered call completes the earlier one")
				require.True(t, bound(a, 1, 1))
			}
			require.Equal(t, "3", field(activities(st)[0].Fields, "RESPONSIBLE_ID"), "RS9: missed → the lead's responsible")
			require.Equal(t, "2", field(activities(st)[1].Fields, "RESPONSIBLE_ID"), "RS10: answered → who answered")
		},
	},
	{
		name: "RS11_simple_mode_closed_deal_gets_new_deal_on_contact_responsible", mode: b24sim.ModeSimple,
		seed: seedWith(func(s *b24sim.Seed) {
			s.Companies = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "ООО Ромашка", "ASSIGNED_BY_ID": 3, "PHONE": phone("+74950000000")}}}
			s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "Сергей", "ASSIGNED_BY_ID": 2, "COMPANY_ID": 1, "PHONE": phone(clientNum)}}}
			s.Deals = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "old", "STAGE_ID": "WON", "CONTACT_IDS": []any{1}, "COMPANY_ID": 1, "ASSIGNED_BY_ID": 3}}}
		}),
		calls: one(call("c-rs11", "in", "missed", []string{"103"}, nil)),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			deals := entities(st, "DEAL")
			require.Len(t, deals, 2, "a new deal next to the closed one")
			require.Len(t, entities(st, "CONTACT"), 1, "no second contact")
			d := deals[1]
			require.Equal(t, "2", field(d.Fields, "ASSIGNED_BY_ID"))
			require.Equal(t, "c-rs11", field(d.Fields, "ORIGIN_ID"))
			require.Len(t, activities(st), 1)
			a := activities(st)[0]
			require.Equal(t, "2", field(a.Fields, "RESPONSIBLE_ID"))
			require.True(t, bound(a, 2, d.ID), "bound to the new deal")
			require.True(t, bound(a, 3, 1), "and to the contact")
		},
	},
	{
		name: "CP4_RS4_outgoing_employee_found", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: one(call("c-rs4", "out", "answered", []string{"103"}, []string{"103"})),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "3", field(leads[0].Fields, "ASSIGNED_BY_ID"))
			require.Len(t, activities(st), 1)
			require.Equal(t, "2", field(activities(st)[0].Fields, "DIRECTION"))
			require.Equal(t, "3", field(activities(st)[0].Fields, "RESPONSIBLE_ID"))
		},
	},
	{
		name: "CP1_no_entities_journal_only", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set:   func(s *settings.Settings, _ string) { s.CallProcessing.UseOtherTelephony = true },
		calls: one(call("c-cp1", "in", "answered", []string{"102"}, []string{"102"})),
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Empty(t, entities(st, "LEAD"))
			require.Empty(t, activities(st))
			require.Empty(t, st.Stats)
			require.Contains(t, states["c-cp1"]["journal"], "CP1")
		},
	},
	{
		name: "CP7_filter_excludes_the_call", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.CallProcessing.Filters = settings.CallFilters{Enabled: true, Incoming: settings.Filter{Groups: []settings.Group{{Conditions: []settings.Condition{
				{Param: settings.ParamSite, Mode: settings.ModeInclude, Values: []string{"example.com"}},
			}}}}}
		},
		calls: one(call("c-cp7", "in", "answered", []string{"102"}, []string{"102"})),
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Empty(t, st.Entities)
			require.Empty(t, activities(st))
			require.Equal(t, "done", states["c-cp7"]["state"])
		},
	},
	{
		name: "OL1_message_links_to_the_new_lead", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set:   func(s *settings.Settings, _ string) { s.OpenLines.NotifyEmployee = true },
		calls: one(call("c-ol1", "in", "missed", []string{"102"}, nil)),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, entities(st, "LEAD"), 1)
		},
	},
	{
		name: "CP5_delayed_responsible", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set:   func(s *settings.Settings, _ string) { s.CallProcessing.UpdateResponsibleAfterMinutes = 5 },
		calls: one(call("c-cp5", "in", "answered", []string{"102"}, []string{"102"})),
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "2", field(leads[0].Fields, "ASSIGNED_BY_ID"), "the delayed step set the real responsible")
			plan := states["c-cp5"]["plan"].(map[string]any)["ops"].([]any)
			create := plan[0].(map[string]any)
			require.Equal(t, "create", create["op"])
			require.EqualValues(t, 3, create["fields"].(map[string]any)["ASSIGNED_BY_ID"], "created on the default responsible")
			require.Len(t, activities(st), 1, "the activity is added by the delayed step")
			require.Equal(t, "2", field(activities(st)[0].Fields, "RESPONSIBLE_ID"))
		},
	},
	{
		name: "RC1_recording_file_is_attached", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) { s.Recordings.Send = true },
		calls: func(t *testing.T, _ *portal, dir string) []map[string]any {
			path := filepath.Join(dir, "rec.mp3")
			require.NoError(t, os.WriteFile(path, []byte("ID3 fake mp3"), 0o600))
			c := call("c-rc1", "in", "answered", []string{"102"}, []string{"102"})
			c["recording"] = map[string]any{"file": path}
			return []map[string]any{c}
		},
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, activities(st), 1)
			require.Len(t, st.Files, 1)
			require.Equal(t, []int{st.Files[0].ID}, activities(st)[0].Files)
		},
	},
	{
		name: "C1_click_to_call_is_only_finished", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "Сергей", "ASSIGNED_BY_ID": 2, "PHONE": phone(clientNum)}}}
		}),
		set: func(s *settings.Settings, _ string) {
			s.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951234567"}
		},
		calls: func(t *testing.T, p *portal, _ string) []map[string]any {
			c, err := b24.New(b24.Options{Portal: p.srv.URL, Auth: b24.Webhook{UserID: 1, Code: hookCode}})
			require.NoError(t, err)
			reg, err := c.RegisterCall(context.Background(), b24.RegisterCall{UserID: 2, PhoneNumber: clientNum, Type: b24.CallOutgoing, StartDate: baseStart})
			require.NoError(t, err)
			rec := call("c-c1", "out", "answered", []string{"102"}, []string{"102"})
			rec["bitrix24_call_id"] = string(reg.CallID)
			return []map[string]any{rec}
		},
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, entities(st, "CONTACT"), 1)
			require.Empty(t, entities(st, "LEAD"))
			require.Len(t, st.Stats, 1)
			require.Len(t, activities(st), 1, "Bitrix24's own activity")
			require.True(t, strings.HasPrefix(field(activities(st)[0].Fields, "ORIGIN_ID"), "VI_"))
		},
	},
}

// TestE2E_SpecExamples runs every scenario on the embedded engine and
// measures the Bitrix24 requests per call from the simulator's log.
func TestE2E_SpecExamples(t *testing.T) { runScenarios(t, scenarios) }

// runScenarios runs scenarios as subtests and logs the requests per call.
func runScenarios(t *testing.T, list []scenario) {
	totalCalls, totalRequests := 0, 0
	for _, sc := range list {
		t.Run(sc.name, func(t *testing.T) {
			calls, requests := runScenario(t, sc)
			totalCalls += calls
			totalRequests += requests
		})
	}
	if totalCalls > 0 {
		t.Logf("requests per call over the seed scenarios: %.2f (%d requests, %d calls)", float64(totalRequests)/float64(totalCalls), totalRequests, totalCalls)
	}
}

// runScenario seeds a portal, posts the scenario's calls one by one, waits
// until they and their follow-up steps are done, and runs its check on the
// simulator's state. It returns the calls and the Bitrix24 requests they
// took.
func runScenario(t *testing.T, sc scenario) (int, int) {
	t.Helper()
	dir := t.TempDir()
	p := newPortal(t, sc.mode, sc.seed())
	s := baseSettings(p.srv.URL)
	if sc.set != nil {
		sc.set(&s, dir)
	}
	n := newNode(t, sqliteDB(t), s)
	calls := sc.calls(t, p, dir)
	before := readLog(t, p).crmRequests()
	var ids []string
	for _, c := range calls {
		code, body := post(t, n.api.URL, c)
		require.Equal(t, 202, code, body)
		ids = append(ids, c["id"].(string))
		waitDone(t, n.api.URL, 20*time.Second, c["id"].(string))
	}
	states := waitDone(t, n.api.URL, 20*time.Second, ids...)
	for id, st := range states {
		require.Equal(t, "done", st["state"], "%s: %v", id, st)
	}
	waitSteps(t, n.api.URL, ids)
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	sc.check(t, st, states)
	return len(calls), readLog(t, p).crmRequests() - before
}

// waitSteps waits until every follow-up step (CP5, RC1, OL1) is done.
func waitSteps(t *testing.T, base string, ids []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for {
			_, st := get(t, base+"/api/v1/calls/"+id)
			steps, _ := st["steps"].(map[string]any)
			pending := false
			for _, v := range steps {
				if !strings.HasPrefix(v.(string), "done") {
					pending = true
				}
			}
			if !pending {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("steps of %s not done: %v", id, steps)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
