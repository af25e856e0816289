package sync_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
)

// postRetry sends POST /api/v1/calls/{id}/retry.
func postRetry(t testing.TB, base, id string) (int, map[string]any) {
	t.Helper()
	return send(t, http.MethodPost, base+"/api/v1/calls/"+id+"/retry", nil)
}

// requireOnce checks that the simulator holds exactly one lead made for
// call id, one call activity and one telephony call.
func requireOnce(t *testing.T, p *portal, id string) {
	t.Helper()
	snap, err := p.sim.Snapshot()
	require.NoError(t, err)
	leads := entities(snap, "LEAD")
	require.Len(t, leads, 1, "one lead")
	require.Equal(t, id, field(leads[0].Fields, "ORIGIN_ID"))
	require.Len(t, snap.Activities, 1, "one activity")
	require.Len(t, snap.Stats, 1, "one telephony statistics row")
}

// TestRetry_P3_ReconnectThenRetryDeliversOnce: a call fails because the
// portal's refresh token is dead; retrying before the portal is reconnected
// fails again with the same reason; after the reconnect (a new token pair in
// the secret store) a retry through omnisync's client delivers it: one
// lead, one activity, and the status counts both retries. Retrying a call
// that is done is a 409, an unknown one a 404, on the API and on both Go
// sides (Engine and Client).
func TestRetry_P3_ReconnectThenRetryDeliversOnce(t *testing.T) {
	p, n, store := deadTokenNode(t)
	ctx := context.Background()

	code, body := post(t, n.api.URL, call("retry-me", "in", "answered", []string{"102"}, []string{"102"}))
	require.Equal(t, 202, code, body)
	st := waitDone(t, n.api.URL, 20*time.Second, "retry-me")["retry-me"]
	require.Equal(t, "failed", st["state"], "%v", st)
	require.EqualValues(t, 0, st["manual_retries"])

	// Not reconnected yet: the retry is taken and fails for the same reason.
	code, body = postRetry(t, n.api.URL, "retry-me")
	require.Equal(t, 202, code, body)
	require.Equal(t, "queued", body["state"], "%v", body)
	require.EqualValues(t, 1, body["manual_retries"])
	st = waitDone(t, n.api.URL, 20*time.Second, "retry-me")["retry-me"]
	require.Equal(t, "failed", st["state"], "%v", st)
	require.Contains(t, st["reason"], "reconnect the portal")

	// The person reconnects the portal: a new token pair in the store.
	access2, refresh2, err := p.sim.IssueToken(1)
	require.NoError(t, err)
	seedOAuth(t, store, access2, refresh2)
	c, err := crmsync.NewClient(n.api.URL, apiToken, nil)
	require.NoError(t, err)
	require.NoError(t, c.Retry(ctx, "retry-me"))
	st = waitDone(t, n.api.URL, 20*time.Second, "retry-me")["retry-me"]
	require.Equal(t, "done", st["state"], "%v", st)
	require.EqualValues(t, 2, st["manual_retries"])
	requireOnce(t, p, "retry-me")

	code, body = postRetry(t, n.api.URL, "retry-me")
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body["error"], "already in Bitrix24")
	code, _ = postRetry(t, n.api.URL, "nobody")
	require.Equal(t, http.StatusNotFound, code)
	require.ErrorIs(t, c.Retry(ctx, "retry-me"), crmsync.ErrNotFailed)
	require.ErrorIs(t, c.Retry(ctx, "nobody"), crmsync.ErrUnknownCall)
	require.ErrorIs(t, n.eng.Retry(ctx, "retry-me"), crmsync.ErrNotFailed)
	require.ErrorIs(t, n.eng.Retry(ctx, "nobody"), crmsync.ErrUnknownCall)

	req, err := http.NewRequest(http.MethodPost, n.api.URL+"/api/v1/calls/retry-me/retry", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the bearer token is required")
}

// lyingTransport lets the write batch reach the portal and, while lie is
// set, answers it as a refused credential: the write landed, the engine
// was told it did not and gave up on the call ("reconnect the portal").
// With drop set the write never reaches the portal: the engine's ledger
// says "sent" although nothing landed.
type lyingTransport struct{ lie, drop atomic.Bool }

