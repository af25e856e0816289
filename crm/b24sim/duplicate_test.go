package b24sim

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// §7 (crm): the real normalisation (8→7, +, punctuation, extensions, 00/011/0).
func TestRef_Duplicate_Normalisation(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+7 (999) 123-45-67", "79991234567"},
		{"79991234567", "79991234567"},
		{"8 999 123 45 67", "79991234567"},
		{"+78129999331#404812", "78129999331"},
		{"+7 812 999-93-31;404812", "78129999331"},
		{"8976543", "8976543"},
		{"0049 30 1234567", "49301234567"},
		{"011 1 555 123 4567", "15551234567"},
		{"030 1234 5678", "3012345678"},
		{"+49 30 12345678", "493012345678"},
		{"+8 10 7 999 123", "8107999123"},
		{"80291234567", "80291234567"},
		{"", ""},
		{"abc", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) { require.Equal(t, tc.want, DuplicatePhoneKey(tc.in)) })
	}
}

// §7 (crm) / §6 (telephony-auth): findbycomm shape, errors, 20 cap, [] when empty.
func TestRef_Duplicate_FindByComm(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "c", "PHONE": phoneList("8 (999) 123-45-67"), "EMAIL": []any{map[string]any{"VALUE": "A@B.ru"}}}}))
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "l", "STATUS_ID": "JUNK", "PHONE": phoneList("+79991234567")}}))
	requireOK(t, b.hook("crm.company.add", map[string]any{"fields": map[string]any{"TITLE": "co", "PHONE": phoneList("+7 (999) 123-45-67 #12")}}))

	r := b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{"79991234567"}})
	require.Equal(t, map[string]any{"LEAD": []any{float64(1)}, "CONTACT": []any{float64(1)}, "COMPANY": []any{float64(1)}}, r.obj())
	r = b.hook("crm.duplicate.findbycomm", map[string]any{"entity_type": "CONTACT", "type": "phone", "values": []any{"+7 999 1234567", 5, ""}})
	require.Equal(t, map[string]any{"CONTACT": []any{float64(1)}}, r.obj())
	r = b.hook("crm.duplicate.findbycomm", map[string]any{"entityType": "CONTACT", "type": "PHONE", "values": []string{"79991234567"}})
	require.Len(t, r.obj(), 3, "lower-camel entityType is ignored")
	r = b.hook("crm.duplicate.findbycomm", map[string]any{"type": "EMAIL", "values": []string{"a@b.ru"}})
	require.Equal(t, map[string]any{"CONTACT": []any{float64(1)}}, r.obj())
	r = b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{"70000000000"}})
	require.Contains(t, r.Raw, `"result":[]`)

	for _, tc := range []struct {
		body map[string]any
		desc string
	}{
		{map[string]any{"values": []string{"1"}}, "Communication type is not defined."},
		{map[string]any{"type": "FAX", "values": []string{"1"}}, "Communication type 'FAX' is not supported in current context."},
		{map[string]any{"type": "PHONE"}, "Communication values is not defined."},
		{map[string]any{"type": "PHONE", "values": "79991234567"}, "Communication values is not defined."},
		{map[string]any{"type": "PHONE", "values": []string{"1"}, "entity_type": "DEAL"}, "Deal is not supported in current context."},
	} {
		requireErr(t, b.hook("crm.duplicate.findbycomm", tc.body), 400, "", tc.desc)
	}

	for i := 0; i < 25; i++ {
		requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": fmt.Sprint(i), "PHONE": phoneList("+7 (900) 555-00-00")}}))
	}
	requireOK(t, b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "x", "PHONE": phoneList("89005550000")}}))
	r = b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{"89005550000"}})
	require.Len(t, r.obj()["LEAD"], 20)
	require.NotContains(t, r.obj(), "CONTACT", "with 20 hits in one type the others are not returned")
}

// TestDuplicateIndex_FollowsChanges: the duplicate search answers from an
// index; a phone changed or removed, an entity deleted, a lead converted
// (simple mode: its phone moves to the new contact) and a restart from a
// saved state all answer as a scan of the entities would.
func TestDuplicateIndex_FollowsChanges(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.Mode = ModeSimple })
	find := func(number string) map[string]any {
		t.Helper()
		return b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{number}}).obj()
	}
	requireOK(t, b.hook("crm.company.add", map[string]any{"fields": map[string]any{"TITLE": "c", "PHONE": phoneList("+79990000001")}}))
	require.Equal(t, map[string]any{"COMPANY": []any{float64(1)}}, find("89990000001"))
	st, err := b.sim.Snapshot()
	require.NoError(t, err)
	phoneID := st.Entities[0].Multi[0].ID

	requireOK(t, b.hook("crm.company.update", map[string]any{"id": 1, "fields": map[string]any{"PHONE": []any{map[string]any{"ID": phoneID, "VALUE": "+79990000002"}}}}))
	require.Empty(t, find("+79990000001"), "the old number is gone")
	require.Equal(t, map[string]any{"COMPANY": []any{float64(1)}}, find("+79990000002"))
	requireOK(t, b.hook("crm.company.update", map[string]any{"id": 1, "fields": map[string]any{"PHONE": []any{map[string]any{"ID": phoneID, "DELETE": "Y"}}}}))
	require.Empty(t, find("+79990000002"), "the number was deleted")

	requireOK(t, b.hook("crm.company.add", map[string]any{"fields": map[string]any{"TITLE": "d", "PHONE": phoneList("+79990000003")}}))
	requireOK(t, b.hook("crm.company.delete", map[string]any{"id": 2}))
	require.Empty(t, find("+79990000003"), "the company was deleted")

	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "l", "NAME": "n", "PHONE": phoneList("+79990000004")}}))
	got := find("+79990000004")
	require.Contains(t, got, "CONTACT", "the converted lead's contact has the phone: %v", got)

	saved := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, b.sim.Save(saved))
	again, err := New(Options{WebhookUserID: 1, WebhookCode: testCode, StateFile: saved, Mode: ModeSimple})
	require.NoError(t, err)
	defer func() { _ = again.Close() }()
	st2, err := again.Snapshot()
	require.NoError(t, err)
	require.Equal(t, st.Entities[0].ID, st2.Entities[0].ID)
	require.Len(t, st2.commMatches("CONTACT", "PHONE", []string{DuplicatePhoneKey("+79990000004")}), 1, "the index is rebuilt from a loaded state")
}
