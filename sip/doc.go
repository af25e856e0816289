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
// 16-bit PCM; package sip/audio provides one over the sound card.
//
// Known upstream defects that this package works around are documented next
// to the workaround (see transport.go, dtmf.go and register.go).
package sip
