package sip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// errUntrustedStream closes a TCP connection opened by an address that may
// not send us requests (sipgo closes the connection on a read-filter error).
var errUntrustedStream = errors.New("connection from an untrusted address")

// gate screens every message the transport reads, before sipgo parses it
// and before a transaction, a goroutine or a call exists for it:
//
//   - ghost-call protection: an out-of-dialog request (no To tag) from an
//     address that is not one of the account's registrars, its proxy or a
//     trusted source is answered 403 and never reaches the phone; after
//     ten 403s an address gets one every 10 s and silence otherwise;
//   - flood protection: each source's new out-of-dialog requests pass a
//     token bucket; beyond it the phone answers 503 with Retry-After;
//   - malformed datagrams are dropped.
//
// The 403 and 503 answers have their own budget, so that a flood with a
// spoofed source cannot turn the phone into a reflector; beyond it requests
// are dropped silently. Answers carry no User-Agent or Server header.
//
// It is installed as sipgo's transport read filter
// (sip.WithTransportLayerReadFilter); sipgo's server offers no hook that can
// refuse a request before diago's handlers see it.
type gate struct {
	h       Hardening
	tp      *gosip.TransportLayer
	laddr   string // our UDP listening address, key of its pooled connection
	trusted atomic.Pointer[trustSet]
	buckets *lru.Cache[string, *rate.Limiter]
	answers *rate.Limiter

	// stats outlive the gate: a rebuilt SIP stack (move.go) keeps counting.
	stats *gateStats
}

// gateStats counts what the gate did; read them with [Phone.GateStats].
type gateStats struct {
	forbidden, limited, dropped, malformed atomic.Uint64
}

// GateStats reports what ghost-call and flood protection have done since
// the phone started.
type GateStats struct {
	// Forbidden is how many out-of-dialog requests from untrusted
	// addresses were answered 403.
	Forbidden uint64
	// Limited is how many requests over their source's rate were answered 503.
	Limited uint64
	// Dropped is how many rejected requests got no answer (answer budget spent).
	Dropped uint64
	// Malformed is how many datagrams could not be parsed as SIP.
	Malformed uint64
}

// trustSet holds the addresses allowed to send out-of-dialog requests.
type trustSet struct {
	hostPorts map[string]bool // "ip:port"
	hosts     map[string]bool // "ip": every port
}

const (
	gateSources     = 1024 // token buckets kept, least recently used evicted
	gateAnswersRate = 50   // 403/503 answers per second, all sources together
	gateRetryAfterS = "5"
	gateAnswerBurst = 50
	// strangerAnswerRate and strangerAnswerBurst: 403s per untrusted
	// address (one every 10 s after the first ten).
	strangerAnswerRate  = 0.1
	strangerAnswerBurst = 10
	resolveTimeout      = 3 * time.Second
	keepAlivePayload    = "\r\n\r\n"
)

func newGate(h Hardening, stats *gateStats) *gate {
	buckets, _ := lru.New[string, *rate.Limiter](gateSources) // only fails for size <= 0
	g := &gate{h: h, buckets: buckets, answers: rate.NewLimiter(gateAnswersRate, gateAnswerBurst), stats: stats}
	g.trusted.Store(&trustSet{hostPorts: map[string]bool{}, hosts: map[string]bool{}})
	return g
}

// resolve rebuilds the trusted set from the registrars, the proxy and the
// trusted sources (DNS names resolved to all their addresses). A name that
// does not resolve keeps the addresses it had before.
func (g *gate) resolve(ctx context.Context, acc Account, transport Transport) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	old := g.trusted.Load()
	next := &trustSet{hostPorts: map[string]bool{}, hosts: map[string]bool{}}
	def := gosip.DefaultPort(string(transport))
	add := func(hp string, anyPort bool) {
		host, port, err := splitHostPort(hp)
		if err != nil {
			return
		}
		if port == 0 {
			port = def
		}
		var ips []string
		if ip := net.ParseIP(host); ip != nil {
			ips = []string{ip.String()}
		} else if addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host); err == nil {
			for _, a := range addrs {
				ips = append(ips, a.IP.String())
			}
		} else {
			// Keep what we knew: a DNS hiccup must not reject the PBX's calls.
			for k, v := range old.hostPorts {
				next.hostPorts[k] = v
			}
			for k, v := range old.hosts {
				next.hosts[k] = v
			}
			return
		}
		for _, ip := range ips {
			if anyPort {
				next.hosts[ip] = true
			} else {
				next.hostPorts[net.JoinHostPort(ip, strconv.Itoa(port))] = true
			}
		}
	}
	add(acc.Registrar, false)
	add(acc.Proxy, false)
	for _, hp := range g.h.FailoverRegistrars {
		add(hp, false)
	}
	for _, hp := range g.h.TrustedSources {
		_, port, _ := splitHostPort(hp)
		add(hp, port == 0)
	}
	g.trusted.Store(next)
}

