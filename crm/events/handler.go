package events

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/omniphone/omniphone/settings"
)

// Dispatcher takes a decoded event: the Router, or omnisync's team hub.
// An error means the event was not carried out (the Poller then marks the
// offline row failed); an event deliberately ignored is not an error.
type Dispatcher interface {
	Dispatch(ctx context.Context, ev Event) error
}

// DispatchFunc adapts a function to Dispatcher.
type DispatchFunc func(ctx context.Context, ev Event) error

// Dispatch implements Dispatcher.
func (f DispatchFunc) Dispatch(ctx context.Context, ev Event) error { return f(ctx, ev) }

// Portal is a portal whose events the Handler accepts.
type Portal struct {
	// ID keys the stored application_token (settings.Portal.ID).
	ID string
	// Domain is the portal address, https://company.bitrix24.ru or just the
	// host; it is compared with auth[domain].
	Domain string
	// MemberID, when known, must equal auth[member_id].
	MemberID string
}

// PortalsFromSettings lists the configured portals.
func PortalsFromSettings(s settings.Settings) []Portal {
	out := make([]Portal, 0, len(s.Portals))
	for _, p := range s.Portals {
		out = append(out, Portal{ID: p.ID, Domain: p.Domain})
	}
	return out
}

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// Dispatcher receives each accepted event (required).
	Dispatcher Dispatcher
	// Portals are the portals accepted (required, at least one).
	Portals []Portal
	// Tokens holds each portal's application_token (required).
	Tokens TokenStore
	// TrustFirstUse accepts the first event of a portal that has no stored
	// token and stores that event's token. Off by default: the token is
	// then stored only from ONAPPINSTALL (see the package doc).
	TrustFirstUse bool
	// QueueSize bounds the events accepted but not yet dispatched (default
	// 64); beyond it the Handler answers 503.
	QueueSize int
	// Workers dispatch in parallel (default 2).
	Workers int
	// DispatchTimeout bounds one Dispatch (default 15 s).
	DispatchTimeout time.Duration
	// MaxBodyBytes bounds a request body (default 64 KiB).
	MaxBodyBytes int64
	// Logger receives rejected and dropped events (default: discard).
	Logger *slog.Logger
}

// Handler is the online event endpoint (SPEC §11): it checks
// auth[application_token], answers at once and dispatches on its own
// goroutines. Close stops them.
type Handler struct {
	opts    HandlerOptions
	portals []Portal
	log     *slog.Logger

	mu     sync.RWMutex // guards closed and sends on queue
	closed bool
	queue  chan Event
	wg     sync.WaitGroup

	tofu sync.Mutex // serialises storing a first token
}

var _ http.Handler = (*Handler)(nil)

// NewHandler starts a Handler's dispatch workers.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if opts.Dispatcher == nil {
		return nil, errors.New("events: handler needs a dispatcher")
	}
	if opts.Tokens == nil {
		return nil, errors.New("events: handler needs a token store")
	}
	if len(opts.Portals) == 0 {
		return nil, errors.New("events: handler needs at least one portal")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.DispatchTimeout <= 0 {
		opts.DispatchTimeout = 15 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	h := &Handler{opts: opts, log: opts.Logger, queue: make(chan Event, opts.QueueSize)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, p := range opts.Portals {
		if p.ID == "" {
			return nil, errors.New("events: a portal has no ID")
		}
		p.Domain = hostOf(p.Domain)
		if p.Domain == "" {
			return nil, fmt.Errorf("events: portal %s has no domain", p.ID)
		}
		h.portals = append(h.portals, p)
	}
	for range opts.Workers {
		h.wg.Add(1)
		go h.work()
	}
	return h, nil
}

// hostOf reduces "https://Host:port/path" or "host" to "host:port", lower case.
func hostOf(domain string) string {
	d := strings.TrimSpace(domain)
	if strings.Contains(d, "://") {
		if u, err := url.Parse(d); err == nil {
			d = u.Host
		}
	}
	return strings.ToLower(strings.TrimRight(d, "/"))
}

// Close stops accepting events, dispatches those already queued and waits
// for the workers.
func (h *Handler) Close() error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.queue)
	}
	h.mu.Unlock()
	h.wg.Wait()
	return nil
}

func (h *Handler) work() {
	defer h.wg.Done()
	for ev := range h.queue {
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.DispatchTimeout)
		if err := h.opts.Dispatcher.Dispatch(ctx, ev); err != nil {
			h.log.Error("bitrix24 event not carried out", "event", ev.Name, "call_id", ev.CallID, "user_id", ev.UserID, "err", err)
		}
		cancel()
	}
}

