package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omniphone/omniphone/settings"
)

// Outcome is how a call ended (SPEC §11).
type Outcome string

// Call outcomes.
const (
	OutcomeAnswered Outcome = "answered"
	OutcomeMissed   Outcome = "missed"
	OutcomeBusy     Outcome = "busy"
	OutcomeFailed   Outcome = "failed"
)

// Call is the call record of SPEC §11: one finished call, as the phone (or
// a PBX) reports it to the sync engine. ID is the idempotency key.
type Call struct {
	ID            string             `json:"id"`
	Direction     settings.Direction `json:"direction"`
	Outcome       Outcome            `json:"outcome"`
	ContactNumber string             `json:"contact_number"`
	VirtualNumber string             `json:"virtual_number"`
	// Rung are the extensions that rang (outgoing: the caller).
	Rung []string `json:"rung"`
	// Talked are the extensions that talked, in order (RS3 picks the first
	// or the last).
	Talked     []string   `json:"talked"`
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	EndedAt    time.Time  `json:"ended_at"`
	Params     CallParams `json:"params"`
	Recording  *Recording `json:"recording"`
	// Bitrix24CallID links a click-to-call record to the call Bitrix24
	// registered (C4); the engine then only finishes that call.
	Bitrix24CallID *string `json:"bitrix24_call_id"`
	// Portal names a portal; nil means the one telephony uses (P2).
	Portal *string `json:"portal"`
}

// CallParams are the PBX's call parameters filters and extra fields use.
type CallParams struct {
	Scenario             string `json:"scenario"`
	LastOperation        string `json:"last_operation"`
	Group                string `json:"group"`
	Campaign             string `json:"campaign"`
	FirstCampaign        string `json:"first_campaign"`
	Site                 string `json:"site"`
	Source               string `json:"source"`
	FirstCommunicationID string `json:"first_communication_id"`
}

// Recording says where the call's recording is: a URL or a file the engine
// can read. Exactly one is set.
type Recording struct {
	URL  string `json:"url,omitempty"`
	File string `json:"file,omitempty"`
}

// FieldError is a call record problem: the JSON field and what is wrong.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// DecodeCall reads one call record strictly: unknown keys, a trailing
// second value and bad times are errors; the result is validated.
func DecodeCall(data []byte) (Call, error) {
	var c Call
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Call{}, decodeError(err)
	}
	if dec.More() {
		return Call{}, &FieldError{Field: "(record)", Message: "one JSON object expected, found more after it"}
	}
	if err := c.Validate(); err != nil {
		return Call{}, err
	}
	return c, nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &FieldError{Field: te.Field, Message: fmt.Sprintf("must not be a JSON %s", te.Value)}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return &FieldError{Field: "(time)", Message: fmt.Sprintf("%q is not an RFC 3339 time like 2026-11-25T10:00:00+03:00", pe.Value)}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		return &FieldError{Field: strings.Trim(strings.TrimPrefix(msg, unknown), `"`), Message: "unknown field"}
	}
	return &FieldError{Field: "(record)", Message: "not a JSON call record: " + err.Error()}
}

// Validate checks the record's own consistency (not the settings).
func (c Call) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.TrimSpace(c.ID) == "":
		return bad("id", "is required: the call id is the idempotency key")
	case len(c.ID) > 128:
		return bad("id", "must be at most 128 characters")
	case c.Direction != settings.DirectionIn && c.Direction != settings.DirectionOut:
		return bad("direction", `must be "in" or "out", not %q`, c.Direction)
	}
	switch c.Outcome {
	case OutcomeAnswered, OutcomeMissed, OutcomeBusy, OutcomeFailed:
	default:
		return bad("outcome", "must be answered, missed, busy or failed, not %q", c.Outcome)
	}
	switch {
	case strings.TrimSpace(c.ContactNumber) == "":
		return bad("contact_number", "is required")
	case c.StartedAt.IsZero():
		return bad("started_at", "is required")
	case c.EndedAt.IsZero():
		return bad("ended_at", "is required")
	case c.EndedAt.Before(c.StartedAt):
		return bad("ended_at", "is before started_at")
	}
	if c.AnsweredAt != nil {
		if c.AnsweredAt.Before(c.StartedAt) || c.AnsweredAt.After(c.EndedAt) {
			return bad("answered_at", "must lie between started_at and ended_at")
		}
		if c.Outcome != OutcomeAnswered {
			return bad("answered_at", "is set but the outcome is %s", c.Outcome)
		}
	} else if c.Outcome == OutcomeAnswered {
		return bad("answered_at", "is required when the outcome is answered")
	}
	if c.Outcome == OutcomeAnswered && len(c.Talked) == 0 {
		return bad("talked", "must name at least one extension when the call was answered")
	}
	if r := c.Recording; r != nil && (r.URL == "") == (r.File == "") {
		return bad("recording", `must have exactly one of "url" or "file"`)
	}
	return nil
}

// Answered reports whether the call was answered.
func (c Call) Answered() bool { return c.Outcome == OutcomeAnswered }

// Talker returns who counts as "who answered" (RS3): the first or the last
// extension that talked; "" when nobody did.
func (c Call) Talker(t settings.Talker) string {
	if len(c.Talked) == 0 {
		return ""
	}
	if t == settings.TalkerFirst {
		return c.Talked[0]
	}
	return c.Talked[len(c.Talked)-1]
}

// Duration is the talk time: from answer to end, zero for unanswered calls.
func (c Call) Duration() time.Duration {
	if c.AnsweredAt == nil {
		return 0
	}
	return c.EndedAt.Sub(*c.AnsweredAt)
}
