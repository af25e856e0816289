package control

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/omniphone/omniphone/sip"
)

// opTimeout bounds a re-INVITE or REFER the API starts (hold, resume,
// transfer).
const opTimeout = 15 * time.Second

// maxBody bounds a request body.
const maxBody = 64 << 10

// Options configure a [Server].
type Options struct {
	Phone Phone
	// Token is the bearer token every request must carry.
	Token string
	// Account names the SIP account in the status ("101@pbx.example.com").
	Account string
	Logger  *slog.Logger
}

// Server is the control API's http.Handler and event hub.
type Server struct {
	opts Options
	mux  *http.ServeMux

	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
	done   chan struct{}
}

// New returns the API for opts; Phone and Token are required.
func New(opts Options) (*Server, error) {
	if opts.Phone == nil {
		return nil, errors.New("control: no phone")
	}
	if len(opts.Token) < 16 {
		return nil, errors.New("control: the token is missing or too short")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), subs: map[chan Event]struct{}{}, done: make(chan struct{})}
	s.mux.HandleFunc("GET /v1/status", s.status)
	s.mux.HandleFunc("GET /v1/calls", s.listCalls)
	s.mux.HandleFunc("POST /v1/calls", s.dial)
	s.mux.HandleFunc("POST /v1/calls/{id}/{action}", s.act)
	s.mux.HandleFunc("GET /v1/events", s.events)
	return s, nil
}

// ServeHTTP checks the bearer token and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="omniphone"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (see control.token in the profile directory)")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends the event streams; call it before shutting the HTTP server
// down. Events published afterwards are dropped.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
}

func (s *Server) snapshot() Status {
	calls := s.opts.Phone.Calls()
	st := Status{Registration: s.opts.Phone.RegState().String(), Account: s.opts.Account, Calls: make([]CallView, 0, len(calls))}
	for _, c := range calls {
		st.Calls = append(st.Calls, viewOfCall(c))
	}
	return st
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.snapshot())
}

func (s *Server) listCalls(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.snapshot().Calls)
}

type dialBody struct {
	To string `json:"to"`
}

func (s *Server) dial(w http.ResponseWriter, r *http.Request) {
	var body dialBody
	if !readJSON(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.To) == "" {
		writeError(w, http.StatusBadRequest, `"to" is required: a number or a SIP URI`)
		return
	}
	c, err := s.opts.Phone.Dial(body.To)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, sip.ErrNotRunning) || errors.Is(err, sip.ErrClosed) {
			code = http.StatusServiceUnavailable
		}
		writeError(w, code, err.Error())
		return
	}
	v := viewOfCall(c)
	w.Header().Set("Location", "/v1/calls/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
}

type actionBody struct {
	Digits string `json:"digits"`
	To     string `json:"to"`
}

func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	var c Call
	for _, cc := range s.opts.Phone.Calls() {
		if cc.Info().ID == id {
			c = cc
			break
		}
	}
	if c == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no current call %q", id))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	var err error
	switch action {
	case "answer":
		err = c.Answer()
	case "hangup":
		err = c.Hangup()
	case "hold":
		err = c.Hold(ctx)
	case "resume":
		err = c.Resume(ctx)
	case "mute", "unmute":
		c.SetMuted(action == "mute")
	case "dtmf":
		var body actionBody
		if !readJSON(w, r, &body) {
			return
		}
		if !validDigits(body.Digits) {
			writeError(w, http.StatusBadRequest, `"digits" must be one or more of 0-9 * # A-D`)
			return
		}
		err = c.SendDTMF(body.Digits)
	case "transfer":
		var body actionBody
		if !readJSON(w, r, &body) {
			return
		}
		if strings.TrimSpace(body.To) == "" {
			writeError(w, http.StatusBadRequest, `"to" is required: a number or a SIP URI`)
			return
		}
		err = c.Transfer(ctx, body.To)
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown action %q (answer, hangup, hold, resume, mute, unmute, dtmf, transfer)", action))
		return
	}
	if err != nil {
		code := http.StatusBadGateway // the far end or the proxy refused
		switch {
		case errors.Is(err, sip.ErrCallState), errors.Is(err, sip.ErrCallEnded):
			code = http.StatusConflict
		case errors.Is(err, sip.ErrNotRunning), errors.Is(err, sip.ErrClosed):
			code = http.StatusServiceUnavailable
		}
		writeError(w, code, fmt.Sprintf("%s: %v", action, err))
		return
	}
	writeJSON(w, http.StatusOK, viewOfCall(c))
}

func validDigits(d string) bool {
	if d == "" {
		return false
	}
	for _, r := range d {
		if !strings.ContainsRune("0123456789*#ABCDabcd", r) {
			return false
		}
	}
	return true
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		msg := "the body must be a JSON object: " + err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the body must be a JSON object; it is empty"
		}
		writeError(w, http.StatusBadRequest, msg)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}
