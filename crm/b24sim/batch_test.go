package b24sim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §1.7 (telephony-auth), §1.8 (crm): $result references, result_* maps.
func TestRef_Batch_ResultReferences(t *testing.T) {
	b := setup(t, withEmpty)
	requireOK(t, b.hook("crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "L", "PHONE": phoneList("+7 999 123-45-67")}}))
	// raw JSON: object key order is the execution order (upd before list)
	req, err := http.NewRequest(http.MethodPost, b.hookURL("batch"), strings.NewReader(`{"halt":0,"cmd":{
		"find":"crm.duplicate.findbycomm?type=PHONE&values[]=79991234567",
		"lead":"crm.lead.get?id=$result[find][LEAD][0]",
		"upd":"crm.lead.update?id=$result[lead][ID]&fields[TITLE]=renamed",
		"list":"crm.lead.list?select[]=ID&select[]=TITLE",
		"neg":"crm.lead.get?id=Call $result[find][LEAD][0]"}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	r := b.do(req)
	requireOK(t, r)
	res := r.obj()
	inner := res["result"].(map[string]any)
	require.Equal(t, []any{float64(1)}, inner["find"].(map[string]any)["LEAD"])
	require.Equal(t, "1", inner["lead"].(map[string]any)["ID"])
	require.Equal(t, true, inner["upd"])
	require.Equal(t, "renamed", inner["list"].([]any)[0].(map[string]any)["TITLE"], "commands run in order")
	require.Equal(t, map[string]any{"list": float64(1)}, res["result_total"])
	require.Equal(t, []any{}, res["result_next"], "empty PHP array")
	require.Contains(t, res["result_time"].(map[string]any), "find")
	errs := res["result_error"].(map[string]any)
	require.Equal(t, "ID is not defined or invalid.", errs["neg"].(map[string]any)["error_description"], "only whole values are substituted")
	require.NotContains(t, inner, "neg")
}

// §1.7: halt, list-shaped cmd (JSON arrays), per-command errors with HTTP 200.
func TestRef_Batch_HaltAndListShape(t *testing.T) {
	b := setup(t, withEmpty)
	r := b.hook("batch", map[string]any{"cmd": []string{"crm.lead.get?id=0", "crm.settings.mode.get"}})
	requireOK(t, r)
	require.Contains(t, r.Raw, `"result_error":[{"error":"","error_description":"ID is not defined or invalid."}]`)
	require.Equal(t, map[string]any{"1": float64(1)}, r.obj()["result"], "key 1 alone is not a PHP list")

	r = b.hook("batch", map[string]any{"halt": 1, "cmd": []string{"crm.lead.get?id=0", "crm.settings.mode.get"}})
	requireOK(t, r)
	require.Equal(t, []any{}, r.obj()["result"], "halt stops after the first error")

	r = b.postForm(b.hookURL("batch"), "halt=0&cmd%5Ba%5D="+strings.ReplaceAll("crm.lead.add?fields%5BTITLE%5D%3Dx", "%", "%25")+"&cmd%5Bb%5D=batch%3Fcmd%5Bx%5D%3Dcrm.settings.mode.get")
	requireOK(t, r)
	require.Equal(t, float64(1), r.obj()["result"].(map[string]any)["a"])
	e := r.obj()["result_error"].(map[string]any)["b"].(map[string]any)
	require.Equal(t, "ERROR_BATCH_METHOD_NOT_ALLOWED", e["error"])
}

// §1.7: at most 50 commands; 51+ get ERROR_BATCH_LENGTH_EXCEEDED per command.
func TestRef_Batch_LengthLimit(t *testing.T) {
	b := setup(t, withEmpty)
	cmd := map[string]any{}
	for i := 0; i < 52; i++ {
		cmd[fmt.Sprintf("k%02d", i)] = "crm.settings.mode.get"
	}
	cmd["skip"] = 5 // non-string entries are skipped silently
	r := b.hook("batch", map[string]any{"cmd": cmd})
	requireOK(t, r)
	require.Len(t, r.obj()["result"].(map[string]any), 50)
	errs := r.obj()["result_error"].(map[string]any)
	require.Len(t, errs, 2)
	require.Equal(t, "ERROR_BATCH_LENGTH_EXCEEDED", errs["k51"].(map[string]any)["error"])
	require.Equal(t, "Max batch length exceeded", errs["k50"].(map[string]any)["error_description"])
}

// §1.7: webhook auth is injected into sub-calls, app-only methods still refuse.
func TestRef_Batch_AuthInjected(t *testing.T) {
	b := setup(t, withEmpty)
	r := b.hook("batch", map[string]any{"cmd": map[string]any{"e": "event.get", "u": "user.current"}})
	requireOK(t, r)
	require.Equal(t, "WRONG_AUTH_TYPE", r.obj()["result_error"].(map[string]any)["e"].(map[string]any)["error"])
	require.Equal(t, "1", r.obj()["result"].(map[string]any)["u"].(map[string]any)["ID"])
	a := b.app("batch", map[string]any{"cmd": map[string]any{"e": "event.get"}})
	requireOK(t, a)
	require.Equal(t, []any{}, a.obj()["result"].(map[string]any)["e"])
}

// §1.6 (telephony-auth): leaky bucket, 503 QUERY_LIMIT_EXCEEDED, draining.
func TestRef_Limits_LeakyBucket(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) { o.RateLimit, o.RateBurst = 2, 5 })
	for i := 0; i < 5; i++ {
		requireOK(t, b.hook("crm.settings.mode.get", nil))
	}
	r := b.hook("crm.settings.mode.get", nil)
	requireErr(t, r, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
	require.Equal(t, `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`, r.Raw)
	b.clock.Advance(1 * time.Second) // drains 2
	requireOK(t, b.hook("crm.settings.mode.get", nil))
	requireOK(t, b.hook("crm.settings.mode.get", nil))
	requireErr(t, b.hook("crm.settings.mode.get", nil), 503, "QUERY_LIMIT_EXCEEDED", "")
	// a batch counts once
	b.clock.Advance(10 * time.Second)
	cmd := map[string]any{}
	for i := 0; i < 20; i++ {
		cmd[fmt.Sprint("c", i)] = "crm.settings.mode.get"
	}
	r = b.hook("batch", map[string]any{"cmd": cmd})
	requireOK(t, r)
	require.Len(t, r.obj()["result"].(map[string]any), 20)
}

// §1.6: per-method operating time → 429 on the next call; operating fields.
func TestRef_Limits_OperatingTime(t *testing.T) {
	b := setup(t, withEmpty, func(o *Options) {
		o.OperatingLimit = time.Second
		o.MethodCost = map[string]time.Duration{"crm.lead.list": 600 * time.Millisecond}
	})
	r := b.hook("crm.lead.list", nil)
	requireOK(t, r)
	tm := r.Body["time"].(map[string]any)
	require.Contains(t, tm, "operating")
	require.Contains(t, tm, "operating_reset_at")
	requireOK(t, b.hook("crm.lead.list", nil)) // 1.2s accumulated now
	requireErr(t, b.hook("crm.lead.list", nil), 429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
	requireOK(t, b.hook("crm.contact.list", nil)) // other methods are unaffected
	// inside batch the nested call is counted against its own method
	r = b.hook("batch", map[string]any{"cmd": map[string]any{"a": "crm.lead.list"}})
	requireOK(t, r)
	require.Equal(t, "OPERATION_TIME_LIMIT", r.obj()["result_error"].(map[string]any)["a"].(map[string]any)["error"])
	b.clock.Advance(11 * time.Minute)
	requireOK(t, b.hook("crm.lead.list", nil))
}
