package b24sim

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

const maxBatch = 50

// batchRefRe matches a whole-value reference such as $result[key][ID].
var batchRefRe = regexp.MustCompile(`^\$(\w+)((?:\[[^\]]*\])+)$`)

// batchNames returns the lower-case method names of a batch call's commands
// (for the request log).
func (c *call) batchNames() []string {
	p := lowerKeys(c.params)
	cmd, ok := p.vals["cmd"].(*Arr)
	if !ok {
		return nil
	}
	var out []string
	for _, v := range cmd.Values() {
		if s, ok := v.(string); ok {
			name, _, _ := strings.Cut(s, "?")
			out = append(out, strings.TrimSuffix(strings.ToLower(name), ".json"))
		}
	}
	return out
}

func truthy(v any) bool {
	switch strings.ToLower(phpString(v)) {
	case "", "0", "false", "n":
		return false
	}
	return true
}

// batch implements the batch method: up to 50 commands, halt, and
// $result[key][field] references. HTTP stays 200; per-command errors go to
// result_error.
func (c *call) batch() (reply, error) {
	p := lowerKeys(c.params)
	halt := truthy(valueOr(p, "halt"))
	results, errs, totals, nexts, times := NewArr(), NewArr(), NewArr(), NewArr(), NewArr()
	acc := map[string]*Arr{"result": results, "result_error": errs, "result_total": totals, "result_next": nexts, "result_time": times,
		"error": errs, "total": totals, "next": nexts, "time": times}
	cmd, _ := p.vals["cmd"].(*Arr)
	n := 0
	for _, key := range cmd.Keys() {
		v, _ := cmd.Get(key)
		s, isStr := v.(string)
		if !isStr {
			continue
		}
		n++
		if n > maxBatch {
			errs.Set(key, errorBody(errBatchLength))
			continue
		}
		e := c.runCommand(s, acc, key)
		if e != nil {
			errs.Set(key, errorBody(e))
			if halt {
				break
			}
		}
	}
	return reply{result: obj{"result": results, "result_error": errs, "result_total": totals, "result_next": nexts, "result_time": times}}, nil
}

func (c *call) runCommand(s string, acc map[string]*Arr, key string) *Error {
	name, query, _ := strings.Cut(s, "?")
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".json")
	params := ParseForm(query)
	resolveRefs(params, acc)
	m := c.s.methods[name]
	if m == nil {
		return errMethodNotFound
	}
	if m.noBatch {
		return errBatchMethod
	}
	if !c.s.hasScope(scopeOf(name)) {
		return newErr(c.s.authStatus(), "insufficient_scope", "The request requires higher privileges than provided by the access token")
	}
	if c.auth.kind == authWebhook && (m.appOnly || (m.strict && c.s.opts.StrictDocs)) {
		return errWrongAuthType
	}
	params.Delete("auth")
	params.Delete("access_token")
	sub := &call{s: c.s, r: c.r, name: name, params: params, auth: c.auth, depth: c.depth + 1}
	rep, t, err := c.s.execute(m, sub)
	if err != nil {
		return asError(err)
	}
	acc["result"].Set(key, rep.result)
	if rep.hasTotal {
		acc["result_total"].Set(key, rep.total)
		if rep.hasNext {
			acc["result_next"].Set(key, rep.next)
		}
	}
	acc["result_time"].Set(key, t.block(c.s.loc))
	return nil
}

// resolveRefs replaces whole string values of the form $name[key][path…]
// by the referenced earlier result, stopping at the deepest existing node.
func resolveRefs(a *Arr, acc map[string]*Arr) {
	for _, k := range a.Keys() {
		v, _ := a.Get(k)
		switch t := v.(type) {
		case *Arr:
			resolveRefs(t, acc)
		case string:
			if !strings.HasPrefix(t, "$") {
				continue
			}
			m := batchRefRe.FindStringSubmatch(t)
			if m == nil {
				continue
			}
			root, ok := acc[m[1]]
			if !ok {
				continue
			}
			segs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(m[2], "["), "]"), "][")
			var node any = root
			for _, seg := range segs {
				next, ok := child(node, seg)
				if !ok {
					break
				}
				node = next
			}
			a.Set(k, toParam(node))
		}
	}
}

// child indexes into a result value.
func child(node any, seg string) (any, bool) {
	switch t := node.(type) {
	case *Arr:
		return t.Get(seg)
	case obj:
		v, ok := t[seg]
		return v, ok
	case map[string]any:
		v, ok := t[seg]
		return v, ok
	case []any:
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(t) {
			return nil, false
		}
		return t[i], true
	case []int:
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(t) {
			return nil, false
		}
		return t[i], true
	}
	return nil, false
}

// toParam converts a result value into a request parameter value.
func toParam(v any) any {
	switch t := v.(type) {
	case *Arr, string, nil:
		return t
	case bool:
		return t
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	p, err := DecodeJSON(b)
	if err != nil {
		return ""
	}
	if n, ok := p.(json.Number); ok {
		return n.String()
	}
	return p
}
