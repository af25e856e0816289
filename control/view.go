package control

import (
	"time"

	"github.com/omniphone/omniphone/sip"
)

// CallView is a call as the API shows it.
type CallView struct {
	ID         string     `json:"id"`
	Direction  string     `json:"direction"`
	Remote     string     `json:"remote"`
	RemoteName string     `json:"remote_name,omitempty"`
	State      string     `json:"state"`
	Muted      bool       `json:"muted"`
	Created    time.Time  `json:"created"`
	Ringing    *time.Time `json:"ringing,omitempty"`
	Answered   *time.Time `json:"answered,omitempty"`
	Ended      *time.Time `json:"ended,omitempty"`
	// Cause and SIPCode explain an ended call.
	Cause   string `json:"cause,omitempty"`
	SIPCode int    `json:"sip_code,omitempty"`
}

// Status is the answer to GET /v1/status and the first event of a stream.
type Status struct {
	Registration string     `json:"registration"`
	Account      string     `json:"account"`
	Calls        []CallView `json:"calls"`
}

// Event is one Server-Sent Event's data; Type is also its SSE event name.
type Event struct {
	Type string `json:"type"` // "status", "registration", "call" or "dtmf"
	// Registration events.
	Registration string `json:"registration,omitempty"`
	Error        string `json:"error,omitempty"`
	// Call events (Call) and DTMF events (CallID, Digit).
	Call   *CallView `json:"call,omitempty"`
	Reason string    `json:"reason,omitempty"`
	CallID string    `json:"call_id,omitempty"`
	Digit  string    `json:"digit,omitempty"`
	// Status is the snapshot sent first on every stream.
	Status *Status `json:"status,omitempty"`
}

func viewOf(info sip.Info, muted bool) CallView {
	v := CallView{
		ID: info.ID, Direction: info.Direction.String(), Remote: info.Remote, RemoteName: info.RemoteName,
		State: info.State.String(), Muted: muted, Created: info.Created,
		Ringing: timePtr(info.Ringing), Answered: timePtr(info.Answered), Ended: timePtr(info.Ended),
	}
	if info.State == sip.CallEnded {
		v.Cause = info.Cause.String()
		v.SIPCode = info.SIPCode
	}
	return v
}

func viewOfCall(c Call) CallView { return viewOf(c.Info(), c.Muted()) }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
