package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// Call is one call, inbound or outbound. Its methods are safe for
// concurrent use; they fail with ErrCallEnded once it is over.
type Call struct {
	p       *Phone
	id      string
	dir     Direction
	created time.Time

	remoteUser    string
	remoteName    string
	remoteURI     string
	invHeaders    map[string][]string // headers of the incoming INVITE
	attrs         map[string]string   // see Attributes; set before the call is published
	referredBy    string              // Referred-By of a transferred call (RFC 3892)
	callerID      string              // outbound: user part of From ("" = the account user)
	extraHeaders  []gosip.Header      // outbound: added to the INVITE (Referred-By, Replaces)
	replaces      *Call               // inbound: the call this one replaces (RFC 3891)
	muted         atomic.Bool
	early         atomic.Bool   // outbound: early media (183 with SDP) is playing
	decision      chan decision // inbound: Answer / Reject
	decided       atomic.Bool   // inbound: Answer or Reject was taken
	hangupCh      chan struct{} // closed by Hangup
	hangupOnce    sync.Once
	answered      chan struct{} // closed when the call first becomes active
	answeredOnce  sync.Once
	done          chan struct{} // closed when the call has ended
	transferredTo atomic.Value  // string
	replacedBy    atomic.Value  // string: local ID of the call that replaced this one

	mu         sync.Mutex
	state      CallState
	sipCallID  string
	ringingAt  time.Time
	answeredAt time.Time
	endedAt    time.Time
	cause      EndCause
	endCode    int
	out        *diago.DialogClientSession
	in         *diago.DialogServerSession
	pipe       *mediaPipe
	recordPath string
	encrypted  bool   // the answered call's audio is SRTP (setEncrypted)
	localTag   string // dialog tags, known once answered
	remoteTag  string
	// activeSince is when the call last became active (answer or resume);
	// the most recent one owns the audio device.
	activeSince time.Time
}

type decision struct {
	answer bool
	code   int
}

func newCall(p *Phone, dir Direction) *Call {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Call{
		p:        p,
		id:       hex.EncodeToString(b[:]),
		dir:      dir,
		created:  time.Now(),
		decision: make(chan decision, 1),
		hangupCh: make(chan struct{}),
		answered: make(chan struct{}),
		done:     make(chan struct{}),
		state:    CallUnknown,
	}
}

// ID is the call's local identifier (not the SIP Call-ID).
func (c *Call) ID() string { return c.id }

// Direction says who placed the call.
func (c *Call) Direction() Direction { return c.dir }

// Remote is the remote party's user part (usually a number).
func (c *Call) Remote() string { return c.remoteUser }

// RemoteName is the remote party's display name, if any.
func (c *Call) RemoteName() string { return c.remoteName }

// RemoteURI is the remote party's SIP URI.
func (c *Call) RemoteURI() string { return c.remoteURI }

// SIPCallID is the SIP Call-ID of the dialog, once known.
func (c *Call) SIPCallID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sipCallID
}

// Header returns the values of a header of the incoming INVITE (inbound
// calls only), e.g. "P-Called-Party-ID" or a PBX call-tracking header.
func (c *Call) Header(name string) []string {
	return slices.Clone(c.invHeaders[strings.ToLower(name)])
}

// State returns the current state.
func (c *Call) State() CallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Muted reports whether our microphone is muted.
func (c *Call) Muted() bool { return c.muted.Load() }

// SetMuted mutes or unmutes our microphone (silence is sent instead).
func (c *Call) SetMuted(m bool) { c.muted.Store(m) }

// RecordingPath is the WAV file of this call, if recording is on.
func (c *Call) RecordingPath() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recordPath
}

// Answer accepts an incoming call. The result arrives as a CallActive or
// CallEnded event. Once answered, the call takes the audio device and any
// other active call is put on hold (call waiting; see [WithoutAutoHold]);
// switch back with [Call.Resume].
func (c *Call) Answer() error {
	return c.decide(decision{answer: true})
}

// Reject declines an incoming call with code: 486 Busy Here (also for 0)
// or 603 Decline (RFC 3261 §21.4.7, §21.6.2).
func (c *Call) Reject(code int) error {
	if code == 0 {
		code = 486
	}
	if code != 486 && code != 603 && code != 480 {
		return fmt.Errorf("reject with %d: only 486, 603 or 480", code)
	}
	return c.decide(decision{code: code})
}

