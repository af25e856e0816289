package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omniphone/omniphone/settings"
)

// Mode is the portal's CRM mode (crm.settings.mode.get: 1 classic, 2 simple).
type Mode string

// CRM modes.
const (
	// ModeClassic has leads: a call creates a lead.
	ModeClassic Mode = "classic"
	// ModeSimple has no leads: a call creates a deal and a contact.
	ModeSimple Mode = "simple"
)

// Semantics is a lead status or deal stage semantics
// (STATUS_SEMANTIC_ID / STAGE_SEMANTIC_ID: P, S, F).
type Semantics string

// Stage semantics.
const (
	SemanticsProcess Semantics = "process"
	SemanticsSuccess Semantics = "success"
	SemanticsFailure Semantics = "failure"
)

// Snapshot is what Bitrix24 holds for the client of one call, read by the
// sync engine in one batch before Decide runs. Entities are the ones found
// by the client's number; users and pipelines are the portal's.
type Snapshot struct {
	Mode      Mode     `json:"mode"`
	Leads     []Entity `json:"leads"`
	Deals     []Entity `json:"deals"`
	Contacts  []Entity `json:"contacts"`
	Companies []Entity `json:"companies"`
	// Activities are the client's open (not completed) call activities.
	Activities []Activity `json:"activities"`
	// Users are the portal's employees (user.get).
	Users []User `json:"users"`
	// Pipelines are the deal categories with their stages; LeadStatuses are
	// the lead stages (crm.status.list ENTITY_ID=STATUS). Both may be empty,
	// then configured stages are trusted as they are.
	Pipelines    []Pipeline `json:"pipelines"`
	LeadStatuses []Stage    `json:"lead_statuses"`
}

// Entity is one lead, deal, contact or company of the client.
type Entity struct {
	ID int `json:"id"`
	// Responsible is ASSIGNED_BY_ID.
	Responsible int `json:"responsible"`
	// Semantics is STATUS_SEMANTIC_ID (lead) or STAGE_SEMANTIC_ID (deal);
	// empty for contacts and companies, and read as process for the others.
	Semantics Semantics `json:"semantics,omitempty"`
	// Closed is the deal's CLOSED flag.
	Closed bool `json:"closed,omitempty"`
	// CategoryID and StageID are the deal's CATEGORY_ID and STAGE_ID, or the
	// lead's STATUS_ID in StageID.
	CategoryID int    `json:"category_id,omitempty"`
	StageID    string `json:"stage_id,omitempty"`
	// ModifiedAt is DATE_MODIFY.
	ModifiedAt time.Time `json:"modified_at"`
	// Fields are the entity's text user field values (UF_CRM_*) the extra
	// fields (EF1) and the first-communication field (CP1) refer to.
	Fields map[string]string `json:"fields,omitempty"`
}

// Final reports whether a lead or deal is in a final status: closed,
// successful or failed (CP3).
func (e Entity) Final() bool {
	return e.Closed || e.Semantics == SemanticsSuccess || e.Semantics == SemanticsFailure
}

// Activity is an open call activity (crm.activity, TYPE_ID 2, COMPLETED N).
type Activity struct {
	ID int `json:"id"`
	// StartedAt is START_TIME.
	StartedAt time.Time `json:"started_at"`
	// Bindings are the entities the activity is bound to.
	Bindings []Binding `json:"bindings"`
}

// Binding names an existing CRM entity.
type Binding struct {
	Entity settings.EntityType `json:"entity"`
	ID     int                 `json:"id"`
}

// User is a Bitrix24 employee.
type User struct {
	ID   int    `json:"id"`
	Name string `json:"name,omitempty"`
	// InnerPhone is UF_PHONE_INNER: the extension that maps the user to a
	// SIP account.
	InnerPhone string `json:"inner_phone,omitempty"`
	// Active is the user's ACTIVE flag.
	Active bool `json:"active"`
}

