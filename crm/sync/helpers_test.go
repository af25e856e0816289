package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
)

const (
	hookCode  = "SECRET"
	apiToken  = "test-token"
	clientNum = "+79161234567"
)

// portal is a running simulator.
type portal struct {
	sim *b24sim.Server
	srv *httptest.Server
}

func newPortal(t testing.TB, mode int, seed *b24sim.Seed, mut ...func(*b24sim.Options)) *portal {
	t.Helper()
	o := b24sim.Options{Mode: mode, WebhookUserID: 1, WebhookCode: hookCode, Seed: seed, LogSize: 100000}
	for _, m := range mut {
		m(&o)
	}
	sim, err := b24sim.New(o)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	return &portal{sim: sim, srv: srv}
}

// users are the seed's employees: 1 admin (101), 2 and 3 managers (102,
// 103), 4 inactive (104).
func users() []b24sim.User {
	return []b24sim.User{
		{ID: 1, Name: "Admin", Inner: "101", Active: true, Admin: true},
		{ID: 2, Name: "Мария", Inner: "102", Active: true},
		{ID: 3, Name: "Алексей", Inner: "103", Active: true},
		{ID: 4, Name: "Ольга", Inner: "104", Active: false},
	}
}

func phone(n string) []any { return []any{map[string]any{"VALUE": n, "VALUE_TYPE": "WORK"}} }

// baseSettings: one webhook portal, CP3 and CP4 on, defaults 3 (incoming)
// and 2 (outgoing).
func baseSettings(url string) settings.Settings {
	s := settings.Default()
	s.Portals = []settings.Portal{{ID: "main", Name: "sim", Domain: url, Main: true, Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}}
	s.CallProcessing.CreateForIncoming = true
	s.CallProcessing.CreateForOutgoing = true
	s.Responsibles.DefaultIncoming = 3
	s.Responsibles.DefaultOutgoing = 2
	return s
}

func secrets(t testing.TB, dir string) settings.SecretStore {
	t.Helper()
	fs := settings.NewFileStore(filepath.Join(dir, "secrets.json"))
	require.NoError(t, fs.Set(settings.PortalWebhookCode("main"), hookCode))
	return fs
}

// node is a running engine with its API.
type node struct {
	eng    *crmsync.Engine
	api    *httptest.Server
	closed bool
}

func newNode(t testing.TB, db string, s settings.Settings, mut ...func(*crmsync.Options)) *node {
	t.Helper()
	d, err := crmsync.ParseDatabase(db)
	require.NoError(t, err)
	o := crmsync.Options{DB: d, Settings: s, Secrets: secrets(t, t.TempDir()), Migrate: true, FetchCooldown: 5 * time.Millisecond}
	for _, m := range mut {
		m(&o)
	}
	ctx := context.Background()
	eng, err := crmsync.New(ctx, o)
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	api := httptest.NewServer(eng.Handler([]string{apiToken}))
	n := &node{eng: eng, api: api}
	t.Cleanup(func() { n.close(t) })
	return n
}

// close stops the engine and its API and releases the database; it is
// idempotent, so a test can restart a node on the same database.
func (n *node) close(t testing.TB) {
	t.Helper()
	if n.closed {
		return
	}
	n.closed = true
	n.api.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, n.eng.Stop(sctx))
	require.NoError(t, n.eng.Close())
}

func sqliteDB(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "sync.db") }

// post sends a call record and returns the status code and body.
func post(t testing.TB, base string, record any) (int, map[string]any) {
	t.Helper()
	data, ok := record.([]byte)
	if !ok {
		var err error
		data, err = json.Marshal(record)
		require.NoError(t, err)
	}
	return send(t, http.MethodPost, base+"/api/v1/calls", data)
}

func get(t testing.TB, url string) (int, map[string]any) {
	t.Helper()
	return send(t, http.MethodGet, url, nil)
}

