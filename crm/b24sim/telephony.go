package b24sim

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	callTypeOutgoing = 1
	callTypeIncoming = 2
	callTypeRedirect = 3
	callTypeCallback = 4
	callTypeInfo     = 5
	dedupWindow      = 30 * time.Minute
	restAppNumericID = "1"
)

func telephonyMethods(m map[string]*method) {
	regOpt(m, "telephony.externalcall.register", (*call).register, func(x *method) { x.strict = true })
	regOpt(m, "telephony.externalcall.finish", (*call).finish, func(x *method) { x.strict = true })
	reg(m, "telephony.externalcall.show", func(c *call) (reply, error) { return c.showHide(true) })
	reg(m, "telephony.externalcall.hide", func(c *call) (reply, error) { return c.showHide(false) })
	reg(m, "telephony.externalcall.searchcrmentities", (*call).searchCrmEntities)
	regOpt(m, "telephony.externalcall.attachrecord", (*call).attachRecord, func(x *method) { x.unlocked = true })
	for _, n := range []string{"add", "update", "get", "delete"} {
		regOpt(m, "telephony.externalline."+n, func(c *call) (reply, error) { return c.externalLine(n) }, func(x *method) { x.strict = true })
	}
}

func stripLetters(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return -1
		}
		return r
	}, s))
}

// resolveUser finds the active user by USER_ID or USER_PHONE_INNER.
func (st *State) resolveUser(uid int, inner string) *User {
	if uid > 0 {
		if u := st.user(uid); u != nil && u.Active {
			return u
		}
		return nil
	}
	for _, u := range st.Users {
		if inner != "" && u.Inner == inner && u.Active {
			return u
		}
	}
	return nil
}

func (c *call) userParams() (int, string, *Error) {
	uid := phpInt(valueOr(c.params, "USER_ID"))
	inner := phpString(valueOr(c.params, "USER_PHONE_INNER"))
	if uid <= 0 && inner == "" {
		return 0, "", c.s.telephonyErr("USER_ID or USER_PHONE_INNER should be set")
	}
	return uid, inner, nil
}

// regParams are the inputs of a call registration.
type regParams struct {
	appID      string
	userID     int
	phoneRaw   string
	typ        int
	start      time.Time
	crmCreate  bool
	crmSource  string
	entityType string
	entityID   int
	show       bool
	line       string
	externalID string
	callListID int
	initiator  *authInfo
}

func (c *call) register() (reply, error) {
	uid, inner, err := c.userParams()
	if err != nil {
		return reply{}, err
	}
	typ := phpInt(valueOr(c.params, "TYPE"))
	if typ < callTypeOutgoing || typ > callTypeInfo {
		return reply{}, c.s.telephonyErr("Unknown TYPE")
	}
	start := c.s.now()
	if v := phpString(valueOr(c.params, "CALL_START_DATE")); v != "" {
		t, ok := parseISO(v, c.s.loc)
		if !ok {
			return reply{}, c.s.telephonyErr("CALL_START_DATE should be in the ISO-8601 format")
		}
		start = t
	}
	phone := stripLetters(phpString(valueOr(c.params, "PHONE_NUMBER")))
	if phone == "" {
		return reply{}, c.s.telephonyErr("Unsupported phone number format")
	}
	u := c.st.resolveUser(uid, inner)
	if u == nil {
		return reply{}, c.s.telephonyErr("User is not found or is not active")
	}
	crmCreate := phpInt(valueOr(c.params, "CRM_CREATE")) == 1
	if _, ok := c.params.Get("CRM_CREATE"); !ok {
		crmCreate = phpInt(valueOr(c.params, "CRM")) == 1
	}
	show := true
	if v, ok := c.params.Get("SHOW"); ok {
		show = phpInt(v) != 0
	}
	line := strings.TrimSpace(phpString(valueOr(c.params, "LINE_NUMBER")))
	if len(line) > 50 {
		line = line[:50]
	}
	p := regParams{
		appID: c.auth.appID, userID: u.ID, phoneRaw: phone, typ: typ, start: start, crmCreate: crmCreate,
		crmSource: phpString(valueOr(c.params, "CRM_SOURCE")), entityType: strings.ToUpper(phpString(valueOr(c.params, "CRM_ENTITY_TYPE"))),
		entityID: phpInt(valueOr(c.params, "CRM_ENTITY_ID")), show: show, line: line,
		externalID: phpString(valueOr(c.params, "EXTERNAL_CALL_ID")), callListID: phpInt(valueOr(c.params, "CALL_LIST_ID")),
		initiator: &c.auth,
	}
	_, res := c.s.registerCall(c.st, p)
	return reply{result: res}, nil
}

