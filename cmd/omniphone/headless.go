package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/control"
	"github.com/omniphone/omniphone/logging"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// secretEnvPrefix names the environment variables that override the
// keyring in headless mode: sip/acc1/password is read from
// OMNIPHONE_SECRET_SIP_ACC1_PASSWORD.
const secretEnvPrefix = "OMNIPHONE_SECRET_"

// runHeadless runs the phone without a window until SIGINT or SIGTERM:
// the same services as the window, call records handed to the sync engine,
// click-to-call, and the control API on controlAddr ("" for none).
func runHeadless(dir, controlAddr string, inst *instance, link string, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "omniphone:", err)
		return code
	}
	if controlAddr != "" {
		if err := control.CheckAddr(controlAddr); err != nil {
			return fail(2, fmt.Errorf("--control: %w", err))
		}
	}
	log, redactor, closeLog, err := openLog(dir)
	if err != nil {
		return fail(1, err)
	}
	defer closeLog()
	secrets := settings.WatchedStore{
		Store:    settings.EnvStore{Prefix: secretEnvPrefix, Next: settings.KeyringStore{}},
		OnSecret: func(v string) { redactor.Add(v) },
	}
	s, err := settings.Dir{Path: dir}.Load()
	if err != nil {
		// Without a window nobody could fix the settings: do not run on defaults.
		return fail(1, fmt.Errorf("settings: %w", err))
	}
	if _, ok := s.DefaultSIPAccount(); !ok {
		return fail(1, fmt.Errorf("no default SIP account in %s: add one (omniphone settings import FILE)", filepath.Join(dir, "settings.json")))
	}

	var ln net.Listener
	var token string
	if controlAddr != "" {
		if ln, err = control.Listen(controlAddr); err != nil {
			return fail(1, err)
		}
		defer ln.Close()
		if token, err = control.LoadToken(dir); err != nil {
			return fail(1, err)
		}
		redactor.Add(token)
	}

	// The services outlive the signal: the calls hung up on shutdown still
	// hand their records to the sync engine before it stops.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	log.Info("omniphone starting headless", "profile", dir, "control", controlAddr)
	svc := startServices(ctx, dir, s, secrets, log)
	defer svc.Close()
	if svc.phone == nil {
		return fail(1, fmt.Errorf("the SIP phone could not start (see %s)",
			filepath.Join(dir, "logs", "omniphone.log")))
	}
	book := calllog.New(calllog.Options{Account: svc.account, Sink: svc.sink(), Logger: log})

	var api *control.Server
	if ln != nil {
		account := svc.account.User + "@" + svc.account.Domain
		if api, err = control.New(control.Options{Phone: control.SIPPhone(svc.phone), Token: token, Account: account, Logger: log}); err != nil {
			return fail(1, err)
		}
	}
	registered := make(chan struct{})
	var onceRegistered sync.Once
	attachHeadless(svc.phone, api, book, log, func() { onceRegistered.Do(func() { close(registered) }) })
	svc.runPhone(ctx, log)
	svc.startClickToCall(ctx, s, secrets, headlessTarget{Dialer: calllog.Dialer{Phone: svc.phone, Log: book}, log: log}, log)
	links := linkOpener{log: log, raise: func() string { return "it runs headless, without a window to raise" },
		act: func(action string) (string, error) { return headlessCallAction(svc.phone, action) },
		dial: func(ctx context.Context, target string) error {
			select {
			case <-registered:
			case <-ctx.Done():
				return fmt.Errorf("call %s: the phone is not registered: %w", target, ctx.Err())
			}
			c, err := svc.phone.Dial(target)
			if err != nil {
				return fmt.Errorf("call %s: %w", target, err)
			}
			log.Info("dialling a link", "call", c.ID())
			return nil
		}}
	inst.Serve(links.handle)
	stopLink := links.openAtStart(ctx, link)

	var hs *http.Server
	served := make(chan error, 1)
	if api != nil {
		hs = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { served <- hs.Serve(ln) }()
		log.Info("control API listening", "addr", ln.Addr().String())
		fmt.Fprintf(stderr, "omniphone: control API on http://%s (bearer token in %s)\n",
			ln.Addr(), filepath.Join(dir, control.TokenFile))
	}

	code := 0
	select {
	case <-sigCtx.Done():
		log.Info("omniphone stopping")
	case err := <-served:
		log.Error("control API stopped", "err", err)
		code = 1
	}
	if api != nil {
		api.Close() // event streams end, so Shutdown does not wait for them
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = hs.Shutdown(sctx)
		scancel()
	}
	_ = inst.StopServing() // a launch from now on waits to take our place
	stopLink()
	svc.StopPhone() // calls hung up, binding removed; their records go to book
	book.Close()    // waits for the hand-overs to the sync engine
	log.Info("omniphone stopped")
	return code
}

// attachHeadless sets the phone's event handlers: the control API's event
// stream (api may be nil), call records, the log, and onRegistered at
// every successful registration.
func attachHeadless(p *sip.Phone, api *control.Server, book *calllog.Log, log *slog.Logger, onRegistered func()) {
	p.OnRegState(func(ev sip.RegEvent) {
		log.Info("sip registration", "state", ev.State.String(), "err", ev.Err)
		if ev.State == sip.RegRegistered {
			onRegistered()
		}
		if api != nil {
			api.RegEvent(ev)
		}
	})
	p.OnCallState(func(ev sip.CallEvent) {
		if api != nil {
			api.CallEvent(ev)
		}
		if ev.State == sip.CallEnded {
			log.Info("call ended", "call", ev.Call.ID(), "cause", ev.Cause.String(), "sip_code", ev.SIPCode)
			book.Ended(ev)
		}
	})
	if api == nil {
		return // no one to answer: incoming calls are refused busy
	}
	p.OnDTMF(api.DTMFEvent)
	p.OnIncoming(func(c *sip.Call) {
		log.Info("incoming call", "call", c.ID(), "from", c.Remote())
	})
}

// openLog opens the profile's log file with secrets masked.
func openLog(dir string) (*slog.Logger, *logging.Redactor, func(), error) {
	logFile, err := logging.OpenFile(filepath.Join(dir, "logs", "omniphone.log"))
	if err != nil {
		return nil, nil, nil, err
	}
	redactor := logging.NewRedactor()
	log := slog.New(logging.NewHandler(logFile, logging.Options{Redactor: redactor}))
	return log, redactor, func() { _ = logFile.Close() }, nil
}

// errControlNeedsHeadless is the usage error for --control without --headless.
var errControlNeedsHeadless = errors.New("--control needs --headless (the window has no control API)")

// headlessCallAction carries out --answer / --hangup on a phone without a
// window: answer the first ringing call; hang up the active call, or
// decline the ringing one when none is up.
func headlessCallAction(p *sip.Phone, action string) (string, error) {
	var ringing, up *sip.Call
	for _, c := range p.Calls() {
		switch st := c.State(); {
		case st == sip.CallIncoming && ringing == nil:
			ringing = c
		case (st == sip.CallActive || st == sip.CallDialing || st == sip.CallRinging) && up == nil:
			up = c
		}
	}
	switch {
	case action == actionAnswer && ringing != nil:
		return "answered", ringing.Answer()
	case action == actionAnswer:
		return "", errors.New("no call is ringing")
	case up != nil:
		return "hung up", up.Hangup()
	case ringing != nil:
		return "declined", ringing.Reject(603)
	}
	return "", errors.New("no call to hang up")
}
