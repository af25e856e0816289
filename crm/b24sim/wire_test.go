package b24sim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// §1.3 (telephony-auth) / §1.4 (crm): success envelope, headers and time block.
func TestRef_Envelope_SuccessHeadersAndTime(t *testing.T) {
	b := setup(t)
	r := b.hook("crm.settings.mode.get", nil)
	requireOK(t, r)
	require.Equal(t, float64(1), r.result())
	require.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	require.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "origin, content-type, accept", r.Header.Get("Access-Control-Allow-Headers"))
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	tm := r.Body["time"].(map[string]any)
	for _, k := range []string{"start", "finish", "duration", "processing", "date_start", "date_finish"} {
		require.Contains(t, tm, k)
	}
	require.NotContains(t, tm, "operating", "operating appears only when the limiter is on")
	require.Equal(t, "2026-03-10T14:19:38+03:00", tm["date_start"], "server time zone, PHP date('c')")
	require.NotContains(t, r.Body, "total")
}

// §1.1 / §7.1 (telephony-auth): routing, case-insensitive names, suffixes.
func TestRef_Routing_MethodNamesAndSuffixes(t *testing.T) {
	b := setup(t)
	cases := []struct {
		name, path string
		status     int
		code       string
	}{
		{"plain", "/rest/1/SECRET/crm.settings.mode.get", 200, ""},
		{"json suffix", "/rest/1/SECRET/crm.settings.mode.get.json", 200, ""},
		{"trailing slash", "/rest/1/SECRET/crm.settings.mode.get/", 200, ""},
		{"mixed case", "/rest/1/SECRET/CRM.Settings.Mode.GET.JSON", 200, ""},
		{"camel telephony", "/rest/1/SECRET/telephony.externalLine.get", 200, ""},
		{"unknown", "/rest/1/SECRET/crm.lead.frobnicate", 404, "ERROR_METHOD_NOT_FOUND"},
		{"xml transport", "/rest/1/SECRET/crm.settings.mode.get.xml", 500, "INTERNAL_WRONG_TRANSPORT"},
		{"oauth path", "/rest/crm.settings.mode.get?auth=" + b.token, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get(b.srv.URL + tc.path)
			if tc.code == "" {
				requireOK(t, r)
				return
			}
			requireErr(t, r, tc.status, tc.code, "")
		})
	}
	r := b.get(b.srv.URL + "/rest/1/SECRET/nope.json")
	requireErr(t, r, 404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
}

// §1.2 (telephony-auth), §1.2 (crm): query + body merged, body wins; JSON only
// with Content-Type application/json; bracket syntax; JSON on GET ignored.
func TestRef_Request_EncodingsAndMerge(t *testing.T) {
	b := setup(t, withEmpty)
	add := b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "json", "PHONE": phoneList("+79991234567")}})
	requireOK(t, add)
	id := num(add.result())

	t.Run("GET brackets", func(t *testing.T) {
		r := b.get(b.hookURL("crm.lead.list") + "?" + qs("filter[PHONE]", "+79991234567", "select[]", "TITLE", "select[]", "PHONE"))
		requireOK(t, r)
		require.Len(t, r.list(), 1)
		row := r.list()[0].(map[string]any)
		require.Equal(t, "json", row["TITLE"])
		require.Contains(t, row, "PHONE")
	})
	t.Run("form body with nested multifield", func(t *testing.T) {
		r := b.postForm(b.hookURL("crm.lead.add"), "fields%5BTITLE%5D=form&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=112233&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK")
		requireOK(t, r)
		g := b.hook("crm.lead.get", map[string]any{"id": r.result()})
		require.Equal(t, "form", g.obj()["TITLE"])
		require.Equal(t, "112233", g.obj()["PHONE"].([]any)[0].(map[string]any)["VALUE"])
	})
	t.Run("body replaces query", func(t *testing.T) {
		r := b.postJSON(b.hookURL("crm.lead.get")+"?id=999999", map[string]any{"id": id})
		requireOK(t, r)
		require.Equal(t, "json", r.obj()["TITLE"])
	})
	t.Run("JSON body on GET is ignored", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, b.hookURL("crm.duplicate.findbycomm"), strings.NewReader(`{"type":"PHONE","values":["1"]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		requireErr(t, b.do(req), 400, "", "Communication type is not defined.")
	})
	t.Run("JSON without content type is parsed as form", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, b.hookURL("crm.lead.get"), strings.NewReader(`{"id":1}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain")
		requireErr(t, b.do(req), 400, "", "ID is not defined or invalid.")
	})
	t.Run("invalid JSON is an empty array", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, b.hookURL("crm.lead.get")+"?id=1", strings.NewReader(`{"id":`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		requireOK(t, b.do(req))
	})
	t.Run("legacy n0 keyed multifield map", func(t *testing.T) {
		r := b.hook("crm.contact.add", map[string]any{"FIELDS": map[string]any{"NAME": "n0", "PHONE": map[string]any{"n0": map[string]any{"VALUE": "555", "VALUE_TYPE": "WORK"}}}})
		requireOK(t, r)
		g := b.hook("crm.contact.get", map[string]any{"ID": r.result()})
		require.Equal(t, "555", g.obj()["PHONE"].([]any)[0].(map[string]any)["VALUE"])
	})
}

