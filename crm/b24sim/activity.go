package b24sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Activity types, statuses and directions.
const (
	activityMeeting = 1
	activityCall    = 2
	activityEmail   = 4
	activityCustom  = 6
)

var activityTypeNames = map[int]string{1: "Meeting", 2: "Call", 3: "Task", 4: "E-mail", 5: "Calendar import", 6: "Provider"}

var activityDefs = defs(
	"ID integer ro ID", "OWNER_ID integer imm Owner ID", "OWNER_TYPE_ID integer imm Owner type",
	"TYPE_ID crm_enum_activitytype req,imm Type", "PROVIDER_ID string - Provider", "PROVIDER_TYPE_ID string - Provider type",
	"PROVIDER_GROUP_ID string - Provider group", "ASSOCIATED_ENTITY_ID integer ro Associated entity",
	"SUBJECT string req Subject", "START_TIME datetime - Start time", "END_TIME datetime - End time",
	"DEADLINE datetime - Deadline", "COMPLETED char - Completed", "STATUS crm_enum_activitystatus - Status",
	"RESPONSIBLE_ID user req Responsible person", "PRIORITY crm_enum_activitypriority - Priority",
	"NOTIFY_TYPE crm_enum_activitynotifytype - Notification type", "NOTIFY_VALUE integer - Notification value",
	"DESCRIPTION string - Description", "DESCRIPTION_TYPE crm_enum_contenttype - Description type",
	"DIRECTION crm_enum_activitydirection - Direction", "LOCATION string - Location",
	"CREATED datetime ro Created on", "AUTHOR_ID user ro Created by", "LAST_UPDATED datetime ro Updated on",
	"EDITOR_ID user ro Modified by", "SETTINGS object - Settings", "ORIGIN_ID string - External code",
	"ORIGINATOR_ID string - External source", "RESULT_STATUS integer - Result status", "RESULT_STREAM integer - Result stream",
	"RESULT_SOURCE_ID string - Result source", "PROVIDER_PARAMS object - Provider parameters",
	"PROVIDER_DATA string - Provider data", "RESULT_MARK integer - Result mark", "RESULT_VALUE double - Result value",
	"RESULT_SUM double - Result sum", "RESULT_CURRENCY_ID string - Result currency", "AUTOCOMPLETE_RULE integer - Autocomplete rule",
	"BINDINGS crm_activity_binding ro,multi Bindings", "COMMUNICATIONS crm_activity_communication req,multi Communications",
	"FILES diskfile multi Added files", "WEBDAV_ELEMENTS diskfile dep,multi Added files",
	"IS_INCOMING_CHANNEL char ro Incoming channel",
)

var activityScalar = []string{
	"ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_ID", "PROVIDER_TYPE_ID", "PROVIDER_GROUP_ID",
	"ASSOCIATED_ENTITY_ID", "SUBJECT", "CREATED", "LAST_UPDATED", "START_TIME", "END_TIME", "DEADLINE", "COMPLETED",
	"STATUS", "RESPONSIBLE_ID", "PRIORITY", "NOTIFY_TYPE", "NOTIFY_VALUE", "DESCRIPTION", "DESCRIPTION_TYPE",
	"DIRECTION", "LOCATION", "SETTINGS", "ORIGINATOR_ID", "ORIGIN_ID", "AUTHOR_ID", "EDITOR_ID", "PROVIDER_PARAMS",
	"PROVIDER_DATA", "RESULT_MARK", "RESULT_VALUE", "RESULT_SUM", "RESULT_CURRENCY_ID", "RESULT_STATUS",
	"RESULT_STREAM", "RESULT_SOURCE_ID", "AUTOCOMPLETE_RULE", "IS_INCOMING_CHANNEL",
}

func activityMethods(m map[string]*method) {
	reg(m, "crm.activity.add", (*call).activityAdd)
	reg(m, "crm.activity.update", (*call).activityUpdate)
	reg(m, "crm.activity.get", (*call).activityGet)
	reg(m, "crm.activity.list", (*call).activityList)
	reg(m, "crm.activity.delete", (*call).activityDelete)
	reg(m, "crm.activity.binding.add", (*call).activityBindingAdd)
	reg(m, "crm.activity.fields", func(c *call) (reply, error) {
		o := obj{}
		for _, d := range activityDefs {
			o[d.name] = fieldInfo(d)
		}
		return reply{result: o}, nil
	})
}

