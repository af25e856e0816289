package sip

import (
	"net"
	"testing"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

func TestRouteFixRequester(t *testing.T) {
	remote := gosip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 5070}
	proxy := gosip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060, UriParams: gosip.NewParams()}
	proxy.UriParams.Add("lr", "")

	tests := []struct {
		name     string
		route    *gosip.Uri
		udp      bool
		wantDest string
		wantPort int
	}{
		// diago's re-INVITE: destination pinned to the Contact before Route was added.
		{"pinned re-INVITE follows the route", &proxy, true, "127.0.0.1:5060", 5099},
		{"no route keeps the Request-URI", nil, true, "127.0.0.1:5070", 5099},
		{"tcp gets no local address", &proxy, false, "127.0.0.1:5060", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := gosip.NewRequest(gosip.INVITE, remote)
			req.SetTransport("UDP")
			if !tt.udp {
				req.SetTransport("TCP")
			}
			req.SetDestination(req.Destination()) // what sipgo's cloneRequest does
			if tt.route != nil {
				req.AppendHeader(&gosip.RouteHeader{Address: *tt.route})
			}
			r := &routeFixRequester{laddr: gosip.Addr{IP: net.ParseIP("127.0.0.1"), Port: 5099}}
			r.fix(req)
			require.Equal(t, tt.wantDest, req.Destination())
			require.Equal(t, tt.wantPort, req.Laddr.Port)
		})
	}
}

func TestFreePort(t *testing.T) {
	p, err := freePort("127.0.0.1")
	require.NoError(t, err)
	require.Positive(t, p)
}

func TestTargetURI(t *testing.T) {
	p, err := New(Config{Account: Account{User: "101", Domain: "pbx.example.com:5080", DialPlan: DialPlanRussiaE164}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	tests := []struct{ in, want string }{
		{"8 912 345-67-89", "sip:+79123456789@pbx.example.com:5080"},
		{"102", "sip:102@pbx.example.com:5080"},
		{"alice", "sip:alice@pbx.example.com:5080"},
		{"bob@other.example", "sip:bob@other.example"},
		{"sip:carol@10.0.0.1:5062", "sip:carol@10.0.0.1:5062"},
	}
	for _, tt := range tests {
		u, err := p.targetURI(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, u.String(), tt.in)
	}
	_, err = p.targetURI("no spaces allowed")
	require.Error(t, err)

	_, err = p.Dial("102")
	require.ErrorIs(t, err, ErrNotRunning)
}
