package b24

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// oauthSetup connects as the OAuth app for user 1 (an administrator in the
// demo portal), as event and offline methods require.
func oauthSetup(t *testing.T, opts b24sim.Options) (simBundle, *memStore) {
	t.Helper()
	store := &memStore{}
	b := setup(t, opts, func(srv *httptest.Server, sim *b24sim.Server) Auth {
		access, refresh, err := sim.IssueToken(1)
		require.NoError(t, err)
		store.tok = Token{AccessToken: access, RefreshToken: refresh}
		return &OAuth{ClientID: clientID, ClientSecret: clientSecret, TokenURL: srv.URL + "/oauth/token/", Store: store}
	})
	return b, store
}

// TestRef3_TelephonyLifecycle registers, finds and finishes a call; with
// CRM_CREATE=0 Bitrix24 creates no lead (SPEC D2), and finish writes its
// activity.
func TestRef3_TelephonyLifecycle(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	ctx := context.Background()
	reg, err := b.client.RegisterCall(ctx, RegisterCall{
		UserPhoneInner: "102", PhoneNumber: "+79001112233", Type: CallIncoming,
		StartDate: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), ExternalCallID: "pbx-1",
	})
	require.NoError(t, err)
	require.NotEmpty(t, reg.CallID)
	require.Zero(t, reg.CRMCreatedLead, "CRM_CREATE=0 creates nothing")

	again, err := b.client.RegisterCall(ctx, RegisterCall{
		UserPhoneInner: "102", PhoneNumber: "+79001112233", Type: CallIncoming,
		StartDate: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), ExternalCallID: "pbx-1",
	})
	require.NoError(t, err)
	require.Equal(t, reg.CallID, again.CallID, "a repeated register with the same EXTERNAL_CALL_ID is the same call")

	matches, err := b.client.SearchCRM(ctx, "+7 (999) 123-45-67")
	require.NoError(t, err)
	require.NotEmpty(t, matches, "the demo contact is found by a differently formatted number")
	require.Equal(t, "CONTACT", string(matches[0].EntityType))

	fin, err := b.client.FinishCall(ctx, FinishCall{CallID: string(reg.CallID), UserPhoneInner: "102", Duration: 95 * time.Second, StatusCode: "200"})
	require.NoError(t, err)
	require.EqualValues(t, 95, fin.CallDuration)
	_, err = b.client.FinishCall(ctx, FinishCall{CallID: string(reg.CallID), UserPhoneInner: "102"})
	require.Error(t, err, "a finished call is gone")
	require.True(t, IsValidation(err))
}

func TestRef7_DuplicatesAndUsers(t *testing.T) {
	b := setup(t, b24sim.Options{}, nil)
	ctx := context.Background()
	found, err := b.client.Duplicates(ctx, []string{"89991234567"})
	require.NoError(t, err)
	require.Equal(t, []int{1}, found["CONTACT"], "8→7 normalisation finds +7 (999) 123-45-67")
	none, err := b.client.Duplicates(ctx, []string{"+10000000000"})
	require.NoError(t, err)
	require.Empty(t, none, "no hits decode from []")

	users, err := b.client.Users(ctx, Params{"ACTIVE": true})
	require.NoError(t, err)
	require.NotEmpty(t, users)
	for _, u := range users {
		require.True(t, bool(u.Active))
	}
	require.Equal(t, "101", string(users[0].PhoneInner))
	require.Equal(t, "Иван Петров", users[0].FullName())

	stages, err := b.client.Statuses(ctx, "STATUS")
	require.NoError(t, err)
	require.NotEmpty(t, stages)
	cats, err := b.client.DealCategories(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cats), 2)
}

// TestRef4_6_OfflineEvents binds the offline queue, receives a
// click-to-call and clears it after handling.
func TestRef4_6_OfflineEvents(t *testing.T) {
	b, _ := oauthSetup(t, b24sim.Options{})
	ctx := context.Background()
	require.NoError(t, b.client.BindEvent(ctx, "OnExternalCallStart", "", true))
	binds, err := b.client.Bindings(ctx)
	require.NoError(t, err)
	require.Len(t, binds, 1)

	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	batch, err := b.client.OfflineEvents(ctx, 10)
	require.NoError(t, err)
	require.Len(t, batch.Events, 1)
	require.Equal(t, EventExternalCallStart, string(batch.Events[0].Event))
	require.NotEmpty(t, batch.ProcessID)
	require.NoError(t, b.client.ClearOfflineEvents(ctx, string(batch.ProcessID), []int{int(batch.Events[0].ID)}))
	again, err := b.client.OfflineEvents(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, again.Events)
}

// TestRef1_6_OperatingLimitWaitsForReset: after OPERATION_TIME_LIMIT the
// client waits until operating_reset_at and then succeeds.
func TestRef1_6_OperatingLimitWaitsForReset(t *testing.T) {
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	sim := newSim(t, b24sim.Options{OperatingLimit: time.Second, MethodCost: map[string]time.Duration{"crm.settings.mode.get": 2 * time.Second}, Now: now})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	var slept []time.Duration
	c, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, Limit: Limit{Rate: -1}, Now: now,
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			clock = clock.Add(d)
			return nil
		}})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.CRMMode(ctx)
	require.NoError(t, err)
	_, err = c.CRMMode(ctx)
	require.NoError(t, err, "the blocked call waits for the reset and goes through")
	require.Equal(t, 1, c.Stats()["crm.settings.mode.get"].Failures[CodeOperationLimit])
	require.NotEmpty(t, slept)
	require.Greater(t, slept[0], time.Minute, "it waits for the window, not a short backoff")
	require.LessOrEqual(t, slept[0], 11*time.Minute)
}

