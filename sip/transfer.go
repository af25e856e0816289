package sip

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/emiago/diago"
	gosip "github.com/emiago/sipgo/sip"
)

// Call transfer (RFC 3515 REFER, RFC 5589 call control transfer) in all
// three roles:
//
//   - transferor: [Call.Transfer] (blind) and [Call.AttendedTransfer]
//     (REFER whose Refer-To carries Replaces, RFC 3891 §5);
//   - transferee: a REFER received inside a call makes the phone call the
//     Refer-To target itself (handleRefer), reporting progress with NOTIFY;
//   - transfer target: an INVITE with a Replaces header takes the place of
//     the matching call without ringing (serveInvite → replacedCall).

// transferTimeout bounds a transfer from REFER to the final NOTIFY.
const transferTimeout = 60 * time.Second

// Transfer hands the answered call to target (a number or SIP URI) with a
// blind transfer: REFER (RFC 3515) and, once the target answers
// (NOTIFY 200, RFC 3515 §2.4.5), BYE. It blocks until the transfer
// succeeded or failed, or ctx ends. The call then ends with
// CauseTransferred and [CallEvent.TransferTarget] set.
func (c *Call) Transfer(ctx context.Context, target string) error {
	if err := c.canTransfer(); err != nil {
		return err
	}
	uri, err := c.p.targetURI(target)
	if err != nil {
		return err
	}
	return c.refer(ctx, uri, "", nil)
}

// AttendedTransfer connects the remote party of c with the remote party of
// consult, our call to the transfer target, and leaves both calls (RFC 5589
// §7): the REFER sent in c names the target with a Replaces parameter for
// the consult dialog, so the target swaps our consult call for the new one
// from c's remote party. Put c on hold before dialling the consult call
// (or use the automatic hold of [Call.Answer] and [Call.Resume]). It blocks
// until the transferee reports the result. Both calls then end with
// CauseTransferred and the target's URI in [CallEvent.TransferTarget].
func (c *Call) AttendedTransfer(ctx context.Context, consult *Call) error {
	if consult == nil || consult == c || consult.p != c.p {
		return fmt.Errorf("%w: consult call must be another call of this phone", ErrCallState)
	}
	if err := c.canTransfer(); err != nil {
		return err
	}
	if err := consult.canTransfer(); err != nil {
		return fmt.Errorf("consult call: %w", err)
	}
	callID, local, remote := consult.dialogIDs()
	if callID == "" || local == "" || remote == "" {
		return fmt.Errorf("%w: consult dialog is not established", ErrCallState)
	}
	var uri gosip.Uri
	if err := gosip.ParseUri(consult.remoteURI, &uri); err != nil {
		return fmt.Errorf("consult call target %q: %w", consult.remoteURI, err)
	}
	// RFC 3891 §3: to-tag and from-tag are as seen by the target, whose
	// local tag is our remote tag.
	replaces := fmt.Sprintf("%s;to-tag=%s;from-tag=%s", callID, remote, local)
	return c.refer(ctx, uri, replaces, consult)
}

func (c *Call) canTransfer() error {
	switch st := c.State(); st {
	case CallActive, CallHeld:
		return nil
	case CallEnded:
		return ErrCallEnded
	default:
		return fmt.Errorf("%w: call is %s", ErrCallState, st)
	}
}

// refer sends REFER to the remote party of c and waits for the final NOTIFY.
func (c *Call) refer(ctx context.Context, target gosip.Uri, replaces string, consult *Call) error {
	c.mu.Lock()
	out, in := c.out, c.in
	c.mu.Unlock()
	target.Headers = nil
	referTo := "<" + target.String()
	if replaces != "" {
		referTo += "?Replaces=" + url.QueryEscape(replaces)
	}
	referTo += ">"
	// diago v0.42.1 fills Referred-By (RFC 3892) from the 2xx's Contact,
	// which on an outgoing call is the remote party's, not ours
	// (dialog_client_session.go ReferOptions); name ourselves instead.
	hdrs := []gosip.Header{
		gosip.NewHeader("Refer-To", referTo),
		gosip.NewHeader("Referred-By", "<"+c.p.aorString()+">"),
	}

	notify := make(chan int, 8)
	onNotify := func(code int) {
		select {
		case notify <- code:
		default:
		}
	}
	ctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	label := target.String()
	if consult != nil {
		// The target may hang up the consult call (RFC 3891 §3) before the
		// transferee's NOTIFY 200 reaches us: mark it as transferred now,
		// and undo that if the transfer fails.
		consult.transferredTo.Store(label)
	}
	ok := false
	defer func() {
		if !ok && consult != nil {
			consult.transferredTo.Store("")
		}
	}()
	var err error
	switch {
	case out != nil:
		err = out.ReferOptions(ctx, target, diago.ReferClientOptions{OnNotify: onNotify, Headers: hdrs})
	case in != nil:
		err = in.ReferOptions(ctx, target, diago.ReferServerOptions{OnNotify: onNotify, Headers: hdrs})
	default:
		return fmt.Errorf("%w: no dialog", ErrCallState)
	}
	if err != nil {
		if code, reason, found := statusOf(err); found {
			return fmt.Errorf("transfer to %s: REFER answered %d %s", label, code, reason)
		}
		return fmt.Errorf("transfer to %s: %w", label, err)
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("transfer to %s: %w", label, ctx.Err())
		case <-c.done:
			// The transferee hung up before its final NOTIFY: some user
			// agents do once they have called the target. Treated as done.
			ok = true
			return nil
		case code := <-notify:
			switch {
			case code < 200:
				continue
			case code < 300:
				ok = true
				c.transferredTo.Store(label)
				c.hangupOnce.Do(func() { close(c.hangupCh) })
				if consult != nil {
					// The target ends the replaced dialog with BYE (RFC 3891 §3);
					// if it does not, we do.
					go func() {
						select {
						case <-consult.done:
						case <-time.After(10 * time.Second):
							consult.hangupOnce.Do(func() { close(consult.hangupCh) })
						}
					}()
				}
				return nil
			default:
				return fmt.Errorf("transfer to %s failed: %d", label, code)
			}
		}
	}
}

