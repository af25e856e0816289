package sip

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrClosed is returned by operations on a closed Phone.
	ErrClosed = errors.New("sip: phone closed")
	// ErrNotRunning is returned when a call is attempted before Run has started listening.
	ErrNotRunning = errors.New("sip: phone is not running")
	// ErrCallState is returned when an operation does not fit the call's state
	// (for example Answer on an outgoing call).
	ErrCallState = errors.New("sip: operation not allowed in this call state")
	// ErrCallEnded is returned by operations on a call that has ended.
	ErrCallEnded = errors.New("sip: call ended")
)

// RegisterError is a final non-2xx answer to REGISTER.
type RegisterError struct {
	// StatusCode is the SIP status code, e.g. 403.
	StatusCode int
	// Reason is the reason phrase.
	Reason string
	// RetryAfter is the Retry-After value in seconds, 0 if absent.
	RetryAfter int
}

// Error implements error.
func (e *RegisterError) Error() string {
	return fmt.Sprintf("register rejected: %d %s", e.StatusCode, e.Reason)
}

// AuthFailed reports whether the registrar rejected our credentials, which
// retrying will not fix.
func (e *RegisterError) AuthFailed() bool {
	return e.StatusCode == 401 || e.StatusCode == 403 || e.StatusCode == 407
}

// CallError is a final non-2xx answer to an outgoing INVITE.
type CallError struct {
	StatusCode int
	Reason     string
}

// Error implements error.
func (e *CallError) Error() string {
	return fmt.Sprintf("call rejected: %d %s", e.StatusCode, e.Reason)
}
