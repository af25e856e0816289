package b24sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func phonesOf(t *testing.T, r resp) []map[string]any {
	t.Helper()
	var out []map[string]any
	l, _ := r.obj()["PHONE"].([]any)
	for _, x := range l {
		out = append(out, x.(map[string]any))
	}
	return out
}

// §2.2 (crm): multifield append / update by ID / delete; stored as sent.
func TestRef_CRM_MultifieldSemantics(t *testing.T) {
	b := setup(t, withEmpty)
	id := b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "A", "PHONE": phoneList("8 (999) 123-45-67", "+74951112233")}}).result()
	g := b.hook("crm.contact.get", map[string]any{"id": id})
	ph := phonesOf(t, g)
	require.Len(t, ph, 2)
	require.Equal(t, "8 (999) 123-45-67", ph[0]["VALUE"], "no normalisation on write")
	require.Equal(t, "PHONE", ph[0]["TYPE_ID"])
	require.IsType(t, "", ph[0]["ID"])
	require.Equal(t, "Y", g.obj()["HAS_PHONE"])
	first, second := ph[0]["ID"], ph[1]["ID"]

	requireOK(t, b.hook("crm.contact.update", map[string]any{"id": id, "fields": map[string]any{"PHONE": []any{
		map[string]any{"ID": first, "DELETE": "Y"},
		map[string]any{"ID": second, "VALUE": "444444", "VALUE_TYPE": "MOBILE"},
		map[string]any{"VALUE": "55555", "VALUE_TYPE": "WORK"},
	}}}))
	ph = phonesOf(t, b.hook("crm.contact.get", map[string]any{"id": id}))
	require.Len(t, ph, 2)
	require.Equal(t, "444444", ph[0]["VALUE"])
	require.Equal(t, "MOBILE", ph[0]["VALUE_TYPE"])
	require.Equal(t, "55555", ph[1]["VALUE"])

	// re-sending the list without IDs duplicates
	requireOK(t, b.hook("crm.contact.update", map[string]any{"id": id, "fields": map[string]any{"PHONE": phoneList("444444")}}))
	require.Len(t, phonesOf(t, b.hook("crm.contact.get", map[string]any{"id": id})), 3)
	// only ID → delete; empty VALUE → delete
	requireOK(t, b.hook("crm.contact.update", map[string]any{"id": id, "fields": map[string]any{"PHONE": []any{
		map[string]any{"ID": ph[0]["ID"]}, map[string]any{"ID": ph[1]["ID"], "VALUE": ""},
	}}}))
	ph = phonesOf(t, b.hook("crm.contact.get", map[string]any{"id": id}))
	require.Len(t, ph, 1)
	// list PHONE filter is exact on the stored value
	for _, tc := range []struct {
		filter string
		n      int
	}{{"444444", 1}, {"+444444", 0}, {"44444", 0}} {
		r := b.hook("crm.contact.list", map[string]any{"filter": map[string]any{"PHONE": tc.filter}})
		require.Len(t, r.list(), tc.n, tc.filter)
	}
}

