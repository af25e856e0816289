package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	gosip "github.com/emiago/sipgo/sip"
)

// serveInvite handles a new incoming INVITE (RFC 3261 §13.3). diago calls
// it on its own goroutine and hangs the dialog up when it returns; the
// shutdown waits for it (enterCall).
func (p *Phone) serveInvite(d *diago.DialogServerSession) {
	ctx, err := p.enterCall()
	if err != nil {
		_ = d.Respond(503, "Service Unavailable", nil)
		return
	}
	defer p.wg.Done()
	if len(p.Calls()) >= p.cfg.Hardening.MaxCalls {
		// Flood protection: calls are not created without bound.
		_ = d.Respond(486, "Busy Here", nil)
		return
	}
	c := newCall(p, Inbound)
	req := d.InviteRequest
	if from := req.From(); from != nil {
		c.remoteUser = from.Address.User
		c.remoteName = from.DisplayName
		c.remoteURI = from.Address.String()
	}
	if cid := req.CallID(); cid != nil {
		c.sipCallID = cid.Value()
	}
	c.invHeaders = make(map[string][]string)
	for _, h := range req.Headers() {
		k := strings.ToLower(h.Name())
		c.invHeaders[k] = append(c.invHeaders[k], h.Value())
	}
	c.attrs = callAttributes(p.cfg, c.invHeaders)
	if h := req.GetHeader("Referred-By"); h != nil {
		c.referredBy = h.Value()
	}
	c.mu.Lock()
	c.in = d
	c.mu.Unlock()

	_ = d.Trying()
	checkOffer := func(sdp []byte) error { return offerMatchesSRTP(sdp, p.cfg.Account.SRTP) }
	if p.cfg.Account.Transport.webrtc() {
		checkOffer = offerIsWebrtc
	}
	if err := checkOffer(req.Body()); err != nil {
		p.log.Info("incoming call refused", "call", c.sipCallID, "reason", err)
		_ = d.Respond(488, "Not Acceptable Here", nil)
		return
	}
	if h := req.GetHeader("Replaces"); h != nil {
		// RFC 3891 §3: we are the target of an attended transfer; the new
		// call takes the matching call's place at once, without ringing.
		old := p.replacedCall(h.Value())
		if old == nil {
			_ = d.Respond(481, "Call/Transaction Does Not Exist", nil)
			return
		}
		c.replaces = old
		p.addCall(c)
	} else if !c.ring(ctx, d) {
		return
	}

	if err := c.answerMedia(ctx, d); err != nil {
		if errors.Is(err, errCallerGone) {
			c.setState(CallActive, CallEvent{AnsweredBy: p.cfg.Account.User})
			c.end(CauseRemoteHangup, 0, "")
			return
		}
		c.end(CauseFailed, 0, err.Error())
		return
	}
	c.setDialogTags(d.InviteRequest, d.InviteResponse)
	c.setEncrypted(req.Body(), true)
	answeredBy := p.cfg.Account.User
	c.setState(CallActive, CallEvent{AnsweredBy: answeredBy})
	if old := c.replaces; old != nil {
		old.replacedBy.Store(c.id)
		old.hangupOnce.Do(func() { close(old.hangupCh) })
	} else if !p.noAutoHold {
		// Call waiting: the call we left goes on hold. The new call already
		// has the audio device, and its caller must not wait for the re-INVITE.
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.holdOthers(ctx, c)
		}()
	}
	c.waitEnd(ctx, d.Context(), func(hctx context.Context) error { return d.Hangup(hctx) })
}

// errCallerGone: the caller hung up as we answered and its BYE overtook
// its ACK — sipgo hands each request to a goroutine of its own, so the BYE
// can end the dialog while our 200 still waits for the ACK ("No ACK
// received"). The call was answered and the caller ended it. The ACK may
// still be handled after the BYE and set sipgo v1.7.3's dialog state back
// from "ended" to "confirmed" (Dialog.setState takes any transition), so
// the dialog's context, which only ending cancels, is what tells.
var errCallerGone = errors.New("the caller hung up as the call was answered")

// errNoAck: the caller's ACK to our 200 did not come within 64*T1; the
// call ends with a BYE (RFC 3261 §13.3.1.4).
var errNoAck = errors.New("no ACK from the caller for our 200 OK (RFC 3261 §13.3.1.4): the call was ended with BYE")

