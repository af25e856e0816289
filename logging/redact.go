package logging

import (
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// Mask replaces a redacted value.
const Mask = "[redacted]"

// Redactor removes secrets from log text. It is safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	values map[string]struct{}
}

// NewRedactor returns a Redactor that knows no secret values yet; the wire
// shapes of secrets are always redacted.
func NewRedactor() *Redactor { return &Redactor{values: map[string]struct{}{}} }

// Add registers secret values to redact wherever they appear. Values
// shorter than 4 characters are ignored: masking them would mangle
// ordinary text without protecting anything.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 4 {
			r.values[v] = struct{}{}
		}
	}
}

var (
	// /rest/{user}/{code}/ in incoming-webhook URLs.
	webhookPath = regexp.MustCompile(`(/rest/\d+/)[^/\s?"']+`)
	// auth=, access_token=, refresh_token=, client_secret=, password= in
	// queries and forms, also with PHP brackets (auth[application_token]=).
	secretParam = regexp.MustCompile(`(?i)((?:auth|access_token|refresh_token|client_secret|application_token|password|code)(?:%5B[^=&\s]*%5D|\[[^=&\s]*\])?=)[^&\s"']+`)
	bearer      = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
)

// String returns s with every known secret value and every secret-shaped
// fragment masked.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	for v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	r.mu.RUnlock()
	s = webhookPath.ReplaceAllString(s, "${1}"+Mask)
	s = secretParam.ReplaceAllString(s, "${1}"+Mask)
	return bearer.ReplaceAllString(s, "${1}"+Mask)
}

// secretKeys are attribute names whose values are always masked.
var secretKeys = []string{"password", "secret", "token", "authorization", "webhook_code", "code"}

func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasSuffix(k, "."+s) {
			return true
		}
	}
	return false
}

// replaceAttr is a slog ReplaceAttr that masks secret-named attributes and
// redacts every string value (the message included).
func (r *Redactor) replaceAttr(_ []string, a slog.Attr) slog.Attr {
	if isSecretKey(a.Key) {
		return slog.String(a.Key, Mask)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, r.String(err.Error()))
		}
		return slog.String(a.Key, r.String(a.Value.String()))
	default:
		return a
	}
}