// §4.4 (crm): STATUS_SEMANTIC_ID / STAGE_SEMANTIC_ID and CLOSED from the stage table.
func TestRef_CRM_StageSemanticsAndClosed(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) {
		o.Seed = emptySeed()
		o.Seed.Categories = []SeedCategory{{ID: 3, Name: "Funnel", Sort: 200}}
	})
	deal := b.hook("crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "d"}}).result()
	g := b.hook("crm.deal.get", map[string]any{"id": deal}).obj()
	require.Equal(t, "NEW", g["STAGE_ID"], "default = first stage of category 0")
	require.Equal(t, "0", g["CATEGORY_ID"])
	cases := []struct{ stage, sem, closed string }{
		{"EXECUTING", "P", "N"}, {"WON", "S", "Y"}, {"LOSE", "F", "Y"}, {"APOLOGY", "F", "Y"}, {"NEW", "P", "N"},
	}
	for _, tc := range cases {
		requireOK(t, b.hook("crm.deal.update", map[string]any{"id": deal, "fields": map[string]any{"STAGE_ID": tc.stage, "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y"}}))
		g := b.hook("crm.deal.get", map[string]any{"id": deal}).obj()
		require.Equal(t, tc.sem, g["STAGE_SEMANTIC_ID"], tc.stage)
		require.Equal(t, tc.closed, g["CLOSED"], tc.stage)
	}
	// category N: C{n}: prefix, CATEGORY_ID immutable on update
	d3 := b.hook("crm.deal.add", map[string]any{"FIELDS": map[string]any{"TITLE": "d3", "CATEGORY_ID": 3}}).result()
	g = b.hook("crm.deal.get", map[string]any{"ID": d3}).obj()
	require.Equal(t, "C3:NEW", g["STAGE_ID"])
	requireOK(t, b.hook("crm.deal.update", map[string]any{"id": d3, "fields": map[string]any{"CATEGORY_ID": 0, "STAGE_ID": "C3:WON", "LEAD_ID": 5}}))
	g = b.hook("crm.deal.get", map[string]any{"id": d3}).obj()
	require.Equal(t, "3", g["CATEGORY_ID"])
	require.Equal(t, "S", g["STAGE_SEMANTIC_ID"])
	require.Nil(t, g["LEAD_ID"], "LEAD_ID is read-only")

	lead := b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "l", "STATUS_ID": "JUNK"}}).result()
	lg := b.hook("crm.lead.get", map[string]any{"id": lead}).obj()
	require.Equal(t, "F", lg["STATUS_SEMANTIC_ID"])
	requireOK(t, b.hook("crm.lead.update", map[string]any{"id": lead, "fields": map[string]any{"STATUS_ID": "CONVERTED"}}))
	require.Equal(t, "S", b.hook("crm.lead.get", map[string]any{"id": lead}).obj()["STATUS_SEMANTIC_ID"])

	st := b.hook("crm.status.list", map[string]any{"filter": map[string]any{"ENTITY_ID": "DEAL_STAGE"}, "order": map[string]any{"SORT": "ASC"}})
	rows := st.list()
	last := rows[len(rows)-1].(map[string]any)
	require.Equal(t, "APOLOGY", last["STATUS_ID"])
	require.Equal(t, "F", last["SEMANTICS"])
	require.Equal(t, "apology", last["EXTRA"].(map[string]any)["SEMANTICS"])
	require.Nil(t, rows[0].(map[string]any)["SEMANTICS"])
	require.Equal(t, "10", rows[0].(map[string]any)["SORT"], "SORT is a string in status.list")
	requireErr(t, b.hook("crm.status.list", map[string]any{"filter": map[string]any{"ENTITY_ID": []string{"A"}}}), 400, "", "Filter by ENTITY_ID must be a string")

	items := b.hook("crm.status.entity.items", map[string]any{"entityId": "DEAL_STAGE_3"}).list()
	require.Equal(t, map[string]any{"NAME": "Новая", "SORT": float64(10), "STATUS_ID": "C3:NEW"}, items[0])
	stages := b.hook("crm.dealcategory.stage.list", map[string]any{"id": 3}).list()
	require.Equal(t, items, stages)
	cats := b.hook("crm.category.list", map[string]any{"entityTypeId": 2})
	require.Equal(t, float64(2), cats.Body["total"])
	c0 := cats.obj()["categories"].([]any)[0].(map[string]any)
	require.Equal(t, float64(0), c0["id"])
	require.Equal(t, "Y", c0["isDefault"])
}

