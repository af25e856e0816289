package b24sim

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Seed describes an initial portal: users, pipelines and stages, user
// fields, CRM entities and external lines. Missing parts get defaults (lead
// statuses, sources, the default pipeline, one admin user).
type Seed struct {
	Mode         int            `json:"mode,omitempty"`
	Users        []User         `json:"users,omitempty"`
	LeadStatuses []SeedStage    `json:"lead_statuses,omitempty"`
	Categories   []SeedCategory `json:"categories,omitempty"`
	UserFields   []UserField    `json:"user_fields,omitempty"`
	Leads        []SeedEntity   `json:"leads,omitempty"`
	Contacts     []SeedEntity   `json:"contacts,omitempty"`
	Companies    []SeedEntity   `json:"companies,omitempty"`
	Deals        []SeedEntity   `json:"deals,omitempty"`
	Lines        []Line         `json:"lines,omitempty"`
}

// SeedStage is a stage of a pipeline or a lead status. StatusID is given
// without the "C{n}:" prefix for non-default pipelines. Semantics is "", "S"
// or "F".
type SeedStage struct {
	StatusID  string `json:"status_id"`
	Name      string `json:"name"`
	Sort      int    `json:"sort"`
	Semantics string `json:"semantics,omitempty"`
	Color     string `json:"color,omitempty"`
}

// SeedCategory is a deal pipeline with its stages (default stages when empty).
type SeedCategory struct {
	ID     int         `json:"id"`
	Name   string      `json:"name"`
	Sort   int         `json:"sort"`
	Stages []SeedStage `json:"stages,omitempty"`
}

// SeedEntity is a CRM entity in REST add form ("fields" as for crm.*.add,
// e.g. PHONE as [{"VALUE":…,"VALUE_TYPE":…}]). ID forces the id.
type SeedEntity struct {
	ID     int            `json:"id,omitempty"`
	Fields map[string]any `json:"fields"`
}

// LoadSeed reads a Seed from a JSON file.
func LoadSeed(path string) (*Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load seed: %w", err)
	}
	var sd Seed
	if err := json.Unmarshal(b, &sd); err != nil {
		return nil, fmt.Errorf("load seed %s: %w", path, err)
	}
	return &sd, nil
}

var defaultLeadStatuses = []SeedStage{
	{"NEW", "Не обработан", 10, "", "#2FC6F6"}, {"IN_PROCESS", "В работе", 20, "", "#FFA900"},
	{"PROCESSED", "Обработан", 30, "", "#00C4FB"}, {"CONVERTED", "Качественный лид", 50, "S", "#7BD500"},
	{"JUNK", "Некачественный лид", 60, "F", "#FF5752"},
}

var defaultDealStages = []SeedStage{
	{"NEW", "Новая", 10, "", "#39A8EF"}, {"PREPARATION", "Подготовка документов", 20, "", "#2FC6F6"},
	{"PREPAYMENT_INVOICE", "Счёт на предоплату", 30, "", "#55D0E0"}, {"EXECUTING", "В работе", 40, "", "#47E4C2"},
	{"FINAL_INVOICE", "Финальный счёт", 50, "", "#FFA900"}, {"WON", "Сделка успешна", 60, "S", "#7BD500"},
	{"LOSE", "Сделка провалена", 70, "F", "#FF5752"}, {"APOLOGY", "Анализ причины провала", 80, "F", "#FF5752"},
}

var defaultSources = []string{"CALL", "EMAIL", "WEB", "ADVERTISING", "PARTNER", "RECOMMENDATION", "TRADE_SHOW", "WEBFORM", "CALLBACK", "RC_GENERATOR", "STORE", "OTHER"}

var simpleDirectories = map[string][]string{
	"CONTACT_TYPE": {"CLIENT", "SUPPLIER", "PARTNER", "OTHER"},
	"COMPANY_TYPE": {"CUSTOMER", "SUPPLIER", "COMPETITOR", "PARTNER", "OTHER"},
	"DEAL_TYPE":    {"SALE", "COMPLEX", "GOODS", "SERVICES", "SERVICE"},
	"HONORIFIC":    {"HNR_RU_1", "HNR_RU_2"},
	"INDUSTRY":     {"IT", "TELECOM", "MANUFACTURING", "BANKING", "CONSULTING", "FINANCE", "GOVERNMENT", "DELIVERY", "ENTERTAINMENT", "NOTPROFIT", "OTHER"},
	"EMPLOYEES":    {"EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3", "EMPLOYEES_4"},
}