func parseISO(v string, loc *time.Location) (time.Time, bool) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(v), loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func normalisedCaller(raw string) string {
	n, _ := NormalizePhone(raw, 1)
	n = keepChars(n, "0123456789")
	if n == "" {
		return raw
	}
	return n
}

// primaryByPhone finds the primary CRM entity of a number: contact, then
// company, then lead (lowest id of each).
func (st *State) primaryByPhone(phone string) (string, int) {
	for _, t := range []string{"CONTACT", "COMPANY", "LEAD"} {
		if l := st.findByPhone(t, phone); len(l) > 0 {
			return t, l[0].ID
		}
	}
	return "", 0
}

// registerCall registers (or re-uses, within 30 minutes) an external call
// and returns it with the register result.
func (s *Server) registerCall(st *State, p regParams) (*Call, obj) {
	now := s.now()
	norm := normalisedCaller(p.phoneRaw)
	for _, cl := range st.Calls {
		if cl.UserID != p.userID || cl.Phone != norm || cl.Type != p.typ || cl.AppID != p.appID || now.Sub(cl.Created) > dedupWindow {
			continue
		}
		if p.line != "" && cl.Line != p.line {
			continue
		}
		if p.externalID != "" && cl.ExternalCallID != p.externalID {
			continue
		}
		if p.show {
			cl.ShownTo = []int{p.userID}
		}
		res := registerResult(cl)
		if cl.CRMEntityType == "" {
			res["CRM_ENTITY_TYPE"] = nil
		}
		return cl, res
	}
	sum := md5.Sum([]byte(randomHex(16)))
	cl := &Call{
		CallID: fmt.Sprintf("externalCall.%s.%d", hex.EncodeToString(sum[:]), now.Unix()), ExternalCallID: p.externalID,
		AppID: p.appID, UserID: p.userID, Phone: norm, PhoneRaw: p.phoneRaw, Type: p.typ, Line: p.line,
		StartDate: p.start, Created: now, CallListID: p.callListID,
	}
	for _, u := range st.Users {
		if u.Inner != "" && (u.Inner == p.phoneRaw || u.Inner == norm) {
			cl.Internal = true
		}
	}
	var leadErr string
	if !cl.Internal {
		if p.entityType != "" && p.entityID > 0 && (p.entityType == "CONTACT" || p.entityType == "COMPANY" || p.entityType == "LEAD") {
			cl.CRMEntityType, cl.CRMEntityID = p.entityType, p.entityID
		} else {
			cl.CRMEntityType, cl.CRMEntityID = st.primaryByPhone(p.phoneRaw)
		}
		create := p.crmCreate && cl.CRMEntityType == ""
		if p.crmCreate && s.opts.RepeatSales && (cl.CRMEntityType == "CONTACT" || cl.CRMEntityType == "COMPANY") && !st.hasOpenLeadOrDeal(p.phoneRaw, cl) {
			create = true
		}
		if create {
			leadErr = s.autoCreate(st, cl, p)
		}
	}
	if p.line != "" && st.line(p.appID, p.line) == nil {
		st.Lines = append(st.Lines, Line{ID: st.nextID("line"), AppID: p.appID, Number: p.line, Name: p.line, CRMAutoCreate: true})
	}
	if p.show {
		cl.ShownTo = []int{p.userID}
	}
	st.Calls = append(st.Calls, cl)
	res := registerResult(cl)
	if leadErr != "" {
		res["LEAD_CREATION_ERROR"] = leadErr
	}
	appID := any(nil)
	if p.appID != "" {
		appID = restAppNumericID
	}
	s.emit(st, "ONVOXIMPLANTCALLINIT", map[string]any{"CALL_ID": cl.CallID, "CALL_TYPE": cl.Type, "CALLER_ID": cl.Phone, "REST_APP_ID": appID}, emitOpts{userID: p.userID})
	s.emit(st, "ONVOXIMPLANTCALLSTART", map[string]any{"CALL_ID": cl.CallID, "USER_ID": cl.UserID}, emitOpts{userID: p.userID})
	return cl, res
}