// §1.3 (telephony-auth) / §1.6 (crm): PHP typing quirks.
func TestRef_PHPQuirks_StringsAndEmptyArrays(t *testing.T) {
	b := setup(t, withEmpty)
	add := b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "t", "ASSIGNED_BY_ID": 2}})
	requireOK(t, add)
	require.Equal(t, float64(1), add.result(), "add returns an integer id")
	g := b.hook("crm.lead.get", map[string]any{"id": "1"})
	row := g.obj()
	require.Equal(t, "1", row["ID"])
	require.Equal(t, "2", row["ASSIGNED_BY_ID"])
	require.Equal(t, "0.00", row["OPPORTUNITY"])
	require.Equal(t, "N", row["HAS_PHONE"])
	require.Nil(t, row["COMPANY_ID"])
	require.NotContains(t, row, "PHONE", "get omits empty multifield types")

	r := b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{"+10000000000"}})
	require.Contains(t, r.Raw, `"result":[]`)
	r = b.hook("telephony.externalLine.delete", map[string]any{"NUMBER": "x"})
	requireErr(t, r, 400, "ERROR_CORE", "Could not find line with number x")
	b.hook("telephony.externalLine.add", map[string]any{"NUMBER": "x"})
	r = b.hook("telephony.externalLine.delete", map[string]any{"NUMBER": "x"})
	require.Contains(t, r.Raw, `"result":[]`)
	act := b.hook("crm.activity.add", map[string]any{"fields": map[string]any{"OWNER_TYPE_ID": 1, "OWNER_ID": 1, "TYPE_ID": 2, "SUBJECT": "s",
		"COMMUNICATIONS": []any{map[string]any{"VALUE": "+7999"}}}})
	requireOK(t, act)
	ag := b.hook("crm.activity.get", map[string]any{"id": act.result()})
	require.Contains(t, ag.Raw, `"SETTINGS":[]`)
	require.Contains(t, ag.Raw, `"PROVIDER_PARAMS":[]`)
}

