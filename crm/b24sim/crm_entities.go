package b24sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// crmArrParam resolves a legacy array parameter under its accepted
// spellings (fields, FIELDS, Fields, arFields). Absent or non-array values
// give "Parameter 'x' must be array.".
func (c *call) crmArrParam(name string, required bool) (*Arr, *Error) {
	v, ok := lookup(c.params, name, strings.ToUpper(name), strings.ToUpper(name[:1])+name[1:], "ar"+strings.ToUpper(name[:1])+name[1:])
	if !ok || v == nil {
		if required {
			return nil, crmErr(fmt.Sprintf("Parameter '%s' must be array.", name))
		}
		return NewArr(), nil
	}
	a, isArr := v.(*Arr)
	if !isArr {
		if !required && phpString(v) == "" {
			return NewArr(), nil
		}
		return nil, crmErr(fmt.Sprintf("Parameter '%s' must be array.", name))
	}
	return a, nil
}

// crmID resolves the entity id from ID or id.
func (c *call) crmID() (int, *Error) {
	v, _ := lookup(c.params, "ID", "id")
	id := phpInt(v)
	if id <= 0 {
		return 0, crmErr("ID is not defined or invalid.")
	}
	return id, nil
}

func (s *Server) nowString() string { return s.now().In(s.loc).Format(time.RFC3339) }

// normalise converts an input value to its stored wire form for type typ.
func (s *Server) normalise(typ string, v any) any {
	switch typ {
	case "integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote":
		if v == nil || phpString(v) == "" {
			return nil
		}
		n := phpInt(v)
		if n == 0 && typ != "integer" {
			return nil
		}
		return strconv.Itoa(n)
	case "crm_category":
		return strconv.Itoa(phpInt(v))
	case "double":
		return strconv.FormatFloat(phpFloat(v), 'f', 2, 64)
	case "char":
		switch strings.ToUpper(phpString(v)) {
		case "Y", "1", "TRUE":
			return "Y"
		}
		return "N"
	case "date", "datetime":
		t, ok := parseDate(phpString(v), s.loc)
		if !ok {
			return ""
		}
		return t.In(s.loc).Format(time.RFC3339)
	}
	if v == nil {
		return nil
	}
	return phpString(v)
}

// applyMulti applies multifield entries of one TYPE_ID: without ID → append,
// with ID and VALUE → overwrite, with ID and DELETE=Y / empty VALUE / only
// ID → delete. Values are stored as sent.
func (st *State) applyMulti(e *Entity, typeID string, v any) {
	for _, item := range asList(v) {
		it, ok := item.(*Arr)
		if !ok {
			if s := phpString(item); s != "" && item != nil {
				e.Multi = append(e.Multi, MultiField{ID: st.nextID("multi"), TypeID: typeID, Value: s, ValueType: defaultValueType(typeID)})
			}
			continue
		}
		id := phpInt(valueOr(it, "ID"))
		val := phpString(valueOr(it, "VALUE"))
		vt := phpString(valueOr(it, "VALUE_TYPE"))
		if id > 0 {
			idx := -1
			for i, m := range e.Multi {
				if m.ID == id && m.TypeID == typeID {
					idx = i
				}
			}
			if idx < 0 {
				continue
			}
			if strings.EqualFold(phpString(valueOr(it, "DELETE")), "Y") || val == "" {
				e.Multi = append(e.Multi[:idx:idx], e.Multi[idx+1:]...)
				continue
			}
			e.Multi[idx].Value = val
			if vt != "" {
				e.Multi[idx].ValueType = vt
			}
			continue
		}
		if val == "" {
			continue
		}
		if vt == "" {
			vt = defaultValueType(typeID)
		}
		e.Multi = append(e.Multi, MultiField{ID: st.nextID("multi"), TypeID: typeID, Value: val, ValueType: vt})
	}
}

func defaultValueType(typeID string) string {
	if typeID == "WEB" {
		return "WORK"
	}
	return "WORK"
}

func isMultiType(k string) bool {
	for _, t := range multiFieldTypes {
		if k == t {
			return true
		}
	}
	return false
}

