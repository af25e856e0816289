package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/omniphone/omniphone/app"
	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/control"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/events"
	"github.com/omniphone/omniphone/crm/lookup"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
	"github.com/omniphone/omniphone/sip/audio"
)

// services are what runs behind the window, or without one (--headless);
// Close stops them in order.
type services struct {
	phone   *sip.Phone
	account settings.SIPAccount
	sound   *audio.Switcher
	ringer  *ringTone // window mode only: openRinger
	engine  *crmsync.Engine
	team    *crmsync.Client // team mode: omnisync's API
	cards   *lookup.Lookup
	stops   []func()
	// stopPhone hangs up and unregisters (idempotent).
	stopPhone func()
}

// StopPhone ends the calls and the registration first, so that their call
// records still reach the hand-over to the sync engine (the window's, or
// calllog's in headless mode).
func (s *services) StopPhone() {
	if s.stopPhone != nil {
		s.stopPhone()
	}
}

func (s *services) Close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// startServices prepares the phone, and starts the embedded sync engine
// and the caller lookup, for the settings. The phone registers only when
// runPhone is called, after the window attached its handlers. Each part that
// cannot start is logged and left out; the window says what is missing.
func startServices(ctx context.Context, dir string, s settings.Settings, secrets settings.SecretStore, log *slog.Logger) *services {
	svc := &services{}
	if err := svc.startPhone(ctx, dir, s, secrets, log); err != nil {
		log.Error("phone not started", "err", err)
	}
	if p, ok := s.TelephonyPortalOrMain(); ok {
		client, err := b24.ForPortal(p, secrets, b24.Options{Logger: log})
		if err != nil {
			log.Error("portal not connected", "portal", p.Name, "err", err)
		} else if svc.cards, err = lookup.New(lookup.Options{Client: client, Portal: p.Domain}); err == nil {
			go func() {
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if err := svc.cards.Warm(wctx); err != nil {
					log.Warn("employee names for the call card not loaded", "err", err)
				}
			}()
		}
	}
	switch s.Sync.Mode {
	case settings.SyncEmbedded:
		if err := svc.startEngine(ctx, dir, s, secrets, log); err != nil {
			log.Error("sync engine not started", "err", err)
		}
	case settings.SyncTeam:
		token, err := secrets.Get(settings.SyncToken)
		if err == nil {
			svc.team, err = crmsync.NewClient(s.Sync.TeamURL, token, nil)
		}
		if err != nil {
			log.Error("team sync service not connected", "url", s.Sync.TeamURL, "err", err)
		}
	}
	return svc
}

func (svc *services) startPhone(ctx context.Context, dir string, s settings.Settings, secrets settings.SecretStore, log *slog.Logger) error {
	acc, ok := s.DefaultSIPAccount()
	if !ok {
		return nil
	}
	svc.account = acc
	password, err := secrets.Get(settings.SIPPassword(acc.ID))
	if err != nil && !errors.Is(err, settings.ErrSecretNotFound) {
		return fmt.Errorf("password of %s: %w", acc.ID, err)
	}
	cfg := sip.Config{Account: sipAccount(acc, password), UserAgent: "Omniphone", AttributeHeaders: acc.CallHeaders,
		Hardening: sipHardening(acc)}
	if s.Recordings.Send {
		cfg.RecordDir = filepath.Join(dir, "recordings")
		if err := os.MkdirAll(cfg.RecordDir, 0o700); err != nil {
			return fmt.Errorf("recordings folder: %w", err)
		}
	}
	sound, err := audio.OpenSwitcher(audio.Config{Input: s.App.InputDevice, Output: s.App.OutputDevice})
	if err != nil {
		// Signalling still works; the status line and the log say why there is no sound.
		log.Error("sound device not opened; calls will be silent", "err", err)
		if sound, err = audio.OpenSwitcher(audio.Config{Backend: audio.BackendNull}); err != nil {
			return fmt.Errorf("audio: %w", err)
		}
	}
	svc.sound = sound
	svc.stops = append(svc.stops, func() { _ = sound.Close() })
	p, err := sip.New(cfg, sip.WithLogger(log), sip.WithAudioDevice(sound))
	if err != nil {
		return fmt.Errorf("account %s: %w", acc.ID, err)
	}
	svc.phone = p
	svc.stops = append(svc.stops, func() { _ = p.Close() })
	return nil
}

