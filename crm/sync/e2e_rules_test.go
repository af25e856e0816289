package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// registerCall registers a Bitrix24 call the way click-to-call and callback
// do before the engine sees the call record, and returns its CALL_ID.
func registerCall(t *testing.T, p *portal) string {
	t.Helper()
	c, err := b24.New(b24.Options{Portal: p.srv.URL, Auth: b24.Webhook{UserID: 1, Code: hookCode}})
	require.NoError(t, err)
	reg, err := c.RegisterCall(context.Background(), b24.RegisterCall{UserID: 2, PhoneNumber: clientNum, Type: b24.CallOutgoing, StartDate: baseStart})
	require.NoError(t, err)
	return string(reg.CallID)
}

// employeeFilter is a CP7 incoming filter with one employee condition.
func employeeFilter(mode settings.Mode, ext string) settings.CallFilters {
	return settings.CallFilters{Enabled: true, Incoming: settings.Filter{Groups: []settings.Group{{Conditions: []settings.Condition{
		{Param: settings.ParamEmployee, Mode: mode, Values: []string{ext}},
	}}}}}
}

// withRecording is an answered incoming call by 102 with a recording file.
func withRecording(id string) func(*testing.T, *portal, string) []map[string]any {
	return func(t *testing.T, _ *portal, dir string) []map[string]any {
		path := filepath.Join(dir, id+".mp3")
		require.NoError(t, os.WriteFile(path, []byte("ID3 fake mp3"), 0o600))
		c := call(id, "in", "answered", []string{"102"}, []string{"102"})
		c["recording"] = map[string]any{"file": path}
		return []map[string]any{c}
	}
}

// activityAndRecording checks the RC2 outcome: the lead is always created;
// the activity and its recording exist or neither does.
func activityAndRecording(want bool) func(*testing.T, *b24sim.State, map[string]map[string]any) {
	return func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
		require.Len(t, entities(st, "LEAD"), 1, "the entity is created either way")
		if !want {
			require.Empty(t, activities(st), "no activity")
			require.Empty(t, st.Files, "no recording")
			require.Empty(t, st.Stats, "no telephony statistics without the activity")
			return
		}
		require.Len(t, activities(st), 1)
		require.Len(t, st.Files, 1)
		require.Equal(t, []int{st.Files[0].ID}, activities(st)[0].Files)
	}
}

// ufComment is the text user field the EF scenarios map, on every entity
// type that can hold it.
const ufComment = "UF_CRM_CALL_SOURCE"

func seedUF(s *b24sim.Seed) {
	for _, e := range []string{"CRM_LEAD", "CRM_CONTACT", "CRM_COMPANY", "CRM_DEAL"} {
		s.UserFields = append(s.UserFields, b24sim.UserField{EntityID: e, FieldName: ufComment, UserTypeID: "string", Label: "Источник звонка", Sort: 100})
	}
}

func extraFields(always bool) func(*settings.Settings, string) {
	return func(s *settings.Settings, _ string) {
		s.ExtraFields = settings.ExtraFields{AlwaysUpdate: always, Mappings: []settings.FieldMapping{{Field: ufComment, Param: settings.ParamSource}}}
	}
}

func fromYandex(id string) func(*testing.T, *portal, string) []map[string]any {
	c := call(id, "in", "answered", []string{"102"}, []string{"102"})
	c["params"] = map[string]any{"source": "yandex"}
	return one(c)
}

// ufOf returns the extra field of the entity typ with id ("" when unset).
func ufOf(t *testing.T, st *b24sim.State, typ string, id int) string {
	t.Helper()
	for _, e := range entities(st, typ) {
		if e.ID == id {
			return field(e.Fields, ufComment)
		}
	}
	t.Fatalf("no %s %d", typ, id)
	return ""
}

