package b24sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// obj is a PHP associative array in a response: it encodes as [] when empty,
// like json_encode of an empty PHP array.
type obj map[string]any

// MarshalJSON implements json.Marshaler with the PHP empty-array quirk.
func (o obj) MarshalJSON() ([]byte, error) {
	if len(o) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(map[string]any(o))
}

// phpDateTime is a Bitrix\Main\Type\DateTime object, which json_encode
// renders as {}.
type phpDateTime struct{}

// MarshalJSON renders the object as {}.
func (phpDateTime) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }

// Error is a REST error as the portal reports it: an error code (possibly
// empty), a description, an HTTP status and an optional argument name.
type Error struct {
	Status      int
	Code        string
	Description string
	Argument    string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Description)
}

func newErr(status int, code, desc string) *Error {
	return &Error{Status: status, Code: code, Description: desc}
}

// crmErr is the legacy crm.* RestException: HTTP 400 with an empty code.
func crmErr(desc string) *Error { return newErr(400, "", desc) }

func argErr(arg string) *Error {
	return &Error{Status: 400, Code: "ERROR_ARGUMENT", Description: fmt.Sprintf("Argument '%s' is null or empty", arg), Argument: arg}
}

var (
	errMethodNotFound = newErr(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	errNoAuth         = newErr(401, "NO_AUTH_FOUND", "Wrong authorization data")
	errExpiredToken   = newErr(401, "expired_token", "The access token provided has expired")
	errInvalidToken   = newErr(401, "invalid_token", "Unable to get application by token")
	errQueryLimit     = newErr(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
	errOperationLimit = newErr(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
	errWrongAuthType  = newErr(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")
	errInternal       = newErr(500, "INTERNAL_SERVER_ERROR", "Internal server error")
	errWrongTransport = newErr(500, "INTERNAL_WRONG_TRANSPORT", "Wrong transport!")
	errBatchLength    = newErr(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
	errBatchMethod    = newErr(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
)

// errorBody is the JSON of an error envelope.
func errorBody(e *Error) obj {
	b := obj{"error": e.Code, "error_description": e.Description}
	if e.Argument != "" {
		b["argument"] = e.Argument
	}
	return b
}

// reply is what a method returns on success.
type reply struct {
	result   any
	total    int
	hasTotal bool
	next     int
	hasNext  bool
	bare     bool // no "time" block (upload endpoint)
}

// timing is the "time" block of an envelope.
type timing struct {
	start, finish time.Time
	processing    time.Duration
	operating     float64
	resetAt       int64
	hasOperating  bool
}

func (t timing) block(loc *time.Location) obj {
	b := obj{
		"start":       unixFloat(t.start),
		"finish":      unixFloat(t.finish),
		"duration":    t.finish.Sub(t.start).Seconds(),
		"processing":  t.processing.Seconds(),
		"date_start":  t.start.In(loc).Format(time.RFC3339),
		"date_finish": t.finish.In(loc).Format(time.RFC3339),
	}
	if t.hasOperating {
		b["operating"] = t.operating
		if t.resetAt > 0 {
			b["operating_reset_at"] = t.resetAt
		}
	}
	return b
}

func unixFloat(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

func setRESTHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "origin, content-type, accept")
	h.Set("X-Content-Type-Options", "nosniff")
}

var wrongEncoding = []byte(`{"error":"WRONG_ENCODING","error_description":"Wrong request encoding"}`)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func writeBody(w http.ResponseWriter, status int, v any) {
	bp := bufPool.Get().(*[]byte)
	body, err := appendJSON((*bp)[:0], v)
	if err != nil {
		body, status = wrongEncoding, 400
	} else {
		*bp = body
		defer bufPool.Put(bp)
	}
	setRESTHeaders(w)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *Error) {
	writeBody(w, e.Status, errorBody(e))
}

// envelope builds the success envelope for r.
func envelope(r reply, t timing, loc *time.Location) obj {
	if r.bare {
		return obj{"result": r.result}
	}
	env := obj{"result": r.result, "time": t.block(loc)}
	if r.hasTotal {
		env["total"] = r.total
		if r.hasNext {
			env["next"] = r.next
		}
	}
	return env
}
