package events

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type collectTarget struct {
	mu  sync.Mutex
	got []DialRequest
}

func (c *collectTarget) Dial(_ context.Context, r DialRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, r)
	return nil
}

func (c *collectTarget) all() []DialRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]DialRequest(nil), c.got...)
}

// TestC4_TeamHubPushesEachClickToItsDesktop: two desktops follow the hub;
// each gets only its own extension's requests; a desktop not connected is
// reported as such; an unmapped callback (CB1) goes to the desktop of the
// configured number.
func TestC4_TeamHubPushesEachClickToItsDesktop(t *testing.T) {
	hub := NewHub([]string{"team-token"}, nil)
	srv := httptest.NewServer(hub)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	desks := map[string]*collectTarget{"101": {}, "102": {}}
	var wg sync.WaitGroup
	for ext, target := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = Follow(ctx, FollowOptions{StreamURL: srv.URL, Token: "team-token", Extension: ext, Target: target})
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	require.Eventually(t, func() bool {
		return hub.Dial(ctx, DialRequest{Extension: "101", Number: "1", CallID: "probe-101"}) == nil &&
			hub.Dial(ctx, DialRequest{Extension: "102", Number: "2", CallID: "probe-102"}) == nil
	}, 10*time.Second, 20*time.Millisecond, "both desktops connected")

	require.NoError(t, hub.Dial(ctx, DialRequest{Kind: KindClickToCall, Extension: "102", Number: "79991234567", CallID: "externalCall.7"}))
	require.Eventually(t, func() bool {
		for _, r := range desks["102"].all() {
			if r.CallID == "externalCall.7" {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	for _, r := range desks["101"].all() {
		require.NotEqual(t, "externalCall.7", r.CallID, "desktop 101 never sees 102's click")
	}
	require.ErrorIs(t, hub.Dial(ctx, DialRequest{Extension: "103"}), ErrNotConnected)

	// CB1 with no employee mapped: the configured number 101 is a desktop.
	require.NoError(t, hub.Dial(ctx, DialRequest{Kind: KindCallback, Number: "79991234567", RingFirst: true, FallbackNumber: "101"}))
	require.Eventually(t, func() bool {
		for _, r := range desks["101"].all() {
			if r.Kind == KindCallback {
				return r.Extension == "101" && r.FallbackNumber == "" && r.Number == "79991234567" && r.RingFirst
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the configured number's desktop rings and then dials the client")
	require.ErrorIs(t, hub.Dial(ctx, DialRequest{Kind: KindCallback, Number: "79991234567", RingFirst: true, FallbackNumber: "+74951234500"}),
		ErrNotConnected, "a configured number that is no desktop")
	require.Equal(t, []string{"101", "102"}, hub.Connected())

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/events/desktops", nil)
	hub.ServeDesktops(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	rec = httptest.NewRecorder()
	req.Header.Set("Authorization", "Bearer team-token")
	hub.ServeDesktops(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"extensions":["101","102"]}`, rec.Body.String())
}

func TestC4_TeamHubRefusesAWrongToken(t *testing.T) {
	hub := NewHub([]string{"team-token"}, nil)
	srv := httptest.NewServer(hub)
	t.Cleanup(srv.Close)
	err := Follow(context.Background(), FollowOptions{StreamURL: srv.URL, Token: "wrong", Extension: "101", Target: &collectTarget{}})
	require.ErrorIs(t, err, errRefused, "a refused token is not retried forever")

	resp, err := http.Get(srv.URL + "?extension=101")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
