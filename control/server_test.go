package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip"
)

const testToken = "0123456789abcdef0123456789abcdef"

type fakeCall struct {
	mu    sync.Mutex
	info  sip.Info
	muted bool
	err   error // returned by every operation
	ops   []string
}

func (c *fakeCall) Info() sip.Info { c.mu.Lock(); defer c.mu.Unlock(); return c.info }
func (c *fakeCall) Muted() bool    { c.mu.Lock(); defer c.mu.Unlock(); return c.muted }
func (c *fakeCall) SetMuted(m bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.muted = m
}

func (c *fakeCall) op(name string, st sip.CallState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, name)
	if c.err != nil {
		return c.err
	}
	if st != sip.CallUnknown {
		c.info.State = st
	}
	return nil
}

func (c *fakeCall) Answer() error                { return c.op("answer", sip.CallActive) }
func (c *fakeCall) Hangup() error                { return c.op("hangup", sip.CallEnded) }
func (c *fakeCall) Hold(context.Context) error   { return c.op("hold", sip.CallHeld) }
func (c *fakeCall) Resume(context.Context) error { return c.op("resume", sip.CallActive) }
func (c *fakeCall) SendDTMF(d string) error      { return c.op("dtmf "+d, sip.CallUnknown) }
func (c *fakeCall) Transfer(_ context.Context, to string) error {
	return c.op("transfer "+to, sip.CallUnknown)
}

type fakePhone struct {
	mu      sync.Mutex
	reg     sip.RegState
	calls   []*fakeCall
	dialErr error
}

func (p *fakePhone) RegState() sip.RegState { p.mu.Lock(); defer p.mu.Unlock(); return p.reg }

func (p *fakePhone) Dial(to string) (Call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dialErr != nil {
		return nil, p.dialErr
	}
	c := &fakeCall{info: sip.Info{ID: "out-1", Direction: sip.Outbound, State: sip.CallDialing, Remote: to, Created: time.Now()}}
	p.calls = append(p.calls, c)
	return c, nil
}

func (p *fakePhone) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		out[i] = c
	}
	return out
}

type testBundle struct {
	phone *fakePhone
	srv   *Server
	http  *httptest.Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	phone := &fakePhone{reg: sip.RegRegistered}
	srv, err := New(Options{Phone: phone, Token: testToken, Account: "101@127.0.0.1"})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &testBundle{phone: phone, srv: srv, http: hs}
}

// reply is a response whose body was read and closed.
type reply struct {
	StatusCode int
	Header     http.Header
}

func (b *testBundle) do(t *testing.T, method, path, body string) (reply, map[string]any) {
	t.Helper()
	return doWith(t, b.http.URL, testToken, method, path, body)
}

func doWith(t *testing.T, base, token, method, path, body string) (reply, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	r := reply{StatusCode: resp.StatusCode, Header: resp.Header}
	if m, ok := out.(map[string]any); ok {
		return r, m
	}
	return r, map[string]any{"list": out}
}

