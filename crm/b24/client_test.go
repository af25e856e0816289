package b24

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// TestRef1_Envelope_WebhookCallAndTypedDecode checks reference §1.1–§1.3:
// a webhook call, the success envelope and PHP's string-typed values.
func TestRef1_Envelope_WebhookCallAndTypedDecode(t *testing.T) {
	b := setup(t, b24sim.Options{Mode: 2}, nil)
	ctx := context.Background()
	mode, err := b.client.CRMMode(ctx)
	require.NoError(t, err)
	require.Equal(t, ModeSimple, mode)

	id, err := b.client.AddEntity(ctx, Lead, Params{
		"TITLE": "Входящий звонок", "ASSIGNED_BY_ID": 1, "SOURCE_DESCRIPTION": "+74951234567",
		"PHONE": []Params{{"VALUE": "+7 (916) 123-45-67", "VALUE_TYPE": "WORK"}},
	}, nil)
	require.NoError(t, err)
	require.Positive(t, id)
	e, err := b.client.GetEntity(ctx, Lead, id)
	require.NoError(t, err)
	require.EqualValues(t, id, e.ID)
	require.Equal(t, "Входящий звонок", string(e.Title))
	require.EqualValues(t, 1, e.AssignedByID)
	require.Len(t, e.Phone, 1)
	require.Equal(t, "+7 (916) 123-45-67", string(e.Phone[0].Value))
	require.False(t, e.DateCreate.IsZero(), "ISO dates decode")
}

// TestRef1_5_ErrorEnvelope checks error codes, HTTP statuses and the
// classifiers.
func TestRef1_5_ErrorEnvelope(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	ctx := context.Background()
	err := b.client.Call(ctx, "crm.nothing.here", nil, nil)
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	require.Equal(t, CodeMethodNotFound, e.Code)
	require.Equal(t, 404, e.HTTPStatus)
	require.True(t, IsNotFound(err))

	_, err = b.client.GetEntity(ctx, Lead, 999999)
	require.True(t, errors.As(err, &e))
	require.Equal(t, 400, e.HTTPStatus)
	require.True(t, IsNotFound(err), "legacy crm 'Not found'")

	_, err = b.client.AddActivity(ctx, Params{"TYPE_ID": 2})
	require.True(t, IsValidation(err), "%v", err)

	bad, err := New(Options{Portal: b.srv.URL, Auth: Webhook{UserID: 1, Code: "wrong"}, Limit: Limit{Rate: -1}, Sleep: noSleep})
	require.NoError(t, err)
	_, err = bad.CRMMode(ctx)
	require.True(t, IsAuth(err), "%v", err)
}

// TestRef1_4_Paging pages through 120 contacts: three requests of 50.
func TestRef1_4_Paging(t *testing.T) {
	b := setup(t, b24sim.Options{Seed: &b24sim.Seed{}}, nil)
	ctx := context.Background()
	batch := NewBatch()
	for i := range 120 {
		batch.Add(fmt.Sprintf("c%d", i), "crm.contact.add", Params{"fields": Params{"NAME": fmt.Sprintf("Client %d", i)}})
	}
	res, err := b.client.Batch(ctx, batch)
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	before := b.requests(t).Counts["crm.contact.list"]
	all, err := b.client.ListEntities(ctx, Contact, Params{}, []string{"ID", "NAME"})
	require.NoError(t, err)
	require.Len(t, all, 120)
	require.Equal(t, "Client 119", string(all[119].Name))
	require.Equal(t, 3, b.requests(t).Counts["crm.contact.list"]-before)

	n := 0
	for _, err := range b.client.List(ctx, "crm.contact.list", Params{"select": []string{"ID"}}) {
		require.NoError(t, err)
		n++
		if n == 10 {
			break
		}
	}
	require.Equal(t, 4, b.requests(t).Counts["crm.contact.list"]-before, "stopping early fetches no more pages")
}

