// Command b24sim serves a simulated Bitrix24 portal (see package
// crm/b24sim) for demos, tests and benchmarks of the softphone.
//
//	b24sim --addr 127.0.0.1:8024 --mode classic|simple --webhook 1:SECRET \
//	       --app CLIENT_ID:CLIENT_SECRET --token-ttl 1h --limit 2/50 \
//	       --seed FILE.json --state FILE.json [--tls-cert C --tls-key K]
//
// Without flags it serves a small demo portal on 127.0.0.1:8024 with the
// webhook 1:SECRET. On SIGINT/SIGTERM it shuts down gracefully and saves
// --state.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omniphone/omniphone/crm/b24sim"
)

type config struct {
	addr, tlsCert, tlsKey, stateFile string
	opts                             b24sim.Options
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("b24sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c config
	var mode, webhook, app, limit, seed, opLimit string
	var ttl time.Duration
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8024", "listen address")
	fs.StringVar(&mode, "mode", "classic", "CRM mode: classic or simple")
	fs.StringVar(&webhook, "webhook", "1:SECRET", "incoming webhook USER_ID:CODE (empty disables)")
	fs.StringVar(&app, "app", "", "OAuth application CLIENT_ID:CLIENT_SECRET")
	fs.DurationVar(&ttl, "token-ttl", time.Hour, "access token lifetime")
	fs.StringVar(&limit, "limit", "0", "leaky bucket RATE/BURST per second, 0 disables")
	fs.StringVar(&opLimit, "operating-limit", "0", "per-method operating time per 10 minutes, 0 disables")
	fs.StringVar(&seed, "seed", "", "seed portal JSON file")
	fs.StringVar(&c.stateFile, "state", "", "state file: loaded at start, saved at shutdown")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate (serves HTTPS)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS key")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch mode {
	case "classic":
		c.opts.Mode = b24sim.ModeClassic
	case "simple":
		c.opts.Mode = b24sim.ModeSimple
	default:
		return c, fmt.Errorf("--mode must be classic or simple, not %q", mode)
	}
	if webhook != "" {
		uid, code, ok := strings.Cut(webhook, ":")
		n, err := strconv.Atoi(uid)
		if !ok || err != nil || n <= 0 || code == "" {
			return c, fmt.Errorf("--webhook must be USER_ID:CODE, not %q", webhook)
		}
		c.opts.WebhookUserID, c.opts.WebhookCode = n, code
	}
	if app != "" {
		id, secret, ok := strings.Cut(app, ":")
		if !ok || id == "" || secret == "" {
			return c, fmt.Errorf("--app must be CLIENT_ID:CLIENT_SECRET, not %q", app)
		}
		c.opts.ClientID, c.opts.ClientSecret = id, secret
	}
	if ttl <= 0 {
		return c, errors.New("--token-ttl must be positive")
	}
	c.opts.TokenTTL = ttl
	if limit != "0" {
		r, b, ok := strings.Cut(limit, "/")
		rate, err1 := strconv.ParseFloat(r, 64)
		burst, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || rate <= 0 || burst <= 0 {
			return c, fmt.Errorf("--limit must be RATE/BURST like 2/50, or 0, not %q", limit)
		}
		c.opts.RateLimit, c.opts.RateBurst = rate, burst
	}
	if opLimit != "0" {
		d, err := time.ParseDuration(opLimit)
		if err != nil || d < 0 {
			return c, fmt.Errorf("--operating-limit must be a duration like 480s, not %q", opLimit)
		}
		c.opts.OperatingLimit = d
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if seed != "" {
		sd, err := b24sim.LoadSeed(seed)
		if err != nil {
			return c, err
		}
		c.opts.Seed = sd
	}
	c.opts.StateFile = c.stateFile
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "b24sim: %v (see the package doc for flags)\n", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "b24sim: %v\n", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim, err := b24sim.New(cfg.opts)
	if err != nil {
		return err
	}
	defer func() { _ = sim.Close() }()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	log.Info("b24sim serving", "url", scheme+"://"+ln.Addr().String()+"/", "mode", cfg.opts.Mode,
		"webhook", cfg.opts.WebhookCode != "", "oauth", cfg.opts.ClientID != "")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if cfg.stateFile != "" {
		if err := sim.Save(cfg.stateFile); err != nil {
			return err
		}
		log.Info("state saved", "file", cfg.stateFile)
	}
	return nil
}