func (st *State) hasOpenLeadOrDeal(phone string, cl *Call) bool {
	for _, l := range st.findByPhone("LEAD", phone) {
		if fieldStr(l, "STATUS_SEMANTIC_ID") == "P" {
			return true
		}
	}
	for _, e := range st.Entities {
		if e.Type != "DEAL" || fieldStr(e, "CLOSED") == "Y" {
			continue
		}
		if (cl.CRMEntityType == "CONTACT" && e.Fields["CONTACT_ID"] == strconv.Itoa(cl.CRMEntityID)) ||
			(cl.CRMEntityType == "COMPANY" && e.Fields["COMPANY_ID"] == strconv.Itoa(cl.CRMEntityID)) {
			return true
		}
	}
	return false
}

func registerResult(cl *Call) obj {
	var lead, eid any
	if cl.CreatedLead > 0 {
		lead = cl.CreatedLead
	}
	if cl.CRMEntityID > 0 {
		eid = cl.CRMEntityID
	}
	created := []any{}
	for _, r := range cl.CreatedEntities {
		created = append(created, obj{"ENTITY_TYPE": r.EntityType, "ENTITY_ID": r.EntityID})
	}
	return obj{
		"CALL_ID": cl.CallID, "CRM_CREATED_LEAD": lead, "CRM_CREATED_ENTITIES": created,
		"CRM_ENTITY_TYPE": cl.CRMEntityType, "CRM_ENTITY_ID": eid,
	}
}

func callTitle(phone string, typ int) string {
	if typ == callTypeOutgoing {
		return phone + " - Исходящий звонок"
	}
	return phone + " - Входящий звонок"
}

// autoCreate creates the CRM entities of a CRM_CREATE registration: a lead
// in classic mode, a contact and a deal in simple mode.
func (s *Server) autoCreate(st *State, cl *Call, p regParams) string {
	source := "CALL"
	if p.crmSource != "" && st.hasStatus("SOURCE", p.crmSource) {
		source = p.crmSource
	}
	portalNumber := cl.Line
	if portalNumber == "" {
		portalNumber = "REST_APP:" + appNumber(cl.AppID)
	}
	opts := emitOpts{userID: p.userID}
	if p.initiator != nil {
		opts.initiatorApp, opts.initiatorConnector, opts.hasInitiator = p.initiator.appID, p.initiator.connector, true
	}
	phones := NewArr()
	ph := NewArr()
	ph.Set("VALUE", p.phoneRaw)
	ph.Set("VALUE_TYPE", "WORK")
	phones.Append(ph)
	if st.Mode == ModeSimple {
		cf := NewArr()
		cf.Set("NAME", p.phoneRaw)
		cf.Set("SOURCE_ID", source)
		cf.Set("SOURCE_DESCRIPTION", "Звонок на номер "+portalNumber)
		cf.Set("ASSIGNED_BY_ID", p.userID)
		cf.Set("PHONE", phones)
		contact, err := s.createEntity(st, "CONTACT", cf, p.userID, false)
		if err != nil {
			return err.Description
		}
		df := NewArr()
		df.Set("TITLE", callTitle(p.phoneRaw, p.typ))
		df.Set("SOURCE_ID", source)
		df.Set("SOURCE_DESCRIPTION", "Звонок на номер "+portalNumber)
		df.Set("ASSIGNED_BY_ID", p.userID)
		df.Set("CONTACT_ID", contact.ID)
		deal, err := s.createEntity(st, "DEAL", df, p.userID, false)
		if err != nil {
			return err.Description
		}
		cl.CreatedEntities = []Ref{{"CONTACT", contact.ID}, {"DEAL", deal.ID}}
		cl.CRMEntityType, cl.CRMEntityID = "CONTACT", contact.ID
		s.emit(st, "ONCRMCONTACTADD", crmEventData(contact.ID), opts)
		s.emit(st, "ONCRMDEALADD", crmEventData(deal.ID), opts)
		return ""
	}
	lf := NewArr()
	lf.Set("TITLE", callTitle(p.phoneRaw, p.typ))
	lf.Set("SOURCE_ID", source)
	lf.Set("SOURCE_DESCRIPTION", "Звонок на номер "+portalNumber)
	lf.Set("ASSIGNED_BY_ID", p.userID)
	lf.Set("STATUS_ID", "NEW")
	lf.Set("PHONE", phones)
	lead, err := s.createEntity(st, "LEAD", lf, p.userID, false)
	if err != nil {
		return err.Description
	}
	cl.CreatedLead = lead.ID
	cl.CreatedEntities = []Ref{{"LEAD", lead.ID}}
	cl.CRMEntityType, cl.CRMEntityID = "LEAD", lead.ID
	s.emit(st, "ONCRMLEADADD", crmEventData(lead.ID), opts)
	return ""
}

