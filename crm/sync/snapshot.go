package sync

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// readSnapshot reads what Bitrix24 holds for the client of number in one
// batch: the duplicate search by phone, and — through $result references
// to its answer — the found leads, contacts and companies, their deals and
// their open call activities. The portal's CRM mode, users and pipelines
// ride along in the same batch when the cache is cold. It returns the
// number of requests it made (1, more only when a portal list has more
// than one page).
func (e *Engine) readSnapshot(ctx context.Context, pc *portalConn, number string) (rules.Snapshot, int, error) {
	b := b24.NewBatch()
	pd := pc.cached(e.now(), e.opts.PortalDataTTL)
	if pd == nil {
		b.Add("mode", "crm.settings.mode.get", nil)
		b.Add("users", "user.get", b24.Params{"sort": "ID", "order": "ASC"})
		b.Add("st_lead", "crm.status.list", b24.Params{"filter": b24.Params{"ENTITY_ID": "STATUS"}, "order": b24.Params{"SORT": "ASC"}})
		b.Add("st_deal", "crm.status.list", b24.Params{"filter": b24.Params{"%ENTITY_ID": "DEAL_STAGE"}, "order": b24.Params{"SORT": "ASC"}})
		b.Add("cats", "crm.category.list", b24.Params{"entityTypeId": 2})
	}
	b.Add("dup", "crm.duplicate.findbycomm", b24.Params{"type": "PHONE", "values": []string{number}})
	sel := []string{"*", "UF_*"}
	b.Add("leads", "crm.lead.list", b24.Params{"filter": b24.Params{"ID": b24.Ref("dup", "LEAD")}, "select": sel})
	b.Add("contacts", "crm.contact.list", b24.Params{"filter": b24.Params{"ID": b24.Ref("dup", "CONTACT")}, "select": sel})
	b.Add("companies", "crm.company.list", b24.Params{"filter": b24.Params{"ID": b24.Ref("dup", "COMPANY")}, "select": sel})
	b.Add("deals_c", "crm.deal.list", b24.Params{"filter": b24.Params{"CONTACT_ID": b24.Ref("dup", "CONTACT")}, "select": sel})
	b.Add("deals_co", "crm.deal.list", b24.Params{"filter": b24.Params{"COMPANY_ID": b24.Ref("dup", "COMPANY")}, "select": sel})
	b.Add("deals_l", "crm.deal.list", b24.Params{"filter": b24.Params{"LEAD_ID": b24.Ref("dup", "LEAD")}, "select": sel})
	actSel := []string{"ID", "START_TIME", "OWNER_ID", "OWNER_TYPE_ID", "BINDINGS"}
	for _, t := range []struct {
		key  string
		typ  int
		from string
	}{{"acts_l", 1, "LEAD"}, {"acts_c", 3, "CONTACT"}, {"acts_co", 4, "COMPANY"}} {
		b.Add(t.key, "crm.activity.list", b24.Params{"filter": b24.Params{
			"OWNER_TYPE_ID": t.typ, "OWNER_ID": b24.Ref("dup", t.from), "TYPE_ID": b24.ActivityTypeCall, "COMPLETED": "N",
		}, "select": actSel})
	}
	// Shared: calls read at the same moment travel in one request.
	res, err := pc.client.BatchShared(ctx, b)
	if err != nil {
		return rules.Snapshot{}, 1, fmt.Errorf("snapshot: %w", err)
	}
	requests := 1
	if pd == nil {
		var n int
		if pd, n, err = e.portalDataFrom(ctx, pc, res); err != nil {
			return rules.Snapshot{}, requests, err
		}
		requests += n
		pc.store(pd, e.now())
	}
	snap := rules.Snapshot{Mode: pd.Mode, Users: pd.Users, Pipelines: pd.Pipelines, LeadStatuses: pd.LeadStatuses}
	var dup map[string][]b24.Int
	if err := res.Decode("dup", &dup); err != nil {
		// [] (PHP's empty map) when nothing is found.
		var none []any
		if res.Decode("dup", &none) != nil {
			return rules.Snapshot{}, requests, fmt.Errorf("snapshot: duplicate search: %w", err)
		}
	}
	has := func(k string) bool { return len(dup[k]) > 0 }
	lists := []struct {
		key  string
		need string
		typ  settings.EntityType
		into *[]rules.Entity
	}{
		{"leads", "LEAD", settings.EntityLead, &snap.Leads},
		{"contacts", "CONTACT", settings.EntityContact, &snap.Contacts},
		{"companies", "COMPANY", settings.EntityCompany, &snap.Companies},
		{"deals_c", "CONTACT", settings.EntityDeal, &snap.Deals},
		{"deals_co", "COMPANY", settings.EntityDeal, &snap.Deals},
		{"deals_l", "LEAD", settings.EntityDeal, &snap.Deals},
	}
	for _, l := range lists {
		if !has(l.need) {
			continue // the reference had nothing to point at
		}
		var rows []b24.Entity
		if err := res.Decode(l.key, &rows); err != nil {
			return rules.Snapshot{}, requests, fmt.Errorf("snapshot: %s: %w", l.key, err)
		}
		for _, r := range rows {
			ent := toEntity(l.typ, r)
			if !slices.ContainsFunc(*l.into, func(x rules.Entity) bool { return x.ID == ent.ID }) {
				*l.into = append(*l.into, ent)
			}
		}
	}
	for _, a := range []struct{ key, need string }{{"acts_l", "LEAD"}, {"acts_c", "CONTACT"}, {"acts_co", "COMPANY"}} {
		if !has(a.need) {
			continue
		}
		var rows []activityRow
		if err := res.Decode(a.key, &rows); err != nil {
			return rules.Snapshot{}, requests, fmt.Errorf("snapshot: %s: %w", a.key, err)
		}
		for _, r := range rows {
			if !slices.ContainsFunc(snap.Activities, func(x rules.Activity) bool { return x.ID == int(r.ID) }) {
				snap.Activities = append(snap.Activities, r.activity())
			}
		}
	}
	return snap, requests, nil
}

