package b24sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func callFields(extra map[string]any) map[string]any {
	f := map[string]any{"OWNER_TYPE_ID": 1, "OWNER_ID": 1, "TYPE_ID": 2, "SUBJECT": "Пропущенный входящий звонок",
		"COMMUNICATIONS": []any{map[string]any{"VALUE": "+79991234567", "ENTITY_ID": 1, "ENTITY_TYPE_ID": 1}}}
	for k, v := range extra {
		if v == nil {
			delete(f, k)
			continue
		}
		f[k] = v
	}
	return f
}

// §5.3 (crm): validation order and exact messages.
func TestRef_Activity_Validation(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "owner", "ASSIGNED_BY_ID": 2}}))
	cases := []struct {
		name  string
		extra map[string]any
		desc  string
	}{
		{"no subject", map[string]any{"SUBJECT": nil}, "The field SUBJECT is not defined or empty."},
		{"blank subject", map[string]any{"SUBJECT": "  "}, "The field SUBJECT is not defined or empty."},
		{"bad type", map[string]any{"TYPE_ID": 42}, "The field TYPE_ID is not defined or invalid."},
		{"unsupported type", map[string]any{"TYPE_ID": 3}, `The activity type "Task is not supported in current context".`},
		{"custom without provider", map[string]any{"TYPE_ID": 6}, "The custom activity without provider is not supported in current context."},
		{"no communications", map[string]any{"COMMUNICATIONS": nil}, "The field COMMUNICATIONS is not defined or invalid."},
		{"empty value", map[string]any{"COMMUNICATIONS": []any{map[string]any{"VALUE": ""}}}, "The field COMMUNICATIONS is not defined or invalid."},
		{"email comm on call dropped", map[string]any{"COMMUNICATIONS": []any{map[string]any{"VALUE": "a@b.c", "TYPE": "EMAIL"}}}, "The field COMMUNICATIONS is not defined or invalid."},
		{"two comms", map[string]any{"COMMUNICATIONS": []any{map[string]any{"VALUE": "1"}, map[string]any{"VALUE": "2"}}}, "The only one communication is allowed for activity of specified type."},
		{"no owner", map[string]any{"OWNER_ID": nil, "OWNER_TYPE_ID": nil, "COMMUNICATIONS": []any{map[string]any{"VALUE": "1"}}}, "Could not build binding. Please ensure that owner info and communications are defined correctly."},
		{"missing owner", map[string]any{"OWNER_ID": 5, "COMMUNICATIONS": []any{map[string]any{"VALUE": "1"}}}, "Could not find 'LEAD' with ID: 5"},
		{"missing comm entity", map[string]any{"COMMUNICATIONS": []any{map[string]any{"VALUE": "1", "ENTITY_TYPE_ID": 3, "ENTITY_ID": 9}}}, "Could not find 'CONTACT' with ID: 9"},
		{"unsupported owner type", map[string]any{"OWNER_TYPE_ID": 99, "COMMUNICATIONS": []any{map[string]any{"VALUE": "1"}}}, "Entity type '[99]' is not supported in current context"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireErr(t, b.hook("crm.activity.add", map[string]any{"fields": callFields(tc.extra)}), 400, "", tc.desc)
		})
	}
}

