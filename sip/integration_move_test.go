package sip

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// fakeNet stands for the machine's network in tests: the address the phone
// puts in its Contact and the interface list its network watch compares.
// The addresses are 127.0.0.x, so every packet stays on loopback.
type fakeNet struct {
	mu sync.Mutex
	ip string
}

func (n *fakeNet) set(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ip = ip
}

func (n *fakeNet) localIP() (net.IP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ip == "" {
		return nil, fmt.Errorf("no interface found")
	}
	return net.ParseIP(n.ip), nil
}

func (n *fakeNet) addrs() (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return "lo=127.0.0.1/8 wlan0=" + n.ip, nil
}

// withNetwork makes the phone read its address and interfaces from n.
func withNetwork(n *fakeNet) Option {
	return func(p *Phone) { p.localIP, p.ifAddrs = n.localIP, n.addrs }
}

// waitContacts waits until Kamailio holds exactly one binding for user and
// it is at host, and returns how long that took.
func waitContacts(t testing.TB, k *siptest.Kamailio, user, host string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < timeout {
		got = k.Contacts(user)
		if len(got) == 1 && strings.Contains(got[0], "@"+host+":") {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s's bindings are %q after %s, want one at %s", user, got, timeout, host)
	return 0
}

// TestIntegrationAddressChangeMovesContact: a laptop changes networks. The
// phone listens on 0.0.0.0, so only its Contact names an address; when
// the machine's address changes it rebuilds its SIP stack for the new one,
// registers the new Contact and removes the old binding, within 5 s — and
// calls reach it there. A call that is up when the address changes keeps
// its stack: the move waits for the call to end.
func TestIntegrationAddressChangeMovesContact(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) { addressChange(t, tr) })
	}
}

func addressChange(t *testing.T, tr Transport) {
	k, setTransport := startKamailioFor(t, callUsers, tr)
	nw := &fakeNet{}
	nw.set("127.0.0.2")
	bob := startPhone(t, k, "bob", "bob123", baresipHz, func(c *Config) {
		setTransport(c)
		c.BindHost = "0.0.0.0"
		c.Hardening.NetworkPoll = 100 * time.Millisecond
	}, withNetwork(nw))
	caller := startPhone(t, k, "gouac", "go123", phoneHz, nil)
	bob.ev.waitReg(t, RegRegistered, 0)
	caller.ev.waitReg(t, RegRegistered, 0)
	waitContacts(t, k, "bob", "127.0.0.2", 10*time.Second)
	_, port, err := net.SplitHostPort(bob.LocalAddr())
	require.NoError(t, err)

	nw.set("127.0.0.3")
	d := waitContacts(t, k, "bob", "127.0.0.3", 10*time.Second)
	t.Logf("registered at the new address and the old binding removed %s after the change (poll 100 ms)", d.Round(time.Millisecond))
	require.LessOrEqual(t, d, 5*time.Second)
	require.Equal(t, net.JoinHostPort("127.0.0.3", port), bob.LocalAddr(), "same port, new address")
	require.Equal(t, RegRegistered, bob.RegState())

	// A call reaches the new address; while it rings the address changes
	// again, and the phone stays where the call is until it ends.
	c, err := caller.Dial("bob")
	require.NoError(t, err)
	in := bob.ev.waitIncoming(t, 1)
	caller.ev.waitCall(t, c, CallRinging, 20*time.Second)
	nw.set("127.0.0.4")
	time.Sleep(time.Second) // ten polls of the network watch
	require.Equal(t, []string{"sip:bob@127.0.0.3:" + port + ";transport=" + string(tr)}, k.Contacts("bob"),
		"the binding moved while a call was ringing")
	require.NoError(t, c.Hangup())
	end := bob.ev.waitCall(t, in, CallEnded, 20*time.Second)
	require.Equal(t, CauseCancelled, end.Cause, end.Reason)
	waitContacts(t, k, "bob", "127.0.0.4", 10*time.Second)

	// After the second move a call is answered and talks both ways: the
	// media follow the new address too.
	c2, err := caller.Dial("bob")
	require.NoError(t, err)
	in2 := bob.ev.waitIncoming(t, 2)
	markBob, markCaller := bob.dev.heardLen(), caller.dev.heardLen()
	require.NoError(t, in2.Answer())
	caller.ev.waitCall(t, c2, CallActive, 20*time.Second)
	waitTone(t, "bob at the new address received", func() []int16 { return bob.dev.heardSince(markBob) }, phoneHz, 1, 15*time.Second)
	waitTone(t, "the caller received", func() []int16 { return caller.dev.heardSince(markCaller) }, baresipHz, 1, 15*time.Second)
	require.NoError(t, c2.Hangup())
	end2 := bob.ev.waitCall(t, in2, CallEnded, 20*time.Second)
	require.Equal(t, CauseRemoteHangup, end2.Cause, end2.Reason)
}

// TestIntegrationStartedWithoutNetwork: a laptop that starts the phone
// before it has a network address gets a working phone, not an error:
// it waits on 127.0.0.1 and moves to the address as soon as one appears.
func TestIntegrationStartedWithoutNetwork(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	nw := &fakeNet{}
	bob := startPhone(t, k, "bob", "bob123", baresipHz, func(c *Config) {
		c.BindHost = "0.0.0.0"
		c.Hardening.NetworkPoll = 100 * time.Millisecond
	}, withNetwork(nw))
	require.Equal(t, "127.0.0.1", hostOf(t, bob.LocalAddr()))
	nw.set("127.0.0.5")
	waitContacts(t, k, "bob", "127.0.0.5", 10*time.Second)
	require.Equal(t, "127.0.0.5", hostOf(t, bob.LocalAddr()))
}

func hostOf(t *testing.T, hostPort string) string {
	t.Helper()
	h, _, err := net.SplitHostPort(hostPort)
	require.NoError(t, err)
	return h
}

// BenchmarkAddressMove: from the machine's address changing to the
// registrar holding only the new Contact, with the default network poll
// (2 s; the move is noticed at the next poll, so expect about half of it
// on average plus the REGISTER round trips).
func BenchmarkAddressMove(b *testing.B) {
	k := siptest.StartKamailio(b, callUsers)
	nw := &fakeNet{}
	nw.set("127.0.0.2")
	bob := startPhone(b, k, "bob", "bob123", baresipHz, func(c *Config) { c.BindHost = "0.0.0.0" }, withNetwork(nw))
	bob.ev.waitReg(b, RegRegistered, 0)
	waitContacts(b, k, "bob", "127.0.0.2", 10*time.Second)
	var total, worst time.Duration
	for i := range b.N {
		host := fmt.Sprintf("127.0.0.%d", 3+i%2)
		nw.set(host)
		d := waitContacts(b, k, "bob", host, 10*time.Second)
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/move")
	b.ReportMetric(float64(worst.Milliseconds()), "ms-worst")
}
