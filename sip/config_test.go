package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{Account: Account{User: "101", Domain: "127.0.0.1:5060"}}.withDefaults()
	require.NoError(t, err)
	a := cfg.Account
	require.Equal(t, "101", a.AuthUser)
	require.Equal(t, "127.0.0.1:5060", a.Registrar)
	require.Equal(t, "127.0.0.1:5060", a.Proxy)
	require.Equal(t, TransportUDP, a.Transport)
	require.Equal(t, 300*time.Second, a.Expiry)
	require.Equal(t, []string{CodecPCMU, CodecPCMA}, a.Codecs)
	require.Equal(t, DTMFRFC4733, a.DTMF)
	require.Equal(t, "127.0.0.1", cfg.BindHost, "loopback registrar binds loopback")

	cfg, err = Config{Account: Account{User: "101", Domain: "pbx.example.com"}}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0", cfg.BindHost)
}

func TestConfigInvalid(t *testing.T) {
	base := func() Config { return Config{Account: Account{User: "101", Domain: "pbx"}} }
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no user", func(c *Config) { c.Account.User = "" }, "user is required"},
		{"user with domain", func(c *Config) { c.Account.User = "101@pbx" }, "bare user part"},
		{"no domain", func(c *Config) { c.Account.Domain = "" }, "domain is required"},
		{"registrar URL", func(c *Config) { c.Account.Registrar = "sip://pbx" }, "registrar"},
		{"bad port", func(c *Config) { c.Account.Proxy = "pbx:99999" }, "invalid port"},
		{"sctp", func(c *Config) { c.Account.Transport = "sctp" }, "transport \"sctp\" is not supported (udp, tcp, tls, ws, wss)"},
		{"ca with ws", func(c *Config) { c.Account.Transport, c.Account.CAFile = TransportWS, "/ca.pem" }, "only used with the tls and wss transports"},
		{"ws path without ws", func(c *Config) { c.Account.WSPath = "/ws" }, "only used with the ws and wss transports"},
		{"ws path relative", func(c *Config) { c.Account.Transport, c.Account.WSPath = TransportWS, "ws" }, "must start with /"},
		{"ws path with space", func(c *Config) { c.Account.Transport, c.Account.WSPath = TransportWSS, "/w s" }, "must start with /"},
		{"sdes with wss", func(c *Config) { c.Account.Transport, c.Account.SRTP = TransportWSS, SRTPRequired }, "always encrypted (DTLS-SRTP)"},
		{"srtp", func(c *Config) { c.Account.SRTP = "best-effort" }, "SRTP policy \"best-effort\" is not supported (off, optional, required)"},
		{"ca without tls", func(c *Config) { c.Account.CAFile = "/ca.pem" }, "only used with the tls and wss transports"},
		{"short expiry", func(c *Config) { c.Account.Expiry = time.Second }, "below 10 s"},
		{"codec", func(c *Config) { c.Account.Codecs = []string{"PCMU", "G722"} }, `codec "G722" is not supported (opus, PCMU, PCMA)`},
		{"codec twice", func(c *Config) { c.Account.Codecs = []string{"PCMU", "pcmu"} }, "codec PCMU is listed twice"},
		{"dtmf", func(c *Config) { c.Account.DTMF = "inband" }, "DTMF"},
		{"bind host", func(c *Config) { c.BindHost = "localhost" }, "not an IP"},
		{"rtp range", func(c *Config) { c.RTPPortMin, c.RTPPortMax = 5000, 5001 }, "RTP port range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.mutate(&c)
			_, err := c.withDefaults()
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRefreshAfter(t *testing.T) {
	tests := []struct{ granted, want time.Duration }{
		{60 * time.Second, 45 * time.Second},
		{3600 * time.Second, 3570 * time.Second},
		{10 * time.Second, 7500 * time.Millisecond},
		{time.Second, time.Second},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, refreshAfter(tt.granted), tt.granted.String())
	}
}

func TestSplitContacts(t *testing.T) {
	got := splitContacts(`<sip:a@1.2.3.4:5060;transport=udp>;expires=60, "Doe, J" <sip:b@h>;expires=30`)
	require.Equal(t, []string{`<sip:a@1.2.3.4:5060;transport=udp>;expires=60`, `"Doe, J" <sip:b@h>;expires=30`}, got)
}

func TestStateStrings(t *testing.T) {
	require.Equal(t, "registered", RegRegistered.String())
	require.Equal(t, "held", CallHeld.String())
	require.Equal(t, "inbound", Inbound.String())
	require.Equal(t, "busy", CauseBusy.String())
	require.Equal(t, "RegState(99)", RegState(99).String())
	require.Equal(t, CauseBusy, causeFromStatus(486))
	require.Equal(t, CauseDeclined, causeFromStatus(603))
	require.Equal(t, CauseNotFound, causeFromStatus(404))
	require.Equal(t, CauseFailed, causeFromStatus(500))
}

func TestRegisterError(t *testing.T) {
	e := &RegisterError{StatusCode: 403, Reason: "Forbidden"}
	require.True(t, e.AuthFailed())
	require.Equal(t, "register rejected: 403 Forbidden", e.Error())
	require.False(t, (&RegisterError{StatusCode: 503}).AuthFailed())
}