// closeAckWait is how long a hang-up (also Close's) waits for the
// caller's ACK to our 200 before the BYE goes without it. RFC 3261 §15
// says a callee sends BYE only after the ACK or once its 2xx
// retransmissions time out (64*T1 = 32 s): far too long to keep an app
// from quitting. 3 s covers the 2xx retransmissions over UDP at 0.5, 1 and
// 2 s (§13.3.1.4) and an ACK's usual round trip through a PBX; a caller
// whose ACK takes longer is very likely gone, and a BYE is still better
// for it than a call nobody ends.
const closeAckWait = 3 * time.Second

// answerMedia answers with our SDP and starts the media pipe: WebRTC for
// a WebSocket account (webrtc.go), else plain RTP or SDES-SRTP. The answer
// returns once the caller's ACK has come, or closeAckWait after a hang-up.
func (c *Call) answerMedia(ctx context.Context, d *diago.DialogServerSession) error {
	stopConfirm := c.confirmWithoutAck(d)
	answer := func() (func() error, error) {
		med, err := d.Answer(diago.AnswerOptions{})
		return func() error { return c.startMedia(med) }, err
	}
	if c.p.cfg.Account.Transport.webrtc() {
		answer = func() (func() error, error) { return c.answerWebrtc(d) }
	}
	startMedia, err := answer()
	noAck := stopConfirm()
	if err != nil && d.Context().Err() != nil {
		return errCallerGone
	}
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if noAck {
		return endAnswered(ctx, d, errNoAck)
	}
	if err := startMedia(); err != nil {
		return endAnswered(ctx, d, fmt.Errorf("media: %w", err))
	}
	return nil
}

// endAnswered hangs up an answered (confirmed) call that cannot go on, with
// a BYE, and returns why with the BYE's own failure, if any.
func endAnswered(ctx context.Context, d *diago.DialogServerSession, why error) error {
	hctx, cancel := detachedTimeout(ctx, 5*time.Second)
	defer cancel()
	return errors.Join(why, d.Hangup(hctx))
}

// confirmWithoutAck ends the wait of an answer for the caller's ACK when
// none comes: closeAckWait after the call was hung up (Hangup, Close), so
// that its BYE goes out then, or at the latest the phone's noAckWait
// (64*T1) after the answer, when RFC 3261 §13.3.1.4 says "the dialog is
// confirmed, but the session SHOULD be terminated ... with a BYE". The
// returned func stops it once the answer has returned and reports whether
// the answer gave up on the ACK without a hang-up (errNoAck).
//
// Workaround for sipgo v1.7.3 / diago v0.42.1: DialogServerSession's
// answer (WriteResponse, through diago's answerSession, whose comment asks
// "How to let caller to cancel this?") waits for the ACK and nothing but
// an ACK ends the wait: the invite transaction it would need is
// unexported, and its own 64*T1 timer never fires (it is made anew on
// every turn of the loop that retransmits the 200 every 4 s), so after
// ~32 s the answer failed on the dead transaction, with no BYE (no
// upstream issue for that timer yet; the 2xx retransmission loop itself
// came with emiago/sipgo#227 and the fix of #285). So we
// hand the dialog the ACK sipgo's ReadAck matches (CSeq of the INVITE),
// which confirms it. A real ACK arriving as well changes nothing (the
// state is already confirmed).
func (c *Call) confirmWithoutAck(d *diago.DialogServerSession) (stop func() (noAck bool)) {
	answered := make(chan struct{})
	var (
		wg    sync.WaitGroup
		noAck bool
	)
	confirm := func(why string, waited time.Duration) {
		c.p.log.Warn("no ACK for our 200 "+why+"; sending BYE without it", "call", c.id, "waited", waited)
		if err := d.DialogServerSession.ReadAck(localAck(d.InviteRequest), nil); err != nil {
			c.p.log.Warn("confirm the dialog without ACK", "call", c.id, "error", err)
		}
	}
	wg.Go(func() {
		limit := time.NewTimer(c.p.noAckWait)
		defer limit.Stop()
		select {
		case <-answered:
			return
		case <-limit.C:
			noAck = true
			confirm("within 64*T1", c.p.noAckWait)
			return
		case <-c.hangupCh:
		}
		timer := time.NewTimer(closeAckWait)
		defer timer.Stop()
		select {
		case <-answered:
		case <-timer.C:
			confirm("before the hang-up", closeAckWait)
		}
	})
	return func() bool {
		close(answered)
		wg.Wait()
		return noAck
	}
}

