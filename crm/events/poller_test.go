package events

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// runPoller runs a fast Poller until the test ends.
func runPoller(t testing.TB, opts PollerOptions) *Poller {
	t.Helper()
	if opts.MinInterval == 0 {
		opts.MinInterval, opts.MaxInterval = 10*time.Millisecond, 50*time.Millisecond
	}
	p, err := NewPoller(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		require.NoError(t, p.Run(ctx))
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return p
}

// TestC4_OfflineClickDialsAndClears: with no inbound HTTP, the Poller reads
// the click, the target gets its CALL_ID, and the row is cleared.
func TestC4_OfflineClickDialsAndClears(t *testing.T) {
	b := setup(t)
	_, err := Install(context.Background(), b.client, InstallOptions{})
	require.NoError(t, err)
	target := newTarget()
	runPoller(t, PollerOptions{Queue: b.client, Dispatcher: newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{}), Domain: "sim.local"})

	trig, err := b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 3, Phone: "8 916 555-12-34", CRMEntityType: "CONTACT", CRMEntityID: 2})
	require.NoError(t, err)
	req := target.wait(t)
	require.Equal(t, trig.CallID, req.CallID)
	require.Equal(t, "89165551234", req.Number)
	require.Equal(t, "103", req.Extension)
	require.Equal(t, "sim.local", req.Portal)
	require.Equal(t, EntityRef{Type: "CONTACT", ID: 2}, req.Entity)
	require.Eventually(t, func() bool { return len(b.offlineRows(t)) == 0 }, 5*time.Second, 10*time.Millisecond,
		"event.offline.clear removed the handled row")
}

// TestC4_OfflineFailedDialMarksError: a target that fails leaves the row
// marked by event.offline.error, and it is not dialled again.
func TestC4_OfflineFailedDialMarksError(t *testing.T) {
	b := setup(t)
	_, err := Install(context.Background(), b.client, InstallOptions{})
	require.NoError(t, err)
	target := newTarget()
	target.Err = errDial
	p := runPoller(t, PollerOptions{Queue: b.client, Dispatcher: newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{})})

	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	target.wait(t)
	require.Eventually(t, func() bool {
		rows := b.offlineRows(t)
		return len(rows) == 1 && rows[0].Error
	}, 5*time.Second, 10*time.Millisecond)
	target.none(t, 100*time.Millisecond)
	require.Equal(t, 1, p.Stats().Failed)
}

// TestC1_OffAcknowledgesAndIgnores: with click-to-call off the event is
// acknowledged — 200 online, cleared offline — and nothing is dialled.
func TestC1_OffAcknowledgesAndIgnores(t *testing.T) {
	off := conf(settings.ClickToCall{}, cbOn)
	t.Run("online", func(t *testing.T) {
		b := setup(t)
		target := newTarget()
		_, url := serveHandler(t, HandlerOptions{
			Dispatcher: newRouter(t, b, target, off, UserFilter{}), Portals: []Portal{b.portal()},
			Tokens: SecretTokens{Secrets: newSecrets(portalID, b.appToken)},
		})
		_, err := Install(context.Background(), b.client, InstallOptions{HandlerURL: url})
		require.NoError(t, err)
		_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := b.sim.Snapshot()
			return err == nil && len(st.Deliveries) == 1 && st.Deliveries[0].Status == 200
		}, 5*time.Second, 10*time.Millisecond)
		target.none(t, 100*time.Millisecond)
	})
	t.Run("offline", func(t *testing.T) {
		b := setup(t)
		_, err := Install(context.Background(), b.client, InstallOptions{})
		require.NoError(t, err)
		target := newTarget()
		p := runPoller(t, PollerOptions{Queue: b.client, Dispatcher: newRouter(t, b, target, off, UserFilter{})})
		_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return p.Stats().Dispatched == 1 && len(b.offlineRows(t)) == 0 },
			5*time.Second, 10*time.Millisecond)
		target.none(t, 50*time.Millisecond)
	})
}