type activityRow struct {
	ID          b24.Int  `json:"ID"`
	StartTime   b24.Time `json:"START_TIME"`
	OwnerID     b24.Int  `json:"OWNER_ID"`
	OwnerTypeID b24.Int  `json:"OWNER_TYPE_ID"`
	Bindings    []struct {
		OwnerID     b24.Int `json:"OWNER_ID"`
		OwnerTypeID b24.Int `json:"OWNER_TYPE_ID"`
	} `json:"BINDINGS"`
}

func (r activityRow) activity() rules.Activity {
	a := rules.Activity{ID: int(r.ID), StartedAt: r.StartTime.Time}
	add := func(typ, id int) {
		t := settings.EntityType(b24.EntityTypeFromID(typ))
		if t == "" || id <= 0 {
			return
		}
		b := rules.Binding{Entity: t, ID: id}
		if !slices.Contains(a.Bindings, b) {
			a.Bindings = append(a.Bindings, b)
		}
	}
	add(int(r.OwnerTypeID), int(r.OwnerID))
	for _, b := range r.Bindings {
		add(int(b.OwnerTypeID), int(b.OwnerID))
	}
	return a
}

func semantics(s string) rules.Semantics {
	switch s {
	case "S":
		return rules.SemanticsSuccess
	case "F":
		return rules.SemanticsFailure
	}
	return rules.SemanticsProcess
}

func toEntity(t settings.EntityType, r b24.Entity) rules.Entity {
	e := rules.Entity{ID: int(r.ID), Responsible: int(r.AssignedByID), ModifiedAt: r.DateModify.Time}
	switch t {
	case settings.EntityLead:
		e.Semantics = semantics(string(r.StatusSemanticID))
		e.StageID = string(r.StatusID)
	case settings.EntityDeal:
		e.Semantics = semantics(string(r.StageSemanticID))
		e.Closed = bool(r.Closed)
		e.CategoryID = int(r.CategoryID)
		e.StageID = string(r.StageID)
	}
	for k := range r.Extra {
		if strings.HasPrefix(k, "UF_CRM_") {
			if v := r.UserField(k); v != "" {
				if e.Fields == nil {
					e.Fields = map[string]string{}
				}
				e.Fields[k] = v
			}
		}
	}
	return e
}

// portalDataFrom reads the portal part of a snapshot batch, fetching the
// further pages of users and deal stages when there are any.
func (e *Engine) portalDataFrom(ctx context.Context, pc *portalConn, res *b24.BatchResult) (*portalData, int, error) {
	requests := 0
	pd := &portalData{Mode: rules.ModeClassic}
	var mode b24.Int
	if err := res.Decode("mode", &mode); err != nil {
		return nil, requests, fmt.Errorf("snapshot: crm mode: %w", err)
	}
	if b24.CRMMode(mode) == b24.ModeSimple {
		pd.Mode = rules.ModeSimple
	}
	var users []b24.User
	if err := res.Decode("users", &users); err != nil {
		return nil, requests, fmt.Errorf("snapshot: users: %w", err)
	}
	if _, more := res.Nexts["users"]; more {
		all, err := pc.client.Users(ctx, nil)
		requests += (len(all) + 49) / 50
		if err != nil {
			return nil, requests, fmt.Errorf("snapshot: users: %w", err)
		}
		users = all
	}
	for _, u := range users {
		pd.Users = append(pd.Users, rules.User{ID: int(u.ID), Name: u.FullName(), InnerPhone: string(u.PhoneInner), Active: bool(u.Active)})
	}
	var leadStages, dealStages []b24.Stage
	if err := res.Decode("st_lead", &leadStages); err != nil {
		return nil, requests, fmt.Errorf("snapshot: lead statuses: %w", err)
	}
	if err := res.Decode("st_deal", &dealStages); err != nil {
		return nil, requests, fmt.Errorf("snapshot: deal stages: %w", err)
	}
	if _, more := res.Nexts["st_deal"]; more {
		all, err := b24.ListAll[b24.Stage](ctx, pc.client, "crm.status.list", b24.Params{"filter": b24.Params{"%ENTITY_ID": "DEAL_STAGE"}, "order": b24.Params{"SORT": "ASC"}})
		requests += (len(all) + 49) / 50
		if err != nil {
			return nil, requests, fmt.Errorf("snapshot: deal stages: %w", err)
		}
		dealStages = all
	}
	for _, s := range leadStages {
		pd.LeadStatuses = append(pd.LeadStatuses, rules.Stage{ID: string(s.StatusID), Name: string(s.Name), Semantics: semantics(string(s.Semantics))})
	}
	var cats struct {
		Categories []b24.Category `json:"categories"`
	}
	if err := res.Decode("cats", &cats); err != nil {
		return nil, requests, fmt.Errorf("snapshot: pipelines: %w", err)
	}
	for _, c := range cats.Categories {
		p := rules.Pipeline{ID: int(c.ID), Name: string(c.Name)}
		want := "DEAL_STAGE"
		if c.ID != 0 {
			want = "DEAL_STAGE_" + strconv.Itoa(int(c.ID))
		}
		for _, s := range dealStages {
			if string(s.EntityID) == want {
				p.Stages = append(p.Stages, rules.Stage{ID: string(s.StatusID), Name: string(s.Name), Semantics: semantics(string(s.Semantics))})
			}
		}
		pd.Pipelines = append(pd.Pipelines, p)
	}
	return pd, requests, nil
}
