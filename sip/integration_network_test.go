package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// resilientConfig makes a phone notice a lost registrar quickly: a 1 s
// keep-alive and 2 s request timeout instead of 25 s and 8 s.
func resilientConfig(c *Config) {
	c.Hardening.KeepAlive = time.Second
	c.RequestTimeout = 2 * time.Second
	c.RetryMin, c.RetryMax = 2*time.Second, 30*time.Second
}

// waitBinding polls Kamailio's location table until user is registered
// there and returns how long that took.
func waitBinding(t testing.TB, k *siptest.Kamailio, user string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !k.Registered(user) {
		if time.Since(start) > timeout {
			t.Fatalf("%s not registered at %s within %s", user, k.Addr(), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// registrarReturn registers bob over tr, stops Kamailio (its bindings are
// lost), waits until the phone has noticed (keep-alive fails, REGISTER
// times out), starts Kamailio again and returns the time from Kamailio
// answering again to bob's binding being back in its location table.
func registrarReturn(t testing.TB, tr Transport) time.Duration {
	k, setTransport := startKamailioFor(t, callUsers, tr)
	p := startPhone(t, k, "bob", "bob123", phoneHz, func(c *Config) {
		resilientConfig(c)
		setTransport(c)
	})
	p.ev.waitReg(t, RegRegistered, 0)
	waitBinding(t, k, "bob", 10*time.Second)

	if tr == TransportUDP {
		// The keep-alive is an OPTIONS from our listening port (the one the
		// NAT binding is for) every second.
		from := "from " + p.LocalAddr() + " "
		// Waited for rather than counted after a fixed sleep: on a loaded
		// machine the timer and Kamailio's log lag behind the wall clock.
		start := k.Proc.CountLog("REQ OPTIONS", from)
		require.Eventually(t, func() bool { return k.Proc.CountLog("REQ OPTIONS", from)-start >= 2 }, 8*time.Second, 100*time.Millisecond,
			"no keep-alive OPTIONS from %s", p.LocalAddr())
	}

	n := p.ev.regCount()
	k.Stop()
	p.ev.waitReg(t, RegFailed, n)
	// Down for a while: the retry backoff has grown past its first step.
	time.Sleep(3 * time.Second)
	k.Start() // returns once Kamailio answers OPTIONS
	return waitBinding(t, k, "bob", 30*time.Second)
}

// TestIntegrationRegistrarReturn: the registrar goes away and comes back
// (with an empty location table); the phone notices through its
// keep-alive (OPTIONS on UDP and WebSocket, CRLF on TCP) and is
// registered again within 5 s of the return.
func TestIntegrationRegistrarReturn(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP, TransportWS} {
		t.Run(string(tr), func(t *testing.T) {
			d := registrarReturn(t, tr)
			t.Logf("re-registered %s after the registrar came back", d.Round(time.Millisecond))
			require.LessOrEqual(t, d, 5*time.Second)
		})
	}
}

// TestIntegrationRegistrarFailover: with the primary Kamailio down the
// phone registers with the secondary; when the primary is back it
// registers there again and removes its binding from the secondary.
func TestIntegrationRegistrarFailover(t *testing.T) {
	primary := siptest.StartKamailio(t, callUsers)
	secondary := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, primary, "bob", "bob123", phoneHz, func(c *Config) {
		resilientConfig(c)
		c.Account.Domain = siptest.SharedDomain
		c.Account.Registrar = primary.Addr()
		c.Hardening.FailoverRegistrars = []string{secondary.Addr()}
		c.Hardening.FailbackAfter = time.Second
	})
	p.ev.waitReg(t, RegRegistered, 0)
	waitBinding(t, primary, "bob", 10*time.Second)
	require.False(t, secondary.Registered("bob"))

	primary.Stop()
	d := waitBinding(t, secondary, "bob", 30*time.Second)
	t.Logf("registered with the secondary %s after the primary stopped", d.Round(time.Millisecond))

	// An INVITE through the secondary is trusted (it is one of our registrars) and rings.
	var rang = make(chan struct{}, 1)
	p.OnIncoming(func(c *Call) {
		select {
		case rang <- struct{}{}:
		default:
		}
		go func() { _ = c.Reject(486) }()
	})
	require.Equal(t, 0, runSipp(t, "sipp-secondary", "invite-flood.xml", secondary.Addr(), "-s", "bob", "-m", "1", "-timeout", "30s"))
	select {
	case <-rang:
	case <-time.After(5 * time.Second):
		t.Fatal("a call through the secondary did not ring")
	}

	// Calls go out through the registrar in use: carol, registered only
	// with the secondary, is reached.
	carol := startPhone(t, secondary, "carol", "carol123", baresipHz, func(c *Config) {
		c.Account.Domain = siptest.SharedDomain
		c.Account.Registrar = secondary.Addr()
	})
	carol.ev.waitReg(t, RegRegistered, 0)
	out, err := p.Dial("carol")
	require.NoError(t, err)
	in := carol.ev.waitIncoming(t, 1)
	require.NoError(t, in.Reject(486))
	end := p.ev.waitCall(t, out, CallEnded, 20*time.Second)
	require.Equal(t, 486, end.SIPCode, "the call through the secondary ended with %s", end.Reason)

	primary.Start()
	d = waitBinding(t, primary, "bob", 30*time.Second)
	t.Logf("back on the primary %s after it returned", d.Round(time.Millisecond))
	require.Eventually(t, func() bool { return !secondary.Registered("bob") }, 10*time.Second, 100*time.Millisecond,
		"the binding at the secondary was not removed")
	require.Equal(t, RegRegistered, p.RegState())
}