// ruleScenarios are SPEC rules end to end that TestE2E_SpecExamples does
// not cover: seeded portal → POST the call → exactly the expected state.
var ruleScenarios = []scenario{
	{
		name: "CB1_callback_linked_call_is_only_finished", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "Сергей", "ASSIGNED_BY_ID": 2, "PHONE": phone(clientNum)}}}
		}),
		set: func(s *settings.Settings, _ string) {
			s.Callback = settings.Callback{Enabled: true, Number: "+74951234500"}
		},
		calls: func(t *testing.T, p *portal, _ string) []map[string]any {
			rec := call("c-cb1", "out", "answered", []string{"102"}, []string{"102"})
			rec["bitrix24_call_id"] = registerCall(t, p)
			return []map[string]any{rec}
		},
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Len(t, st.Entities, 1, "no entity of ours: Bitrix24 owns the linked call")
			require.Empty(t, st.Calls, "the callback's Bitrix24 call is finished")
			require.Len(t, st.Stats, 1)
			require.Len(t, activities(st), 1, "Bitrix24's own activity, not a second one")
			require.Equal(t, "Y", field(activities(st)[0].Fields, "COMPLETED"))
			require.True(t, strings.HasPrefix(field(activities(st)[0].Fields, "ORIGIN_ID"), "VI_"))
			require.True(t, traceFired(states["c-cb1"], "CB1"), "the trace names CB1: %v", states["c-cb1"]["trace"])
		},
	},
	{
		name: "CB1_off_link_is_ignored_and_the_call_processed", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: func(t *testing.T, p *portal, _ string) []map[string]any {
			rec := call("c-cb1-off", "out", "answered", []string{"102"}, []string{"102"})
			rec["bitrix24_call_id"] = registerCall(t, p)
			return []map[string]any{rec}
		},
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, entities(st, "LEAD"), 1, "processed like any other call")
			require.Len(t, activities(st), 1)
			require.Len(t, st.Calls, 1, "the linked Bitrix24 call is not touched")
		},
	},
	{
		name: "RC2_on_employee_include_creates_activity_and_recording", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.Recordings = settings.Recordings{Send: true, WithFilters: true}
			s.CallProcessing.Filters = employeeFilter(settings.ModeInclude, "102")
		},
		calls: withRecording("c-rc2-on-inc"), check: activityAndRecording(true),
	},
	{
		name: "RC2_on_employee_exclude_creates_neither", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.Recordings = settings.Recordings{Send: true, WithFilters: true}
			s.CallProcessing.Filters = employeeFilter(settings.ModeExclude, "103")
		},
		calls: withRecording("c-rc2-on-exc"), check: activityAndRecording(false),
	},
	{
		name: "RC2_off_employee_include_creates_neither_even_with_RC1_on", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.Recordings = settings.Recordings{Send: true}
			s.CallProcessing.Filters = employeeFilter(settings.ModeInclude, "102")
		},
		calls: withRecording("c-rc2-off-inc"), check: activityAndRecording(false),
	},
	{
		name: "RC2_off_employee_exclude_leaves_it_to_RC1", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.Recordings = settings.Recordings{Send: true}
			s.CallProcessing.Filters = employeeFilter(settings.ModeExclude, "103")
		},
		calls: withRecording("c-rc2-off-exc"), check: activityAndRecording(true),
	},
	{
		name: "RC2_RC1_off_disables_RC2_so_include_creates_neither", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) {
			s.Recordings = settings.Recordings{Send: false, WithFilters: true}
			s.CallProcessing.Filters = employeeFilter(settings.ModeInclude, "102")
		},
		calls: withRecording("c-rc2-rc1-off"), check: activityAndRecording(false),
	},
	{
		name: "RC2_RC1_off_no_employee_filter_activity_without_recording", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: withRecording("c-rc1-off"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Len(t, activities(st), 1)
			require.Empty(t, st.Files, "RC1 off: the recording is not sent")
		},
	},
	{
		name: "EF1_extra_field_on_the_created_lead", mode: b24sim.ModeClassic, seed: seedWith(seedUF),
		set: extraFields(false), calls: fromYandex("c-ef1"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "yandex", field(leads[0].Fields, ufComment))
		},
	},
	{
		name: "EF2_off_existing_entity_is_not_updated", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			seedUF(s)
			s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "Сергей", "ASSIGNED_BY_ID": 2, "PHONE": phone(clientNum)}}}
		}),
		set: extraFields(false), calls: fromYandex("c-ef2-off"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Empty(t, ufOf(t, st, "CONTACT", 1))
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1, "a lead is created for the contact")
			require.Equal(t, "yandex", field(leads[0].Fields, ufComment), "EF1 still fills the created lead")
		},
	},
	{
		name: "EF2_always_update_contact_first", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			seedUF(s)
			s.Companies = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "ООО Ромашка", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
			s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "Сергей", "ASSIGNED_BY_ID": 2, "COMPANY_ID": 1, "PHONE": phone(clientNum)}}}
			s.Leads = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "open", "STATUS_ID": "IN_PROCESS", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
		}),
		set: extraFields(true), calls: fromYandex("c-ef2-contact"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Equal(t, "yandex", ufOf(t, st, "CONTACT", 1), "Contact first")
			require.Empty(t, ufOf(t, st, "COMPANY", 1))
			require.Empty(t, ufOf(t, st, "LEAD", 1))
			require.Len(t, entities(st, "LEAD"), 1, "the open lead is reused")
		},
	},
	{
		name: "EF2_always_update_company_before_lead", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			seedUF(s)
			s.Companies = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "ООО Ромашка", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
			s.Leads = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "open", "STATUS_ID": "IN_PROCESS", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
		}),
		set: extraFields(true), calls: fromYandex("c-ef2-company"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Equal(t, "yandex", ufOf(t, st, "COMPANY", 1), "Company before Lead")
			require.Empty(t, ufOf(t, st, "LEAD", 1))
		},
	},
	{
		name: "EF2_always_update_lead_alone", mode: b24sim.ModeClassic,
		seed: seedWith(func(s *b24sim.Seed) {
			seedUF(s)
			s.Leads = []b24sim.SeedEntity{{Fields: map[string]any{"TITLE": "open", "STATUS_ID": "IN_PROCESS", "ASSIGNED_BY_ID": 3, "PHONE": phone(clientNum)}}}
		}),
		set: extraFields(true), calls: fromYandex("c-ef2-lead"),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			require.Equal(t, "yandex", ufOf(t, st, "LEAD", 1))
			require.Len(t, entities(st, "LEAD"), 1)
		},
	},
	{
		name: "CP6_virtual_number_is_the_source_description", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set:   func(s *settings.Settings, _ string) { s.CallProcessing.VirtualNumberAsSource = true },
		calls: one(call("c-cp6", "in", "missed", []string{"102"}, nil)),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Equal(t, "+74951234567", field(leads[0].Fields, "SOURCE_DESCRIPTION"))
		},
	},
	{
		name: "CP6_off_no_source_description", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: one(call("c-cp6-off", "in", "missed", []string{"102"}, nil)),
		check: func(t *testing.T, st *b24sim.State, _ map[string]map[string]any) {
			leads := entities(st, "LEAD")
			require.Len(t, leads, 1)
			require.Empty(t, field(leads[0].Fields, "SOURCE_DESCRIPTION"))
		},
	},
	{
		name: "RC1_recording_by_URL_is_attached", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set: func(s *settings.Settings, _ string) { s.Recordings.Send = true },
		calls: func(t *testing.T, _ *portal, _ string) []map[string]any {
			files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/rec/c-rc1-url.mp3" {
					http.NotFound(w, r)
					return
				}
				_, _ = w.Write([]byte("ID3 fake mp3 from the PBX"))
			}))
			t.Cleanup(files.Close)
			c := call("c-rc1-url", "in", "answered", []string{"102"}, []string{"102"})
			c["recording"] = map[string]any{"url": files.URL + "/rec/c-rc1-url.mp3?token=x"}
			return []map[string]any{c}
		},
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Len(t, activities(st), 1)
			require.Len(t, st.Files, 1)
			require.Equal(t, "url", st.Files[0].Source, "Bitrix24 fetched the URL")
			require.Equal(t, "c-rc1-url.mp3", st.Files[0].Name)
			require.Equal(t, len("ID3 fake mp3 from the PBX"), st.Files[0].Size)
			require.Equal(t, []int{st.Files[0].ID}, activities(st)[0].Files)
			steps, _ := states["c-rc1-url"]["steps"].(map[string]any)
			require.NotNil(t, steps)
		},
	},
	{
		name: "D2_ORIGIN_ID_telephony_activity_keeps_Bitrix24s_VI_id", mode: b24sim.ModeClassic, seed: seedWith(nil),
		calls: one(call("c-origin-vi", "in", "answered", []string{"102"}, []string{"102"})),
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Len(t, st.Stats, 1)
			require.Equal(t, "c-origin-vi", st.Stats[0].Call.ExternalCallID, "the call id is on the telephony call")
			a := activities(st)[0]
			require.Equal(t, "VI_"+st.Stats[0].Call.CallID, field(a.Fields, "ORIGIN_ID"), "Bitrix24's own ORIGIN_ID is kept")
			require.Equal(t, "omniphone", field(a.Fields, "ORIGINATOR_ID"))
			res := states["c-origin-vi"]["result"].(map[string]any)
			require.Equal(t, st.Stats[0].Call.CallID, res["telephony_call_id"])
			require.EqualValues(t, a.ID, res["ids"].(map[string]any)["$activity"])
		},
	},
	{
		// A responsible telephony does not accept (not an active user)
		// makes the executor add the activity itself: then it carries the
		// plan's ORIGIN_ID, the call id.
		name: "D2_ORIGIN_ID_activity_added_by_the_engine_is_the_call_id", mode: b24sim.ModeClassic, seed: seedWith(nil),
		set:   func(s *settings.Settings, _ string) { s.Responsibles.DefaultIncoming = 99 },
		calls: one(call("c-origin-plain", "in", "missed", []string{"102"}, nil)),
		check: func(t *testing.T, st *b24sim.State, states map[string]map[string]any) {
			require.Empty(t, st.Stats, "no telephony call")
			require.Len(t, activities(st), 1)
			a := activities(st)[0]
			require.Equal(t, "c-origin-plain", field(a.Fields, "ORIGIN_ID"))
			require.Equal(t, "omniphone", field(a.Fields, "ORIGINATOR_ID"))
			require.Equal(t, "99", field(a.Fields, "RESPONSIBLE_ID"))
			notes, _ := states["c-origin-plain"]["result"].(map[string]any)["notes"].([]any)
			require.NotEmpty(t, notes, "the result says why telephony was not used")
		},
	},
}

