package b24sim

import (
	"bytes"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var callIDRe = regexp.MustCompile(`^externalCall\.[0-9a-f]{32}\.\d+$`)

// §3.1–3.3, §3.7 (telephony-auth): register → dedup → show/hide → finish → attachRecord.
func TestRef_Telephony_Lifecycle(t *testing.T) {
	b := setup(t, withEmpty)
	cid := b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "Jane", "ASSIGNED_BY_ID": 2, "PHONE": phoneList("+1 555 123-0001")}}).result()
	reg := func(extra map[string]any) resp {
		body := map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+15551230001", "TYPE": 2, "LINE_NUMBER": "main-line"}
		for k, v := range extra {
			body[k] = v
		}
		return b.app("telephony.externalcall.register", body)
	}
	r := reg(nil)
	requireOK(t, r)
	res := r.obj()
	callID := res["CALL_ID"].(string)
	require.Regexp(t, callIDRe, callID)
	require.Nil(t, res["CRM_CREATED_LEAD"])
	require.Equal(t, []any{}, res["CRM_CREATED_ENTITIES"])
	require.Equal(t, "CONTACT", res["CRM_ENTITY_TYPE"])
	require.Equal(t, cid, res["CRM_ENTITY_ID"])
	require.NotContains(t, res, "LEAD_CREATION_ERROR")

	require.Equal(t, callID, reg(nil).obj()["CALL_ID"], "30-minute de-duplication")
	require.Equal(t, callID, reg(map[string]any{"USER_PHONE_INNER": "102", "USER_ID": 0}).obj()["CALL_ID"])
	other := reg(map[string]any{"EXTERNAL_CALL_ID": "pbx-2"}).obj()["CALL_ID"]
	require.NotEqual(t, callID, other, "a different EXTERNAL_CALL_ID is a new call")

	require.Equal(t, true, b.app("telephony.externalcall.show", map[string]any{"CALL_ID": callID, "USER_ID": []int{2, 3}}).result())
	require.Equal(t, true, b.app("telephony.externalcall.hide", map[string]any{"CALL_ID": callID, "USER_ID": 3}).result())
	require.Equal(t, false, b.app("telephony.externalcall.show", map[string]any{"CALL_ID": "externalCall.nope.1"}).result())

	b.clock.Advance(95 * time.Second)
	f := b.app("telephony.externalcall.finish", map[string]any{"CALL_ID": callID, "USER_ID": 2, "DURATION": 95, "VOTE": 5, "ADD_TO_CHAT": 0})
	requireOK(t, f)
	fr := f.obj()
	require.Equal(t, "2", fr["INCOMING"])
	require.Equal(t, float64(95), fr["CALL_DURATION"])
	require.Equal(t, float64(1), fr["CALL_STATUS"])
	require.Equal(t, "200", fr["CALL_FAILED_CODE"])
	require.Equal(t, "15551230001", fr["PHONE_NUMBER"])
	require.Equal(t, "main-line", fr["PORTAL_NUMBER"])
	require.Equal(t, "1", fr["REST_APP_ID"])
	require.Equal(t, "CONTACT", fr["CRM_ENTITY_TYPE"])
	require.Contains(t, f.Raw, `"CALL_START_DATE":{}`)
	require.Nil(t, fr["EXTERNAL_CALL_ID"])
	actID := fr["CRM_ACTIVITY_ID"]
	require.NotNil(t, actID)

	a := b.hook("crm.activity.get", map[string]any{"id": actID}).obj()
	require.Equal(t, "VI_"+callID, a["ORIGIN_ID"])
	require.Equal(t, "VOXIMPLANT_CALL", a["PROVIDER_ID"])
	require.Equal(t, "Y", a["COMPLETED"])
	require.Equal(t, "1", a["DIRECTION"])
	require.Equal(t, "2", a["RESPONSIBLE_ID"])

	requireErr(t, b.app("telephony.externalcall.finish", map[string]any{"CALL_ID": callID, "USER_ID": 2}), 400, "ERROR_CORE",
		"Call is not found (call should be registered prior to finishing")
	require.Equal(t, false, b.app("telephony.externalcall.show", map[string]any{"CALL_ID": callID}).result())
	require.NotEqual(t, callID, reg(nil).obj()["CALL_ID"], "after finish register creates a new call")

	// attachRecord
	requireErr(t, b.app("telephony.externalcall.attachrecord", map[string]any{"CALL_ID": other, "FILENAME": "a.mp3", "FILE_CONTENT": "AAAA"}), 400, "ERROR_CORE",
		"Call is not found in the statistic table. Looks like it is not finished yet.")
	for _, tc := range []struct {
		body map[string]any
		desc string
	}{
		{map[string]any{"CALL_ID": callID}, "Required parameters are not set. Request should contain or URL or FILENAME parameter"},
		{map[string]any{"CALL_ID": callID, "FILENAME": "a.ogg", "FILE_CONTENT": "AAAA"}, "Wrong file extension. Only wav and mp3 are allowed"},
		{map[string]any{"CALL_ID": callID, "FILENAME": "a.mp3", "FILE_CONTENT": ""}, "File content is empty."},
		{map[string]any{"CALL_ID": callID, "FILENAME": "a.mp3", "FILE_CONTENT": "***"}, "File content is not properly encoded. Base64 encoding is expected."},
	} {
		requireErr(t, b.app("telephony.externalcall.attachrecord", tc.body), 400, "ERROR_CORE", tc.desc)
	}
	r = b.app("telephony.externalcall.attachrecord", map[string]any{"CALL_ID": callID, "FILENAME": "rec.mp3", "FILE_CONTENT": base64.StdEncoding.EncodeToString([]byte("ID3 mp3"))})
	requireOK(t, r)
	first := r.obj()["FILE_ID"]

	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "missing.wav") {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("RIFF....WAVE"))
	}))
	defer rec.Close()
	r = b.app("telephony.externalcall.attachrecord", map[string]any{"CALL_ID": callID, "RECORD_URL": rec.URL + "/r/call.wav"})
	requireOK(t, r)
	require.NotEqual(t, first, r.obj()["FILE_ID"])
	requireErr(t, b.app("telephony.externalcall.attachrecord", map[string]any{"CALL_ID": callID, "RECORD_URL": rec.URL + "/missing.wav"}), 400, "ERROR_CORE", "Server returns HTTP error code 404")

	r = b.app("telephony.externalcall.attachrecord", map[string]any{"CALL_ID": callID, "FILENAME": "final.wav"})
	requireOK(t, r)
	up := r.obj()
	require.Equal(t, "file", up["fieldName"])
	uploadURL := up["uploadUrl"].(string)
	require.Contains(t, uploadURL, "/rest/upload.json?auth=")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "final.wav")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("RIFF-final"))
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, uploadURL, &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	ur := b.do(req)
	require.Equal(t, 200, ur.Status, ur.Raw)
	require.NotContains(t, ur.Body, "time")
	fileID := ur.obj()["FILE_ID"]

	snap, err := b.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Files, 1, "a new attach replaces the old record")
	require.Equal(t, num(fileID), snap.Files[0].ID)
	require.Equal(t, "final.wav", snap.Files[0].Name)
	for _, a := range snap.Activities {
		if a.ID == num(actID) {
			require.Equal(t, []int{snap.Files[0].ID}, a.Files)
		}
	}
}

