package b24sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ClickToCallRequest is the body of POST /_sim/click-to-call: a user clicks
// a phone number in the CRM.
type ClickToCallRequest struct {
	UserID        int    `json:"user_id"`
	Phone         string `json:"phone"`
	LineNumber    string `json:"line_number,omitempty"`
	CRMEntityType string `json:"crm_entity_type,omitempty"`
	CRMEntityID   int    `json:"crm_entity_id,omitempty"`
}

// CallbackRequest is the body of POST /_sim/callback: a visitor fills in a
// CRM callback form.
type CallbackRequest struct {
	Phone         string `json:"phone"`
	Text          string `json:"text,omitempty"`
	Voice         string `json:"voice,omitempty"`
	LineNumber    string `json:"line_number,omitempty"`
	CRMEntityType string `json:"crm_entity_type,omitempty"`
	CRMEntityID   int    `json:"crm_entity_id,omitempty"`
}

// TriggeredEvent reports what a user-action trigger produced.
type TriggeredEvent struct {
	Event    string         `json:"event"`
	AppID    string         `json:"app_id"`
	CallID   string         `json:"call_id,omitempty"`
	Data     map[string]any `json:"data"`
	Register obj            `json:"register,omitempty"`
}

// ErrNoHandler means no application has bound the event a trigger needs.
var ErrNoHandler = errors.New("no application has bound the event")

func (st *State) appFor(event string) (string, bool) {
	for _, h := range st.Handlers {
		if h.Event == event {
			return h.AppID, true
		}
	}
	return "", false
}

func internationalNumber(phone string) string {
	n, _ := NormalizePhone(phone, 1)
	n = keepChars(n, "0123456789")
	if n == "" {
		return phone
	}
	return "+" + n
}

// ClickToCall simulates a click on a phone number: Bitrix registers an
// outgoing call itself (CRM_CREATE from the line's CRM_AUTO_CREATE, default
// Y) and sends ONEXTERNALCALLSTART with the pre-registered CALL_ID to the
// application owning the line.
func (s *Server) ClickToCall(req ClickToCallRequest) (TriggeredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	u := st.user(req.UserID)
	if u == nil || !u.Active {
		return TriggeredEvent{}, fmt.Errorf("click-to-call: user %d is not found or is not active", req.UserID)
	}
	phone := strings.TrimSpace(req.Phone)
	if phone == "" {
		return TriggeredEvent{}, errors.New("click-to-call: phone is empty")
	}
	app, ok := st.appFor("ONEXTERNALCALLSTART")
	if !ok {
		return TriggeredEvent{}, fmt.Errorf("click-to-call: ONEXTERNALCALLSTART: %w", ErrNoHandler)
	}
	var line *Line
	if req.LineNumber != "" {
		line = st.line(app, req.LineNumber)
		if line == nil {
			return TriggeredEvent{}, fmt.Errorf("click-to-call: line %q of the application is not found", req.LineNumber)
		}
	} else {
		for i := range st.Lines {
			if st.Lines[i].AppID == app {
				line = &st.Lines[i]
				break
			}
		}
	}
	crmCreate, lineNumber := true, ""
	if line != nil {
		crmCreate, lineNumber = line.CRMAutoCreate, line.Number
	}
	cl, res := s.registerCall(st, regParams{
		appID: app, userID: u.ID, phoneRaw: phone, typ: callTypeOutgoing, start: s.now(), crmCreate: crmCreate,
		entityType: strings.ToUpper(req.CRMEntityType), entityID: req.CRMEntityID, show: true, line: lineNumber,
	})
	data := map[string]any{
		"PHONE_NUMBER": phone, "PHONE_NUMBER_INTERNATIONAL": internationalNumber(phone), "EXTENSION": "",
		"USER_ID": u.ID, "CALL_LIST_ID": 0, "LINE_NUMBER": lineNumber, "IS_MOBILE": false, "CALL_ID": cl.CallID,
		"CRM_ENTITY_TYPE": cl.CRMEntityType, "CRM_ENTITY_ID": cl.CRMEntityID,
	}
	if cl.CreatedLead > 0 {
		data["CRM_CREATED_LEAD"] = cl.CreatedLead
	}
	if len(cl.CreatedEntities) > 0 {
		var list []any
		for _, r := range cl.CreatedEntities {
			list = append(list, map[string]any{"ENTITY_TYPE": r.EntityType, "ENTITY_ID": r.EntityID})
		}
		data["CRM_CREATED_ENTITIES"] = list
	}
	s.emit(st, "ONEXTERNALCALLSTART", data, emitOpts{onlyApp: app, userID: u.ID})
	return TriggeredEvent{Event: "ONEXTERNALCALLSTART", AppID: app, CallID: cl.CallID, Data: data, Register: res}, nil
}