func ownerEntityType(typeID int) string { return ownerTypeNames[typeID] }

// responsibleOf returns the ASSIGNED_BY_ID of an owner entity.
func (st *State) responsibleOf(typeID, id int) int {
	if e := st.entity(ownerEntityType(typeID), id); e != nil {
		return phpInt(e.Fields["ASSIGNED_BY_ID"])
	}
	return 0
}

// buildCommunications validates COMMUNICATIONS and derives bindings as
// CCrmActivityRestProxy does.
func (st *State) buildCommunications(v any, typeID, ownerType, ownerID int) ([]Communication, []Binding, *Error) {
	var comms []Communication
	for _, item := range asList(v) {
		it, ok := item.(*Arr)
		if !ok {
			continue
		}
		et := phpInt(valueOr(it, "ENTITY_TYPE_ID"))
		eid := phpInt(valueOr(it, "ENTITY_ID"))
		if et <= 0 || eid <= 0 {
			et, eid = ownerType, ownerID
		}
		ctype := strings.ToUpper(phpString(valueOr(it, "TYPE")))
		val := strings.TrimSpace(phpString(valueOr(it, "VALUE")))
		switch typeID {
		case activityCall:
			if ctype == "" {
				ctype = "PHONE"
			}
			if ctype != "PHONE" || val == "" {
				continue
			}
		case activityEmail:
			if ctype == "" {
				ctype = "EMAIL"
			}
			if ctype != "EMAIL" || val == "" {
				continue
			}
		}
		comms = append(comms, Communication{Type: ctype, Value: val, EntityID: eid, EntityTypeID: et})
	}
	if len(comms) == 0 {
		return nil, nil, crmErr("The field COMMUNICATIONS is not defined or invalid.")
	}
	if (typeID == activityCall || typeID == activityMeeting) && len(comms) > 1 {
		return nil, nil, crmErr("The only one communication is allowed for activity of specified type.")
	}
	var binds []Binding
	add := func(t, id int) {
		if t <= 0 || id <= 0 {
			return
		}
		for _, b := range binds {
			if b.OwnerTypeID == t && b.OwnerID == id {
				return
			}
		}
		binds = append(binds, Binding{OwnerTypeID: t, OwnerID: id})
	}
	add(ownerType, ownerID)
	for _, cm := range comms {
		add(cm.EntityTypeID, cm.EntityID)
	}
	if len(binds) == 0 {
		return nil, nil, crmErr("Could not build binding. Please ensure that owner info and communications are defined correctly.")
	}
	for _, b := range binds {
		name := ownerEntityType(b.OwnerTypeID)
		if name == "" {
			return nil, nil, crmErr(fmt.Sprintf("Entity type '[%d]' is not supported in current context", b.OwnerTypeID))
		}
		if st.entity(name, b.OwnerID) == nil {
			return nil, nil, crmErr(fmt.Sprintf("Could not find '%s' with ID: %d", name, b.OwnerID))
		}
	}
	return comms, binds, nil
}

func (c *call) activityAdd() (reply, error) {
	fields, err := c.crmArrParam("fields", true)
	if err != nil {
		return reply{}, err
	}
	a, aerr := c.s.createActivity(c.st, fields, c.auth.userID)
	if aerr != nil {
		return reply{}, aerr
	}
	c.emitCRM("ONCRMACTIVITYADD", a.ID)
	return reply{result: a.ID}, nil
}

