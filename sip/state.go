package sip

import "fmt"

// RegState is the registration state of the account.
type RegState int

// Registration states.
const (
	RegUnknown RegState = iota
	// RegRegistering: a REGISTER is in flight (first attempt, refresh or retry).
	RegRegistering
	// RegRegistered: the registrar accepted our binding.
	RegRegistered
	// RegFailed: the last attempt failed; a retry is scheduled unless the
	// credentials were rejected.
	RegFailed
	// RegUnregistered: our binding was removed (or never made) and no retry is pending.
	RegUnregistered
)

// String returns the state's name.
func (s RegState) String() string {
	switch s {
	case RegUnknown:
		return "unknown"
	case RegRegistering:
		return "registering"
	case RegRegistered:
		return "registered"
	case RegFailed:
		return "failed"
	case RegUnregistered:
		return "unregistered"
	default:
		return fmt.Sprintf("RegState(%d)", int(s))
	}
}

// CallState is the state of one call.
type CallState int

// Call states.
const (
	CallUnknown CallState = iota
	// CallDialing: our INVITE is out, no provisional answer yet.
	CallDialing
	// CallIncoming: an INVITE arrived and is waiting for Answer or Reject.
	CallIncoming
	// CallRinging: the remote party is alerted (180/183).
	CallRinging
	// CallActive: answered, media flowing.
	CallActive
	// CallHeld: we put the call on hold.
	CallHeld
	// CallEnded: the call is over; see [CallEvent.Cause].
	CallEnded
)

// String returns the state's name.
func (s CallState) String() string {
	switch s {
	case CallUnknown:
		return "unknown"
	case CallDialing:
		return "dialing"
	case CallIncoming:
		return "incoming"
	case CallRinging:
		return "ringing"
	case CallActive:
		return "active"
	case CallHeld:
		return "held"
	case CallEnded:
		return "ended"
	default:
		return fmt.Sprintf("CallState(%d)", int(s))
	}
}

// Direction says who placed the call.
type Direction int

// Call directions.
const (
	DirectionUnknown Direction = iota
	Outbound
	Inbound
)

// String returns "outbound" or "inbound".
func (d Direction) String() string {
	switch d {
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	case DirectionUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("Direction(%d)", int(d))
	}
}

// EndCause says why a call ended.
type EndCause int

// End causes.
const (
	CauseUnknown EndCause = iota
	// CauseLocalHangup: we sent BYE.
	CauseLocalHangup
	// CauseRemoteHangup: the remote party sent BYE.
	CauseRemoteHangup
	// CauseCancelled: the caller gave up before an answer (CANCEL sent or received).
	CauseCancelled
	// CauseRejected: we declined an incoming call (486 or 603).
	CauseRejected
	// CauseBusy: the callee answered 486 Busy Here or 600 Busy Everywhere.
	CauseBusy
	// CauseDeclined: the callee answered 603 Decline.
	CauseDeclined
	// CauseNotFound: 404 or 480 (nobody registered, temporarily unavailable).
	CauseNotFound
	// CauseFailed: another final error response or a transport/media failure.
	CauseFailed
	// CauseTransferred: the call was handed over by a transfer.
	CauseTransferred
	// CauseShutdown: the phone was closed while the call was up.
	CauseShutdown
	// CauseReplaced: another call took this one's place (INVITE with
	// Replaces, RFC 3891), e.g. we were the target of an attended transfer.
	CauseReplaced
	// CauseAnsweredElsewhere: the proxy cancelled a ringing incoming call
	// because another device answered it (RFC 3326 Reason "SIP;cause=200"
	// or "Q.850;cause=26"): not a missed call.
	CauseAnsweredElsewhere
)

// String returns the cause's name.
func (c EndCause) String() string {
	switch c {
	case CauseUnknown:
		return "unknown"
	case CauseLocalHangup:
		return "local-hangup"
	case CauseRemoteHangup:
		return "remote-hangup"
	case CauseCancelled:
		return "cancelled"
	case CauseAnsweredElsewhere:
		return "answered-elsewhere"
	case CauseRejected:
		return "rejected"
	case CauseBusy:
		return "busy"
	case CauseDeclined:
		return "declined"
	case CauseNotFound:
		return "not-found"
	case CauseFailed:
		return "failed"
	case CauseTransferred:
		return "transferred"
	case CauseShutdown:
		return "shutdown"
	case CauseReplaced:
		return "replaced"
	default:
		return fmt.Sprintf("EndCause(%d)", int(c))
	}
}

// causeFromStatus maps a final failure response of an outgoing INVITE to a cause.
func causeFromStatus(code int) EndCause {
	switch code {
	case 486, 600:
		return CauseBusy
	case 603:
		return CauseDeclined
	case 404, 480, 604:
		return CauseNotFound
	case 487:
		return CauseCancelled
	default:
		return CauseFailed
	}
}
