package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationCallFailures calls between two Phones through Kamailio.
func TestIntegrationCallFailures(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	callee := startPhone(t, k, "bob", "bob123", baresipHz, nil)
	caller.ev.waitReg(t, RegRegistered, 0)
	callee.ev.waitReg(t, RegRegistered, 0)

	tests := []struct {
		name        string
		target      string
		onIncoming  func(c *Call) // nil: do not answer
		hangupAfter bool          // caller hangs up while ringing
		wantCaller  EndCause
		wantCode    int
		wantCallee  EndCause // CauseUnknown: callee sees no call
	}{
		{"Busy", "bob", func(c *Call) { require.NoError(t, c.Reject(486)) }, false, CauseBusy, 486, CauseRejected},
		{"Decline", "bob", func(c *Call) { require.NoError(t, c.Reject(603)) }, false, CauseDeclined, 603, CauseRejected},
		{"Cancel", "bob", nil, true, CauseCancelled, 0, CauseCancelled},
		{"NotFound", "nobody", nil, false, CauseNotFound, 404, CauseUnknown},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := caller.Dial(tt.target)
			require.NoError(t, err)
			if tt.wantCallee != CauseUnknown {
				in := callee.ev.waitIncoming(t, i+1)
				caller.ev.waitCall(t, c, CallRinging, 20*time.Second)
				if tt.onIncoming != nil {
					tt.onIncoming(in)
				}
				if tt.hangupAfter {
					require.NoError(t, c.Hangup())
				}
				got := callee.ev.waitCall(t, in, CallEnded, 20*time.Second)
				require.Equal(t, tt.wantCallee, got.Cause, "callee cause")
			}
			got := caller.ev.waitCall(t, c, CallEnded, 40*time.Second)
			require.Equal(t, tt.wantCaller, got.Cause, "caller cause: %s", got.Reason)
			if tt.wantCode != 0 {
				require.Equal(t, tt.wantCode, got.SIPCode)
			}
			require.Zero(t, got.TalkDuration)
			require.Empty(t, caller.Calls())
		})
	}
}

// TestIntegrationUnregisterOwnBinding checks that closing one device of a
// user leaves the user's other device registered (no "Contact: *"), over
// UDP and TCP.
func TestIntegrationUnregisterOwnBinding(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) { testUnregisterOwnBinding(t, tr) })
	}
}

func testUnregisterOwnBinding(t *testing.T, tr Transport) {
	k := siptest.StartKamailio(t, callUsers)
	useTransport := func(c *Config) { c.Account.Transport = tr }
	first := startPhone(t, k, "bob", "bob123", baresipHz, useTransport)
	second := startPhone(t, k, "bob", "bob123", baresipHz, useTransport)
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	first.ev.waitReg(t, RegRegistered, 0)
	second.ev.waitReg(t, RegRegistered, 0)
	caller.ev.waitReg(t, RegRegistered, 0)

	// A call rings both devices (Kamailio forks); the first answers and
	// is closed mid-call: its BYE and then its unREGISTER must still leave
	// (the listeners outlive Run's context until shutdown ends). How the
	// second device's ringing ends is TestIntegrationForkedCallAnswered-
	// Elsewhere's subject (over UDP; over TCP make test once saw it ring on,
	// see the issue 7 note).
	c, err := caller.Dial("bob")
	require.NoError(t, err)
	in := first.ev.waitIncoming(t, 1)
	second.ev.waitIncoming(t, 1)
	require.NoError(t, in.Answer())
	caller.ev.waitCall(t, c, CallActive, 20*time.Second)
	// Mid-call means up on this device too (the caller's ACK arrived):
	// closing between our 200 and the ACK is another case, and over TCP
	// under load it can still end the call without a BYE (issue 7 note).
	first.ev.waitCall(t, in, CallActive, 20*time.Second)
	require.NoError(t, first.Close())
	ev := first.ev.waitReg(t, RegUnregistered, 0)
	require.NoError(t, ev.Err, "the unREGISTER must reach the registrar")
	end := caller.ev.waitCall(t, c, CallEnded, 15*time.Second)
	require.Equal(t, CauseRemoteHangup, end.Cause, "the closing phone must send BYE; got %s", end.Reason)

	// Only the closed device's binding went: the other still rings.
	c, err = caller.Dial("bob")
	require.NoError(t, err)
	in = second.ev.waitIncoming(t, 2)
	require.NoError(t, in.Answer())
	caller.ev.waitCall(t, c, CallActive, 20*time.Second)
	require.NoError(t, c.Hangup())
	second.ev.waitCall(t, in, CallEnded, 20*time.Second)

	// Closed while registered: the unREGISTER still leaves.
	require.NoError(t, second.Close())
	ev = second.ev.waitReg(t, RegUnregistered, 0)
	require.NoError(t, ev.Err, "the unREGISTER must reach the registrar")

	// The last device going away leaves no binding: the proxy answers 404
	// at once instead of forwarding to a dead contact until timeout.
	c, err = caller.Dial("bob")
	require.NoError(t, err)
	end = caller.ev.waitCall(t, c, CallEnded, 15*time.Second)
	require.Equal(t, 404, end.SIPCode, "a call to a user with no device must be refused by the registrar; got %s", end.Reason)
}

// TestIntegrationRegistrarRestart checks that the phone registers again
// after the registrar lost its bindings and came back.
func TestIntegrationRegistrarRestart(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "bob", "bob123", baresipHz, func(c *Config) { c.Account.Expiry = 10 * time.Second })
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)

	k.Stop()
	n := p.ev.regCount()
	p.ev.waitReg(t, RegFailed, n) // the refresh at 7.5 s times out
	k.Start()
	caller.Reregister()
	p.ev.waitReg(t, RegRegistered, n)
	caller.ev.waitReg(t, RegRegistered, 2)

	// The new binding routes calls again.
	c, err := caller.Dial("bob")
	require.NoError(t, err)
	in := p.ev.waitIncoming(t, 1)
	require.NoError(t, in.Answer())
	caller.ev.waitCall(t, c, CallActive, 20*time.Second)
	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, in, CallEnded, 20*time.Second)
}
