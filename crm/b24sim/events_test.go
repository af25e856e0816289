package b24sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §4.5 (telephony-auth): event.bind/get/unbind validation.
func TestRef_Events_BindGetUnbind(t *testing.T) {
	b := setup(t, withEmpty)
	cases := []struct {
		body   map[string]any
		status int
		code   string
		desc   string
	}{
		{map[string]any{"event": "OnExternalCallStart"}, 400, "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty"},
		{map[string]any{"EVENT": "OnNothing", "HANDLER": "https://a.example/x"}, 400, "ERROR_EVENT_NOT_FOUND", "Event not found"},
		{map[string]any{"event": "OnExternalCallStart", "handler": "ftp://a.example/x"}, 400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol"},
		{map[string]any{"event": "OnExternalCallStart", "handler": "http://localhost/x"}, 400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"},
		{map[string]any{"event": "OnExternalCallStart", "event_type": "sometimes"}, 400, "ERROR_ARGUMENT", "Value must be one of {online|offline}"},
		{map[string]any{"event": "OnOfflineEvent", "event_type": "offline"}, 400, "ERROR_ARGUMENT", "Offline event cannot be registered for this event."},
	}
	for _, tc := range cases {
		requireErr(t, b.app("event.bind", tc.body), tc.status, tc.code, tc.desc)
	}
	require.Equal(t, true, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "handler": "https://app.example.com/b24/evt"}).result())
	requireErr(t, b.app("event.bind", map[string]any{"event": "ONEXTERNALCALLSTART", "handler": "https://app.example.com/b24/evt"}), 400, "ERROR_CORE", "")
	require.Equal(t, true, b.app("event.bind", map[string]any{"EVENT": "OnExternalCallStart", "EVENT_TYPE": "offline"}).result())
	got := b.app("event.get", nil).list()
	require.Equal(t, []any{
		map[string]any{"event": "ONEXTERNALCALLSTART", "handler": "https://app.example.com/b24/evt", "auth_type": "0", "offline": float64(0)},
		map[string]any{"event": "ONEXTERNALCALLSTART", "connector_id": "", "offline": float64(1)},
	}, got)
	require.Equal(t, map[string]any{"count": float64(1)}, b.app("event.unbind", map[string]any{"event": "OnExternalCallStart", "handler": "https://app.example.com/b24/evt"}).obj())

	// offline binding and event.offline.* need an admin
	tok, _, err := b.sim.IssueToken(2)
	require.NoError(t, err)
	b.token = tok
	requireErr(t, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "event_type": "offline"}), 403, "ACCESS_DENIED",
		"Access denied! Offline events binding requires administrator access rights")
	requireErr(t, b.app("event.offline.get", nil), 403, "ACCESS_DENIED", "Access denied!")
}

// §4.1 / §4.2 / §4.7 (telephony-auth): online delivery of click-to-call as a
// form POST with string values and auth[application_token].
func TestRef_Events_OnlineDeliveryClickToCall(t *testing.T) {
	got := make(chan url.Values, 8)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		v, err := url.ParseQuery(string(body))
		if err == nil {
			got <- v
		}
	}))
	defer recv.Close()
	b := setup(t, withEmpty)
	require.Equal(t, true, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "handler": recv.URL + "/evt"}).result())
	ev, err := b.sim.ClickToCall(ClickToCallRequest{UserID: 2, Phone: "8 (999) 000-11-22"})
	require.NoError(t, err)
	var v url.Values
	select {
	case v = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no event delivered")
	}
	snap, err := b.sim.Snapshot()
	require.NoError(t, err)
	require.Equal(t, "ONEXTERNALCALLSTART", v.Get("event"))
	require.Equal(t, ev.CallID, v.Get("data[CALL_ID]"))
	require.Equal(t, "2", v.Get("data[USER_ID]"))
	require.Equal(t, "+79990001122", v.Get("data[PHONE_NUMBER_INTERNATIONAL]"))
	require.Equal(t, "0", v.Get("data[IS_MOBILE]"))
	require.Equal(t, "0", v.Get("data[CALL_LIST_ID]"))
	require.Equal(t, snap.ApplicationToken, v.Get("auth[application_token]"))
	require.Equal(t, snap.MemberID, v.Get("auth[member_id]"))
	require.NotEmpty(t, v.Get("auth[access_token]"))
	require.Equal(t, "LEAD", v.Get("data[CRM_ENTITY_TYPE]"), "default line CRM_AUTO_CREATE=Y creates a lead")
	require.Equal(t, "1", v.Get("data[CRM_CREATED_LEAD]"))
	// the pre-registered call is finished with the event's CALL_ID
	requireOK(t, b.app("telephony.externalcall.finish", map[string]any{"CALL_ID": v.Get("data[CALL_ID]"), "USER_ID": 2, "DURATION": 3}))
}

