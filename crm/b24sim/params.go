package b24sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxNesting mirrors PHP's max_input_nesting_level: deeper keys are dropped.
const maxNesting = 64

// Arr is an ordered PHP array, the value parse_str and json_decode(…, true)
// produce. Keys keep their insertion order; integer keys are stored in their
// canonical decimal form. The zero value is not usable; use NewArr.
type Arr struct {
	keys []string
	vals map[string]any
	next int
}

// NewArr returns an empty PHP array.
func NewArr() *Arr { return &Arr{vals: map[string]any{}} }

// Len returns the number of elements.
func (a *Arr) Len() int {
	if a == nil {
		return 0
	}
	return len(a.keys)
}

// Keys returns the keys in insertion order.
func (a *Arr) Keys() []string {
	if a == nil {
		return nil
	}
	return append([]string(nil), a.keys...)
}

// Get returns the value stored under k.
func (a *Arr) Get(k string) (any, bool) {
	if a == nil {
		return nil, false
	}
	v, ok := a.vals[k]
	return v, ok
}

// Set stores v under k, keeping the original position of an existing key.
func (a *Arr) Set(k string, v any) {
	if _, ok := a.vals[k]; !ok {
		a.keys = append(a.keys, k)
		if n, ok := canonicalInt(k); ok && n >= a.next {
			a.next = n + 1
		}
	}
	a.vals[k] = v
}

// Append stores v under the next free integer key, like PHP's $a[] = v.
func (a *Arr) Append(v any) { a.Set(strconv.Itoa(a.next), v) }

// Delete removes k.
func (a *Arr) Delete(k string) {
	if _, ok := a.vals[k]; !ok {
		return
	}
	delete(a.vals, k)
	for i, kk := range a.keys {
		if kk == k {
			a.keys = append(a.keys[:i:i], a.keys[i+1:]...)
			break
		}
	}
}

// Values returns the values in key order.
func (a *Arr) Values() []any {
	if a == nil {
		return nil
	}
	out := make([]any, 0, len(a.keys))
	for _, k := range a.keys {
		out = append(out, a.vals[k])
	}
	return out
}

// IsList reports whether the keys are exactly 0..n-1 in order, i.e. whether
// PHP's json_encode would emit a JSON array.
func (a *Arr) IsList() bool {
	for i, k := range a.keys {
		if k != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// MarshalJSON encodes the array as PHP's json_encode does: [] when empty, a
// JSON array for list keys and an ordered object otherwise.
func (a *Arr) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if a == nil || a.IsList() {
		b.WriteByte('[')
		for i, v := range a.Values() {
			if i > 0 {
				b.WriteByte(',')
			}
			enc, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			b.Write(enc)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	}
	b.WriteByte('{')
	for i, k := range a.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		enc, err := json.Marshal(a.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func canonicalInt(k string) (int, bool) {
	if k == "" || len(k) > 18 {
		return 0, false
	}
	if k != "0" && (k[0] == '0' || (k[0] == '-' && (len(k) == 1 || k[1] == '0'))) {
		return 0, false
	}
	n, err := strconv.Atoi(k)
	if err != nil {
		return 0, false
	}
	return n, true
}

// ParseParams reproduces CRestUtil::getRequestData: the query string and the
// body are parsed and merged, body keys replacing query keys. A POST body is
// JSON-decoded only when contentType is application/json (invalid JSON
// becomes an empty array); any other POST body is parsed with PHP parse_str
// rules. Bodies of other HTTP methods are ignored. ParseParams never panics.
func ParseParams(httpMethod, contentType, rawQuery string, body []byte) *Arr {
	out := ParseForm(rawQuery)
	if httpMethod != "POST" || len(body) == 0 {
		return out
	}
	var bodyArr *Arr
	if isJSONType(contentType) {
		bodyArr = parseJSONBody(body)
	} else {
		bodyArr = ParseForm(string(body))
	}
	for _, k := range bodyArr.keys {
		out.Set(k, bodyArr.vals[k])
	}
	return out
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json")
	}
	return mt == "application/json"
}

// ParseForm parses s with PHP parse_str rules: '&'-separated pairs, '+' as
// space, bracket keys building nested arrays, "[]" appending, dots and spaces
// in the base name turned into underscores.
func ParseForm(s string) *Arr {
	out := NewArr()
	for _, pair := range strings.Split(s, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		SetPHPKey(out, key, val)
	}
	return out
}

// SetPHPKey stores value under a PHP-style key such as "fields[PHONE][0][VALUE]"
// or "values[]" into a.
func SetPHPKey(a *Arr, key string, value any) {
	key = strings.TrimLeft(key, " ")
	base, rest := key, ""
	if i := strings.IndexByte(key, '['); i > 0 {
		if strings.IndexByte(key[i:], ']') > 0 {
			base, rest = key[:i], key[i:]
		}
	} else if i == 0 {
		return
	}
	base = strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '[' {
			return '_'
		}
		return r
	}, base)
	if base == "" {
		return
	}
	var segs []string
	for len(rest) > 0 && rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		segs = append(segs, rest[1:j])
		rest = rest[j+1:]
	}
	if len(segs) >= maxNesting {
		return
	}
	path := append([]string{base}, segs...)
	cur := a
	for i, seg := range path {
		last := i == len(path)-1
		if seg == "" && i > 0 {
			if last {
				cur.Append(value)
				return
			}
			child := NewArr()
			cur.Append(child)
			cur = child
			continue
		}
		if last {
			cur.Set(seg, value)
			return
		}
		next, ok := cur.vals[seg].(*Arr)
		if !ok {
			next = NewArr()
			cur.Set(seg, next)
		}
		cur = next
	}
}