// DemoSeed is the portal served without flags: a few users with inner
// numbers, two pipelines and contacts with Russian phone numbers.
func DemoSeed() *Seed {
	return &Seed{
		Users: []User{
			{ID: 1, Name: "Иван", LastName: "Петров", Email: "admin@example.ru", Inner: "101", Active: true, Admin: true, WorkPosition: "Руководитель отдела продаж", TimemanStatus: "OPENED"},
			{ID: 2, Name: "Мария", LastName: "Смирнова", Email: "maria@example.ru", Inner: "102", Active: true, WorkPosition: "Менеджер", Mobile: "+79161234502", TimemanStatus: "OPENED"},
			{ID: 3, Name: "Алексей", LastName: "Кузнецов", Email: "alexey@example.ru", Inner: "103", Active: true, WorkPosition: "Менеджер", TimemanStatus: "CLOSED"},
			{ID: 4, Name: "Ольга", LastName: "Уволенная", Email: "olga@example.ru", Inner: "104", Active: false},
		},
		Categories: []SeedCategory{
			{ID: 0, Name: "Общая", Sort: 100},
			{ID: 1, Name: "Повторные продажи", Sort: 200, Stages: []SeedStage{
				{"NEW", "Новая", 10, "", ""}, {"EXECUTING", "В работе", 20, "", ""},
				{"WON", "Успешно", 30, "S", ""}, {"LOSE", "Провал", 40, "F", ""},
			}},
		},
		UserFields: []UserField{{EntityID: "CRM_LEAD", FieldName: "UF_CRM_CALL_COMMENT", UserTypeID: "string", Label: "Комментарий звонка", Sort: 100}},
		Companies: []SeedEntity{
			{Fields: map[string]any{"TITLE": "ООО «Ромашка»", "ASSIGNED_BY_ID": 2, "PHONE": []any{map[string]any{"VALUE": "+7 (495) 123-45-67", "VALUE_TYPE": "WORK"}}}},
		},
		Contacts: []SeedEntity{
			{Fields: map[string]any{"NAME": "Сергей", "LAST_NAME": "Иванов", "ASSIGNED_BY_ID": 2, "COMPANY_ID": 1, "PHONE": []any{map[string]any{"VALUE": "+7 (999) 123-45-67", "VALUE_TYPE": "MOBILE"}}}},
			{Fields: map[string]any{"NAME": "Анна", "LAST_NAME": "Соколова", "ASSIGNED_BY_ID": 3, "PHONE": []any{map[string]any{"VALUE": "8 916 555-12-34", "VALUE_TYPE": "WORK"}}, "EMAIL": []any{map[string]any{"VALUE": "anna@example.ru", "VALUE_TYPE": "WORK"}}}},
			{Fields: map[string]any{"NAME": "Дмитрий", "LAST_NAME": "Волков", "ASSIGNED_BY_ID": 2, "PHONE": []any{map[string]any{"VALUE": "+79035550011", "VALUE_TYPE": "MOBILE"}}}},
		},
		Leads: []SeedEntity{
			{Fields: map[string]any{"TITLE": "Входящий звонок +7 926 111-22-33", "NAME": "Павел", "STATUS_ID": "IN_PROCESS", "SOURCE_ID": "CALL", "ASSIGNED_BY_ID": 3, "PHONE": []any{map[string]any{"VALUE": "+79261112233", "VALUE_TYPE": "WORK"}}}},
		},
		Deals: []SeedEntity{
			{Fields: map[string]any{"TITLE": "Поставка оборудования", "CATEGORY_ID": 0, "STAGE_ID": "PREPARATION", "CONTACT_IDS": []any{1}, "COMPANY_ID": 1, "ASSIGNED_BY_ID": 2, "OPPORTUNITY": 150000}},
		},
	}
}

// buildPortal creates a portal from seed (nil = demo).
func (s *Server) buildPortal(seed *Seed) (*State, error) {
	if seed == nil {
		seed = DemoSeed()
	}
	st := &State{Mode: s.opts.Mode, MemberID: randomHex(16), ApplicationToken: randomHex(16), Seq: map[string]int{}}
	if seed.Mode != 0 && s.opts.Mode == ModeClassic {
		st.Mode = seed.Mode
	}
	st.reindex()
	if err := s.applySeed(st, seed); err != nil {
		return nil, err
	}
	if len(st.Users) == 0 {
		st.Users = append(st.Users, &User{ID: 1, Name: "Admin", LastName: "Admin", Inner: "100", Active: true, Admin: true})
	}
	return st, nil
}

