package events

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

const (
	testClientID     = "local.events"
	testClientSecret = "events-secret"
	portalID         = "main"
)

// testBundle is a simulated portal on 127.0.0.1 and an administrator's
// OAuth client for it (event.* and offline methods need one).
type testBundle struct {
	sim    *b24sim.Server
	srv    *httptest.Server
	client *b24.Client
	// appToken is the portal's application_token.
	appToken string
}

func setup(t testing.TB) testBundle {
	t.Helper()
	sim, err := b24sim.New(b24sim.Options{WebhookUserID: 1, WebhookCode: "HOOK", ClientID: testClientID, ClientSecret: testClientSecret})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	access, refresh, err := sim.IssueToken(1)
	require.NoError(t, err)
	store := &tokenMem{tok: b24.Token{AccessToken: access, RefreshToken: refresh, Expires: time.Now().Add(time.Hour)}}
	client, err := b24.New(b24.Options{
		Portal: srv.URL, Limit: b24.Limit{Rate: -1}, MaxAttempts: 2,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		Auth:  &b24.OAuth{ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: srv.URL + "/oauth/token/", Store: store},
	})
	require.NoError(t, err)
	st, err := sim.Snapshot()
	require.NoError(t, err)
	return testBundle{sim: sim, srv: srv, client: client, appToken: st.ApplicationToken}
}

// portal is the simulator as the Handler knows it.
func (b testBundle) portal() Portal { return Portal{ID: portalID, Domain: b.srv.URL} }

func (b testBundle) offlineRows(t testing.TB) []*b24sim.OfflineEvent {
	t.Helper()
	st, err := b.sim.Snapshot()
	require.NoError(t, err)
	return st.Offline
}

type tokenMem struct {
	mu  sync.Mutex
	tok b24.Token
}

func (m *tokenMem) LoadToken(context.Context) (b24.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *tokenMem) SaveToken(_ context.Context, t b24.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
	return nil
}

// memSecrets is an in-memory settings.SecretStore.
type memSecrets struct {
	mu sync.Mutex
	m  map[settings.SecretKey]string
}

func newSecrets(kv ...string) *memSecrets {
	s := &memSecrets{m: map[settings.SecretKey]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.m[settings.PortalApplicationToken(kv[i])] = kv[i+1]
	}
	return s
}

func (s *memSecrets) Get(k settings.SecretKey) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", settings.ErrSecretNotFound
	}
	return v, nil
}

func (s *memSecrets) Set(k settings.SecretKey, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

func (s *memSecrets) Delete(k settings.SecretKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

// fakeTarget records dial requests; Err makes Dial fail.
type fakeTarget struct {
	got chan DialRequest
	Err error
}

func newTarget() *fakeTarget { return &fakeTarget{got: make(chan DialRequest, 16)} }

func (f *fakeTarget) Dial(_ context.Context, req DialRequest) error {
	f.got <- req
	return f.Err
}

// wait returns the next request, failing the test after a timeout.
func (f *fakeTarget) wait(t testing.TB) DialRequest {
	t.Helper()
	select {
	case req := <-f.got:
		return req
	case <-time.After(5 * time.Second):
		t.Fatal("the target was not dialled")
		return DialRequest{}
	}
}

// none checks that nothing is dialled within d.
func (f *fakeTarget) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case req := <-f.got:
		t.Fatalf("unexpected dial: %+v", req)
	case <-time.After(d):
	}
}

// conf is a settings document with the click-to-call and callback sections.
func conf(c2c settings.ClickToCall, cb settings.Callback) func() settings.Settings {
	s := settings.Settings{ClickToCall: c2c, Callback: cb}
	return func() settings.Settings { return s }
}

var (
	c2cOn       = settings.ClickToCall{Enabled: true, Number: "+74950000001"}
	c2cOverride = settings.ClickToCall{Enabled: true, Number: "+74950000001", OverrideCallerID: true}
	cbOn        = settings.Callback{Enabled: true, Number: "+74950000099"}
)

func newRouter(t testing.TB, b testBundle, target Target, s func() settings.Settings, filter UserFilter) *Router {
	t.Helper()
	r, err := NewRouter(RouterOptions{
		Settings: s, Directory: NewPortalDirectory(b.client, DirectoryOptions{}), Target: target, Filter: filter,
	})
	require.NoError(t, err)
	return r
}

// serveHandler serves a Handler on 127.0.0.1 and returns its URL.
func serveHandler(t testing.TB, opts HandlerOptions) (*Handler, string) {
	t.Helper()
	h, err := NewHandler(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, h.Close())
	})
	return h, srv.URL + "/b24/events"
}

var errDial = errors.New("the phone is not registered")
