package events

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Hub is team mode's Target: omnisync receives the portal's events and the
// Hub pushes each DialRequest to the desktop of its extension, which holds
// a Server-Sent Events stream open (Follow). A desktop that is not
// connected gets ErrNotConnected, which the Router logs and acknowledges.
type Hub struct {
	tokens []string
	log    *slog.Logger

	mu   sync.Mutex
	subs map[string]map[chan DialRequest]struct{}
}

// NewHub returns a hub whose stream accepts the given bearer tokens.
func NewHub(tokens []string, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{tokens: tokens, log: log, subs: map[string]map[chan DialRequest]struct{}{}}
}

var _ Target = (*Hub)(nil)

// Dial implements Target: the request goes to every stream open for its
// extension.
//
// A callback with no employee mapped (CB1) calls the configured number. In
// a team that number is usually an extension — a reception desk — whose
// desktop follows the hub: it then gets the request as a mapped employee's
// desktop would, rings its operator with the callback card and dials the
// client on accept. Any other configured number has no desktop to call it
// from and is ErrNotConnected.
func (h *Hub) Dial(_ context.Context, req DialRequest) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.Extension == "" && req.FallbackNumber != "" && len(h.subs[req.FallbackNumber]) > 0 {
		req.Extension, req.FallbackNumber = req.FallbackNumber, ""
	}
	subs := h.subs[req.Extension]
	if len(subs) == 0 {
		return ErrNotConnected
	}
	sent := 0
	for ch := range subs {
		select {
		case ch <- req:
			sent++
		default: // a stuck desktop must not hold the others back
		}
	}
	if sent == 0 {
		return fmt.Errorf("the desktop of %s is not reading its events: %w", req.Extension, ErrNotConnected)
	}
	return nil
}

// Connected lists the extensions whose desktops hold a stream open, sorted.
func (h *Hub) Connected() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.subs))
	for ext, subs := range h.subs {
		if len(subs) > 0 {
			out = append(out, ext)
		}
	}
	slices.Sort(out)
	return out
}

// ServeDesktops answers which desktops are connected, as JSON
// {"extensions": ["101", …]}: a click for any other extension is not
// dialled (troubleshooting, SPEC §10). It needs a bearer token.
func (h *Hub) ServeDesktops(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="omnisync"`)
		http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Extensions []string `json:"extensions"`
	}{h.Connected()})
}

// keepAlive is how often an idle stream gets a comment line, so proxies
// and NAT keep it open and the desktop notices a dead one.
const keepAlive = 20 * time.Second

// ServeHTTP streams DialRequests for ?extension=N as Server-Sent Events
// ("event: dial", JSON data). It needs a bearer token.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="omnisync"`)
		http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		return
	}
	ext := strings.TrimSpace(r.URL.Query().Get("extension"))
	if ext == "" {
		http.Error(w, "extension is required: ?extension=101", http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	ch := make(chan DialRequest, 8)
	h.mu.Lock()
	if h.subs[ext] == nil {
		h.subs[ext] = map[chan DialRequest]struct{}{}
	}
	h.subs[ext][ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs[ext], ch)
		h.mu.Unlock()
	}()
	h.log.Info("desktop connected for click-to-call", "extension", ext)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case req := <-ch:
			data, err := json.Marshal(req)
			if err != nil {
				h.log.Error("dial request not encoded", "err", err)
				continue
			}
			fmt.Fprintf(w, "event: dial\ndata: %s\n\n", data)
		}
		flusher.Flush()
	}
}

func (h *Hub) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return false
	}
	for _, t := range h.tokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
			return true
		}
	}
	return false
}

// FollowOptions configure Follow.
type FollowOptions struct {
	// StreamURL is the hub's stream, e.g. https://omnisync/api/v1/events/stream.
	StreamURL string
	Token     string
	Extension string
	// Target dials each request (the desktop's phone).
	Target Target
	// HTTPClient defaults to one without a total timeout (the stream is long).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Follow keeps the desktop's stream open, dialling each request, and
// reconnects with backoff until ctx ends. It returns ctx's error, or at
// once when the hub refuses the token (nothing to retry).
func Follow(ctx context.Context, o FollowOptions) error {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(o.StreamURL)
	if err != nil {
		return fmt.Errorf("event stream address: %w", err)
	}
	q := u.Query()
	q.Set("extension", o.Extension)
	u.RawQuery = q.Encode()
	wait := time.Second
	for {
		connected, err := follow(ctx, o, u.String())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errRefused) {
			return err
		}
		if connected {
			wait = time.Second
		}
		o.Logger.Warn("click-to-call stream lost; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

var errRefused = errors.New("the team service refused the token")

func follow(ctx context.Context, o FollowOptions, streamURL string) (connected bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("%w (HTTP %d)", errRefused, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("event stream: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "dial" && data != "" {
				var dr DialRequest
				if err := json.Unmarshal([]byte(data), &dr); err != nil {
					o.Logger.Error("dial request not understood", "err", err)
				} else if err := o.Target.Dial(ctx, dr); err != nil {
					o.Logger.Error("click-to-call not dialled", "number", dr.Number, "call_id", dr.CallID, "err", err)
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, errors.New("the team service closed the stream")
}
