// Package sip is Omniphone's softphone engine: SIP registration, calls with
// G.711 audio, hold, DTMF, transfer and local call recording.
//
// It wraps github.com/emiago/sipgo (signalling) and github.com/emiago/diago
// (dialogs, SDP and RTP) and keeps their types out of its exported API, so
// the rest of the application depends only on this package's own types.
// It imports none of Omniphone's other packages: app translates
// settings.SIPAccount into a [Config].
//
// A [Phone] serves one account. [New] builds it, [Phone.Run] listens,
// registers and refreshes the registration until its context ends, then
// removes only its own binding (RFC 3261 §10.2.2). Calls are made with
// [Phone.Dial] and arrive through the handler set with [Phone.OnIncoming].
// Events leave the package through OnX setters; handlers run on the
// package's goroutines and must not block.
//
// Audio is exchanged with an [AudioDevice] as 20 ms frames of 8 kHz mono
// 16-bit PCM; package sip/audio provides one over the sound card. Only the
// active call uses the device: answering a second call ([Call.Answer]) or
// resuming a held one ([Call.Resume]) puts the other active call on hold
// (call waiting). While an outgoing call rings, early media (183 with SDP)
// is played, or else a local ringback tone ([WithoutRingback] turns it off).
//
// Transfers (transfer.go): [Call.Transfer] is a blind transfer and
// [Call.AttendedTransfer] an attended one (REFER with Replaces); a REFER
// received in a call is followed (we call the target and report with
// NOTIFY); an INVITE with Replaces takes over the named call without
// ringing. [CallEvent] reports the outcome (CauseTransferred with
// TransferTarget, CauseReplaced with ReplacedBy).
//
// [Call.Attributes] gives the rules engine the virtual number and the PBX's
// call-tracking headers of an incoming INVITE, as configured by
// [Config.VirtualNumberHeaders] and [Config.AttributeHeaders].
//
// Known upstream defects that this package works around are documented next
// to the workaround (see transport.go, dtmf.go, register.go and transfer.go).
package sip
