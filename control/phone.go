package control

import (
	"context"

	"github.com/omniphone/omniphone/sip"
)

// Phone is what the API drives: *sip.Phone through [SIPPhone], or a fake
// in tests.
type Phone interface {
	RegState() sip.RegState
	// Dial starts a call to a number or SIP URI and returns at once.
	Dial(to string) (Call, error)
	// Calls are the calls that have not ended, oldest first.
	Calls() []Call
}

// Call is the part of a *sip.Call the API drives.
type Call interface {
	Info() sip.Info
	Muted() bool
	SetMuted(bool)
	Answer() error
	Hangup() error
	Hold(ctx context.Context) error
	Resume(ctx context.Context) error
	SendDTMF(digits string) error
	Transfer(ctx context.Context, target string) error
}

var _ Call = (*sip.Call)(nil)

// SIPPhone adapts *sip.Phone to [Phone].
func SIPPhone(p *sip.Phone) Phone { return sipPhone{p} }

type sipPhone struct{ p *sip.Phone }

func (s sipPhone) RegState() sip.RegState { return s.p.RegState() }

func (s sipPhone) Dial(to string) (Call, error) {
	c, err := s.p.Dial(to)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s sipPhone) Calls() []Call {
	cs := s.p.Calls()
	out := make([]Call, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
