package sip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// DialOption adjusts one outgoing call.
type DialOption func(*DialOptions)

// DialOptions are what DialOptions set for one call.
type DialOptions struct {
	// CallerID replaces the account's caller ID ("" keeps it).
	CallerID string
}

// NewDialOptions applies opts to the zero DialOptions.
func NewDialOptions(opts ...DialOption) DialOptions {
	var o DialOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithCallerID makes the callee see number instead of the account's caller
// ID (SPEC C3), presented as the account's CallerIDMode says. "" keeps the
// account's.
func WithCallerID(number string) DialOption {
	return func(o *DialOptions) { o.CallerID = strings.TrimSpace(number) }
}

// Dial starts an outgoing call to target: a telephone number (normalised by
// the account's dial plan) or a SIP URI. It returns at once with the call in
// state CallDialing; progress arrives as CallEvents.
func (p *Phone) Dial(target string, opts ...DialOption) (*Call, error) {
	if _, err := p.context(); err != nil {
		return nil, err
	}
	uri, err := p.targetURI(target)
	if err != nil {
		return nil, err
	}
	callerID, err := callerIDUser(NewDialOptions(opts...).CallerID)
	if err != nil {
		return nil, err
	}
	return p.dialURI(uri, nil, "", callerID)
}

// callerIDUser turns a caller ID as people write it ("+7 (495) 123-45-67")
// into a SIP user part ("+74951234567"); names such as "sales" pass as they are.
func callerIDUser(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	digits := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -().\t", r) {
			return -1
		}
		return r
	}, s)
	if strings.Trim(digits, "+0123456789") == "" {
		return digits, nil
	}
	if !isSIPUser(s) {
		return "", fmt.Errorf("caller ID %q: use a telephone number or a SIP user name", s)
	}
	return s, nil
}