func hasMulti(e *Entity, typeID string) bool {
	for _, m := range e.Multi {
		if m.TypeID == typeID {
			return true
		}
	}
	return false
}

// writeFields applies input fields to e. On update, immutable fields are
// skipped; read-only fields are always skipped unless importing.
func (s *Server) writeFields(st *State, e *Entity, fields *Arr, update, imp bool) {
	contactsSet := false
	for _, k := range fields.Keys() {
		v, _ := fields.Get(k)
		if isMultiType(k) && entityHasMulti(e.Type) {
			st.applyMulti(e, k, v)
			st.indexComms(e)
			continue
		}
		if strings.HasPrefix(k, "UF_") {
			for _, u := range st.userFields(e.Type) {
				if u.FieldName == k {
					e.Fields[k] = ufValue(u, v)
				}
			}
			continue
		}
		d, ok := entityDef(e.Type, k)
		if !ok {
			continue
		}
		if d.ro && (!imp || (k != "DATE_CREATE" && k != "DATE_MODIFY" && k != "CREATED_BY_ID" && k != "MODIFY_BY_ID")) {
			continue
		}
		if update && d.imm {
			continue
		}
		switch {
		case e.Type == "DEAL" && k == "CONTACT_IDS":
			e.Contacts = nil
			for i, x := range asList(v) {
				if id := phpInt(x); id > 0 {
					e.Contacts = append(e.Contacts, DealContact{ContactID: id, Sort: (i + 1) * 10, Primary: len(e.Contacts) == 0})
				}
			}
			contactsSet = true
		case e.Type == "DEAL" && k == "CONTACT_ID":
			if contactsSet {
				continue
			}
			e.Contacts = nil
			if id := phpInt(v); id > 0 {
				e.Contacts = []DealContact{{ContactID: id, Sort: 10, Primary: true}}
			}
		case d.multi:
			var ids []any
			for _, x := range asList(v) {
				if id := phpInt(x); id > 0 {
					ids = append(ids, strconv.Itoa(id))
				}
			}
			if a, isArr := v.(*Arr); !isArr || a == nil {
				if id := phpInt(v); id > 0 {
					ids = []any{strconv.Itoa(id)}
				}
			}
			e.Fields[k] = ids
		default:
			e.Fields[k] = s.normalise(d.typ, v)
		}
	}
}

func entityHasMulti(typ string) bool { return typ != "DEAL" }

func ufValue(u UserField, v any) any {
	if u.Multiple {
		var out []any
		for _, x := range asList(v) {
			out = append(out, phpString(x))
		}
		if _, ok := v.(*Arr); !ok && v != nil {
			out = []any{phpString(v)}
		}
		return out
	}
	if u.UserTypeID == "boolean" {
		return phpInt(v) != 0 || strings.EqualFold(phpString(v), "Y")
	}
	if v == nil {
		return nil
	}
	return phpString(v)
}

func fieldStr(e *Entity, k string) string {
	v, _ := e.Fields[k].(string)
	return v
}

// derive recomputes read-only fields derived from others.
func (s *Server) derive(st *State, e *Entity) {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	if entityHasMulti(e.Type) {
		e.Fields["HAS_PHONE"] = yn(hasMulti(e, "PHONE"))
		e.Fields["HAS_EMAIL"] = yn(hasMulti(e, "EMAIL"))
		e.Fields["HAS_IMOL"] = yn(hasMulti(e, "IM"))
	}
	switch e.Type {
	case "LEAD":
		sem := st.semantics("STATUS", fieldStr(e, "STATUS_ID"))
		e.Fields["STATUS_SEMANTIC_ID"] = sem
		e.Fields["IS_RETURN_CUSTOMER"] = yn(fieldStr(e, "COMPANY_ID") != "" || fieldStr(e, "CONTACT_ID") != "")
		if sem != "P" {
			if fieldStr(e, "DATE_CLOSED") == "" {
				e.Fields["DATE_CLOSED"] = s.nowString()
			}
		} else {
			e.Fields["DATE_CLOSED"] = ""
		}
	case "DEAL":
		cat := phpInt(e.Fields["CATEGORY_ID"])
		sem := st.semantics(stageEntityID(cat), fieldStr(e, "STAGE_ID"))
		e.Fields["STAGE_SEMANTIC_ID"] = sem
		e.Fields["CLOSED"] = yn(sem != "P")
		e.Fields["CONTACT_ID"] = nil
		for _, c := range e.Contacts {
			if c.Primary {
				e.Fields["CONTACT_ID"] = strconv.Itoa(c.ContactID)
			}
		}
	}
}

