package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// routeFixRequester sits between sipgo's Client and its transaction layer
// (as sipgo.Client.TxRequester) and corrects where requests are sent.
//
// Workaround for diago v0.42.1 / sipgo v1.7.3: a re-INVITE sent by
// DialogClientSession.Hold/Unhold/ReInvite (and DialogServerSession.reInviteDo)
// goes straight to the peer's Contact from a new ephemeral socket, skipping
// the proxy. Cause: reInviteDo calls d.Do(ctx, req.Clone()); sipgo's
// cloneRequest calls SetDestination(req.Destination()) before the dialog's
// buildReq adds the Route headers from Record-Route, so the destination is
// pinned to the Request-URI (the remote Contact); and the dialog request path
// (requestValidate) never sets Request.Laddr, so UDP opens a new socket.
// See shared/reference/feasibility-sip.md §4.3 bug 1; upstream
// github.com/emiago/diago dialog_client_session.go reInviteDo and
// github.com/emiago/sipgo sip/request.go cloneRequest.
//
// RFC 3261 §12.2.1.1 and §8.1.2: with a route set whose first URI is a loose
// router, the request goes to that URI. RFC 3581 / symmetric signalling: it
// leaves from the socket we listen on, so responses and the Via sent-by match.
type routeFixRequester struct {
	tx    *gosip.TransactionLayer
	tp    *gosip.TransportLayer
	laddr gosip.Addr // our UDP listening address; zero for TCP
}

// Request implements sipgo.ClientTransactionRequester.
func (r *routeFixRequester) Request(ctx context.Context, req *gosip.Request) (gosip.ClientTransaction, error) {
	r.fix(req)
	if req.IsAck() {
		// sipgo's Client.WriteRequest comes here for ACK: no transaction (RFC 3261 §17.1.1.3).
		return nil, r.tp.WriteMsg(req)
	}
	tx, err := r.tx.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

func (r *routeFixRequester) fix(req *gosip.Request) {
	if route := req.Route(); route != nil && route.Address.UriParams.Has("lr") {
		port := route.Address.Port
		if port == 0 {
			port = gosip.DefaultPort(req.Transport())
		}
		dest := net.JoinHostPort(route.Address.Host, strconv.Itoa(port))
		if req.Destination() != dest {
			req.SetDestination(dest)
		}
	}
	if r.laddr.IP != nil && req.Laddr.IP == nil && gosip.NetworkToLower(req.Transport()) == "udp" {
		r.laddr.Copy(&req.Laddr)
	}
}

// freePort finds a port free for both UDP and TCP on host. Another process
// may take it before we bind; New reports that as a bind error.
func freePort(host string) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("probe free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		_ = l.Close()
		if err != nil {
			continue
		}
		_ = u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both UDP and TCP on %s", host)
}

// waitUDPListener waits until sipgo has put our UDP listening socket in its
// connection pool.
//
// Workaround for sipgo v1.7.3: the ListenReady callback (and so diago's
// ServeBackground) returns before the UDP connection is added to the pool; a
// request sent at once with a fixed local address then tries to bind the port
// a second time and fails with "address already in use"
// (feasibility-sip.md §4.3 bug 2).
func waitUDPListener(ctx context.Context, tp *gosip.TransportLayer, laddr string) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		pool := tp.Pool("udp")
		if pool != nil {
			if c := pool.Get(laddr); c != nil {
				_, _ = c.TryClose()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("UDP listener %s did not become ready", laddr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
