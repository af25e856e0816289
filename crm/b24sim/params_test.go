package b24sim

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// §1.2 (telephony-auth): PHP parse_str rules.
func TestRef_Params_ParseStr(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"fields[TITLE]=My%20company&fields[PHONE][0][VALUE]=112233", `{"fields":{"TITLE":"My company","PHONE":[{"VALUE":"112233"}]}}`},
		{"values[]=1&values[]=2", `{"values":["1","2"]}`},
		{"a.b=1&c d=2", `{"a_b":"1","c_d":"2"}`},
		{"a[=1", `{"a_":"1"}`},
		{"a=1&a=2", `{"a":"2"}`},
		{"a[x]=1&a=2", `{"a":"2"}`},
		{"a=1&a[x]=2", `{"a":{"x":"2"}}`},
		{"USER_ID[]=12&USER_ID[]=13", `{"USER_ID":["12","13"]}`},
		{"x[5]=a&x[]=b", `{"x":{"5":"a","6":"b"}}`},
		{"=1&[a]=2&b+c=%zz", `{"b_c":"%zz"}`},
		{"", `[]`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			b, err := json.Marshal(ParseForm(tc.in))
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(b))
		})
	}
	p := ParseParams("POST", "application/json; charset=utf-8", "id=1&auth=q", []byte(`{"id":2,"list":[1,{"a":null}]}`))
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.Equal(t, `{"id":2,"auth":"q","list":[1,{"a":null}]}`, string(b))
	require.Equal(t, 0, ParseParams("POST", "application/json", "", []byte(`[1,2`)).Len())
}

// FuzzParseParams checks that no query/body/content-type combination panics
// and that the result always encodes as JSON.
func FuzzParseParams(f *testing.F) {
	seeds := []struct{ method, ct, q, body string }{
		{"POST", "application/json", "auth=x", `{"fields":{"TITLE":"t","PHONE":[{"VALUE":"1"}]}}`},
		{"POST", "application/x-www-form-urlencoded", "", "fields[PHONE][0][VALUE]=1&fields[PHONE][0][VALUE_TYPE]=WORK"},
		{"GET", "", "filter[>=DATE_MODIFY]=2024-01-01&select[]=ID&start=50", ""},
		{"POST", "text/plain", "", "cmd[a]=crm.lead.get%3Fid%3D%24result%5Bb%5D%5BID%5D&halt=1"},
		{"POST", "application/json", "", `{"a":{"b":{"c":[[[[[]]]]]}}, "0": 1, "01": 2}`},
		{"POST", "application/json", "", `[1,"x",null,true,1e400]`},
		{"POST", "application/json;;", "a[[[]]]=1", "{\"\xff\":1}"},
		{"POST", "", "%", "a[b][c][d][e][f][g][h][i][j][k][l][m][n][o][p][q][r][s][t][u][v][w][x][y][z]=1"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.ct, s.q, s.body)
	}
	f.Fuzz(func(t *testing.T, method, ct, q, body string) {
		p := ParseParams(method, ct, q, []byte(body))
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("encode parsed params: %v", err)
		}
		for _, k := range p.Keys() {
			v, _ := p.Get(k)
			_ = phpString(v)
			_ = phpInt(v)
			_ = phpFloat(v)
			_ = asList(v)
		}
		resolveRefs(p, map[string]*Arr{"result": ParseForm(q)})
	})
}
