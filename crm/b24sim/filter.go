package b24sim

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

const pageSize = 50

// cond is one legacy list filter condition.
type cond struct {
	op     string
	field  string
	values []string
	isList bool
}

var filterOps = []string{">=", "<=", "!@", "!=%", "!%=", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!"}

func parseFilterKey(k string) (op, field string) {
	for _, o := range filterOps {
		if strings.HasPrefix(k, o) {
			return o, strings.TrimSpace(k[len(o):])
		}
	}
	return "=", strings.TrimSpace(k)
}

// parseFilter reads a legacy filter array; non-array filters yield nil.
func parseFilter(a *Arr) []cond {
	var out []cond
	for _, k := range a.Keys() {
		v, _ := a.Get(k)
		op, field := parseFilterKey(k)
		if field == "" {
			continue
		}
		c := cond{op: op, field: strings.ToUpper(field)}
		if arr, ok := v.(*Arr); ok {
			c.isList = true
			for _, x := range arr.Values() {
				c.values = append(c.values, phpString(x))
			}
		} else {
			c.values = []string{phpString(v)}
		}
		out = append(out, c)
	}
	// The conditions are ANDed and have no side effects, so test the ones
	// that reject most rows first: an = with no values (a batch reference
	// to an empty result) rejects every row, an ID or owner ID almost all.
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank() < out[j].rank() })
	return out
}

func (c cond) rank() int {
	switch {
	case c.op != "=" && c.op != "@":
		return 3
	case len(c.values) == 0:
		return 0
	case c.field == "ID" || strings.HasSuffix(c.field, "OWNER_ID") || c.field == "ORIGIN_ID":
		return 1
	}
	return 2
}

// getter returns the values of a field of a row and whether it is a date.
type getter func(field string) (vals []string, isDate bool)

// matchesNothing reports a filter no row can pass: an = or @ condition
// with no values (parseFilter sorts it first). List methods skip the scan.
func matchesNothing(conds []cond) bool {
	return len(conds) > 0 && conds[0].rank() == 0
}

func matchAll(conds []cond, get getter, loc *time.Location) bool {
	for _, c := range conds {
		vals, isDate := get(c.field)
		if !c.match(vals, isDate, loc) {
			return false
		}
	}
	return true
}

func (c cond) match(vals []string, isDate bool, loc *time.Location) bool {
	if len(vals) == 0 {
		vals = []string{""}
	}
	anyOf := func(pred func(v, f string) bool) bool {
		for _, v := range vals {
			for _, f := range c.values {
				if pred(v, f) {
					return true
				}
			}
		}
		return false
	}
	eq := func(v, f string) bool { return compareValues(v, f, isDate, loc) == 0 }
	if isMultiType(c.field) {
		// Multifield filters are exact string matches on the stored VALUE.
		eq = func(v, f string) bool { return v == f }
	}
	switch c.op {
	case "=", "@":
		if len(c.values) == 0 {
			return false
		}
		return anyOf(eq)
	case "!", "!=", "!@":
		return !anyOf(eq)
	case ">", ">=", "<", "<=":
		return anyOf(func(v, f string) bool {
			if v == "" {
				return false
			}
			r := compareValues(v, f, isDate, loc)
			switch c.op {
			case ">":
				return r > 0
			case ">=":
				return r >= 0
			case "<":
				return r < 0
			}
			return r <= 0
		})
	case "%":
		return anyOf(func(v, f string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(f)) })
	case "!%":
		return !anyOf(func(v, f string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(f)) })
	case "=%", "%=":
		return anyOf(func(v, f string) bool { return likeMatch(v, f) })
	case "!=%", "!%=":
		return !anyOf(func(v, f string) bool { return likeMatch(v, f) })
	}
	return false
}

