package b24

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// EncodeQuery encodes params in PHP's bracket syntax, the form Bitrix24
// reads inside batch commands and form bodies:
// fields[TITLE]=…&fields[PHONE][0][VALUE]=…. Keys are sorted so the
// result is stable.
func EncodeQuery(params Params) (string, error) {
	var pairs []string
	for _, k := range sortedKeys(params) {
		if err := encodeValue(&pairs, k, params[k]); err != nil {
			return "", err
		}
	}
	return strings.Join(pairs, "&"), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func encodeValue(pairs *[]string, key string, v any) error {
	add := func(s string) { *pairs = append(*pairs, url.QueryEscape(key)+"="+url.QueryEscape(s)) }
	switch x := v.(type) {
	case nil:
		add("")
	case string:
		add(x)
	case bool:
		if x {
			add("Y")
		} else {
			add("N")
		}
	case Flag:
		return encodeValue(pairs, key, bool(x))
	case int:
		add(strconv.Itoa(x))
	case int64:
		add(strconv.FormatInt(x, 10))
	case Int:
		add(strconv.FormatInt(int64(x), 10))
	case float64:
		add(strconv.FormatFloat(x, 'f', -1, 64))
	case json.Number:
		add(x.String())
	case Params:
		return encodeValue(pairs, key, map[string]any(x))
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := encodeValue(pairs, key+"["+k+"]", x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := encodeValue(pairs, key+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	default:
		return encodeReflect(pairs, key, v)
	}
	return nil
}

// encodeReflect handles typed slices and maps ([]string, []Params, …) and
// anything else through its JSON form.
func encodeReflect(pairs *[]string, key string, v any) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		list := make([]any, rv.Len())
		for i := range list {
			list[i] = rv.Index(i).Interface()
		}
		return encodeValue(pairs, key, list)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("b24: cannot encode %s for %s: map keys must be strings", rv.Type(), key)
		}
		m := make(map[string]any, rv.Len())
		for _, k := range rv.MapKeys() {
			m[k.String()] = rv.MapIndex(k).Interface()
		}
		return encodeValue(pairs, key, m)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("b24: cannot encode %T for %s: %w", v, key, err)
		}
		var generic any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		if err := dec.Decode(&generic); err != nil {
			return fmt.Errorf("b24: cannot encode %T for %s: %w", v, key, err)
		}
		// generic is now nil, bool, string, json.Number, []any or
		// map[string]any, all handled without reflection.
		return encodeValue(pairs, key, generic)
	}
}