// §3.1 (telephony-auth): register validation errors.
func TestRef_Telephony_RegisterErrors(t *testing.T) {
	b := setup(t, withEmpty)
	cases := []struct {
		body map[string]any
		desc string
	}{
		{map[string]any{"PHONE_NUMBER": "1", "TYPE": 2}, "USER_ID or USER_PHONE_INNER should be set"},
		{map[string]any{"USER_ID": 1, "PHONE_NUMBER": "1", "TYPE": 9}, "Unknown TYPE"},
		{map[string]any{"USER_ID": 1, "PHONE_NUMBER": "1", "TYPE": "x"}, "Unknown TYPE"},
		{map[string]any{"USER_ID": 1, "PHONE_NUMBER": "1", "TYPE": 2, "CALL_START_DATE": "yesterday"}, "CALL_START_DATE should be in the ISO-8601 format"},
		{map[string]any{"USER_ID": 1, "PHONE_NUMBER": "abc", "TYPE": 2}, "Unsupported phone number format"},
		{map[string]any{"USER_ID": 3, "PHONE_NUMBER": "1", "TYPE": 2}, "User is not found or is not active"},
		{map[string]any{"USER_PHONE_INNER": "999", "PHONE_NUMBER": "1", "TYPE": "2"}, "User is not found or is not active"},
	}
	for _, tc := range cases {
		requireErr(t, b.hook("telephony.externalcall.register", tc.body), 400, "ERROR_CORE", tc.desc)
	}
	requireErr(t, b.hook("telephony.externalcall.searchCrmEntities", map[string]any{}), 400, "ERROR_CORE", "PHONE_NUMBER is empty")
}