// createEntity adds an entity of typ from REST-style fields, as actor.
func (s *Server) createEntity(st *State, typ string, fields *Arr, actor int, imp bool) (*Entity, *Error) {
	if typ == "COMPANY" && strings.TrimSpace(phpString(valueOr(fields, "TITLE"))) == "" {
		return nil, crmErr(`The "Company name" field is required.`)
	}
	e := &Entity{Type: typ, Fields: map[string]any{}}
	for _, d := range entityDefs[typ] {
		if !d.multi || d.typ != "crm_multifield" {
			e.Fields[d.name] = nil
		}
	}
	now := s.nowString()
	today := s.now().In(s.loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.loc)
	defaults := map[string]any{
		"ASSIGNED_BY_ID": strconv.Itoa(actor), "CREATED_BY_ID": strconv.Itoa(actor), "MODIFY_BY_ID": strconv.Itoa(actor),
		"DATE_CREATE": now, "DATE_MODIFY": now, "OPENED": "Y", "BIRTHDATE": "",
		"LAST_ACTIVITY_BY": strconv.Itoa(actor), "LAST_ACTIVITY_TIME": now,
	}
	switch typ {
	case "LEAD":
		defaults["STATUS_ID"] = "NEW"
		defaults["OPPORTUNITY"] = "0.00"
		defaults["CURRENCY_ID"] = "RUB"
		defaults["IS_MANUAL_OPPORTUNITY"] = "N"
		defaults["MOVED_BY_ID"] = strconv.Itoa(actor)
		defaults["MOVED_TIME"] = now
	case "DEAL":
		defaults["CATEGORY_ID"] = "0"
		defaults["OPPORTUNITY"] = "0.00"
		defaults["TAX_VALUE"] = "0.00"
		defaults["CURRENCY_ID"] = "RUB"
		defaults["IS_MANUAL_OPPORTUNITY"] = "N"
		defaults["IS_NEW"] = "Y"
		defaults["IS_RECURRING"] = "N"
		defaults["IS_RETURN_CUSTOMER"] = "N"
		defaults["IS_REPEATED_APPROACH"] = "N"
		defaults["BEGINDATE"] = today.Format(time.RFC3339)
		defaults["CLOSEDATE"] = today.AddDate(0, 0, 7).Format(time.RFC3339)
		defaults["MOVED_BY_ID"] = strconv.Itoa(actor)
		defaults["MOVED_TIME"] = now
		defaults["TYPE_ID"] = "SALE"
	case "CONTACT":
		defaults["EXPORT"] = "Y"
		defaults["TYPE_ID"] = "CLIENT"
	case "COMPANY":
		defaults["CURRENCY_ID"] = "RUB"
		defaults["REVENUE"] = "0.00"
		defaults["IS_MY_COMPANY"] = "N"
		defaults["COMPANY_TYPE"] = "CUSTOMER"
	}
	for k, v := range defaults {
		if _, ok := e.Fields[k]; ok {
			e.Fields[k] = v
		}
	}
	s.writeFields(st, e, fields, false, imp)
	if typ == "DEAL" {
		cat := phpInt(e.Fields["CATEGORY_ID"])
		if !st.hasCategory(cat) {
			return nil, crmErr("Category not found.")
		}
		stage := fieldStr(e, "STAGE_ID")
		if !st.hasStatus(stageEntityID(cat), stage) {
			e.Fields["STAGE_ID"] = st.firstStatus(stageEntityID(cat))
		}
	}
	if typ == "LEAD" && !st.hasStatus("STATUS", fieldStr(e, "STATUS_ID")) {
		e.Fields["STATUS_ID"] = "NEW"
	}
	if id := phpInt(valueOr(fields, "__ID")); id > 0 && st.entity(typ, id) == nil {
		e.ID = id
		if st.Seq == nil {
			st.Seq = map[string]int{}
		}
		if st.Seq[typ] < id {
			st.Seq[typ] = id
		}
	} else {
		e.ID = st.nextID(typ)
	}
	e.Fields["ID"] = strconv.Itoa(e.ID)
	s.derive(st, e)
	st.addEntity(e)
	return e, nil
}