// Callback simulates a CRM callback form: ONEXTERNALCALLBACKSTART without a
// CALL_ID goes to the application that bound it.
func (s *Server) Callback(req CallbackRequest) (TriggeredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	phone := strings.TrimSpace(req.Phone)
	if phone == "" {
		return TriggeredEvent{}, errors.New("callback: phone is empty")
	}
	app, ok := st.appFor("ONEXTERNALCALLBACKSTART")
	if !ok {
		return TriggeredEvent{}, fmt.Errorf("callback: ONEXTERNALCALLBACKSTART: %w", ErrNoHandler)
	}
	et, eid := strings.ToUpper(req.CRMEntityType), req.CRMEntityID
	if et == "" {
		et, eid = st.primaryByPhone(phone)
	}
	voice := req.Voice
	if voice == "" {
		voice = "ruinternalfemale"
	}
	data := map[string]any{"PHONE_NUMBER": phone, "TEXT": req.Text, "VOICE": voice, "CRM_ENTITY_TYPE": et,
		"CRM_ENTITY_ID": eid, "LINE_NUMBER": req.LineNumber}
	s.emit(st, "ONEXTERNALCALLBACKSTART", data, emitOpts{onlyApp: app})
	return TriggeredEvent{Event: "ONEXTERNALCALLBACKSTART", AppID: app, Data: data}, nil
}

