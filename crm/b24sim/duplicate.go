package b24sim

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// NormalizePhone ports Bitrix's main/tools.php NormalizePhone: it returns
// false-equivalent ("", false) when the input is shorter than minLength.
func NormalizePhone(n string, minLength int) (string, bool) {
	if len(n) < minLength {
		return "", false
	}
	if len(n) >= 10 && strings.HasPrefix(n, "+8") {
		n = "00" + n[1:]
	}
	n = keepChars(n, "0123456789#*,;")
	if len(n) >= 10 {
		switch {
		case strings.HasPrefix(n, "80"), strings.HasPrefix(n, "81"), strings.HasPrefix(n, "82"):
		case strings.HasPrefix(n, "00"):
			n = n[2:]
		case strings.HasPrefix(n, "011"):
			n = n[3:]
		case strings.HasPrefix(n, "8"):
			n = "7" + n[1:]
		case strings.HasPrefix(n, "0"):
			n = n[1:]
		}
	}
	return n, true
}

func keepChars(s, allowed string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(allowed, s[i]) >= 0 {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var extensionRe = regexp.MustCompile(`(\d+)([;#]*)([\d,]*)`)

// DuplicatePhoneKey is the duplicate-criterion match code of a phone number
// (DuplicateCommunicationCriterion::normalizePhone): NormalizePhone, then the
// extension after ';' or '#' is dropped.
func DuplicatePhoneKey(v string) string {
	r, ok := NormalizePhone(v, 1)
	if !ok || r == "" {
		r = keepChars(v, "0123456789#*,;")
	}
	if allDigits(r) {
		return r // the extension pattern keeps a plain number as it is
	}
	return extensionRe.ReplaceAllString(r, "$1")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// phoneKey is DuplicatePhoneKey of a stored value, memoized per state: the
// duplicate search computes it for every phone of every entity.
func (st *State) phoneKey(v string) string {
	if k, ok := st.phoneKeys[v]; ok {
		return k
	}
	if st.phoneKeys == nil || len(st.phoneKeys) > 1<<16 {
		st.phoneKeys = map[string]string{}
	}
	k := DuplicatePhoneKey(v)
	st.phoneKeys[v] = k
	return k
}

func emailKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

func duplicateMethods(m map[string]*method) {
	reg(m, "crm.duplicate.findbycomm", (*call).findByComm)
}

// findByComm implements crm.duplicate.findbycomm.
func (c *call) findByComm() (reply, error) {
	tv, _ := lookup(c.params, "TYPE", "type", "Type", "arType")
	typ := strings.ToUpper(phpString(tv))
	if typ == "" {
		return reply{}, crmErr("Communication type is not defined.")
	}
	if typ != "PHONE" && typ != "EMAIL" {
		return reply{}, crmErr(fmt.Sprintf("Communication type '%s' is not supported in current context.", typ))
	}
	vv, _ := lookup(c.params, "VALUES", "values", "Values", "arValues")
	arr, ok := vv.(*Arr)
	if !ok || arr.Len() == 0 {
		return reply{}, crmErr("Communication values is not defined.")
	}
	types := []string{"LEAD", "CONTACT", "COMPANY"}
	if ev, ok := lookup(c.params, "ENTITY_TYPE", "entity_type", "EntityType", "arEntityType"); ok {
		switch et := strings.ToUpper(phpString(ev)); et {
		case "LEAD", "CONTACT", "COMPANY":
			types = []string{et}
		case "DEAL":
			return reply{}, crmErr("Deal is not supported in current context.")
		}
	}
	seen := map[string]bool{}
	var keys []string
	for _, v := range arr.Values() {
		s, isStr := v.(string)
		if !isStr || strings.TrimSpace(s) == "" {
			continue
		}
		var k string
		if typ == "PHONE" {
			k = DuplicatePhoneKey(s)
		} else {
			k = emailKey(s)
		}
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
		if len(keys) == 20 {
			break
		}
	}
	if len(keys) == 0 {
		return reply{}, crmErr("Communication values is not defined.")
	}
	res := obj{}
	total := 0
	for _, et := range types {
		if total >= 20 {
			break
		}
		var ids []int
		for _, e := range c.st.commMatches(et, typ, keys) {
			ids = append(ids, e.ID)
		}
		sort.Ints(ids)
		if len(ids) > 20 {
			ids = ids[:20]
		}
		if len(ids) > 0 {
			res[et] = ids
			total += len(ids)
		}
	}
	return reply{result: res}, nil
}

func (st *State) entityMatches(e *Entity, typ string, keys []string) bool {
	for _, m := range e.Multi {
		if m.TypeID != typ {
			continue
		}
		var k string
		if typ == "PHONE" {
			k = st.phoneKey(m.Value)
		} else {
			k = emailKey(m.Value)
		}
		for _, q := range keys {
			if k == q {
				return true
			}
		}
	}
	return false
}

// findByPhone returns entities of typ whose phones match phone's duplicate key.
func (st *State) findByPhone(typ, phone string) []*Entity {
	k := DuplicatePhoneKey(phone)
	if k == "" {
		return nil
	}
	return st.commMatches(typ, "PHONE", []string{k})
}

// The duplicate index.
//
// Bitrix24 finds duplicates through an index of normalized phones and
// e-mails (b_crm_dp_comm_mcd); a scan of every entity made the simulator's
// cost grow with the portal, and a benchmark of a few thousand calls
// measured the scan rather than its client. commIndex maps a
// communication's duplicate key to the entities that have or had it:
// indexComms adds an entity's current values whenever they change (adding
// an entity, writing its multifields, converting a lead) and reindex
// rebuilds it. It is a superset — values removed since and entities
// deleted since are checked on lookup — so answers are those of a scan.

func commKey(typ, key string) string { return typ + "|" + key }

// indexComms adds e's current phones and e-mails to the index.
func (st *State) indexComms(e *Entity) {
	if st.commIndex == nil {
		return // built with the entity index, on first use
	}
	for _, m := range e.Multi {
		var k string
		switch m.TypeID {
		case "PHONE":
			k = st.phoneKey(m.Value)
		case "EMAIL":
			k = emailKey(m.Value)
		default:
			continue
		}
		if k != "" {
			st.commIndex[commKey(m.TypeID, k)] = append(st.commIndex[commKey(m.TypeID, k)], e)
		}
	}
}

// commMatches returns the entities of type et with a typ (PHONE or EMAIL)
// value whose duplicate key is one of keys, in the order of st.Entities.
func (st *State) commMatches(et, typ string, keys []string) []*Entity {
	if st.index == nil {
		st.reindex()
	}
	seen := map[*Entity]bool{}
	var out []*Entity
	for _, k := range keys {
		for _, e := range st.commIndex[commKey(typ, k)] {
			if seen[e] || e.Type != et || st.index[entityKey(e.Type, e.ID)] != e || !st.entityMatches(e, typ, keys) {
				continue
			}
			seen[e] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Entity) int { return a.seq - b.seq })
	return out
}