// TestRef1_7_BatchReferencesSplitAndErrors checks batch: a $result
// reference from a created lead to its activity, automatic split above 50
// with references across the split, and per-command errors by key.
func TestRef1_7_BatchReferencesSplitAndErrors(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	ctx := context.Background()
	batch := NewBatch().
		Add("lead", "crm.lead.add", Params{"fields": Params{"TITLE": "Call", "PHONE": []Params{{"VALUE": "+79161112233", "VALUE_TYPE": "WORK"}}}}).
		Add("act", "crm.activity.add", Params{"fields": Params{
			"OWNER_TYPE_ID": 1, "OWNER_ID": Ref("lead"), "TYPE_ID": 2, "DIRECTION": 1, "SUBJECT": "Missed call",
			"COMPLETED": "N", "RESPONSIBLE_ID": 1, "ORIGINATOR_ID": "omniphone", "ORIGIN_ID": "call-1",
			"COMMUNICATIONS": []Params{{"VALUE": "+79161112233", "ENTITY_TYPE_ID": 1, "ENTITY_ID": Ref("lead")}},
		}}).
		Add("broken", "crm.lead.get", Params{"id": 0})
	for i := range 55 {
		batch.Add(fmt.Sprintf("g%d", i), "crm.lead.get", Params{"id": Ref("lead")})
	}
	require.Equal(t, 58, batch.Len())
	before := b.requests(t).Counts["batch"]
	res, err := b.client.Batch(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, 2, b.requests(t).Counts["batch"]-before, "58 commands go in two calls")

	var leadID Int
	require.NoError(t, res.Decode("lead", &leadID))
	var actID Int
	require.NoError(t, res.Decode("act", &actID))
	require.Positive(t, int(actID))
	var e Entity
	require.NoError(t, res.Decode("g54", &e), "a reference into the first call resolves in the second")
	require.Equal(t, leadID, e.ID)
	err = res.Decode("broken", nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "ID is not defined or invalid")

	acts, err := b.client.ActivitiesByOrigin(ctx, "omniphone", "call-1")
	require.NoError(t, err)
	require.Len(t, acts, 1)
	require.Equal(t, actID, acts[0].ID)
	require.False(t, bool(acts[0].Completed))
}

func TestRef1_7_BatchHalt(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	res, err := b.client.Batch(context.Background(), NewBatch().Halt().
		Add("bad", "crm.lead.get", Params{"id": 0}).
		Add("after", "crm.settings.mode.get", nil))
	require.NoError(t, err)
	require.Contains(t, res.Errors, "bad")
	require.ErrorContains(t, res.Decode("after", nil), "not run")
}

// TestRef1_6_QueryLimitStormIsRidden: the portal refuses three times with
// 503 QUERY_LIMIT_EXCEEDED; the write still happens exactly once.
func TestRef1_6_QueryLimitStormIsRidden(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	b.sim.SetFaults(b24sim.FaultConfig{Method: "crm.lead.add", Fail503: 3})
	id, err := b.client.AddEntity(context.Background(), Lead, Params{"TITLE": "x"}, nil)
	require.NoError(t, err)
	require.Positive(t, id)
	st := b.client.Stats()["crm.lead.add"]
	require.Equal(t, 4, st.Requests)
	require.Equal(t, 3, st.Failures[CodeQueryLimit])
	leads, err := b.client.ListEntities(context.Background(), Lead, Params{"TITLE": "x"}, []string{"ID"})
	require.NoError(t, err)
	require.Len(t, leads, 1)
}

// TestRef1_6_WritesAreNotRetriedBlindly: a 500 after a write may mean it
// ran; the client does not repeat it unless told it is idempotent.
func TestRef1_6_WritesAreNotRetriedBlindly(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	ctx := context.Background()
	b.sim.SetFaults(b24sim.FaultConfig{Method: "crm.lead.add", Fail500: 1})
	_, err := b.client.AddEntity(ctx, Lead, Params{"TITLE": "once"}, nil)
	require.True(t, IsTransient(err))
	require.Equal(t, 1, b.client.Stats()["crm.lead.add"].Requests)

	b.sim.SetFaults(b24sim.FaultConfig{Method: "crm.lead.list", Fail500: 2})
	_, err = b.client.ListEntities(ctx, Lead, Params{}, []string{"ID"})
	require.NoError(t, err, "reads are retried")

	id, err := b.client.AddEntity(ctx, Lead, Params{"TITLE": "upd"}, nil)
	require.NoError(t, err)
	b.sim.SetFaults(b24sim.FaultConfig{Method: "crm.lead.update", DropAfterCommit: 1})
	require.NoError(t, b.client.UpdateEntity(ctx, Lead, id, Params{"TITLE": "done"}, Idempotent()),
		"a dropped connection after commit is retried when the caller says it is idempotent")
	e, err := b.client.GetEntity(ctx, Lead, id)
	require.NoError(t, err)
	require.Equal(t, "done", string(e.Title))
}

