package b24

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRef1_3_PHPQuirks decodes the shapes PHP's json_encode produces.
func TestRef1_3_PHPQuirks(t *testing.T) {
	var v struct {
		A, B, C, D Int
		F, G, H    Flag
		T1, T2, T3 Time
		S1, S2, S3 String
		O1, O2     Object
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":"123","B":45,"C":null,"D":"",
		"F":"Y","G":"N","H":true,
		"T1":"2024-05-23T18:18:25+02:00","T2":"","T3":{},
		"S1":null,"S2":12,"S3":"x",
		"O1":[],"O2":{"k":1}}`), &v))
	require.EqualValues(t, 123, v.A)
	require.EqualValues(t, 45, v.B)
	require.Zero(t, v.C)
	require.Zero(t, v.D)
	require.True(t, bool(v.F))
	require.False(t, bool(v.G))
	require.True(t, bool(v.H))
	require.Equal(t, 2024, v.T1.Year())
	require.True(t, v.T2.IsZero())
	require.True(t, v.T3.IsZero(), "DateTime objects serialise as {}")
	require.Equal(t, String(""), v.S1)
	require.Equal(t, String("12"), v.S2)
	require.Empty(t, v.O1, "empty PHP arrays are [] not {}")
	require.Len(t, v.O2, 1)

	var bad Int
	require.Error(t, json.Unmarshal([]byte(`"12a"`), &bad))
	var badFlag Flag
	require.Error(t, json.Unmarshal([]byte(`"maybe"`), &badFlag))
}

func TestEncodeQuery_PHPBrackets(t *testing.T) {
	q, err := EncodeQuery(Params{
		"fields": Params{"TITLE": "Звонок", "PHONE": []Params{{"VALUE": "+7 999", "VALUE_TYPE": "WORK"}}, "OPENED": true, "N": 7},
		"select": []string{"ID", "PHONE"},
		"id":     Ref("lead"),
	})
	require.NoError(t, err)
	require.Equal(t, "fields%5BN%5D=7&fields%5BOPENED%5D=Y&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B7+999&"+
		"fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK&fields%5BTITLE%5D=%D0%97%D0%B2%D0%BE%D0%BD%D0%BE%D0%BA&"+
		"id=%24result%5Blead%5D&select%5B0%5D=ID&select%5B1%5D=PHONE", q)
}

func TestIsRead(t *testing.T) {
	for m, want := range map[string]bool{
		"crm.lead.list": true, "crm.lead.get": true, "crm.duplicate.findbycomm": true, "user.get": true,
		"telephony.externalcall.searchCrmEntities": true, "crm.deal.contact.items.get": true,
		"crm.lead.add": false, "crm.activity.update": false, "event.offline.get": false, "batch": false,
	} {
		require.Equal(t, want, isRead(m), m)
	}
}
