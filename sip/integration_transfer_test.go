package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// Tones of the third and fourth parties in transfer and call-waiting tests.
const (
	targetHz = 700.0
	carolHz  = 1300.0
)

// answerAll answers every incoming call of p (after recording it in p.ev).
func answerAll(p *testPhone) {
	p.OnIncoming(func(c *Call) {
		p.ev.mu.Lock()
		p.ev.in = append(p.ev.in, c)
		p.ev.mu.Unlock()
		_ = c.Answer()
	})
}

// activeCall waits for a call of p other than the given ones to become active.
func (e *events) waitOtherActive(t *testing.T, timeout time.Duration, not ...*Call) *Call {
	t.Helper()
	var got *Call
	e.wait(t, timeout, "another active call", func() bool {
		for _, ev := range e.calls {
			if ev.State == CallActive && !containsCall(not, ev.Call) {
				got = ev.Call
				return true
			}
		}
		return false
	})
	return got
}

func containsCall(cs []*Call, c *Call) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// TestIntegrationBlindTransfer: the phone calls baresip, then hands it to a
// second phone with REFER through Kamailio; baresip and the target end up
// talking to each other. On ws both phones are WebRTC, bridged to baresip
// by rtpengine.
func TestIntegrationBlindTransfer(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportWS} {
		t.Run(string(tr), func(t *testing.T) { blindTransfer(t, tr) })
	}
}

func blindTransfer(t *testing.T, tr Transport) {
	k, setTransport := startKamailioFor(t, callUsers, tr)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: baresipHz})
	p := startPhone(t, k, "gouac", "go123", phoneHz, setTransport)
	bob := startPhone(t, k, "bob", "bob123", targetHz, setTransport)
	answerAll(bob)
	p.ev.waitReg(t, RegRegistered, 0)
	bob.ev.waitReg(t, RegRegistered, 0)

	c, err := p.Dial("alice")
	require.NoError(t, err)
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))
	time.Sleep(time.Second)

	ctx := siptest.Ctx(t, 90*time.Second)
	require.NoError(t, c.Transfer(ctx, "bob"))
	ended := p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseTransferred, ended.Cause)
	require.Contains(t, ended.TransferTarget, "sip:bob@")

	in := bob.ev.waitIncoming(t, 1)
	require.Equal(t, "alice", in.Remote())
	// baresip 1.0.0 does not copy Referred-By into its INVITE, so
	// in.ReferredBy() is empty here (TestIntegrationAttendedTransfer checks it).
	bob.ev.waitCall(t, in, CallActive, 20*time.Second)
	mark := bob.dev.heardLen()
	// 2.5 s: baresip's recording is checked for 1.5 s of bob's tone below.
	waitTone(t, "target received", func() []int16 { return bob.dev.heardSince(mark) }, baresipHz, 2.5, 15*time.Second)

	require.NoError(t, in.Hangup())
	bob.ev.waitCall(t, in, CallEnded, 20*time.Second)
	alice.WaitEvent(t, 10*time.Second, func(ev map[string]any) bool {
		peer, _ := ev["peeruri"].(string)
		return ev["type"] == "CALL_CLOSED" && strings.Contains(peer, "bob")
	})
	rx, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
	requireTone(t, "baresip received from the target", rx, rate, targetHz, 1.5)
}

