package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
)

// Kind is what an event asks the phone to do.
type Kind int

// Event kinds.
const (
	KindUnknown Kind = iota
	// KindClickToCall is ONEXTERNALCALLSTART: a user clicked a number (C1).
	KindClickToCall
	// KindCallback is ONEXTERNALCALLBACKSTART: a CRM form asked for a
	// callback (CB1).
	KindCallback
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindClickToCall:
		return "click-to-call"
	case KindCallback:
		return "callback"
	default:
		return "unknown"
	}
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "click-to-call":
		*k = KindClickToCall
	case "callback":
		*k = KindCallback
	case "unknown", "":
		*k = KindUnknown
	default:
		return fmt.Errorf("unknown event kind %q", b)
	}
	return nil
}

// KindOf maps a Bitrix24 event name (any case) to its kind.
func KindOf(name string) Kind {
	switch strings.ToUpper(name) {
	case b24.EventExternalCallStart:
		return KindClickToCall
	case b24.EventExternalCallBackStart:
		return KindCallback
	}
	return KindUnknown
}

// Source says how an event arrived.
type Source string

// Event sources.
const (
	SourceOnline  Source = "online"  // POSTed to the Handler
	SourceOffline Source = "offline" // read by the Poller
)

// EntityRef names a CRM entity: Type is LEAD, DEAL, CONTACT or COMPANY.
type EntityRef struct {
	Type string `json:"type"`
	ID   int    `json:"id"`
}

// IsZero reports an absent entity.
func (e EntityRef) IsZero() bool { return e.Type == "" || e.ID <= 0 }

// Event is a click-to-call or callback event from Bitrix24, from either
// delivery (reference §4.2, §4.3). Fields the kind does not carry are zero.
type Event struct {
	Kind Kind `json:"kind"`
	// Name is the event name as sent, upper case.
	Name   string `json:"name"`
	Source Source `json:"source"`
	// Domain and MemberID identify the portal (auth[domain],
	// auth[member_id]); the Poller fills Domain from its options.
	Domain   string `json:"domain,omitempty"`
	MemberID string `json:"member_id,omitempty"`
	// Time is when the portal sent the event (ts, or TIMESTAMP_X offline).
	Time time.Time `json:"time"`
	// MessageID and OfflineID identify an offline row.
	MessageID string `json:"message_id,omitempty"`
	OfflineID int    `json:"offline_id,omitempty"`

	// UserID is the user who clicked (click-to-call only).
	UserID int `json:"user_id,omitempty"`
	// PhoneNumber is the number as clicked or typed in the form;
	// PhoneInternational its E.164 form (click-to-call only).
	PhoneNumber        string `json:"phone_number"`
	PhoneInternational string `json:"phone_international,omitempty"`
	// Extension is the extension part of the clicked number, usually "".
	Extension string `json:"extension,omitempty"`
	// CallID is the call Bitrix24 registered before it sent the event
	// (click-to-call only): the phone finishes it, never registers another.
	CallID     string `json:"call_id,omitempty"`
	CallListID int    `json:"call_list_id,omitempty"`
	// LineNumber is the external line; "" means the app's default line.
	LineNumber string    `json:"line_number,omitempty"`
	IsMobile   bool      `json:"is_mobile,omitempty"`
	Entity     EntityRef `json:"entity"`
	// CreatedLead and CreatedEntities are set when the pre-registration
	// created CRM entities (a line with CRM_AUTO_CREATE=Y, SPEC D2).
	CreatedLead     int         `json:"created_lead,omitempty"`
	CreatedEntities []EntityRef `json:"created_entities,omitempty"`

	// Text is what to say to the employee before connecting, Voice its
	// TTS voice (callback only).
	Text  string `json:"text,omitempty"`
	Voice string `json:"voice,omitempty"`
}

// DataError is an event whose data is unusable: the field and why.
type DataError struct {
	Field   string
	Message string
}

func (e *DataError) Error() string { return "event data: " + e.Field + ": " + e.Message }

// ErrUnsupported means the event is neither click-to-call nor callback.
var ErrUnsupported = errors.New("not a click-to-call or callback event")

// eventData is the event's data block: the online form group "data" or
// the offline EVENT_DATA object, already as strings.
type eventData map[string]string

func (d eventData) int(field string) (int, error) {
	s := strings.TrimSpace(d[field])
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &DataError{Field: field, Message: fmt.Sprintf("%.40q is not an integer", s)}
	}
	return n, nil
}

func (d eventData) bool(field string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(d[field])) {
	case "", "0", "n", "false":
		return false, nil
	case "1", "y", "true":
		return true, nil
	}
	return false, &DataError{Field: field, Message: fmt.Sprintf("%.40q is not a flag", d[field])}
}

