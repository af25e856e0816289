package main

import (
	"testing"
	"time"

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

// TestSIPHardening_FromTheAccount: failover registrars, trusted sources,
// ghost-call protection and keep-alive reach the phone; what the account
// leaves at zero keeps sip's defaults.
func TestSIPHardening_FromTheAccount(t *testing.T) {
	for _, tc := range []struct {
		name string
		acc  settings.SIPAccount
		want sip.Hardening
	}{
		{"defaults", settings.SIPAccount{}, sip.Hardening{}},
		{"all set", settings.SIPAccount{FailoverRegistrars: []string{"pbx2.example.com:5060"}, TrustedSources: []string{"10.0.0.5"},
			AcceptAnySource: true, KeepAliveSeconds: 40},
			sip.Hardening{FailoverRegistrars: []string{"pbx2.example.com:5060"}, TrustedSources: []string{"10.0.0.5"},
				AllowAnySource: true, KeepAlive: 40 * time.Second}},
		{"keep-alive off", settings.SIPAccount{KeepAliveSeconds: 40, KeepAliveOff: true}, sip.Hardening{KeepAlive: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, sipHardening(tc.acc)) })
	}
}

// TestSIPAccount_SRTPPolicy: every audio encryption setting reaches the
// phone as the policy of the same meaning, and the phone accepts it.
func TestSIPAccount_SRTPPolicy(t *testing.T) {
	for _, tc := range []struct {
		set  settings.SRTPPolicy
		want sip.SRTPPolicy
	}{
		{"", ""}, // sip's default is off
		{settings.SRTPOff, sip.SRTPOff},
		{settings.SRTPOptional, sip.SRTPOptional},
		{settings.SRTPRequired, sip.SRTPRequired},
	} {
		t.Run(string(tc.set), func(t *testing.T) {
			acc := sipAccount(settings.SIPAccount{User: "101", Domain: "127.0.0.1", Transport: settings.TransportUDP, SRTP: tc.set}, "secret")
			require.Equal(t, tc.want, acc.SRTP)
			p, err := sip.New(sip.Config{Account: acc, BindHost: "127.0.0.1"})
			require.NoError(t, err)
			require.NoError(t, p.Close())
		})
	}
}
