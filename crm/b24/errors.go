package b24

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error answer from Bitrix24: {"error", "error_description"}
// and the HTTP status it came with.
type Error struct {
	Code        string
	Description string
	HTTPStatus  int
	Method      string
	// Argument is set for ERROR_ARGUMENT.
	Argument string
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "error"
	}
	if e.Method != "" {
		return fmt.Sprintf("bitrix24 %s: %s: %s (HTTP %d)", e.Method, code, e.Description, e.HTTPStatus)
	}
	return fmt.Sprintf("bitrix24: %s: %s (HTTP %d)", code, e.Description, e.HTTPStatus)
}

// Error codes the client acts on.
const (
	CodeQueryLimit     = "QUERY_LIMIT_EXCEEDED"
	CodeOperationLimit = "OPERATION_TIME_LIMIT"
	CodeExpiredToken   = "expired_token"
	CodeInvalidToken   = "invalid_token"
	CodeNoAuth         = "NO_AUTH_FOUND"
	CodeMethodNotFound = "ERROR_METHOD_NOT_FOUND"
)

// IsAuth reports an authentication or authorisation failure.
func (e *Error) IsAuth() bool {
	switch e.Code {
	case CodeExpiredToken, CodeInvalidToken, CodeNoAuth, "INVALID_CREDENTIALS", "insufficient_scope",
		"authorization_error", "user_access_error", "ERROR_OAUTH", "APPLICATION_NOT_FOUND", "PAYMENT_REQUIRED",
		"WRONG_AUTH_TYPE", "ACCESS_DENIED", "invalid_grant", "invalid_client", "wrong_client", "NOT_INSTALLED":
		return true
	}
	return e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden
}

// IsLimit reports a rate or operating-time limit rejection: the request did
// not run and may be sent again later.
func (e *Error) IsLimit() bool {
	return e.Code == CodeQueryLimit || e.Code == CodeOperationLimit || e.Code == "OVERLOAD_LIMIT"
}

// IsNotFound reports a missing entity or method.
func (e *Error) IsNotFound() bool {
	return e.Code == CodeMethodNotFound || e.Code == "NOT_FOUND" || e.Description == "Not found" ||
		e.HTTPStatus == http.StatusNotFound
}

// IsValidation reports a request the server refused as invalid: sending it
// again will not help.
func (e *Error) IsValidation() bool {
	return !e.IsAuth() && !e.IsLimit() && !e.IsNotFound() && e.HTTPStatus >= 400 && e.HTTPStatus < 500
}

// IsTransient reports a server-side failure that may pass: 5xx other than
// the limits.
func (e *Error) IsTransient() bool {
	return e.HTTPStatus >= 500 && !e.IsLimit()
}

// ReconnectError means the portal's credentials are gone for good (the
// refresh token is dead, the webhook was deleted, the application was
// removed): a person must reconnect the portal.
type ReconnectError struct {
	Err error
}

func (e *ReconnectError) Error() string {
	return "reconnect the portal: its credentials are no longer accepted: " + e.Err.Error()
}

func (e *ReconnectError) Unwrap() error { return e.Err }

// ErrNoToken means OAuth is configured but no token was ever stored: the
// portal was never connected.
var ErrNoToken = errors.New("the portal is not connected yet: no OAuth token is stored")

// TransportError is a request that failed below HTTP (connection refused,
// reset, timeout, unreadable answer). Whether it ran on the server is
// unknown.
type TransportError struct {
	Method string
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("bitrix24 %s: %v", e.Method, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Classify helpers for any error returned by the client.

// IsAuth reports whether err is an authentication failure.
func IsAuth(err error) bool {
	var re *ReconnectError
	if errors.As(err, &re) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.IsAuth()
}

// IsLimit reports whether err is a rate-limit rejection.
func IsLimit(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.IsLimit()
}

// IsNotFound reports whether err says the thing does not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.IsNotFound()
}

// IsValidation reports whether err is a refused, invalid request.
func IsValidation(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.IsValidation()
}

// IsTransient reports whether err may pass on a later try: a server error
// or a transport failure.
func IsTransient(err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && (e.IsTransient() || e.IsLimit())
}