func (c *Call) decide(d decision) error {
	if c.dir != Inbound {
		return fmt.Errorf("%w: not an incoming call", ErrCallState)
	}
	if st := c.State(); st != CallIncoming {
		if st == CallEnded {
			return ErrCallEnded
		}
		return fmt.Errorf("%w: call is %s", ErrCallState, st)
	}
	if !c.decided.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: already answered or rejected", ErrCallState)
	}
	c.decision <- d // the only send: the channel holds one
	return nil
}

// Hangup ends the call: CANCEL while an outgoing call rings, 486 for an
// unanswered incoming call, BYE once answered. It returns at once; the
// CallEnded event follows.
func (c *Call) Hangup() error {
	if c.State() == CallEnded {
		return ErrCallEnded
	}
	if c.dir == Inbound && c.State() == CallIncoming && !c.decided.Load() {
		if err := c.Reject(486); !errors.Is(err, ErrCallState) {
			return err
		}
		// Answer won the race: hang up once the answer completes.
	}
	// Answered but not active yet (our 200 waits for its ACK): the call
	// hangs up as soon as it is up — a hang-up pressed right after Answer
	// used to be taken for a Reject nobody read, leaving the call up.
	c.hangupOnce.Do(func() { close(c.hangupCh) })
	return nil
}

// terminate ends the call for shutdown (480 if still unanswered, else
// CANCEL or BYE); the call then ends with CauseShutdown.
func (c *Call) terminate() {
	if c.dir == Inbound && c.State() == CallIncoming && !c.decided.Load() {
		if err := c.Reject(480); !errors.Is(err, ErrCallState) {
			return
		}
	}
	c.hangupOnce.Do(func() { close(c.hangupCh) })
}

// Hold puts the call on hold with a re-INVITE offering a=sendonly (RFC 3264 §8.4).
func (c *Call) Hold(ctx context.Context) error {
	return c.setHold(ctx, true)
}

// Resume takes the call off hold with a re-INVITE offering a=sendrecv.
// Another call that is active is put on hold first, so Resume also switches
// between two calls; the audio device follows the call activated last.
func (c *Call) Resume(ctx context.Context) error {
	return c.setHold(ctx, false)
}