// Pipeline is a deal category with its stages.
type Pipeline struct {
	ID     int     `json:"id"`
	Name   string  `json:"name,omitempty"`
	Stages []Stage `json:"stages"`
}

// Stage is one stage of a pipeline or one lead status.
type Stage struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Semantics Semantics `json:"semantics,omitempty"`
}

// SnapshotError is a snapshot problem: the JSON path and what is wrong.
type SnapshotError struct {
	Field   string
	Message string
}

func (e *SnapshotError) Error() string { return "snapshot: " + e.Field + ": " + e.Message }

// DecodeSnapshot reads a snapshot strictly (unknown keys and trailing data
// are errors) and validates it.
func DecodeSnapshot(data []byte) (Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Snapshot{}, &SnapshotError{Field: "(document)", Message: decodeMessage(err)}
	}
	if dec.More() {
		return Snapshot{}, &SnapshotError{Field: "(document)", Message: "one JSON object expected, found more after it"}
	}
	if err := s.Validate(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func decodeMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must not be a JSON %s", te.Field, te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%q is not an RFC 3339 time like 2026-11-25T10:00:00+03:00", pe.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Validate checks the snapshot's own consistency.
func (s Snapshot) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &SnapshotError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if s.Mode != ModeClassic && s.Mode != ModeSimple {
		return bad("mode", `must be "classic" or "simple", not %q`, s.Mode)
	}
	lists := []struct {
		name     string
		entities []Entity
		staged   bool
	}{{"leads", s.Leads, true}, {"deals", s.Deals, true}, {"contacts", s.Contacts, false}, {"companies", s.Companies, false}}
	for _, l := range lists {
		seen := map[int]bool{}
		for i, e := range l.entities {
			path := fmt.Sprintf("%s[%d]", l.name, i)
			switch {
			case e.ID <= 0:
				return bad(path+".id", "must be a positive entity ID")
			case seen[e.ID]:
				return bad(path+".id", "%d is listed twice", e.ID)
			case e.Responsible < 0:
				return bad(path+".responsible", "must not be negative")
			}
			seen[e.ID] = true
			if err := checkSemantics(path+".semantics", e.Semantics); err != nil {
				return err
			}
			if !l.staged && (e.Semantics != "" || e.Closed) {
				return bad(path, "%s have no status: semantics and closed must be empty", l.name)
			}
		}
	}
	for i, a := range s.Activities {
		path := fmt.Sprintf("activities[%d]", i)
		if a.ID <= 0 {
			return bad(path+".id", "must be a positive activity ID")
		}
		for j, b := range a.Bindings {
			switch b.Entity {
			case settings.EntityLead, settings.EntityDeal, settings.EntityContact, settings.EntityCompany:
			default:
				return bad(fmt.Sprintf("%s.bindings[%d].entity", path, j), "must be lead, deal, contact or company, not %q", b.Entity)
			}
		}
	}
	seen := map[int]bool{}
	for i, u := range s.Users {
		path := fmt.Sprintf("users[%d]", i)
		switch {
		case u.ID <= 0:
			return bad(path+".id", "must be a positive user ID")
		case seen[u.ID]:
			return bad(path+".id", "%d is listed twice", u.ID)
		}
		seen[u.ID] = true
	}
	for i, p := range s.Pipelines {
		for j, st := range p.Stages {
			if err := checkSemantics(fmt.Sprintf("pipelines[%d].stages[%d].semantics", i, j), st.Semantics); err != nil {
				return err
			}
		}
	}
	for i, st := range s.LeadStatuses {
		if err := checkSemantics(fmt.Sprintf("lead_statuses[%d].semantics", i), st.Semantics); err != nil {
			return err
		}
	}
	return nil
}

func checkSemantics(path string, s Semantics) error {
	switch s {
	case "", SemanticsProcess, SemanticsSuccess, SemanticsFailure:
		return nil
	}
	return &SnapshotError{Field: path, Message: fmt.Sprintf("must be process, success or failure, not %q", s)}
}
