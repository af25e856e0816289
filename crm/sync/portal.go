package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// portalConn is one portal's client and its cached portal-wide data.
type portalConn struct {
	id     string
	domain string
	client *b24.Client

	mu       gosync.Mutex
	data     *portalData
	loadedAt time.Time
}

// portalData is what every snapshot of a portal shares: read with the first
// snapshot batch and reused for Options.PortalDataTTL.
type portalData struct {
	Mode         rules.Mode
	Users        []rules.User
	Pipelines    []rules.Pipeline
	LeadStatuses []rules.Stage
}

func (pc *portalConn) cached(now time.Time, ttl time.Duration) *portalData {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.data == nil || now.Sub(pc.loadedAt) > ttl {
		return nil
	}
	return pc.data
}

func (pc *portalConn) store(d *portalData, now time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.data, pc.loadedAt = d, now
}

// portalFor returns the portal a call goes to (its portal, else the
// telephony portal, P2); an unknown portal is a field error.
func (e *Engine) portalFor(call crm.Call) (settings.Portal, error) {
	if call.Portal != nil && *call.Portal != "" {
		p, ok := e.opts.Settings.Portal(*call.Portal)
		if !ok {
			return settings.Portal{}, &crm.FieldError{Field: "portal", Message: fmt.Sprintf("no portal %q in the settings", *call.Portal)}
		}
		return p, nil
	}
	p, ok := e.opts.Settings.TelephonyPortalOrMain()
	if !ok {
		return settings.Portal{}, errors.New("sync: the settings name no telephony or main portal")
	}
	return p, nil
}

// conn returns the client of portal id, building it on first use.
func (e *Engine) conn(id string) (*portalConn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if pc, ok := e.portals[id]; ok {
		return pc, nil
	}
	p, ok := e.opts.Settings.Portal(id)
	if !ok {
		return nil, fmt.Errorf("sync: no portal %q in the settings", id)
	}
	auth, err := e.auth(p)
	if err != nil {
		return nil, err
	}
	hc := e.opts.HTTPClient
	if hc == nil {
		if hc, err = b24.NewHTTPClient(p.CACertFile); err != nil {
			return nil, err
		}
		if tr, ok := hc.Transport.(*http.Transport); ok && tr.MaxIdleConnsPerHost < e.opts.Workers {
			// Every worker may hold a connection to the portal: with
			// fewer kept idle, busy workers close connections and dial new
			// ones (4 % of a node's CPU at 32 workers, limits off).
			tr = tr.Clone()
			tr.MaxIdleConnsPerHost = e.opts.Workers
			hc = &http.Client{Transport: tr, Timeout: hc.Timeout}
		}
	}
	limit := e.opts.Limit
	if e.bucket != nil {
		// Team mode: the database bucket paces every node; the client's
		// own limiter would only add a second, per-node wait.
		hc = e.bucket.wrap(hc, p.ID)
		limit = b24.Limit{Rate: -1}
	}
	client, err := b24.New(b24.Options{Portal: p.Domain, Auth: auth, HTTPClient: hc, Limit: limit, Logger: e.log})
	if err != nil {
		return nil, err
	}
	pc := &portalConn{id: p.ID, domain: strings.TrimRight(p.Domain, "/"), client: client}
	e.portals[id] = pc
	return pc, nil
}

// auth builds the portal's credentials from the secret store.
func (e *Engine) auth(p settings.Portal) (b24.Auth, error) {
	switch p.Auth.Kind {
	case settings.AuthWebhook:
		code, err := e.opts.Secrets.Get(settings.PortalWebhookCode(p.ID))
		if err != nil {
			return nil, fmt.Errorf("sync: portal %s: webhook code: %w", p.ID, err)
		}
		return b24.Webhook{UserID: p.Auth.WebhookUserID, Code: code}, nil
	case settings.AuthOAuth:
		secret, err := e.opts.Secrets.Get(settings.PortalClientSecret(p.ID))
		if err != nil {
			return nil, fmt.Errorf("sync: portal %s: client secret: %w", p.ID, err)
		}
		o := &b24.OAuth{ClientID: p.Auth.ClientID, ClientSecret: secret, Store: b24.SecretTokenStore{Secrets: e.opts.Secrets, PortalID: p.ID}}
		if isLoopback(p.Domain) {
			// The portal simulator serves its own OAuth server.
			o.TokenURL = strings.TrimRight(p.Domain, "/") + "/oauth/token/"
		}
		return o, nil
	}
	return nil, fmt.Errorf("sync: portal %s: unknown auth kind %q", p.ID, p.Auth.Kind)
}

func isLoopback(domain string) bool {
	u, err := url.Parse(domain)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Stats returns every portal client's request counts, for metrics.
func (e *Engine) Stats() map[string]map[string]b24.MethodStats {
	e.mu.Lock()
	conns := make([]*portalConn, 0, len(e.portals))
	for _, pc := range e.portals {
		conns = append(conns, pc)
	}
	e.mu.Unlock()
	out := map[string]map[string]b24.MethodStats{}
	for _, pc := range conns {
		out[pc.id] = pc.client.Stats()
	}
	return out
}

// Route answers CP2's routing query for number: the responsible manager's
// extension by RS8 priority, or ok false ("no route").
func (e *Engine) Route(ctx context.Context, number string) (rules.Target, bool, rules.Trace, error) {
	p, ok := e.opts.Settings.TelephonyPortalOrMain()
	if !ok {
		return rules.Target{}, false, nil, errors.New("sync: no telephony portal")
	}
	if !e.opts.Settings.Effective().CallProcessing.ForwardToPersonalManager {
		t, ok, tr := rules.Route(e.opts.Settings, rules.Snapshot{})
		return t, ok, tr, nil
	}
	pc, err := e.conn(p.ID)
	if err != nil {
		return rules.Target{}, false, nil, err
	}
	snap, _, err := e.readSnapshot(ctx, pc, number)
	if err != nil {
		return rules.Target{}, false, nil, err
	}
	t, ok, tr := rules.Route(e.opts.Settings, snap)
	return t, ok, tr, nil
}

var _ http.RoundTripper = (*bucketTransport)(nil)
