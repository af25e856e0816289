package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm"
)

// Client is a desktop's side of omnisync's API in team mode: it hands
// call records over and reads their sync state, like an embedded Engine.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// NewClient returns a client for the omnisync service at baseURL, which
// authenticates with token. hc may be nil (10 s timeouts).
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("omnisync address %q: want https://host[:port]", baseURL)
	}
	if token == "" {
		return nil, errors.New("omnisync: no API token: store the team service token in the settings")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: u, token: token, http: hc}, nil
}

// Submit posts a call record (POST /api/v1/calls). A bad record comes
// back as *crm.FieldError, like Engine.Submit. The API does not say whether
// the call was new, so the bool is always true.
func (c *Client) Submit(ctx context.Context, record []byte) (CallStatus, bool, error) {
	var st CallStatus
	code, err := c.do(ctx, http.MethodPost, "/api/v1/calls", record, &st)
	if code == http.StatusBadRequest {
		return CallStatus{}, false, err
	}
	if err != nil {
		return CallStatus{}, false, err
	}
	return st, true, nil
}

// Status reads a call's sync state (GET /api/v1/calls/{id}); nil when the
// service does not know the call.
func (c *Client) Status(ctx context.Context, id string) (*CallStatus, error) {
	var st CallStatus
	code, err := c.do(ctx, http.MethodGet, "/api/v1/calls/"+url.PathEscape(id), nil, &st)
	if code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// Retry re-queues a failed call (POST /api/v1/calls/{id}/retry), like
// Engine.Retry: an unknown call is ErrUnknownCall, one that is not failed
// ErrNotFailed, each with the service's reason.
func (c *Client) Retry(ctx context.Context, id string) error {
	var st CallStatus
	code, err := c.do(ctx, http.MethodPost, "/api/v1/calls/"+url.PathEscape(id)+"/retry", []byte{}, &st)
	switch code {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrUnknownCall, err)
	case http.StatusConflict:
		return fmt.Errorf("%w: %w", ErrNotFailed, err)
	}
	return err
}

// do sends one request and decodes a 2xx answer into out; any other answer
// becomes an error with the service's message.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	u := *c.base
	u.Path += path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, fmt.Errorf("omnisync %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("omnisync %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("omnisync %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e apiError
		_ = json.Unmarshal(data, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		if resp.StatusCode == http.StatusBadRequest {
			return resp.StatusCode, &crm.FieldError{Field: e.Field, Message: e.Error}
		}
		return resp.StatusCode, fmt.Errorf("omnisync %s %s: HTTP %d: %s", method, path, resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("omnisync %s %s: decode answer: %w", method, path, err)
	}
	return resp.StatusCode, nil
}
