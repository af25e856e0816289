package b24sim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var knownEvents = func() map[string]string {
	m := map[string]string{
		"ONEXTERNALCALLSTART": "telephony", "ONEXTERNALCALLBACKSTART": "telephony",
		"ONVOXIMPLANTCALLINIT": "telephony", "ONVOXIMPLANTCALLSTART": "telephony", "ONVOXIMPLANTCALLEND": "telephony",
		"ONOFFLINEEVENT": "", "ONAPPINSTALL": "", "ONAPPUNINSTALL": "",
	}
	for _, t := range []string{"LEAD", "DEAL", "CONTACT", "COMPANY", "ACTIVITY"} {
		for _, op := range []string{"ADD", "UPDATE", "DELETE"} {
			m["ONCRM"+t+op] = "crm"
		}
	}
	return m
}()

// emitOpts describe who triggered an event and who may receive it.
type emitOpts struct {
	onlyApp            string
	userID             int
	hasInitiator       bool
	initiatorApp       string
	initiatorConnector string
}

func crmEventData(id int) map[string]any {
	return map[string]any{"FIELDS": map[string]any{"ID": id}}
}

func (c *call) emitCRM(event string, id int) {
	c.s.emit(c.st, event, crmEventData(id), emitOpts{
		userID: c.auth.userID, hasInitiator: c.auth.kind == authOAuth,
		initiatorApp: c.auth.appID, initiatorConnector: c.auth.connector,
	})
}

// emit queues event for every matching binding: offline rows go to the
// queue, online handlers get a form-encoded POST. s.mu must be held.
func (s *Server) emit(st *State, event string, data map[string]any, o emitOpts) {
	for _, h := range st.Handlers {
		if h.Event != event || (o.onlyApp != "" && h.AppID != o.onlyApp) {
			continue
		}
		if h.Offline {
			if o.hasInitiator && h.AppID == o.initiatorApp && h.Connector == o.initiatorConnector {
				continue // "Event skipped because initializer is current application"
			}
			s.queueOffline(st, h, event, data, o.userID)
			continue
		}
		s.queueOnline(st, h, event, data, o.userID)
	}
}

func (s *Server) queueOffline(st *State, h Handler, event string, data map[string]any, userID int) {
	now := s.now()
	if strings.HasPrefix(event, "ONCRM") {
		// One row per object: the latest state replaces an unreserved row.
		id := fmt.Sprint(data["FIELDS"].(map[string]any)["ID"])
		for _, r := range st.Offline {
			if r.AppID == h.AppID && r.Connector == h.Connector && r.EventName == event && r.ProcessID == "" {
				if f, ok := r.Data["FIELDS"].(map[string]any); ok && fmt.Sprint(f["ID"]) == id {
					r.Timestamp = now
					return
				}
			}
		}
	}
	id := st.nextID("offline")
	sum := md5.Sum([]byte(fmt.Sprintf("%s|%d|%d|%s", event, id, now.UnixNano(), randomHex(4))))
	st.Offline = append(st.Offline, &OfflineEvent{
		ID: id, AppID: h.AppID, Connector: h.Connector, Timestamp: now, EventName: event, Data: data,
		Additional: map[string]any{"user_id": strconv.Itoa(userID)}, MessageID: hex.EncodeToString(sum[:]),
	})
}

// flattenForm renders v as PHP bracket form fields with string values.
func flattenForm(prefix string, v any, out url.Values) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			flattenForm(prefix+"["+k+"]", t[k], out)
		}
	case obj:
		flattenForm(prefix, map[string]any(t), out)
	case []any:
		for i, x := range t {
			flattenForm(prefix+"["+strconv.Itoa(i)+"]", x, out)
		}
	case []Ref:
		for i, r := range t {
			flattenForm(prefix+"["+strconv.Itoa(i)+"]", map[string]any{"ENTITY_TYPE": r.EntityType, "ENTITY_ID": r.EntityID}, out)
		}
	case nil:
		// PHP form encoding drops nulls.
	case bool:
		if t {
			out.Add(prefix, "1")
		} else {
			out.Add(prefix, "0")
		}
	default:
		out.Add(prefix, phpString(v))
	}
}