// createActivity validates and stores an activity as actor.
func (s *Server) createActivity(st *State, fields *Arr, actor int) (*Activity, *Error) {
	if strings.TrimSpace(phpString(valueOr(fields, "SUBJECT"))) == "" {
		return nil, crmErr("The field SUBJECT is not defined or empty.")
	}
	ownerType := phpInt(valueOr(fields, "OWNER_TYPE_ID"))
	ownerID := phpInt(valueOr(fields, "OWNER_ID"))
	resp := phpInt(valueOr(fields, "RESPONSIBLE_ID"))
	if resp <= 0 {
		resp = st.responsibleOf(ownerType, ownerID)
	}
	if resp <= 0 {
		resp = actor
	}
	if resp <= 0 {
		return nil, crmErr("The field RESPONSIBLE_ID is not defined or invalid.")
	}
	typeID := phpInt(valueOr(fields, "TYPE_ID"))
	provider := phpString(valueOr(fields, "PROVIDER_ID"))
	if provider != "" && typeID == 0 {
		typeID = activityCustom
	}
	if _, known := activityTypeNames[typeID]; !known {
		return nil, crmErr("The field TYPE_ID is not defined or invalid.")
	}
	if typeID == activityCustom && provider != "CRM_TODO" && provider != "REST_APP" {
		return nil, crmErr("The custom activity without provider is not supported in current context.")
	}
	if typeID != 1 && typeID != 2 && typeID != 4 && typeID != 6 {
		return nil, crmErr(fmt.Sprintf("The activity type \"%s is not supported in current context\".", activityTypeNames[typeID]))
	}
	comms, binds, cerr := st.buildCommunications(valueOr(fields, "COMMUNICATIONS"), typeID, ownerType, ownerID)
	if cerr != nil {
		return nil, cerr
	}
	if ownerType <= 0 || ownerID <= 0 {
		ownerType, ownerID = binds[0].OwnerTypeID, binds[0].OwnerID
	}
	now := s.nowString()
	a := &Activity{ID: st.nextID("activity"), Fields: map[string]any{}}
	for _, k := range activityScalar {
		a.Fields[k] = nil
	}
	set := func(k string, v any) { a.Fields[k] = v }
	str := func(k, def string) string {
		if v, ok := fields.Get(k); ok && phpString(v) != "" {
			return phpString(v)
		}
		return def
	}
	set("ID", strconv.Itoa(a.ID))
	set("OWNER_ID", strconv.Itoa(ownerID))
	set("OWNER_TYPE_ID", strconv.Itoa(ownerType))
	set("TYPE_ID", strconv.Itoa(typeID))
	switch typeID {
	case activityCall:
		set("PROVIDER_ID", "VOXIMPLANT_CALL")
		set("PROVIDER_TYPE_ID", str("PROVIDER_TYPE_ID", "CALL"))
	case activityMeeting:
		set("PROVIDER_ID", "CRM_MEETING")
		set("PROVIDER_TYPE_ID", "MEETING")
	case activityEmail:
		set("PROVIDER_ID", "CRM_EMAIL")
		set("PROVIDER_TYPE_ID", "EMAIL")
	default:
		set("PROVIDER_ID", provider)
		set("PROVIDER_TYPE_ID", str("PROVIDER_TYPE_ID", provider))
	}
	set("ASSOCIATED_ENTITY_ID", "0")
	set("SUBJECT", phpString(valueOr(fields, "SUBJECT")))
	set("CREATED", now)
	set("LAST_UPDATED", now)
	start := s.normalise("datetime", valueOr(fields, "START_TIME"))
	end := s.normalise("datetime", valueOr(fields, "END_TIME"))
	if start == "" || start == nil {
		start = end
	}
	if end == "" || end == nil {
		end = start
	}
	if start == "" {
		start, end = nil, nil
	}
	set("START_TIME", start)
	set("END_TIME", end)
	if typeID == activityCall {
		if start == nil {
			set("DEADLINE", "9999-12-31T23:59:59"+s.now().In(s.loc).Format("-07:00"))
		} else {
			set("DEADLINE", start)
		}
	} else {
		set("DEADLINE", start)
	}
	completed := completedFlag(valueOr(fields, "COMPLETED"))
	set("COMPLETED", completed)
	status := str("STATUS", "")
	if status == "" {
		status = "1"
		if completed == "Y" {
			status = "2"
		}
	}
	set("STATUS", status)
	set("RESPONSIBLE_ID", strconv.Itoa(resp))
	set("PRIORITY", str("PRIORITY", "1"))
	set("NOTIFY_TYPE", str("NOTIFY_TYPE", "0"))
	if a.Fields["NOTIFY_TYPE"] == "0" {
		set("NOTIFY_VALUE", "0")
	} else {
		set("NOTIFY_VALUE", str("NOTIFY_VALUE", "0"))
	}
	set("DESCRIPTION", str("DESCRIPTION", ""))
	set("DESCRIPTION_TYPE", str("DESCRIPTION_TYPE", "1"))
	set("DIRECTION", str("DIRECTION", "0"))
	set("LOCATION", str("LOCATION", ""))
	set("SETTINGS", settingsValue(valueOr(fields, "SETTINGS")))
	set("PROVIDER_PARAMS", settingsValue(valueOr(fields, "PROVIDER_PARAMS")))
	if v := str("ORIGINATOR_ID", ""); v != "" {
		set("ORIGINATOR_ID", v)
	}
	if v := str("ORIGIN_ID", ""); v != "" {
		set("ORIGIN_ID", v)
	}
	set("AUTHOR_ID", strconv.Itoa(actor))
	set("EDITOR_ID", strconv.Itoa(actor))
	set("RESULT_MARK", str("RESULT_MARK", "0"))
	set("RESULT_STATUS", str("RESULT_STATUS", "0"))
	set("RESULT_STREAM", str("RESULT_STREAM", "0"))
	set("AUTOCOMPLETE_RULE", "0")
	set("IS_INCOMING_CHANNEL", "N")
	for i := range comms {
		comms[i].ID = st.nextID("communication")
	}
	a.Communications, a.Bindings = comms, binds
	st.Activities = append(st.Activities, a)
	return a, nil
}

