package b24sim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func (b *bundle) admin(method, path string, body any) resp {
	b.t.Helper()
	var rd *strings.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(b.t, err)
		rd = strings.NewReader(string(data))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	return b.do(req)
}

// Admin surface: reset, state, requests with per-method counts, seed.
func TestSim_AdminResetStateRequestsSeed(t *testing.T) {
	b := setup(t) // demo portal
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "x"}}))
	requireOK(t, b.hook("crm.lead.list", nil))
	requireOK(t, b.hook("batch", map[string]any{"cmd": map[string]any{"a": "crm.lead.list", "b": "user.get"}}))
	rq := b.admin("GET", "/_sim/requests", nil)
	counts := rq.Body["counts"].(map[string]any)
	require.Equal(t, float64(1), counts["crm.lead.add"])
	require.Equal(t, float64(1), counts["batch"])
	require.Equal(t, float64(1), rq.Body["batch_commands"].(map[string]any)["user.get"])

	st := b.admin("GET", "/_sim/state", nil)
	require.Len(t, st.Body["users"], 4)
	require.Equal(t, 200, b.admin("POST", "/_sim/seed", Seed{Users: []User{{ID: 9, Name: "New", Inner: "109", Active: true}},
		Contacts: []SeedEntity{{ID: 500, Fields: map[string]any{"NAME": "Seeded", "PHONE": phoneList("+70001112233")}}}}).Status)
	require.Equal(t, "Seeded", b.hook("crm.contact.get", map[string]any{"id": 500}).obj()["NAME"])
	require.Len(t, b.hook("user.get", map[string]any{"FILTER": map[string]any{"UF_PHONE_INNER": "109"}}).list(), 1)

	require.Equal(t, 200, b.admin("POST", "/_sim/reset", nil).Status)
	requireErr(t, b.hook("crm.contact.get", map[string]any{"id": 500}), 400, "", "Not found")
	require.Equal(t, float64(1), b.hook("crm.lead.list", nil).Body["total"], "reset restores the demo portal (1 lead)")
}

// Admin surface is loopback only.
func TestSim_AdminLoopbackOnly(t *testing.T) {
	b := setup(t)
	req := httptest.NewRequest("GET", "/_sim/state", nil)
	req.RemoteAddr = "192.0.2.10:5555"
	w := httptest.NewRecorder()
	b.sim.Handler().ServeHTTP(w, req)
	require.Equal(t, 403, w.Code)
}

