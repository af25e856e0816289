package sip

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Transport is the SIP transport of an account.
type Transport string

// Supported transports.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	// TransportTLS is SIP over TLS (sips: is not used; RFC 5630 §3.1.3).
	TransportTLS Transport = "tls"
	// TransportWS is SIP over WebSocket (RFC 7118) to a WebRTC gateway;
	// calls carry WebRTC media (ICE, DTLS-SRTP; webrtc.go).
	TransportWS Transport = "ws"
	// TransportWSS is TransportWS over TLS, verified like TransportTLS.
	TransportWSS Transport = "wss"
)

// DTMFMode says how key presses are sent to the remote party.
type DTMFMode string

// DTMF modes.
const (
	// DTMFRFC4733 sends telephone-event RTP packets (RFC 4733).
	DTMFRFC4733 DTMFMode = "rfc4733"
	// DTMFInfo sends SIP INFO requests with an application/dtmf-relay body.
	DTMFInfo DTMFMode = "info"
)

// Codec names accepted in [Account.Codecs].
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
	// CodecOpus is opus/48000/2 (RFC 7587); only in binaries built with
	// the with_opus_c tag, see [ErrOpusNotBuiltIn].
	CodecOpus = "opus"
)

// Account is one SIP identity: the address of record, credentials and
// where to send requests.
type Account struct {
	// User is the user part of the address of record (usually the extension).
	User string
	// AuthUser is the digest user name; empty means User.
	AuthUser string
	// Password is the digest password.
	Password string
	// Domain is the host[:port] of the address of record.
	Domain string
	// Registrar is host[:port] to send REGISTER to; empty means Domain.
	Registrar string
	// Proxy is the outbound proxy host[:port]; empty means Registrar.
	Proxy string
	// Transport is udp (default), tcp, tls, ws or wss.
	Transport Transport
	// CAFile is a PEM file with the CA certificates that sign the PBX's TLS
	// certificate; empty trusts the system's roots. Only for tls and wss.
	CAFile string
	// WSPath is the path of the gateway's WebSocket URL for ws and wss,
	// e.g. "/ws" for Asterisk; empty means "/".
	WSPath string
	// SRTP is the SDES media encryption policy; empty means SRTPOff. It
	// must be off for ws and wss, whose WebRTC media is always DTLS-SRTP.
	SRTP SRTPPolicy
	// Expiry is the requested registration lifetime; 0 means 300 s.
	Expiry time.Duration
	// Codecs lists opus, PCMU and/or PCMA (any case) in order of
	// preference, for our offers and for the codec we pick from a peer's
	// offer; empty means PCMU, PCMA.
	Codecs []string
	// DTMF is the sending mode; empty means RFC 4733.
	DTMF DTMFMode
	// DisplayName is shown to the called party.
	DisplayName string
	// CallerID, if set, is the number presented on outgoing calls, in the
	// way CallerIDMode says.
	CallerID string
	// CallerIDMode is where a caller ID other than User goes; the zero
	// value is CallerIDFrom.
	CallerIDMode CallerIDMode
	// DialPlan normalises dialled numbers; the zero value leaves them as typed.
	DialPlan DialPlan
}

// CallerIDMode is how an outgoing INVITE presents a caller ID (SPEC C3).
type CallerIDMode string

// Caller ID modes.
const (
	// CallerIDFrom puts the caller ID in the user part of From (PBXes that
	// authenticate by the Authorization user name: FreeSWITCH, most
	// hosted PBXes).
	CallerIDFrom CallerIDMode = "from"
	// CallerIDIdentity keeps From as the account user and sends the caller
	// ID in P-Asserted-Identity and P-Preferred-Identity (RFC 3325), with
	// it as From's display name: for proxies that refuse a From user other
	// than the authenticated one (Kamailio/OpenSIPS auth_check) and for
	// Asterisk with trust_id_inbound.
	CallerIDIdentity CallerIDMode = "identity"
)

