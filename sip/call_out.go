package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/diago"
	gosip "github.com/emiago/sipgo/sip"
)

// Dial starts an outgoing call to target: a telephone number (normalised by
// the account's dial plan) or a SIP URI. It returns at once with the call in
// state CallDialing; progress arrives as CallEvents.
func (p *Phone) Dial(target string) (*Call, error) {
	ctx, err := p.context()
	if err != nil {
		return nil, err
	}
	uri, err := p.targetURI(target)
	if err != nil {
		return nil, err
	}
	c := newCall(p, Outbound)
	c.remoteUser = uri.User
	c.remoteURI = uri.String()
	p.addCall(c)
	c.setState(CallDialing, CallEvent{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.runOutbound(ctx, uri)
	}()
	return c, nil
}

// targetURI turns a number or SIP URI into the Request-URI.
func (p *Phone) targetURI(target string) (gosip.Uri, error) {
	target = strings.TrimSpace(target)
	var uri gosip.Uri
	if strings.Contains(target, "@") || strings.HasPrefix(strings.ToLower(target), "sip:") {
		if !strings.HasPrefix(strings.ToLower(target), "sip:") {
			target = "sip:" + target
		}
		if err := gosip.ParseUri(target, &uri); err != nil {
			return uri, fmt.Errorf("target %q: %w", target, err)
		}
		return uri, nil
	}
	number, err := NormalizeNumber(target, p.cfg.Account.DialPlan)
	if err != nil {
		// Not a telephone number: a SIP user name such as "alice" (RFC 3261 §25.1 user).
		if !isSIPUser(target) {
			return uri, err
		}
		number = target
	}
	host, port, _ := splitHostPort(p.cfg.Account.Domain)
	return gosip.Uri{Scheme: "sip", User: number, Host: host, Port: port}, nil
}

// runOutbound sends the INVITE (RFC 3261 §13.2), waits for the answer, runs
// media and waits for the end of the call.
func (c *Call) runOutbound(ctx context.Context, uri gosip.Uri) {
	p := c.p
	acc := p.cfg.Account
	d, err := p.dg.NewDialog(uri, diago.NewDialogOptions{Transport: string(acc.Transport)})
	if err != nil {
		c.end(CauseFailed, 0, err.Error())
		return
	}
	defer func() { _ = d.Close() }()
	c.mu.Lock()
	c.out = d
	c.mu.Unlock()

	inviteCtx, cancelInvite := context.WithCancel(ctx)
	defer cancelInvite()
	go func() {
		// Hangup before the answer: cancelling the context makes sipgo send CANCEL (§9.1).
		select {
		case <-c.hangupCh:
			if c.State() != CallActive && c.State() != CallHeld {
				cancelInvite()
			}
		case <-inviteCtx.Done():
		}
	}()

	med, err := d.Invite(inviteCtx, diago.InviteClientOptions{
		Username: acc.AuthUser,
		Password: acc.Password,
		Headers:  p.inviteHeaders(),
		OnResponse: func(res *gosip.Response) error {
			if cid := res.CallID(); cid != nil {
				c.mu.Lock()
				c.sipCallID = cid.Value()
				c.mu.Unlock()
			}
			if res.StatusCode == 180 || res.StatusCode == 183 {
				c.setState(CallRinging, CallEvent{})
			}
			return nil
		},
	})
	if err != nil {
		code, reason, ok := statusOf(err)
		switch {
		case ok:
			c.end(causeFromStatus(code), code, reason)
		case errors.Is(err, context.Canceled) && ctx.Err() == nil:
			c.end(CauseCancelled, 0, "cancelled")
		case ctx.Err() != nil:
			c.end(CauseShutdown, 0, "shutdown")
		default:
			c.end(CauseFailed, 0, err.Error())
		}
		return
	}
	if err := d.Ack(ctx); err != nil {
		c.end(CauseFailed, 0, fmt.Sprintf("ACK: %v", err))
		return
	}
	if cid := d.InviteRequest.CallID(); cid != nil {
		c.mu.Lock()
		c.sipCallID = cid.Value()
		c.mu.Unlock()
	}
	answeredBy := uri.User
	if to := d.InviteResponse.To(); to != nil && to.Address.User != "" {
		answeredBy = to.Address.User
	}
	if err := c.startMedia(med); err != nil {
		hctx, cancel := detachedTimeout(ctx, 5*time.Second)
		_ = d.Hangup(hctx)
		cancel()
		c.end(CauseFailed, 0, fmt.Sprintf("media: %v", err))
		return
	}
	c.setState(CallActive, CallEvent{AnsweredBy: answeredBy})
	c.waitEnd(ctx, d.Context(), func(hctx context.Context) error { return d.Hangup(hctx) })
}

// inviteHeaders returns From (with display name and caller ID), an outbound
// proxy Route (§8.1.2 pre-loaded route) and User-Agent.
func (p *Phone) inviteHeaders() []gosip.Header {
	acc := p.cfg.Account
	host, port, _ := splitHostPort(acc.Domain)
	user := acc.User
	if acc.CallerID != "" {
		user = acc.CallerID
	}
	from := &gosip.FromHeader{
		DisplayName: acc.DisplayName,
		Address:     gosip.Uri{Scheme: "sip", User: user, Host: host, Port: port},
		Params:      gosip.NewParams(),
	}
	hdrs := []gosip.Header{from, gosip.NewHeader("User-Agent", p.cfg.UserAgent)}
	if hostPortWithDefault(acc.Proxy, 5060) != hostPortWithDefault(acc.Domain, 5060) {
		ph, pp, _ := splitHostPort(acc.Proxy)
		route := gosip.Uri{Scheme: "sip", Host: ph, Port: pp, UriParams: gosip.NewParams()}
		route.UriParams.Add("lr", "")
		hdrs = append(hdrs, &gosip.RouteHeader{Address: route})
	}
	return hdrs
}

// waitEnd blocks until the dialog ends (remote BYE), Hangup is called or
// the phone shuts down, then ends the call with the matching cause.
func (c *Call) waitEnd(ctx, dialogCtx context.Context, hangup func(context.Context) error) {
	select {
	case <-dialogCtx.Done():
		c.end(CauseRemoteHangup, 0, "")
	case <-c.hangupCh:
		hctx, cancel := detachedTimeout(ctx, 10*time.Second)
		err := hangup(hctx)
		cancel()
		if err != nil {
			c.p.log.Warn("BYE failed", "call", c.id, "error", err)
		}
		cause := CauseLocalHangup
		if ctx.Err() != nil {
			cause = CauseShutdown
		}
		c.end(cause, 0, "")
	case <-ctx.Done():
		hctx, cancel := detachedTimeout(ctx, 5*time.Second)
		_ = hangup(hctx)
		cancel()
		c.end(CauseShutdown, 0, "")
	}
}

// isSIPUser reports whether s is a plain SIP user part made of unreserved characters.
func isSIPUser(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.!~*'()&=+$,;?/", r):
		default:
			return false
		}
	}
	return true
}