func appNumber(appID string) string {
	if appID == "" {
		return ""
	}
	return restAppNumericID
}

func (st *State) line(appID, number string) *Line {
	for i := range st.Lines {
		if st.Lines[i].AppID == appID && st.Lines[i].Number == number {
			return &st.Lines[i]
		}
	}
	return nil
}

func (st *State) activeCall(id string) (int, *Call) {
	for i, cl := range st.Calls {
		if cl.CallID == id {
			return i, cl
		}
	}
	return -1, nil
}

func (c *call) finish() (reply, error) {
	v, _ := c.params.Get("CALL_ID")
	callID, isStr := v.(string)
	if !isStr {
		return reply{}, newErr(400, "INVALID_ARGUMENT", "CALL_ID must be a string")
	}
	uid, inner, err := c.userParams()
	if err != nil {
		return reply{}, err
	}
	u := c.st.resolveUser(uid, inner)
	idx, cl := c.st.activeCall(callID)
	if cl == nil {
		return reply{}, c.s.telephonyErr("Call is not found (call should be registered prior to finishing")
	}
	if u == nil {
		return reply{}, c.s.telephonyErr("User is not found or is not active")
	}
	duration := phpInt(valueOr(c.params, "DURATION"))
	if duration < 0 {
		duration = 0
	}
	code := phpString(valueOr(c.params, "STATUS_CODE"))
	if code == "" {
		code = "304"
		if duration > 0 {
			code = "200"
		}
	}
	stat := &CallStat{
		ID: c.st.nextID("stat"), Call: *cl, FinishUserID: u.ID, Duration: duration,
		Cost: phpFloat(valueOr(c.params, "COST")), CostCurrency: phpString(valueOr(c.params, "COST_CURRENCY")),
		StatusCode: code, FailedReason: phpString(valueOr(c.params, "FAILED_REASON")),
		Vote: phpInt(valueOr(c.params, "VOTE")), Finished: c.s.now(),
	}
	for _, r := range cl.CreatedEntities {
		if e := c.st.entity(r.EntityType, r.EntityID); e != nil {
			e.Fields["ASSIGNED_BY_ID"] = strconv.Itoa(u.ID)
		}
	}
	if !cl.Internal {
		c.s.addCallActivity(c.st, stat)
	}
	c.st.Calls = append(c.st.Calls[:idx:idx], c.st.Calls[idx+1:]...)
	c.st.Stats = append(c.st.Stats, stat)
	addToChat := true
	if v, ok := c.params.Get("ADD_TO_CHAT"); ok {
		addToChat = phpInt(v) != 0
	}
	if addToChat {
		c.st.Messages = append(c.st.Messages, Message{ID: c.st.nextID("message"), Kind: "call", ToUser: u.ID,
			Text: fmt.Sprintf("Звонок %s, %d с, код %s", cl.PhoneRaw, duration, code), Created: c.s.now()})
	}
	c.s.emit(c.st, "ONVOXIMPLANTCALLEND", map[string]any{
		"CALL_ID": cl.CallID, "CALL_TYPE": cl.Type, "PHONE_NUMBER": cl.Phone, "PORTAL_NUMBER": portalNumber(cl),
		"PORTAL_USER_ID": u.ID, "CALL_DURATION": duration, "CALL_START_DATE": cl.StartDate.In(c.s.loc).Format(time.RFC3339),
		"COST": stat.Cost, "COST_CURRENCY": stat.CostCurrency, "CALL_FAILED_CODE": code,
		"CALL_FAILED_REASON": stat.FailedReason, "CRM_ACTIVITY_ID": stat.ActivityID,
	}, emitOpts{userID: u.ID})
	return reply{result: c.s.statResult(stat)}, nil
}

func portalNumber(cl *Call) string {
	if cl.Line != "" {
		return cl.Line
	}
	return "REST_APP:" + appNumber(cl.AppID)
}