type delivery struct {
	url       string
	body      string
	event     string
	handlerID int
}

// outbox is the online delivery queue, drained by deliverLoop.
type outbox struct {
	mu     sync.Mutex
	items  []delivery
	notify chan struct{}
}

func newOutbox() *outbox { return &outbox{notify: make(chan struct{}, 1)} }

func (o *outbox) push(d delivery) {
	o.mu.Lock()
	o.items = append(o.items, d)
	o.mu.Unlock()
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

func (o *outbox) drain() []delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.items
	o.items = nil
	return out
}

func (s *Server) queueOnline(st *State, h Handler, event string, data map[string]any, userID int) {
	uid := h.AuthType
	if uid == 0 {
		uid = userID
	}
	if uid == 0 {
		uid = h.UserID
	}
	form := url.Values{}
	form.Set("event", event)
	form.Set("event_handler_id", strconv.Itoa(h.ID))
	flattenForm("data", data, form)
	form.Set("ts", strconv.FormatInt(s.now().Unix(), 10))
	base := s.publicBase()
	auth := map[string]any{
		"domain": strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://"), "client_endpoint": base + "/rest/",
		"server_endpoint": base + "/oauth/rest/", "member_id": st.MemberID, "application_token": st.ApplicationToken,
	}
	if s.opts.ClientID != "" && uid > 0 {
		t := s.issueToken(uid)
		auth["access_token"] = t.Access
		auth["expires"] = t.Expires.Unix()
		auth["expires_in"] = int(s.opts.TokenTTL / time.Second)
		auth["scope"] = strings.Join(s.opts.Scopes, ",")
		auth["status"] = "L"
		auth["user_id"] = uid
	}
	flattenForm("auth", auth, form)
	s.outbox.push(delivery{url: h.URL, body: form.Encode(), event: event, handlerID: h.ID})
}

func (s *Server) publicBase() string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	if v, ok := s.lastBase.Load().(string); ok && v != "" {
		return v
	}
	return "http://127.0.0.1"
}

func loopbackClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func contextWithTimeout(s *Server, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.closeCtx, d)
}

// deliverLoop POSTs queued online events until ctx ends. Only loopback
// handlers are contacted; others are recorded as not delivered.
func (s *Server) deliverLoop(ctx context.Context) {
	client := loopbackClient()
	client.Timeout = s.opts.DeliveryTimeout
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.outbox.notify:
		}
		for _, d := range s.outbox.drain() {
			rec := Delivery{Time: s.now(), Event: d.event, URL: d.url, HandlerID: d.handlerID}
			u, err := url.Parse(d.url)
			switch {
			case err != nil || !isLoopbackHost(u.Hostname()):
				rec.Error = "not delivered: the simulator only posts to loopback handlers"
			default:
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewBufferString(d.body))
				if err != nil {
					rec.Error = err.Error()
					break
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					rec.Error = err.Error()
					break
				}
				rec.Status = resp.StatusCode
				_ = resp.Body.Close()
			}
			s.mu.Lock()
			s.st.Deliveries = append(s.st.Deliveries, rec)
			if n := len(s.st.Deliveries); n > 500 {
				s.st.Deliveries = append([]Delivery(nil), s.st.Deliveries[n-500:]...)
			}
			s.mu.Unlock()
		}
	}
}

// ---- event.* methods ----

func eventMethods(m map[string]*method) {
	app := func(x *method) { x.appOnly = true }
	regOpt(m, "event.bind", (*call).eventBind, app)
	regOpt(m, "event.unbind", (*call).eventUnbind, app)
	regOpt(m, "event.get", (*call).eventGet, app)
	regOpt(m, "event.offline.get", (*call).offlineGet, app)
	regOpt(m, "event.offline.clear", (*call).offlineClear, app)
	regOpt(m, "event.offline.error", (*call).offlineError, app)
	regOpt(m, "event.offline.list", (*call).offlineList, app)
}