// updateEntity applies fields to e as actor.
func (s *Server) updateEntity(st *State, e *Entity, fields *Arr, actor int) {
	oldStage := fieldStr(e, "STATUS_ID") + fieldStr(e, "STAGE_ID")
	s.writeFields(st, e, fields, true, false)
	if e.Type == "DEAL" {
		cat := phpInt(e.Fields["CATEGORY_ID"])
		if !st.hasStatus(stageEntityID(cat), fieldStr(e, "STAGE_ID")) {
			e.Fields["STAGE_ID"] = st.firstStatus(stageEntityID(cat))
		}
	}
	if e.Type == "LEAD" && !st.hasStatus("STATUS", fieldStr(e, "STATUS_ID")) {
		e.Fields["STATUS_ID"] = "NEW"
	}
	now := s.nowString()
	e.Fields["MODIFY_BY_ID"] = strconv.Itoa(actor)
	e.Fields["DATE_MODIFY"] = now
	if fieldStr(e, "STATUS_ID")+fieldStr(e, "STAGE_ID") != oldStage {
		e.Fields["MOVED_BY_ID"] = strconv.Itoa(actor)
		e.Fields["MOVED_TIME"] = now
	}
	s.derive(st, e)
}

// selection says which fields a row shows.
type selection struct {
	star, ufStar bool
	names        map[string]bool
	multi        map[string]bool
}

func parseSelect(a *Arr, defaultUF bool) selection {
	sel := selection{names: map[string]bool{}, multi: map[string]bool{}}
	if a.Len() == 0 {
		sel.star, sel.ufStar = true, defaultUF
		return sel
	}
	for _, v := range a.Values() {
		f := strings.ToUpper(phpString(v))
		switch {
		case f == "*":
			sel.star = true
		case f == "UF_*":
			sel.ufStar = true
		case isMultiType(f):
			sel.multi[f] = true
		default:
			sel.names[f] = true
		}
	}
	sel.names["ID"] = true
	return sel
}

func fullSelection() selection {
	sel := selection{star: true, ufStar: true, names: map[string]bool{}, multi: map[string]bool{}}
	for _, t := range multiFieldTypes {
		sel.multi[t] = true
	}
	return sel
}

// render builds the wire row of e; get omits empty multifield types.
func (st *State) render(e *Entity, sel selection) obj {
	return st.renderWith(e, sel, st.userFields(e.Type))
}

func (st *State) renderWith(e *Entity, sel selection, ufs []UserField) obj {
	var o obj
	if sel.star {
		o = make(obj, len(entityDefs[e.Type])+len(ufs)+2)
		for _, d := range entityDefs[e.Type] {
			if d.typ == "crm_multifield" || ((d.name == "CONTACT_IDS" || d.name == "COMPANY_IDS") && !sel.names[d.name]) {
				continue
			}
			o[d.name] = e.Fields[d.name]
		}
	} else {
		o = make(obj, len(sel.names)+len(sel.multi))
		for name := range sel.names {
			if d, ok := entityDefIndex[e.Type][name]; ok && d.typ != "crm_multifield" {
				o[name] = e.Fields[name]
			}
		}
	}
	if _, ok := o["CONTACT_IDS"]; ok && e.Type == "DEAL" {
		ids := []any{}
		for _, c := range e.Contacts {
			ids = append(ids, strconv.Itoa(c.ContactID))
		}
		o["CONTACT_IDS"] = ids
	}
	for _, u := range ufs {
		if sel.ufStar || sel.names[u.FieldName] {
			o[u.FieldName] = e.Fields[u.FieldName]
		}
	}
	if len(sel.multi) == 0 {
		return o
	}
	for _, t := range multiFieldTypes {
		if !sel.multi[t] {
			continue
		}
		var items []any
		for _, m := range e.Multi {
			if m.TypeID == t {
				items = append(items, obj{"ID": strconv.Itoa(m.ID), "VALUE_TYPE": m.ValueType, "VALUE": m.Value, "TYPE_ID": m.TypeID})
			}
		}
		if len(items) > 0 {
			o[t] = items
		}
	}
	return o
}

