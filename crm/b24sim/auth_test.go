package b24sim

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func (b *bundle) tokenCall(params map[string]string) resp {
	b.t.Helper()
	v := url.Values{}
	for k, x := range params {
		v.Set(k, x)
	}
	return b.get(b.srv.URL + "/oauth/token/?" + v.Encode())
}

// §2.2 (telephony-auth): code exchange, refresh rotation, expiry, revocation.
func TestRef_OAuth_CodeRefreshRotationExpiry(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.TokenTTL = time.Hour })
	code := b.sim.IssueCode(2)
	r := b.tokenCall(map[string]string{"grant_type": "authorization_code", "client_id": testClientID, "client_secret": testSecret, "code": code})
	require.Equal(t, 200, r.Status, r.Raw)
	for _, k := range []string{"access_token", "refresh_token", "expires", "expires_in", "member_id", "client_endpoint", "server_endpoint", "domain", "scope", "status", "user_id"} {
		require.Contains(t, r.Body, k)
	}
	require.Equal(t, float64(3600), r.Body["expires_in"])
	require.Equal(t, float64(b.clock.Now().Add(time.Hour).Unix()), r.Body["expires"])
	require.Equal(t, b.srv.URL+"/rest/", r.Body["client_endpoint"])
	require.Equal(t, float64(2), r.Body["user_id"])
	access, refresh := r.Body["access_token"].(string), r.Body["refresh_token"].(string)

	// a code is single use
	r2 := b.tokenCall(map[string]string{"grant_type": "authorization_code", "client_id": testClientID, "client_secret": testSecret, "code": code})
	require.Equal(t, 400, r2.Status)
	require.Equal(t, "invalid_grant", r2.Body["error"])

	call := func(tok string) resp { return b.get(b.srv.URL + "/rest/user.current?access_token=" + tok) }
	requireOK(t, call(access))
	b.clock.Advance(time.Hour)
	requireErr(t, call(access), 401, "expired_token", "The access token provided has expired")

	r = b.tokenCall(map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret, "refresh_token": refresh})
	require.Equal(t, 200, r.Status, r.Raw)
	newAccess, newRefresh := r.Body["access_token"].(string), r.Body["refresh_token"].(string)
	require.NotEqual(t, access, newAccess)
	require.NotEqual(t, refresh, newRefresh)
	requireOK(t, call(newAccess))
	// rotation: the old refresh token is dead
	r = b.tokenCall(map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret, "refresh_token": refresh})
	require.Equal(t, 400, r.Status)
	require.Equal(t, "invalid_grant", r.Body["error"])

	// revocation via faults
	b.sim.SetFaults(FaultConfig{RevokeToken: newAccess})
	requireErr(t, call(newAccess), 401, "invalid_token", "Unable to get application by token")
	r = b.tokenCall(map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret, "refresh_token": newRefresh})
	require.Equal(t, "invalid_grant", r.Body["error"])
}

// §2.2: token endpoint errors.
func TestRef_OAuth_TokenEndpointErrors(t *testing.T) {
	b := setup(t, withEmpty)
	cases := []struct {
		name   string
		params map[string]string
		status int
		code   string
	}{
		{"wrong client id", map[string]string{"grant_type": "refresh_token", "client_id": "x", "client_secret": testSecret, "refresh_token": "r"}, 200, "wrong_client"},
		{"wrong secret", map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": "x", "refresh_token": "r"}, 400, "invalid_client"},
		{"no refresh token", map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret}, 400, "invalid_request"},
		{"unknown refresh token", map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret, "refresh_token": "r"}, 400, "invalid_grant"},
		{"bad grant", map[string]string{"grant_type": "password", "client_id": testClientID, "client_secret": testSecret}, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.tokenCall(tc.params)
			require.Equal(t, tc.status, r.Status, r.Raw)
			require.Equal(t, tc.code, r.Body["error"])
		})
	}
	r := b.tokenCall(cases[0].params)
	require.Equal(t, `{"error":"wrong_client"}`, r.Raw)
}

// §2.2: the old-docs rotation also kills the access token when asked.
func TestRef_OAuth_RevokeAccessOnRefresh(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.RevokeAccessOnRefresh = true })
	access, refresh, err := b.sim.IssueToken(1)
	require.NoError(t, err)
	r := b.tokenCall(map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testSecret, "refresh_token": refresh})
	require.Equal(t, 200, r.Status)
	requireErr(t, b.get(b.srv.URL+"/rest/user.current?auth="+access), 401, "invalid_token", "")
}

// §2.2: authorize redirect carries code, state, domain, member_id.
func TestRef_OAuth_AuthorizeRedirect(t *testing.T) {
	b := setup(t, withEmpty)
	client := *b.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Get(b.srv.URL + "/oauth/authorize/?client_id=" + testClientID + "&state=xyz&redirect_uri=" + url.QueryEscape("http://127.0.0.1/cb"))
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	require.Equal(t, 302, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "xyz", loc.Query().Get("state"))
	require.NotEmpty(t, loc.Query().Get("code"))
	require.NotEmpty(t, loc.Query().Get("member_id"))
}

// §2.1: webhook auth: fired user, HTTPS requirement.
func TestRef_Webhook_UserAndHTTPS(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.WebhookUserID = 3 })
	requireErr(t, b.get(b.srv.URL+"/rest/3/SECRET/user.current"), 401, "authorization_error", "Unable to authorize user")
	h := setup(t, withEmpty, func(o *Options) { o.RequireHTTPS = true })
	requireErr(t, h.get(h.srv.URL+"/rest/1/SECRET/user.current"), 400, "INVALID_REQUEST", "Https required.")
}