func TestServer_Auth(t *testing.T) {
	b := setup(t)
	for name, token := range map[string]string{"no token": "", "wrong token": strings.Repeat("f", 64), "prefix of the token": testToken[:20]} {
		t.Run(name, func(t *testing.T) {
			resp, body := doWith(t, b.http.URL, token, "GET", "/v1/status", "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			require.NotContains(t, body["error"], testToken)
		})
	}
	req, err := http.NewRequest("POST", b.http.URL+"/v1/calls", strings.NewReader(`{"to":"1"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a scheme other than Bearer is refused")
	require.Empty(t, b.phone.calls, "nothing is dialled without the token")
}

func TestServer_StatusAndCalls(t *testing.T) {
	b := setup(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	b.phone.calls = []*fakeCall{{info: sip.Info{ID: "in-1", Direction: sip.Inbound, State: sip.CallIncoming, Remote: "+79161234567", Created: t0, Ringing: t0}}}

	resp, st := b.do(t, "GET", "/v1/status", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "registered", st["registration"])
	require.Equal(t, "101@127.0.0.1", st["account"])
	require.Len(t, st["calls"], 1)

	resp, list := b.do(t, "GET", "/v1/calls", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	calls := list["list"].([]any)
	require.Len(t, calls, 1)
	c := calls[0].(map[string]any)
	require.Equal(t, "in-1", c["id"])
	require.Equal(t, "inbound", c["direction"])
	require.Equal(t, "incoming", c["state"])
	require.Equal(t, "+79161234567", c["remote"])
	require.Equal(t, "2026-11-25T10:00:00Z", c["created"])
	require.NotContains(t, c, "answered", "times not reached yet are left out")
}

func TestServer_Dial(t *testing.T) {
	b := setup(t)
	resp, c := b.do(t, "POST", "/v1/calls", `{"to": "+79161234567"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "out-1", c["id"])
	require.Equal(t, "dialing", c["state"])
	require.Equal(t, "/v1/calls/out-1", resp.Header.Get("Location"))

	for name, body := range map[string]string{"not JSON": `{"to":`, "empty body": ``, "no number": `{"to": " "}`, "wrong type": `{"to": 5}`} {
		t.Run(name, func(t *testing.T) {
			resp, e := b.do(t, "POST", "/v1/calls", body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.NotEmpty(t, e["error"])
		})
	}

	b.phone.dialErr = sip.ErrNotRunning
	resp, _ = b.do(t, "POST", "/v1/calls", `{"to": "1"}`)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	b.phone.dialErr = errors.New(`"@@" is not a number or a SIP URI`)
	resp, _ = b.do(t, "POST", "/v1/calls", `{"to": "@@"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestServer_CallActions(t *testing.T) {
	b := setup(t)
	c := &fakeCall{info: sip.Info{ID: "c1", Direction: sip.Inbound, State: sip.CallIncoming}}
	b.phone.calls = []*fakeCall{c}
	tests := []struct {
		action, body string
		op           string
		state        string
		muted        bool
	}{
		{"answer", "", "answer", "active", false},
		{"hold", "", "hold", "held", false},
		{"resume", "", "resume", "active", false},
		{"mute", "", "", "active", true},
		{"unmute", "", "", "active", false},
		{"dtmf", `{"digits": "12#*"}`, "dtmf 12#*", "active", false},
		{"transfer", `{"to": "102"}`, "transfer 102", "active", false},
		{"hangup", "", "hangup", "ended", false},
	}
	for _, tt := range tests {
		resp, v := b.do(t, "POST", "/v1/calls/c1/"+tt.action, tt.body)
		require.Equal(t, http.StatusOK, resp.StatusCode, tt.action)
		require.Equal(t, tt.state, v["state"], tt.action)
		require.Equal(t, tt.muted, v["muted"], tt.action)
		if tt.op != "" {
			require.Equal(t, tt.op, c.ops[len(c.ops)-1], tt.action)
		}
	}
}

func TestServer_CallActionErrors(t *testing.T) {
	b := setup(t)
	c := &fakeCall{info: sip.Info{ID: "c1", State: sip.CallActive}}
	b.phone.calls = []*fakeCall{c}
	tests := []struct {
		name, path, body string
		err              error
		code             int
	}{
		{"unknown call", "/v1/calls/nope/hangup", "", nil, http.StatusNotFound},
		{"unknown action", "/v1/calls/c1/explode", "", nil, http.StatusNotFound},
		{"dtmf bad JSON", "/v1/calls/c1/dtmf", `{digits}`, nil, http.StatusBadRequest},
		{"dtmf no digits", "/v1/calls/c1/dtmf", `{}`, nil, http.StatusBadRequest},
		{"dtmf bad digit", "/v1/calls/c1/dtmf", `{"digits": "1x"}`, nil, http.StatusBadRequest},
		{"transfer bad JSON", "/v1/calls/c1/transfer", `[`, nil, http.StatusBadRequest},
		{"transfer nobody", "/v1/calls/c1/transfer", `{"to": ""}`, nil, http.StatusBadRequest},
		{"wrong state", "/v1/calls/c1/answer", "", sip.ErrCallState, http.StatusConflict},
		{"ended meanwhile", "/v1/calls/c1/hold", "", sip.ErrCallEnded, http.StatusConflict},
		{"far end refused", "/v1/calls/c1/hold", "", errors.New("re-INVITE: 488"), http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.err = tt.err
			resp, e := b.do(t, "POST", tt.path, tt.body)
			require.Equal(t, tt.code, resp.StatusCode)
			require.NotEmpty(t, e["error"])
		})
	}
	req, err := http.NewRequest("GET", b.http.URL+"/v1/calls/c1/hangup", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, []string{"hold"}, c.ops[len(c.ops)-1:], "a GET changes nothing")
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	Name string
	Data Event
}

// readEvents parses the stream into ch until it ends.
func readEvents(t *testing.T, resp *http.Response) <-chan sseEvent {
	t.Helper()
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data); err != nil {
					return
				}
			case line == "" && ev.Name != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return sseEvent{}
	}
}

func TestServer_EventStream(t *testing.T) {
	b := setup(t)
	req, err := http.NewRequest("GET", b.http.URL+"/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readEvents(t, resp)

	first := next(t, events)
	require.Equal(t, "status", first.Name)
	require.Equal(t, "registered", first.Data.Status.Registration)

	b.srv.RegEvent(sip.RegEvent{State: sip.RegFailed, Err: errors.New("403 Forbidden")})
	ev := next(t, events)
	require.Equal(t, "registration", ev.Name)
	require.Equal(t, "failed", ev.Data.Registration)
	require.Equal(t, "403 Forbidden", ev.Data.Error)

	call := &sip.Call{}
	b.srv.CallEvent(sip.CallEvent{Call: call, State: sip.CallEnded, Cause: sip.CauseNotFound, SIPCode: 404, Reason: "Not Found"})
	ev = next(t, events)
	require.Equal(t, "call", ev.Name)
	require.Equal(t, "ended", ev.Data.Call.State)
	require.Equal(t, sip.CauseNotFound.String(), ev.Data.Call.Cause)
	require.Equal(t, 404, ev.Data.Call.SIPCode)
	require.Equal(t, "Not Found", ev.Data.Reason)

	b.srv.DTMFEvent(sip.DTMFEvent{Call: call, Digit: '5'})
	ev = next(t, events)
	require.Equal(t, "dtmf", ev.Name)
	require.Equal(t, "5", ev.Data.Digit)

	b.srv.Close()
	select {
	case _, ok := <-events:
		require.False(t, ok, "Close ends the stream")
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end on Close")
	}
}

func TestServer_EventStreamNeedsTheToken(t *testing.T) {
	b := setup(t)
	resp, _ := doWith(t, b.http.URL, "", "GET", "/v1/events", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestNew_RefusesAShortToken(t *testing.T) {
	_, err := New(Options{Phone: &fakePhone{}, Token: "short"})
	require.Error(t, err)
	_, err = New(Options{Token: testToken})
	require.Error(t, err)
}
