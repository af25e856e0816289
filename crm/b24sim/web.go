package b24sim

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

//go:embed web/*.html
var webFS embed.FS

var pageTmpl = template.Must(template.ParseFS(webFS, "web/portal.html"))

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

type webPhone struct {
	Value, ValueType string
}

type webEntity struct {
	Type, Title, Assigned, Stage string
	ID                           int
	Phones                       []webPhone
	Calls                        []webCall
}

type webCall struct {
	ID                             int
	Subject, Start, Status, Origin string
	Missed                         bool
}

type webPage struct {
	Msg        string
	UserID     int
	Mode       string
	Users      []*User
	Entities   []webEntity
	Requests   []logEntry
	Counts     []webCount
	ActiveCall []*Call
	Offline    int
}

type webCount struct {
	Method string
	N      int
}

// serveWeb renders the portal page: users, entities with phones and call
// activities, and the request log. Phone numbers are submit buttons of a
// click-to-call form, so no JavaScript is needed.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	p := webPage{Msg: r.URL.Query().Get("msg"), UserID: phpInt(r.URL.Query().Get("user_id"))}
	s.mu.Lock()
	st := s.st
	p.Mode = map[int]string{ModeClassic: "classic (with leads)", ModeSimple: "simple (without leads)"}[st.Mode]
	for _, u := range st.Users {
		cp := *u
		p.Users = append(p.Users, &cp)
	}
	if p.UserID == 0 && len(st.Users) > 0 {
		p.UserID = st.Users[0].ID
	}
	userName := func(id int) string {
		if u := st.user(id); u != nil {
			return u.Name + " " + u.LastName
		}
		return ""
	}
	for _, e := range st.Entities {
		we := webEntity{Type: e.Type, ID: e.ID, Title: entityName(e), Assigned: userName(phpInt(e.Fields["ASSIGNED_BY_ID"]))}
		if we.Title == "" {
			we.Title = e.Type + " #" + strconv.Itoa(e.ID)
		}
		we.Stage = fieldStr(e, "STATUS_ID") + fieldStr(e, "STAGE_ID")
		for _, m := range e.Multi {
			if m.TypeID == "PHONE" {
				we.Phones = append(we.Phones, webPhone{Value: m.Value, ValueType: m.ValueType})
			}
		}
		for _, a := range st.Activities {
			if a.Fields["TYPE_ID"] != "2" {
				continue
			}
			for _, b := range a.Bindings {
				if b.OwnerTypeID == ownerTypeID(e.Type) && b.OwnerID == e.ID {
					_, missed := a.Fields["SETTINGS"].(map[string]any)["MISSED_CALL"]
					origin, _ := a.Fields["ORIGIN_ID"].(string)
					start, _ := a.Fields["START_TIME"].(string)
					we.Calls = append(we.Calls, webCall{ID: a.ID, Subject: fieldString(a.Fields["SUBJECT"]), Start: start,
						Status: fieldString(a.Fields["COMPLETED"]), Origin: origin, Missed: missed})
				}
			}
		}
		p.Entities = append(p.Entities, we)
	}
	for _, c := range st.Calls {
		cp := *c
		p.ActiveCall = append(p.ActiveCall, &cp)
	}
	p.Offline = len(st.Offline)
	s.mu.Unlock()
	order := map[string]int{"CONTACT": 0, "COMPANY": 1, "LEAD": 2, "DEAL": 3}
	sort.SliceStable(p.Entities, func(i, j int) bool { return order[p.Entities[i].Type] < order[p.Entities[j].Type] })
	snap := s.reqlog.snapshot()
	reqs := snap["requests"].([]logEntry)
	for i := len(reqs) - 1; i >= 0 && len(p.Requests) < 50; i-- {
		p.Requests = append(p.Requests, reqs[i])
	}
	counts := snap["counts"].(obj)
	for _, k := range sortedKeys(map[string]any(counts)) {
		p.Counts = append(p.Counts, webCount{Method: k, N: counts[k].(int)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, p); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
	}
}

func fieldString(v any) string {
	s, _ := v.(string)
	return s
}
