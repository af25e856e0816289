package b24sim

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// compareValuesSlow is compareValues without its fast paths, as it was.
func compareValuesSlow(v, f string, isDate bool, loc *time.Location) int {
	if isDate {
		tv, ok1 := parseDate(v, loc)
		tf, ok2 := parseDate(f, loc)
		if ok1 && ok2 {
			return tv.Compare(tf)
		}
	}
	if nv, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		if nf, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			switch {
			case nv < nf:
				return -1
			case nv > nf:
				return 1
			}
			return 0
		}
	}
	if strings.EqualFold(v, f) {
		return 0
	}
	return strings.Compare(v, f)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// The list filters' fast paths give the answers the full comparison gives.
func TestFilter_CompareValuesFastPathsAgree(t *testing.T) {
	vals := []string{"", "0", "00", "1", "01", "2", "9", "10", "12", "12.0", " 12", "-3", "+3", "1e3", "1000",
		"999999999999999", "1000000000000000", "12345678901234567890", "Y", "N", "y", "n", "nan", "NaN", "inf", "Infinity",
		"abc", "ABC", "$result[dup][LEAD]", "2026-11-25T10:00:00+03:00", "2026-11-25 10:00:00", "25.11.2026", "2026"}
	for _, isDate := range []bool{false, true} {
		for _, v := range vals {
			for _, f := range vals {
				require.Equal(t, sign(compareValuesSlow(v, f, isDate, time.UTC)), sign(compareValues(v, f, isDate, time.UTC)),
					"compare(%q, %q, date=%v)", v, f, isDate)
			}
		}
	}
}

func TestDuplicatePhoneKey_FastPathAgrees(t *testing.T) {
	for _, v := range []string{"+79161234567", "89161234567", "8 (916) 123-45-67", "+7 916 123 45 67;ext=12", "+74951234567#101",
		"+7495123,45", "00441234567890", "011441234567890", "123", "", "abc", "*100#", "+8 800 555 35 35"} {
		r, ok := NormalizePhone(v, 1)
		if !ok || r == "" {
			r = keepChars(v, "0123456789#*,;")
		}
		require.Equal(t, extensionRe.ReplaceAllString(r, "$1"), DuplicatePhoneKey(v), v)
		st := &State{}
		require.Equal(t, DuplicatePhoneKey(v), st.phoneKey(v))
		require.Equal(t, DuplicatePhoneKey(v), st.phoneKey(v), "memoized")
	}
}

// parseFilter tests the conditions that reject most rows first; an = with
// no values (a batch reference to an empty result) matches nothing.
func TestFilter_OrderAndMatchesNothing(t *testing.T) {
	a := NewArr()
	a.Set("COMPLETED", "N")
	a.Set(">START_TIME", "2026-01-01")
	a.Set("OWNER_ID", "5")
	a.Set("OWNER_TYPE_ID", "1")
	var fields []string
	for _, c := range parseFilter(a) {
		fields = append(fields, c.field)
	}
	require.Equal(t, []string{"OWNER_ID", "COMPLETED", "OWNER_TYPE_ID", "START_TIME"}, fields)
	require.False(t, matchesNothing(parseFilter(a)))
	a.Set("ID", NewArr())
	conds := parseFilter(a)
	require.Equal(t, "ID", conds[0].field)
	require.True(t, matchesNothing(conds))
	require.False(t, matchAll(conds, func(string) ([]string, bool) { return []string{"5"}, false }, time.UTC))
}

// A batch whose list filters point at an empty duplicate search finds
// nothing; an ID filter by reference finds exactly the referenced rows, in
// the portal's order, also when seeded IDs are not ascending.
func TestBatch_ReferenceFiltersUseTheIndex(t *testing.T) {
	b := setup(t, func(o *Options) {
		o.Seed = emptySeed()
		o.Seed.Leads = []SeedEntity{
			{ID: 500, Fields: map[string]any{"TITLE": "late id", "PHONE": phoneList("+79160000001")}},
			{ID: 3, Fields: map[string]any{"TITLE": "early id", "PHONE": phoneList("+79160000001")}},
			{ID: 4, Fields: map[string]any{"TITLE": "other", "PHONE": phoneList("+79160000002")}},
		}
	})
	batch := func(number string) map[string]any {
		r := b.hook("batch", map[string]any{"cmd": map[string]any{
			"dup":   "crm.duplicate.findbycomm?type=PHONE&values[]=" + strings.ReplaceAll(number, "+", "%2B"),
			"leads": "crm.lead.list?filter[ID]=$result[dup][LEAD]&select[]=ID",
			"acts":  "crm.activity.list?filter[OWNER_TYPE_ID]=1&filter[OWNER_ID]=$result[dup][LEAD]",
		}})
		requireOK(t, r)
		return r.obj()["result"].(map[string]any)
	}
	ids := func(rows any) []string {
		var out []string
		for _, x := range rows.([]any) {
			out = append(out, x.(map[string]any)["ID"].(string))
		}
		return out
	}
	res := batch("+79160000001")
	require.Equal(t, []string{"500", "3"}, ids(res["leads"]))
	res = batch("+79169999999")
	require.Empty(t, res["leads"])
	require.Empty(t, res["acts"])
	requireOK(t, b.hook("crm.lead.list", map[string]any{"filter": map[string]any{"@ID": []any{"4", "3", "77"}}}))
	require.Len(t, b.hook("crm.lead.list", map[string]any{"filter": map[string]any{"@ID": []any{"4", "3", "77"}}}).list(), 2)
	require.Len(t, b.hook("crm.lead.list", map[string]any{"filter": map[string]any{"ID": "04"}}).list(), 1, "non-canonical IDs still compare as numbers")
}

// The request log reports how long methods held the state lock.
func TestSim_RequestLogLockedTime(t *testing.T) {
	b := setup(t)
	before := b.admin("GET", "/_sim/requests", nil).Body["locked_us"]
	require.NotNil(t, before)
	requireOK(t, b.hook("batch", map[string]any{"cmd": map[string]any{"a": "crm.lead.list", "b": "user.get"}}))
	after := b.admin("GET", "/_sim/requests", nil).Body["locked_us"].(float64)
	require.GreaterOrEqual(t, after, before.(float64))
	b.admin("DELETE", "/_sim/requests", nil)
	require.InDelta(t, 0, b.admin("GET", "/_sim/requests", nil).Body["locked_us"].(float64), 0)
}
