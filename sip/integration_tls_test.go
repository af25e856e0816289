package sip

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// overTLS points a test phone at Kamailio's TLS listener, trusting caFile.
func overTLS(k *siptest.KamailioTLS, caFile string) func(*Config) {
	return func(c *Config) {
		c.Account.Domain, c.Account.Transport, c.Account.CAFile = k.TLSAddr(), TransportTLS, caFile
	}
}

// TestIntegrationTLS_CallThroughTheProxyWithAudio registers two phones over
// TLS (certificate verified against the test's CA) and calls from one to
// the other through Kamailio, audio checked both ways.
func TestIntegrationTLS_CallThroughTheProxyWithAudio(t *testing.T) {
	k := siptest.StartKamailioTLS(t, callUsers)
	caller, callee, c, in := callOverTLS(t, k, nil, nil)
	waitTone(t, "caller heard", func() []int16 { return caller.dev.heardSince(0) }, baresipHz, 2, 15*time.Second)
	waitTone(t, "callee heard", func() []int16 { return callee.dev.heardSince(0) }, phoneHz, 2, 15*time.Second)
	require.NoError(t, c.Hangup())
	callee.ev.waitCall(t, in, CallEnded, 20*time.Second)
	require.Positive(t, k.Proc.CountLog("proto=tls"), "the requests came over TLS")
}

// callOverTLS registers gouac (the caller, sending phoneHz) and bob (the
// callee, sending baresipHz) over TLS with k, each config adjusted by its
// mutate (nil: none), and connects a call from gouac to bob.
func callOverTLS(t *testing.T, k *siptest.KamailioTLS, callerCfg, calleeCfg func(*Config)) (caller, callee *testPhone, out, in *Call) {
	t.Helper()
	with := func(mutate func(*Config)) func(*Config) {
		return func(c *Config) {
			overTLS(k, k.CAFile)(c)
			if mutate != nil {
				mutate(c)
			}
		}
	}
	caller = startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, with(callerCfg))
	callee = startPhone(t, k.Kamailio, "bob", "bob123", baresipHz, with(calleeCfg))
	caller.ev.waitReg(t, RegRegistered, 0)
	callee.ev.waitReg(t, RegRegistered, 0)

	out, err := caller.Dial("bob")
	require.NoError(t, err)
	in = callee.ev.waitIncoming(t, 1)
	require.NoError(t, in.Answer())
	caller.ev.waitCall(t, out, CallActive, 20*time.Second)
	return caller, callee, out, in
}

// TestIntegrationTLS_UntrustedCertificateSaysSo: without the PBX's CA the
// registration fails and says why in words a person can act on.
func TestIntegrationTLS_UntrustedCertificateSaysSo(t *testing.T) {
	k := siptest.StartKamailioTLS(t, callUsers)
	p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, overTLS(k, ""))
	ev := p.ev.waitReg(t, RegFailed, 0)
	require.ErrorIs(t, ev.Err, ErrTLSUntrusted)
	require.ErrorContains(t, ev.Err, "set the account's CA file")
	t.Logf("what the operator reads: %v", ev.Err)
}

func TestTLS_CAFileProblems(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing file", "/nonexistent/ca.pem", "CA file"},
		{"not PEM", notPEM, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tlsClientConfig(Account{Transport: TransportTLS, CAFile: tc.file})
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := New(Config{Account: Account{User: "1", Domain: "pbx.example.com", CAFile: "/x.pem"}})
	require.ErrorContains(t, err, "only used with the tls and wss transports")
}

// TestIntegrationTLS_CertificateForAnotherHostSaysSo: the PBX is reached
// by a name its certificate does not carry.
func TestIntegrationTLS_CertificateForAnotherHostSaysSo(t *testing.T) {
	k := siptest.StartKamailioTLS(t, callUsers)
	_, port, err := splitHostPort(k.TLSAddr())
	require.NoError(t, err)
	p := startPhone(t, k.Kamailio, "gouac", "go123", phoneHz, func(c *Config) {
		overTLS(k, k.CAFile)(c)
		c.Account.Domain = "localhost:" + strconv.Itoa(port)
	})
	ev := p.ev.waitReg(t, RegFailed, 0)
	require.ErrorIs(t, ev.Err, ErrTLSUntrusted)
	require.ErrorContains(t, ev.Err, "it is for [127.0.0.1], not localhost")
}