// isTrusted reports whether src may send out-of-dialog requests. Stream
// sources are matched by IP alone: a proxy opens TCP connections from
// ephemeral ports.
func (g *gate) isTrusted(src net.Addr, stream bool) bool {
	if g.h.AllowAnySource {
		return true
	}
	host, _, err := net.SplitHostPort(src.String())
	if err != nil {
		return false
	}
	ts := g.trusted.Load()
	if ts.hosts[host] || ts.hostPorts[src.String()] {
		return true
	}
	if stream {
		for hp := range ts.hostPorts {
			if h, _, _ := net.SplitHostPort(hp); h == host {
				return true
			}
		}
	}
	return false
}

// filter is sipgo's TransportReadFilter: it returns the data to parse, nil
// to drop it, or an error to close a stream connection.
func (g *gate) filter(info gosip.TransportReadProps, data []byte) ([]byte, error) {
	if isKeepAlive(data) {
		return data, nil
	}
	if !strings.EqualFold(info.Transport, "udp") {
		if bytes.HasPrefix(data, []byte("SIP/2.0 ")) {
			return data, nil // responses: sipgo matches them to our transactions
		}
		// A stream carries parts of messages; the trust decision is taken
		// per connection, by its remote address.
		if g.isTrusted(info.RemoteAddr, true) {
			return data, nil
		}
		g.stats.forbidden.Add(1)
		return nil, errUntrustedStream
	}
	msg, perr := gosip.ParseMessage(data)
	if perr != nil {
		// A datagram that is not SIP is dropped here, quietly (sipgo would
		// log each one in full at error level), and not as an error:
		// returning one would make sipgo stop reading the listener.
		g.stats.malformed.Add(1)
		return nil, nil //nolint:nilerr // see above
	}
	req, ok := msg.(*gosip.Request)
	if !ok {
		return data, nil // a response: sipgo matches it to our transactions
	}
	src := info.RemoteAddr.String()
	trusted := g.isTrusted(info.RemoteAddr, false)
	if trusted && (req.IsAck() || req.IsCancel() || inDialog(req)) {
		return data, nil
	}
	if !trusted && !g.h.AllowAnySource && !inDialog(req) && !req.IsAck() {
		// A stranger gets a few 403s, then silence: scanners that wait for
		// answers (svcrack, svwar) give up instead of flooding on.
		host, _, _ := net.SplitHostPort(src)
		if g.strangerBucket(host).Allow() {
			g.answer(req, src, 403, "Forbidden", &g.stats.forbidden)
		} else {
			g.stats.dropped.Add(1)
		}
		return nil, nil
	}
	// Trusted out-of-dialog requests, and anything an untrusted address may
	// send (in-dialog requests, ACK), pass the source's bucket.
	key := src
	if !trusted {
		key, _, _ = net.SplitHostPort(src) // an attacker varies the port, not the address
	}
	if !g.bucket(key).Allow() {
		if req.IsAck() {
			g.stats.dropped.Add(1)
			return nil, nil
		}
		g.answer(req, src, 503, "Service Unavailable", &g.stats.limited)
		return nil, nil
	}
	return data, nil
}

// strangerBucket limits the 403s one untrusted address gets.
func (g *gate) strangerBucket(host string) *rate.Limiter {
	key := "stranger " + host
	if l, ok := g.buckets.Get(key); ok {
		return l
	}
	l := rate.NewLimiter(strangerAnswerRate, strangerAnswerBurst)
	g.buckets.Add(key, l)
	return l
}

func (g *gate) bucket(src string) *rate.Limiter {
	if l, ok := g.buckets.Get(src); ok {
		return l
	}
	l := rate.NewLimiter(rate.Limit(g.h.RequestRate), g.h.RequestBurst)
	g.buckets.Add(src, l)
	return l
}

// answer sends a stateless response through our UDP listener, within the
// answers budget; count is bumped when it is sent, dropped otherwise.
func (g *gate) answer(req *gosip.Request, src string, code int, reason string, count *atomic.Uint64) {
	if req.IsAck() || !g.answers.Allow() || g.tp == nil {
		g.stats.dropped.Add(1)
		return
	}
	req.SetSource(src)
	res := gosip.NewResponseFromRequest(req, code, reason, nil)
	if code == 503 {
		res.AppendHeader(gosip.NewHeader("Retry-After", gateRetryAfterS))
	}
	res.SetDestination(src)
	pool := g.tp.Pool("udp")
	if pool == nil {
		g.stats.dropped.Add(1)
		return
	}
	conn := pool.Get(g.laddr)
	if conn == nil {
		g.stats.dropped.Add(1)
		return
	}
	defer func() { _, _ = conn.TryClose() }()
	if err := conn.WriteMsg(res); err != nil {
		g.stats.dropped.Add(1)
		return
	}
	count.Add(1)
}

func (s *gateStats) snapshot() GateStats {
	return GateStats{
		Forbidden: s.forbidden.Load(),
		Limited:   s.limited.Load(),
		Dropped:   s.dropped.Load(),
		Malformed: s.malformed.Load(),
	}
}

// inDialog reports whether req belongs to a dialog: its To has a tag
// (RFC 3261 §12.2).
func inDialog(req *gosip.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

// isKeepAlive reports whether data is an RFC 5626 CRLF keep-alive.
func isKeepAlive(data []byte) bool {
	return len(data) <= 4 && len(bytes.Trim(data, "\r\n")) == 0
}

// GateStats reports what ghost-call and flood protection have done.
func (p *Phone) GateStats() GateStats { return p.gateStats.snapshot() }
