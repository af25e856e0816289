package main

import (
	"net/http/httptest"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// startOAuthSim serves the Bitrix24 simulator's demo portal on 127.0.0.1
// with the OAuth application "local.app" (simPortal connects to it) and
// returns an administrator's tokens (offline events need one).
func startOAuthSim(t *testing.T) (sim *b24sim.Server, url, access, refresh string) {
	t.Helper()
	sim, err := b24sim.New(b24sim.Options{ClientID: "local.app", ClientSecret: simClientSecret})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	access, refresh, err = sim.IssueToken(1)
	require.NoError(t, err)
	return sim, srv.URL, access, refresh
}

// simClientSecret is the simulator's OAuth application secret.
const simClientSecret = "app-secret"

// simPortal is the main portal of the settings: the simulator at url.
func simPortal(id, url string) settings.Portal {
	return settings.Portal{ID: id, Name: "Sim", Domain: url, Main: true,
		Auth: settings.Auth{Kind: settings.AuthOAuth, ClientID: "local.app"}}
}

// testAccount is the default SIP account user@domain over UDP.
func testAccount(id, user, domain string, codecs ...string) settings.SIPAccount {
	return settings.SIPAccount{ID: id, User: user, Domain: domain, Transport: settings.TransportUDP,
		ExpirySeconds: 60, Codecs: codecs, DTMF: settings.DTMFRFC4733, Default: true}
}

// stopWithSIGTERM stops the app as a service manager or a logout would and
// expects a clean exit within 20 s.
func stopWithSIGTERM(t *testing.T, cmd *exec.Cmd, exited <-chan error) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "a clean exit on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("omniphone did not stop within 20 s of SIGTERM")
	}
}
