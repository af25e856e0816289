package b24

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Params are a method's parameters, encoded as JSON.
type Params map[string]any

// Response is a successful answer.
type Response struct {
	Result json.RawMessage
	// Total and Next are set by list methods; Next only when another page exists.
	Total *int
	Next  *int
	Time  ResponseTime
}

// ResponseTime is the envelope's "time" block.
type ResponseTime struct {
	Start            float64 `json:"start"`
	Finish           float64 `json:"finish"`
	Duration         float64 `json:"duration"`
	Processing       float64 `json:"processing"`
	Operating        float64 `json:"operating"`
	OperatingResetAt int64   `json:"operating_reset_at"`
}

// Decode unmarshals the result into out.
func (r *Response) Decode(out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// Options configure a Client.
type Options struct {
	// Portal is the portal's address, https://company.bitrix24.ru.
	Portal string
	// Auth is Webhook{…} or *OAuth.
	Auth Auth
	// HTTPClient overrides the default (timeouts set, private CA from
	// CACertFile).
	HTTPClient *http.Client
	// CACertFile names a PEM file with a CA to trust besides the system's.
	CACertFile string
	// Limit is the client-side leaky bucket; the zero value is the portal
	// default, 2 requests per second with a burst of 50. Negative Rate
	// disables it.
	Limit Limit
	// MaxAttempts bounds the tries of one call (default 6).
	MaxAttempts int
	// Logger receives retries and refreshes (default: discard).
	Logger *slog.Logger
	// AttemptTimeout bounds one try (default 60 s, Bitrix24 cloud's own
	// limit), so a hung connection costs one try, not the whole call.
	AttemptTimeout time.Duration
	// Sleep waits between retries (tests shorten it); default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for operating-limit resets (tests); default time.Now.
	Now func() time.Time
}

// Client calls one portal. It is safe for concurrent use.
type Client struct {
	portal      *url.URL
	auth        Auth
	http        *http.Client
	limiter     *limiter
	maxAttempts int
	attemptTO   time.Duration
	log         *slog.Logger
	sleep       func(ctx context.Context, d time.Duration) error
	now         func() time.Time
	stats       stats
	shared      coalescer // BatchShared's queue

	mu             sync.Mutex
	operatingReset map[string]time.Time // method → last operating_reset_at seen
	blockedUntil   map[string]time.Time // method → end of an OPERATION_TIME_LIMIT block
}

// New returns a client for one portal.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(opts.Portal, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("b24: portal address %q: want https://company.bitrix24.ru", opts.Portal)
	}
	if opts.Auth == nil {
		return nil, errors.New("b24: no credentials: configure an incoming webhook or an OAuth application")
	}
	hc := opts.HTTPClient
	if hc == nil {
		if hc, err = NewHTTPClient(opts.CACertFile); err != nil {
			return nil, err
		}
	}
	c := &Client{
		portal:         u,
		auth:           opts.Auth,
		http:           hc,
		limiter:        newLimiter(opts.Limit),
		maxAttempts:    opts.MaxAttempts,
		attemptTO:      opts.AttemptTimeout,
		log:            opts.Logger,
		sleep:          opts.Sleep,
		now:            opts.Now,
		operatingReset: map[string]time.Time{},
		blockedUntil:   map[string]time.Time{},
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 6
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.attemptTO <= 0 {
		c.attemptTO = 60 * time.Second
	}
	return c, nil
}

// NewHTTPClient returns an HTTP client with deliberate timeouts (Bitrix24
// cloud stops a request after 60 s) that also trusts the CA in caFile, if
// given (SPEC P1, on-premise portals).
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = 65 * time.Second
	tr.MaxIdleConnsPerHost = 8
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("b24: read the portal's CA certificate: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("b24: %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 70 * time.Second}, nil
}

// CallOption changes how one call is made.
type CallOption func(*callOpts)

type callOpts struct {
	idempotent bool
}

// Idempotent marks a write as safe to send again when it is unknown whether
// it ran (a timeout, a dropped connection, a 5xx): for example an update
// that sets absolute values, or an add the caller deduplicates.
func Idempotent() CallOption { return func(o *callOpts) { o.idempotent = true } }

// Call invokes method and decodes the result into out (nil to ignore).
func (c *Client) Call(ctx context.Context, method string, params Params, out any, opts ...CallOption) error {
	_, err := c.do(ctx, method, params, out, opts...)
	return err
}

// Do invokes method and returns the whole answer. It waits for the rate
// limiter, refreshes an expired OAuth token once, and retries what is safe
// to retry (see the package doc).
func (c *Client) Do(ctx context.Context, method string, params Params, opts ...CallOption) (*Response, error) {
	return c.do(ctx, method, params, nil, opts...)
}