// Faults: N×503, 500, latency, timeouts, commit-then-drop, method scoping.
func TestSim_Faults(t *testing.T) {
	b := setup(t, withEmpty)
	require.Equal(t, 200, b.admin("POST", "/_sim/faults", FaultConfig{Method: "CRM.LEAD.ADD", Fail503: 2, Fail500: 1, DropAfterCommit: 1}).Status)
	requireOK(t, b.hook("crm.contact.list", nil))
	add := map[string]any{"fields": map[string]any{"TITLE": "x"}}
	requireErr(t, b.hook("crm.lead.add", add), 503, "QUERY_LIMIT_EXCEEDED", "")
	requireErr(t, b.hook("crm.lead.add", add), 503, "QUERY_LIMIT_EXCEEDED", "")
	requireErr(t, b.hook("crm.lead.add", add), 500, "INTERNAL_SERVER_ERROR", "Internal server error")
	res, err := http.Post(b.hookURL("crm.lead.add"), "application/x-www-form-urlencoded", strings.NewReader("fields[TITLE]=dropped"))
	if err == nil {
		_ = res.Body.Close()
	}
	require.Error(t, err, "the connection is dropped after the commit")
	list := b.hook("crm.lead.list", map[string]any{"select": []string{"TITLE"}})
	require.Equal(t, float64(1), list.Body["total"], "the dropped request was committed")
	requireOK(t, b.hook("crm.lead.add", add))
	f := b.admin("GET", "/_sim/faults", nil)
	require.Equal(t, "crm.lead.add", f.Body["method"])
	require.NotContains(t, f.Body, "fail_503")

	b.sim.SetFaults(FaultConfig{Timeouts: 1, TimeoutMS: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.hookURL("crm.settings.mode.get"), nil)
	require.NoError(t, err)
	// no keep-alive: net/http silently retries idempotent requests on reused connections
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err = client.Do(req)
	if err == nil {
		_ = res.Body.Close()
	}
	require.Error(t, err, "a timeout fault never answers")
	b.sim.SetFaults(FaultConfig{LatencyMS: 1})
	requireOK(t, b.hook("crm.settings.mode.get", nil))
	b.sim.SetFaults(FaultConfig{ExpireTokens: true})
	requireErr(t, b.app("user.current", nil), 401, "expired_token", "")
}

// Admin click-to-call and callback endpoints.
func TestSim_AdminTriggers(t *testing.T) {
	b := setup(t, withEmpty)
	r := b.admin("POST", "/_sim/click-to-call", map[string]any{"user_id": 2, "phone": "+79990001122"})
	require.Equal(t, 409, r.Status, "no app bound ONEXTERNALCALLSTART")
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "event_type": "offline"}))
	r = b.admin("POST", "/_sim/click-to-call", map[string]any{"user_id": 2, "phone": "+79990001122"})
	require.Equal(t, 200, r.Status, r.Raw)
	require.Regexp(t, callIDRe, r.Body["call_id"])
	require.Equal(t, 400, b.admin("POST", "/_sim/click-to-call", map[string]any{"user_id": 3, "phone": "1"}).Status)
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnExternalCallBackStart", "event_type": "offline"}))
	r = b.admin("POST", "/_sim/callback", map[string]any{"phone": "+79990001122", "text": "t"})
	require.Equal(t, 200, r.Status, r.Raw)
	require.NotContains(t, r.Body["data"], "CALL_ID")
	tok := b.admin("POST", "/_sim/oauth/token", map[string]any{"user_id": 2})
	require.Equal(t, float64(2), tok.Body["user_id"])
}

// Save/Load round trip and StateFile loading.
func TestSim_StateSaveLoad(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "Persisted", "PHONE": phoneList("+79990001122")}}))
	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, b.sim.Save(path))
	c := setup(t, func(o *Options) { o.StateFile = path })
	g := c.hook("crm.contact.get", map[string]any{"id": 1})
	require.Equal(t, "Persisted", g.obj()["NAME"])
	require.Equal(t, float64(2), c.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "next"}}).result(), "sequences persist")
	require.Error(t, c.sim.Load(filepath.Join(t.TempDir(), "missing.json")))
}

// The portal page renders users, entities and phone buttons.
func TestSim_WebPage(t *testing.T) {
	b := setup(t)
	res, err := http.Get(b.srv.URL + "/")
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	require.Equal(t, 200, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	page := string(body)
	require.Contains(t, page, "Иван")
	require.Contains(t, page, `form="c2c" name="phone" value="&#43;7 (999) 123-45-67"`)
	require.Equal(t, 404, b.get(b.srv.URL+"/nope").Status)
}

// New rejects inconsistent options.
func TestSim_NewOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Mode: 7}, {WebhookCode: "x"}, {ClientID: "x"}, {RateLimit: 2}, {RateLimit: -1, RateBurst: 1},
	} {
		_, err := New(o)
		require.Error(t, err)
	}
}

// The documented seed file format loads and builds a portal.
func TestSim_SeedFile(t *testing.T) {
	sd, err := LoadSeed(filepath.Join("testdata", "seed.json"))
	require.NoError(t, err)
	b := setup(t, func(o *Options) { o.Seed = sd })
	g := b.hook("crm.contact.get", map[string]any{"id": 797}).obj()
	require.Equal(t, "Jane", g["NAME"])
	d := b.hook("crm.deal.get", map[string]any{"id": 1}).obj()
	require.Equal(t, "C2:NEW", d["STAGE_ID"])
	require.Equal(t, "797", d["CONTACT_ID"])
	require.Equal(t, "74951234567", d["UF_CRM_VIRTUAL_NUMBER"])
	require.Equal(t, []any{map[string]any{"NUMBER": "74951234567", "NAME": "Main", "CRM_AUTO_CREATE": "N"}}, b.app("telephony.externalLine.get", nil).list())
	_, err = LoadSeed(filepath.Join("testdata", "missing.json"))
	require.Error(t, err)
}