// settingsValue keeps a SETTINGS-like object as a JSON-ready map.
func settingsValue(v any) any {
	a, ok := v.(*Arr)
	if !ok || a.Len() == 0 {
		return map[string]any{}
	}
	out := map[string]any{}
	for _, k := range a.Keys() {
		x, _ := a.Get(k)
		out[k] = plain(x)
	}
	return out
}

// plain converts parsed PHP values into JSON-ready Go values.
func plain(v any) any {
	switch t := v.(type) {
	case *Arr:
		if t.IsList() && t.Len() > 0 {
			out := make([]any, 0, t.Len())
			for _, x := range t.Values() {
				out = append(out, plain(x))
			}
			return out
		}
		out := map[string]any{}
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			out[k] = plain(x)
		}
		return out
	}
	return v
}

func completedFlag(v any) string {
	s := strings.ToUpper(phpString(v))
	if s == "Y" || phpInt(v) > 0 {
		return "Y"
	}
	return "N"
}

func (c *call) activityUpdate() (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	a := c.st.activity(id)
	if a == nil {
		return reply{}, crmErr("Activity is not found.")
	}
	fields, ferr := c.crmArrParam("fields", true)
	if ferr != nil {
		return reply{}, ferr
	}
	typeID := phpInt(a.Fields["TYPE_ID"])
	if v, ok := fields.Get("COMMUNICATIONS"); ok {
		comms, binds, cerr := c.st.buildCommunications(v, typeID, phpInt(a.Fields["OWNER_TYPE_ID"]), phpInt(a.Fields["OWNER_ID"]))
		if cerr != nil {
			return reply{}, cerr
		}
		for i := range comms {
			comms[i].ID = c.st.nextID("communication")
		}
		a.Communications, a.Bindings = comms, binds
	}
	for _, k := range fields.Keys() {
		v, _ := fields.Get(k)
		switch k {
		case "ID", "TYPE_ID", "PROVIDER_ID", "OWNER_ID", "OWNER_TYPE_ID", "COMMUNICATIONS", "BINDINGS", "CREATED",
			"AUTHOR_ID", "EDITOR_ID", "LAST_UPDATED", "ASSOCIATED_ENTITY_ID", "DEADLINE":
		case "COMPLETED":
			comp := completedFlag(v)
			a.Fields["COMPLETED"] = comp
			if comp == "N" {
				a.Fields["STATUS"] = "1"
			} else if a.Fields["STATUS"] != "3" {
				a.Fields["STATUS"] = "2"
			}
		case "START_TIME", "END_TIME":
			a.Fields[k] = c.s.normalise("datetime", v)
			if k == "START_TIME" && typeID == activityCall {
				a.Fields["DEADLINE"] = a.Fields[k]
			}
		case "SETTINGS", "PROVIDER_PARAMS":
			a.Fields[k] = settingsValue(v)
		default:
			if _, known := a.Fields[k]; known {
				a.Fields[k] = phpString(v)
			}
		}
	}
	a.Fields["EDITOR_ID"] = strconv.Itoa(c.auth.userID)
	a.Fields["LAST_UPDATED"] = c.s.nowString()
	c.emitCRM("ONCRMACTIVITYUPDATE", a.ID)
	return reply{result: true}, nil
}