func (c *call) isAdmin() bool {
	u := c.st.user(c.auth.userID)
	return u != nil && u.Admin
}

func (c *call) eventBind() (reply, error) {
	p := lowerKeys(c.params)
	ev := strings.ToUpper(strings.TrimSpace(phpString(valueOr(p, "event"))))
	if ev == "" {
		return reply{}, argErr("EVENT")
	}
	scope, ok := knownEvents[ev]
	if !ok || !c.s.hasScope(scope) {
		return reply{}, newErr(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
	}
	et := strings.ToLower(phpString(valueOr(p, "event_type")))
	if et != "" && et != "online" && et != "offline" {
		return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be one of {online|offline}", Argument: "EVENT_TYPE"}
	}
	authType := phpInt(valueOr(p, "auth_type"))
	if authType != 0 && authType != c.auth.userID && !c.isAdmin() {
		return reply{}, newErr(403, "ACCESS_DENIED", "Access denied! Event binding with AUTH_TYPE requires administrator access rights")
	}
	h := Handler{AppID: c.auth.appID, Event: ev, AuthType: authType, UserID: c.auth.userID}
	if et == "offline" {
		if ev == "ONOFFLINEEVENT" {
			return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Offline event cannot be registered for this event.", Argument: "EVENT_TYPE"}
		}
		if !c.isAdmin() {
			return reply{}, newErr(403, "ACCESS_DENIED", "Access denied! Offline events binding requires administrator access rights")
		}
		h.Offline = true
		h.Connector = phpString(valueOr(p, "auth_connector"))
	} else {
		hu := strings.TrimSpace(phpString(valueOr(p, "handler")))
		if hu == "" {
			return reply{}, argErr("HANDLER")
		}
		u, err := url.Parse(hu)
		if err != nil || u.Host == "" {
			return reply{}, newErr(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return reply{}, newErr(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol")
		}
		if !strings.Contains(u.Hostname(), ".") {
			return reply{}, newErr(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
		}
		h.URL = hu
	}
	for _, x := range c.st.Handlers {
		if x.AppID == h.AppID && x.Event == h.Event && x.Offline == h.Offline && x.URL == h.URL && x.Connector == h.Connector && x.AuthType == h.AuthType {
			return reply{}, newErr(400, "ERROR_CORE", "Unable to set event handler: Handler already binded")
		}
	}
	h.ID = c.st.nextID("handler")
	c.st.Handlers = append(c.st.Handlers, h)
	return reply{result: true}, nil
}

func (c *call) eventUnbind() (reply, error) {
	p := lowerKeys(c.params)
	ev := strings.ToUpper(strings.TrimSpace(phpString(valueOr(p, "event"))))
	if ev == "" {
		return reply{}, argErr("EVENT")
	}
	offline := strings.EqualFold(phpString(valueOr(p, "event_type")), "offline")
	hu := phpString(valueOr(p, "handler"))
	if !offline && hu == "" {
		return reply{}, argErr("HANDLER")
	}
	_, hasAuthType := p.Get("auth_type")
	authType := phpInt(valueOr(p, "auth_type"))
	n := 0
	kept := c.st.Handlers[:0]
	for _, h := range c.st.Handlers {
		match := h.AppID == c.auth.appID && h.Event == ev && h.Offline == offline && (offline || h.URL == hu) &&
			(!hasAuthType || h.AuthType == authType)
		if match {
			n++
			continue
		}
		kept = append(kept, h)
	}
	c.st.Handlers = kept
	return reply{result: obj{"count": n}}, nil
}

func (c *call) eventGet() (reply, error) {
	out := []any{}
	admin := c.isAdmin()
	for _, h := range c.st.Handlers {
		if h.AppID != c.auth.appID || (!admin && h.UserID != c.auth.userID) {
			continue
		}
		if h.Offline {
			out = append(out, obj{"event": h.Event, "connector_id": h.Connector, "offline": 1})
		} else {
			out = append(out, obj{"event": h.Event, "handler": h.URL, "auth_type": strconv.Itoa(h.AuthType), "offline": 0})
		}
	}
	return reply{result: out}, nil
}

func (c *call) offlineRow(r *OfflineEvent, extended bool) obj {
	o := obj{
		"ID": strconv.Itoa(r.ID), "TIMESTAMP_X": r.Timestamp.In(c.s.loc).Format(time.RFC3339), "EVENT_NAME": r.EventName,
		"EVENT_DATA": jsonReady(r.Data), "EVENT_ADDITIONAL": jsonReady(r.Additional), "MESSAGE_ID": r.MessageID,
	}
	if extended {
		o["PROCESS_ID"] = r.ProcessID
		o["ERROR"] = map[bool]string{true: "1", false: "0"}[r.Error]
	}
	return o
}

// jsonReady turns stored maps into obj so empty ones encode as [].
func jsonReady(v any) any {
	switch t := v.(type) {
	case map[string]any:
		o := obj{}
		for k, x := range t {
			o[k] = jsonReady(x)
		}
		return o
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonReady(x)
		}
		return out
	}
	return v
}

func offlineGetter(r *OfflineEvent, loc *time.Location) getter {
	return func(f string) ([]string, bool) {
		switch f {
		case "ID":
			return []string{strconv.Itoa(r.ID)}, false
		case "TIMESTAMP_X":
			return []string{r.Timestamp.In(loc).Format(time.RFC3339)}, true
		case "EVENT_NAME":
			return []string{r.EventName}, false
		case "MESSAGE_ID":
			return []string{r.MessageID}, false
		case "PROCESS_ID":
			return []string{r.ProcessID}, false
		case "ERROR":
			return []string{map[bool]string{true: "1", false: "0"}[r.Error]}, false
		}
		return nil, false
	}
}

func (c *call) requireAdmin() *Error {
	if !c.isAdmin() {
		return newErr(403, "ACCESS_DENIED", "Access denied!")
	}
	return nil
}

func (c *call) offlineGet() (reply, error) {
	if err := c.requireAdmin(); err != nil {
		return reply{}, err
	}
	p := lowerKeys(c.params)
	limit := 50
	if v, ok := p.Get("limit"); ok {
		limit = phpInt(v)
		if limit <= 0 {
			return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be positive integer", Argument: "LIMIT"}
		}
	}
	clear := true
	if v, ok := p.Get("clear"); ok {
		clear = phpInt(v) != 0
	}
	processID := phpString(valueOr(p, "process_id"))
	wantErr := phpInt(valueOr(p, "error")) != 0
	connector := phpString(valueOr(p, "auth_connector"))
	var conds []cond
	if f, ok := p.Get("filter"); ok {
		if a, isArr := f.(*Arr); isArr {
			conds = parseFilter(a)
		}
	}
	var rows []*OfflineEvent
	for _, r := range c.st.Offline {
		if r.AppID != c.auth.appID || r.Connector != connector || r.Error != wantErr {
			continue
		}
		if processID != "" && r.ProcessID != processID {
			continue
		}
		if processID == "" && !wantErr && r.ProcessID != "" {
			continue
		}
		if !matchAll(conds, offlineGetter(r, c.s.loc), c.s.loc) {
			continue
		}
		rows = append(rows, r)
	}
	ord := []orderBy{{field: "TIMESTAMP_X"}}
	if o, ok := p.Get("order"); ok {
		if a, isArr := o.(*Arr); isArr && a.Len() > 0 {
			ord = parseOrder(a)
		}
	}
	sortRows(rows, ord, func(r *OfflineEvent, f string) (string, bool) {
		v, d := offlineGetter(r, c.s.loc)(f)
		if len(v) == 0 {
			return "", d
		}
		return v[0], d
	}, c.s.loc)
	if len(rows) > limit {
		rows = rows[:limit]
	}
	events := make([]any, 0, len(rows))
	for _, r := range rows {
		events = append(events, c.offlineRow(r, false))
	}
	var pid any
	if clear {
		drop := map[*OfflineEvent]bool{}
		for _, r := range rows {
			drop[r] = true
		}
		kept := c.st.Offline[:0]
		for _, r := range c.st.Offline {
			if !drop[r] {
				kept = append(kept, r)
			}
		}
		c.st.Offline = kept
	} else {
		if processID == "" && len(rows) > 0 {
			fresh := randomHex(16)
			for _, r := range rows {
				if r.ProcessID == "" {
					r.ProcessID, processID = fresh, fresh
				}
			}
			if processID == "" { // error rows keep their reservation
				processID = rows[0].ProcessID
			}
		}
		if processID != "" {
			pid = processID
		}
	}
	return reply{result: obj{"process_id": pid, "events": events}}, nil
}

func (c *call) offlineClear() (reply, error) {
	if err := c.requireAdmin(); err != nil {
		return reply{}, err
	}
	p := lowerKeys(c.params)
	pid := phpString(valueOr(p, "process_id"))
	if pid == "" {
		return reply{}, argErr("PROCESS_ID")
	}
	ids := map[int]bool{}
	msgs := map[string]bool{}
	if v, ok := p.Get("id"); ok {
		a, isArr := v.(*Arr)
		if !isArr {
			return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be array of integers", Argument: "ID"}
		}
		for _, x := range a.Values() {
			n := phpInt(x)
			if n <= 0 {
				return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be array of integers", Argument: "ID"}
			}
			ids[n] = true
		}
	} else if v, ok := p.Get("message_id"); ok {
		a, isArr := v.(*Arr)
		if !isArr {
			return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be array of MESSAGE_ID values", Argument: "MESSAGE_ID"}
		}
		for _, x := range a.Values() {
			s := phpString(x)
			if len(s) != 32 {
				return reply{}, &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: "Value must be array of MESSAGE_ID values", Argument: "MESSAGE_ID"}
			}
			msgs[s] = true
		}
	}
	kept := c.st.Offline[:0]
	for _, r := range c.st.Offline {
		match := r.AppID == c.auth.appID && r.ProcessID == pid &&
			(len(ids) == 0 || ids[r.ID]) && (len(msgs) == 0 || msgs[r.MessageID])
		if !match {
			kept = append(kept, r)
		}
	}
	c.st.Offline = kept
	return reply{result: true}, nil
}

func (c *call) offlineError() (reply, error) {
	if err := c.requireAdmin(); err != nil {
		return reply{}, err
	}
	p := lowerKeys(c.params)
	pid := phpString(valueOr(p, "process_id"))
	if pid == "" {
		return reply{}, argErr("PROCESS_ID")
	}
	v, ok := p.Get("message_id")
	a, isArr := v.(*Arr)
	if !ok || !isArr || a.Len() == 0 {
		return reply{}, argErr("MESSAGE_ID")
	}
	msgs := map[string]bool{}
	for _, x := range a.Values() {
		msgs[phpString(x)] = true
	}
	for _, r := range c.st.Offline {
		if r.AppID == c.auth.appID && r.ProcessID == pid && msgs[r.MessageID] {
			r.Error = true
		}
	}
	return reply{result: true}, nil
}

func (c *call) offlineList() (reply, error) {
	if err := c.requireAdmin(); err != nil {
		return reply{}, err
	}
	p := lowerKeys(c.params)
	var conds []cond
	if f, ok := p.Get("filter"); ok {
		if a, isArr := f.(*Arr); isArr {
			conds = parseFilter(a)
		}
	}
	var rows []*OfflineEvent
	for _, r := range c.st.Offline {
		if r.AppID == c.auth.appID && matchAll(conds, offlineGetter(r, c.s.loc), c.s.loc) {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	page, rep := paginate(rows, c.start)
	out := make([]any, 0, len(page))
	for _, r := range page {
		out = append(out, c.offlineRow(r, true))
	}
	rep.result = out
	return rep, nil
}
