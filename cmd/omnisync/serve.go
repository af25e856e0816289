package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
)

// APITokensKey is the secret holding the API's bearer tokens, comma
// separated: "api_tokens" in secrets.json or OMNISYNC_SECRET_API_TOKENS.
const APITokensKey settings.SecretKey = "api_tokens"

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbFlag := fs.String("db", "", "sqlite:PATH or postgres://…")
	listen := fs.String("listen", "127.0.0.1:8095", "address of the HTTP API")
	configDir := fs.String("config-dir", "", "directory with settings.json and secrets.json")
	workers := fs.Int("workers", 4, "jobs run at once by this node")
	rate := fs.Float64("rate", 0, "Bitrix24 requests per second per portal (0: 2/s, negative: no limit)")
	burst := fs.Int("burst", 0, "burst of the rate limit (0: 50)")
	jobTimeout := fs.Duration("job-timeout", 60*time.Second, "time limit of one job")
	rescue := fs.Duration("rescue-after", 90*time.Second, "retry jobs of a dead node after this long")
	cooldown := fs.Duration("fetch-cooldown", 20*time.Millisecond, "pause between job fetches")
	noMigrate := fs.Bool("no-migrate", false, "do not create or update tables at start")
	publicURL := fs.String("public-url", "", "this service's address as the portal reaches it; installs click-to-call events online")
	fail := func(err error) int {
		fmt.Fprintf(stderr, "omnisync serve: %s\n", oneLine(err))
		return 2
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	} else if err != nil {
		return fail(err)
	}
	if *dbFlag == "" || *configDir == "" || fs.NArg() > 0 {
		return fail(errors.New("--db and --config-dir are required"))
	}
	db, err := crmsync.ParseDatabase(*dbFlag)
	if err != nil {
		return fail(err)
	}
	s, err := settings.Dir{Path: *configDir}.Load()
	if err != nil {
		return fail(fmt.Errorf("settings: %w", err))
	}
	secrets := settings.EnvStore{Next: settings.NewFileStore(filepath.Join(*configDir, "secrets.json"))}
	tokens, err := apiTokens(secrets)
	if err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, err := crmsync.New(ctx, crmsync.Options{
		DB: db, Settings: s, Secrets: secrets, Migrate: !*noMigrate, Workers: *workers,
		Limit: b24.Limit{Rate: *rate, Burst: *burst}, JobTimeout: *jobTimeout, RescueStuckJobsAfter: *rescue,
		FetchCooldown: *cooldown, Logger: log,
	})
	if err != nil {
		return fail(err)
	}
	defer func() { _ = eng.Close() }()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	c2c, err := newClickToCall(ctx, s, secrets, tokens, *publicURL, log)
	if err != nil {
		return fail(err)
	}
	defer c2c.Close()
	srv := &http.Server{Handler: c2c.routes(eng.Handler(tokens)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "omnisync: serving %s on http://%s\n", db, ln.Addr())
	err = eng.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err != nil {
		return fail(err)
	}
	return 0
}

// apiTokens reads the bearer tokens the API accepts.
func apiTokens(secrets settings.SecretStore) ([]string, error) {
	raw, err := secrets.Get(APITokensKey)
	if err != nil {
		return nil, fmt.Errorf("API bearer tokens (%s in secrets.json or %s): %w", APITokensKey, settings.EnvStore{}.Var(APITokensKey), err)
	}
	var out []string
	for _, t := range strings.Split(raw, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("API bearer tokens: none set")
	}
	return out, nil
}

func dbOnly(name string, args []string, stdout, stderr io.Writer) (crmsync.Database, int, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbFlag := fs.String("db", "", "sqlite:PATH or postgres://…")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return crmsync.Database{}, 0, false
	} else if err != nil || *dbFlag == "" || fs.NArg() > 0 {
		if err == nil {
			err = errors.New("--db is required, and nothing else")
		}
		fmt.Fprintf(stderr, "omnisync %s: %s\n", name, oneLine(err))
		return crmsync.Database{}, 2, false
	}
	db, err := crmsync.ParseDatabase(*dbFlag)
	if err != nil {
		fmt.Fprintf(stderr, "omnisync %s: %s\n", name, oneLine(err))
		return crmsync.Database{}, 2, false
	}
	return db, 0, true
}

func migrate(args []string, stdout, stderr io.Writer) int {
	db, code, ok := dbOnly("migrate", args, stdout, stderr)
	if !ok {
		return code
	}
	if err := crmsync.Migrate(context.Background(), db); err != nil {
		fmt.Fprintf(stderr, "omnisync migrate: %s\n", oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "omnisync: %s is up to date\n", db)
	return 0
}

func status(args []string, stdout, stderr io.Writer) int {
	db, code, ok := dbOnly("status", args, stdout, stderr)
	if !ok {
		return code
	}
	st, err := crmsync.ReadStatus(context.Background(), db)
	if err != nil {
		fmt.Fprintf(stderr, "omnisync status: %s\n", oneLine(err))
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return 1
	}
	return 0
}
