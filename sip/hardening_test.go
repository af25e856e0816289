package sip

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

func TestHardeningDefaults(t *testing.T) {
	cfg, err := Config{Account: Account{User: "101", Domain: "127.0.0.1:5060"}}.withDefaults()
	require.NoError(t, err)
	h := cfg.Hardening
	require.False(t, h.AllowAnySource, "ghost-call protection is on by default")
	require.Equal(t, 25*time.Second, h.KeepAlive)
	require.Equal(t, 2*time.Second, h.NetworkPoll)
	require.Equal(t, float64(defaultRequestRate), h.RequestRate)
	require.Equal(t, defaultRequestBurst, h.RequestBurst)
	require.Equal(t, defaultMaxCalls, h.MaxCalls)
	require.Equal(t, time.Minute, h.FailbackAfter)
}

func TestHardeningInvalid(t *testing.T) {
	tests := []struct {
		name string
		h    Hardening
		want string
	}{
		{"negative rate", Hardening{RequestRate: -1}, "negative"},
		{"negative calls", Hardening{MaxCalls: -1}, "negative"},
		{"trusted URL", Hardening{TrustedSources: []string{"sip:pbx"}}, "trusted source"},
		{"failover port", Hardening{FailoverRegistrars: []string{"pbx:0"}}, "failover registrar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Config{Account: Account{User: "101", Domain: "pbx"}, Hardening: tt.h}.withDefaults()
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestGateTrust checks which sources may send out-of-dialog requests:
// registrar and proxy by IP and port (UDP) or IP (TCP), trusted sources
// with or without a port, everyone with AllowAnySource.
func TestGateTrust(t *testing.T) {
	acc := Account{Registrar: "127.0.0.1:5060", Proxy: "127.0.0.2:5080"}
	udp := func(ip string, port int) net.Addr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: port} }
	tests := []struct {
		name   string
		h      Hardening
		src    net.Addr
		stream bool
		want   bool
	}{
		{"registrar", Hardening{}, udp("127.0.0.1", 5060), false, true},
		{"proxy", Hardening{}, udp("127.0.0.2", 5080), false, true},
		{"registrar IP, other port", Hardening{}, udp("127.0.0.1", 5061), false, false},
		{"registrar IP, other port, TCP", Hardening{}, udp("127.0.0.1", 40000), true, true},
		{"stranger", Hardening{}, udp("127.0.0.9", 5060), false, false},
		{"trusted host, any port", Hardening{TrustedSources: []string{"127.0.0.9"}}, udp("127.0.0.9", 1234), false, true},
		{"trusted host:port", Hardening{TrustedSources: []string{"127.0.0.9:7000"}}, udp("127.0.0.9", 7001), false, false},
		{"failover registrar", Hardening{FailoverRegistrars: []string{"127.0.0.3"}}, udp("127.0.0.3", 5060), false, true},
		{"protection off", Hardening{AllowAnySource: true}, udp("127.0.0.9", 5060), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(tt.h, &gateStats{})
			g.resolve(context.Background(), acc, TransportUDP)
			require.Equal(t, tt.want, g.isTrusted(tt.src, tt.stream))
		})
	}
}

// TestGateFloodLimit: a trusted source's out-of-dialog requests pass up to
// the burst, then are refused; its in-dialog requests always pass.
func TestGateFloodLimit(t *testing.T) {
	g := newGate(Hardening{RequestRate: 0.001, RequestBurst: 3}, &gateStats{})
	g.resolve(context.Background(), Account{Registrar: "127.0.0.1:5060", Proxy: "127.0.0.1:5060"}, TransportUDP)
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	msg := func(toTag string) []byte {
		return []byte("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n" +
			"From: <sip:a@b>;tag=1\r\nTo: <sip:bob@x>" + toTag + "\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	}
	props := gosip.TransportReadProps{Transport: "UDP", RemoteAddr: src}
	passed := 0
	for range 10 {
		if out, err := g.filter(props, msg("")); err == nil && out != nil {
			passed++
		}
	}
	require.Equal(t, 3, passed)
	require.EqualValues(t, 7, g.stats.snapshot().Dropped, "no transport to answer on: the refusals are dropped")
	out, err := g.filter(props, msg(";tag=x"))
	require.NoError(t, err)
	require.NotNil(t, out, "an in-dialog request from the registrar was refused")
}

// TestNetWatch: an address change and a wall-clock jump (resume from
// suspend) each re-register once; nothing happens while all is quiet.
func TestNetWatch(t *testing.T) {
	tests := []struct {
		name   string
		change func(addrs *string, offset *time.Duration)
		want   string
	}{
		{"address", func(a *string, _ *time.Duration) { *a = "eth0=10.0.0.2/24" }, "network addresses changed"},
		{"resume", func(_ *string, o *time.Duration) { *o = time.Hour }, "resumed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			addrs, offset := "eth0=10.0.0.1/24", time.Duration(0)
			reasons := make(chan string, 10)
			w := &netWatch{
				every:   10 * time.Millisecond,
				addrs:   func() (string, error) { mu.Lock(); defer mu.Unlock(); return addrs, nil },
				wall:    func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Round(0).Add(offset) },
				changed: func(r string) { reasons <- r },
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			select {
			case r := <-reasons:
				t.Fatalf("re-registered while nothing changed: %s", r)
			case <-time.After(100 * time.Millisecond):
			}
			mu.Lock()
			tt.change(&addrs, &offset)
			mu.Unlock()
			select {
			case r := <-reasons:
				require.Contains(t, r, tt.want)
			case <-time.After(5 * time.Second):
				t.Fatal("no re-registration after the change")
			}
			select {
			case r := <-reasons:
				t.Fatalf("re-registered twice for one change: %s", r)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

func TestInterfaceAddrs(t *testing.T) {
	a, err := interfaceAddrs()
	require.NoError(t, err)
	require.Contains(t, a, "127.0.0.1", "loopback is up")
}
