package siptest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestIntegration_KamailioSeesBaresipRegister: Registered reads the
// location table, so tests can wait for a binding instead of sleeping.
func TestIntegration_KamailioSeesBaresipRegister(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"alice": "alice123"})
	require.False(t, k.Registered("alice"))
	siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(), ToneHz: 700})
	require.Eventually(t, func() bool { return k.Registered("alice") }, 10*time.Second, 100*time.Millisecond)
	require.False(t, k.Registered("bob"))
}

// TestIntegration_KamailioWSWithRTPEngine: the WebSocket Kamailio starts
// with rtpengine, which answers the ng protocol's ping and accepts a
// WebSocket upgrade on the ws port.
func TestIntegration_KamailioWSWithRTPEngine(t *testing.T) {
	k := siptest.StartKamailioWS(t, map[string]string{"alice": "alice123"}, siptest.WSOptions{RTPEngine: true})
	require.True(t, k.RTPEngine.Ping())
	require.True(t, siptest.Ping(k.Addr()))
	require.Equal(t, 101, siptest.WSUpgradeStatus(t, k.WSAddr()))
}
