package app

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm/lookup"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/sip"
)

// PhoneEngine is the part of *sip.Phone the app uses.
type PhoneEngine interface {
	Dial(target string, opts ...sip.DialOption) (*sip.Call, error)
	OnRegState(func(sip.RegEvent))
	OnIncoming(func(*sip.Call))
	OnCallState(func(sip.CallEvent))
}

// Ringer sounds the ring of incoming calls on the ring device
// (sip/audio.Ringer with its ring tone).
type Ringer interface {
	Ring()
	Stop()
}

// SoundDevices lists the sound card's devices and switches the ones calls
// use, also during a call (sip/audio.Switcher).
type SoundDevices interface {
	// Devices are the capture and playback device names.
	Devices() (inputs, outputs []string, err error)
	// Current are the devices in use ("" = the system default).
	Current() (input, output string)
	// Use switches to input and output; on error the old ones stay.
	Use(input, output string) error
}

// callHandle is the part of a *sip.Call the UI drives.
type callHandle interface {
	Answer() error
	Reject(code int) error
	Hangup() error
	Hold(ctx context.Context) error
	Resume(ctx context.Context) error
	Transfer(ctx context.Context, target string) error
	AttendedTransfer(ctx context.Context, consult *sip.Call) error
	SendDTMF(digits string) error
	SetMuted(bool)
	Muted() bool
	Info() sip.Info
}

// CardSource finds callers in the CRM (*lookup.Lookup).
type CardSource interface {
	Lookup(ctx context.Context, number string) (lookup.Card, error)
	Details(ctx context.Context, c lookup.Card) (lookup.Card, error)
}

// CallSink takes finished calls' records and reports their sync state
// (*crmsync.Engine embedded, or the omnisync client in team mode).
type CallSink interface {
	Submit(ctx context.Context, record []byte) (crmsync.CallStatus, bool, error)
	Status(ctx context.Context, id string) (*crmsync.CallStatus, error)
}

// regText is the status line's SIP part for a registration event.
func regText(ev sip.RegEvent, account string) string {
	switch ev.State {
	case sip.RegRegistering:
		return lang.L("SIP: registering…")
	case sip.RegRegistered:
		return lang.L("SIP: registered") + " (" + account + ")"
	case sip.RegFailed:
		var re *sip.RegisterError
		if errors.As(ev.Err, &re) && re.AuthFailed() {
			return lang.L("SIP: wrong user name or password")
		}
		if errors.Is(ev.Err, sip.ErrTLSUntrusted) {
			// The details (which CA, which host) are in the log.
			return lang.L("SIP: the PBX's TLS certificate is not trusted; set its CA certificate in the SIP account")
		}
		if ev.Err != nil {
			return fmt.Sprintf("%s: %v", lang.L("SIP: not registered"), ev.Err)
		}
		return lang.L("SIP: not registered")
	default:
		return lang.L("SIP: not registered")
	}
}
