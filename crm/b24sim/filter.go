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
	return out
}

// getter returns the values of a field of a row and whether it is a date.
type getter func(field string) (vals []string, isDate bool)

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