// TestRef1_HungConnectionCostsOneTry: a request that never answers is cut
// by the attempt timeout, and a read is tried again.
func TestRef1_HungConnectionCostsOneTry(t *testing.T) {
	sim := newSim(t, b24sim.Options{})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, Limit: Limit{Rate: -1},
		AttemptTimeout: 300 * time.Millisecond, Sleep: noSleep})
	require.NoError(t, err)
	sim.SetFaults(b24sim.FaultConfig{Method: "crm.settings.mode.get", Timeouts: 1, TimeoutMS: 5000})
	_, err = c.CRMMode(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, c.Stats()["crm.settings.mode.get"].Requests)
}

// TestP1_PrivateCA reaches an https portal whose certificate a private CA
// signed, and refuses it without that CA.
func TestP1_PrivateCA(t *testing.T) {
	sim := newSim(t, b24sim.Options{})
	srv := httptest.NewTLSServer(sim.Handler())
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	c, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, CACertFile: ca, Limit: Limit{Rate: -1}, Sleep: noSleep})
	require.NoError(t, err)
	_, err = c.CRMMode(context.Background())
	require.NoError(t, err)

	plain, err := New(Options{Portal: srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, Limit: Limit{Rate: -1}, MaxAttempts: 1})
	require.NoError(t, err)
	_, err = plain.CRMMode(context.Background())
	require.ErrorContains(t, err, "certificate")

	_, err = New(Options{Portal: srv.URL, Auth: Webhook{}, CACertFile: filepath.Join(t.TempDir(), "none.pem")})
	require.ErrorContains(t, err, "CA certificate")
}

func TestSecretTokenStore_RoundTripThroughSecretStore(t *testing.T) {
	secrets := settings.NewFileStore(filepath.Join(t.TempDir(), "secrets.json"))
	store := SecretTokenStore{Secrets: secrets, PortalID: "main"}
	_, err := store.LoadToken(context.Background())
	require.ErrorIs(t, err, ErrNoToken)
	tok := Token{AccessToken: "a1", RefreshToken: "r1", Expires: time.Unix(1800000000, 0).UTC(), MemberID: "m", ClientEndpoint: "https://x/rest/"}
	require.NoError(t, store.SaveToken(context.Background(), tok))
	got, err := store.LoadToken(context.Background())
	require.NoError(t, err)
	require.Equal(t, tok.AccessToken, got.AccessToken)
	require.Equal(t, tok.RefreshToken, got.RefreshToken)
	require.True(t, tok.Expires.Equal(got.Expires))
	raw, err := secrets.Get(settings.PortalAccessToken("main"))
	require.NoError(t, err)
	require.NotContains(t, raw, "r1", "the refresh token is kept apart")
}

func TestNew_RejectsBadOptions(t *testing.T) {
	_, err := New(Options{Portal: "company.bitrix24.ru", Auth: Webhook{}})
	require.ErrorContains(t, err, "want https://")
	_, err = New(Options{Portal: "https://company.bitrix24.ru"})
	require.ErrorContains(t, err, "no credentials")
}

func TestForPortal_WebhookFromSettingsAndSecrets(t *testing.T) {
	sim := newSim(t, b24sim.Options{})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	secrets := settings.NewFileStore(filepath.Join(t.TempDir(), "s.json"))
	p := settings.Portal{ID: "main", Name: "Sim", Domain: srv.URL, Main: true, Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}
	_, err := ForPortal(p, secrets, Options{})
	require.ErrorIs(t, err, settings.ErrSecretNotFound, "no code stored yet")
	require.NoError(t, secrets.Set(settings.PortalWebhookCode("main"), webhookCode))
	c, err := ForPortal(p, secrets, Options{Limit: Limit{Rate: -1}})
	require.NoError(t, err)
	_, err = c.CRMMode(context.Background())
	require.NoError(t, err)

	p.Auth = settings.Auth{Kind: settings.AuthOAuth, ClientID: clientID}
	_, err = ForPortal(p, secrets, Options{})
	require.ErrorIs(t, err, settings.ErrSecretNotFound)
}

// TestRef2_2_RefreshGoesToTheServerTheTokenNamed: with no TokenURL set, a
// refresh goes to the OAuth server of the token's server_endpoint
// (regional portals use their own), never to a guessed host.
func TestRef2_2_RefreshGoesToTheServerTheTokenNamed(t *testing.T) {
	require.Equal(t, "https://oauth.bitrix.info/oauth/token/", tokenURLFor("", "https://oauth.bitrix.info/rest/"))
	require.Equal(t, "https://oauth.bitrix24.tech/oauth/token/", tokenURLFor("", "https://oauth.bitrix24.tech/rest/"))
	require.Equal(t, DefaultTokenURL, tokenURLFor("", ""))
	require.Equal(t, "https://x/t", tokenURLFor("https://x/t", "https://oauth.bitrix.info/rest/"))

	store := &memStore{}
	b := setup(t, b24sim.Options{}, func(srv *httptest.Server, sim *b24sim.Server) Auth {
		access, refresh, err := sim.IssueToken(1)
		require.NoError(t, err)
		store.tok = Token{AccessToken: access, RefreshToken: refresh, ServerEndpoint: srv.URL + "/oauth/rest/"}
		return &OAuth{ClientID: clientID, ClientSecret: clientSecret, Store: store}
	})
	b.sim.SetFaults(b24sim.FaultConfig{ExpireTokens: true})
	_, err := b.client.CRMMode(context.Background())
	require.NoError(t, err)
	require.Len(t, store.saves, 1, "refreshed at the simulator's own token endpoint")
}
