package siptest

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFirstStartTakesNewPortsWhenOneWasTaken: another process binds the
// port chosen for Kamailio before Kamailio does (as in CI, where the
// packages' tests run at once); Kamailio exits and firstStart starts it
// again on a new port.
func TestFirstStartTakesNewPortsWhenOneWasTaken(t *testing.T) {
	RequirePeer(t, "kamailio", "kamailio")
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.LocalAddr().(*net.UDPAddr).Port
	builds := 0
	k := firstStart(t, func() *Kamailio {
		builds++
		if builds > 1 {
			return newKamailio(t, map[string]string{"alice": "pw"}, nil)
		}
		return newKamailio(t, map[string]string{"alice": "pw"}, func(k *Kamailio, cfg string) string {
			cfg = strings.ReplaceAll(cfg, strconv.Itoa(k.port), strconv.Itoa(takenPort))
			k.port = takenPort
			return cfg
		})
	})
	require.Equal(t, 2, builds, "the first Kamailio should have exited on the taken port")
	require.NotEqual(t, takenPort, k.port)
	require.True(t, Ping(k.Addr()))
}
