package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationHangupRightAfterAnswer: the operator presses Answer and at
// once Hang up, before the caller's ACK has arrived (on a real network
// that is a round trip through the PBX). The hang-up must reach the
// caller as a BYE once the call is up; it used to be taken for a Reject
// that nobody read, and the call stayed up on both sides.
func TestIntegrationHangupRightAfterAnswer(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	callee := startPhone(t, k, "bob", "bob123", baresipHz, nil)
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	callee.ev.waitReg(t, RegRegistered, 0)
	caller.ev.waitReg(t, RegRegistered, 0)
	for i := 1; i <= 3; i++ {
		c, err := caller.Dial("bob")
		require.NoError(t, err)
		in := callee.ev.waitIncoming(t, i)
		require.NoError(t, in.Answer())
		require.NoError(t, in.Hangup())
		end := caller.ev.waitCall(t, c, CallEnded, 20*time.Second)
		require.Equal(t, CauseRemoteHangup, end.Cause, "round %d: the caller must hear the hang-up; got %s", i, end.Reason)
		require.False(t, c.Info().Answered.IsZero(), "round %d: the call was answered", i)
		got := callee.ev.waitCall(t, in, CallEnded, 20*time.Second)
		require.Equal(t, CauseLocalHangup, got.Cause, "round %d: %s", i, got.Reason)
	}
}