var entityDefIndex = func() map[string]map[string]fieldDef {
	out := map[string]map[string]fieldDef{}
	for typ, list := range entityDefs {
		out[typ] = map[string]fieldDef{}
		for _, d := range list {
			out[typ][d.name] = d
		}
	}
	return out
}()

// entityGetter exposes e's fields (and multifields) to filters and sorting.
func (st *State) entityGetter(e *Entity) getter {
	return func(field string) ([]string, bool) {
		if isMultiType(field) {
			var out []string
			for _, m := range e.Multi {
				if m.TypeID == field {
					out = append(out, m.Value)
				}
			}
			return out, false
		}
		if field == "CONTACT_IDS" && e.Type == "DEAL" {
			var out []string
			for _, c := range e.Contacts {
				out = append(out, strconv.Itoa(c.ContactID))
			}
			return out, false
		}
		d, _ := entityDef(e.Type, field)
		isDate := d.typ == "date" || d.typ == "datetime"
		switch v := e.Fields[field].(type) {
		case string:
			return []string{v}, isDate
		case []any:
			out := make([]string, 0, len(v))
			for _, x := range v {
				out = append(out, phpString(x))
			}
			return out, isDate
		case nil:
			return nil, isDate
		default:
			return []string{phpString(v)}, isDate
		}
	}
}

// ---- REST handlers ----

func entityMethods(m map[string]*method) {
	for _, typ := range []string{"LEAD", "DEAL", "CONTACT", "COMPANY"} {
		p := "crm." + strings.ToLower(typ) + "."
		reg(m, p+"add", func(c *call) (reply, error) { return c.entityAdd(typ) })
		reg(m, p+"update", func(c *call) (reply, error) { return c.entityUpdate(typ) })
		reg(m, p+"get", func(c *call) (reply, error) { return c.entityGet(typ) })
		reg(m, p+"list", func(c *call) (reply, error) { return c.entityList(typ) })
		reg(m, p+"delete", func(c *call) (reply, error) { return c.entityDelete(typ) })
		reg(m, p+"fields", func(c *call) (reply, error) { return c.entityFields(typ) })
		reg(m, p+"userfield.list", func(c *call) (reply, error) { return c.userFieldList(typ) })
		reg(m, p+"userfield.add", func(c *call) (reply, error) { return c.userFieldAdd(typ) })
	}
	reg(m, "crm.deal.contact.items.get", (*call).dealContactsGet)
	reg(m, "crm.deal.contact.items.set", (*call).dealContactsSet)
	reg(m, "crm.settings.mode.get", func(c *call) (reply, error) { return reply{result: c.st.Mode}, nil })
}

func (c *call) entityAdd(typ string) (reply, error) {
	fields, err := c.crmArrParam("fields", true)
	if err != nil {
		return reply{}, err
	}
	params, perr := c.crmArrParam("params", false)
	if perr != nil {
		return reply{}, perr
	}
	fields.Delete("__ID")
	imp := strings.EqualFold(phpString(valueOr(params, "IMPORT")), "Y")
	e, cerr := c.s.createEntity(c.st, typ, fields, c.auth.userID, imp)
	if cerr != nil {
		return reply{}, cerr
	}
	c.emitCRM("ONCRM"+typ+"ADD", e.ID)
	if typ == "LEAD" && c.st.Mode == ModeSimple {
		c.s.convertLead(c.st, e, c.auth.userID)
	}
	return reply{result: e.ID}, nil
}

