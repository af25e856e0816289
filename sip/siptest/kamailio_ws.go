package siptest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// KamailioWS is a Kamailio that also takes SIP over WebSocket: ws on its
// own port (WSAddr) and wss on the TLS listener (WSSAddr, certificate
// signed by CAFile), as WebRTC gateways do (RFC 7118).
type KamailioWS struct {
	*KamailioTLS
	wsPort int
	// RTPEngine bridges WebRTC and plain RTP calls; nil when not asked for.
	RTPEngine *RTPEngine
}

// WSAddr is the ws listener's host:port.
func (k *KamailioWS) WSAddr() string { return "127.0.0.1:" + strconv.Itoa(k.wsPort) }

// WSSAddr is the wss listener's host:port (Kamailio's TLS listener, which
// takes both SIP over TLS and WebSocket upgrades).
func (k *KamailioWS) WSSAddr() string { return k.TLSAddr() }

// WSOptions configures StartKamailioWS.
type WSOptions struct {
	// RTPEngine starts rtpengine and anchors the media of calls between a
	// WebSocket (WebRTC) leg and a plain leg in it.
	RTPEngine bool
}

// StartKamailioWS starts Kamailio with users on UDP/TCP (Addr), TLS
// (TLSAddr), ws (WSAddr) and wss (WSSAddr), and rtpengine when opts ask,
// and stops them in t.Cleanup. It needs the Debian packages
// kamailio-tls-modules and kamailio-websocket-modules (and rtpengine-daemon).
func StartKamailioWS(t testing.TB, users map[string]string, opts WSOptions) *KamailioWS {
	t.Helper()
	requireModule(t, "tls.so", "kamailio-tls-modules")
	requireModule(t, "websocket.so", "kamailio-websocket-modules")
	defines := "#!define WITH_WEBSOCKET\n"
	var rtpe *RTPEngine
	rtpengine := ""
	if opts.RTPEngine {
		rtpe = StartRTPEngine(t)
		defines += "#!define WITH_RTPENGINE\n"
		rtpengine = rtpe.NGAddr()
	}
	return firstStart(t, func() *KamailioWS {
		kw := &KamailioWS{KamailioTLS: &KamailioTLS{tlsPort: Port(t)}, wsPort: Port(t), RTPEngine: rtpe}
		kw.Kamailio = newKamailio(t, users, func(k *Kamailio, cfg string) string {
			cfg = kw.enableTLS(k, cfg)
			cfg = strings.NewReplacer("__KWSPORT__", strconv.Itoa(kw.wsPort), "__KRTPENGINE__", rtpengine).Replace(cfg)
			// The defines go after the "#!KAMAILIO" first line.
			first, rest, _ := strings.Cut(cfg, "\n")
			return first + "\n" + defines + rest
		})
		return kw
	})
}

// WSUpgradeStatus sends a WebSocket upgrade (subprotocol sip) to addr and
// returns the HTTP status of the answer (101 when it switched).
func WSUpgradeStatus(t testing.TB, addr string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n", addr)
	require.NoError(t, err)
	var code int
	_, err = fmt.Fscanf(c, "HTTP/1.1 %d", &code)
	require.NoError(t, err)
	return code
}