// TestC4_OfflinePerDesktopConnectors: two desktops, each with its own
// connector and user filter, each dial only their own user's click.
func TestC4_OfflinePerDesktopConnectors(t *testing.T) {
	b := setup(t)
	targets := map[int]*fakeTarget{}
	for _, user := range []int{2, 3} {
		conn := map[int]string{2: "omniphone-102", 3: "omniphone-103"}[user]
		_, err := Install(context.Background(), b.client, InstallOptions{Connector: conn})
		require.NoError(t, err)
		targets[user] = newTarget()
		runPoller(t, PollerOptions{Queue: b.client, Connector: conn,
			Dispatcher: newRouter(t, b, targets[user], conf(c2cOn, cbOn), UserFilter{UserIDs: []int{user}})})
	}
	for _, user := range []int{2, 3} {
		trig, err := b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: user, Phone: "+79035550011"})
		require.NoError(t, err)
		require.Equal(t, trig.CallID, targets[user].wait(t).CallID)
	}
	targets[2].none(t, 100*time.Millisecond)
	targets[3].none(t, 0)
	require.Eventually(t, func() bool { return len(b.offlineRows(t)) == 0 }, 5*time.Second, 10*time.Millisecond)
}

// TestC4_PollerBacksOffWhenIdle: empty polls stretch the wait up to the
// maximum, and a poll error is retried.
func TestC4_PollerBacksOffWhenIdle(t *testing.T) {
	b := setup(t)
	_, err := Install(context.Background(), b.client, InstallOptions{})
	require.NoError(t, err)
	p := runPoller(t, PollerOptions{Queue: b.client, Dispatcher: DispatchFunc(func(context.Context, Event) error { return nil }),
		MinInterval: 5 * time.Millisecond, MaxInterval: 40 * time.Millisecond})
	require.Eventually(t, func() bool { return p.Stats().Interval == 40*time.Millisecond }, 5*time.Second, 5*time.Millisecond)

	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	p.Poke()
	require.Eventually(t, func() bool { return p.Stats().Dispatched == 1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, p.Stats().LastError)
}

// TestC4_PollerSettlesAfterClearFails: when event.offline.clear fails, the
// row stays reserved (nobody dials it again) and the clear is retried.
func TestC4_PollerSettlesAfterClearFails(t *testing.T) {
	b := setup(t)
	_, err := Install(context.Background(), b.client, InstallOptions{})
	require.NoError(t, err)
	b.sim.SetFaults(b24sim.FaultConfig{Method: "event.offline.clear", Fail503: 3})
	target := newTarget()
	p := runPoller(t, PollerOptions{Queue: b.client, Dispatcher: newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{}),
		MinInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxErrorInterval: 20 * time.Millisecond})
	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	target.wait(t)
	require.Eventually(t, func() bool { return len(b.offlineRows(t)) == 0 }, 5*time.Second, 5*time.Millisecond)
	target.none(t, 50*time.Millisecond)
	require.Equal(t, 1, p.Stats().Dispatched)
	resp, err := http.Get(b.srv.URL + "/_sim/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	var log struct {
		Counts map[string]int `json:"counts"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&log))
	require.Equal(t, 4, log.Counts["event.offline.clear"], "three refused clears, then one that worked")
}

// TestC4_PollerWaits: the wait after each poll — fast after events, none
// after a full batch, growing when idle, doubling on errors, at least the
// idle wait after a rate limit.
func TestC4_PollerWaits(t *testing.T) {
	p, err := NewPoller(PollerOptions{Queue: &b24.Client{}, Dispatcher: DispatchFunc(nil), Limit: 10})
	require.NoError(t, err)
	limitErr := &b24.Error{Code: b24.CodeQueryLimit, HTTPStatus: 503}
	var w waits
	var got []time.Duration
	for _, step := range []struct {
		n   int
		err error
	}{{0, nil}, {0, nil}, {0, nil}, {1, nil}, {10, nil}, {0, nil}, {0, errDial}, {0, errDial}, {0, limitErr},
		{0, nil}, {0, nil}, {0, nil}, {0, nil}, {0, nil}, {0, nil}, {0, nil}, {0, nil}} {
		got = append(got, p.next(&w, step.n, step.err))
	}
	s := time.Second
	require.Equal(t, []time.Duration{s, 3 * s / 2, 9 * s / 4, s, 0, s, s, 2 * s, 10 * s,
		3 * s / 2, 9 * s / 4, 3375 * time.Millisecond, 5062500 * time.Microsecond, 7593750 * time.Microsecond, 10 * s, 10 * s, 10 * s}, got)
}