// send makes one API request with the bearer token and decodes the answer.
func send(t testing.TB, method, url string, body []byte) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitDone waits until every id is done or failed and returns their states.
func waitDone(t testing.TB, base string, timeout time.Duration, ids ...string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	deadline := time.Now().Add(timeout)
	for _, id := range ids {
		for {
			code, st := get(t, base+"/api/v1/calls/"+id)
			if code == http.StatusOK && (st["state"] == "done" || st["state"] == "failed") {
				out[id] = st
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %s not done after %s: %d %v", id, timeout, code, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}

// baseStart is when test calls start: an hour ago, so CP5's delayed step
// (minutes after the call's end) is already due.
var baseStart = time.Now().Add(-time.Hour).Truncate(time.Second).In(time.FixedZone("MSK", 3*3600))

// call is a SPEC §11 record.
func call(id, dir, outcome string, rung, talked []string) map[string]any {
	start := baseStart
	rec := map[string]any{
		"id": id, "direction": dir, "outcome": outcome, "contact_number": clientNum, "virtual_number": "+74951234567",
		"rung": rung, "talked": talked, "started_at": start.Format(time.RFC3339),
		"answered_at": nil, "ended_at": start.Add(3 * time.Minute).Format(time.RFC3339),
		"params": map[string]any{}, "recording": nil, "bitrix24_call_id": nil, "portal": nil,
	}
	if outcome == "answered" {
		rec["answered_at"] = start.Add(9 * time.Second).Format(time.RFC3339)
	}
	return rec
}

// requestLog reads the simulator's request counters.
type requestLog struct {
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	// LockedUS is how long the simulator's methods held its state lock.
	LockedUS int64 `json:"locked_us"`
}

func readLog(t testing.TB, p *portal) requestLog {
	t.Helper()
	resp, err := http.Get(p.srv.URL + "/_sim/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	var raw struct {
		Total    int             `json:"total"`
		Counts   json.RawMessage `json:"counts"`
		LockedUS int64           `json:"locked_us"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	l := requestLog{Total: raw.Total, Counts: map[string]int{}, LockedUS: raw.LockedUS}
	_ = json.Unmarshal(raw.Counts, &l.Counts) // [] when empty
	return l
}

// crmRequests are the REST requests that count against the budget: all
// but recording uploads.
func (l requestLog) crmRequests() int {
	n := l.Total
	for m, c := range l.Counts {
		if strings.Contains(m, "attachrecord") || strings.HasPrefix(m, "upload") {
			n -= c
		}
	}
	return n
}

// entities returns the simulator's entities of a type, keyed by ID.
func entities(st *b24sim.State, typ string) []*b24sim.Entity {
	var out []*b24sim.Entity
	for _, e := range st.Entities {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func field(e map[string]any, k string) string {
	v := e[k]
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func ioCopy(w *strings.Builder, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	var b bytes.Buffer
	n, err := b.ReadFrom(resp.Body)
	w.WriteString(b.String())
	return n, err
}

func settingsOAuth() settings.Auth {
	return settings.Auth{Kind: settings.AuthOAuth, ClientID: "local.app"}
}

func seedOAuth(t testing.TB, store settings.SecretStore, access, refresh string) {
	t.Helper()
	require.NoError(t, store.Set(settings.PortalClientSecret("main"), "app-secret"))
	require.NoError(t, store.Set(settings.PortalAccessToken("main"), access))
	require.NoError(t, store.Set(settings.PortalRefreshToken("main"), refresh))
}

func withSecrets(s settings.SecretStore) func(*crmsync.Options) {
	return func(o *crmsync.Options) { o.Secrets = s }
}

// limitErrors counts requests the simulator refused with QUERY_LIMIT_EXCEEDED.
func limitErrors(t testing.TB, p *portal) int {
	t.Helper()
	resp, err := http.Get(p.srv.URL + "/_sim/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	var raw struct {
		Requests []struct {
			Error string `json:"error"`
		} `json:"requests"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	n := 0
	for _, r := range raw.Requests {
		if r.Error == "QUERY_LIMIT_EXCEEDED" {
			n++
		}
	}
	return n
}
