package b24sim

import (
	"sort"
	"strconv"
	"strings"
)

func stageEntityID(cat int) string {
	if cat == 0 {
		return "DEAL_STAGE"
	}
	return "DEAL_STAGE_" + strconv.Itoa(cat)
}

func (st *State) statuses(entityID string) []Status {
	var out []Status
	for _, s := range st.Statuses {
		if s.EntityID == entityID {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Sort < out[j].Sort })
	return out
}

func (st *State) hasStatus(entityID, statusID string) bool {
	for _, s := range st.Statuses {
		if s.EntityID == entityID && s.StatusID == statusID {
			return true
		}
	}
	return false
}

func (st *State) firstStatus(entityID string) string {
	if l := st.statuses(entityID); len(l) > 0 {
		return l[0].StatusID
	}
	return ""
}

func (st *State) hasCategory(id int) bool {
	for _, c := range st.Categories {
		if c.ID == id {
			return true
		}
	}
	return false
}

// semantics derives P/S/F for a stage: the success stage is S, failure
// stages are F, and any stage sorted after the success stage is F.
func (st *State) semantics(entityID, statusID string) string {
	list := st.statuses(entityID)
	successSort := -1
	for _, s := range list {
		if s.Semantics == "S" {
			successSort = s.Sort
		}
	}
	for _, s := range list {
		if s.StatusID != statusID {
			continue
		}
		switch {
		case s.Semantics == "S":
			return "S"
		case s.Semantics == "F":
			return "F"
		case successSort >= 0 && s.Sort > successSort:
			return "F"
		}
		return "P"
	}
	return "P"
}

func isStageEntity(entityID string) bool {
	return entityID == "STATUS" || strings.HasPrefix(entityID, "DEAL_STAGE")
}

func (st *State) statusRow(s Status) obj {
	var cat, sem any
	if s.CategoryID != nil {
		cat = strconv.Itoa(*s.CategoryID)
	}
	o := obj{
		"ID": strconv.Itoa(s.ID), "ENTITY_ID": s.EntityID, "STATUS_ID": s.StatusID, "NAME": s.Name,
		"NAME_INIT": s.Name, "SORT": strconv.Itoa(s.Sort), "SYSTEM": yesNo(s.System), "CATEGORY_ID": cat,
	}
	if isStageEntity(s.EntityID) {
		derived := st.semantics(s.EntityID, s.StatusID)
		extra := "process"
		switch {
		case derived == "S":
			sem, extra = "S", "success"
		case derived == "F" && s.Semantics == "F" && !strings.HasSuffix(s.StatusID, "APOLOGY"):
			sem, extra = "F", "failure"
		case derived == "F":
			sem, extra = "F", "apology"
		}
		color := s.Color
		if color == "" {
			color = "#39A8EF"
		}
		o["COLOR"] = color
		o["SEMANTICS"] = sem
		o["EXTRA"] = obj{"SEMANTICS": extra, "COLOR": color}
	}
	return o
}

func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func statusMethods(m map[string]*method) {
	reg(m, "crm.status.list", (*call).statusList)
	reg(m, "crm.status.entity.items", (*call).statusEntityItems)
	reg(m, "crm.category.list", (*call).categoryList)
	reg(m, "crm.dealcategory.stage.list", (*call).dealCategoryStageList)
}

func (c *call) statusList() (reply, error) {
	filter, err := c.crmArrParam("filter", false)
	if err != nil {
		return reply{}, err
	}
	if v, ok := filter.Get("ENTITY_ID"); ok {
		if _, isArr := v.(*Arr); isArr {
			return reply{}, crmErr("Filter by ENTITY_ID must be a string")
		}
	}
	order, err := c.crmArrParam("order", false)
	if err != nil {
		return reply{}, err
	}
	conds := parseFilter(filter)
	var rows []obj
	for _, s := range c.st.Statuses {
		row := c.st.statusRow(s)
		get := func(f string) ([]string, bool) {
			if v, ok := row[f].(string); ok {
				return []string{v}, false
			}
			return nil, false
		}
		if matchAll(conds, get, c.s.loc) {
			rows = append(rows, row)
		}
	}
	ord := parseOrder(order)
	if len(ord) == 0 {
		ord = []orderBy{{field: "SORT"}}
	}
	sortRows(rows, ord, func(o obj, f string) (string, bool) { v, _ := o[f].(string); return v, false }, c.s.loc)
	page, rep := paginate(rows, c.start)
	out := make([]any, 0, len(page))
	for _, r := range page {
		out = append(out, r)
	}
	rep.result = out
	return rep, nil
}

func (c *call) statusEntityItems() (reply, error) {
	v, ok := lookup(c.params, "entityId", "ENTITY_ID", "entity_id", "ENTITYID", "entityid")
	id := phpString(v)
	if !ok || id == "" {
		return reply{}, crmErr("The parameter 'entityId' is not defined or invalid.")
	}
	out := []any{}
	for _, s := range c.st.statuses(id) {
		out = append(out, obj{"NAME": s.Name, "SORT": s.Sort, "STATUS_ID": s.StatusID})
	}
	return reply{result: out}, nil
}

func (c *call) dealCategoryStageList() (reply, error) {
	v, _ := lookup(c.params, "id", "ID")
	cat := phpInt(v)
	if !c.st.hasCategory(cat) {
		return reply{}, crmErr("Could not find deal category.")
	}
	out := []any{}
	for _, s := range c.st.statuses(stageEntityID(cat)) {
		out = append(out, obj{"NAME": s.Name, "SORT": s.Sort, "STATUS_ID": s.StatusID})
	}
	return reply{result: out}, nil
}

func (c *call) categoryList() (reply, error) {
	v, _ := lookup(c.params, "entityTypeId", "ENTITYTYPEID", "entitytypeid")
	et := phpInt(v)
	if et != ownerDeal {
		return reply{}, newErr(400, "NOT_FOUND", "Smart process not found")
	}
	cats := append([]Category(nil), c.st.Categories...)
	sort.SliceStable(cats, func(i, j int) bool { return cats[i].Sort < cats[j].Sort })
	out := []any{}
	for _, cat := range cats {
		o := obj{"id": cat.ID, "name": cat.Name, "sort": cat.Sort, "entityTypeId": ownerDeal, "isDefault": yesNo(cat.ID == 0)}
		if cat.ID != 0 {
			o["originId"], o["originatorId"] = "", ""
		}
		out = append(out, o)
	}
	return reply{result: obj{"categories": out}, hasTotal: true, total: len(out)}, nil
}
