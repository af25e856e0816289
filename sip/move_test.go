package sip

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRouteIP: the Contact address is the one the machine reaches the
// proxy from (only loopback destinations here; connecting a UDP socket
// sends nothing).
func TestRouteIP(t *testing.T) {
	for _, tc := range []struct {
		proxy, want string
	}{
		{"127.0.0.1:5060", "127.0.0.1"},
		{"localhost", "127.0.0.1"},
		{"127.0.0.9:5080", "127.0.0.1"}, // lo's address, whatever loopback destination
		{"", ""},
		{"[::1]:5060", ""}, // no IPv4 address: the interface's address is used instead
	} {
		t.Run(tc.proxy, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ip, err := routeIP(ctx, tc.proxy)
			if tc.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, ip.String())
		})
	}
}
