package b24sim

import (
	"strconv"
	"strings"
)

func userMethods(m map[string]*method) {
	reg(m, "user.get", (*call).userGet)
	reg(m, "user.search", (*call).userSearch)
	reg(m, "user.current", func(c *call) (reply, error) {
		u := c.st.user(c.auth.userID)
		if u == nil {
			return reply{}, crmErr("User not found")
		}
		return reply{result: userRow(u)}, nil
	})
	reg(m, "im.notify.system.add", func(c *call) (reply, error) { return c.notify("system") })
	reg(m, "im.notify.personal.add", func(c *call) (reply, error) { return c.notify("personal") })
	reg(m, "im.message.add", (*call).messageAdd)
}

func userRow(u *User) obj {
	deps := []any{}
	for _, d := range u.Departments {
		deps = append(deps, d)
	}
	if len(deps) == 0 {
		deps = []any{1}
	}
	var inner any
	if u.Inner != "" {
		inner = u.Inner
	}
	return obj{
		"ID": strconv.Itoa(u.ID), "ACTIVE": u.Active, "NAME": u.Name, "LAST_NAME": u.LastName, "SECOND_NAME": "",
		"EMAIL": u.Email, "LAST_LOGIN": "2026-01-15T09:00:00+03:00", "DATE_REGISTER": "2025-01-10T00:00:00+03:00",
		"IS_ONLINE": "N", "PERSONAL_MOBILE": u.Mobile, "WORK_PHONE": "", "WORK_POSITION": u.WorkPosition,
		"UF_DEPARTMENT": deps, "UF_PHONE_INNER": inner, "USER_TYPE": "employee",
	}
}

func userGetter(u *User) getter {
	row := userRow(u)
	return func(f string) ([]string, bool) {
		switch f {
		case "ACTIVE":
			return []string{yesNo(u.Active)}, false
		case "UF_DEPARTMENT":
			var out []string
			for _, d := range row["UF_DEPARTMENT"].([]any) {
				out = append(out, phpString(d))
			}
			return out, false
		case "NAME_SEARCH", "FIND":
			return []string{u.Name + " " + u.LastName}, false
		}
		if v, ok := row[f].(string); ok {
			return []string{v}, false
		}
		return nil, false
	}
}

// normaliseUserFilter maps ACTIVE true/false/Y/N to Y/N and turns
// NAME_SEARCH/FIND into substring matches.
func normaliseUserFilter(a *Arr) []cond {
	conds := parseFilter(a)
	for i, c := range conds {
		if c.field == "ACTIVE" {
			for j, v := range c.values {
				switch strings.ToUpper(v) {
				case "Y", "1", "TRUE":
					conds[i].values[j] = "Y"
				default:
					conds[i].values[j] = "N"
				}
			}
		}
		if (c.field == "NAME_SEARCH" || c.field == "FIND") && c.op == "=" {
			conds[i].op = "%"
		}
	}
	return conds
}

func (c *call) userGet() (reply, error) {
	filter := NewArr()
	if v, ok := lookup(c.params, "FILTER", "filter"); ok {
		if a, isArr := v.(*Arr); isArr {
			filter = a
		}
	}
	for _, k := range c.params.Keys() {
		switch strings.ToUpper(k) {
		case "FILTER", "SORT", "ORDER", "SELECT", "ADMIN_MODE":
			continue
		}
		v, _ := c.params.Get(k)
		if _, isArr := v.(*Arr); !isArr {
			filter.Set(k, v)
		}
	}
	return c.userList(normaliseUserFilter(filter))
}

func (c *call) userSearch() (reply, error) {
	filter := NewArr()
	if v, ok := lookup(c.params, "FILTER", "filter"); ok {
		if a, isArr := v.(*Arr); isArr {
			filter = a
		}
	}
	conds := normaliseUserFilter(filter)
	for i, cd := range conds {
		if cd.op == "=" && (cd.field == "NAME" || cd.field == "LAST_NAME" || cd.field == "WORK_POSITION") {
			conds[i].op = "%"
		}
	}
	return c.userList(conds)
}

func (c *call) userList(conds []cond) (reply, error) {
	var rows []*User
	for _, u := range c.st.Users {
		if matchAll(conds, userGetter(u), c.s.loc) {
			rows = append(rows, u)
		}
	}
	page, rep := paginate(rows, c.start)
	out := make([]any, 0, len(page))
	for _, u := range page {
		out = append(out, userRow(u))
	}
	rep.result = out
	return rep, nil
}

func (c *call) notify(kind string) (reply, error) {
	uid := phpInt(valueOr(c.params, "USER_ID"))
	if uid <= 0 {
		return reply{}, newErr(400, "USER_ID_EMPTY", "User ID can't be empty")
	}
	msg := phpString(valueOr(c.params, "MESSAGE"))
	if strings.TrimSpace(msg) == "" {
		return reply{}, newErr(400, "MESSAGE_EMPTY", "Message can't be empty")
	}
	if len(phpString(valueOr(c.params, "ATTACH"))) > 60000 {
		return reply{}, newErr(400, "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attachments")
	}
	from := 0
	if kind == "personal" {
		from = c.auth.userID
	}
	m := Message{ID: c.st.nextID("message"), Kind: kind, FromUser: from, ToUser: uid, Text: msg,
		Tag: phpString(valueOr(c.params, "TAG")), Created: c.s.now()}
	c.st.Messages = append(c.st.Messages, m)
	return reply{result: m.ID}, nil
}

func (c *call) messageAdd() (reply, error) {
	dialog := phpString(valueOr(c.params, "DIALOG_ID"))
	if dialog == "" {
		return reply{}, newErr(400, "USER_ID_EMPTY", "User ID can't be empty")
	}
	msg := phpString(valueOr(c.params, "MESSAGE"))
	if strings.TrimSpace(msg) == "" && valueOr(c.params, "ATTACH") == nil {
		return reply{}, newErr(400, "MESSAGE_EMPTY", "Message can't be empty")
	}
	to := 0
	if n, err := strconv.Atoi(dialog); err == nil {
		if c.st.user(n) == nil {
			return reply{}, newErr(400, "USER_NOT_FOUND", "User not found")
		}
		to = n
	}
	m := Message{ID: c.st.nextID("message"), Kind: "message", FromUser: c.auth.userID, ToUser: to, DialogID: dialog,
		Text: msg, Created: c.s.now()}
	c.st.Messages = append(c.st.Messages, m)
	return reply{result: m.ID}, nil
}
