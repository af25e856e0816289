package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
)

// referenceBody is the click-to-call of reference §4.1, URL-encoded.
const referenceBody = "event=ONEXTERNALCALLSTART&event_handler_id=1055" +
	"&data%5BPHONE_NUMBER%5D=%2B15551230001&data%5BPHONE_NUMBER_INTERNATIONAL%5D=%2B15551230001&data%5BEXTENSION%5D=" +
	"&data%5BUSER_ID%5D=12&data%5BCALL_LIST_ID%5D=0&data%5BLINE_NUMBER%5D=main-line&data%5BIS_MOBILE%5D=0" +
	"&data%5BCALL_ID%5D=externalCall.89350264e026dace3f2b14d1f438257c.1773236989" +
	"&data%5BCRM_ENTITY_TYPE%5D=CONTACT&data%5BCRM_ENTITY_ID%5D=797" +
	"&data%5BCRM_CREATED_ENTITIES%5D%5B0%5D%5BENTITY_TYPE%5D=LEAD&data%5BCRM_CREATED_ENTITIES%5D%5B0%5D%5BENTITY_ID%5D=5" +
	"&ts=1773236988&auth%5Bdomain%5D=example.bitrix24.com&auth%5Bmember_id%5D=a223c6b9410f85df78e9377d6c4f7213" +
	"&auth%5Bapplication_token%5D=51610fefc120afa4b628cc82d6298cce"

func TestC4_FromFormReference(t *testing.T) {
	f, err := DecodeForm(referenceBody)
	require.NoError(t, err)
	require.Equal(t, "51610fefc120afa4b628cc82d6298cce", f.Get("auth", "application_token"))
	require.Equal(t, "LEAD", f.Get("data", "CRM_CREATED_ENTITIES[0][ENTITY_TYPE]"))
	ev, err := FromForm(f)
	require.NoError(t, err)
	require.Equal(t, Event{
		Kind: KindClickToCall, Name: "ONEXTERNALCALLSTART", Source: SourceOnline, Domain: "example.bitrix24.com",
		MemberID: "a223c6b9410f85df78e9377d6c4f7213", Time: time.Unix(1773236988, 0), UserID: 12,
		PhoneNumber: "+15551230001", PhoneInternational: "+15551230001",
		CallID: "externalCall.89350264e026dace3f2b14d1f438257c.1773236989", LineNumber: "main-line",
		Entity: EntityRef{Type: "CONTACT", ID: 797}, CreatedEntities: []EntityRef{{Type: "LEAD", ID: 5}},
	}, ev)
}

// TestC4_FromOfflineTypes: EVENT_DATA values arrive as strings, numbers,
// booleans or null, and all decode alike.
func TestC4_FromOfflineTypes(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		err        string
	}{
		{"native types", `{"PHONE_NUMBER":"+79991234567","USER_ID":2,"CALL_ID":"c1","CRM_ENTITY_TYPE":"CONTACT","CRM_ENTITY_ID":1,"LINE_NUMBER":"l","IS_MOBILE":true,"CALL_LIST_ID":0}`, ""},
		{"strings", `{"PHONE_NUMBER":"+79991234567","USER_ID":"2","CALL_ID":"c1","CRM_ENTITY_TYPE":"contact","CRM_ENTITY_ID":"1","LINE_NUMBER":"l","IS_MOBILE":"1","CALL_LIST_ID":"0"}`, ""},
		{"nulls", `{"PHONE_NUMBER":"+79991234567","USER_ID":2,"CALL_ID":"c1","CRM_ENTITY_TYPE":"CONTACT","CRM_ENTITY_ID":1,"LINE_NUMBER":"l","IS_MOBILE":1,"CALL_LIST_ID":null,"EXTENSION":null}`, ""},
		{"user not a number", `{"PHONE_NUMBER":"1","USER_ID":"two","CALL_ID":"c1"}`, "USER_ID"},
		{"no call id", `{"PHONE_NUMBER":"1","USER_ID":2}`, "CALL_ID"},
		{"no phone", `{"USER_ID":2,"CALL_ID":"c1"}`, "PHONE_NUMBER"},
		{"not an object", `"x"`, "EVENT_DATA"},
		{"false", `false`, "PHONE_NUMBER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := b24.OfflineEvent{ID: 17, Event: "ONEXTERNALCALLSTART", MessageID: "m", Data: json.RawMessage(tc.data)}
			ev, err := FromOffline(row)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 2, ev.UserID)
			require.Equal(t, EntityRef{Type: "CONTACT", ID: 1}, ev.Entity)
			require.True(t, ev.IsMobile)
			require.Equal(t, SourceOffline, ev.Source)
			require.Equal(t, 17, ev.OfflineID)
		})
	}
	cb, err := FromOffline(b24.OfflineEvent{Event: "ONEXTERNALCALLBACKSTART", Data: json.RawMessage(`{"PHONE_NUMBER":"+7900","TEXT":"hi","VOICE":"v","CRM_ENTITY_TYPE":"","CRM_ENTITY_ID":0}`)})
	require.NoError(t, err)
	require.Equal(t, KindCallback, cb.Kind)
	require.True(t, cb.Entity.IsZero())
	_, err = FromOffline(b24.OfflineEvent{Event: "ONCRMLEADADD", Data: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestC4_DecodeForm(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       Form
		err        bool
	}{
		{"empty", "", Form{Values: map[string]string{}, Groups: map[string]map[string]string{}}, false},
		{"plain and groups", "a=1&g%5Bk%5D=v+w&g[j]=%2B", Form{Values: map[string]string{"a": "1"},
			Groups: map[string]map[string]string{"g": {"k": "v w", "j": "+"}}}, false},
		{"append index", "l[]=a&l[]=b&l[5]=c&l[]=d", Form{Values: map[string]string{},
			Groups: map[string]map[string]string{"l": {"0": "a", "1": "b", "5": "c", "6": "d"}}}, false},
		{"last wins, empty pairs skipped", "a=1&&a=2&b", Form{Values: map[string]string{"a": "2", "b": ""},
			Groups: map[string]map[string]string{}}, false},
		{"unclosed", "g[k=1", Form{}, true},
		{"text after bracket", "g[k]x=1", Form{}, true},
		{"no name", "[k]=1", Form{}, true},
		{"stray close", "g]=1", Form{}, true},
		{"bad escape", "a=%G1", Form{}, true},
		{"too many fields", strings.Repeat("a=1&", maxFormFields+1), Form{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := DecodeForm(tc.body)
			if tc.err {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, f)
		})
	}
}

// FuzzDecodeForm: no input panics, and whatever decodes survives an
// Encode/Decode round trip unchanged.
func FuzzDecodeForm(f *testing.F) {
	for _, seed := range []string{referenceBody, "", "a=1", "g[]=1&g[]=2", "g[a][b][c]=1", "x[=1", "%", "a[b]c=1", "&&=&", "a[][b]=1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := DecodeForm(body)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		again, err := DecodeForm(form.Encode())
		require.NoError(t, err)
		require.Equal(t, form, again)
		if ev, err := FromForm(form); err == nil {
			require.NotEqual(t, KindUnknown, ev.Kind)
		}
	})
}