// §1.5 (telephony-auth), §1.5 (crm): error envelope and HTTP statuses.
func TestRef_Errors_StatusTable(t *testing.T) {
	b := setup(t, withEmpty)
	cases := []struct {
		name   string
		call   func() resp
		status int
		code   string
		desc   string
	}{
		{"unknown method", func() resp { return b.hook("no.such", nil) }, 404, "ERROR_METHOD_NOT_FOUND", "Method not found!"},
		{"no auth", func() resp { return b.get(b.srv.URL + "/rest/crm.lead.list") }, 401, "NO_AUTH_FOUND", "Wrong authorization data"},
		{"bad webhook code", func() resp { return b.get(b.srv.URL + "/rest/1/WRONG/crm.lead.list") }, 401, "INVALID_CREDENTIALS", "Invalid request credentials"},
		{"bad token", func() resp { return b.get(b.srv.URL + "/rest/crm.lead.list?auth=nope") }, 401, "invalid_token", "Unable to get application by token"},
		{"id missing", func() resp { return b.hook("crm.lead.get", nil) }, 400, "", "ID is not defined or invalid."},
		{"id negative", func() resp { return b.hook("crm.deal.update", map[string]any{"id": -3, "fields": map[string]any{}}) }, 400, "", "ID is not defined or invalid."},
		{"not found", func() resp { return b.hook("crm.contact.get", map[string]any{"id": 77}) }, 400, "", "Not found"},
		{"fields not array", func() resp { return b.hook("crm.lead.add", map[string]any{"fields": "x"}) }, 400, "", "Parameter 'fields' must be array."},
		{"event on webhook", func() resp { return b.hook("event.get", nil) }, 403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method"},
		{"argument error", func() resp { return b.app("event.bind", map[string]any{}) }, 400, "ERROR_ARGUMENT", "Argument 'EVENT' is null or empty"},
		{"telephony core", func() resp {
			return b.hook("telephony.externalcall.register", map[string]any{"PHONE_NUMBER": "1", "TYPE": 2})
		}, 400, "ERROR_CORE", "USER_ID or USER_PHONE_INNER should be set"},
		{"finish CALL_ID type", func() resp {
			return b.hook("telephony.externalcall.finish", map[string]any{"CALL_ID": 5, "USER_ID": 1})
		}, 400, "INVALID_ARGUMENT", "CALL_ID must be a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireErr(t, tc.call(), tc.status, tc.code, tc.desc) })
	}
	r := b.app("event.bind", map[string]any{})
	require.Equal(t, "EVENT", r.Body["argument"])
}

// §1.5: insufficient_scope / INVALID_CREDENTIALS are 401 by source, 403 with StrictDocs.
func TestRef_Errors_StrictDocsSwitch(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.StrictDocs = true; o.Scopes = []string{"crm", "telephony"} })
	requireErr(t, b.get(b.srv.URL+"/rest/1/WRONG/crm.lead.list"), 403, "INVALID_CREDENTIALS", "")
	requireErr(t, b.hook("user.get", nil), 403, "insufficient_scope", "The request requires higher privileges than provided by the webhook token")
	requireErr(t, b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 1}), 403, "WRONG_AUTH_TYPE", "")

	e := setup(t, withEmpty, func(o *Options) { o.EmptyTelephonyErrorCode = true })
	requireErr(t, e.hook("telephony.externalcall.register", map[string]any{"PHONE_NUMBER": "1", "TYPE": 2}), 400, "", "USER_ID or USER_PHONE_INNER should be set")
}

// §1.4 (telephony-auth) / §1.7 (crm): 50 per page, total, next only if more, start=-1.
func TestRef_Paging_FiftyPerPage(t *testing.T) {
	b := setup(t, withEmpty)
	for i := 0; i < 120; i++ {
		requireOK(t, b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "c"}}))
	}
	cases := []struct {
		start    int
		rows     int
		next     any
		hasTotal bool
		firstID  string
	}{
		{0, 50, float64(50), true, "1"},
		{50, 50, float64(100), true, "51"},
		{100, 20, nil, true, "101"},
		{500, 0, nil, true, ""},
		{-1, 50, nil, false, "1"},
	}
	for _, tc := range cases {
		r := b.hook("crm.contact.list", map[string]any{"start": tc.start, "select": []string{"ID"}})
		requireOK(t, r)
		require.Len(t, r.list(), tc.rows, "start %d", tc.start)
		require.Equal(t, tc.next, r.Body["next"], "start %d", tc.start)
		if tc.hasTotal {
			require.Equal(t, float64(120), r.Body["total"])
		} else {
			require.NotContains(t, r.Body, "total")
		}
		if tc.firstID != "" {
			require.Equal(t, tc.firstID, r.list()[0].(map[string]any)["ID"])
		}
	}
	r := b.hook("crm.lead.list", nil)
	require.Equal(t, float64(0), r.Body["total"])
	require.Contains(t, r.Raw, `"result":[]`)
}
