package b24sim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Auth kinds of a REST call.
const (
	authWebhook = "webhook"
	authOAuth   = "oauth"
)

// authInfo is who is calling.
type authInfo struct {
	kind      string
	userID    int
	appID     string // OAuth client id; "" for webhooks
	token     string // access token or webhook code
	connector string // auth_connector param, for offline events
}

func (a authInfo) identity() string {
	if a.kind == authWebhook {
		return "webhook"
	}
	return "app:" + a.appID
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms; fall back to time.
		return hex.EncodeToString([]byte(time.Now().String()))[:2*n]
	}
	return hex.EncodeToString(b)
}

func (s *Server) authStatus() int {
	if s.opts.StrictDocs {
		return 403
	}
	return 401
}

// authenticate resolves the caller of a REST request. For webhook paths
// uid/code come from the URL; otherwise the token is read from the auth or
// access_token parameter (never from an Authorization header).
func (s *Server) authenticate(r *http.Request, webhook bool, uid int, code string, params *Arr) (authInfo, *Error) {
	now := s.now()
	connector := phpString(valueOr(params, "auth_connector"))
	if webhook {
		if s.opts.RequireHTTPS && r != nil && r.TLS == nil {
			return authInfo{}, newErr(400, "INVALID_REQUEST", "Https required.")
		}
		if s.opts.WebhookCode == "" || uid != s.opts.WebhookUserID || code != s.opts.WebhookCode {
			return authInfo{}, newErr(s.authStatus(), "INVALID_CREDENTIALS", "Invalid request credentials")
		}
		s.mu.Lock()
		u := s.st.user(uid)
		s.mu.Unlock()
		if u == nil || !u.Active {
			return authInfo{}, newErr(401, "authorization_error", "Unable to authorize user")
		}
		return authInfo{kind: authWebhook, userID: uid, token: code, connector: connector}, nil
	}
	tok := ""
	if v, ok := lookup(params, "auth", "access_token"); ok {
		tok = phpString(v)
	}
	if tok == "" || s.opts.ClientID == "" {
		return authInfo{}, errNoAuth
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.Tokens {
		if t.Access != tok {
			continue
		}
		if t.AccessRevoked {
			return authInfo{}, errInvalidToken
		}
		if !now.Before(t.Expires) {
			return authInfo{}, errExpiredToken
		}
		u := s.st.user(t.UserID)
		if u == nil || !u.Active {
			return authInfo{}, newErr(401, "authorization_error", "Unable to authorize user")
		}
		return authInfo{kind: authOAuth, userID: t.UserID, appID: t.ClientID, token: tok, connector: connector}, nil
	}
	return authInfo{}, errInvalidToken
}

func valueOr(a *Arr, k string) any {
	v, _ := a.Get(k)
	return v
}

// issueToken mints a token pair; s.mu must be held.
func (s *Server) issueToken(userID int) *Token {
	now := s.now()
	t := &Token{
		Access:         randomHex(16) + "0000" + randomHex(16),
		Refresh:        randomHex(16) + "1111" + randomHex(16),
		ClientID:       s.opts.ClientID,
		UserID:         userID,
		Expires:        now.Add(s.opts.TokenTTL),
		RefreshExpires: now.Add(s.opts.RefreshTTL),
	}
	s.st.Tokens = append(s.st.Tokens, t)
	return t
}

func (s *Server) tokenResponse(r *http.Request, t *Token) obj {
	base := s.baseURL(r)
	return obj{
		"access_token":    t.Access,
		"refresh_token":   t.Refresh,
		"expires":         t.Expires.Unix(),
		"expires_in":      int(s.opts.TokenTTL / time.Second),
		"member_id":       s.st.MemberID,
		"client_endpoint": base + "/rest/",
		"server_endpoint": base + "/oauth/rest/",
		"domain":          s.domain(r),
		"scope":           strings.Join(s.opts.Scopes, ","),
		"status":          "L",
		"user_id":         t.UserID,
	}
}

// serveToken implements /oauth/token/ (authorization_code and refresh_token
// grants) with rotation on use.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	p := ParseParams(r.Method, r.Header.Get("Content-Type"), r.URL.RawQuery, body)
	s.reqlog.add(s.now(), logEntry{HTTPMethod: r.Method, Method: "oauth.token"})
	get := func(k string) string { return phpString(valueOr(p, k)) }
	tokErr := func(status int, code, desc string) {
		o := obj{"error": code}
		if desc != "" {
			o["error_description"] = desc
		}
		writeBody(w, status, o)
	}
	if s.opts.ClientID == "" || get("client_id") != s.opts.ClientID {
		tokErr(200, "wrong_client", "")
		return
	}
	if get("client_secret") != s.opts.ClientSecret {
		tokErr(400, "invalid_client", "Invalid client credentials")
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch get("grant_type") {
	case "authorization_code":
		code := get("code")
		if code == "" {
			tokErr(400, "invalid_request", `No "code" parameter found`)
			return
		}
		for i, c := range s.st.Codes {
			if c.Code != code {
				continue
			}
			s.st.Codes = append(s.st.Codes[:i:i], s.st.Codes[i+1:]...)
			if !now.Before(c.Expires) {
				break
			}
			writeBody(w, 200, s.tokenResponse(r, s.issueToken(c.UserID)))
			return
		}
		tokErr(400, "invalid_grant", "Invalid authorization code")
	case "refresh_token":
		rt := get("refresh_token")
		if rt == "" {
			tokErr(400, "invalid_request", `No "refresh_token" parameter found`)
			return
		}
		for _, t := range s.st.Tokens {
			if t.Refresh != rt {
				continue
			}
			if t.RefreshUsed || !now.Before(t.RefreshExpires) {
				break
			}
			t.RefreshUsed = true
			if s.opts.RevokeAccessOnRefresh {
				t.AccessRevoked = true
			}
			writeBody(w, 200, s.tokenResponse(r, s.issueToken(t.UserID)))
			return
		}
		tokErr(400, "invalid_grant", "Invalid refresh token")
	default:
		tokErr(400, "invalid_request", "Invalid grant_type parameter or parameter missing")
	}
}

// issueCode creates a 30-second authorization code for userID.
func (s *Server) issueCode(userID int) string {
	c := AuthCode{Code: randomHex(20), ClientID: s.opts.ClientID, UserID: userID, Expires: s.now().Add(30 * time.Second)}
	s.mu.Lock()
	s.st.Codes = append(s.st.Codes, c)
	s.mu.Unlock()
	return c.Code
}

// serveAuthorize auto-approves /oauth/authorize/ for user_id (default 1) and
// redirects to redirect_uri with code, state, domain, member_id and scope.
// Without redirect_uri it answers the same fields as JSON.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if s.opts.ClientID == "" || q.Get("client_id") != s.opts.ClientID {
		writeBody(w, 400, obj{"error": "wrong_client"})
		return
	}
	uid := phpInt(q.Get("user_id"))
	if uid == 0 {
		uid = 1
	}
	code := s.issueCode(uid)
	s.mu.Lock()
	member := s.st.MemberID
	s.mu.Unlock()
	v := url.Values{}
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	v.Set("domain", s.domain(r))
	v.Set("member_id", member)
	v.Set("scope", strings.Join(s.opts.Scopes, ","))
	v.Set("server_domain", s.domain(r))
	if ru := q.Get("redirect_uri"); ru != "" {
		sep := "?"
		if strings.Contains(ru, "?") {
			sep = "&"
		}
		http.Redirect(w, r, ru+sep+v.Encode(), http.StatusFound)
		return
	}
	o := obj{}
	for k := range v {
		o[k] = v.Get(k)
	}
	writeBody(w, 200, o)
}

// scopeOf is the REST scope a method belongs to ("" = global).
func scopeOf(name string) string {
	switch {
	case strings.HasPrefix(name, "crm."):
		return "crm"
	case strings.HasPrefix(name, "telephony."):
		return "telephony"
	case strings.HasPrefix(name, "user."):
		return "user"
	case strings.HasPrefix(name, "im."):
		return "im"
	}
	return ""
}

func (s *Server) hasScope(scope string) bool {
	if scope == "" {
		return true
	}
	for _, sc := range s.opts.Scopes {
		if sc == scope {
			return true
		}
	}
	return false
}