// dialURI starts an outgoing call to uri with extra INVITE headers, as
// callerID ("" = the account's).
func (p *Phone) dialURI(uri gosip.Uri, extra []gosip.Header, referredBy, callerID string) (*Call, error) {
	// Counted in at once (the goroutine below leaves): a dial as the phone
	// shuts down is either refused or waited for, never cut off.
	ctx, err := p.enterCall()
	if err != nil {
		return nil, err
	}
	c := newCall(p, Outbound)
	c.remoteUser = uri.User
	c.remoteURI = uri.String()
	c.extraHeaders = extra
	c.referredBy = referredBy
	c.attrs = make(map[string]string)
	if callerID == "" {
		callerID = p.cfg.Account.CallerID
	}
	c.callerID = callerID
	if callerID != "" {
		c.attrs[AttrVirtualNumber] = callerID
	}
	p.addCall(c)
	c.setState(CallDialing, CallEvent{})
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
	d, err := c.newOutDialog(uri, "")
	if err != nil {
		c.end(CauseFailed, 0, err.Error())
		return
	}
	defer func() { _ = d.Close() }()

	inviteCtx, cancelInvite := context.WithCancel(ctx)
	defer cancelInvite()
	// provisional is set by a 1xx of the INVITE transaction in progress
	// (and cleared by a 401/407, after which sipgo sends a new INVITE);
	// gotProvisional wakes the hang-up goroutine below.
	var provisional atomic.Bool
	gotProvisional := make(chan struct{}, 1)
	go func() {
		// Hangup before the answer: cancelling the context makes sipgo send
		// CANCEL — which RFC 3261 §9.1 allows only after a provisional
		// response. Workaround for sipgo v1.7.3: WaitAnswer's inviteCancel
		// takes any earlier response as that proof, including the 407 of the
		// first INVITE, and then sends the CANCEL of the authenticated INVITE
		// before the proxy has its transaction; the proxy drops it unanswered
		// and sipgo waits 32 s for the CANCEL (with a background context) and
		// for the INVITE. So we cancel only once the current INVITE has a 1xx.
		select {
		case <-c.hangupCh:
		case <-inviteCtx.Done():
			return
		}
		for !provisional.Load() {
			select {
			case <-gotProvisional:
			case <-inviteCtx.Done():
				return
			}
		}
		if c.State() != CallActive && c.State() != CallHeld {
			cancelInvite()
		}
	}()

	var ringOnce sync.Once
	var earlySDP []byte
	onResponse := func(res *gosip.Response) error {
		switch {
		case res.IsProvisional():
			provisional.Store(true)
			select {
			case gotProvisional <- struct{}{}:
			default:
			}
		case res.StatusCode == 401 || res.StatusCode == 407:
			provisional.Store(false)
		}
		if cid := res.CallID(); cid != nil {
			c.mu.Lock()
			c.sipCallID = cid.Value()
			c.mu.Unlock()
		}
		if res.StatusCode == 180 || res.StatusCode == 183 {
			// RFC 3960 §3.1: a 183 with SDP brings early media, played
			// instead of our ringback tone.
			early := res.StatusCode == 183 && hasSDP(res)
			if early && !c.early.Load() {
				earlySDP = res.Body()
				c.early.Store(true)
			}
			c.setState(CallRinging, CallEvent{EarlyMedia: early})
			if !p.noRingback {
				ringOnce.Do(func() {
					p.wg.Add(1)
					go func() {
						defer p.wg.Done()
						c.ringback()
					}()
				})
			}
		}
		return nil
	}
	med, err := c.offer(inviteCtx, d, onResponse, &earlySDP)
	sdes := true
	if c.fallBackToPlain(err) {
		// The callee (or its proxy) refused our SRTP offer: offer plain RTP
		// in a new INVITE, from the plain transport (srtpDiagoOptions). The
		// user sees one call; its events and Info say it is not encrypted.
		code, _, _ := statusOf(err)
		p.log.Info("callee refused SRTP; offering plain RTP", "call", c.id, "code", code)
		_ = d.Close()
		provisional.Store(false)
		sdes = false
		if d, err = c.newOutDialog(uri, plainTransportID); err != nil {
			c.end(CauseFailed, 0, err.Error())
			return
		}
		med, err = c.offer(inviteCtx, d, onResponse, &earlySDP)
	}
	if err != nil && errors.Is(err, context.Canceled) && d.InviteResponse != nil && d.InviteResponse.IsSuccess() {
		c.endAnsweredOverCancel(ctx, d)
		return
	}
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
	if med != nil {
		if err := d.Ack(ctx); err != nil {
			c.end(CauseFailed, 0, fmt.Sprintf("ACK: %v", err))
			return
		}
	}
	c.early.Store(false)
	if cid := d.InviteRequest.CallID(); cid != nil {
		c.mu.Lock()
		c.sipCallID = cid.Value()
		c.mu.Unlock()
	}
	c.setDialogTags(d.InviteRequest, d.InviteResponse)
	answer := d.InviteResponse.Body()
	if len(answer) == 0 {
		answer = earlySDP // the 183's SDP is the answer (RFC 3261 §13.2.1)
	}
	c.setEncrypted(answer, sdes)
	answeredBy := uri.User
	if to := d.InviteResponse.To(); to != nil && to.Address.User != "" {
		answeredBy = to.Address.User
	}
	c.mu.Lock()
	running := c.pipe != nil
	c.mu.Unlock()
	if !running {
		if err := c.startMedia(med); err != nil {
			hctx, cancel := detachedTimeout(ctx, 5*time.Second)
			_ = d.Hangup(hctx)
			cancel()
			c.end(CauseFailed, 0, fmt.Sprintf("media: %v", err))
			return
		}
	}
	c.setState(CallActive, CallEvent{AnsweredBy: answeredBy})
	c.waitEnd(ctx, d.Context(), func(hctx context.Context) error { return d.Hangup(hctx) })
}

// newOutDialog makes the call's client dialog on the diago transport with
// the given ID ("" = the account's listening transport).
func (c *Call) newOutDialog(uri gosip.Uri, transportID string) (*diago.DialogClientSession, error) {
	p := c.p
	p.mu.Lock()
	dg := p.dg // the stack is rebuilt when the address moves (move.go)
	p.mu.Unlock()
	d, err := dg.NewDialog(uri, diago.NewDialogOptions{Transport: string(p.cfg.Account.Transport), TransportID: transportID})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.out = d
	c.mu.Unlock()
	return d, nil
}

