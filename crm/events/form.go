package events

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Form is a decoded application/x-www-form-urlencoded body in PHP's
// bracket notation, two levels deep: plain keys (event=…, ts=…) in Values,
// bracketed ones (data[PHONE_NUMBER]=…, auth[domain]=…) in Groups by the
// name before the bracket. Deeper keys keep the rest of their path in the
// inner key: data[CRM_CREATED_ENTITIES][0][ENTITY_ID] is
// Groups["data"]["CRM_CREATED_ENTITIES[0][ENTITY_ID]"].
type Form struct {
	Values map[string]string
	Groups map[string]map[string]string
}

// Form limits: a Bitrix24 event has a few dozen fields.
const (
	maxFormFields = 1000
	maxKeyLen     = 256
)

// ErrMalformed means a request body is not a well-formed event form.
var ErrMalformed = errors.New("malformed event form")

// Get returns Groups[group][key], or "" when either is missing.
func (f Form) Get(group, key string) string {
	return f.Groups[group][key]
}

// DecodeForm parses body. Like PHP, the last of repeated keys wins and
// "name[]" appends the next index; unlike PHP, it refuses what PHP would
// silently mangle (an unclosed bracket, text after a closing bracket, an
// empty name), with an error wrapping ErrMalformed.
func DecodeForm(body string) (Form, error) {
	f := Form{Values: map[string]string{}, Groups: map[string]map[string]string{}}
	if body == "" {
		return f, nil
	}
	pairs := strings.Split(body, "&")
	if len(pairs) > maxFormFields {
		return Form{}, fmt.Errorf("%w: more than %d fields", ErrMalformed, maxFormFields)
	}
	next := map[string]int{} // group → next index for "name[]"
	for _, pair := range pairs {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return Form{}, fmt.Errorf("%w: key %.40q: %w", ErrMalformed, rawKey, err)
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return Form{}, fmt.Errorf("%w: value of %.40q: %w", ErrMalformed, key, err)
		}
		if len(key) > maxKeyLen {
			return Form{}, fmt.Errorf("%w: key longer than %d bytes", ErrMalformed, maxKeyLen)
		}
		name, sub, grouped, err := splitKey(key)
		if err != nil {
			return Form{}, err
		}
		if !grouped {
			f.Values[name] = val
			continue
		}
		if sub == "" {
			sub = strconv.Itoa(next[name])
		}
		if i, err := strconv.Atoi(sub); err == nil && i >= next[name] {
			next[name] = i + 1
		}
		g := f.Groups[name]
		if g == nil {
			g = map[string]string{}
			f.Groups[name] = g
		}
		g[sub] = val
	}
	return f, nil
}

// splitKey splits "name[a][b]" into "name" and "a[b]"; grouped is false
// for a plain key.
func splitKey(key string) (name, sub string, grouped bool, err error) {
	open := strings.IndexByte(key, '[')
	if open < 0 {
		if strings.IndexByte(key, ']') >= 0 {
			return "", "", false, fmt.Errorf("%w: key %.40q has ']' without '['", ErrMalformed, key)
		}
		if key == "" {
			return "", "", false, fmt.Errorf("%w: empty key", ErrMalformed)
		}
		return key, "", false, nil
	}
	name = key[:open]
	if name == "" || strings.IndexByte(name, ']') >= 0 {
		return "", "", false, fmt.Errorf("%w: key %.40q has no name before '['", ErrMalformed, key)
	}
	rest := key[open:]
	// rest is one or more "[segment]" with no brackets inside a segment.
	var segs []string
	for rest != "" {
		if rest[0] != '[' {
			return "", "", false, fmt.Errorf("%w: key %.40q has text after ']'", ErrMalformed, key)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", false, fmt.Errorf("%w: key %.40q has an unclosed '['", ErrMalformed, key)
		}
		seg := rest[1:end]
		if strings.IndexByte(seg, '[') >= 0 {
			return "", "", false, fmt.Errorf("%w: key %.40q nests '[' in a segment", ErrMalformed, key)
		}
		segs = append(segs, seg)
		rest = rest[end+1:]
	}
	sub = segs[0]
	for _, s := range segs[1:] {
		sub += "[" + s + "]"
	}
	if len(segs) > 1 && sub == "" {
		return "", "", false, fmt.Errorf("%w: key %.40q", ErrMalformed, key)
	}
	return name, sub, true, nil
}

// Encode writes f back in bracket notation, keys sorted; DecodeForm of the
// result is f again. Tests use it to build bodies.
func (f Form) Encode() string {
	var parts []string
	for _, k := range sortedKeys(f.Values) {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(f.Values[k]))
	}
	for _, g := range sortedKeys(f.Groups) {
		for _, k := range sortedKeys(f.Groups[g]) {
			parts = append(parts, url.QueryEscape(g+"["+bracketHead(k))+"="+url.QueryEscape(f.Groups[g][k]))
		}
	}
	return strings.Join(parts, "&")
}

// bracketHead turns the inner key "a[b]" back into "a][b]": the first
// segment's closing bracket goes before the rest of the path.
func bracketHead(sub string) string {
	if i := strings.IndexByte(sub, '['); i >= 0 {
		return sub[:i] + "]" + sub[i:]
	}
	return sub + "]"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
