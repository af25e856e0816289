package sync_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

func TestAPI_CallsAndRoute(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(func(s *b24sim.Seed) {
		s.Contacts = []b24sim.SeedEntity{{Fields: map[string]any{"NAME": "C", "ASSIGNED_BY_ID": 2, "PHONE": phone("+79990001122")}}}
	})())
	s := baseSettings(p.srv.URL)
	s.CallProcessing.ForwardToPersonalManager = true
	n := newNode(t, sqliteDB(t), s)

	bad := call("bad-1", "in", "answered", []string{"102"}, []string{"102"})
	bad["direction"] = "sideways"
	tests := []struct {
		name   string
		record any
		code   int
		field  string
	}{
		{"bad direction names the field", bad, 400, "direction"},
		{"unknown key", []byte(`{"id":"x","nope":1}`), 400, ""},
		{"not JSON", []byte(`{`), 400, ""},
		{"good", call("api-1", "in", "answered", []string{"102"}, []string{"102"}), 202, ""},
		{"same id again", call("api-1", "in", "answered", []string{"102"}, []string{"102"}), 202, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, n.api.URL, tc.record)
			require.Equal(t, tc.code, code, body)
			if tc.field != "" {
				require.Equal(t, tc.field, body["field"])
			}
		})
	}
	waitDone(t, n.api.URL, 10*time.Second, "api-1")
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, entities(st, "LEAD"), 1, "the repeated POST changed nothing")

	code, body := get(t, n.api.URL+"/api/v1/calls/bad-1")
	require.Equal(t, 404, code, "nothing half-written: %v", body)
	code, body = get(t, n.api.URL+"/api/v1/calls/api-1")
	require.Equal(t, 200, code)
	require.Equal(t, "done", body["state"])
	require.NotEmpty(t, body["trace"])
	require.EqualValues(t, 0, body["retries"])

	code, body = get(t, n.api.URL+"/api/v1/calls?since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	require.Equal(t, 200, code)
	require.Len(t, body["calls"], 1)

	code, body = get(t, n.api.URL+"/api/v1/route?number=%2B79990001122")
	require.Equal(t, 200, code, body)
	require.Equal(t, "102", body["extension"])
	code, _ = get(t, n.api.URL+"/api/v1/route?number=%2B70000000000")
	require.Equal(t, 404, code)

	req, _ := http.NewRequest(http.MethodGet, n.api.URL+"/api/v1/calls/api-1", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	metrics := func() string {
		resp, err := http.Get(n.api.URL + "/metrics")
		require.NoError(t, err)
		buf := new(strings.Builder)
		_, _ = ioCopy(buf, resp)
		return buf.String()
	}
	m := metrics()
	require.Contains(t, m, `omnisync_bitrix24_requests_total{method="batch",outcome="ok",portal="main"}`)
	require.Contains(t, m, `omnisync_call_to_crm_seconds_count 1`)
	// River's batch completer marks the job completed after the ledger
	// says done (every 250 ms when idle).
	require.Eventually(t, func() bool { return strings.Contains(metrics(), `omnisync_jobs{state="completed"}`) },
		10*time.Second, 50*time.Millisecond)
}

func TestAPI_RouteOffIs404(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	n := newNode(t, sqliteDB(t), baseSettings(p.srv.URL))
	code, _ := get(t, n.api.URL+"/api/v1/route?number=%2B79990001122")
	require.Equal(t, 404, code)
}

// TestFaults_503StormThenRecovery: Bitrix24 answers 503 to everything for a
// while; every call is delivered once it recovers, exactly once.
func TestFaults_503StormThenRecovery(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	n := newNode(t, sqliteDB(t), baseSettings(p.srv.URL))
	p.sim.SetFaults(b24sim.FaultConfig{Fail503: 1 << 20})
	var ids []string
	for i := range 10 {
		c := call("storm-"+string(rune('a'+i)), "in", "missed", []string{"102"}, nil)
		c["contact_number"] = "+7916000000" + string(rune('0'+i))
		code, _ := post(t, n.api.URL, c)
		require.Equal(t, 202, code)
		ids = append(ids, c["id"].(string))
	}
	time.Sleep(3 * time.Second)
	code, body := get(t, n.api.URL+"/api/v1/calls/"+ids[0])
	require.Equal(t, 200, code)
	require.Equal(t, "queued", body["state"], "held during the outage")
	p.sim.SetFaults(b24sim.FaultConfig{})
	waitDone(t, n.api.URL, 90*time.Second, ids...)
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, entities(st, "LEAD"), 10)
	require.Len(t, st.Activities, 10)
}

// TestFaults_TokenExpiryMidRun: the OAuth access token expires between
// calls; the client refreshes it and nothing is lost.
func TestFaults_TokenExpiryMidRun(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)(), func(o *b24sim.Options) {
		o.ClientID, o.ClientSecret = "local.app", "app-secret"
	})
	access, refresh, err := p.sim.IssueToken(1)
	require.NoError(t, err)
	s := baseSettings(p.srv.URL)
	s.Portals[0].Auth = settingsOAuth()
	dir := t.TempDir()
	store := secrets(t, dir)
	seedOAuth(t, store, access, refresh)
	n := newNode(t, sqliteDB(t), s, withSecrets(store))
	c1 := call("tok-1", "in", "missed", []string{"102"}, nil)
	code, _ := post(t, n.api.URL, c1)
	require.Equal(t, 202, code)
	waitDone(t, n.api.URL, 10*time.Second, "tok-1")
	p.sim.SetFaults(b24sim.FaultConfig{ExpireTokens: true})
	c2 := call("tok-2", "in", "missed", []string{"102"}, nil)
	c2["contact_number"] = "+79160000001"
	code, _ = post(t, n.api.URL, c2)
	require.Equal(t, 202, code)
	states := waitDone(t, n.api.URL, 10*time.Second, "tok-2")
	require.Equal(t, "done", states["tok-2"]["state"])
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, entities(st, "LEAD"), 2)
	require.Greater(t, len(st.Tokens), 1, "the token was refreshed")
}
