package b24

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// simBundle is a simulator on a loopback listener and a client for it.
type simBundle struct {
	sim    *b24sim.Server
	srv    *httptest.Server
	client *Client
}

const (
	clientID     = "local.test"
	clientSecret = "test-secret"
	webhookCode  = "SECRETCODE"
)

func newSim(t *testing.T, opts b24sim.Options) *b24sim.Server {
	t.Helper()
	if opts.WebhookUserID == 0 {
		opts.WebhookUserID, opts.WebhookCode = 1, webhookCode
	}
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = clientID, clientSecret
	}
	sim, err := b24sim.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// noSleep keeps retries instant in tests; the waits themselves are tested
// through the backoff function.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func setup(t *testing.T, opts b24sim.Options, auth func(srv *httptest.Server, sim *b24sim.Server) Auth) simBundle {
	t.Helper()
	sim := newSim(t, opts)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	var a Auth = Webhook{UserID: 1, Code: webhookCode}
	if auth != nil {
		a = auth(srv, sim)
	}
	c, err := New(Options{Portal: srv.URL, Auth: a, Limit: Limit{Rate: -1}, Sleep: noSleep})
	require.NoError(t, err)
	return simBundle{sim: sim, srv: srv, client: c}
}

type simCounts struct {
	Total  int      `json:"total"`
	Counts countMap `json:"counts"`
}

func (b simBundle) requests(t *testing.T) simCounts {
	t.Helper()
	resp, err := http.Get(b.srv.URL + "/_sim/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	var c simCounts
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
	return c
}

// memStore is a TokenStore that records every save.
type memStore struct {
	mu    sync.Mutex
	tok   Token
	saves []Token
}

func (m *memStore) LoadToken(context.Context) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok.AccessToken == "" {
		return Token{}, ErrNoToken
	}
	return m.tok, nil
}

func (m *memStore) SaveToken(_ context.Context, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
	m.saves = append(m.saves, t)
	return nil
}

// countMap decodes the simulator's per-method counts, [] when empty.
type countMap map[string]int

func (m *countMap) UnmarshalJSON(data []byte) error {
	var o Object
	if err := json.Unmarshal(data, &o); err != nil {
		return err
	}
	*m = countMap{}
	for k, v := range o {
		var n Int
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		(*m)[k] = int(n)
	}
	return nil
}