// §2.6 (crm): filters PHONE, >=DATE_MODIFY, ASSIGNED_BY_ID, ID prefixes, order.
func TestRef_CRM_ListFilters(t *testing.T) {
	b := setup(t, withEmpty)
	for i, who := range []int{1, 2, 2} {
		requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "L", "ASSIGNED_BY_ID": who, "PHONE": phoneList("+7900000000" + string(rune('1'+i)))}}))
		b.clock.Advance(time.Hour)
	}
	cases := []struct {
		name   string
		filter map[string]any
		ids    []string
	}{
		{"assigned", map[string]any{"ASSIGNED_BY_ID": 2}, []string{"2", "3"}},
		{"assigned IN", map[string]any{"@ASSIGNED_BY_ID": []int{1, 2}}, []string{"1", "2", "3"}},
		{"date >=", map[string]any{">=DATE_MODIFY": "2026-03-10T15:00:00+03:00"}, []string{"2", "3"}},
		{"date > naive in portal zone", map[string]any{">DATE_MODIFY": "2026-03-10T15:19:38"}, []string{"3"}},
		{"id >", map[string]any{">ID": 1}, []string{"2", "3"}},
		{"id list", map[string]any{"ID": []int{1, 3}}, []string{"1", "3"}},
		{"not", map[string]any{"!ID": 2}, []string{"1", "3"}},
		{"phone exact", map[string]any{"PHONE": "+79000000002"}, []string{"2"}},
		{"like", map[string]any{"%TITLE": "l"}, []string{"1", "2", "3"}},
		{"semantic", map[string]any{"STATUS_SEMANTIC_ID": "P"}, []string{"1", "2", "3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.hook("crm.lead.list", map[string]any{"filter": tc.filter, "select": []string{"ID"}})
			requireOK(t, r)
			var ids []string
			for _, x := range r.list() {
				ids = append(ids, x.(map[string]any)["ID"].(string))
			}
			require.Equal(t, tc.ids, ids)
		})
	}
	r := b.hook("crm.lead.list", map[string]any{"order": map[string]any{"ID": "DESC"}, "select": []string{"ID"}})
	require.Equal(t, "3", r.list()[0].(map[string]any)["ID"])
	requireErr(t, b.hook("crm.lead.list", map[string]any{"filter": "x"}), 400, "", "Parameter 'filter' must be array.")
}

// §3.1 (crm): deal contacts, CONTACT_ID = primary, get has no CONTACT_IDS.
func TestRef_CRM_DealContactItems(t *testing.T) {
	b := setup(t, withEmpty)
	c1 := b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "a"}}).result()
	c2 := b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "b"}}).result()
	d := b.hook("crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "d", "CONTACT_IDS": []any{c1, c2}}}).result()
	g := b.hook("crm.deal.get", map[string]any{"id": d}).obj()
	require.Equal(t, "1", g["CONTACT_ID"])
	require.NotContains(t, g, "CONTACT_IDS")
	items := b.hook("crm.deal.contact.items.get", map[string]any{"id": d}).list()
	require.Equal(t, map[string]any{"CONTACT_ID": float64(1), "SORT": float64(10), "ROLE_ID": float64(0), "IS_PRIMARY": "Y"}, items[0])
	requireOK(t, b.hook("crm.deal.contact.items.set", map[string]any{"id": d, "items": []any{map[string]any{"CONTACT_ID": c2, "IS_PRIMARY": "Y"}}}))
	require.Equal(t, "2", b.hook("crm.deal.get", map[string]any{"id": d}).obj()["CONTACT_ID"])
	requireErr(t, b.hook("crm.deal.contact.items.set", map[string]any{"id": d, "items": []any{map[string]any{"CONTACT_ID": 99}}}), 400, "", "Could not find 'CONTACT' with ID: 99")
}

// §8 / §2.3 (crm): crm.settings.mode.get and simple-mode lead conversion.
func TestRef_CRM_ModeAndSimpleConversion(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.Mode = ModeSimple })
	require.Equal(t, float64(2), b.hook("crm.settings.mode.get", nil).result())
	lead := b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "t", "NAME": "Иван", "PHONE": phoneList("+79990001122")}}).result()
	lg := b.hook("crm.lead.get", map[string]any{"id": lead}).obj()
	require.Equal(t, "CONVERTED", lg["STATUS_ID"])
	require.Equal(t, "S", lg["STATUS_SEMANTIC_ID"])
	deals := b.hook("crm.deal.list", map[string]any{"filter": map[string]any{"LEAD_ID": lead}})
	require.Len(t, deals.list(), 1)
	require.NotNil(t, deals.list()[0].(map[string]any)["CONTACT_ID"])
}