// runPhone registers the phone and keeps it registered until ctx ends or
// Close; it returns at once.
func (svc *services) runPhone(ctx context.Context, log *slog.Logger) {
	if svc.phone == nil {
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.phone.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("phone stopped", "err", err)
		}
	}()
	var once sync.Once
	svc.stopPhone = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second): // unregistering must not hold the app open
			}
		})
	}
	svc.stops = append(svc.stops, svc.stopPhone)
}

// desktopFetchPoll is how often the embedded engine looks for new jobs:
// it runs poll-only (no River notification listener, which on SQLite
// queries the database 20 times a second), so a finished call waits at
// most this long before it is sent, and an idle phone queries its
// database about 2.5 times a second (this poll; River's own checks of the
// queue's settings and of cancellations every 2 s, of leadership and
// scheduled jobs every 5 s).
const desktopFetchPoll = time.Second

func (svc *services) startEngine(ctx context.Context, dir string, s settings.Settings, secrets settings.SecretStore, log *slog.Logger) error {
	db, err := crmsync.ParseDatabase("sqlite:" + filepath.Join(dir, "sync.db"))
	if err != nil {
		return err
	}
	e, err := crmsync.New(ctx, crmsync.Options{DB: db, Settings: s, Secrets: secrets, Migrate: true, Logger: log,
		FetchPollInterval: desktopFetchPoll, PollOnly: true})
	if err != nil {
		return err
	}
	if err := e.Start(ctx); err != nil {
		_ = e.Close()
		return err
	}
	svc.engine = e
	svc.stops = append(svc.stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Stop(sctx)
		_ = e.Close()
	})
	svc.serveEngineAPI(dir, e, log)
	return nil
}

// embeddedAPIAddr is where the embedded engine serves the same API as
// omnisync (SPEC §11: call records, status, the CP2 routing query), on
// loopback only, with the control API's bearer token (control.token).
const embeddedAPIAddr = "127.0.0.1:8095"