// offer sends the INVITE of d and waits for the final answer; early media
// (183 with SDP, whose body is kept in *earlySDP) plays until then.
func (c *Call) offer(ctx context.Context, d *diago.DialogClientSession, onResponse func(*gosip.Response) error, earlySDP *[]byte) (*diago.DialogMedia, error) {
	acc := c.p.cfg.Account
	inviteOpts := diago.InviteClientOptions{
		Username:         acc.AuthUser,
		Password:         acc.Password,
		Headers:          append(c.p.inviteHeaders(c.callerID), c.extraHeaders...),
		OnResponse:       onResponse,
		EarlyMediaDetect: true,
	}
	if acc.Transport.webrtc() {
		// Answered, ACKed and its media pipe running (webrtc.go).
		return nil, c.inviteWebrtc(ctx, d, inviteOpts)
	}
	med, err := d.Invite(ctx, inviteOpts)
	if errors.Is(err, diago.ErrClientEarlyMedia) {
		// Play the early media until the answer, which reuses its RTP session.
		if merr := c.startMedia(med); merr != nil {
			c.p.log.Warn("early media", "call", c.id, "error", merr)
		}
		err = c.waitAnswerAfterEarly(ctx, d, med, *earlySDP, sipgo.AnswerOptions{
			Username:   acc.AuthUser,
			Password:   acc.Password,
			OnResponse: onResponse,
		})
	}
	return med, err
}

