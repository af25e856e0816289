package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationForkedCallAnsweredElsewhere: a user with two devices (the
// softphone beside a desk phone, or a ring group) — Kamailio forks the
// INVITE to both. The device that answers talks; the other stops ringing
// with CauseAnsweredElsewhere (Kamailio's CANCEL carries "Reason:
// SIP;cause=200"), which is not a missed call. Either side can end the
// forked call, and each side sees it end.
func TestIntegrationForkedCallAnsweredElsewhere(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	first := startPhone(t, k, "bob", "bob123", baresipHz, nil)
	second := startPhone(t, k, "bob", "bob123", baresipHz, nil)
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	first.ev.waitReg(t, RegRegistered, 0)
	second.ev.waitReg(t, RegRegistered, 0)
	caller.ev.waitReg(t, RegRegistered, 0)

	for i, tc := range []struct {
		name          string
		secondAnswers bool
		callerHangsUp bool
	}{
		{"first answers, callee hangs up", false, false},
		{"second answers, callee hangs up", true, false},
		{"first answers, caller hangs up", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := caller.Dial("bob")
			require.NoError(t, err)
			a, b := first.ev.waitIncoming(t, i+1), second.ev.waitIncoming(t, i+1)
			ans, ansPh, other, otherPh := a, first, b, second
			if tc.secondAnswers {
				ans, ansPh, other, otherPh = b, second, a, first
			}
			require.NoError(t, ans.Answer())
			caller.ev.waitCall(t, c, CallActive, 20*time.Second)
			end := otherPh.ev.waitCall(t, other, CallEnded, 20*time.Second)
			require.Equal(t, CauseAnsweredElsewhere, end.Cause, "the other device: %s", end.Reason)
			require.True(t, other.Info().Answered.IsZero())

			if tc.callerHangsUp {
				require.NoError(t, c.Hangup())
				got := ansPh.ev.waitCall(t, ans, CallEnded, 20*time.Second)
				require.Equal(t, CauseRemoteHangup, got.Cause, "the device that answered: %s", got.Reason)
				return
			}
			require.NoError(t, ans.Hangup())
			got := caller.ev.waitCall(t, c, CallEnded, 20*time.Second)
			require.Equal(t, CauseRemoteHangup, got.Cause, "the caller: %s", got.Reason)
		})
	}
}

// TestIntegrationCancelIsMissed: a caller who gives up while one device
// rings leaves a cancelled (missed) call, not one answered elsewhere.
func TestIntegrationCancelIsMissed(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	callee := startPhone(t, k, "bob", "bob123", baresipHz, nil)
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	callee.ev.waitReg(t, RegRegistered, 0)
	caller.ev.waitReg(t, RegRegistered, 0)
	c, err := caller.Dial("bob")
	require.NoError(t, err)
	in := callee.ev.waitIncoming(t, 1)
	caller.ev.waitCall(t, c, CallRinging, 20*time.Second)
	require.NoError(t, c.Hangup())
	end := callee.ev.waitCall(t, in, CallEnded, 20*time.Second)
	require.Equal(t, CauseCancelled, end.Cause, end.Reason)
}