// localAck is the ACK sipgo's DialogServerSession.ReadAck takes for the
// 2xx to invite: it matches the INVITE's CSeq only.
func localAck(invite *gosip.Request) *gosip.Request {
	ack := gosip.NewRequest(gosip.ACK, invite.Recipient)
	ack.AppendHeader(&gosip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: gosip.ACK})
	return ack
}

// ring alerts the user of a new incoming call and waits for Answer or
// Reject. It returns true when the call is to be answered; otherwise the
// call has been ended.
func (c *Call) ring(ctx context.Context, d *diago.DialogServerSession) bool {
	p := c.p
	handler := p.incomingHandler()
	if handler == nil {
		_ = d.Respond(486, "Busy Here", nil)
		return false
	}
	p.addCall(c)
	if err := d.Ringing(); err != nil {
		c.end(CauseFailed, 0, fmt.Sprintf("180 Ringing: %v", err))
		return false
	}
	c.setState(CallIncoming, CallEvent{})
	handler(c)

	select {
	case dec := <-c.decision:
		if !dec.answer {
			reason := map[int]string{486: "Busy Here", 603: "Decline", 480: "Temporarily Unavailable"}[dec.code]
			if err := d.Respond(dec.code, reason, nil); err != nil {
				p.log.Warn("reject failed", "call", c.id, "error", err)
			}
			cause := CauseRejected
			if dec.code == 480 {
				cause = CauseShutdown
			}
			c.end(cause, dec.code, reason)
			return false
		}
	case <-d.Context().Done():
		// CANCEL from the caller: sipgo answers 200 to CANCEL and 487 to the INVITE (§9.2).
		if cid := d.InviteRequest.CallID(); cid != nil && p.elsewhere.take(cid.Value(), 20*time.Millisecond) {
			c.end(CauseAnsweredElsewhere, 487, "answered on another device")
			return false
		}
		c.end(CauseCancelled, 487, "Request Terminated")
		return false
	case <-ctx.Done():
		_ = d.Respond(480, "Temporarily Unavailable", nil)
		c.end(CauseShutdown, 480, "")
		return false
	}
	return true
}

// holdOthers puts every other active call on hold, so that one call talks
// at a time (call waiting). Failures are logged: the new call goes ahead.
func (p *Phone) holdOthers(ctx context.Context, except *Call) {
	for _, o := range p.Calls() {
		if o == except || o == except.replaces || o.State() != CallActive {
			continue
		}
		if err := o.Hold(ctx); err != nil && !errors.Is(err, ErrCallEnded) {
			p.log.Warn("hold before switching calls failed", "call", o.id, "error", err)
		}
	}
}

// handleInfo receives SIP INFO DTMF (application/dtmf-relay, the de-facto
// format of draft-kaplan-dispatch-info-dtmf-package) inside a dialog.
func (p *Phone) handleInfo(req *gosip.Request, tx gosip.ServerTransaction) {
	respond := func(code int, reason string) {
		_ = tx.Respond(gosip.NewResponseFromRequest(req, code, reason, nil))
	}
	ct := req.ContentType()
	if ct == nil || !strings.EqualFold(strings.TrimSpace(ct.Value()), "application/dtmf-relay") {
		respond(415, "Unsupported Media Type")
		return
	}
	cid := req.CallID()
	if cid == nil {
		respond(400, "Bad Request")
		return
	}
	var call *Call
	for _, c := range p.Calls() {
		if c.SIPCallID() == cid.Value() {
			call = c
			break
		}
	}
	if call == nil {
		respond(481, "Call/Transaction Does Not Exist")
		return
	}
	digit, ok := parseDTMFRelay(req.Body())
	if !ok {
		respond(400, "Bad Request")
		return
	}
	respond(200, "OK")
	p.emitDTMF(DTMFEvent{Call: call, Digit: digit, Via: DTMFInfo})
}

// sendInfoDTMF sends one digit as SIP INFO inside the dialog.
func (c *Call) sendInfoDTMF(d rune) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.inDialog(ctx, gosip.INFO, []byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", d)),
		gosip.NewHeader("Content-Type", "application/dtmf-relay"))
}