// §5.3 / §5.4 / §5.5 (crm): defaults, COMPLETED ↔ STATUS, bindings, ORIGIN filters.
func TestRef_Activity_DefaultsStatusAndOriginFilter(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "owner", "ASSIGNED_BY_ID": 2}}))
	requireOK(t, b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "c"}}))
	add := b.hook("crm.activity.add", map[string]any{"fields": callFields(map[string]any{
		"START_TIME": "2024-06-01T10:00:00+03:00", "ORIGINATOR_ID": "my-softphone", "ORIGIN_ID": "call-7f3c2a",
		"COMMUNICATIONS": []any{map[string]any{"VALUE": "+79991234567", "ENTITY_ID": 1, "ENTITY_TYPE_ID": 3}},
	})})
	requireOK(t, add)
	id := add.result()
	g := b.hook("crm.activity.get", map[string]any{"id": id}).obj()
	want := map[string]any{
		"TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL", "PROVIDER_TYPE_ID": "CALL", "COMPLETED": "N", "STATUS": "1",
		"RESPONSIBLE_ID": "2", "PRIORITY": "1", "DIRECTION": "0", "DESCRIPTION_TYPE": "1", "NOTIFY_TYPE": "0",
		"START_TIME": "2024-06-01T10:00:00+03:00", "END_TIME": "2024-06-01T10:00:00+03:00", "DEADLINE": "2024-06-01T10:00:00+03:00",
		"AUTHOR_ID": "1", "ORIGIN_ID": "call-7f3c2a", "OWNER_TYPE_ID": "1", "OWNER_ID": "1",
	}
	for k, v := range want {
		require.Equal(t, v, g[k], k)
	}
	require.NotContains(t, g, "COMMUNICATIONS")

	l := b.hook("crm.activity.list", map[string]any{"filter": map[string]any{"ORIGIN_ID": "call-7f3c2a", "ORIGINATOR_ID": "my-softphone"},
		"select": []string{"ID", "COMMUNICATIONS", "BINDINGS"}})
	require.Len(t, l.list(), 1)
	row := l.list()[0].(map[string]any)
	require.NotContains(t, row, "SUBJECT")
	require.Len(t, row["BINDINGS"], 2, "every communication entity becomes a binding")
	comm := row["COMMUNICATIONS"].([]any)[0].(map[string]any)
	require.Equal(t, "PHONE", comm["TYPE"], "TYPE defaults to PHONE for calls")
	require.Equal(t, "3", comm["ENTITY_TYPE_ID"])
	require.Len(t, b.hook("crm.activity.list", map[string]any{"filter": map[string]any{"ORIGIN_ID": "other"}}).list(), 0)
	require.Len(t, b.hook("crm.activity.list", map[string]any{"filter": map[string]any{"BINDINGS": []any{map[string]any{"OWNER_TYPE_ID": 3, "OWNER_ID": 1}}}}).list(), 1)

	requireOK(t, b.hook("crm.activity.update", map[string]any{"id": id, "fields": map[string]any{"COMPLETED": "Y", "TYPE_ID": 1, "PROVIDER_ID": "X"}}))
	g = b.hook("crm.activity.get", map[string]any{"id": id}).obj()
	require.Equal(t, "Y", g["COMPLETED"])
	require.Equal(t, "2", g["STATUS"])
	require.Equal(t, "2", g["TYPE_ID"], "TYPE_ID is ignored on update")
	require.Equal(t, "VOXIMPLANT_CALL", g["PROVIDER_ID"])
	requireOK(t, b.hook("crm.activity.update", map[string]any{"id": id, "fields": map[string]any{"COMPLETED": "N"}}))
	require.Equal(t, "1", b.hook("crm.activity.get", map[string]any{"id": id}).obj()["STATUS"])
	// COMMUNICATIONS on update rebuild bindings
	requireOK(t, b.hook("crm.activity.update", map[string]any{"id": id, "fields": map[string]any{"COMMUNICATIONS": []any{map[string]any{"VALUE": "+7"}}}}))
	l = b.hook("crm.activity.list", map[string]any{"filter": map[string]any{"ID": id}, "select": []string{"BINDINGS"}})
	require.Len(t, l.list()[0].(map[string]any)["BINDINGS"], 1)
	requireErr(t, b.hook("crm.activity.update", map[string]any{"id": 999, "fields": map[string]any{}}), 400, "", "Activity is not found.")
	requireErr(t, b.hook("crm.activity.get", map[string]any{"id": 999}), 400, "", "")

	comp := b.hook("crm.activity.add", map[string]any{"fields": callFields(map[string]any{"COMPLETED": "Y"})}).result()
	require.Equal(t, "2", b.hook("crm.activity.get", map[string]any{"id": comp}).obj()["STATUS"])
	f := b.hook("crm.activity.fields", nil).obj()
	require.Equal(t, true, f["SUBJECT"].(map[string]any)["isRequired"])
	require.Equal(t, true, f["COMMUNICATIONS"].(map[string]any)["isMultiple"])
}

// crm.activity.binding.add: one more binding; refusals for a missing
// activity or entity and for a binding that exists.
func TestRef_Activity_BindingAdd(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "owner", "ASSIGNED_BY_ID": 2}}))
	requireOK(t, b.hook("crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "deal"}}))
	requireOK(t, b.hook("crm.activity.add", map[string]any{"fields": callFields(nil)}))
	cases := []struct {
		name   string
		params map[string]any
		status int
		code   string
	}{
		{"bind deal", map[string]any{"activityId": 1, "entityTypeId": 2, "entityId": 1}, 200, ""},
		{"again", map[string]any{"activityId": 1, "entityTypeId": 2, "entityId": 1}, 400, "ALREADY_EXISTS"},
		{"no activity", map[string]any{"activityId": 9, "entityTypeId": 2, "entityId": 1}, 400, "NOT_FOUND"},
		{"no entity", map[string]any{"activityId": 1, "entityTypeId": 3, "entityId": 7}, 400, ""},
		{"no activity id", map[string]any{"entityTypeId": 2, "entityId": 1}, 400, "ERROR_ARGUMENT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.hook("crm.activity.binding.add", tc.params)
			if tc.status == 200 {
				requireOK(t, r)
				return
			}
			requireErr(t, r, tc.status, tc.code, "")
		})
	}
	r := b.hook("crm.activity.list", map[string]any{"filter": map[string]any{"BINDINGS": []any{map[string]any{"OWNER_TYPE_ID": 2, "OWNER_ID": 1}}}, "select": []any{"ID", "BINDINGS"}})
	requireOK(t, r)
	require.Len(t, r.Body["result"], 1, r.Raw)
}