// convertLead performs simple-mode conversion: the lead becomes CONVERTED
// and a deal (+ contact when a name or phone is given, + company when
// COMPANY_TITLE is given) is created with LEAD_ID set.
func (s *Server) convertLead(st *State, lead *Entity, actor int) []Ref {
	var refs []Ref
	assigned := phpInt(lead.Fields["ASSIGNED_BY_ID"])
	if assigned == 0 {
		assigned = actor
	}
	var contactID, companyID int
	if fieldStr(lead, "NAME")+fieldStr(lead, "LAST_NAME")+fieldStr(lead, "SECOND_NAME") != "" || len(lead.Multi) > 0 {
		f := NewArr()
		for _, k := range []string{"NAME", "LAST_NAME", "SECOND_NAME", "SOURCE_ID", "SOURCE_DESCRIPTION", "POST", "COMMENTS"} {
			if v := lead.Fields[k]; v != nil {
				f.Set(k, v)
			}
		}
		f.Set("ASSIGNED_BY_ID", strconv.Itoa(assigned))
		if c, err := s.createEntity(st, "CONTACT", f, actor, false); err == nil {
			for _, m := range lead.Multi {
				m.ID = st.nextID("multi")
				c.Multi = append(c.Multi, m)
			}
			st.indexComms(c)
			c.Fields["LEAD_ID"] = strconv.Itoa(lead.ID)
			s.derive(st, c)
			contactID = c.ID
			refs = append(refs, Ref{"CONTACT", c.ID})
		}
	}
	if t := fieldStr(lead, "COMPANY_TITLE"); t != "" {
		f := NewArr()
		f.Set("TITLE", t)
		f.Set("ASSIGNED_BY_ID", strconv.Itoa(assigned))
		if co, err := s.createEntity(st, "COMPANY", f, actor, false); err == nil {
			co.Fields["LEAD_ID"] = strconv.Itoa(lead.ID)
			companyID = co.ID
			refs = append(refs, Ref{"COMPANY", co.ID})
		}
	}
	f := NewArr()
	title := fieldStr(lead, "TITLE")
	f.Set("TITLE", title)
	f.Set("ASSIGNED_BY_ID", strconv.Itoa(assigned))
	for _, k := range []string{"SOURCE_ID", "SOURCE_DESCRIPTION", "OPPORTUNITY", "CURRENCY_ID", "COMMENTS"} {
		if v := lead.Fields[k]; v != nil {
			f.Set(k, v)
		}
	}
	if contactID > 0 {
		f.Set("CONTACT_ID", strconv.Itoa(contactID))
	}
	if companyID > 0 {
		f.Set("COMPANY_ID", strconv.Itoa(companyID))
	}
	if d, err := s.createEntity(st, "DEAL", f, actor, false); err == nil {
		d.Fields["LEAD_ID"] = strconv.Itoa(lead.ID)
		refs = append(refs, Ref{"DEAL", d.ID})
	}
	lead.Fields["STATUS_ID"] = "CONVERTED"
	if contactID > 0 {
		lead.Fields["CONTACT_ID"] = strconv.Itoa(contactID)
	}
	if companyID > 0 {
		lead.Fields["COMPANY_ID"] = strconv.Itoa(companyID)
	}
	s.derive(st, lead)
	return refs
}

func (c *call) entityUpdate(typ string) (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	e := c.st.entity(typ, id)
	if e == nil {
		return reply{}, crmErr("Not found")
	}
	fields, ferr := c.crmArrParam("fields", true)
	if ferr != nil {
		return reply{}, ferr
	}
	c.s.updateEntity(c.st, e, fields, c.auth.userID)
	c.emitCRM("ONCRM"+typ+"UPDATE", e.ID)
	return reply{result: true}, nil
}

func (c *call) entityGet(typ string) (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	e := c.st.entity(typ, id)
	if e == nil {
		return reply{}, crmErr("Not found")
	}
	return reply{result: c.st.render(e, fullSelection())}, nil
}

func (c *call) entityDelete(typ string) (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	if !c.st.removeEntity(typ, id) {
		return reply{}, crmErr("Not found")
	}
	c.emitCRM("ONCRM"+typ+"DELETE", id)
	return reply{result: true}, nil
}