// handleRefer is the transferee side: a REFER inside one of our calls
// (RFC 3515 §2.4.2). It replaces diago v0.42.1's handler, which takes a
// Replaces header from the REFER request itself instead of from the
// Refer-To URI (RFC 3891 §5, RFC 5589 §7) and leaves the new call outside
// our Call bookkeeping.
func (p *Phone) handleRefer(req *gosip.Request, tx gosip.ServerTransaction) {
	respond := func(code int, reason string) {
		_ = tx.Respond(gosip.NewResponseFromRequest(req, code, reason, nil))
	}
	call := p.callForRequest(req)
	if call == nil {
		respond(481, "Call/Transaction Does Not Exist")
		return
	}
	if st := call.State(); st != CallActive && st != CallHeld {
		respond(481, "Call/Transaction Does Not Exist")
		return
	}
	hdrs := req.GetHeaders("Refer-To")
	if len(hdrs) != 1 {
		respond(400, "Bad Request") // RFC 3515 §2.4.1: exactly one Refer-To
		return
	}
	uri, replaces, code := parseReferTo(hdrs[0].Value())
	if code != 0 {
		respond(code, map[int]string{400: "Bad Request", 416: "Unsupported URI Scheme"}[code])
		return
	}
	var referredBy string
	if h := req.GetHeader("Referred-By"); h != nil {
		referredBy = h.Value()
	}
	if _, err := p.enterCall(); err != nil {
		respond(480, "Temporarily Unavailable") // shutting down
		return
	}
	respond(202, "Accepted")
	go func() {
		defer p.wg.Done()
		call.followRefer(uri, replaces, referredBy)
	}()
}

// followRefer calls the Refer-To target and reports its progress to the
// transferor with NOTIFY (RFC 3515 §2.4.4–2.4.5).
func (c *Call) followRefer(target gosip.Uri, replaces, referredBy string) {
	p := c.p
	notify := func(code int, reason, state string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		body := fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)
		err := c.inDialog(ctx, gosip.NOTIFY, []byte(body),
			gosip.NewHeader("Event", "refer"),
			gosip.NewHeader("Subscription-State", state),
			gosip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
		if err != nil {
			p.log.Warn("REFER NOTIFY failed", "call", c.id, "code", code, "error", err)
		}
	}
	notify(100, "Trying", "active;expires=60")

	var extra []gosip.Header
	if referredBy != "" {
		extra = append(extra, gosip.NewHeader("Referred-By", referredBy))
	}
	if replaces != "" {
		extra = append(extra, gosip.NewHeader("Replaces", replaces))
	}
	nc, err := p.dialURI(target, extra, referredBy, "")
	if err != nil {
		notify(503, "Service Unavailable", "terminated;reason=noresource")
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-nc.answered:
		case <-nc.done:
		}
	}()
	select {
	case <-done:
	case <-time.After(transferTimeout):
		_ = nc.Hangup()
	}
	select {
	case <-nc.answered:
		// The remote party may hang up the old call right after this NOTIFY.
		c.transferredTo.Store(target.String())
		notify(200, "OK", "terminated;reason=noresource")
		return
	default:
	}
	<-nc.done
	code, reason := nc.Info().SIPCode, "Call Failed"
	if code < 300 {
		code, reason = 503, "Service Unavailable"
	}
	notify(code, reason, "terminated;reason=noresource")
}