// TestRef2_3_ConcurrentExpiredTokenRefreshesOnce is the crest #13 race:
// twenty goroutines find the token expired; exactly one refresh happens
// and the rotated pair is saved before it is used.
func TestRef2_3_ConcurrentExpiredTokenRefreshesOnce(t *testing.T) {
	store := &memStore{}
	var oauth *OAuth
	b := setup(t, b24sim.Options{}, func(srv *httptest.Server, sim *b24sim.Server) Auth {
		access, refresh, err := sim.IssueToken(1)
		require.NoError(t, err)
		store.tok = Token{AccessToken: access, RefreshToken: refresh}
		oauth = &OAuth{ClientID: clientID, ClientSecret: clientSecret, TokenURL: srv.URL + "/oauth/token/", Store: store}
		return oauth
	})
	ctx := context.Background()
	_, err := b.client.CRMMode(ctx)
	require.NoError(t, err)
	b.sim.SetFaults(b24sim.FaultConfig{ExpireTokens: true})

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.client.CRMMode(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.client.Stats()["oauth.refresh"].Requests, "single-flight refresh")
	require.Len(t, store.saves, 1)
	require.NotEqual(t, store.saves[0].RefreshToken, "", "the rotated refresh token is stored")
	require.False(t, store.saves[0].Expires.IsZero(), "expires is kept")
}

// TestRef2_2_DeadRefreshTokenAsksToReconnect: a revoked refresh token is
// not retried forever (b24jssdk #182): it becomes *ReconnectError.
func TestRef2_2_DeadRefreshTokenAsksToReconnect(t *testing.T) {
	store := &memStore{}
	b := setup(t, b24sim.Options{}, func(srv *httptest.Server, sim *b24sim.Server) Auth {
		access, refresh, err := sim.IssueToken(1)
		require.NoError(t, err)
		store.tok = Token{AccessToken: access, RefreshToken: refresh}
		return &OAuth{ClientID: clientID, ClientSecret: clientSecret, TokenURL: srv.URL + "/oauth/token/", Store: store}
	})
	b.sim.SetFaults(b24sim.FaultConfig{RevokeTokens: true})
	_, err := b.client.CRMMode(context.Background())
	var re *ReconnectError
	require.True(t, errors.As(err, &re), "%v", err)
	require.True(t, IsAuth(err))
	require.Contains(t, err.Error(), "reconnect the portal")
	require.LessOrEqual(t, b.requests(t).Total, 3, "one refused call, one refused refresh")
}

// TestRef2_2_ProactiveRefreshOnKnownExpiry refreshes before a call when
// the stored expiry has passed, saving the wasted 401.
func TestRef2_2_ProactiveRefreshOnKnownExpiry(t *testing.T) {
	store := &memStore{}
	b := setup(t, b24sim.Options{}, func(srv *httptest.Server, sim *b24sim.Server) Auth {
		access, refresh, err := sim.IssueToken(1)
		require.NoError(t, err)
		store.tok = Token{AccessToken: access, RefreshToken: refresh, Expires: time.Now().Add(-time.Minute)}
		return &OAuth{ClientID: clientID, ClientSecret: clientSecret, TokenURL: srv.URL + "/oauth/token/", Store: store}
	})
	_, err := b.client.CRMMode(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, b.client.Stats()["crm.settings.mode.get"].Requests, "no refused request")
	require.Len(t, store.saves, 1)
}

func TestBackoff_GrowsWithJitterAndCap(t *testing.T) {
	for attempt := range 10 {
		d := backoff(attempt)
		ceiling := min(500*time.Millisecond<<min(attempt, 6), 30*time.Second)
		require.GreaterOrEqual(t, d, ceiling/2)
		require.LessOrEqual(t, d, ceiling)
	}
}
