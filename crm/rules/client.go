package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/omniphone/omniphone/settings"
)

// held is one existing entity of the client with its type.
type held struct {
	Type settings.EntityType
	Entity
}

func (h held) String() string { return fmt.Sprintf("%s %d", h.Type, h.ID) }

func (h held) ref() EntityRef { return EntityRef{Entity: h.Type, ID: Known(h.ID)} }

// client is the client's existing entities, each list in the order the
// engine prefers them: contacts and companies oldest first (later ones are
// usually duplicates); leads and deals open first, then most recently
// modified, then oldest.
type client struct {
	leads, deals, contacts, companies []held
}

func newClient(snap Snapshot) client {
	return client{
		leads:     sortWork(wrap(settings.EntityLead, snap.Leads)),
		deals:     sortWork(wrap(settings.EntityDeal, snap.Deals)),
		contacts:  sortOldest(wrap(settings.EntityContact, snap.Contacts)),
		companies: sortOldest(wrap(settings.EntityCompany, snap.Companies)),
	}
}

func wrap(t settings.EntityType, es []Entity) []held {
	out := make([]held, len(es))
	for i, e := range es {
		out[i] = held{Type: t, Entity: e}
	}
	return out
}

func sortOldest(hs []held) []held {
	slices.SortStableFunc(hs, func(a, b held) int { return cmp.Compare(a.ID, b.ID) })
	return hs
}

// compareWork orders leads and deals: open first, then deals before leads,
// then most recently modified, then oldest.
func compareWork(a, b held) int {
	if a.Final() != b.Final() {
		if a.Final() {
			return 1
		}
		return -1
	}
	if a.Type != b.Type {
		if a.Type == settings.EntityDeal {
			return -1
		}
		return 1
	}
	if c := b.ModifiedAt.Compare(a.ModifiedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func sortWork(hs []held) []held {
	slices.SortStableFunc(hs, compareWork)
	return hs
}

// empty reports whether the client has no entity at all (a first call).
func (c client) empty() bool {
	return len(c.leads)+len(c.deals)+len(c.contacts)+len(c.companies) == 0
}

// all returns every entity: contacts, companies, leads, deals.
func (c client) all() []held {
	return slices.Concat(c.contacts, c.companies, c.leads, c.deals)
}

// priority returns the entities in responsible priority (RS8): contacts,
// then companies, then leads and deals.
func (c client) priority() []held {
	return slices.Concat(c.contacts, c.companies, sortWork(slices.Concat(c.leads, c.deals)))
}

// first returns the preferred entity of a list.
func first(hs []held) (held, bool) {
	if len(hs) == 0 {
		return held{}, false
	}
	return hs[0], true
}

// open returns the preferred open entity of a lead or deal list.
func open(hs []held) (held, bool) {
	if len(hs) == 0 || hs[0].Final() {
		return held{}, false
	}
	return hs[0], true
}

// kinds names the entity types the client has, as "lead + contact".
func (c client) kinds() string {
	var parts []string
	for _, k := range []struct {
		name string
		n    int
	}{{"lead", len(c.leads)}, {"contact", len(c.contacts)}, {"deal", len(c.deals)}, {"company", len(c.companies)}} {
		if k.n > 0 {
			parts = append(parts, k.name)
		}
	}
	if len(parts) == 0 {
		return "no entity"
	}
	return strings.Join(parts, " + ")
}

// combination returns the SPEC rule naming the client's set of entity
// types (RS11–RS17), or "" when SPEC names none.
func (c client) combination() string {
	key := [4]bool{len(c.leads) > 0, len(c.contacts) > 0, len(c.deals) > 0, len(c.companies) > 0}
	return map[[4]bool]string{
		{false, true, true, true}:   "RS11",
		{false, false, true, true}:  "RS12",
		{false, false, true, false}: "RS13",
		{false, true, true, false}:  "RS14",
		{true, true, true, true}:    "RS15",
		{true, true, false, false}:  "RS16",
		{true, false, false, false}: "RS17",
	}[key]
}