// fallBackToPlain reports whether an SRTPOptional call whose SRTP offer
// ended with err offers plain RTP next: the callee refused the offer
// (refusedSRTP), the user has not hung up, and no early media plays — a
// callee that sent early media took the SRTP offer, so its refusal is
// about something else.
func (c *Call) fallBackToPlain(err error) bool {
	code, _, ok := statusOf(err)
	if !ok || !refusedSRTP(code) || c.p.cfg.Account.SRTP != SRTPOptional || c.p.cfg.Account.Transport.webrtc() {
		return false
	}
	select {
	case <-c.hangupCh:
		return false
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pipe == nil
}

// endAnsweredOverCancel ends a call whose callee answered as our CANCEL
// crossed its 200 OK (RFC 3261 §9.1: the CANCEL then has no effect and the
// dialog is up at the far end; §15: ACK the 2xx, then BYE). sipgo's
// WaitAnswer returns the cancellation with that 200 in InviteResponse and
// sends neither, which left the callee in a silent call until its 2xx
// timed out 32 s later.
func (c *Call) endAnsweredOverCancel(ctx context.Context, d *diago.DialogClientSession) {
	if id, err := gosip.DialogIDFromResponse(d.InviteResponse); err == nil {
		d.ID = id
	}
	hctx, cancel := detachedTimeout(ctx, 5*time.Second)
	defer cancel()
	err := d.Ack(hctx)
	if err == nil {
		err = d.Hangup(hctx)
	}
	if err != nil {
		c.p.log.Warn("ending a call answered over our CANCEL", "call", c.id, "error", err)
	}
	c.end(CauseCancelled, 0, "cancelled (the answer crossed the CANCEL; hung up at once)")
}

// inviteHeaders returns From (with display name and caller ID), an outbound
// proxy Route (§8.1.2 pre-loaded route) and User-Agent. A callerID other
// than the account's user is presented as the account's CallerIDMode says.
func (p *Phone) inviteHeaders(callerID string) []gosip.Header {
	acc := p.cfg.Account
	host, port, _ := splitHostPort(acc.Domain)
	from := &gosip.FromHeader{
		DisplayName: acc.DisplayName,
		Address:     gosip.Uri{Scheme: "sip", User: acc.User, Host: host, Port: port},
		Params:      gosip.NewParams(),
	}
	hdrs := []gosip.Header{from, gosip.NewHeader("User-Agent", p.cfg.UserAgent)}
	if callerID != "" && callerID != acc.User {
		if acc.CallerIDMode == CallerIDIdentity {
			// RFC 3325 §9.1/§9.2: the PBX keeps or replaces these; From
			// stays the authenticated user.
			id := "<" + (&gosip.Uri{Scheme: "sip", User: callerID, Host: host, Port: port}).String() + ">"
			from.DisplayName = callerID
			hdrs = append(hdrs, gosip.NewHeader("P-Asserted-Identity", id), gosip.NewHeader("P-Preferred-Identity", id))
		} else {
			from.Address.User = callerID
		}
	}
	if proxy, port := p.outboundProxy(), defaultPort(acc.Transport); hostPortWithDefault(proxy, port) != hostPortWithDefault(acc.Domain, port) {
		ph, pp, _ := splitHostPort(proxy)
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

// waitAnswerAfterEarly waits for the final answer of an INVITE that brought
// early media.
//
// Workaround for diago v0.42.1: DialogClientSession.WaitAnswer applies the
// 2xx's SDP to the live media session in place (waitAnswer → applyRemoteSDP
// → DialogMedia.checkEarlyMedia → MediaSession.RemoteSDP), while the early
// media's RTP reader and writer use it: go test -race reports
// updateRemoteCodecs/SetRemoteAddr against CommonCodecs and ReadRTP
// (upstream dialog_media.go checkEarlyMedia; re-INVITEs avoid this with
// MediaSession.Fork and replaceRTPSessionUnsafe). We wait at the sipgo
// level instead and leave the session alone when the answer repeats the
// early SDP (the usual case: RFC 3261 §13.2.1 and RFC 3264 keep one answer
// per offer). Otherwise the new SDP is applied with our sender paused; the
// reader may still race with it, as in diago.
func (c *Call) waitAnswerAfterEarly(ctx context.Context, d *diago.DialogClientSession, med *diago.DialogMedia, early []byte, opts sipgo.AnswerOptions) error {
	if err := d.DialogClientSession.WaitAnswer(ctx, opts); err != nil {
		return err
	}
	body := d.InviteResponse.Body()
	if len(body) == 0 || sameSDP(body, early) {
		return nil
	}
	ms := med.MediaSession()
	if ms == nil {
		return errors.New("no media session")
	}
	c.mu.Lock()
	pipe := c.pipe
	c.mu.Unlock()
	if pipe != nil {
		pipe.sendMu.Lock()
		defer pipe.sendMu.Unlock()
	}
	return ms.RemoteSDP(body, true)
}

// sameSDP reports whether two session descriptions are equal but for the
// o= line (whose version a UA may bump without changing the session).
func sameSDP(a, b []byte) bool {
	norm := func(s []byte) []string {
		var out []string
		for _, l := range strings.Split(strings.ReplaceAll(string(s), "\r\n", "\n"), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "o=") {
				out = append(out, l)
			}
		}
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// hasSDP reports whether a response carries an SDP body.
func hasSDP(res *gosip.Response) bool {
	ct := res.ContentType()
	return ct != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp") && len(res.Body()) > 0
}

// ringback plays the local ringback tone on the audio device while the
// outgoing call rings without early media and no other call owns the device.
func (c *Call) ringback() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := make([]int16, FrameSamples)
	var n int
	for {
		select {
		case <-c.done:
			return
		case <-c.answered:
			return
		case <-tick.C:
		}
		ringbackFrame(frame, n)
		n += len(frame)
		if c.early.Load() || c.State() != CallRinging || c.p.activeCall() != nil {
			continue
		}
		c.p.audio.WriteFrame(frame)
	}
}

// Ringback tone (GOST 21655, ITU-T E.180 Suppl. 2 for Russia): 425 Hz,
// 1 s on, 4 s off.
const (
	ringbackHz    = 425
	ringbackOn    = 1 * SampleRate
	ringbackCycle = 5 * SampleRate
	ringbackLevel = 8000
)

// ringbackFrame fills dst with the ringback samples starting at sample n.
func ringbackFrame(dst []int16, n int) {
	for i := range dst {
		k := n + i
		if k%ringbackCycle >= ringbackOn {
			dst[i] = 0
			continue
		}
		dst[i] = int16(ringbackLevel * math.Sin(2*math.Pi*ringbackHz*float64(k)/SampleRate))
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