func parseJSONBody(body []byte) *Arr {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeJSONValue(dec, 0)
	if err != nil {
		return NewArr()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return NewArr()
	}
	a, ok := v.(*Arr)
	if !ok {
		return NewArr()
	}
	return a
}

// DecodeJSON decodes a JSON document into PHP values (*Arr, string,
// json.Number, bool, nil), keeping object key order.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return decodeJSONValue(dec, 0)
}

var errTooDeep = errors.New("json nesting too deep")

func decodeJSONValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 512 {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		a := NewArr()
		switch t {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("json object key is not a string")
				}
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if n, ok := canonicalInt(k); ok {
					k = strconv.Itoa(n)
				}
				a.Set(k, v)
			}
		case '[':
			for dec.More() {
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a.Append(v)
			}
		default:
			return nil, errors.New("unexpected json delimiter")
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return a, nil
	default:
		return t, nil
	}
}

// ---- PHP value helpers ----

// phpString converts a scalar the way PHP's (string) cast does.
func phpString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "1"
		}
		return ""
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case *Arr:
		return "Array"
	}
	return ""
}

// phpInt converts a value the way PHP's (int) cast does: leading digits of a
// string, truncation of floats, 0 otherwise.
func phpInt(v any) int {
	switch t := v.(type) {
	case int:
		return t
	case bool:
		if t {
			return 1
		}
		return 0
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return int(n)
		}
		if f, err := t.Float64(); err == nil && f < 1e18 && f > -1e18 {
			return int(f)
		}
		return 0
	case float64:
		if t < 1e18 && t > -1e18 {
			return int(t)
		}
		return 0
	case string:
		s := strings.TrimLeft(t, " \t\n\r\v\f")
		end := 0
		if end < len(s) && (s[end] == '-' || s[end] == '+') {
			end++
		}
		for end < len(s) && s[end] >= '0' && s[end] <= '9' && end < 18 {
			end++
		}
		n, _ := strconv.Atoi(s[:end])
		return n
	case *Arr:
		if t.Len() > 0 {
			return 1
		}
	}
	return 0
}

// phpFloat converts a value like PHP's (float) cast.
func phpFloat(v any) float64 {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case float64:
		return t
	case int:
		return float64(t)
	case string:
		s := strings.TrimSpace(t)
		for end := len(s); end > 0; end-- {
			if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
				return f
			}
		}
	case bool:
		if t {
			return 1
		}
	}
	return 0
}

// asList returns the values of an array-like parameter: a list, or an object
// keyed n0, n1… (legacy multifield form), ordered by key position.
func asList(v any) []any {
	a, ok := v.(*Arr)
	if !ok {
		return nil
	}
	return a.Values()
}

// lookup returns the first of names present in a.
func lookup(a *Arr, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := a.Get(n); ok {
			return v, true
		}
	}
	return nil, false
}

// lowerKeys returns a copy of a with its top-level keys lower-cased, like
// array_change_key_case.
func lowerKeys(a *Arr) *Arr {
	out := NewArr()
	for _, k := range a.Keys() {
		v, _ := a.Get(k)
		out.Set(strings.ToLower(k), v)
	}
	return out
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