// TestE2E_RuleExamples runs ruleScenarios on the embedded engine.
func TestE2E_RuleExamples(t *testing.T) { runScenarios(t, ruleScenarios) }

func traceFired(st map[string]any, rule string) bool {
	steps, _ := st["trace"].([]any)
	for _, s := range steps {
		m, _ := s.(map[string]any)
		if m["rule"] == rule && m["fired"] == true {
			return true
		}
	}
	return false
}

// deadTokenNode is a node on an OAuth portal whose access token has expired
// and which refuses the stored refresh token; it returns the secret store
// for a reconnect.
func deadTokenNode(t *testing.T) (*portal, *node, settings.SecretStore) {
	t.Helper()
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)(), func(o *b24sim.Options) {
		o.ClientID, o.ClientSecret = "local.app", "app-secret"
	})
	access, _, err := p.sim.IssueToken(1)
	require.NoError(t, err)
	s := baseSettings(p.srv.URL)
	s.Portals[0].Auth = settingsOAuth()
	store := secrets(t, t.TempDir())
	seedOAuth(t, store, access, "refresh-token-the-portal-never-issued")
	p.sim.SetFaults(b24sim.FaultConfig{ExpireTokens: true})
	return p, newNode(t, sqliteDB(t), s, withSecrets(store)), store
}