// build turns a data block into an Event of the given name.
func build(name string, d eventData) (Event, error) {
	ev := Event{Kind: KindOf(name), Name: strings.ToUpper(name)}
	if ev.Kind == KindUnknown {
		return Event{}, fmt.Errorf("%w: %.60q", ErrUnsupported, name)
	}
	ev.PhoneNumber = strings.TrimSpace(d["PHONE_NUMBER"])
	if ev.PhoneNumber == "" {
		return Event{}, &DataError{Field: "PHONE_NUMBER", Message: "is empty"}
	}
	ev.LineNumber = d["LINE_NUMBER"]
	var err error
	et := strings.ToUpper(strings.TrimSpace(d["CRM_ENTITY_TYPE"]))
	eid, err := d.int("CRM_ENTITY_ID")
	if err != nil {
		return Event{}, err
	}
	if et != "" && eid > 0 {
		ev.Entity = EntityRef{Type: et, ID: eid}
	}
	if ev.Kind == KindCallback {
		ev.Text, ev.Voice = d["TEXT"], d["VOICE"]
		return ev, nil
	}
	ev.PhoneInternational = d["PHONE_NUMBER_INTERNATIONAL"]
	ev.Extension = d["EXTENSION"]
	ev.CallID = strings.TrimSpace(d["CALL_ID"])
	if ev.CallID == "" {
		return Event{}, &DataError{Field: "CALL_ID", Message: "is empty: Bitrix24 always pre-registers a click-to-call"}
	}
	if ev.UserID, err = d.int("USER_ID"); err != nil {
		return Event{}, err
	}
	if ev.UserID <= 0 {
		return Event{}, &DataError{Field: "USER_ID", Message: "is missing"}
	}
	if ev.CallListID, err = d.int("CALL_LIST_ID"); err != nil {
		return Event{}, err
	}
	if ev.IsMobile, err = d.bool("IS_MOBILE"); err != nil {
		return Event{}, err
	}
	if ev.CreatedLead, err = d.int("CRM_CREATED_LEAD"); err != nil {
		return Event{}, err
	}
	for i := 0; ; i++ {
		t, ok := d[fmt.Sprintf("CRM_CREATED_ENTITIES[%d][ENTITY_TYPE]", i)]
		if !ok {
			break
		}
		id, err := d.int(fmt.Sprintf("CRM_CREATED_ENTITIES[%d][ENTITY_ID]", i))
		if err != nil {
			return Event{}, err
		}
		ev.CreatedEntities = append(ev.CreatedEntities, EntityRef{Type: strings.ToUpper(t), ID: id})
	}
	return ev, nil
}

// FromForm decodes an online event (reference §4.1). It does not check
// auth[application_token]; the Handler does that before.
func FromForm(f Form) (Event, error) {
	ev, err := build(f.Values["event"], f.Groups["data"])
	if err != nil {
		return Event{}, err
	}
	ev.Source = SourceOnline
	ev.Domain = f.Get("auth", "domain")
	ev.MemberID = f.Get("auth", "member_id")
	if ts := f.Values["ts"]; ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return Event{}, &DataError{Field: "ts", Message: fmt.Sprintf("%.40q is not a unix time", ts)}
		}
		ev.Time = time.Unix(sec, 0)
	}
	return ev, nil
}

// FromOffline decodes a row of event.offline.get (reference §4.6), whose
// EVENT_DATA values may be JSON strings, numbers, booleans or null.
func FromOffline(row b24.OfflineEvent) (Event, error) {
	d, err := flattenJSON(row.Data)
	if err != nil {
		return Event{}, err
	}
	ev, err := build(string(row.Event), d)
	if err != nil {
		return Event{}, err
	}
	ev.Source = SourceOffline
	ev.Time = row.Timestamp.Time
	ev.MessageID = string(row.MessageID)
	ev.OfflineID = int(row.ID)
	return ev, nil
}

// flattenJSON renders EVENT_DATA the way the online form does: scalars as
// strings (booleans as 1/0), nested objects and arrays as bracket paths.
func flattenJSON(raw json.RawMessage) (eventData, error) {
	var top any
	if len(raw) == 0 {
		return eventData{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, &DataError{Field: "EVENT_DATA", Message: err.Error()}
	}
	out := eventData{}
	switch t := top.(type) {
	case map[string]any:
		for k, v := range t {
			flattenValue(k, v, out)
		}
	case nil, bool, []any: // false or [] for an empty block
	default:
		return nil, &DataError{Field: "EVENT_DATA", Message: "is not an object"}
	}
	return out, nil
}

func flattenValue(path string, v any, out eventData) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			flattenValue(path+"["+k+"]", x, out)
		}
	case []any:
		for i, x := range t {
			flattenValue(path+"["+strconv.Itoa(i)+"]", x, out)
		}
	case nil:
	case bool:
		if t {
			out[path] = "1"
		} else {
			out[path] = "0"
		}
	case json.Number:
		out[path] = t.String()
	case string:
		out[path] = t
	}
}
