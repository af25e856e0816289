package sip

import (
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationCloseBeforeACKSendsBye closes the phone (or hangs the
// call up) between its 200 to an incoming INVITE and the caller's ACK,
// over UDP and TCP. The caller must get a BYE instead of being left in a
// silent call: after its ACK, which SIPp sends 1.5 s late (RFC 3261 §15:
// SIPp fails on a BYE before it), or closeAckWait after the hang-up when
// the ACK never comes. Close must return in bounded time.
func TestIntegrationCloseBeforeACKSendsBye(t *testing.T) {
	closePhone := func(p *testPhone, _ *Call) error { return p.Close() }
	hangup := func(_ *testPhone, c *Call) error { return c.Hangup() }
	tests := []struct {
		name     string
		scenario string
		hangup   func(*testPhone, *Call) error
		want     EndCause
		// How long until the hang-up has returned and the call ended: the
		// wait for the ACK, then the BYE's and the unREGISTER's round trips
		// (below 10 ms here, 3 s of slack for a loaded machine).
		min, max time.Duration
	}{
		{"LateACK", "uac-late-ack.xml", closePhone, CauseShutdown, time.Second, 1500*time.Millisecond + 3*time.Second},
		{"NoACK", "uac-no-ack.xml", closePhone, CauseShutdown, closeAckWait, closeAckWait + 3*time.Second},
		{"NoACKHangup", "uac-no-ack.xml", hangup, CauseLocalHangup, closeAckWait, closeAckWait + 3*time.Second},
	}
	for _, tt := range tests {
		for _, tr := range []Transport{TransportUDP, TransportTCP} {
			t.Run(tt.name+"/"+string(tr), func(t *testing.T) {
				took := hangupBeforeACK(t, tr, tt.scenario, tt.hangup, tt.want)
				t.Logf("hang-up to call ended: %s", took)
				require.GreaterOrEqual(t, took, tt.min, "the BYE did not wait for the ACK")
				require.Less(t, took, tt.max, "the hang-up took too long")
			})
		}
	}
}

// hangupBeforeACK has SIPp call a phone over tr with scenario, answers,
// and calls hangup once the phone's 200 is on the way; it requires the
// call to end with want and the scenario (ending with the caller
// answering our BYE) to pass, and returns how long it took until hangup
// had returned and the call had ended.
func hangupBeforeACK(t *testing.T, tr Transport, scenario string, hangup func(*testPhone, *Call) error, want EndCause) time.Duration {
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.Transport = tr })
	p.ev.waitReg(t, RegRegistered, 0)

	sipp := startSIPpUAC(t, k, scenario, "gouac")
	c := p.ev.waitIncoming(t, 1)
	c.mu.Lock()
	d := c.in
	c.mu.Unlock()
	answering := make(chan struct{})
	var once sync.Once
	d.OnStateReplay(func(s gosip.DialogState) {
		if s >= gosip.DialogStateEstablished {
			once.Do(func() { close(answering) })
		}
	})
	require.NoError(t, c.Answer())
	select {
	case <-answering: // our 200 is on its way
	case <-time.After(10 * time.Second):
		t.Fatal("the call was not answered")
	}
	require.NotEqual(t, gosip.DialogStateConfirmed, d.LoadState(), "the ACK came before the hang-up")

	start := time.Now()
	require.NoError(t, hangup(p, c))
	end := p.ev.waitCall(t, c, CallEnded, closeAckWait+10*time.Second)
	took := time.Since(start)
	require.Equal(t, want, end.Cause, end.Reason)
	require.False(t, c.Info().Answered.IsZero(), "the call was answered")
	sipp.wait(t) // SIPp got our BYE (after its ACK, if any) and answered it
	return took
}

// TestIntegrationNoACKEndsWithBye: the caller's ACK to our 200 never
// comes and nobody hangs up. RFC 3261 §13.3.1.4: after 64*T1 the dialog is
// confirmed and the session ended with a BYE. (sipgo's own 64*T1 timer
// never fires: the answer used to wait until its transaction died, ~32 s,
// then fail with no BYE, the caller left in the call.) The phone's wait is
// shortened here; SIPp answers our BYE.
func TestIntegrationNoACKEndsWithBye(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) {
			k := siptest.StartKamailio(t, callUsers)
			// Set before the phone runs: its call goroutines read it.
			shortWait := func(p *Phone) { p.noAckWait = 2 * time.Second }
			p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.Transport = tr }, shortWait)
			p.ev.waitReg(t, RegRegistered, 0)

			sipp := startSIPpUAC(t, k, "uac-no-ack.xml", "gouac")
			c := p.ev.waitIncoming(t, 1)
			start := time.Now()
			require.NoError(t, c.Answer())
			end := p.ev.waitCall(t, c, CallEnded, p.noAckWait+10*time.Second)
			took := time.Since(start)
			t.Logf("answer to call ended: %s", took)
			require.Equal(t, CauseFailed, end.Cause)
			require.Contains(t, end.Reason, "no ACK")
			require.GreaterOrEqual(t, took, p.noAckWait, "the call did not wait for the ACK")
			sipp.wait(t) // SIPp got our BYE and answered it
		})
	}
}
