package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxBatch is the most commands Bitrix24 runs in one batch call.
const MaxBatch = 50

// Batch collects commands for one or more batch calls. Later commands can
// use earlier results through Ref, e.g. Ref("lead") for the ID a
// crm.lead.add returned.
type Batch struct {
	halt bool
	cmds []batchCmd
	keys map[string]bool
}

type batchCmd struct {
	key    string
	method string
	params Params
}

// NewBatch starts an empty batch.
func NewBatch() *Batch { return &Batch{keys: map[string]bool{}} }

// Halt stops the batch at the first failing command.
func (b *Batch) Halt() *Batch {
	b.halt = true
	return b
}

// Add appends a command. Keys must be unique and made of letters, digits
// and '_'.
func (b *Batch) Add(key, method string, params Params) *Batch {
	b.cmds = append(b.cmds, batchCmd{key: key, method: method, params: params})
	return b
}

// Len is the number of commands.
func (b *Batch) Len() int { return len(b.cmds) }

// Ref is a reference to an earlier command's result, substituted by
// Bitrix24 when it is a whole parameter value: Ref("lead") is the value
// crm.lead.add returned, Ref("find", "CONTACT", "0") a nested element.
func Ref(key string, path ...string) string {
	var b strings.Builder
	b.WriteString("$result[" + key + "]")
	for _, p := range path {
		b.WriteString("[" + p + "]")
	}
	return b.String()
}

var (
	keyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	refPattern = regexp.MustCompile(`^\$result\[([A-Za-z0-9_]+)\]((?:\[[^\]]*\])*)$`)
)

// BatchResult holds each command's outcome by key.
type BatchResult struct {
	Results map[string]json.RawMessage
	Errors  map[string]*Error
	Totals  map[string]int
	Nexts   map[string]int
}

// Decode unmarshals the result of key into out, or returns its error.
func (r *BatchResult) Decode(key string, out any) error {
	if e, ok := r.Errors[key]; ok {
		return e
	}
	raw, ok := r.Results[key]
	if !ok {
		return fmt.Errorf("batch: no result for %q (not run: an earlier command failed with halt, or a reference was missing)", key)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("batch %s: decode result: %w", key, err)
	}
	return nil
}

// validate checks the keys: letters, digits and '_', each used once.
func (b *Batch) validate() error {
	seen := map[string]bool{}
	for _, cmd := range b.cmds {
		if !keyPattern.MatchString(cmd.key) {
			return fmt.Errorf("batch: key %q: use letters, digits and '_'", cmd.key)
		}
		if seen[cmd.key] {
			return fmt.Errorf("batch: key %q is used twice", cmd.key)
		}
		seen[cmd.key] = true
	}
	return nil
}

// readOnly reports whether every command only reads (safe to send again).
func (b *Batch) readOnly() bool {
	return !slices.ContainsFunc(b.cmds, func(cmd batchCmd) bool { return !isRead(cmd.method) })
}

func newBatchResult() *BatchResult {
	return &BatchResult{Results: map[string]json.RawMessage{}, Errors: map[string]*Error{}, Totals: map[string]int{}, Nexts: map[string]int{}}
}

// Batch runs the commands, 50 per call. References to commands of an
// earlier call are filled in by the client from that call's results, so a
// batch of any size behaves like one. A batch is retried after an unclear
// failure only if every command is a read or opts mark it idempotent.
func (c *Client) Batch(ctx context.Context, b *Batch, opts ...CallOption) (*BatchResult, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	out := newBatchResult()
	if b.readOnly() {
		opts = append(opts, Idempotent())
	}
	for start := 0; start < len(b.cmds); start += MaxBatch {
		chunk := b.cmds[start:min(start+MaxBatch, len(b.cmds))]
		cmd := make(orderedCmds, 0, len(chunk))
		for _, c := range chunk {
			params, err := resolveRefs(c.params, out)
			if err != nil {
				return out, fmt.Errorf("batch %s: %w", c.key, err)
			}
			q, err := EncodeQuery(params)
			if err != nil {
				return out, fmt.Errorf("batch %s: %w", c.key, err)
			}
			cmd = append(cmd, [2]string{c.key, c.method + "?" + q})
		}
		halt := 0
		if b.halt {
			halt = 1
		}
		var a batchAnswer
		if _, err := c.do(ctx, "batch", Params{"halt": halt, "cmd": cmd}, &a, opts...); err != nil {
			return out, err
		}
		if err := mergeBatch(out, &a); err != nil {
			return out, err
		}
		if b.halt && len(out.Errors) > 0 {
			break
		}
	}
	return out, nil
}

// orderedCmds encodes as a JSON object whose keys keep the order the
// commands were added in: Bitrix24 runs them in that order, and a map would
// be encoded with its keys sorted.
type orderedCmds [][2]string

// MarshalJSON implements json.Marshaler.
func (o orderedCmds) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv[0])
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv[1])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

type batchAnswer struct {
	Result      Object `json:"result"`
	ResultError Object `json:"result_error"`
	ResultTotal Object `json:"result_total"`
	ResultNext  Object `json:"result_next"`
}

func mergeBatch(out *BatchResult, a *batchAnswer) error {
	for k, v := range a.Result {
		out.Results[k] = v
	}
	for k, v := range a.ResultError {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("batch: decode error of %s: %w", k, err)
		}
		out.Errors[k] = &Error{Code: e.Error, Description: e.Description, HTTPStatus: 200, Method: "batch:" + k}
	}
	for k, v := range a.ResultTotal {
		var n Int
		if err := json.Unmarshal(v, &n); err == nil {
			out.Totals[k] = int(n)
		}
	}
	for k, v := range a.ResultNext {
		var n Int
		if err := json.Unmarshal(v, &n); err == nil {
			out.Nexts[k] = int(n)
		}
	}
	return nil
}

// resolveRefs replaces references to commands already run (in an earlier
// call) with their values; references within the current call are left for
// the server.
func resolveRefs(params Params, done *BatchResult) (Params, error) {
	if len(done.Results) == 0 && len(done.Errors) == 0 {
		return params, nil // the first call: every reference is the server's
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			if !strings.HasPrefix(x, "$result[") {
				return x, nil
			}
			m := refPattern.FindStringSubmatch(x)
			if m == nil {
				return x, nil
			}
			raw, ok := done.Results[m[1]]
			if !ok {
				if _, failed := done.Errors[m[1]]; failed {
					return nil, fmt.Errorf("refers to %s, which failed", m[1])
				}
				return x, nil // same call: the server resolves it
			}
			var path []string
			if m[2] != "" {
				path = strings.Split(strings.Trim(m[2], "[]"), "][")
			}
			return lookupPath(raw, path)
		case Params:
			return walkMap(x, walk)
		case map[string]any:
			return walkMap(x, walk)
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				out[i] = r
			}
			return out, nil
		default:
			return v, nil
		}
	}
	out, err := walkMap(params, walk)
	if err != nil {
		return nil, err
	}
	return Params(out), nil
}

func walkMap[M ~map[string]any](m M, walk func(any) (any, error)) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		r, err := walk(v)
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, nil
}

// lookupPath follows path into a JSON value and returns the scalar there as
// Bitrix24 would substitute it.
func lookupPath(raw json.RawMessage, path []string) (any, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("reference index %q out of range", p)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("reference path %q goes past a scalar", p)
		}
	}
	return v, nil
}
