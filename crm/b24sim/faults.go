package b24sim

import (
	"strings"
	"sync"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	fault503
	fault500
	faultTimeout
	faultDrop
)

// FaultConfig is the body of POST /_sim/faults and of GET /_sim/faults.
// Counters are consumed one per matching REST request, in the order
// 503, 500, timeout, drop. Method, when set, restricts the faults to that
// method (case-insensitive). Latency applies to every matching request until
// changed. RevokeTokens, RevokeToken and ExpireTokens act immediately.
type FaultConfig struct {
	Method          string `json:"method,omitempty"`
	LatencyMS       int    `json:"latency_ms,omitempty"`
	Fail503         int    `json:"fail_503,omitempty"`
	Fail500         int    `json:"fail_500,omitempty"`
	Timeouts        int    `json:"timeouts,omitempty"`
	TimeoutMS       int    `json:"timeout_ms,omitempty"`
	DropAfterCommit int    `json:"drop_after_commit,omitempty"`
	RevokeTokens    bool   `json:"revoke_tokens,omitempty"`
	RevokeToken     string `json:"revoke_token,omitempty"`
	ExpireTokens    bool   `json:"expire_tokens,omitempty"`
}

type faults struct {
	mu  sync.Mutex
	cfg FaultConfig
}

type faultHit struct {
	kind    faultKind
	latency time.Duration
	timeout time.Duration
}

func (f *faults) reset() {
	f.mu.Lock()
	f.cfg = FaultConfig{}
	f.mu.Unlock()
}

func (f *faults) set(c FaultConfig) {
	c.Method = strings.ToLower(c.Method)
	c.RevokeTokens, c.RevokeToken, c.ExpireTokens = false, "", false
	f.mu.Lock()
	f.cfg = c
	f.mu.Unlock()
}

func (f *faults) get() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// take consumes the next fault for a request to method.
func (f *faults) take(method string) faultHit {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &f.cfg
	if c.Method != "" && c.Method != method {
		return faultHit{}
	}
	h := faultHit{latency: time.Duration(c.LatencyMS) * time.Millisecond}
	switch {
	case c.Fail503 > 0:
		c.Fail503--
		h.kind = fault503
	case c.Fail500 > 0:
		c.Fail500--
		h.kind = fault500
	case c.Timeouts > 0:
		c.Timeouts--
		h.kind = faultTimeout
		h.timeout = time.Duration(c.TimeoutMS) * time.Millisecond
	case c.DropAfterCommit > 0:
		c.DropAfterCommit--
		h.kind = faultDrop
	}
	return h
}