func (c *call) entityList(typ string) (reply, error) {
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
	conds := parseFilter(filter)
	only := c.st.byIDFilter(typ, conds)
	var rows []*Entity
	all := c.st.Entities
	if matchesNothing(conds) {
		all = nil
	}
	for _, e := range all {
		if e.Type == typ && (only == nil || only[e]) && matchAll(conds, c.st.entityGetter(e), c.s.loc) {
			rows = append(rows, e)
		}
	}
	ord := parseOrder(order)
	if len(ord) > 0 {
		sortRows(rows, ord, func(e *Entity, f string) (string, bool) {
			v, d := c.st.entityGetter(e)(f)
			if len(v) == 0 {
				return "", d
			}
			return v[0], d
		}, c.s.loc)
	}
	page, rep := paginate(rows, c.start)
	sel := parseSelect(selArr, typ != "LEAD")
	out := make([]any, 0, len(page))
	ufs := c.st.userFields(typ)
	for _, e := range page {
		out = append(out, c.st.renderWith(e, sel, ufs))
	}
	rep.result = out
	return rep, nil
}

// byIDFilter is the set of entities an ID = / @ condition allows, found
// through the index; nil when the filter has no such condition or names an
// ID in another form (then every row is tested as before). Rows keep their
// order: the caller still walks the entity list.
func (st *State) byIDFilter(typ string, conds []cond) map[*Entity]bool {
	for _, cd := range conds {
		if cd.field != "ID" || (cd.op != "=" && cd.op != "@") {
			continue
		}
		out := make(map[*Entity]bool, len(cd.values))
		for _, v := range cd.values {
			if !plainInt(v) {
				return nil
			}
			id, err := strconv.Atoi(v)
			if err != nil {
				return nil
			}
			if e := st.entity(typ, id); e != nil {
				out[e] = true
			}
		}
		return out
	}
	return nil
}

func (c *call) entityFields(typ string) (reply, error) {
	o := obj{}
	for _, d := range entityDefs[typ] {
		o[d.name] = fieldInfo(d)
	}
	for _, u := range c.st.userFields(typ) {
		o[u.FieldName] = ufInfo(u)
	}
	return reply{result: o}, nil
}

func (c *call) dealContactsGet() (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	e := c.st.entity("DEAL", id)
	if e == nil {
		return reply{}, crmErr("Not found")
	}
	out := []any{}
	for _, dc := range e.Contacts {
		p := "N"
		if dc.Primary {
			p = "Y"
		}
		out = append(out, obj{"CONTACT_ID": dc.ContactID, "SORT": dc.Sort, "ROLE_ID": 0, "IS_PRIMARY": p})
	}
	return reply{result: out}, nil
}

func (c *call) dealContactsSet() (reply, error) {
	id, err := c.crmID()
	if err != nil {
		return reply{}, err
	}
	e := c.st.entity("DEAL", id)
	if e == nil {
		return reply{}, crmErr("Not found")
	}
	items, ierr := c.crmArrParam("items", true)
	if ierr != nil {
		return reply{}, ierr
	}
	var list []DealContact
	primary := -1
	for i, it := range items.Values() {
		a, ok := it.(*Arr)
		if !ok {
			continue
		}
		cid := phpInt(valueOr(a, "CONTACT_ID"))
		if cid <= 0 {
			return reply{}, crmErr("The parameter 'CONTACT_ID' is not defined or invalid.")
		}
		if c.st.entity("CONTACT", cid) == nil {
			return reply{}, crmErr(fmt.Sprintf("Could not find 'CONTACT' with ID: %d", cid))
		}
		sort := phpInt(valueOr(a, "SORT"))
		if sort == 0 {
			sort = (i + 1) * 10
		}
		if strings.EqualFold(phpString(valueOr(a, "IS_PRIMARY")), "Y") && primary < 0 {
			primary = len(list)
		}
		list = append(list, DealContact{ContactID: cid, Sort: sort})
	}
	if len(list) > 0 {
		if primary < 0 {
			primary = 0
		}
		list[primary].Primary = true
	}
	e.Contacts = list
	c.s.derive(c.st, e)
	return reply{result: true}, nil
}

// ---- user fields ----

