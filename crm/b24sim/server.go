package b24sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode values of crm.settings.mode.get.
const (
	ModeClassic = 1 // with leads
	ModeSimple  = 2 // without leads
)

// Options configure a Server. The zero value is a classic-mode demo portal
// with no webhook, no OAuth app and no limits.
type Options struct {
	// Mode is ModeClassic (default) or ModeSimple.
	Mode int
	// WebhookUserID and WebhookCode enable /rest/{USER_ID}/{CODE}/{method}.
	WebhookUserID int
	WebhookCode   string
	// ClientID and ClientSecret enable the OAuth app, /oauth/token/ and
	// /rest/{method}?auth=….
	ClientID     string
	ClientSecret string
	// AppName is REST_APP_NAME in telephony results (default "Omniphone").
	AppName string
	// Scopes granted to the app and the webhook (default crm, telephony,
	// user, im). Methods outside them answer insufficient_scope.
	Scopes []string
	// TokenTTL is the access-token lifetime (default 1h); RefreshTTL the
	// refresh-token lifetime (default 180 days).
	TokenTTL   time.Duration
	RefreshTTL time.Duration
	// RevokeAccessOnRefresh follows the old docs: a refresh also kills the
	// access token issued with the used refresh token.
	RevokeAccessOnRefresh bool
	// RateLimit is the leaky-bucket drain rate per second (Y) and RateBurst
	// its capacity (X); RateLimit 0 disables the limit.
	RateLimit float64
	RateBurst int
	// OperatingLimit is the per-method operating-time budget over a 10-minute
	// window (0 disables, the cloud uses 480s). MethodCost adds a synthetic
	// operating time per call of a method (lower-case name) so the limit is
	// testable; the measured handler time is added too.
	OperatingLimit time.Duration
	MethodCost     map[string]time.Duration
	// Seed is the initial portal; nil means the built-in demo portal.
	Seed *Seed
	// StateFile, if it exists, is loaded instead of Seed.
	StateFile string
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
	// Location is the portal time zone (default UTC+3, Moscow).
	Location *time.Location
	// PublicURL is the portal base URL (e.g. https://127.0.0.1:8024); by
	// default it is derived from each request's Host and TLS state.
	PublicURL string
	// StrictDocs switches documented-but-contradicted behaviour on:
	// telephony register/finish/externalLine reject webhooks with
	// WRONG_AUTH_TYPE, and insufficient_scope / INVALID_CREDENTIALS answer
	// 403 instead of 401.
	StrictDocs bool
	// EmptyTelephonyErrorCode reports telephony RestExceptions with error ""
	// (older servers) instead of "ERROR_CORE" (current docs).
	EmptyTelephonyErrorCode bool
	// RequireHTTPS rejects webhook calls over plain HTTP like the cloud does.
	RequireHTTPS bool
	// RepeatSales enables repeat-lead creation on register with CRM_CREATE=1
	// even when the number matches a contact or company.
	RepeatSales bool
	// LogSize is the request-log capacity (default 2000).
	LogSize int
	// DeliveryTimeout bounds one online event POST (default 5s).
	DeliveryTimeout time.Duration
}

// Server is the simulated portal. Create it with New, serve Handler, stop it
// with Close.
type Server struct {
	opts    Options
	now     func() time.Time
	loc     *time.Location
	methods map[string]*method
	secret  []byte

	mu      sync.Mutex // guards st, initial
	st      *State
	initial *State

	limiter  *limiter
	faults   *faults
	reqlog   *requestLog
	outbox   *outbox
	closeCtx context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	handler  http.Handler
	lastBase atomic.Value // string: base URL of the latest REST request
}

// New builds a Server from opts, loading Options.StateFile when it exists.
func New(opts Options) (*Server, error) {
	if opts.Mode == 0 {
		opts.Mode = ModeClassic
	}
	if opts.Mode != ModeClassic && opts.Mode != ModeSimple {
		return nil, fmt.Errorf("new simulator: unknown mode %d", opts.Mode)
	}
	if (opts.WebhookCode == "") != (opts.WebhookUserID == 0) {
		return nil, errors.New("new simulator: webhook needs both a user id and a code")
	}
	if (opts.ClientID == "") != (opts.ClientSecret == "") {
		return nil, errors.New("new simulator: oauth app needs both a client id and a secret")
	}
	if opts.RateLimit < 0 || opts.RateBurst < 0 {
		return nil, errors.New("new simulator: negative rate limit")
	}
	if opts.RateLimit > 0 && opts.RateBurst == 0 {
		return nil, errors.New("new simulator: rate limit needs a burst")
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 180 * 24 * time.Hour
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = []string{"crm", "telephony", "user", "im"}
	}
	if opts.AppName == "" {
		opts.AppName = "Omniphone"
	}
	if opts.LogSize <= 0 {
		opts.LogSize = 2000
	}
	if opts.DeliveryTimeout <= 0 {
		opts.DeliveryTimeout = 5 * time.Second
	}
	s := &Server{opts: opts, now: opts.Now, loc: opts.Location}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.FixedZone("MSK", 3*3600)
	}
	s.secret = []byte(randomHex(16))
	s.methods = buildMethods()
	s.limiter = newLimiter(opts.RateLimit, opts.RateBurst, opts.OperatingLimit)
	s.faults = &faults{}
	s.reqlog = newRequestLog(opts.LogSize)
	s.closeCtx, s.cancel = context.WithCancel(context.Background())
	s.outbox = newOutbox()

	st, err := s.buildPortal(opts.Seed)
	if err != nil {
		return nil, err
	}
	s.initial = st
	if opts.StateFile != "" {
		ok, err := fileExists(opts.StateFile)
		if err != nil {
			return nil, fmt.Errorf("new simulator: %w", err)
		}
		if ok {
			if err := s.Load(opts.StateFile); err != nil {
				return nil, fmt.Errorf("new simulator: %w", err)
			}
		}
	}
	if s.st == nil {
		if s.st, err = s.initial.clone(); err != nil {
			return nil, fmt.Errorf("new simulator: %w", err)
		}
	}
	s.handler = s.routes()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deliverLoop(s.closeCtx)
	}()
	return s, nil
}

// Handler returns the HTTP handler serving the portal.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops event delivery and waits for its goroutine. It does not save
// the state; call Save first if needed.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// Reset restores the initial portal (seed or demo) and clears logs, faults,
// limiter state and the event outbox.
func (s *Server) Reset() error {
	st, err := s.initial.clone()
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.reqlog.reset()
	s.faults.reset()
	s.limiter.reset()
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/rest/", s.serveREST)
	mux.HandleFunc("/oauth/token/", s.serveToken)
	mux.HandleFunc("/oauth/token", s.serveToken)
	mux.HandleFunc("/oauth/authorize/", s.serveAuthorize)
	mux.Handle("/_sim/", loopbackOnly(s.adminRoutes()))
	mux.HandleFunc("/", s.serveWeb)
	return recoverer(mux)
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				writeError(w, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// baseURL is the portal origin as seen by the client.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r != nil && r.TLS != nil {
		scheme = "https"
	}
	host := "127.0.0.1"
	if r != nil && r.Host != "" {
		host = r.Host
	}
	return scheme + "://" + host
}

func (s *Server) domain(r *http.Request) string {
	b := s.baseURL(r)
	if i := strings.Index(b, "://"); i >= 0 {
		return b[i+3:]
	}
	return b
}

// portalUserID returns an int as a decimal string.
