package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Auth is how requests are authenticated: Webhook or *OAuth.
type Auth interface {
	// prepare returns the URL and JSON body for method.
	prepare(ctx context.Context, c *Client, method string, params Params) (string, Params, error)
	// refresh is called once when the server refused the credentials that
	// prepare put into body.
	refresh(ctx context.Context, c *Client, body Params) error
}

// Webhook is an incoming webhook: https://portal/rest/{UserID}/{Code}/.
type Webhook struct {
	UserID int
	Code   string
}

func (w Webhook) prepare(_ context.Context, c *Client, method string, params Params) (string, Params, error) {
	u := *c.portal
	u.Path = fmt.Sprintf("%s/rest/%d/%s/%s", strings.TrimRight(u.Path, "/"), w.UserID, url.PathEscape(w.Code), method)
	return u.String(), params, nil
}

func (w Webhook) refresh(context.Context, *Client, Params) error {
	return &ReconnectError{Err: errors.New("the incoming webhook was refused; create a new one in Bitrix24 and paste its URL")}
}

// Token is an OAuth token pair with what Bitrix24 returned alongside it.
type Token struct {
	AccessToken    string    `json:"access_token"`
	RefreshToken   string    `json:"refresh_token"`
	Expires        time.Time `json:"expires"`
	ClientEndpoint string    `json:"client_endpoint,omitempty"`
	ServerEndpoint string    `json:"server_endpoint,omitempty"`
	MemberID       string    `json:"member_id,omitempty"`
	Scope          string    `json:"scope,omitempty"`
	UserID         int       `json:"user_id,omitempty"`
}

// TokenStore keeps the current token pair (SecretTokenStore keeps it in a
// settings.SecretStore).
type TokenStore interface {
	// LoadToken returns the stored token, or an error wrapping ErrNoToken.
	LoadToken(ctx context.Context) (Token, error)
	// SaveToken stores a new token pair; it must be durable when it returns.
	SaveToken(ctx context.Context, t Token) error
}

// DefaultTokenURL is Bitrix24's OAuth server.
const DefaultTokenURL = "https://oauth.bitrix.info/oauth/token/"

// OAuth authenticates as an OAuth application. Use one *OAuth per portal
// and share it between clients of that portal.
type OAuth struct {
	ClientID     string
	ClientSecret string
	// TokenURL overrides DefaultTokenURL (the simulator serves its own).
	TokenURL string
	Store    TokenStore
	// Now overrides time.Now (tests).
	Now func() time.Time

	mu        sync.Mutex // guards tok
	tok       *Token
	refreshMu sync.Mutex // one refresh at a time
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// current returns the token in use, loading it from the store once.
func (o *OAuth) current(ctx context.Context) (Token, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tok != nil {
		return *o.tok, nil
	}
	t, err := o.Store.LoadToken(ctx)
	if err != nil {
		return Token{}, fmt.Errorf("load OAuth token: %w", err)
	}
	o.tok = &t
	return t, nil
}

// expirySkew refreshes a token this long before Bitrix24 would refuse it.
const expirySkew = 30 * time.Second

func (o *OAuth) prepare(ctx context.Context, c *Client, method string, params Params) (string, Params, error) {
	t, err := o.current(ctx)
	if err != nil {
		return "", nil, err
	}
	if !t.Expires.IsZero() && o.now().After(t.Expires.Add(-expirySkew)) {
		if err := o.refreshFrom(ctx, c, t.AccessToken); err != nil {
			return "", nil, err
		}
		if t, err = o.current(ctx); err != nil {
			return "", nil, err
		}
	}
	base := t.ClientEndpoint
	if base == "" {
		u := *c.portal
		u.Path = strings.TrimRight(u.Path, "/") + "/rest/"
		base = u.String()
	}
	body := make(Params, len(params)+1)
	for k, v := range params {
		body[k] = v
	}
	body["auth"] = t.AccessToken
	return strings.TrimRight(base, "/") + "/" + method, body, nil
}

func (o *OAuth) refresh(ctx context.Context, c *Client, body Params) error {
	used, _ := body["auth"].(string)
	return o.refreshFrom(ctx, c, used)
}

// refreshFrom refreshes the token unless another goroutine already replaced
// stale while this one waited: twenty requests that all find the token
// expired cause one refresh.
func (o *OAuth) refreshFrom(ctx context.Context, c *Client, stale string) error {
	o.refreshMu.Lock()
	defer o.refreshMu.Unlock()
	cur, err := o.current(ctx)
	if err != nil {
		return err
	}
	if cur.AccessToken != stale {
		return nil
	}
	next, err := o.grant(ctx, c.http, tokenURLFor(o.TokenURL, cur.ServerEndpoint), url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {cur.RefreshToken},
	})
	if err != nil {
		return err
	}
	c.stats.request("oauth.refresh")
	return o.adopt(ctx, next)
}