func (c *call) userFieldList(typ string) (reply, error) {
	filter, err := c.crmArrParam("filter", false)
	if err != nil {
		return reply{}, err
	}
	lang := phpString(valueOr(filter, "LANG"))
	filter.Delete("LANG")
	conds := parseFilter(filter)
	out := []any{}
	for _, u := range c.st.userFields(typ) {
		row := ufRow(u)
		get := func(f string) ([]string, bool) {
			if v, ok := row[f].(string); ok {
				return []string{v}, false
			}
			return nil, false
		}
		if !matchAll(conds, get, c.s.loc) {
			continue
		}
		if lang != "" {
			label := u.Label
			if label == "" {
				label = u.FieldName
			}
			row["EDIT_FORM_LABEL"], row["LIST_COLUMN_LABEL"], row["LIST_FILTER_LABEL"] = label, label, label
			row["ERROR_MESSAGE"], row["HELP_MESSAGE"] = nil, nil
		}
		out = append(out, row)
	}
	page, rep := paginate(out, c.start)
	rep.result = page
	return rep, nil
}

func ufRow(u UserField) obj {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	var xml any
	if u.XMLID != "" {
		xml = u.XMLID
	}
	return obj{
		"ID": strconv.Itoa(u.ID), "ENTITY_ID": u.EntityID, "FIELD_NAME": u.FieldName, "USER_TYPE_ID": u.UserTypeID,
		"XML_ID": xml, "SORT": strconv.Itoa(u.Sort), "MULTIPLE": yn(u.Multiple), "MANDATORY": yn(u.Mandatory),
		"SHOW_FILTER": "N", "SHOW_IN_LIST": "Y", "EDIT_IN_LIST": "Y", "IS_SEARCHABLE": "N",
		"SETTINGS": obj{},
	}
}

var ufTypes = map[string]bool{
	"string": true, "integer": true, "double": true, "boolean": true, "datetime": true, "date": true, "money": true,
	"url": true, "address": true, "enumeration": true, "file": true, "employee": true, "crm_status": true,
	"iblock_section": true, "iblock_element": true, "crm": true,
}

func (c *call) userFieldAdd(typ string) (reply, error) {
	fields, err := c.crmArrParam("fields", true)
	if err != nil {
		return reply{}, err
	}
	name := strings.ToUpper(strings.TrimSpace(phpString(valueOr(fields, "FIELD_NAME"))))
	if name == "" {
		return reply{}, crmErr("The 'FIELD_NAME' field is not defined or empty.")
	}
	name = strings.TrimPrefix(name, "UF_CRM_")
	name = strings.TrimPrefix(name, "UF_")
	name = "UF_CRM_" + name
	ut := phpString(valueOr(fields, "USER_TYPE_ID"))
	if ut == "" {
		ut = "string"
	}
	if !ufTypes[ut] {
		return reply{}, crmErr(fmt.Sprintf("The 'USER_TYPE_ID' value '%s' is not supported.", ut))
	}
	for _, u := range c.st.userFields(typ) {
		if u.FieldName == name {
			return reply{}, crmErr(fmt.Sprintf("Field %s already exists.", name))
		}
	}
	label := phpString(valueOr(fields, "LABEL"))
	if label == "" {
		if v, ok := fields.Get("EDIT_FORM_LABEL"); ok {
			if a, isArr := v.(*Arr); isArr && a.Len() > 0 {
				label = phpString(a.Values()[0])
			} else {
				label = phpString(v)
			}
		}
	}
	sort := phpInt(valueOr(fields, "SORT"))
	if sort == 0 {
		sort = 100
	}
	u := UserField{
		ID: c.st.nextID("userfield"), EntityID: ufEntityIDs[typ], FieldName: name, UserTypeID: ut, Label: label,
		Multiple:  strings.EqualFold(phpString(valueOr(fields, "MULTIPLE")), "Y"),
		Mandatory: strings.EqualFold(phpString(valueOr(fields, "MANDATORY")), "Y"), Sort: sort,
		XMLID: phpString(valueOr(fields, "XML_ID")),
	}
	c.st.UserFields = append(c.st.UserFields, u)
	return reply{result: u.ID}, nil
}