func (s *Server) statResult(stat *CallStat) obj {
	cl := stat.Call
	var ext, appID, act any
	if cl.ExternalCallID != "" {
		ext = cl.ExternalCallID
	}
	appName := any(false)
	if cl.AppID != "" {
		appID, appName = restAppNumericID, s.opts.AppName
	}
	if stat.ActivityID > 0 {
		act = stat.ActivityID
	}
	status := 0
	if stat.Duration > 0 {
		status = 1
	}
	o := obj{
		"CALL_ID": cl.CallID, "EXTERNAL_CALL_ID": ext, "PORTAL_USER_ID": stat.FinishUserID, "PHONE_NUMBER": cl.Phone,
		"PORTAL_NUMBER": portalNumber(&cl), "INCOMING": strconv.Itoa(cl.Type), "CALL_DURATION": stat.Duration,
		"CALL_START_DATE": phpDateTime{}, "CALL_STATUS": status, "CALL_VOTE": stat.Vote, "COST": stat.Cost,
		"COST_CURRENCY": stat.CostCurrency, "CALL_FAILED_CODE": stat.StatusCode, "CALL_FAILED_REASON": stat.FailedReason,
		"REST_APP_ID": appID, "REST_APP_NAME": appName, "CRM_ACTIVITY_ID": act, "COMMENT": nil, "ID": stat.ID,
	}
	if cl.CRMEntityType != "" {
		o["CRM_ENTITY_TYPE"], o["CRM_ENTITY_ID"] = cl.CRMEntityType, cl.CRMEntityID
	}
	if stat.ActivityError != "" {
		o["ERRORS"] = obj{"ACTIVITY_CREATION": stat.ActivityError}
	}
	return o
}

// addCallActivity creates the call activity of a finished call the way
// CVoxImplantCrmHelper::AddCall does.
func (s *Server) addCallActivity(st *State, stat *CallStat) {
	cl := &stat.Call
	typ, id := cl.CRMEntityType, cl.CRMEntityID
	if typ == "" || st.entity(typ, id) == nil {
		typ, id = st.primaryByPhone(cl.PhoneRaw)
	}
	if typ == "" {
		stat.ActivityError = "Could not find associated crm entity for the current call"
		return
	}
	cl.CRMEntityType, cl.CRMEntityID = typ, id
	binds := []Binding{{OwnerTypeID: ownerTypeID(typ), OwnerID: id}}
	for _, r := range cl.CreatedEntities {
		b := Binding{OwnerTypeID: ownerTypeID(r.EntityType), OwnerID: r.EntityID}
		if b != binds[0] && st.entity(r.EntityType, r.EntityID) != nil {
			binds = append(binds, b)
		}
	}
	start := cl.StartDate.In(s.loc)
	end := start.Add(time.Duration(stat.Duration) * time.Second)
	now := s.nowString()
	subject, direction, providerType := "Входящий звонок", "1", "CALL"
	switch cl.Type {
	case callTypeOutgoing, callTypeInfo:
		subject, direction = "Исходящий звонок", "2"
	case callTypeCallback:
		subject, direction, providerType = "Обратный звонок", "0", "CALLBACK"
	}
	completed := "N"
	if cl.Type == callTypeOutgoing || stat.StatusCode != "304" {
		completed = "Y"
	}
	settings := map[string]any{}
	stream := "1"
	if cl.Type == callTypeOutgoing {
		stream = "2"
	}
	if stat.StatusCode == "304" && cl.Type != callTypeOutgoing {
		settings["MISSED_CALL"] = true
		stream = "4"
	}
	status := "1"
	if completed == "Y" {
		status = "2"
	}
	a := &Activity{ID: st.nextID("activity"), Fields: map[string]any{}}
	for _, k := range activityScalar {
		a.Fields[k] = nil
	}
	for k, v := range map[string]any{
		"ID": strconv.Itoa(a.ID), "OWNER_ID": strconv.Itoa(id), "OWNER_TYPE_ID": strconv.Itoa(ownerTypeID(typ)),
		"TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL", "PROVIDER_TYPE_ID": providerType, "ASSOCIATED_ENTITY_ID": "0",
		"SUBJECT": subject + " " + cl.PhoneRaw, "CREATED": start.Format(time.RFC3339), "LAST_UPDATED": now,
		"START_TIME": start.Format(time.RFC3339), "END_TIME": end.Format(time.RFC3339), "DEADLINE": end.Format(time.RFC3339),
		"COMPLETED": completed, "STATUS": status, "RESPONSIBLE_ID": strconv.Itoa(stat.FinishUserID), "PRIORITY": "2",
		"NOTIFY_TYPE": "0", "NOTIFY_VALUE": "0", "DESCRIPTION": "", "DESCRIPTION_TYPE": "1", "DIRECTION": direction,
		"LOCATION": "", "SETTINGS": settings, "ORIGIN_ID": "VI_" + cl.CallID, "AUTHOR_ID": strconv.Itoa(stat.FinishUserID),
		"EDITOR_ID": strconv.Itoa(stat.FinishUserID), "PROVIDER_PARAMS": map[string]any{}, "RESULT_MARK": "0",
		"RESULT_STATUS": "0", "RESULT_STREAM": stream, "AUTOCOMPLETE_RULE": "0", "IS_INCOMING_CHANNEL": "N",
	} {
		a.Fields[k] = v
	}
	a.Communications = []Communication{{ID: st.nextID("communication"), Type: "PHONE", Value: cl.PhoneRaw, EntityID: id, EntityTypeID: ownerTypeID(typ)}}
	a.Bindings = binds
	st.Activities = append(st.Activities, a)
	stat.ActivityID = a.ID
	if stat.Duration > 0 && stat.StatusCode != "304" {
		s.completeEarlierCalls(st, a)
	}
	s.emit(st, "ONCRMACTIVITYADD", crmEventData(a.ID), emitOpts{userID: stat.FinishUserID})
}