// §2.7 / §10 (crm): fields output and user fields.
func TestRef_CRM_FieldsAndUserFields(t *testing.T) {
	b := setup(t, withEmpty)
	f := b.hook("crm.lead.fields", nil).obj()
	require.Equal(t, map[string]any{"type": "crm_status", "isRequired": false, "isReadOnly": false, "isImmutable": false,
		"isMultiple": false, "isDynamic": false, "statusType": "STATUS", "title": "Stage"}, f["STATUS_ID"])
	require.Equal(t, true, f["CONTACT_ID"].(map[string]any)["isDeprecated"])
	require.Equal(t, true, f["PHONE"].(map[string]any)["isMultiple"])
	require.NotContains(t, b.hook("crm.company.fields", nil).obj(), "SOURCE_ID", "companies have no SOURCE_ID")
	require.Equal(t, true, b.hook("crm.deal.fields", nil).obj()["CATEGORY_ID"].(map[string]any)["isImmutable"])

	id := b.hook("crm.lead.userfield.add", map[string]any{"fields": map[string]any{"FIELD_NAME": "HELLO", "USER_TYPE_ID": "string", "LABEL": "Привет"}})
	requireOK(t, id)
	l := b.hook("crm.lead.userfield.list", map[string]any{"filter": map[string]any{"USER_TYPE_ID": "string"}})
	row := l.list()[0].(map[string]any)
	require.Equal(t, "UF_CRM_HELLO", row["FIELD_NAME"])
	require.Equal(t, "CRM_LEAD", row["ENTITY_ID"])
	require.NotContains(t, row, "EDIT_FORM_LABEL", "labels only with filter.LANG")
	require.Equal(t, []any{}, row["SETTINGS"])
	l = b.hook("crm.lead.userfield.list", map[string]any{"filter": map[string]any{"LANG": "ru"}})
	require.Equal(t, "Привет", l.list()[0].(map[string]any)["EDIT_FORM_LABEL"])
	uf := b.hook("crm.lead.fields", nil).obj()["UF_CRM_HELLO"].(map[string]any)
	require.Equal(t, true, uf["isDynamic"])
	require.Equal(t, "UF_CRM_HELLO", uf["title"])
	require.Equal(t, "Привет", uf["listLabel"])
	lead := b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "x", "UF_CRM_HELLO": "v", "UF_CRM_UNKNOWN": "z"}}).result()
	g := b.hook("crm.lead.get", map[string]any{"id": lead}).obj()
	require.Equal(t, "v", g["UF_CRM_HELLO"])
	require.NotContains(t, g, "UF_CRM_UNKNOWN")
	requireOK(t, b.hook("crm.lead.delete", map[string]any{"id": lead}))
	requireErr(t, b.hook("crm.lead.delete", map[string]any{"id": lead}), 400, "", "Not found")
}

// §9.1–9.2 (crm): users and chat.
func TestRef_Users_GetSearchAndIM(t *testing.T) {
	b := setup(t, withEmpty)
	r := b.hook("user.get", map[string]any{"FILTER": map[string]any{"UF_PHONE_INNER": "102"}})
	require.Len(t, r.list(), 1)
	u := r.list()[0].(map[string]any)
	require.Equal(t, "2", u["ID"])
	require.Equal(t, true, u["ACTIVE"])
	require.Equal(t, []any{float64(1)}, u["UF_DEPARTMENT"])
	require.Len(t, b.hook("user.get", map[string]any{"ACTIVE": true}).list(), 2)
	require.Len(t, b.hook("user.get", map[string]any{"filter": map[string]any{"ACTIVE": "N"}}).list(), 1)
	require.Len(t, b.hook("user.search", map[string]any{"FILTER": map[string]any{"NAME": "mana"}}).list(), 1)
	require.Equal(t, float64(3), b.hook("user.get", nil).Body["total"])

	requireOK(t, b.hook("im.notify.system.add", map[string]any{"USER_ID": 2, "MESSAGE": "hi"}))
	requireOK(t, b.hook("im.notify.personal.add", map[string]any{"USER_ID": 2, "MESSAGE": "hi"}))
	requireOK(t, b.hook("im.message.add", map[string]any{"DIALOG_ID": "2", "MESSAGE": "Пропущенный звонок"}))
	requireErr(t, b.hook("im.notify.system.add", map[string]any{"MESSAGE": "x"}), 400, "USER_ID_EMPTY", "")
	requireErr(t, b.hook("im.message.add", map[string]any{"DIALOG_ID": "2"}), 400, "MESSAGE_EMPTY", "")
	snap, err := b.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Messages, 3)
	require.Equal(t, 1, snap.Messages[1].FromUser)
}