// TestIntegrationAttendedTransfer: gouac talks to carol, holds her, calls
// bob (consult call), then transfers carol to bob with REFER + Replaces.
// carol (transferee) calls bob with Replaces; bob swaps the consult call
// for carol's without ringing and hangs up on gouac.
func TestIntegrationAttendedTransfer(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	gouac := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	carol := startPhone(t, k, "carol", "carol123", carolHz, nil)
	bob := startPhone(t, k, "bob", "bob123", targetHz, nil)
	answerAll(carol)
	answerAll(bob)
	for _, p := range []*testPhone{gouac, carol, bob} {
		p.ev.waitReg(t, RegRegistered, 0)
	}
	ctx := siptest.Ctx(t, 120*time.Second)

	c1, err := gouac.Dial("carol")
	require.NoError(t, err)
	gouac.ev.waitCall(t, c1, CallActive, 20*time.Second)
	carolOld := carol.ev.waitIncoming(t, 1)
	carol.ev.waitCall(t, carolOld, CallActive, 20*time.Second)
	require.NoError(t, c1.Hold(ctx))

	c2, err := gouac.Dial("bob")
	require.NoError(t, err)
	gouac.ev.waitCall(t, c2, CallActive, 20*time.Second)
	bobOld := bob.ev.waitIncoming(t, 1)
	bob.ev.waitCall(t, bobOld, CallActive, 20*time.Second)
	mark := gouac.dev.heardLen()
	waitTone(t, "consult call audio", func() []int16 { return gouac.dev.heardSince(mark) }, targetHz, 0.8, 15*time.Second)

	require.NoError(t, c1.AttendedTransfer(ctx, c2))

	// gouac: both calls end as transferred to bob.
	for _, c := range []*Call{c1, c2} {
		ended := gouac.ev.waitCall(t, c, CallEnded, 20*time.Second)
		require.Equal(t, CauseTransferred, ended.Cause, "gouac call to %s: %s", c.Remote(), ended.Reason)
		require.Contains(t, ended.TransferTarget, "sip:bob@")
	}
	// bob: the consult call was replaced by a call from carol, without ringing.
	bobNew := bob.ev.waitOtherActive(t, 20*time.Second, bobOld)
	require.Equal(t, "carol", bobNew.Remote())
	require.Equal(t, bobOld.ID(), bobNew.Replaces())
	require.Contains(t, bobNew.ReferredBy(), "gouac")
	old := bob.ev.waitCall(t, bobOld, CallEnded, 20*time.Second)
	require.Equal(t, CauseReplaced, old.Cause)
	require.Equal(t, bobNew.ID(), old.ReplacedBy)
	bob.ev.mu.Lock()
	require.Len(t, bob.ev.in, 1, "the replacing call must not ring")
	bob.ev.mu.Unlock()
	// carol: her call with gouac ended as transferred; a new call to bob is up.
	carolNew := carol.ev.waitOtherActive(t, 20*time.Second, carolOld)
	require.Equal(t, Outbound, carolNew.Direction())
	require.Equal(t, "bob", carolNew.Remote())
	endedCarol := carol.ev.waitCall(t, carolOld, CallEnded, 20*time.Second)
	require.Equal(t, CauseTransferred, endedCarol.Cause)
	require.Contains(t, endedCarol.TransferTarget, "sip:bob@")

	// carol and bob hear each other.
	markBob, markCarol := bob.dev.heardLen(), carol.dev.heardLen()
	waitTone(t, "bob hears carol", func() []int16 { return bob.dev.heardSince(markBob) }, carolHz, 1.5, 15*time.Second)
	waitTone(t, "carol hears bob", func() []int16 { return carol.dev.heardSince(markCarol) }, targetHz, 1.5, 15*time.Second)

	require.NoError(t, bobNew.Hangup())
	carol.ev.waitCall(t, carolNew, CallEnded, 20*time.Second)
	require.Empty(t, gouac.Calls())
}

// TestIntegrationTransfereePhone: the remote party is a Phone, which
// follows the REFER itself. A transfer to an unknown user fails (NOTIFY
// with 404) and leaves the call up; a blind transfer to bob then succeeds.
func TestIntegrationTransfereePhone(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	gouac := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	carol := startPhone(t, k, "carol", "carol123", carolHz, nil)
	bob := startPhone(t, k, "bob", "bob123", targetHz, nil)
	answerAll(carol)
	answerAll(bob)
	for _, p := range []*testPhone{gouac, carol, bob} {
		p.ev.waitReg(t, RegRegistered, 0)
	}
	ctx := siptest.Ctx(t, 120*time.Second)

	c, err := gouac.Dial("carol")
	require.NoError(t, err)
	gouac.ev.waitCall(t, c, CallActive, 20*time.Second)
	carolOld := carol.ev.waitIncoming(t, 1)
	carol.ev.waitCall(t, carolOld, CallActive, 20*time.Second)

	err = c.Transfer(ctx, "nobody")
	require.ErrorContains(t, err, "failed: 404")
	require.Equal(t, CallActive, c.State())
	require.Equal(t, CallActive, carolOld.State())
	failed := carol.ev.waitOtherEnded(t, carolOld)
	require.Equal(t, CauseNotFound, failed.Cause)

	require.NoError(t, c.Transfer(ctx, "bob"))
	ended := gouac.ev.waitCall(t, c, CallEnded, 20*time.Second)
	require.Equal(t, CauseTransferred, ended.Cause)
	in := bob.ev.waitIncoming(t, 1)
	require.Equal(t, "carol", in.Remote())
	require.Contains(t, in.ReferredBy(), "sip:gouac@")
	endedCarol := carol.ev.waitCall(t, carolOld, CallEnded, 20*time.Second)
	require.Equal(t, CauseTransferred, endedCarol.Cause)
	require.Contains(t, endedCarol.TransferTarget, "sip:bob@")
	bob.ev.waitCall(t, in, CallActive, 20*time.Second)
	mark := bob.dev.heardLen()
	waitTone(t, "bob hears carol", func() []int16 { return bob.dev.heardSince(mark) }, carolHz, 1.2, 15*time.Second)
	require.NoError(t, in.Hangup())
	bob.ev.waitCall(t, in, CallEnded, 20*time.Second)
}

// waitOtherEnded waits for the end of a call other than not.
func (e *events) waitOtherEnded(t *testing.T, not *Call) CallEvent {
	t.Helper()
	var got CallEvent
	e.wait(t, 20*time.Second, "another call ended", func() bool {
		for _, ev := range e.calls {
			if ev.Call != not && ev.State == CallEnded {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}