func (c *call) showHide(show bool) (reply, error) {
	callID := phpString(valueOr(c.params, "CALL_ID"))
	_, cl := c.st.activeCall(callID)
	if cl == nil {
		return reply{result: false}, nil
	}
	var users []int
	if v, ok := c.params.Get("USER_ID"); ok {
		if a, isArr := v.(*Arr); isArr {
			for _, x := range a.Values() {
				if id := phpInt(x); id > 0 {
					users = append(users, id)
				}
			}
		} else if id := phpInt(v); id > 0 {
			users = []int{id}
		}
	}
	if len(users) == 0 {
		users = []int{cl.UserID}
	}
	for _, u := range users {
		has := -1
		for i, x := range cl.ShownTo {
			if x == u {
				has = i
			}
		}
		switch {
		case show && has < 0:
			cl.ShownTo = append(cl.ShownTo, u)
		case !show && has >= 0:
			cl.ShownTo = append(cl.ShownTo[:has:has], cl.ShownTo[has+1:]...)
		}
	}
	return reply{result: true}, nil
}

func (c *call) searchCrmEntities() (reply, error) {
	phone := phpString(valueOr(c.params, "PHONE_NUMBER"))
	if strings.TrimSpace(phone) == "" {
		return reply{}, c.s.telephonyErr("PHONE_NUMBER is empty")
	}
	out := []any{}
	for _, t := range []string{"CONTACT", "LEAD", "COMPANY"} {
		for _, e := range c.st.findByPhone(t, phone) {
			aid := phpInt(e.Fields["ASSIGNED_BY_ID"])
			item := obj{"CRM_ENTITY_TYPE": t, "CRM_ENTITY_ID": e.ID, "ASSIGNED_BY_ID": aid}
			if n := entityName(e); n != "" {
				item["NAME"] = n
			}
			if u := c.st.user(aid); u != nil {
				item["ASSIGNED_BY"] = assignedBy(u)
			}
			out = append(out, item)
		}
	}
	return reply{result: out}, nil
}

func assignedBy(u *User) obj {
	nz := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	tm := u.TimemanStatus
	if tm == "" {
		tm = "UNAVAILABLE"
	}
	return obj{"ID": strconv.Itoa(u.ID), "TIMEMAN_STATUS": tm, "USER_PHONE_INNER": nz(u.Inner),
		"WORK_PHONE": nil, "PERSONAL_PHONE": nil, "PERSONAL_MOBILE": nz(u.Mobile)}
}

func entityName(e *Entity) string {
	switch e.Type {
	case "COMPANY", "DEAL":
		return fieldStr(e, "TITLE")
	case "LEAD":
		if n := strings.TrimSpace(fieldStr(e, "NAME") + " " + fieldStr(e, "LAST_NAME")); n != "" {
			return n
		}
		return fieldStr(e, "TITLE")
	}
	return strings.TrimSpace(fieldStr(e, "NAME") + " " + fieldStr(e, "LAST_NAME"))
}

