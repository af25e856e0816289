package b24

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Int decodes the integers Bitrix24 sends as numbers, numeric strings
// ("123"), empty strings or null (both 0).
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*i = 0
		return nil
	}
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*i = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return fmt.Errorf("b24: %q is not an integer", s)
		}
		n = int64(f)
	}
	*i = Int(n)
	return nil
}

// Flag decodes Bitrix24's "Y"/"N" flags, and also true/false and 1/0.
type Flag bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *Flag) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(data)), `"`) {
	case "Y", "y", "true", "1":
		*f = true
	case "N", "n", "false", "0", "", "null":
		*f = false
	default:
		return fmt.Errorf("b24: %s is not a Y/N flag", data)
	}
	return nil
}

// MarshalJSON writes "Y" or "N".
func (f Flag) MarshalJSON() ([]byte, error) {
	if f {
		return []byte(`"Y"`), nil
	}
	return []byte(`"N"`), nil
}

// Time decodes ISO 8601 times; "", null and the {} that PHP writes for
// DateTime objects decode to the zero time.
type Time struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '"' {
		t.Time = time.Time{} // null, {}, [] and numbers carry no usable time
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if parsed, err := time.Parse(layout, s); err == nil {
			t.Time = parsed
			return nil
		}
	}
	return fmt.Errorf("b24: %q is not an ISO 8601 time", s)
}

// String decodes string fields that may come as null, numbers or booleans.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*s = ""
	case len(data) > 0 && data[0] == '"':
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = String(v)
	case len(data) > 0 && (data[0] == '{' || data[0] == '['):
		*s = ""
	default:
		*s = String(data)
	}
	return nil
}

// Object decodes a JSON object into a map; the [] PHP writes for an empty
// array becomes an empty map.
type Object map[string]json.RawMessage

// UnmarshalJSON implements json.Unmarshaler.
func (o *Object) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*o = Object{}
		return nil
	}
	if len(data) > 0 && data[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		m := make(Object, len(list))
		for i, v := range list {
			m[strconv.Itoa(i)] = v
		}
		*o = m
		return nil
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*o = m
	return nil
}