func (c *Call) setHold(ctx context.Context, hold bool) error {
	c.mu.Lock()
	st, out, in := c.state, c.out, c.in
	c.mu.Unlock()
	switch {
	case st == CallEnded:
		return ErrCallEnded
	case hold && st != CallActive, !hold && st != CallHeld:
		return fmt.Errorf("%w: call is %s", ErrCallState, st)
	}
	ctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	if !hold && !c.p.noAutoHold {
		c.p.holdOthers(ctx, c)
	}
	// The re-INVITE is routed through the proxy by routeFixRequester (transport.go).
	var err error
	switch {
	case !c.p.cfg.Account.Transport.reinviteHold():
		// Held on our side only, by the media pipe (webrtc.go).
	case out != nil && hold:
		err = out.Hold(ctx)
	case out != nil:
		err = out.Unhold(ctx)
	case in != nil && hold:
		err = in.Hold(ctx)
	case in != nil:
		err = in.Unhold(ctx)
	default:
		return fmt.Errorf("%w: no dialog", ErrCallState)
	}
	if err != nil {
		op := "hold"
		if !hold {
			op = "resume"
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	newState := CallActive
	if hold {
		newState = CallHeld
	}
	c.mu.Lock()
	if c.state == CallEnded {
		c.mu.Unlock()
		return ErrCallEnded
	}
	c.state = newState
	if !hold {
		c.activeSince = time.Now()
	}
	if c.pipe != nil {
		c.pipe.held.Store(hold)
	}
	c.mu.Unlock()
	c.p.updateActive()
	c.p.emitCall(CallEvent{Call: c, State: newState})
	return nil
}

// SendDTMF sends digits (0-9, *, #, A-D) by the account's DTMF mode.
func (c *Call) SendDTMF(digits string) error {
	for _, d := range digits {
		if !validDTMF(d) {
			return fmt.Errorf("DTMF digit %q is not valid", d)
		}
	}
	c.mu.Lock()
	st, pipe := c.state, c.pipe
	c.mu.Unlock()
	if st != CallActive && st != CallHeld {
		if st == CallEnded {
			return ErrCallEnded
		}
		return fmt.Errorf("%w: call is %s", ErrCallState, st)
	}
	for _, d := range digits {
		var err error
		if c.p.cfg.Account.DTMF == DTMFInfo || pipe == nil || pipe.dtmfW == nil {
			err = c.sendInfoDTMF(d)
		} else {
			err = pipe.dtmfW.WriteDTMF(d)
		}
		if err != nil {
			return fmt.Errorf("send DTMF %q: %w", d, err)
		}
	}
	return nil
}

// Info is a snapshot of a call for records.
type Info struct {
	ID         string
	Direction  Direction
	State      CallState
	Remote     string
	RemoteName string
	Created    time.Time
	Ringing    time.Time
	Answered   time.Time
	Ended      time.Time
	Cause      EndCause
	SIPCode    int
	Recording  string
	// Encrypted is whether the audio is encrypted: SDES-SRTP as the
	// account's SRTP policy negotiated it, or WebRTC's DTLS-SRTP.
	Encrypted bool
}

// Info returns a snapshot of the call.
func (c *Call) Info() Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Info{
		ID: c.id, Direction: c.dir, State: c.state, Remote: c.remoteUser, RemoteName: c.remoteName,
		Created: c.created, Ringing: c.ringingAt, Answered: c.answeredAt, Ended: c.endedAt,
		Cause: c.cause, SIPCode: c.endCode, Recording: c.recordPath, Encrypted: c.encrypted,
	}
}

// setEncrypted records whether the answered call's audio is encrypted:
// always for WebRTC (DTLS-SRTP), else when the policy keys SDES and sdp,
// the answer to our offer or the (stripped) offer we answered, carries a
// key diago uses.
func (c *Call) setEncrypted(sdp []byte, sdes bool) {
	acc := c.p.cfg.Account
	on := acc.Transport.webrtc() || (sdes && acc.SRTP.mediaSRTP() == 1 && hasSDESKey(sdp))
	c.mu.Lock()
	c.encrypted = on
	c.mu.Unlock()
}

// setState moves to st (not CallEnded) and emits the event.
func (c *Call) setState(st CallState, ev CallEvent) {
	c.mu.Lock()
	if c.state == CallEnded || c.state == st {
		c.mu.Unlock()
		return
	}
	c.state = st
	now := time.Now()
	switch st {
	case CallRinging:
		c.ringingAt = now
	case CallActive:
		if c.answeredAt.IsZero() {
			c.answeredAt = now
		}
		c.activeSince = now
	}
	ev.Encrypted = c.encrypted
	c.mu.Unlock()
	if st == CallActive {
		c.answeredOnce.Do(func() { close(c.answered) })
	}
	c.p.updateActive()
	ev.Call, ev.State = c, st
	c.p.emitCall(ev)
}

// end finishes the call once: stops media, closes the recording, removes
// the call from the phone and emits CallEnded.
func (c *Call) end(cause EndCause, code int, reason string) {
	c.mu.Lock()
	if c.state == CallEnded {
		c.mu.Unlock()
		return
	}
	if t, ok := c.transferredTo.Load().(string); ok && t != "" {
		cause = CauseTransferred
	}
	if r, ok := c.replacedBy.Load().(string); ok && r != "" {
		cause = CauseReplaced
	}
	c.state = CallEnded
	c.endedAt = time.Now()
	c.cause, c.endCode = cause, code
	pipe := c.pipe
	c.mu.Unlock()

	if pipe != nil {
		if err := pipe.stop(); err != nil {
			c.p.log.Warn("stop media", "call", c.id, "error", err)
		}
	}
	c.p.removeCall(c)
	c.p.updateActive()
	close(c.done)

	c.mu.Lock()
	ev := CallEvent{Call: c, State: CallEnded, Cause: cause, SIPCode: code, Reason: reason, Encrypted: c.encrypted}
	if t, ok := c.transferredTo.Load().(string); ok {
		ev.TransferTarget = t
	}
	if r, ok := c.replacedBy.Load().(string); ok {
		ev.ReplacedBy = r
	}
	if c.answeredAt.IsZero() {
		ev.RingDuration = c.endedAt.Sub(c.created)
	} else {
		ev.RingDuration = c.answeredAt.Sub(c.created)
		ev.TalkDuration = c.endedAt.Sub(c.answeredAt)
	}
	c.mu.Unlock()
	c.p.emitCall(ev)
}

// sortCalls orders calls by creation time.
func sortCalls(cs []*Call) {
	slices.SortFunc(cs, func(a, b *Call) int { return a.created.Compare(b.created) })
}

// statusOf extracts the final response from a failed INVITE's error.
func statusOf(err error) (int, string, bool) {
	var dr sipgo.ErrDialogResponse
	if errors.As(err, &dr) && dr.Res != nil {
		return dr.Res.StatusCode, dr.Res.Reason, true
	}
	var pdr *sipgo.ErrDialogResponse
	if errors.As(err, &pdr) && pdr != nil && pdr.Res != nil {
		return pdr.Res.StatusCode, pdr.Res.Reason, true
	}
	return 0, "", false
}
