package sip

import (
	"fmt"
	"time"
)

// Hardening configures the phone's defences against hostile traffic and
// how it keeps its registration through network changes. The zero value is
// the safe default: ghost-call protection and flood limits on, keep-alive
// every 25 s, network polled every 2 s.
type Hardening struct {
	// AllowAnySource turns ghost-call protection off: out-of-dialog
	// requests (INVITE, OPTIONS, MESSAGE, ...) are then accepted from any
	// address, not only from the registrars and proxy of the account.
	AllowAnySource bool
	// TrustedSources lists more addresses allowed to send out-of-dialog
	// requests, as host[:port]; a host without a port trusts every port of
	// its addresses (e.g. a PBX whose media/SBC nodes send INVITEs).
	TrustedSources []string
	// RequestRate is how many new out-of-dialog requests per second one
	// trusted source may send; beyond it and RequestBurst the phone answers
	// 503 (or drops when even the answers are over their budget).
	// 0 means 10.
	RequestRate float64
	// RequestBurst is the size of each source's token bucket; 0 means 20.
	RequestBurst int
	// MaxCalls is how many calls (ringing, active or held) may exist at
	// once; a further INVITE is answered 486 Busy Here. 0 means 8.
	MaxCalls int
	// KeepAlive is how often the registrar is pinged to keep NAT bindings
	// open: OPTIONS on UDP, a CRLF CRLF ping (RFC 5626 §4.4.1) on TCP. A
	// ping that fails triggers a re-registration. 0 means 25 s; negative
	// turns it off.
	KeepAlive time.Duration
	// NetworkPoll is how often the local addresses and the wall clock are
	// checked; an address change or a resume from suspend re-registers at
	// once. 0 means 2 s; negative turns it off.
	NetworkPoll time.Duration
	// FailoverRegistrars are host[:port] registrars tried in order when the
	// account's Registrar does not answer or answers 5xx.
	FailoverRegistrars []string
	// FailbackAfter is how often, while registered with a failover
	// registrar, the primary is probed; when it answers the phone registers
	// there again. 0 means 60 s.
	FailbackAfter time.Duration
}

const (
	defaultRequestRate   = 10
	defaultRequestBurst  = 20
	defaultMaxCalls      = 8
	defaultKeepAlive     = 25 * time.Second
	defaultNetworkPoll   = 2 * time.Second
	defaultFailbackAfter = 60 * time.Second
)

// withDefaults returns h with zero values replaced by defaults, or an error
// naming the first invalid field.
func (h Hardening) withDefaults() (Hardening, error) {
	if h.RequestRate < 0 || h.RequestBurst < 0 || h.MaxCalls < 0 || h.FailbackAfter < 0 {
		return h, fmt.Errorf("hardening: rates, limits and intervals must not be negative")
	}
	orDefault(&h.RequestRate, defaultRequestRate)
	orDefault(&h.RequestBurst, defaultRequestBurst)
	orDefault(&h.MaxCalls, defaultMaxCalls)
	orDefault(&h.KeepAlive, defaultKeepAlive)
	orDefault(&h.NetworkPoll, defaultNetworkPoll)
	orDefault(&h.FailbackAfter, defaultFailbackAfter)
	for _, hp := range h.TrustedSources {
		if _, _, err := splitHostPort(hp); err != nil {
			return h, fmt.Errorf("trusted source: %w", err)
		}
	}
	for _, hp := range h.FailoverRegistrars {
		if _, _, err := splitHostPort(hp); err != nil {
			return h, fmt.Errorf("failover registrar: %w", err)
		}
	}
	return h, nil
}

// orDefault sets *v to d when it is the zero value.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}