// IssueToken mints an OAuth token pair for userID directly (test helper;
// also POST /_sim/oauth/token).
func (s *Server) IssueToken(userID int) (access, refresh string, err error) {
	if s.opts.ClientID == "" {
		return "", "", errors.New("issue token: no oauth app configured")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.user(userID) == nil {
		return "", "", fmt.Errorf("issue token: user %d not found", userID)
	}
	t := s.issueToken(userID)
	return t.Access, t.Refresh, nil
}

// IssueCode returns a 30-second OAuth authorization code for userID.
func (s *Server) IssueCode(userID int) string { return s.issueCode(userID) }

// Snapshot returns a deep copy of the portal state.
func (s *Server) Snapshot() (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// SetFaults replaces the fault configuration and applies its immediate
// actions (token revocation / expiry).
func (s *Server) SetFaults(c FaultConfig) {
	if c.RevokeTokens || c.RevokeToken != "" || c.ExpireTokens {
		s.mu.Lock()
		for _, t := range s.st.Tokens {
			if c.RevokeTokens || t.Access == c.RevokeToken || t.Refresh == c.RevokeToken {
				t.AccessRevoked, t.RefreshUsed = true, true
			}
			if c.ExpireTokens {
				t.Expires = s.now().Add(-1)
			}
		}
		s.mu.Unlock()
	}
	s.faults.set(c)
}

func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "the /_sim/ admin surface is loopback only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func adminErr(w http.ResponseWriter, status int, err error) {
	writeBody(w, status, obj{"error": "SIM_ERROR", "error_description": err.Error()})
}

func isFormPost(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reset(); err != nil {
			adminErr(w, 500, err)
			return
		}
		writeBody(w, 200, obj{"result": true})
	})
	mux.HandleFunc("GET /_sim/state", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeBody(w, 200, s.st)
	})
	mux.HandleFunc("GET /_sim/requests", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, s.reqlog.snapshot())
	})
	mux.HandleFunc("DELETE /_sim/requests", func(w http.ResponseWriter, r *http.Request) {
		s.reqlog.reset()
		writeBody(w, 200, obj{"result": true})
	})
	mux.HandleFunc("POST /_sim/seed", func(w http.ResponseWriter, r *http.Request) {
		var sd Seed
		if err := json.Unmarshal(readBody(r), &sd); err != nil {
			adminErr(w, 400, fmt.Errorf("decode seed: %w", err))
			return
		}
		s.mu.Lock()
		err := s.applySeed(s.st, &sd)
		s.mu.Unlock()
		if err != nil {
			adminErr(w, 400, err)
			return
		}
		writeBody(w, 200, obj{"result": true})
	})
	mux.HandleFunc("POST /_sim/click-to-call", func(w http.ResponseWriter, r *http.Request) {
		p, _ := requestParams(r)
		req := ClickToCallRequest{
			UserID: phpInt(valueOr(p, "user_id")), Phone: phpString(valueOr(p, "phone")),
			LineNumber: phpString(valueOr(p, "line_number")), CRMEntityType: phpString(valueOr(p, "crm_entity_type")),
			CRMEntityID: phpInt(valueOr(p, "crm_entity_id")),
		}
		ev, err := s.ClickToCall(req)
		s.adminReply(w, r, ev, err, "Звонок "+req.Phone)
	})
	mux.HandleFunc("POST /_sim/callback", func(w http.ResponseWriter, r *http.Request) {
		p, _ := requestParams(r)
		req := CallbackRequest{
			Phone: phpString(valueOr(p, "phone")), Text: phpString(valueOr(p, "text")), Voice: phpString(valueOr(p, "voice")),
			LineNumber: phpString(valueOr(p, "line_number")), CRMEntityType: phpString(valueOr(p, "crm_entity_type")),
			CRMEntityID: phpInt(valueOr(p, "crm_entity_id")),
		}
		ev, err := s.Callback(req)
		s.adminReply(w, r, ev, err, "Обратный звонок "+req.Phone)
	})
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, s.faults.get())
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var c FaultConfig
		if err := json.Unmarshal(readBody(r), &c); err != nil {
			adminErr(w, 400, fmt.Errorf("decode faults: %w", err))
			return
		}
		s.SetFaults(c)
		writeBody(w, 200, s.faults.get())
	})
	mux.HandleFunc("POST /_sim/oauth/code", func(w http.ResponseWriter, r *http.Request) {
		p, _ := requestParams(r)
		uid := phpInt(valueOr(p, "user_id"))
		if uid == 0 {
			uid = 1
		}
		writeBody(w, 200, obj{"code": s.IssueCode(uid)})
	})
	mux.HandleFunc("POST /_sim/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		p, _ := requestParams(r)
		uid := phpInt(valueOr(p, "user_id"))
		if uid == 0 {
			uid = 1
		}
		if s.opts.ClientID == "" {
			adminErr(w, 400, errors.New("no oauth app configured"))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st.user(uid) == nil {
			adminErr(w, 400, fmt.Errorf("user %d not found", uid))
			return
		}
		writeBody(w, 200, s.tokenResponse(r, s.issueToken(uid)))
	})
	return mux
}

// adminReply answers JSON, or redirects back to the portal page for HTML
// form posts.
func (s *Server) adminReply(w http.ResponseWriter, r *http.Request, ev TriggeredEvent, err error, label string) {
	if isFormPost(r) {
		msg := label + ": " + ev.Event + " " + ev.CallID
		if err != nil {
			msg = err.Error()
		}
		http.Redirect(w, r, "/?msg="+urlQueryEscape(msg)+"&user_id="+strconv.Itoa(phpInt(r.PostFormValue("user_id"))), http.StatusSeeOther)
		return
	}
	if err != nil {
		status := 400
		if errors.Is(err, ErrNoHandler) {
			status = 409
		}
		adminErr(w, status, err)
		return
	}
	writeBody(w, 200, ev)
}