// Config configures a [Phone].
type Config struct {
	Account Account
	// BindHost is the local IP to listen on; empty means 127.0.0.1 when the
	// registrar is a loopback address, else 0.0.0.0.
	BindHost string
	// BindPort is the local SIP port; 0 picks a free one.
	BindPort int
	// RTPPortMin and RTPPortMax bound the local RTP ports; zero means 10000–20000.
	RTPPortMin, RTPPortMax int
	// UserAgent is sent in the User-Agent header; empty means "Omniphone".
	UserAgent string
	// RecordDir, when set, records every call to a stereo WAV file there
	// (left: what we sent, right: what we received).
	RecordDir string
	// RequestTimeout bounds one REGISTER transaction; 0 means 8 s.
	RequestTimeout time.Duration
	// RetryMin and RetryMax bound the registration retry backoff; zero means 2 s and 120 s.
	RetryMin, RetryMax time.Duration
	// VirtualNumberHeaders lists the headers of an incoming INVITE that may
	// carry the virtual number (the company number the client called), in
	// order of preference; the first one present with a number wins. Names
	// are case-insensitive; any header holding a SIP or tel URI works. For
	// Diversion (RFC 5806) the last entry, the original called number, is
	// used. Empty means P-Called-Party-ID, Diversion, To.
	VirtualNumberHeaders []string
	// AttributeHeaders maps header names of an incoming INVITE
	// (case-insensitive) to attribute names reported by [Call.Attributes],
	// e.g. "X-Scenario" → [AttrScenario] for the PBX's call-tracking
	// headers. Empty means no header attributes.
	AttributeHeaders map[string]string
	// Hardening configures ghost-call and flood protection, keep-alive,
	// network-change detection and registrar failover (hardening.go).
	Hardening Hardening
}

const (
	defaultExpiry         = 300 * time.Second
	defaultRequestTimeout = 8 * time.Second
	defaultRetryMin       = 2 * time.Second
	defaultRetryMax       = 120 * time.Second
)

