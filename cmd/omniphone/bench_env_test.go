package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// benchProfile is what omniphone runs with in the benchmarks, as for a real
// operator: a SIP account on the benchmark's Kamailio and the Bitrix24
// simulator's demo portal connected as an OAuth application with
// click-to-call on, so the sync engine, the caller lookup and the event
// poller all run.
type benchProfile struct {
	Settings settings.Settings
	Secrets  map[settings.SecretKey]string
	Portal   *portalTap
}

// portalTap counts the requests that reach the simulator and can delay
// each one, as a distant portal would (OMNIPHONE_BENCH_PORTAL_DELAY_MS).
type portalTap struct {
	delay    time.Duration
	requests atomic.Int64
	last     atomic.Int64 // unix ns of the last request
}

func (p *portalTap) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mark()
		time.Sleep(p.delay)
		h.ServeHTTP(w, r)
	})
}

// mark restarts the quiet time, as a request does.
func (p *portalTap) mark() { p.last.Store(time.Now().UnixNano()) }

// Requests is how many requests the portal has received.
func (p *portalTap) Requests() int64 { return p.requests.Load() }

// waitQuiet waits until the portal has had no request (nor mark) for
// quiet, at most for limit, so that one call's CRM work does not spill into
// the next.
func (p *portalTap) waitQuiet(quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && time.Since(time.Unix(0, p.last.Load())) < quiet {
		time.Sleep(quiet / 10)
	}
}

// startBenchPortal serves the simulator's demo portal on 127.0.0.1 until
// the benchmark ends and returns the profile of SIP user (extension 101,
// the portal's user 1, an administrator: offline events need one).
func startBenchPortal(b testing.TB, k *siptest.Kamailio, user, password string) benchProfile {
	b.Helper()
	sim, err := b24sim.New(b24sim.Options{ClientID: "local.app", ClientSecret: "app-secret"})
	require.NoError(b, err)
	b.Cleanup(func() { _ = sim.Close() })
	tap := &portalTap{delay: time.Duration(envInt("OMNIPHONE_BENCH_PORTAL_DELAY_MS", 0)) * time.Millisecond}
	srv := httptest.NewServer(tap.wrap(sim.Handler()))
	b.Cleanup(srv.Close)
	access, refresh, err := sim.IssueToken(1)
	require.NoError(b, err)

	s := settings.Default()
	s.App.Language = settings.LanguageEN
	s.Portals = []settings.Portal{{ID: "main", Name: "Sim", Domain: srv.URL, Main: true,
		Auth: settings.Auth{Kind: settings.AuthOAuth, ClientID: "local.app"}}}
	s.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951234567"}
	s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 1, 1
	s.SIP.Accounts = []settings.SIPAccount{{ID: "acc1", User: user, Domain: k.Addr(), Transport: settings.TransportUDP,
		ExpirySeconds: 60, Codecs: []string{"PCMU"}, DTMF: settings.DTMFRFC4733, Default: true}}
	accessJSON := fmt.Sprintf(`{"access_token":%q,"expires":%q}`, access, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	return benchProfile{Settings: s, Portal: tap, Secrets: map[settings.SecretKey]string{
		settings.SIPPassword("acc1"):        password,
		settings.PortalClientSecret("main"): "app-secret",
		settings.PortalAccessToken("main"):  accessJSON,
		settings.PortalRefreshToken("main"): refresh,
	}}
}

// store puts the profile's secrets into st.
func (p benchProfile) store(b testing.TB, st settings.SecretStore) {
	b.Helper()
	for key, v := range p.Secrets {
		require.NoError(b, st.Set(key, v))
	}
}

// envInt is a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
