package sip

import (
	"sync"
	"time"
)

// RegEvent reports a registration state change.
type RegEvent struct {
	State RegState
	// Err is set for RegFailed; errors.As it to *RegisterError for a SIP answer.
	Err error
	// Expires is the lifetime the registrar granted (RegRegistered only).
	Expires time.Duration
}

// CallEvent reports a call state change.
type CallEvent struct {
	Call  *Call
	State CallState
	// Cause, SIPCode and Reason explain CallEnded. SIPCode is the final
	// response code when the call failed or was rejected, 0 otherwise.
	Cause   EndCause
	SIPCode int
	Reason  string
	// AnsweredBy is who answered (remote user part) for CallActive after an answer.
	AnsweredBy string
	// TransferTarget is set when the call ended by transfer (CauseTransferred):
	// the SIP URI of the party the remote party was handed to.
	TransferTarget string
	// ReplacedBy is set when the call ended with CauseReplaced: the ID of
	// the new call that took its place (attended transfer, RFC 3891).
	ReplacedBy string
	// EarlyMedia is set on CallRinging when the callee sent early media
	// (183 with SDP), which is then played instead of the local ringback.
	EarlyMedia bool
	// Encrypted is whether the call's audio is encrypted (Info.Encrypted),
	// known from the answer on: set on CallActive and later events.
	Encrypted bool
	// RingDuration is from the start of the call to its answer or end;
	// TalkDuration from answer to end. Both are set on CallEnded.
	RingDuration time.Duration
	TalkDuration time.Duration
}

// DTMFEvent reports a digit received from the remote party.
type DTMFEvent struct {
	Call  *Call
	Digit rune
	// Via is "rfc4733" or "info".
	Via DTMFMode
}

// OnRegState sets the registration event handler.
func (p *Phone) OnRegState(f func(RegEvent)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.onReg = f
}

// OnIncoming sets the handler for new incoming calls. The call is in state
// CallIncoming; answer it with [Call.Answer] or decline it with [Call.Reject].
// Without a handler incoming calls are rejected with 486 Busy Here.
func (p *Phone) OnIncoming(f func(*Call)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.onIncoming = f
}

// OnCallState sets the call event handler.
func (p *Phone) OnCallState(f func(CallEvent)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.onCall = f
}

// OnDTMF sets the handler for digits received from the remote party.
func (p *Phone) OnDTMF(f func(DTMFEvent)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	p.onDTMF = f
}

// emit calls the handler *h, read under mu, outside the lock so a handler may
// set handlers itself.
func emit[T any](mu *sync.Mutex, h *func(T), ev T) {
	mu.Lock()
	f := *h
	mu.Unlock()
	if f != nil {
		f(ev)
	}
}

func (p *Phone) emitReg(ev RegEvent) { emit(&p.hmu, &p.onReg, ev) }

func (p *Phone) emitCall(ev CallEvent) { emit(&p.hmu, &p.onCall, ev) }

func (p *Phone) emitDTMF(ev DTMFEvent) { emit(&p.hmu, &p.onDTMF, ev) }

func (p *Phone) incomingHandler() func(*Call) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	return p.onIncoming
}
