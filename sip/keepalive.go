package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

const (
	// keepAliveTick is how often the keep-alive loop looks at the state;
	// while the registrar is unreachable it is also the probe interval, so
	// that a registrar (or network) coming back is noticed within it.
	keepAliveTick = time.Second
	// maxPingTimeout bounds one ping; UDP OPTIONS is retransmitted at 0.5,
	// 1.5 and 3.5 s within it.
	maxPingTimeout = 4 * time.Second
)

// keepAlive pings the registrar in use every Hardening.KeepAlive while
// registered (NAT bindings stay open; a failed ping re-registers), probes
// the primary every FailbackAfter while on a failover registrar, and, while
// the last REGISTER got no answer at all, probes every second so that the
// registrar coming back is noticed at once instead of after the backoff.
func (r *registration) keepAlive(ctx context.Context) {
	h := r.p.cfg.Hardening
	if h.KeepAlive < 0 {
		return
	}
	t := time.NewTicker(keepAliveTick)
	defer t.Stop()
	lastPing, lastFailback := time.Now(), time.Now()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		}
		switch r.p.RegState() {
		case RegRegistered:
			if now.Sub(lastPing) >= h.KeepAlive {
				lastPing = now
				if err := r.ping(ctx, r.current(), false); err != nil && ctx.Err() == nil {
					r.p.log.Warn("keep-alive failed; registering again", "registrar", r.current(), "error", err)
					r.p.Reregister()
				}
			}
			if r.target.Load() != 0 && now.Sub(lastFailback) >= h.FailbackAfter {
				lastFailback = now
				if r.ping(ctx, r.registrars[0], true) == nil {
					r.failback.Store(true)
					r.p.Reregister()
				}
			}
		case RegFailed:
			if r.unanswered.Load() && r.ping(ctx, r.current(), true) == nil {
				r.p.log.Info("registrar answers again; registering", "registrar", r.current())
				r.p.Reregister()
			}
		default:
		}
	}
}

// ping checks that the registrar at hp is reachable: OPTIONS on UDP (any
// answer will do), a CRLF CRLF keep-alive on the registration's TCP
// connection (RFC 5626 §4.4.1; sipgo's reader consumes the CRLF pong, so a
// dead peer shows as a write error or a closed connection). A probe (of a
// registrar we are not registered with) sends OPTIONS over a new TCP
// connection when there is none.
func (r *registration) ping(ctx context.Context, hp string, probe bool) error {
	p := r.p
	ctx, cancel := context.WithTimeout(ctx, min(p.cfg.RequestTimeout, maxPingTimeout))
	defer cancel()
	if t := p.cfg.Account.Transport; t == TransportTCP || t == TransportTLS {
		err := r.pingStream(ctx, hp)
		if err == nil || !probe || !errors.Is(err, errNoConnection) {
			return err
		}
	}
	host, port, _ := splitHostPort(hp)
	req := gosip.NewRequest(gosip.OPTIONS, gosip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport(strings.ToUpper(string(p.cfg.Account.Transport)))
	req.SetDestination(hostPortWithDefault(hp, defaultPort(p.cfg.Account.Transport)))
	aor := r.aor()
	from := &gosip.FromHeader{Address: aor, Params: gosip.NewParams()}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: gosip.Uri{Scheme: "sip", Host: host, Port: port}, Params: gosip.NewParams()})
	callID := gosip.CallIDHeader(gosip.GenerateTagN(24) + "@omniphone")
	req.AppendHeader(&callID)
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: 1, MethodName: gosip.OPTIONS})
	maxFwd := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(gosip.NewHeader("User-Agent", p.cfg.UserAgent))
	if _, err := p.client.Do(ctx, req); err != nil {
		return fmt.Errorf("OPTIONS %s: %w", hp, err)
	}
	return nil
}

// errNoConnection: the registrar has no TCP connection to ping on.
var errNoConnection = errors.New("no connection")

// pingStream writes a CRLF CRLF keep-alive on our TCP or TLS connection to hp.
func (r *registration) pingStream(ctx context.Context, hp string) error {
	host, port, _ := splitHostPort(hp)
	if port == 0 {
		port = defaultPort(r.p.cfg.Account.Transport)
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	var errs []error
	for _, ip := range ips {
		addr := net.JoinHostPort(ip.IP.String(), strconv.Itoa(port))
		// sipgo names stream connections by transport: "tcp" or "tls".
		conn, err := r.p.ua.TransportLayer().GetConnection(string(r.p.cfg.Account.Transport), addr)
		if err != nil || conn == nil {
			errs = append(errs, fmt.Errorf("%w to %s", errNoConnection, addr))
			continue
		}
		err = writeKeepAlive(conn)
		_, _ = conn.TryClose()
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("keep-alive to %s: %w", hp, errors.Join(errs...))
}

// writeKeepAlive writes the RFC 5626 double-CRLF ping on a stream
// connection. One Write call: Go's net.Conn serialises it with sipgo's own
// message writes, so it never lands inside a message.
func writeKeepAlive(conn gosip.Connection) error {
	w, ok := conn.(interface {
		Write([]byte) (int, error)
		SetWriteDeadline(time.Time) error
	})
	if !ok {
		return fmt.Errorf("connection %T cannot carry a keep-alive", conn)
	}
	_ = w.SetWriteDeadline(time.Now().Add(maxPingTimeout))
	defer func() { _ = w.SetWriteDeadline(time.Time{}) }()
	if _, err := w.Write([]byte(keepAlivePayload)); err != nil {
		return fmt.Errorf("write keep-alive: %w", err)
	}
	return nil
}