// Exchange trades an authorization code (the installation flow) for the
// first token pair and stores it.
func (o *OAuth) Exchange(ctx context.Context, hc *http.Client, code string) (Token, error) {
	t, err := o.grant(ctx, hc, tokenURLFor(o.TokenURL, ""), url.Values{"grant_type": {"authorization_code"}, "code": {code}})
	if err != nil {
		return Token{}, err
	}
	if err := o.adopt(ctx, t); err != nil {
		return Token{}, err
	}
	return t, nil
}

// adopt saves the rotated pair first — the old refresh token is already
// void on the server — and only then uses it.
func (o *OAuth) adopt(ctx context.Context, t Token) error {
	o.mu.Lock()
	o.tok = &t // kept even if saving fails: it is the only valid pair now
	o.mu.Unlock()
	if err := o.Store.SaveToken(ctx, t); err != nil {
		return fmt.Errorf("save the refreshed OAuth token: %w", err)
	}
	return nil
}

type tokenAnswer struct {
	AccessToken    string `json:"access_token"`
	RefreshToken   string `json:"refresh_token"`
	Expires        Int    `json:"expires"`
	ExpiresIn      Int    `json:"expires_in"`
	ClientEndpoint string `json:"client_endpoint"`
	ServerEndpoint string `json:"server_endpoint"`
	MemberID       string `json:"member_id"`
	Scope          string `json:"scope"`
	UserID         Int    `json:"user_id"`
	Error          string `json:"error"`
	Description    string `json:"error_description"`
}

// tokenURLFor is where tokens are refreshed: the configured URL, else the
// OAuth server the last token named (server_endpoint, e.g.
// https://oauth.bitrix.info/rest/ — regional portals use another one),
// else Bitrix24's default.
func tokenURLFor(configured, serverEndpoint string) string {
	if configured != "" {
		return configured
	}
	if u, err := url.Parse(serverEndpoint); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		u.Path, u.RawQuery = "/oauth/token/", ""
		return u.String()
	}
	return DefaultTokenURL
}

func (o *OAuth) grant(ctx context.Context, hc *http.Client, tokenURL string, form url.Values) (Token, error) {
	form.Set("client_id", o.ClientID)
	form.Set("client_secret", o.ClientSecret)
	u, err := url.Parse(tokenURL)
	if err != nil {
		return Token{}, fmt.Errorf("oauth token URL: %w", err)
	}
	u.RawQuery = form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Token{}, fmt.Errorf("oauth: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Token{}, &TransportError{Method: "oauth.token", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Token{}, &TransportError{Method: "oauth.token", Err: err}
	}
	var a tokenAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return Token{}, &TransportError{Method: "oauth.token", Err: fmt.Errorf("HTTP %d, not a token answer", resp.StatusCode)}
	}
	if a.Error != "" || a.AccessToken == "" {
		e := &Error{Code: a.Error, Description: a.Description, HTTPStatus: resp.StatusCode, Method: "oauth.token"}
		switch a.Error {
		case "invalid_grant", "invalid_client", "wrong_client", "NOT_INSTALLED", "PAYMENT_REQUIRED":
			return Token{}, &ReconnectError{Err: e}
		}
		if resp.StatusCode >= 500 {
			return Token{}, e
		}
		return Token{}, &ReconnectError{Err: e}
	}
	t := Token{
		AccessToken: a.AccessToken, RefreshToken: a.RefreshToken,
		ClientEndpoint: a.ClientEndpoint, ServerEndpoint: a.ServerEndpoint,
		MemberID: a.MemberID, Scope: a.Scope, UserID: int(a.UserID),
	}
	switch {
	case a.Expires > 0:
		t.Expires = time.Unix(int64(a.Expires), 0)
	case a.ExpiresIn > 0:
		t.Expires = o.now().Add(time.Duration(a.ExpiresIn) * time.Second)
	}
	return t, nil
}