func (c *call) activityDelete() (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	for i, a := range c.st.Activities {
		if a.ID == id {
			c.st.Activities = append(c.st.Activities[:i:i], c.st.Activities[i+1:]...)
			c.emitCRM("ONCRMACTIVITYDELETE", id)
			return reply{result: true}, nil
		}
	}
	return reply{}, crmErr("Activity is not found.")
}

func (st *State) renderActivity(a *Activity, withComms, withBindings, withFiles, star bool, names map[string]bool) obj {
	o := obj{}
	for _, k := range activityScalar {
		if star || names[k] || k == "ID" {
			v := a.Fields[k]
			if m, ok := v.(map[string]any); ok {
				v = obj(m)
			}
			o[k] = v
		}
	}
	if withComms {
		list := []any{}
		for _, cm := range a.Communications {
			list = append(list, obj{
				"ID": strconv.Itoa(cm.ID), "TYPE": cm.Type, "VALUE": cm.Value,
				"ENTITY_ID": strconv.Itoa(cm.EntityID), "ENTITY_TYPE_ID": strconv.Itoa(cm.EntityTypeID),
				"ENTITY_SETTINGS": st.communicationSettings(cm),
			})
		}
		o["COMMUNICATIONS"] = list
	}
	if withBindings {
		list := []any{}
		for _, b := range a.Bindings {
			list = append(list, obj{"OWNER_TYPE_ID": strconv.Itoa(b.OwnerTypeID), "OWNER_ID": strconv.Itoa(b.OwnerID)})
		}
		o["BINDINGS"] = list
	}
	if withFiles {
		list := []any{}
		for _, f := range a.Files {
			list = append(list, obj{"id": f})
		}
		o["FILES"] = list
	}
	return o
}

func (st *State) communicationSettings(cm Communication) obj {
	e := st.entity(ownerEntityType(cm.EntityTypeID), cm.EntityID)
	if e == nil {
		return obj{}
	}
	switch e.Type {
	case "COMPANY":
		return obj{"COMPANY_TITLE": e.Fields["TITLE"]}
	case "DEAL":
		return obj{"TITLE": e.Fields["TITLE"]}
	}
	return obj{"HONORIFIC": e.Fields["HONORIFIC"], "NAME": e.Fields["NAME"], "SECOND_NAME": e.Fields["SECOND_NAME"], "LAST_NAME": e.Fields["LAST_NAME"]}
}

func (c *call) activityGet() (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	a := c.st.activity(id)
	if a == nil {
		// innerGet only reports DB errors, so a missing ID gives an empty message.
		return reply{}, crmErr("")
	}
	return reply{result: c.st.renderActivity(a, false, false, false, true, nil)}, nil
}

