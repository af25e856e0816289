package sip

import (
	"path/filepath"
	"strconv"
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

// TestIntegrationCallerByeBeforeAck: the caller hangs up the moment it is
// answered and its BYE reaches us before its ACK (sipgo handles each
// request on a goroutine of its own, so even an ACK sent first can be
// read second). The call was answered and the caller ended it — not a
// failed answer ("No ACK received") recorded as a missed call.
func TestIntegrationCallerByeBeforeAck(t *testing.T) {
	sippBin := siptest.RequirePeer(t, "sipp", "sip-tester")
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)

	scenario, err := filepath.Abs("testdata/uac-bye-before-ack.xml")
	require.NoError(t, err)
	sipp := siptest.StartProc(t, "sipp-bye-before-ack", t.TempDir(), sippBin, k.Addr(),
		"-sf", scenario, "-s", "gouac", "-au", "bob", "-ap", "bob123", "-key", "from_user", "bob",
		"-i", "127.0.0.1", "-p", strconv.Itoa(siptest.Port(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(20000+siptest.Port(t)%20000),
		"-m", "1", "-nostdin", "-timeout", "60s", "-trace_err")
	c := p.ev.waitIncoming(t, 1)
	require.NoError(t, c.Answer())
	end := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseRemoteHangup, end.Cause, end.Reason)
	require.False(t, c.Info().Answered.IsZero(), "the call was answered")
	select {
	case <-sipp.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("SIPp did not finish")
	}
	require.Zero(t, sipp.ExitCode(), "SIPp scenario failed")
}
