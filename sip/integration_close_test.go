package sip

import (
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegrationCloseBeforeACKSendsBye closes the phone between its 200
// to an incoming INVITE and the caller's ACK, over UDP and TCP. The caller
// must get a BYE instead of being left in a silent call: after its ACK,
// which SIPp sends 1.5 s late (RFC 3261 §15: SIPp fails on a BYE before
// it). Close must return in bounded time.
func TestIntegrationCloseBeforeACKSendsBye(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		// Close's duration: the wait for the ACK, then the BYE's and the
		// unREGISTER's round trips (below a second here, 3 s of slack for
		// a loaded machine).
		minClose, maxClose time.Duration
	}{
		{"LateACK", "uac-late-ack.xml", time.Second, 1500*time.Millisecond + 3*time.Second},
	}
	for _, tt := range tests {
		for _, tr := range []Transport{TransportUDP, TransportTCP} {
			t.Run(tt.name+"/"+string(tr), func(t *testing.T) {
				took := closeBeforeACK(t, tr, tt.scenario)
				t.Logf("Close took %s", took)
				require.GreaterOrEqual(t, took, tt.minClose, "Close did not wait for the ACK")
				require.Less(t, took, tt.maxClose, "Close took too long")
			})
		}
	}
}

// closeBeforeACK has SIPp call a phone over tr with scenario, answers, and
// closes the phone once its 200 is on the way; it requires the call to
// end by shutdown and the scenario (ending with the caller answering our
// BYE) to pass, and returns how long Close took.
func closeBeforeACK(t *testing.T, tr Transport, scenario string) time.Duration {
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
	require.NotEqual(t, gosip.DialogStateConfirmed, d.LoadState(), "the ACK came before Close")

	start := time.Now()
	require.NoError(t, p.Close())
	took := time.Since(start)

	end := p.ev.waitCall(t, c, CallEnded, 5*time.Second)
	require.Equal(t, CauseShutdown, end.Cause, end.Reason)
	require.False(t, c.Info().Answered.IsZero(), "the call was answered")
	sipp.wait(t) // SIPp got our BYE (after its ACK, if any) and answered it
	return took
}
