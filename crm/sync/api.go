package sync

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm"
)

// maxRecord bounds a call record's size.
const maxRecord = 1 << 20

// Handler serves the HTTP API (SPEC §11): POST /api/v1/calls,
// GET /api/v1/calls/{id}, POST /api/v1/calls/{id}/retry,
// GET /api/v1/calls?since=, GET /api/v1/route,
// GET /healthz and GET /metrics. Every /api/ request needs one of tokens
// as its bearer token.
func (e *Engine) Handler(tokens []string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/calls", e.bearer(tokens, e.postCall))
	mux.Handle("GET /api/v1/calls/{id}", e.bearer(tokens, e.getCall))
	mux.Handle("POST /api/v1/calls/{id}/retry", e.bearer(tokens, e.retryCall))
	mux.Handle("GET /api/v1/calls", e.bearer(tokens, e.listCalls))
	mux.Handle("GET /api/v1/route", e.bearer(tokens, e.route))
	mux.HandleFunc("GET /healthz", e.healthz)
	mux.Handle("GET /metrics", e.Metrics())
	return mux
}

type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (e *Engine) bearer(tokens []string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && got != "" {
			for _, t := range tokens {
				if t != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
					next(w, r)
					return
				}
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="omnisync"`)
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "a valid bearer token is required"})
	})
}

func (e *Engine) postCall(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecord+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "read body: " + err.Error()})
		return
	}
	if len(body) > maxRecord {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "the call record is larger than 1 MiB"})
		return
	}
	st, _, err := e.Submit(r.Context(), body)
	var fe *crm.FieldError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Error(), Field: fe.Field})
	case err != nil:
		e.log.Error("submit call", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
	default:
		w.Header().Set("Location", "/api/v1/calls/"+st.ID)
		writeJSON(w, http.StatusAccepted, st)
	}
}

func (e *Engine) getCall(w http.ResponseWriter, r *http.Request) {
	st, err := e.Status(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
	case st == nil:
		writeJSON(w, http.StatusNotFound, apiError{Error: "no such call"})
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

// retryCall re-queues a failed call: 202 with its status, 404 for an
// unknown call, 409 with the reason when it is not failed.
func (e *Engine) retryCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := e.Retry(r.Context(), id)
	switch {
	case errors.Is(err, ErrUnknownCall):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
		return
	case errors.Is(err, ErrNotFailed):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
		return
	case err != nil:
		e.log.Error("retry call", "call", id, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
		return
	}
	st, err := e.Status(r.Context(), id)
	if err != nil || st == nil {
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "state": StateQueued})
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

func (e *Engine) listCalls(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "since must be an RFC 3339 time", Field: "since"})
			return
		}
		since = t
	}
	limit := 500
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 5000 {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "limit must be 1…5000", Field: "limit"})
			return
		}
		limit = n
	}
	list, err := e.History(r.Context(), since, limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": list})
}

func (e *Engine) route(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("number")
	if number == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "number is required", Field: "number"})
		return
	}
	t, ok, trace, err := e.Route(r.Context(), number)
	switch {
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no route", "trace": trace})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"extension": t.Extension, "user_id": t.UserID})
	}
}

func (e *Engine) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := countCalls(r.Context(), e.q.db()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