// §5 (telephony-auth): CRM_CREATE auto-creation by CRM mode (the SPEC D2 trap).
func TestRef_Telephony_CRMCreateByMode(t *testing.T) {
	t.Run("classic creates a lead", func(t *testing.T) {
		b := setup(t, withEmpty)
		r := b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+79990001122", "TYPE": 2, "CRM_CREATE": 1, "LINE_NUMBER": "74951234567"}).obj()
		require.Equal(t, float64(1), r["CRM_CREATED_LEAD"])
		require.Equal(t, []any{map[string]any{"ENTITY_TYPE": "LEAD", "ENTITY_ID": float64(1)}}, r["CRM_CREATED_ENTITIES"])
		lead := b.hook("crm.lead.get", map[string]any{"id": 1}).obj()
		require.Equal(t, "CALL", lead["SOURCE_ID"])
		require.Equal(t, "Звонок на номер 74951234567", lead["SOURCE_DESCRIPTION"])
		require.Equal(t, "+79990001122 - Входящий звонок", lead["TITLE"])
		// the duplicate trap: the client also creates a lead → two leads for one call
		requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "mine", "PHONE": phoneList("+79990001122")}}))
		dup := b.hook("crm.duplicate.findbycomm", map[string]any{"type": "PHONE", "values": []string{"89990001122"}}).obj()
		require.Len(t, dup["LEAD"], 2)
		// finish re-assigns the auto-created lead and binds the activity
		f := b.hook("telephony.externalcall.finish", map[string]any{"CALL_ID": r["CALL_ID"], "USER_ID": 1, "STATUS_CODE": "304"}).obj()
		require.Equal(t, "1", b.hook("crm.lead.get", map[string]any{"id": 1}).obj()["ASSIGNED_BY_ID"])
		require.Equal(t, float64(0), f["CALL_STATUS"])
		require.Equal(t, "304", f["CALL_FAILED_CODE"])
		a := b.hook("crm.activity.get", map[string]any{"id": f["CRM_ACTIVITY_ID"]})
		require.Equal(t, "N", a.obj()["COMPLETED"], "missed incoming is not completed")
		require.Contains(t, a.Raw, `"SETTINGS":{"MISSED_CALL":true}`)
		// a later successful call completes the earlier missed one
		r2 := b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+79990001122", "TYPE": 1, "CRM_ENTITY_TYPE": "LEAD", "CRM_ENTITY_ID": 1}).obj()
		b.hook("telephony.externalcall.finish", map[string]any{"CALL_ID": r2["CALL_ID"], "USER_ID": 2, "DURATION": 10})
		require.Equal(t, "Y", b.hook("crm.activity.get", map[string]any{"id": f["CRM_ACTIVITY_ID"]}).obj()["COMPLETED"])
	})
	t.Run("simple creates contact and deal", func(t *testing.T) {
		b := setup(t, withEmpty, func(o *Options) { o.Mode = ModeSimple })
		r := b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+79990001122", "TYPE": 2, "CRM_CREATE": "1"}).obj()
		require.Nil(t, r["CRM_CREATED_LEAD"])
		require.Equal(t, []any{map[string]any{"ENTITY_TYPE": "CONTACT", "ENTITY_ID": float64(1)}, map[string]any{"ENTITY_TYPE": "DEAL", "ENTITY_ID": float64(1)}}, r["CRM_CREATED_ENTITIES"])
		require.Equal(t, "CONTACT", r["CRM_ENTITY_TYPE"])
		require.Equal(t, "1", b.hook("crm.deal.get", map[string]any{"id": 1}).obj()["CONTACT_ID"])
		require.Equal(t, float64(0), b.hook("crm.lead.list", nil).Body["total"])
	})
	t.Run("no creation without CRM_CREATE or for known and internal numbers", func(t *testing.T) {
		b := setup(t, withEmpty)
		r := b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+79990001122", "TYPE": 2}).obj()
		require.Equal(t, "", r["CRM_ENTITY_TYPE"])
		require.Nil(t, r["CRM_ENTITY_ID"])
		r = b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "101", "TYPE": 2, "CRM_CREATE": 1}).obj()
		require.Equal(t, []any{}, r["CRM_CREATED_ENTITIES"], "internal numbers never create CRM entities")
		f := b.hook("telephony.externalcall.finish", map[string]any{"CALL_ID": b.hook("telephony.externalcall.register", map[string]any{"USER_ID": 2, "PHONE_NUMBER": "+70000000000", "TYPE": 2}).obj()["CALL_ID"], "USER_ID": 2}).obj()
		require.Equal(t, map[string]any{"ACTIVITY_CREATION": "Could not find associated crm entity for the current call"}, f["ERRORS"])
		require.Nil(t, f["CRM_ACTIVITY_ID"])
		require.Equal(t, false, f["REST_APP_NAME"], "webhook calls have no app")
		require.Equal(t, "REST_APP:", f["PORTAL_NUMBER"])
	})
}