func (c *call) externalLine(op string) (reply, error) {
	app := c.auth.appID
	number := strings.TrimSpace(phpString(valueOr(c.params, "NUMBER")))
	switch op {
	case "get":
		out := []any{}
		for _, l := range c.st.Lines {
			if l.AppID == app {
				out = append(out, obj{"NUMBER": l.Number, "NAME": l.Name, "CRM_AUTO_CREATE": yesNo(l.CRMAutoCreate)})
			}
		}
		return reply{result: out}, nil
	case "add":
		if number == "" {
			return reply{}, c.s.telephonyErr("NUMBER should not be empty")
		}
		if c.st.line(app, number) != nil {
			return reply{}, c.s.telephonyErr("Line already exists")
		}
		auto := true
		if v, ok := c.params.Get("CRM_AUTO_CREATE"); ok {
			auto = phpString(v) == "Y"
		}
		l := Line{ID: c.st.nextID("line"), AppID: app, Number: number, Name: phpString(valueOr(c.params, "NAME")), CRMAutoCreate: auto}
		c.st.Lines = append(c.st.Lines, l)
		return reply{result: obj{"ID": l.ID}}, nil
	case "update":
		if number == "" {
			return reply{}, c.s.telephonyErr("NUMBER should not be empty")
		}
		name, hasName := c.params.Get("NAME")
		auto, hasAuto := c.params.Get("CRM_AUTO_CREATE")
		if !hasName && !hasAuto {
			return reply{}, c.s.telephonyErr("There are no fields to update")
		}
		l := c.st.line(app, number)
		if l == nil {
			return reply{}, c.s.telephonyErr("Could not find line with number " + number)
		}
		if hasName {
			l.Name = phpString(name)
		}
		if hasAuto {
			l.CRMAutoCreate = phpString(auto) == "Y"
		}
		return reply{result: obj{"ID": strconv.Itoa(l.ID)}}, nil
	default: // delete
		if number == "" {
			return reply{}, c.s.telephonyErr("NUMBER should not be empty")
		}
		for i, l := range c.st.Lines {
			if l.AppID == app && l.Number == number {
				c.st.Lines = append(c.st.Lines[:i:i], c.st.Lines[i+1:]...)
				return reply{result: []any{}}, nil
			}
		}
		return reply{}, c.s.telephonyErr("Could not find line with number " + number)
	}
}

// ---- records ----

func validRecordName(name string) bool {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	return ext == "wav" || ext == "mp3"
}

func (c *call) attachRecord() (reply, error) {
	s := c.s
	callID := phpString(valueOr(c.params, "CALL_ID"))
	recordURL := phpString(valueOr(c.params, "RECORD_URL"))
	filename := phpString(valueOr(c.params, "FILENAME"))
	content, hasContent := c.params.Get("FILE_CONTENT")
	if content == nil {
		hasContent = false
	}
	if recordURL == "" && filename == "" {
		return reply{}, s.telephonyErr("Required parameters are not set. Request should contain or URL or FILENAME parameter")
	}
	s.mu.Lock()
	found := false
	for _, st := range s.st.Stats {
		if st.Call.CallID == callID {
			found = true
		}
	}
	s.mu.Unlock()
	if !found {
		return reply{}, s.telephonyErr("Call is not found in the statistic table. Looks like it is not finished yet.")
	}
	if recordURL != "" {
		if filename == "" {
			if u, err := url.Parse(recordURL); err == nil {
				filename = path.Base(u.Path)
			}
		}
		if !validRecordName(filename) {
			return reply{}, s.telephonyErr("Wrong file extension. Only wav and mp3 are allowed")
		}
		data, err := s.fetchRecord(recordURL)
		if err != nil {
			return reply{}, err
		}
		return s.storeRecord(callID, filename, data, "url")
	}
	if !validRecordName(filename) {
		return reply{}, s.telephonyErr("Wrong file extension. Only wav and mp3 are allowed")
	}
	if !hasContent {
		return reply{result: obj{"uploadUrl": s.uploadURL(c, callID, filename), "fieldName": "file"}}, nil
	}
	raw := phpString(content)
	if raw == "" {
		return reply{}, s.telephonyErr("File content is empty.")
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return reply{}, s.telephonyErr("File content is not properly encoded. Base64 encoding is expected.")
	}
	return s.storeRecord(callID, filename, data, "content")
}