// §4.6 (telephony-auth): offline queue, process_id, clear, error; click-to-call
// on a line with CRM_AUTO_CREATE=N; callback without CALL_ID.
func TestRef_Events_OfflineQueue(t *testing.T) {
	b := setup(t, withEmpty)
	_, err := b.sim.ClickToCall(ClickToCallRequest{UserID: 2, Phone: "+79990001122"})
	require.ErrorIs(t, err, ErrNoHandler)
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "event_type": "offline"}))
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnExternalCallBackStart", "event_type": "offline"}))
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnCrmLeadAdd", "event_type": "offline"}))
	requireOK(t, b.app("telephony.externalLine.add", map[string]any{"NUMBER": "main-line", "CRM_AUTO_CREATE": "N"}))

	ev, err := b.sim.ClickToCall(ClickToCallRequest{UserID: 2, Phone: "+79990001122"})
	require.NoError(t, err)
	require.Equal(t, []any{}, ev.Register["CRM_CREATED_ENTITIES"], "CRM_AUTO_CREATE=N creates nothing")
	_, err = b.sim.Callback(CallbackRequest{Phone: "+79990003344", Text: "Перезвоните"})
	require.NoError(t, err)
	// the app's own lead.add is not queued for itself
	requireOK(t, b.app("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "own"}}))
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "by webhook"}}))

	requireErr(t, b.app("event.offline.get", map[string]any{"limit": 0}), 400, "ERROR_ARGUMENT", "Value must be positive integer")
	r := b.app("event.offline.get", map[string]any{"clear": 0, "limit": 2})
	requireOK(t, r)
	pid := r.obj()["process_id"].(string)
	require.Len(t, pid, 32)
	events := r.obj()["events"].([]any)
	require.Len(t, events, 2)
	e0 := events[0].(map[string]any)
	require.Equal(t, "ONEXTERNALCALLSTART", e0["EVENT_NAME"])
	require.Equal(t, ev.CallID, e0["EVENT_DATA"].(map[string]any)["CALL_ID"])
	require.Equal(t, "main-line", e0["EVENT_DATA"].(map[string]any)["LINE_NUMBER"])
	require.Equal(t, map[string]any{"user_id": "2"}, e0["EVENT_ADDITIONAL"])
	require.Len(t, e0["MESSAGE_ID"], 32)
	e1 := events[1].(map[string]any)
	require.Equal(t, "ONEXTERNALCALLBACKSTART", e1["EVENT_NAME"])
	require.NotContains(t, e1["EVENT_DATA"], "CALL_ID")

	// reserved rows are not handed out again; the rest is
	r = b.app("event.offline.get", map[string]any{"clear": 0})
	rest := r.obj()["events"].([]any)
	require.Len(t, rest, 1)
	require.Equal(t, "ONCRMLEADADD", rest[0].(map[string]any)["EVENT_NAME"])
	require.Equal(t, map[string]any{"FIELDS": map[string]any{"ID": float64(2)}}, rest[0].(map[string]any)["EVENT_DATA"])
	pid2 := r.obj()["process_id"].(string)

	requireErr(t, b.app("event.offline.clear", map[string]any{}), 400, "ERROR_ARGUMENT", "Argument 'PROCESS_ID' is null or empty")
	requireErr(t, b.app("event.offline.clear", map[string]any{"process_id": pid, "id": "x"}), 400, "ERROR_ARGUMENT", "Value must be array of integers")
	requireOK(t, b.app("event.offline.error", map[string]any{"process_id": pid, "message_id": []any{e1["MESSAGE_ID"]}}))
	errRows := b.app("event.offline.get", map[string]any{"error": 1, "clear": 0}).obj()["events"].([]any)
	require.Len(t, errRows, 1)
	require.Equal(t, "ONEXTERNALCALLBACKSTART", errRows[0].(map[string]any)["EVENT_NAME"])
	require.Equal(t, true, b.app("event.offline.clear", map[string]any{"process_id": pid}).result())
	require.Equal(t, true, b.app("event.offline.clear", map[string]any{"process_id": pid2, "message_id": []any{rest[0].(map[string]any)["MESSAGE_ID"]}}).result())
	list := b.app("event.offline.list", nil)
	require.Equal(t, float64(0), list.Body["total"], list.Raw)

	// clear=1 (default) deletes at once and returns process_id null
	_, err = b.sim.ClickToCall(ClickToCallRequest{UserID: 1, Phone: "+79990005566"})
	require.NoError(t, err)
	r = b.app("event.offline.get", nil)
	require.Nil(t, r.obj()["process_id"])
	require.Len(t, r.obj()["events"], 1)
	require.Len(t, b.app("event.offline.get", nil).obj()["events"], 0)
}