// do is Do; a non-nil into receives the result, decoded with the envelope
// in one pass, and the Response's Result is then empty.
func (c *Client) do(ctx context.Context, method string, params Params, into any, opts ...CallOption) (*Response, error) {
	var o callOpts
	for _, opt := range opts {
		opt(&o)
	}
	retryUnknown := o.idempotent || isRead(method)
	refreshed := false
	var lastErr error
	for attempt := 0; attempt < c.maxAttempts; attempt++ {
		if err := c.waitOperating(ctx, method); err != nil {
			return nil, err
		}
		if err := c.limiter.wait(ctx); err != nil {
			return nil, fmt.Errorf("bitrix24 %s: %w", method, err)
		}
		resp, body, err := c.once(ctx, method, params, into)
		if err == nil {
			c.noteOperating(method, resp.Time)
			return resp, nil
		}
		lastErr = err
		var apiErr *Error
		switch {
		case ctx.Err() != nil:
			return nil, err
		case errors.As(err, &apiErr) && apiErr.Code == CodeQueryLimit:
			c.limiter.drain()
			c.log.Warn("bitrix24 rate limit hit; backing off", "method", method, "attempt", attempt+1)
		case errors.As(err, &apiErr) && apiErr.Code == CodeOperationLimit:
			c.blockOperating(method)
			c.log.Warn("bitrix24 operating-time limit hit; waiting for its reset", "method", method)
			continue // waitOperating sleeps until the reset
		case errors.As(err, &apiErr) && (apiErr.Code == CodeExpiredToken || apiErr.Code == CodeInvalidToken) && !refreshed:
			refreshed = true
			if rerr := c.auth.refresh(ctx, c, body); rerr != nil {
				return nil, rerr
			}
			attempt-- // a refused token is not a try
			continue
		case retryUnknown && IsTransient(err):
			c.log.Warn("bitrix24 request failed; retrying", "method", method, "attempt", attempt+1, "err", err)
		default:
			return nil, err
		}
		if err := c.sleep(ctx, backoff(attempt)); err != nil {
			return nil, lastErr
		}
	}
	return nil, fmt.Errorf("gave up after %d tries: %w", c.maxAttempts, lastErr)
}

// once sends one request and also returns the body it sent (which holds
// the credentials used).
func (c *Client) once(ctx context.Context, method string, params Params, into any) (*Response, Params, error) {
	endpoint, body, err := c.auth.prepare(ctx, c, method, params)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.send(ctx, method, endpoint, body, into)
	return resp, body, err
}

func (c *Client) send(ctx context.Context, method, endpoint string, body Params, into any) (*Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("bitrix24 %s: encode parameters: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.attemptTO)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("bitrix24 %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c.stats.request(method)
	httpResp, err := c.http.Do(req)
	if err != nil {
		c.stats.failure(method, "transport")
		return nil, &TransportError{Method: method, Err: err}
	}
	defer httpResp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(httpResp.Body, 64<<20))
	if err != nil {
		c.stats.failure(method, "transport")
		return nil, &TransportError{Method: method, Err: err}
	}
	resp, err := decodeEnvelope(method, httpResp.StatusCode, raw, into)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			c.stats.failure(method, e.Code)
		} else {
			c.stats.failure(method, "decode")
		}
	}
	return resp, err
}

// envelopeMeta is everything in an answer but its result.
type envelopeMeta struct {
	Total       *Int          `json:"total"`
	Next        *Int          `json:"next"`
	Time        *ResponseTime `json:"time"`
	Error       *string       `json:"error"`
	Description string        `json:"error_description"`
	Argument    string        `json:"argument"`
}

type envelope struct {
	Result json.RawMessage `json:"result"`
	envelopeMeta
}

// typedEnvelope decodes the result straight into the caller's value
// (Result holds a pointer), sparing the second pass over it that a raw
// result and a later Decode take: a batch answer is most of a call's
// Bitrix24 CPU in the sync engine.
type typedEnvelope struct {
	Result any `json:"result"`
	envelopeMeta
}

// decodeEnvelope reads an answer: its result (raw, or into a non-nil
// into) or its error.
func decodeEnvelope(method string, status int, raw []byte, into any) (*Response, error) {
	if into != nil {
		env := typedEnvelope{Result: into}
		derr := json.Unmarshal(raw, &env)
		if derr == nil {
			return env.response(method, status)
		}
		// An error answer, or a result of another shape: the raw reading
		// says which.
		if _, err := decodeEnvelope(method, status, raw, nil); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("bitrix24 %s: decode result: %w", method, derr)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		snippet := strings.TrimSpace(string(raw))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		if status >= 500 {
			return nil, &Error{Code: "", Description: "not a Bitrix24 answer: " + snippet, HTTPStatus: status, Method: method}
		}
		return nil, &TransportError{Method: method, Err: fmt.Errorf("HTTP %d, not a Bitrix24 answer: %s", status, snippet)}
	}
	resp, err := env.response(method, status)
	if err != nil {
		return nil, err
	}
	resp.Result = env.Result
	return resp, nil
}

// response is the answer's error, or its Response without the result.
func (env envelopeMeta) response(method string, status int) (*Response, error) {
	if env.Error != nil || status >= 400 {
		e := &Error{Description: env.Description, HTTPStatus: status, Method: method, Argument: env.Argument}
		if env.Error != nil {
			e.Code = *env.Error
		}
		return nil, e
	}
	resp := &Response{}
	if env.Total != nil {
		t := int(*env.Total)
		resp.Total = &t
	}
	if env.Next != nil {
		n := int(*env.Next)
		resp.Next = &n
	}
	if env.Time != nil {
		resp.Time = *env.Time
	}
	return resp, nil
}

// isRead reports methods that change nothing, which are safe to send again.
// event.offline.get is not one: by default it marks the events it returns.
func isRead(method string) bool {
	m := strings.ToLower(strings.TrimSuffix(method, ".json"))
	if m == "event.offline.get" {
		return false
	}
	for _, suffix := range []string{".get", ".list", ".fields", ".search", ".findbycomm", ".searchcrmentities", ".items"} {
		if strings.HasSuffix(m, suffix) {
			return true
		}
	}
	return m == "user.current" || m == "profile" || m == "scope" || m == "methods"
}
