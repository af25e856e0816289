package events

import (
	"context"
	"errors"
	"time"

	"github.com/omniphone/omniphone/crm/rules"
)

// Target places calls: the desktop's phone, or in team mode omnisync's hub
// that forwards each request to the desktop of DialRequest.UserID /
// Extension over its persistent connection.
type Target interface {
	// Dial starts the call and returns once it is started (the INVITE is
	// sent, or the callback card rings), not when it is answered. It must
	// respect ctx.
	Dial(ctx context.Context, req DialRequest) error
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, req DialRequest) error

// Dial implements Target.
func (f TargetFunc) Dial(ctx context.Context, req DialRequest) error { return f(ctx, req) }

// ErrNotConnected is what a team hub returns when the employee's desktop is
// not connected; the Router logs it and acknowledges the event (C1).
var ErrNotConnected = errors.New("the employee's desktop is not connected")

// DialRequest is one call to place. It is plain data with JSON tags, so a
// team hub can push it to a desktop as it is.
type DialRequest struct {
	Kind Kind `json:"kind"`
	// Portal is the portal's domain.
	Portal string `json:"portal,omitempty"`
	// UserID is the employee whose phone places the call: the user who
	// clicked, or the employee mapped to the callback's client (0: none).
	UserID int `json:"user_id,omitempty"`
	// Extension is that employee's inner number (UF_PHONE_INNER); "" when
	// the portal knows none.
	Extension string `json:"extension,omitempty"`
	// Number is the client's number normalised for the PBX; RawNumber is
	// how the event gave it, PhoneInternational its E.164 form.
	Number             string `json:"number"`
	RawNumber          string `json:"raw_number"`
	PhoneInternational string `json:"phone_international,omitempty"`
	// CallerID is the number the client must see (C3); "" means the SIP
	// account's own caller ID.
	CallerID string `json:"caller_id,omitempty"`
	// CallID is the call Bitrix24 already registered (click-to-call). The
	// phone puts it into the call record's bitrix24_call_id, so the sync
	// engine finishes that call and never registers another (C4).
	CallID string `json:"call_id,omitempty"`
	// Entity is the CRM entity whose card the phone shows.
	Entity     EntityRef `json:"entity"`
	LineNumber string    `json:"line_number,omitempty"`
	// RingFirst (callback, CB1): ring the employee's own phone first with a
	// callback card, and dial Number only when they accept.
	RingFirst bool `json:"ring_first,omitempty"`
	// FallbackNumber (callback, CB1): no employee with a SIP account is
	// mapped to the client, so this configured number is called first and
	// then connected to Number.
	FallbackNumber string `json:"fallback_number,omitempty"`
	// Text and Voice are the callback form's message to the employee.
	Text  string `json:"text,omitempty"`
	Voice string `json:"voice,omitempty"`
	// EventTime is when Bitrix24 sent the event.
	EventTime time.Time `json:"event_time"`
	// Trace is the decision (SPEC D1): C1/C3 or CB1 steps.
	Trace rules.Trace `json:"trace,omitempty"`
}