func (c *call) activityList() (reply, error) {
	filter, err := c.crmArrParam("filter", false)
	if err != nil {
		return reply{}, crmErr("Parameter 'filter' must be array.")
	}
	order, err := c.crmArrParam("order", false)
	if err != nil {
		return reply{}, crmErr("Parameter 'order' must be array.")
	}
	selArr, err := c.crmArrParam("select", false)
	if err != nil {
		return reply{}, err
	}
	var bindConds []Binding
	if v, ok := filter.Get("BINDINGS"); ok {
		for _, x := range asList(v) {
			if b, ok := x.(*Arr); ok {
				bindConds = append(bindConds, Binding{OwnerTypeID: phpInt(valueOr(b, "OWNER_TYPE_ID")), OwnerID: phpInt(valueOr(b, "OWNER_ID"))})
			}
		}
		filter.Delete("BINDINGS")
	}
	conds := parseFilter(filter)
	// One getter for every row (the filter scans them all): it reads the
	// current row and returns its value in a reused slice, which matchAll
	// and sortRows only read before the next call.
	var (
		cur *Activity
		one [1]string
	)
	row := func(f string) ([]string, bool) {
		isDate := f == "START_TIME" || f == "END_TIME" || f == "DEADLINE" || f == "CREATED" || f == "LAST_UPDATED"
		if s, ok := cur.Fields[f].(string); ok {
			one[0] = s
			return one[:], isDate
		}
		return nil, isDate
	}
	get := func(a *Activity) getter {
		cur = a
		return row
	}
	var rows []*Activity
	all := c.st.Activities
	if matchesNothing(conds) {
		all = nil
	}
	for _, a := range all {
		if !matchAll(conds, get(a), c.s.loc) {
			continue
		}
		if len(bindConds) > 0 && !bindingMatch(a, bindConds) {
			continue
		}
		rows = append(rows, a)
	}
	ord := parseOrder(order)
	if len(ord) == 0 {
		ord = []orderBy{{field: "START_TIME"}}
	}
	sortRows(rows, ord, func(a *Activity, f string) (string, bool) {
		v, d := get(a)(f)
		if len(v) == 0 {
			return "", d
		}
		return v[0], d
	}, c.s.loc)
	page, rep := paginate(rows, c.start)
	star := selArr.Len() == 0
	names := map[string]bool{}
	for _, v := range selArr.Values() {
		f := strings.ToUpper(phpString(v))
		if f == "*" {
			star = true
		}
		names[f] = true
	}
	out := make([]any, 0, len(page))
	for _, a := range page {
		out = append(out, c.st.renderActivity(a, names["COMMUNICATIONS"], names["BINDINGS"], names["FILES"], star, names))
	}
	rep.result = out
	return rep, nil
}

func bindingMatch(a *Activity, conds []Binding) bool {
	for _, c := range conds {
		for _, b := range a.Bindings {
			if b.OwnerTypeID == c.OwnerTypeID && (c.OwnerID == 0 || b.OwnerID == c.OwnerID) {
				return true
			}
		}
	}
	return false
}

// completeEarlierCalls completes uncompleted VOXIMPLANT_CALL activities that
// share a binding with a (the onCallEnd rule after a successful call).
func (s *Server) completeEarlierCalls(st *State, a *Activity) {
	for _, o := range st.Activities {
		// Bindings first: a slice on the activity, cheaper than its fields.
		if o.ID == a.ID || !bindingMatch(o, a.Bindings) || o.Fields["PROVIDER_ID"] != "VOXIMPLANT_CALL" || o.Fields["COMPLETED"] == "Y" {
			continue
		}
		o.Fields["COMPLETED"] = "Y"
		o.Fields["STATUS"] = "3"
		o.Fields["LAST_UPDATED"] = s.now().In(s.loc).Format(time.RFC3339)
	}
}

// activityBindingAdd binds an activity to one more CRM entity
// (crm.activity.binding.add: activityId, entityTypeId, entityId → true).
// Binding an entity that is already bound is refused, as the portal's
// ItemBinding check does.
func (c *call) activityBindingAdd() (reply, error) {
	v, _ := lookup(c.params, "activityId", "ACTIVITY_ID")
	id := phpInt(v)
	if id <= 0 {
		return reply{}, argErr("activityId")
	}
	a := c.st.activity(id)
	if a == nil {
		return reply{}, newErr(400, "NOT_FOUND", "Activity not found")
	}
	v, _ = lookup(c.params, "entityTypeId", "ENTITY_TYPE_ID")
	typeID := phpInt(v)
	name := ownerEntityType(typeID)
	if name == "" {
		return reply{}, crmErr(fmt.Sprintf("Entity type '[%d]' is not supported in current context", typeID))
	}
	v, _ = lookup(c.params, "entityId", "ENTITY_ID")
	eid := phpInt(v)
	if eid <= 0 {
		return reply{}, argErr("entityId")
	}
	if c.st.entity(name, eid) == nil {
		return reply{}, crmErr(fmt.Sprintf("Could not find '%s' with ID: %d", name, eid))
	}
	b := Binding{OwnerTypeID: typeID, OwnerID: eid}
	for _, x := range a.Bindings {
		if x == b {
			return reply{}, newErr(400, "ALREADY_EXISTS", "The binding already exists")
		}
	}
	a.Bindings = append(a.Bindings, b)
	a.Fields["LAST_UPDATED"] = c.s.nowString()
	c.emitCRM("ONCRMACTIVITYUPDATE", a.ID)
	return reply{result: true}, nil
}