func (svc *services) serveEngineAPI(dir string, e *crmsync.Engine, log *slog.Logger) {
	token, err := control.LoadToken(dir)
	if err != nil {
		log.Warn("embedded sync API not served", "err", err)
		return
	}
	ln, err := control.Listen(embeddedAPIAddr)
	if err != nil {
		// Another instance or program has the port: the API is a convenience
		// for a local PBX, the engine works without it.
		log.Warn("embedded sync API not served", "addr", embeddedAPIAddr, "err", err)
		return
	}
	srv := &http.Server{Handler: e.Handler([]string{token}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("embedded sync API on loopback", "addr", ln.Addr().String())
	svc.stops = append(svc.stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
}

// startClickToCall installs click-to-call and callback for this desktop and
// polls the portal's offline queue (a desktop is not reachable from the
// portal), handing the calls to target. Events need an OAuth application
// with an administrator's token; with a webhook it says so and does
// nothing.
func (svc *services) startClickToCall(ctx context.Context, s settings.Settings, secrets settings.SecretStore, target events.Target, log *slog.Logger) {
	p, ok := s.TelephonyPortalOrMain()
	if !ok || svc.phone == nil || (!s.ClickToCall.Enabled && !s.Callback.Enabled) {
		return
	}
	if s.Sync.Mode == settings.SyncTeam {
		svc.followTeam(ctx, s, secrets, target, log)
		return
	}
	if p.Auth.Kind != settings.AuthOAuth {
		log.Warn("click-to-call and callback need the portal connected as an OAuth application; an incoming webhook cannot receive events", "portal", p.Name)
		return
	}
	client, err := b24.ForPortal(p, secrets, b24.Options{Logger: log})
	if err != nil {
		log.Error("click-to-call not started", "err", err)
		return
	}
	current := s
	plan := sipAccount(svc.account, "").DialPlan
	router, err := events.NewRouter(events.RouterOptions{
		Settings:  func() settings.Settings { return current },
		Directory: events.NewPortalDirectory(client, events.DirectoryOptions{}),
		Target:    target,
		Filter:    events.UserFilter{Extensions: []string{svc.account.User}, Unmapped: true},
		Normalize: func(n string) (string, error) { return sip.NormalizeNumber(n, plan) },
		Logger:    log,
	})
	if err != nil {
		log.Error("click-to-call not started", "err", err)
		return
	}
	// An idle desktop polls every 3 s at most: a click waits ≤ 3 s, at
	// 0.33 requests/s — a sixth of the portal's 2/s budget. (A call centre
	// uses omnisync's online handler instead; polling does not scale.)
	poller, err := events.NewPoller(events.PollerOptions{Queue: client, Dispatcher: router, Domain: p.Domain, Logger: log,
		MaxInterval: 3 * time.Second})
	if err != nil {
		log.Error("click-to-call not started", "err", err)
		return
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Installing talks to the portal: it runs here, not before the
		// window shows.
		ictx, cancel := context.WithTimeout(pctx, 30*time.Second)
		res, err := events.Install(ictx, client, events.InstallOptions{})
		cancel()
		if err != nil {
			log.Error("click-to-call not installed in the portal", "err", err)
			return
		}
		log.Info("click-to-call installed", "bound", res.Bound, "already", res.AlreadyBound, "line_created", res.LineCreated)
		if err := poller.Run(pctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("click-to-call polling stopped", "err", err)
		}
	}()
	svc.stops = append(svc.stops, func() { stop(); <-done })
}

// sink is where finished calls go: the embedded engine, or omnisync in
// team mode (nil when neither is available).
func (svc *services) sink() calllog.Sink {
	switch {
	case svc.engine != nil:
		return svc.engine
	case svc.team != nil:
		return svc.team
	}
	return nil
}

// followTeam takes this desktop's click-to-calls from omnisync, which
// receives the portal's events online (team mode, C4).
func (svc *services) followTeam(ctx context.Context, s settings.Settings, secrets settings.SecretStore, target events.Target, log *slog.Logger) {
	token, err := secrets.Get(settings.SyncToken)
	if err != nil {
		log.Error("click-to-call from the team service not started", "err", err)
		return
	}
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := events.Follow(fctx, events.FollowOptions{
			StreamURL: strings.TrimRight(s.Sync.TeamURL, "/") + "/api/v1/events/stream",
			Token:     token, Extension: svc.account.User, Target: target, Logger: log,
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("click-to-call from the team service stopped", "err", err)
		}
	}()
	svc.stops = append(svc.stops, func() { stop(); <-done })
}

// forApp is what the window needs of the services (nil interfaces for
// what did not start).
func (svc *services) forApp() app.Services {
	out := app.Services{Account: svc.account}
	if svc.phone != nil {
		out.Phone = svc.phone
	}
	if svc.cards != nil {
		out.Cards = svc.cards
	}
	if svc.ringer != nil {
		out.Ringer = svc.ringer
	}
	if svc.sound != nil {
		out.Sound = soundDevices{svc.sound}
	}
	switch {
	case svc.engine != nil:
		out.Sink = svc.engine
	case svc.team != nil:
		out.Sink = svc.team
	}
	return out
}

// sipHardening translates the account's failover registrars, trusted
// sources and keep-alive for the phone; the rest keeps sip's defaults.
func sipHardening(a settings.SIPAccount) sip.Hardening {
	h := sip.Hardening{AllowAnySource: a.AcceptAnySource, TrustedSources: a.TrustedSources, FailoverRegistrars: a.FailoverRegistrars}
	switch {
	case a.KeepAliveOff:
		h.KeepAlive = -1
	case a.KeepAliveSeconds > 0:
		h.KeepAlive = time.Duration(a.KeepAliveSeconds) * time.Second
	}
	return h
}

// sipAccount translates the settings' account for the phone.
func sipAccount(a settings.SIPAccount, password string) sip.Account {
	out := sip.Account{
		User: a.User, AuthUser: a.AuthUser, Password: password, Domain: a.Domain,
		Registrar: a.Registrar, Proxy: a.Proxy, Transport: sip.Transport(a.Transport),
		Expiry: time.Duration(a.ExpirySeconds) * time.Second, Codecs: a.Codecs,
		DTMF: sip.DTMFMode(a.DTMF), DisplayName: a.DisplayName, CallerID: a.CallerID,
		CallerIDMode: sip.CallerIDMode(a.CallerIDMode), CAFile: a.CACertFile, SRTP: sip.SRTPPolicy(a.SRTP),
		WSPath: a.WSPath,
	}
	switch a.DialPlan {
	case settings.DialPlanRuE164:
		out.DialPlan = sip.DialPlanRussiaE164
	case settings.DialPlanRu8:
		out.DialPlan = sip.DialPlanRussia8
	case settings.DialPlanRu7:
		out.DialPlan = sip.DialPlanRussia7
	}
	return out
}
