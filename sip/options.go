package sip

import "log/slog"

// Option configures a Phone.
type Option func(p *Phone)

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(p *Phone) { p.log = l }
}

// WithAudioDevice sets the sound card used by the active call; without it
// calls send silence and discard what they receive.
func WithAudioDevice(d AudioDevice) Option {
	return func(p *Phone) { p.audio = d }
}

// WithJitterBuffer turns on diago's receive jitter buffer (three packets of
// delay, ten at most). It is off by default: with diago v0.42.1's
// RTPJitterBuffer, RFC 4733 digits sent by baresip while it keeps sending
// audio were lost (0 of 3 received; all received without it,
// TestIntegrationCallIn). The buffer releases one packet per codec ptime in
// sequence order, so the extra telephone-event packets appear to fall out of
// its window. A jitter buffer that lets telephone-event packets bypass the
// playout clock is still to be written.
func WithJitterBuffer() Option {
	return func(p *Phone) { p.jitter = true }
}

// WithoutRingback turns off the ringback tone the phone otherwise plays on
// the audio device while an outgoing call rings without early media (425 Hz,
// 1 s on, 4 s off), for an application that plays its own.
func WithoutRingback() Option {
	return func(p *Phone) { p.noRingback = true }
}

// WithoutAutoHold makes [Call.Answer] and [Call.Resume] leave the other
// calls as they are instead of putting the active one on hold. Several
// calls may then be active at once; the one activated last has the audio
// device. For load tests and automatic answering services.
func WithoutAutoHold() Option {
	return func(p *Phone) { p.noAutoHold = true }
}
