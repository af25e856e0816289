package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// TestSIPAccount_WebSocketGateway: a wss account reaches the phone with its
// gateway's CA file and WebSocket path.
func TestSIPAccount_WebSocketGateway(t *testing.T) {
	got := sipAccount(settings.SIPAccount{
		User: "101", Domain: "gw.example.com", Transport: settings.TransportWSS,
		CACertFile: "/etc/ssl/gw-ca.pem", WSPath: "/ws",
	}, "secret")
	require.Equal(t, sip.TransportWSS, got.Transport)
	require.Equal(t, "/etc/ssl/gw-ca.pem", got.CAFile)
	require.Equal(t, "/ws", got.WSPath)
	require.Equal(t, "secret", got.Password)
}