func (l *lyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	write := strings.Contains(strings.ToLower(string(body)), "externalcall.register")
	if !write || !l.drop.Load() {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || !l.lie.Load() || !write {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusUnauthorized, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"error":"invalid_token","error_description":"The access token provided is invalid."}`)),
	}, nil
}

// TestRetry_FailedAfterTheWriteReusesThePlan: the write batch reached
// Bitrix24 but the engine was told the credentials were refused, so the
// call failed with its plan stored. A retry reuses that plan and checks
// Bitrix24 first: it finds the lead and the activity and creates nothing a
// second time. On both databases.
func TestRetry_FailedAfterTheWriteReusesThePlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(testing.TB) string
	}{{"sqlite", sqliteDB}, {"postgres", startPostgres}} {
		t.Run(tc.name, func(t *testing.T) { retryReusesPlan(t, tc.db(t)) })
	}
}

func retryReusesPlan(t *testing.T, db string) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	lying := &lyingTransport{}
	lying.lie.Store(true)
	n := newNode(t, db, baseSettings(p.srv.URL), func(o *crmsync.Options) {
		o.HTTPClient = &http.Client{Transport: lying, Timeout: 10 * time.Second}
	})
	code, body := post(t, n.api.URL, call("landed", "in", "answered", []string{"102"}, []string{"102"}))
	require.Equal(t, 202, code, body)
	st := waitDone(t, n.api.URL, 20*time.Second, "landed")["landed"]
	require.Equal(t, "failed", st["state"], "%v", st)
	require.Contains(t, st["reason"], "reconnect", "%v", st)
	requireOnce(t, p, "landed") // the write did land

	lying.lie.Store(false)
	res := retryResumed(t, n, "landed")
	require.NotEmpty(t, res["found"], "the earlier write was found: %v", res)
	requireOnce(t, p, "landed")
}

// retryResumed retries the failed call id on n, waits until it is done and
// requires that it reused its stored plan; it returns the call's result.
func retryResumed(t *testing.T, n *node, id string) map[string]any {
	t.Helper()
	require.NoError(t, n.eng.Retry(context.Background(), id))
	got, err := n.eng.Status(context.Background(), id)
	require.NoError(t, err)
	require.Contains(t, []string{"queued", "done"}, got.State)
	st := waitDone(t, n.api.URL, 20*time.Second, id)[id]
	require.Equal(t, "done", st["state"], "%v", st)
	res, _ := st["result"].(map[string]any)
	require.Equal(t, true, res["resumed"], "the stored plan was reused: %v", st)
	return res
}

// TestRetry_RestartedEngineResumesWithTelephonyStatistics: the write batch
// was sent (the ledger says so) but never reached Bitrix24, and the engine
// restarted before the call was retried. The new engine has no portal data
// cached; resuming the stored plan must still register and finish the call
// through telephony — one statistics row — not fall back to
// crm.activity.add because it does not know the responsible is an active
// user (the gap TestCrash_KillNineDuringCalls found: "lost" statistics
// rows after a kill in the sent window).
func TestRetry_RestartedEngineResumesWithTelephonyStatistics(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	db := sqliteDB(t)
	s := baseSettings(p.srv.URL)
	dropping := &lyingTransport{}
	dropping.drop.Store(true)
	n := newNode(t, db, s, func(o *crmsync.Options) {
		o.HTTPClient = &http.Client{Transport: dropping, Timeout: 10 * time.Second}
	})
	code, body := post(t, n.api.URL, call("unsent", "in", "answered", []string{"102"}, []string{"102"}))
	require.Equal(t, 202, code, body)
	st := waitDone(t, n.api.URL, 20*time.Second, "unsent")["unsent"]
	require.Equal(t, "failed", st["state"], "%v", st)
	snap, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Empty(t, snap.Activities, "the write never landed")
	n.close(t)

	res := retryResumed(t, newNode(t, db, s), "unsent")
	require.Empty(t, res["found"], "nothing had landed: %v", res)
	requireOnce(t, p, "unsent")
}

// TestMigrate_AddsRequeuedToAnOldLedger: a ledger written before retries
// were counted gets the column, keeps its calls, and they read with
// manual_retries 0.
func TestMigrate_AddsRequeuedToAnOldLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = old.Exec(`CREATE TABLE omnisync_call (
		call_id TEXT PRIMARY KEY, portal TEXT NOT NULL, record TEXT NOT NULL, received_at BIGINT NOT NULL,
		ended_at BIGINT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
		plan TEXT NOT NULL DEFAULT '', trace TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT '',
		journal TEXT NOT NULL DEFAULT '', done_at BIGINT NOT NULL DEFAULT 0)`)
	require.NoError(t, err)
	_, err = old.Exec(`INSERT INTO omnisync_call (call_id, portal, record, received_at, ended_at, state, reason, done_at)
		VALUES ('old-1', 'main', '{}', 1, 1, 'failed', 'reconnect the portal', 2)`)
	require.NoError(t, err)
	require.NoError(t, old.Close())

	db, err := crmsync.ParseDatabase("sqlite:" + path)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, crmsync.Migrate(ctx, db))
	require.NoError(t, crmsync.Migrate(ctx, db), "a second run changes nothing")
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	n := newNode(t, "sqlite:"+path, baseSettings(p.srv.URL))
	st, err := n.eng.Status(ctx, "old-1")
	require.NoError(t, err)
	require.Equal(t, "failed", st.State)
	require.Equal(t, 0, st.ManualRetries)
}
