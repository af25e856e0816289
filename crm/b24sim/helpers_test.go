package b24sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testCode     = "SECRET"
	testClientID = "local.app"
	testSecret   = "app-secret"
)

// fakeClock is a manually advanced clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 10, 11, 19, 38, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// bundle is a running simulator for a test.
type bundle struct {
	t     *testing.T
	sim   *Server
	srv   *httptest.Server
	clock *fakeClock
	token string
}

func setup(t *testing.T, mut ...func(*Options)) *bundle {
	t.Helper()
	clk := newClock()
	opts := Options{WebhookUserID: 1, WebhookCode: testCode, ClientID: testClientID, ClientSecret: testSecret, Now: clk.Now}
	for _, m := range mut {
		m(&opts)
	}
	sim, err := New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, sim.Close())
	})
	b := &bundle{t: t, sim: sim, srv: srv, clock: clk}
	if opts.ClientID != "" {
		b.token, _, err = sim.IssueToken(1)
		require.NoError(t, err)
	}
	return b
}

// resp is a decoded REST answer.
type resp struct {
	Status int
	Body   map[string]any
	Raw    string
	Header http.Header
}

func (r resp) result() any { return r.Body["result"] }

func (r resp) obj() map[string]any {
	m, _ := r.Body["result"].(map[string]any)
	return m
}

func (r resp) list() []any {
	l, _ := r.Body["result"].([]any)
	return l
}

func (b *bundle) do(req *http.Request) resp {
	b.t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	out := resp{Status: res.StatusCode, Raw: string(raw), Header: res.Header}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(b.t, json.Unmarshal(raw, &out.Body), string(raw))
	}
	return out
}

// hook calls a method through the webhook with a JSON body.
func (b *bundle) hook(method string, body any) resp {
	b.t.Helper()
	return b.postJSON(b.srv.URL+"/rest/1/"+testCode+"/"+method, body)
}

// app calls a method with the OAuth token in the JSON body.
func (b *bundle) app(method string, body map[string]any) resp {
	b.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["auth"] = b.token
	return b.postJSON(b.srv.URL+"/rest/"+method, body)
}

func (b *bundle) postJSON(u string, body any) resp {
	b.t.Helper()
	data, err := json.Marshal(body)
	require.NoError(b.t, err)
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(data))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	return b.do(req)
}

func (b *bundle) postForm(u string, form string) resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *bundle) get(u string) resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *bundle) hookURL(method string) string {
	return b.srv.URL + "/rest/1/" + testCode + "/" + method
}

// requireErr asserts an error envelope: status, code, description, no time.
func requireErr(t *testing.T, r resp, status int, code, desc string) {
	t.Helper()
	require.Equal(t, status, r.Status, r.Raw)
	require.Equal(t, code, r.Body["error"], r.Raw)
	if desc != "" {
		require.Equal(t, desc, r.Body["error_description"], r.Raw)
	}
	require.NotContains(t, r.Body, "time", "errors carry no time block")
	require.NotContains(t, r.Body, "result")
}

func requireOK(t *testing.T, r resp) {
	t.Helper()
	require.Equal(t, 200, r.Status, r.Raw)
	require.Contains(t, r.Body, "time", r.Raw)
}

func num(v any) int {
	switch t := v.(type) {
	case float64:
		return int(t)
	case string:
		return phpInt(t)
	}
	return -1
}

func phoneList(vals ...string) []any {
	out := []any{}
	for _, v := range vals {
		out = append(out, map[string]any{"VALUE": v, "VALUE_TYPE": "WORK"})
	}
	return out
}

// emptySeed is a portal with users only (no CRM entities).
func emptySeed() *Seed {
	return &Seed{Users: []User{
		{ID: 1, Name: "Admin", LastName: "A", Inner: "101", Active: true, Admin: true},
		{ID: 2, Name: "Manager", LastName: "M", Inner: "102", Active: true},
		{ID: 3, Name: "Fired", LastName: "F", Inner: "103", Active: false},
	}}
}

func withEmpty(o *Options) { o.Seed = emptySeed() }

func qs(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}