// enqueue hands ev to the workers without blocking.
func (h *Handler) enqueue(ev Event) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return errClosed
	}
	select {
	case h.queue <- ev:
		return nil
	default:
		return errQueueFull
	}
}

var (
	errClosed    = errors.New("the event handler is closed")
	errQueueFull = errors.New("the event queue is full")
)

// Events without a dispatch of their own.
const (
	eventAppInstall   = "ONAPPINSTALL"
	eventAppUninstall = "ONAPPUNINSTALL"
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a Bitrix24 event", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		h.log.Warn("bitrix24 event rejected: unreadable body", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	form, err := DecodeForm(string(body))
	if err != nil {
		h.log.Warn("bitrix24 event rejected: malformed form", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	name := strings.ToUpper(form.Values["event"])
	if status, why := h.verify(r.Context(), form, name); status != http.StatusOK {
		h.log.Warn("bitrix24 event rejected", "reason", why, "event", name,
			"domain", form.Get("auth", "domain"), "remote", r.RemoteAddr)
		http.Error(w, http.StatusText(status), status)
		return
	}
	switch name {
	case eventAppInstall, eventAppUninstall:
		h.log.Info("bitrix24 application event", "event", name, "domain", form.Get("auth", "domain"))
		writeOK(w)
		return
	}
	ev, err := FromForm(form)
	if errors.Is(err, ErrUnsupported) {
		h.log.Info("bitrix24 event ignored: not handled here", "event", name)
		writeOK(w)
		return
	}
	if err != nil {
		h.log.Warn("bitrix24 event rejected: bad data", "event", name, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "bad event data", http.StatusBadRequest)
		return
	}
	if err := h.enqueue(ev); err != nil {
		h.log.Error("bitrix24 event dropped", "event", name, "call_id", ev.CallID, "err", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeOK(w)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

// verify checks the event's portal and application_token (reference
// §4.7) and returns 200 or the status to answer with and why.
func (h *Handler) verify(ctx context.Context, f Form, name string) (int, string) {
	got := f.Get("auth", "application_token")
	if got == "" {
		return http.StatusUnauthorized, "no auth[application_token]"
	}
	p, ok := h.portal(f.Get("auth", "domain"))
	if !ok {
		return http.StatusUnauthorized, "unknown portal"
	}
	if p.MemberID != "" && f.Get("auth", "member_id") != p.MemberID {
		return http.StatusUnauthorized, "member_id does not match the portal"
	}
	want, err := h.opts.Tokens.ApplicationToken(ctx, p.ID)
	switch {
	case errors.Is(err, ErrNoApplicationToken):
		return h.firstToken(ctx, p, got, name)
	case err != nil:
		h.log.Error("application_token unreadable", "portal", p.ID, "err", err)
		return http.StatusServiceUnavailable, "the token store failed"
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return http.StatusUnauthorized, "wrong auth[application_token]"
	}
	return http.StatusOK, ""
}

// firstToken decides an event of a portal with no stored token: it is
// stored from ONAPPINSTALL, or from any event with TrustFirstUse.
func (h *Handler) firstToken(ctx context.Context, p Portal, got, name string) (int, string) {
	if name != eventAppInstall && !h.opts.TrustFirstUse {
		return http.StatusUnauthorized, "no application_token is stored for the portal; reinstall the application or store its token"
	}
	h.tofu.Lock()
	defer h.tofu.Unlock()
	// Another request may have stored one meanwhile: compare with it.
	if want, err := h.opts.Tokens.ApplicationToken(ctx, p.ID); err == nil {
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return http.StatusUnauthorized, "wrong auth[application_token]"
		}
		return http.StatusOK, ""
	}
	if err := h.opts.Tokens.SetApplicationToken(ctx, p.ID, got); err != nil {
		h.log.Error("application_token not stored", "portal", p.ID, "err", err)
		return http.StatusServiceUnavailable, "the token store failed"
	}
	h.log.Warn("application_token stored from the first event of the portal", "portal", p.ID, "event", name)
	return http.StatusOK, ""
}

func (h *Handler) portal(domain string) (Portal, bool) {
	d := hostOf(domain)
	for _, p := range h.portals {
		if p.Domain == d {
			return p, true
		}
	}
	return Portal{}, false
}
