package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationCallWaiting: while the phone talks to baresip, a second
// phone calls it. The new call rings without disturbing the first; Answer
// holds the first call (re-INVITE through Kamailio); Resume switches back
// and forth, and the audio device always carries the active call.
func TestIntegrationCallWaiting(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	p := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	bob := startPhone(t, k, "bob", "bob123", targetHz, nil)
	p.ev.waitReg(t, RegRegistered, 0)
	bob.ev.waitReg(t, RegRegistered, 0)
	ctx := siptest.Ctx(t, 120*time.Second)

	first, err := p.Dial("alice")
	require.NoError(t, err)
	p.ev.waitCall(t, first, CallActive, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))

	// requireHears checks what the phone's device and bob's device got
	// during the next 2 s.
	requireHears := func(what string, phoneFreq float64, bobHearsPhone bool) {
		t.Helper()
		mark, markBob := p.dev.heardLen(), bob.dev.heardLen()
		time.Sleep(2 * time.Second)
		heard := p.dev.heardSince(mark)
		requireTone(t, what+": phone hears", heard, SampleRate, phoneFreq, 1.2)
		for _, other := range []float64{baresipHz, targetHz} {
			if other != phoneFreq {
				require.Less(t, siptest.ToneSeconds(heard, other, SampleRate), 0.3, "%s: phone also hears %.0f Hz", what, other)
			}
		}
		bobGot := siptest.ToneSeconds(bob.dev.heardSince(markBob), phoneHz, SampleRate)
		if bobHearsPhone {
			require.GreaterOrEqual(t, bobGot, 1.2, "%s: bob hears the phone", what)
		} else {
			require.Less(t, bobGot, 0.3, "%s: bob hears the phone while held", what)
		}
	}
	requireHears("first call", baresipHz, false)

	// The second call rings while the first keeps talking.
	second, err := bob.Dial("gouac")
	require.NoError(t, err)
	in := p.ev.waitIncoming(t, 1)
	require.Equal(t, "bob", in.Remote())
	bob.ev.waitCall(t, second, CallRinging, 20*time.Second)
	require.Equal(t, CallIncoming, in.State())
	require.Equal(t, CallActive, first.State())
	requireHears("first call while the second rings", baresipHz, false)

	// Answer holds the first call.
	invites := k.Proc.CountLog("REQ INVITE", first.SIPCallID())
	require.NoError(t, in.Answer())
	p.ev.waitCall(t, in, CallActive, 20*time.Second)
	p.ev.waitCall(t, first, CallHeld, 5*time.Second)
	require.Equal(t, CallHeld, first.State())
	require.Equal(t, invites+1, k.Proc.CountLog("REQ INVITE", first.SIPCallID()), "hold re-INVITE did not pass Kamailio")
	requireHears("second call answered", targetHz, true)

	// Switch back: the second call is held, the first resumes.
	require.NoError(t, first.Resume(ctx))
	require.Equal(t, CallActive, first.State())
	require.Equal(t, CallHeld, in.State())
	requireHears("switched to the first call", baresipHz, false)

	// And to the second again.
	require.NoError(t, in.Resume(ctx))
	require.Equal(t, CallHeld, first.State())
	require.Equal(t, CallActive, in.State())
	requireHears("switched to the second call", targetHz, true)

	require.Len(t, p.Calls(), 2)
	require.NoError(t, in.Hangup())
	require.NoError(t, first.Hangup())
	p.ev.waitCall(t, in, CallEnded, 20*time.Second)
	p.ev.waitCall(t, first, CallEnded, 20*time.Second)
	bob.ev.waitCall(t, second, CallEnded, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))
}