// likeMatch implements SQL LIKE with % wildcards, case-insensitively.
func likeMatch(v, pattern string) bool {
	v, pattern = strings.ToLower(v), strings.ToLower(pattern)
	parts := strings.Split(pattern, "%")
	if len(parts) == 1 {
		return v == pattern
	}
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(v, parts[i])
		if j < 0 {
			return false
		}
		v = v[j+len(parts[i]):]
	}
	return strings.HasSuffix(v, parts[len(parts)-1])
}

var dateLayouts = []string{
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02",
	"02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006",
}

// parseDate parses the date formats Bitrix accepts, in the portal zone when
// no offset is given.
func parseDate(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compareValues compares a stored value with a filter value: as dates for
// date fields, numerically when both are numbers, else as strings.
func compareValues(v, f string, isDate bool, loc *time.Location) int {
	// Fast paths (list filters scan every row): equal text is equal as a
	// date, a number and a string; two plain integers compare as numbers
	// without parsing.
	if v == f {
		return 0
	}
	if plainInt(v) && plainInt(f) {
		if len(v) != len(f) {
			if len(v) < len(f) {
				return -1
			}
			return 1
		}
		return strings.Compare(v, f)
	}
	if isDate {
		tv, ok1 := parseDate(v, loc)
		tf, ok2 := parseDate(f, loc)
		if ok1 && ok2 {
			return tv.Compare(tf)
		}
	}
	if maybeNumber(v) && maybeNumber(f) {
		if c, ok := compareNumbers(v, f); ok {
			return c
		}
	}
	if strings.EqualFold(v, f) {
		return 0
	}
	return strings.Compare(v, f)
}

// maybeNumber says whether strconv.ParseFloat could accept s (after
// trimming spaces): a digit, sign or point first, or inf/nan. It spares the
// error ParseFloat allocates for every "Y", "N" or name a filter compares.
func maybeNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '+', c == '-', c == '.':
		return true
	case c == 'i', c == 'I', c == 'n', c == 'N':
		return len(s) >= 3
	}
	return false
}

func compareNumbers(v, f string) (int, bool) {
	if nv, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		if nf, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			switch {
			case nv < nf:
				return -1, true
			case nv > nf:
				return 1, true
			}
			return 0, true
		}
	}
	return 0, false
}

// plainInt reports a non-negative decimal integer without sign, spaces or
// leading zeros, short enough to be exact as a float64: two of them compare
// numerically exactly as they compare by length, then text.
func plainInt(s string) bool {
	if s == "" || len(s) > 15 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// orderBy is one ORDER entry.
type orderBy struct {
	field string
	desc  bool
}

func parseOrder(a *Arr) []orderBy {
	var out []orderBy
	for _, k := range a.Keys() {
		v, _ := a.Get(k)
		out = append(out, orderBy{field: strings.ToUpper(k), desc: strings.EqualFold(phpString(v), "DESC")})
	}
	return out
}

// sortRows sorts rows by the order entries, falling back to ID ascending.
func sortRows[T any](rows []T, order []orderBy, get func(T, string) (string, bool), loc *time.Location) {
	order = append(order, orderBy{field: "ID"})
	sort.SliceStable(rows, func(i, j int) bool {
		for _, o := range order {
			a, isDate := get(rows[i], o.field)
			b, _ := get(rows[j], o.field)
			r := compareValues(a, b, isDate, loc)
			if r == 0 {
				continue
			}
			if o.desc {
				return r > 0
			}
			return r < 0
		}
		return false
	})
}

// paginate cuts rows at start (50 per page). start -1 disables the count.
func paginate[T any](rows []T, start int) ([]T, reply) {
	var rep reply
	if start == -1 {
		if len(rows) > pageSize {
			rows = rows[:pageSize]
		}
		return rows, rep
	}
	if start < 0 {
		start = 0
	}
	rep.hasTotal, rep.total = true, len(rows)
	if start >= len(rows) {
		return rows[:0], rep
	}
	end := start + pageSize
	if end < len(rows) {
		rep.hasNext, rep.next = true, end
	} else {
		end = len(rows)
	}
	return rows[start:end], rep
}