func (st *State) addStages(entityID, prefix string, cat *int, stages []SeedStage) {
	for _, sg := range stages {
		id := sg.StatusID
		if prefix != "" && !strings.HasPrefix(id, prefix) {
			id = prefix + id
		}
		st.Statuses = append(st.Statuses, Status{ID: st.nextID("status"), EntityID: entityID, StatusID: id, Name: sg.Name,
			Sort: sg.Sort, System: true, CategoryID: cat, Color: sg.Color, Semantics: sg.Semantics})
	}
}

// applySeed adds seed content to st (statuses and the default pipeline are
// created when missing).
func (s *Server) applySeed(st *State, seed *Seed) error {
	if !st.hasStatus("STATUS", "NEW") || len(seed.LeadStatuses) > 0 {
		ls := seed.LeadStatuses
		if len(ls) == 0 {
			ls = defaultLeadStatuses
		}
		st.removeStatuses("STATUS")
		st.addStages("STATUS", "", nil, ls)
	}
	if !st.hasStatus("SOURCE", "CALL") {
		for i, src := range defaultSources {
			st.Statuses = append(st.Statuses, Status{ID: st.nextID("status"), EntityID: "SOURCE", StatusID: src, Name: src, Sort: (i + 1) * 10, System: true})
		}
		for _, dir := range sortedKeys(simpleDirectories) {
			for i, v := range simpleDirectories[dir] {
				st.Statuses = append(st.Statuses, Status{ID: st.nextID("status"), EntityID: dir, StatusID: v, Name: v, Sort: (i + 1) * 10, System: true})
			}
		}
	}
	cats := seed.Categories
	if !st.hasCategory(0) {
		has0 := false
		for _, c := range cats {
			has0 = has0 || c.ID == 0
		}
		if !has0 {
			cats = append([]SeedCategory{{ID: 0, Name: "General", Sort: 100}}, cats...)
		}
	}
	for _, c := range cats {
		stages := c.Stages
		if len(stages) == 0 {
			stages = defaultDealStages
		}
		st.removeCategory(c.ID)
		st.Categories = append(st.Categories, Category{ID: c.ID, Name: c.Name, Sort: c.Sort})
		prefix := ""
		if c.ID != 0 {
			prefix = fmt.Sprintf("C%d:", c.ID)
		}
		id := c.ID
		var catp *int
		if c.ID != 0 {
			catp = &id
		}
		st.removeStatuses(stageEntityID(c.ID))
		st.addStages(stageEntityID(c.ID), prefix, catp, stages)
	}
	for _, u := range seed.Users {
		if st.user(u.ID) != nil {
			*st.user(u.ID) = u
			continue
		}
		st.Users = append(st.Users, &u)
	}
	for _, u := range seed.UserFields {
		if u.ID == 0 {
			u.ID = st.nextID("userfield")
		}
		if u.Sort == 0 {
			u.Sort = 100
		}
		st.UserFields = append(st.UserFields, u)
	}
	for _, grp := range []struct {
		typ  string
		list []SeedEntity
	}{{"COMPANY", seed.Companies}, {"CONTACT", seed.Contacts}, {"LEAD", seed.Leads}, {"DEAL", seed.Deals}} {
		for _, se := range grp.list {
			b, err := json.Marshal(se.Fields)
			if err != nil {
				return fmt.Errorf("seed %s: %w", strings.ToLower(grp.typ), err)
			}
			v, err := DecodeJSON(b)
			if err != nil {
				return fmt.Errorf("seed %s: %w", strings.ToLower(grp.typ), err)
			}
			fields, ok := v.(*Arr)
			if !ok {
				fields = NewArr()
			}
			if se.ID > 0 {
				fields.Set("__ID", se.ID)
			}
			actor := phpInt(valueOr(fields, "ASSIGNED_BY_ID"))
			if actor == 0 {
				actor = 1
			}
			if _, cerr := s.createEntity(st, grp.typ, fields, actor, true); cerr != nil {
				return fmt.Errorf("seed %s: %s", strings.ToLower(grp.typ), cerr.Description)
			}
		}
	}
	for _, l := range seed.Lines {
		if l.ID == 0 {
			l.ID = st.nextID("line")
		}
		if l.AppID == "" {
			l.AppID = s.opts.ClientID
		}
		st.Lines = append(st.Lines, l)
	}
	return nil
}

func (st *State) removeStatuses(entityID string) {
	kept := st.Statuses[:0]
	for _, x := range st.Statuses {
		if x.EntityID != entityID {
			kept = append(kept, x)
		}
	}
	st.Statuses = kept
}

func (st *State) removeCategory(id int) {
	kept := st.Categories[:0]
	for _, x := range st.Categories {
		if x.ID != id {
			kept = append(kept, x)
		}
	}
	st.Categories = kept
}