// §3.4 (telephony-auth): searchCrmEntities order and shape.
func TestRef_Telephony_SearchCrmEntities(t *testing.T) {
	b := setup(t, withEmpty)
	b.hook("crm.company.add", map[string]any{"fields": map[string]any{"TITLE": "Co", "PHONE": phoneList("+79991112233")}})
	b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "Lead", "PHONE": phoneList("89991112233")}})
	b.hook("crm.contact.add", map[string]any{"fields": map[string]any{"NAME": "Jane", "LAST_NAME": "Roe", "ASSIGNED_BY_ID": 2, "PHONE": phoneList("+7 999 111-22-33")}})
	l := b.hook("telephony.externalCall.searchCrmEntities", map[string]any{"PHONE_NUMBER": "79991112233"}).list()
	require.Len(t, l, 3)
	var order []string
	for _, x := range l {
		order = append(order, x.(map[string]any)["CRM_ENTITY_TYPE"].(string))
	}
	require.Equal(t, []string{"CONTACT", "LEAD", "COMPANY"}, order)
	c := l[0].(map[string]any)
	require.Equal(t, "Jane Roe", c["NAME"])
	require.Equal(t, "2", c["ASSIGNED_BY"].(map[string]any)["ID"])
	require.Equal(t, "102", c["ASSIGNED_BY"].(map[string]any)["USER_PHONE_INNER"])
	require.Contains(t, b.hook("telephony.externalCall.searchCrmEntities", map[string]any{"PHONE_NUMBER": "1"}).Raw, `"result":[]`)
}

// §3.5 (telephony-auth): external lines.
func TestRef_Telephony_ExternalLines(t *testing.T) {
	b := setup(t, withEmpty)
	r := b.app("telephony.externalLine.add", map[string]any{"NUMBER": "main-line", "NAME": "Main", "CRM_AUTO_CREATE": "N"})
	require.Equal(t, map[string]any{"ID": float64(1)}, r.obj())
	requireErr(t, b.app("telephony.externalLine.add", map[string]any{"NUMBER": "main-line"}), 400, "ERROR_CORE", "Line already exists")
	requireErr(t, b.app("telephony.externalLine.add", map[string]any{}), 400, "ERROR_CORE", "NUMBER should not be empty")
	requireErr(t, b.app("telephony.externalLine.update", map[string]any{"NUMBER": "main-line"}), 400, "ERROR_CORE", "There are no fields to update")
	requireErr(t, b.app("telephony.externalLine.update", map[string]any{"NUMBER": "x", "NAME": "n"}), 400, "ERROR_CORE", "Could not find line with number x")
	r = b.app("telephony.externalLine.update", map[string]any{"NUMBER": "main-line", "CRM_AUTO_CREATE": "maybe"})
	require.Equal(t, map[string]any{"ID": "1"}, r.obj())
	require.Equal(t, []any{map[string]any{"NUMBER": "main-line", "NAME": "Main", "CRM_AUTO_CREATE": "N"}}, b.app("telephony.externalLine.get", nil).list())
	require.Equal(t, []any{}, b.hook("telephony.externalLine.get", nil).list(), "webhook lines are separate from the app's")
}