// withDefaults returns cfg with the zero values replaced by defaults, or an
// error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	a := &cfg.Account
	if a.User == "" {
		return cfg, fmt.Errorf("account user is required")
	}
	if strings.ContainsAny(a.User, "@: ") {
		return cfg, fmt.Errorf("account user %q must be a bare user part", a.User)
	}
	if a.Domain == "" {
		return cfg, fmt.Errorf("account domain is required")
	}
	if a.AuthUser == "" {
		a.AuthUser = a.User
	}
	if a.Registrar == "" {
		a.Registrar = a.Domain
	}
	if a.Proxy == "" {
		a.Proxy = a.Registrar
	}
	// A fixed order, so the first bad address is the one reported (the
	// proxy defaults to the registrar and would otherwise be blamed at random).
	for _, f := range []struct{ name, hp string }{{"domain", a.Domain}, {"registrar", a.Registrar}, {"proxy", a.Proxy}} {
		if _, _, err := splitHostPort(f.hp); err != nil {
			return cfg, fmt.Errorf("account %s: %w", f.name, err)
		}
	}
	if err := oneOf(&a.Transport, "transport", TransportUDP, TransportTCP, TransportTLS, TransportWS, TransportWSS); err != nil {
		return cfg, err
	}
	if err := oneOf(&a.SRTP, "SRTP policy", SRTPOff, SRTPOptional, SRTPRequired); err != nil {
		return cfg, err
	}
	if a.CAFile != "" && !a.Transport.overTLS() {
		return cfg, fmt.Errorf("a CA file is only used with the tls and wss transports")
	}
	if a.WSPath != "" {
		if !a.Transport.webrtc() {
			return cfg, fmt.Errorf("a WebSocket path is only used with the ws and wss transports")
		}
		if err := checkWSPath(a.WSPath); err != nil {
			return cfg, err
		}
	}
	if a.SRTP != SRTPOff && a.Transport.webrtc() {
		return cfg, fmt.Errorf("SRTP policy %q does not apply to the %s transport: its WebRTC media is always encrypted (DTLS-SRTP)", a.SRTP, a.Transport)
	}
	if a.Expiry == 0 {
		a.Expiry = defaultExpiry
	}
	if a.Expiry < 10*time.Second {
		return cfg, fmt.Errorf("expiry %s is below 10 s", a.Expiry)
	}
	if len(a.Codecs) == 0 {
		a.Codecs = []string{CodecPCMU, CodecPCMA}
	}
	codecs, err := normalizeCodecs(a.Codecs)
	if err != nil {
		return cfg, err
	}
	a.Codecs = codecs
	if err := oneOf(&a.DTMF, "DTMF mode", DTMFRFC4733, DTMFInfo); err != nil {
		return cfg, err
	}
	if err := oneOf(&a.CallerIDMode, "caller ID mode", CallerIDFrom, CallerIDIdentity); err != nil {
		return cfg, err
	}
	if a.CallerID != "" {
		id, err := callerIDUser(a.CallerID)
		if err != nil {
			return cfg, err
		}
		a.CallerID = id
	}
	if cfg.BindHost == "" {
		cfg.BindHost = "0.0.0.0"
		if h, _, _ := splitHostPort(a.Registrar); h == "localhost" || net.ParseIP(h).IsLoopback() {
			cfg.BindHost = "127.0.0.1"
		}
	}
	if net.ParseIP(cfg.BindHost) == nil {
		return cfg, fmt.Errorf("bind host %q is not an IP address", cfg.BindHost)
	}
	if cfg.RTPPortMin == 0 && cfg.RTPPortMax == 0 {
		cfg.RTPPortMin, cfg.RTPPortMax = 10000, 20000
	}
	if cfg.RTPPortMin <= 0 || cfg.RTPPortMax > 65535 || cfg.RTPPortMax-cfg.RTPPortMin < 2 {
		return cfg, fmt.Errorf("RTP port range %d-%d is invalid", cfg.RTPPortMin, cfg.RTPPortMax)
	}
	orDefault(&cfg.UserAgent, "Omniphone")
	orDefault(&cfg.RequestTimeout, defaultRequestTimeout)
	orDefault(&cfg.RetryMin, defaultRetryMin)
	orDefault(&cfg.RetryMax, defaultRetryMax)
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = cfg.RetryMin
	}
	if len(cfg.VirtualNumberHeaders) == 0 {
		cfg.VirtualNumberHeaders = DefaultVirtualNumberHeaders()
	}
	for _, h := range cfg.VirtualNumberHeaders {
		if !validHeaderName(h) {
			return cfg, fmt.Errorf("virtual number header %q is not a header name", h)
		}
	}
	if cfg.Hardening, err = cfg.Hardening.withDefaults(); err != nil {
		return cfg, err
	}
	for h, attr := range cfg.AttributeHeaders {
		if !validHeaderName(h) {
			return cfg, fmt.Errorf("attribute header %q is not a header name", h)
		}
		if attr == "" {
			return cfg, fmt.Errorf("attribute header %q has no attribute name", h)
		}
	}
	return cfg, nil
}

// splitHostPort splits "host[:port]"; port is 0 when absent.
func splitHostPort(hp string) (string, int, error) {
	if hp == "" {
		return "", 0, fmt.Errorf("empty address")
	}
	if strings.Contains(hp, "://") || strings.ContainsAny(hp, "@;/ ") {
		return "", 0, fmt.Errorf("%q is not host[:port]", hp)
	}
	if !strings.Contains(hp, ":") || strings.HasSuffix(hp, "]") || net.ParseIP(hp) != nil {
		// No port: a host name, an IPv4 address or a bracketed IPv6 address.
		return strings.Trim(hp, "[]"), 0, nil
	}
	host, portStr, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host[:port]: %w", hp, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has an invalid port", hp)
	}
	return host, port, nil
}

// oneOf sets an empty *v to allowed[0] (the default) and refuses a value
// not in allowed.
func oneOf[T ~string](v *T, what string, allowed ...T) error {
	if *v == "" {
		*v = allowed[0]
		return nil
	}
	if !slices.Contains(allowed, *v) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		return fmt.Errorf("%s %q is not supported (%s)", what, *v, strings.Join(names, ", "))
	}
	return nil
}

// hostPortWithDefault returns "host:port", using def when hp has no port.
func hostPortWithDefault(hp string, def int) string {
	h, p, _ := splitHostPort(hp)
	if p == 0 {
		p = def
	}
	return net.JoinHostPort(h, strconv.Itoa(p))
}