// fetchRecord downloads RECORD_URL; only loopback hosts are contacted.
func (s *Server) fetchRecord(raw string) ([]byte, *Error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !isLoopbackHost(u.Hostname()) {
		return nil, s.telephonyErr("Server returns HTTP error code 0")
	}
	ctx, cancel := contextWithTimeout(s, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, s.telephonyErr("Server returns HTTP error code 0")
	}
	resp, err := loopbackClient().Do(req)
	if err != nil {
		return nil, s.telephonyErr("Server returns HTTP error code 0")
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, s.telephonyErr(fmt.Sprintf("Server returns HTTP error code %d", resp.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, s.telephonyErr("Unknown error encountered while saving file.")
	}
	return data, nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// storeRecord saves a record for a finished call, replacing the old one.
func (s *Server) storeRecord(callID, name string, data []byte, source string) (reply, error) {
	if len(data) == 0 {
		return reply{}, s.telephonyErr("File content is empty.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	var stat *CallStat
	for _, x := range st.Stats {
		if x.Call.CallID == callID {
			stat = x
		}
	}
	if stat == nil {
		return reply{}, s.telephonyErr("Call is not found in the statistic table. Looks like it is not finished yet.")
	}
	sum := sha256.Sum256(data)
	f := File{ID: st.nextID("file"), CallID: callID, Name: name, Size: len(data), SHA256: hex.EncodeToString(sum[:]), Source: source}
	old := stat.RecordFileID
	if old > 0 {
		for i, x := range st.Files {
			if x.ID == old {
				st.Files = append(st.Files[:i:i], st.Files[i+1:]...)
				break
			}
		}
	}
	st.Files = append(st.Files, f)
	stat.RecordFileID = f.ID
	if a := st.activity(stat.ActivityID); a != nil {
		a.Files = []int{f.ID}
	}
	return reply{result: obj{"FILE_ID": f.ID}}, nil
}

func (s *Server) sign(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (s *Server) uploadURL(c *call, callID, filename string) string {
	q := url.Values{}
	q.Set("callId", callID)
	q.Set("filename", filename)
	q.Set("_", randomHex(4))
	enc := base64.StdEncoding.EncodeToString([]byte(q.Encode()))
	token := "telephony|" + enc + "|" + s.sign(enc)
	base := s.baseURL(c.r)
	if c.auth.kind == authWebhook {
		return fmt.Sprintf("%s/rest/%d/%s/upload/?token=%s", base, c.auth.userID, c.auth.token, url.QueryEscape(token))
	}
	return fmt.Sprintf("%s/rest/upload.json?auth=%s&token=%s", base, url.QueryEscape(c.auth.token), url.QueryEscape(token))
}

// upload serves the uploadUrl of attachRecord: a multipart POST with the
// file in field "file". The answer has no time block.
func (s *Server) upload(r *http.Request, params *Arr, files map[string][]*multipart.FileHeader) (reply, error) {
	tok := phpString(valueOr(params, "token"))
	parts := strings.Split(tok, "|")
	if len(parts) != 3 || parts[0] != "telephony" || !hmac.Equal([]byte(s.sign(parts[1])), []byte(parts[2])) {
		return reply{}, newErr(400, "ERROR_UPLOAD", "Wrong upload token")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[1])
	if err != nil {
		return reply{}, newErr(400, "ERROR_UPLOAD", "Wrong upload token")
	}
	q, err := url.ParseQuery(string(raw))
	if err != nil {
		return reply{}, newErr(400, "ERROR_UPLOAD", "Wrong upload token")
	}
	fhs := files["file"]
	if len(fhs) == 0 {
		return reply{}, s.telephonyErr("File content is empty.")
	}
	f, err := fhs[0].Open()
	if err != nil {
		return reply{}, s.telephonyErr("Unknown error encountered while saving file.")
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxBody))
	if err != nil {
		return reply{}, s.telephonyErr("Unknown error encountered while saving file.")
	}
	name := q.Get("filename")
	if fhs[0].Filename != "" && validRecordName(fhs[0].Filename) {
		name = fhs[0].Filename
	}
	rep, serr := s.storeRecord(q.Get("callId"), name, data, "upload")
	rep.bare = true
	return rep, serr
}
