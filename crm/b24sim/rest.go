package b24sim

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const maxBody = 64 << 20

// method is one REST method of the portal.
type method struct {
	name     string
	fn       func(c *call) (reply, error)
	appOnly  bool // OAuth only: WRONG_AUTH_TYPE for webhooks
	strict   bool // OAuth only when Options.StrictDocs
	noBatch  bool
	unlocked bool // runs without the state lock (batch)
}

// call is the context of one method execution.
type call struct {
	s      *Server
	st     *State
	r      *http.Request
	name   string
	params *Arr
	auth   authInfo
	start  int
	files  map[string][]*multipart.FileHeader
	depth  int
}

func (s *Server) telephonyErr(desc string) *Error {
	code := "ERROR_CORE"
	if s.opts.EmptyTelephonyErrorCode {
		code = ""
	}
	return newErr(400, code, desc)
}

// parsePath splits a /rest/ path into webhook credentials and the method
// name (lower-cased, suffix stripped).
func parsePath(p string) (webhook bool, uid int, code, name, suffix string) {
	p = strings.TrimPrefix(p, "/rest/")
	segs := strings.Split(p, "/")
	if len(segs) > 0 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	if len(segs) >= 3 {
		if n, err := strconv.Atoi(segs[0]); err == nil && n > 0 {
			webhook, uid, code = true, n, segs[1]
			segs = segs[2:]
		}
	}
	if len(segs) != 1 {
		return webhook, uid, code, "", ""
	}
	name = strings.ToLower(segs[0])
	switch {
	case strings.HasSuffix(name, ".json"):
		name = strings.TrimSuffix(name, ".json")
	case strings.HasSuffix(name, ".xml"):
		name, suffix = strings.TrimSuffix(name, ".xml"), "xml"
	}
	return webhook, uid, code, name, suffix
}

func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	return b
}

// requestParams merges query and body parameters of r.
func requestParams(r *http.Request) (*Arr, map[string][]*multipart.FileHeader) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if r.Method == http.MethodPost && mt == "multipart/form-data" {
		p := ParseForm(r.URL.RawQuery)
		if err := r.ParseMultipartForm(maxBody); err != nil || r.MultipartForm == nil {
			return p, nil
		}
		for _, k := range sortedKeys(r.MultipartForm.Value) {
			for _, v := range r.MultipartForm.Value[k] {
				SetPHPKey(p, k, v)
			}
		}
		return p, r.MultipartForm.File
	}
	return ParseParams(r.Method, ct, r.URL.RawQuery, readBody(r)), nil
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	wall := time.Now()
	start := s.now()
	s.lastBase.Store(s.baseURL(r))
	webhook, uid, code, name, suffix := parsePath(r.URL.Path)
	params, files := requestParams(r)
	entry := logEntry{Time: start, HTTPMethod: r.Method, Method: name}
	if webhook {
		entry.Auth = authWebhook
	} else {
		entry.Auth = authOAuth
	}
	finish := func(status int, e *Error) {
		entry.Status = status
		if e != nil {
			entry.Error = e.Code
			if entry.Error == "" {
				entry.Error = e.Description
			}
		}
		entry.DurationUS = time.Since(wall).Microseconds()
		s.reqlog.add(start, entry)
	}
	fail := func(e *Error) {
		finish(e.Status, e)
		writeError(w, e)
	}
	f := s.faults.take(name)
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
		case <-s.closeCtx.Done():
		}
	}
	switch f.kind {
	case faultTimeout:
		entry.Fault = "timeout"
		finish(0, nil)
		s.hang(w, r, f.timeout)
		return
	case fault503:
		entry.Fault = "503"
		fail(errQueryLimit)
		return
	case fault500:
		entry.Fault = "500"
		fail(errInternal)
		return
	}
	if suffix != "" {
		fail(errWrongTransport)
		return
	}
	if name == "upload" {
		rep, err := s.upload(r, params, files)
		if err != nil {
			fail(asError(err))
			return
		}
		finish(200, nil)
		writeBody(w, 200, envelope(rep, timing{}, s.loc))
		return
	}
	auth, aerr := s.authenticate(r, webhook, uid, code, params)
	if aerr != nil {
		fail(aerr)
		return
	}
	params.Delete("auth")
	params.Delete("access_token")
	m := s.methods[name]
	if m == nil {
		fail(errMethodNotFound)
		return
	}
	if !s.hasScope(scopeOf(name)) {
		desc := "The request requires higher privileges than provided by the access token"
		if auth.kind == authWebhook {
			desc = "The request requires higher privileges than provided by the webhook token"
		}
		fail(newErr(s.authStatus(), "insufficient_scope", desc))
		return
	}
	if auth.kind == authWebhook && (m.appOnly || (m.strict && s.opts.StrictDocs)) {
		fail(errWrongAuthType)
		return
	}
	if !s.limiter.allow(s.now()) {
		fail(errQueryLimit)
		return
	}
	c := &call{s: s, r: r, name: name, params: params, auth: auth, files: files}
	rep, t, err := s.execute(m, c)
	if err != nil {
		fail(asError(err))
		return
	}
	if name == "batch" {
		entry.Commands = c.batchNames()
	}
	if f.kind == faultDrop {
		entry.Fault = "drop"
		finish(0, nil)
		dropConn(w)
		return
	}
	finish(200, nil)
	t.start = start
	writeBody(w, 200, envelope(rep, t, s.loc))
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: 500, Code: "ERROR_CORE", Description: err.Error()}
}

// execute runs m with the operating-time limiter and the state lock. It is
// used for top-level calls and for each batch command.
func (s *Server) execute(m *method, c *call) (reply, timing, error) {
	var t timing
	t.start = s.now()
	opKey := c.auth.identity() + "|" + m.name
	countOp := m.name != "batch"
	if countOp && s.limiter.blocked(opKey, t.start) {
		return reply{}, t, errOperationLimit
	}
	if v, ok := c.params.Get("start"); ok {
		c.start = phpInt(v)
		c.params.Delete("start")
	}
	wall := time.Now()
	var rep reply
	var err error
	func() {
		if !m.unlocked {
			s.mu.Lock()
			defer s.mu.Unlock()
			held := time.Now()
			defer func() { s.reqlog.addLocked(time.Since(held)) }()
			c.st = s.st
		}
		defer func() {
			if v := recover(); v != nil {
				err = errInternal
			}
		}()
		rep, err = m.fn(c)
	}()
	t.processing = time.Since(wall)
	t.finish = s.now()
	if countOp {
		s.limiter.spend(opKey, t.finish, t.processing+s.opts.MethodCost[m.name])
	}
	if s.limiter.operatingActive() {
		used, reset := s.limiter.operatingUsed(opKey, t.finish)
		t.hasOperating, t.operating, t.resetAt = true, used.Seconds(), reset
	}
	return rep, t, err
}

// hang holds a request until the client gives up, the server closes or d
// passes, then drops the connection without an answer.
func (s *Server) hang(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if d <= 0 {
		d = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-s.closeCtx.Done():
	}
	dropConn(w)
}

// dropConn closes the client connection without writing a response.
func dropConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