// inDialog sends a request inside the call's dialog and checks for 2xx.
func (c *Call) inDialog(ctx context.Context, method gosip.RequestMethod, body []byte, hdrs ...gosip.Header) error {
	c.mu.Lock()
	out, in := c.out, c.in
	c.mu.Unlock()
	var contact *gosip.ContactHeader
	switch {
	case out != nil:
		contact = out.RemoteContact()
	case in != nil:
		contact = in.RemoteContact()
	}
	if contact == nil {
		return errors.New("no remote contact")
	}
	req := gosip.NewRequest(method, contact.Address)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if body != nil {
		req.SetBody(body)
	}
	var res *gosip.Response
	var err error
	if out != nil {
		res, err = out.Do(ctx, req)
	} else {
		res, err = in.Do(ctx, req)
	}
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("%s answered %d %s", method, res.StatusCode, res.Reason)
	}
	return nil
}

// dialogIDs returns the SIP Call-ID and our and the remote party's tags
// once the call is answered.
func (c *Call) dialogIDs() (callID, local, remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sipCallID, c.localTag, c.remoteTag
}

// setDialogTags records the dialog's tags from the INVITE and its 2xx.
func (c *Call) setDialogTags(inv *gosip.Request, res *gosip.Response) {
	if inv == nil || res == nil {
		return
	}
	var fromTag, toTag string
	if f := inv.From(); f != nil {
		fromTag, _ = f.Params.Get("tag")
	}
	if t := res.To(); t != nil {
		toTag, _ = t.Params.Get("tag")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == Outbound {
		c.localTag, c.remoteTag = fromTag, toTag
	} else {
		c.localTag, c.remoteTag = toTag, fromTag
	}
}

// callForRequest finds the call whose dialog an in-dialog request belongs to.
func (p *Phone) callForRequest(req *gosip.Request) *Call {
	cid := req.CallID()
	if cid == nil {
		return nil
	}
	var fromTag, toTag string
	if f := req.From(); f != nil {
		fromTag, _ = f.Params.Get("tag")
	}
	if t := req.To(); t != nil {
		toTag, _ = t.Params.Get("tag")
	}
	for _, c := range p.Calls() {
		id, local, remote := c.dialogIDs()
		if id == cid.Value() && local == toTag && remote == fromTag {
			return c
		}
	}
	return nil
}

// replacedCall finds the call named by a Replaces header value (RFC 3891
// §3): Call-ID, to-tag (our tag) and from-tag (the remote tag). Only
// confirmed calls are replaced; "early-only" and early dialogs are refused.
func (p *Phone) replacedCall(value string) *Call {
	callID, toTag, fromTag, ok := parseReplaces(value)
	if !ok {
		return nil
	}
	for _, c := range p.Calls() {
		id, local, remote := c.dialogIDs()
		if id != "" && id == callID && local == toTag && remote == fromTag {
			if st := c.State(); st == CallActive || st == CallHeld {
				return c
			}
		}
	}
	return nil
}

// ReferredBy is the Referred-By of a transferred call (RFC 3892): for an
// incoming call, who transferred the caller to us; for an outgoing call
// made because of a REFER, the party that asked us to make it. Empty
// otherwise.
func (c *Call) ReferredBy() string { return c.referredBy }

// Replaces is the ID of the call this incoming call replaced (we were the
// target of an attended transfer), or "".
func (c *Call) Replaces() string {
	if c.replaces == nil {
		return ""
	}
	return c.replaces.id
}

// parseReplaces splits a Replaces header value (RFC 3891 §6.1) into the
// Call-ID and tags; ok is false for "early-only", which we never honour.
func parseReplaces(value string) (callID, toTag, fromTag string, ok bool) {
	parts := strings.Split(value, ";")
	callID = strings.TrimSpace(parts[0])
	for _, prm := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(prm), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = v
		case "from-tag":
			fromTag = v
		case "early-only":
			return "", "", "", false
		}
	}
	return callID, toTag, fromTag, callID != ""
}

// parseReferTo reads a Refer-To value (RFC 3515 §2.1): the SIP URI to call,
// without its headers, and the Replaces it carries (RFC 3891 §5), or the
// status code to refuse the REFER with (400, 416 for a non-SIP URI).
func parseReferTo(value string) (gosip.Uri, string, int) {
	var uri gosip.Uri
	params := gosip.NewParams()
	if _, err := gosip.ParseAddressValue(value, &uri, &params); err != nil {
		return uri, "", 400
	}
	if s := strings.ToLower(uri.Scheme); s != "sip" && s != "sips" {
		return uri, "", 416
	}
	var replaces string
	if uri.Headers != nil {
		for _, k := range uri.Headers.Keys() {
			if strings.EqualFold(k, "Replaces") {
				v, _ := uri.Headers.Get(k)
				if u, err := url.QueryUnescape(v); err == nil {
					v = u
				}
				replaces = v
			}
		}
	}
	uri.Headers = nil
	return uri, replaces, 0
}