// TestE2E_P3_DeadRefreshTokenFailsTheCallWithReconnect: the access token
// has expired and the portal refuses the refresh token. The call is marked
// failed at once (no retries for days) with a reason that tells the user to
// reconnect the portal, and nothing reached the CRM.
func TestE2E_P3_DeadRefreshTokenFailsTheCallWithReconnect(t *testing.T) {
	p, n, _ := deadTokenNode(t)
	c := call("dead-token", "in", "answered", []string{"102"}, []string{"102"})
	code, body := post(t, n.api.URL, c)
	require.Equal(t, 202, code, body)
	st := waitDone(t, n.api.URL, 20*time.Second, "dead-token")["dead-token"]
	require.Equal(t, "failed", st["state"], "%v", st)
	require.Contains(t, st["reason"], "reconnect the portal")
	require.EqualValues(t, 0, st["retries"], "not retried: only a person can fix it")
	snap, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Empty(t, snap.Entities, "nothing half-written")
	require.Empty(t, snap.Activities)
	require.Empty(t, snap.Calls)
	require.Empty(t, snap.Stats)
	for m := range readLog(t, p).Counts {
		require.NotContains(t, m, ".add", "no write reached the portal")
	}
}

// TestE2E_P2_CallGoesToTheNamedPortal: two portals in the settings; the
// call record's portal field picks one, null picks the telephony (main)
// one, and an unknown portal is a 400 naming the field.
func TestE2E_P2_CallGoesToTheNamedPortal(t *testing.T) {
	main := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	second := newPortal(t, b24sim.ModeSimple, seedWith(nil)())
	s := baseSettings(main.srv.URL)
	s.Portals = append(s.Portals, settings.Portal{ID: "second", Name: "sim 2", Domain: second.srv.URL,
		Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}})
	store := secrets(t, t.TempDir())
	require.NoError(t, store.Set(settings.PortalWebhookCode("second"), hookCode))
	n := newNode(t, sqliteDB(t), s, withSecrets(store))

	toSecond := call("p2-second", "in", "missed", []string{"102"}, nil)
	toSecond["portal"] = "second"
	toMain := call("p2-main", "in", "missed", []string{"102"}, nil)
	toMain["contact_number"] = "+79160000002"
	for _, c := range []map[string]any{toSecond, toMain} {
		code, body := post(t, n.api.URL, c)
		require.Equal(t, 202, code, body)
	}
	unknown := call("p2-unknown", "in", "missed", []string{"102"}, nil)
	unknown["portal"] = "third"
	code, body := post(t, n.api.URL, unknown)
	require.Equal(t, 400, code)
	require.Equal(t, "portal", body["field"])

	states := waitDone(t, n.api.URL, 20*time.Second, "p2-second", "p2-main")
	for id, st := range states {
		require.Equal(t, "done", st["state"], "%s: %v", id, st)
	}
	st1, err := main.sim.Snapshot()
	require.NoError(t, err)
	st2, err := second.sim.Snapshot()
	require.NoError(t, err)
	// The main portal is classic (a lead), the second simple (deal + contact).
	require.Len(t, st1.Entities, 1)
	require.Equal(t, "p2-main", field(entities(st1, "LEAD")[0].Fields, "ORIGIN_ID"))
	require.Len(t, st1.Activities, 1)
	require.Len(t, entities(st2, "DEAL"), 1)
	require.Equal(t, "p2-second", field(entities(st2, "DEAL")[0].Fields, "ORIGIN_ID"))
	require.Len(t, entities(st2, "CONTACT"), 1)
	require.Empty(t, entities(st2, "LEAD"))
	require.Len(t, st2.Activities, 1)
	code, _ = get(t, n.api.URL+"/api/v1/calls/p2-unknown")
	require.Equal(t, 404, code, "nothing half-written")
}
