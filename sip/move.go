package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// A phone listening on 0.0.0.0 still has to name one address in its
// Contact, its Via and its SDP: the machine's first IPv4 address, read
// when the SIP stack is built. sipgo fixes the client's Via host and diago
// fixes a transport's Contact and media address when they are made, so
// when a laptop changes networks the registrar would keep sending calls
// to an address that no longer exists. The phone therefore rebuilds its
// stack for the new address as soon as no call is up, registers the new
// Contact and removes the old binding.

// machineIP is the machine's address for Contact/Via/SDP: the one it
// sends from to reach the account's proxy (so with a VPN up, the tunnel's
// address when the PBX is behind it), else the first IPv4 address of an
// interface that is up.
func (p *Phone) machineIP() (net.IP, error) {
	ctx, cancel := context.WithTimeout(context.Background(), routeLookupTimeout)
	defer cancel()
	if ip, err := routeIP(ctx, p.cfg.Account.Proxy); err == nil {
		return ip, nil
	}
	return interfaceIP()
}

// routeLookupTimeout bounds the DNS lookup of the proxy's name. New
// builds the stack before the window shows, so a resolver that does not
// answer must not hold the start-up: past this the interface address is
// used, and a later network change looks again.
const routeLookupTimeout = 300 * time.Millisecond

// routeIP is the local IPv4 address the kernel picks to reach hostPort,
// read from a UDP socket "connected" to it: connecting a UDP socket only
// looks up the route, it sends nothing.
func routeIP(ctx context.Context, hostPort string) (net.IP, error) {
	host, _, err := splitHostPort(hostPort)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no IPv4 address", host)
	}
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: ips[0], Port: 5060})
	if err != nil {
		return nil, fmt.Errorf("route to %s: %w", host, err)
	}
	defer func() { _ = conn.Close() }()
	local, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || local.IP.IsUnspecified() {
		return nil, fmt.Errorf("route to %s: no local address", host)
	}
	return local.IP, nil
}

// interfaceIP is the first IPv4 address of an interface that is up, not
// loopback (sipgo's choice, the same diago makes for media).
func interfaceIP() (net.IP, error) {
	ip, _, err := gosip.ResolveInterfacesIP("ip4", nil)
	if err != nil {
		return nil, fmt.Errorf("resolve local IP: %w", err)
	}
	return ip, nil
}

// contactHost is the host for our Contact: the bind address, or the
// machine's address when we listen on all of them. With no network at
// all it is 127.0.0.1 until an address appears (then the stack moves).
func (p *Phone) contactHost() string {
	if ip := net.ParseIP(p.cfg.BindHost); !ip.IsUnspecified() {
		return p.cfg.BindHost
	}
	ip, err := p.localIP()
	if err != nil {
		p.log.Warn("no network address yet; waiting for one", "err", err)
		return "127.0.0.1"
	}
	return ip.String()
}

// addressMoved reports whether the machine's address is no longer the one
// in our Contact.
func (p *Phone) addressMoved() bool {
	p.mu.Lock()
	cur := p.contact.Host
	p.mu.Unlock()
	return p.contactHost() != cur
}

// moveIdlePoll is how often a pending move checks whether the calls ended.
const moveIdlePoll = 500 * time.Millisecond

// moveWhenIdle waits until no call is up and reports whether the address
// has moved then; false when it has not or ctx ended first. A call in
// progress keeps the stack it was made on: the move waits for its end.
func (p *Phone) moveWhenIdle(ctx context.Context) bool {
	if !p.addressMoved() {
		return false
	}
	for len(p.Calls()) > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(moveIdlePoll):
		}
	}
	return p.addressMoved()
}

// rebuild closes the stack Run has stopped serving and builds a new one
// for the machine's current address, on the same port.
func (p *Phone) rebuild() error {
	p.mu.Lock()
	old, from := p.ua, p.laddr
	p.mu.Unlock()
	if err := old.Close(); err != nil {
		p.log.Debug("closing the previous SIP stack", "err", err)
	}
	p.mu.Lock()
	err := p.build()
	to := p.laddr
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("rebuild the SIP stack: %w", err)
	}
	p.log.Info("network address changed; SIP stack rebuilt", "from", from, "to", to)
	return nil
}

// listenRetry is how long listen keeps trying while the previous stack's
// sockets on the same port are still closing.
const listenRetry = 3 * time.Second

// listen starts diago's listeners; they live until listenCtx ends.
func (p *Phone) listen(ctx, listenCtx context.Context) error {
	p.mu.Lock()
	dg, tp, laddr := p.dg, p.ua.TransportLayer(), p.laddr
	p.mu.Unlock()
	deadline := time.Now().Add(listenRetry)
	for {
		err := dg.ServeBackground(listenCtx, p.serveInvite)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("listen %s/%s: %w", p.cfg.Account.Transport, laddr, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if p.cfg.Account.Transport == TransportUDP {
		return waitUDPListener(ctx, tp, laddr)
	}
	return nil
}
