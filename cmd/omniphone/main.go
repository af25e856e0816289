// Command omniphone is the Omniphone desktop softphone. Without arguments
// it opens the main window; "omniphone --headless [--control ADDR]" runs the
// phone without a window, driven by the local control API; "omniphone
// tel:…" (or callto:, sip:) dials a link in the profile's running instance,
// which a second launch always hands over to; "omniphone settings …"
// manages the settings document from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/app"
	"github.com/omniphone/omniphone/assets"
	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/settings"
)

// appID is the application's reverse-DNS ID (Fyne preferences, .desktop).
const appID = "ru.omniphone.app"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line and returns the exit code: 0 success,
// 1 the operation failed, 2 the command line is wrong.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("omniphone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configDir := fs.String("config-dir", "", "profile directory (settings, logs); default $OMNIPHONE_CONFIG_DIR or the OS config dir")
	headless := fs.Bool("headless", false, "run the phone without a window (stop with SIGINT or SIGTERM)")
	controlAddr := fs.String("control", "", "with --headless: serve the control API on this loopback address, e.g. 127.0.0.1:8089")
	answer := fs.Bool("answer", false, "answer the call ringing in the running omniphone (bind it to a desktop key)")
	hangup := fs.Bool("hangup", false, "hang up the call in the running omniphone, or decline the ringing one (bind it to a desktop key)")
	registerHandlers := fs.Bool("register-handlers", false, "make omniphone this user's handler of tel:, callto: and sip: links (Linux: .desktop file and xdg-mime)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  omniphone [--config-dir DIR]                 open the softphone window\n"+
			"  omniphone [--config-dir DIR] --headless [--control 127.0.0.1:PORT]\n"+
			"                                               run the phone without a window\n"+
			"  omniphone [--config-dir DIR] [--headless] LINK\n"+
			"                                               dial a tel:, callto: or sip: link (in the running omniphone, if any)\n"+
			"  omniphone [--config-dir DIR] --answer | --hangup\n"+
			"                                               answer / hang up in the running omniphone (for a global key)\n"+
			"  omniphone --register-handlers                handle tel:, callto: and sip: links from the desktop and browsers\n"+
			"  omniphone [--config-dir DIR] settings CMD    manage settings (path, validate FILE, import FILE, export [FILE])\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if *controlAddr != "" && !*headless {
		fmt.Fprintln(stderr, "omniphone:", errControlNeedsHeadless)
		return 2
	}
	if *registerHandlers {
		return runRegisterHandlers(stdout, stderr)
	}
	dir, err := profileDir(*configDir)
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	if *answer || *hangup {
		return runCallAction(dir, *answer, *hangup, fs.NArg(), stdout, stderr)
	}
	var link string
	switch arg := fs.Arg(0); {
	case arg == "settings":
		return runSettings(dir, fs.Args()[1:], stdout, stderr)
	case arg != "" && !looksLikeLink(arg):
		fmt.Fprintf(stderr, "omniphone: unknown command %q\n", arg)
		fs.Usage()
		return 2
	case arg != "":
		if fs.NArg() > 1 {
			fmt.Fprintln(stderr, "omniphone: one link at a time")
			return 2
		}
		if _, err := parseLink(arg); err != nil {
			fmt.Fprintln(stderr, "omniphone:", err)
			return 2
		}
		link = arg
	}
	inst, note, err := claimOrHandOver(context.Background(), dir, instanceRequest{Link: link})
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	if inst == nil {
		fmt.Fprintf(stdout, "omniphone: handed to the running omniphone (%s): %s\n", dir, note)
		return 0
	}
	defer inst.Close()
	if *headless {
		return runHeadless(dir, *controlAddr, inst, link, stderr)
	}
	return runWindow(dir, inst, link, stderr)
}

// runCallAction hands --answer or --hangup to the running omniphone; with
// none running there is no call to act on.
func runCallAction(dir string, answer, hangup bool, nargs int, stdout, stderr io.Writer) int {
	if answer == hangup || nargs > 0 {
		fmt.Fprintln(stderr, "omniphone: --answer and --hangup take no link and not each other")
		return 2
	}
	action := actionHangup
	if answer {
		action = actionAnswer
	}
	inst, note, err := claimOrHandOver(context.Background(), dir, instanceRequest{Action: action})
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	if inst != nil {
		_ = inst.Close()
		fmt.Fprintf(stderr, "omniphone: no omniphone is running with the profile %s: no call to %s\n", dir, action)
		return 1
	}
	fmt.Fprintf(stdout, "omniphone: %s\n", note)
	return 0
}

func exitUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// profileDir picks the profile directory: the flag, then
// $OMNIPHONE_CONFIG_DIR, then the OS config dir.
func profileDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if env := os.Getenv("OMNIPHONE_CONFIG_DIR"); env != "" {
		return filepath.Abs(env)
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the profile directory: %w (pass --config-dir)", err)
	}
	return filepath.Join(base, "omniphone"), nil
}

func runWindow(dir string, inst *instance, link string, stderr io.Writer) int {
	if err := checkDisplay(); err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 2
	}
	log, redactor, closeLog, err := openLog(dir)
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	defer closeLog()
	// SIGTERM/SIGINT quit cleanly (calls hung up, records handed over,
	// unregistered) also when they come before the event loop runs — Fyne
	// catches them only from then on, and until then they would kill us.
	quitSignals := make(chan os.Signal, 1)
	signal.Notify(quitSignals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(quitSignals)
	// Every secret the app reads or writes is masked in the log from then on.
	secrets := settings.WatchedStore{Store: settings.KeyringStore{}, OnSecret: func(v string) { redactor.Add(v) }}

	d := settings.Dir{Path: dir}
	s, loadErr := d.Load()
	if loadErr != nil {
		log.Error("settings not loaded; running with defaults", "err", loadErr)
		s = settings.Default()
	}
	useLanguage(s.App.Language, log)

	fa := fyneapp.NewWithID(appID)
	fa.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	started := make(chan struct{})
	fa.Lifecycle().SetOnStarted(func() { close(started) })
	log.Info("omniphone starting", "profile", dir)
	ui := app.New(fa, app.Options{
		Dir: d, Settings: s, LoadErr: loadErr, Logger: log, Secrets: secrets,
		DirectoryFor: func(s settings.Settings) (app.Directory, error) {
			p, ok := s.TelephonyPortalOrMain()
			if !ok {
				return nil, nil
			}
			c, err := b24.ForPortal(p, secrets, b24.Options{Logger: log})
			if err != nil {
				return nil, err
			}
			return app.NewBitrixDirectory(c), nil
		},
		TrayHost: trayHost,
		History:  calllog.OpenHistory(dir, 500),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := startServices(ctx, dir, s, secrets, log)
	defer svc.Close()
	svc.openRinger(s, log)
	ui.Attach(svc.forApp())
	svc.runPhone(ctx, log)
	svc.startClickToCall(ctx, s, secrets, ui, log)
	links := linkOpener{dial: ui.OpenLink, log: log, raise: func() string { ui.Raise(); return "window raised" },
		act: func(action string) (string, error) {
			if action == actionAnswer {
				return ui.AnswerKey()
			}
			return ui.HangupKey()
		}}
	inst.Serve(links.handle)
	stopLink := links.openAtStart(ctx, link)
	go trimAfterStart(ctx, started)
	go func() {
		select {
		case sig := <-quitSignals:
			log.Info("quitting", "signal", sig.String())
			_ = inst.StopServing() // no hand-over from now on (see below)
		case <-ctx.Done():
			return
		}
		select {
		case <-started:
			// The driver's Quit, as Fyne's own SIGTERM handler and tray
			// "Quit" do: App.Quit first closes the windows, and a pointer
			// event handled before the loop stops then crashes Fyne on the
			// closed window (fyne-io/fyne#5981). The window needs no
			// closing: the app exits once the loop has stopped.
			fyne.Do(fa.Driver().Quit)
		case <-ctx.Done():
		}
	}()
	ui.ShowAndRun()
	// Quitting: a launch from now on waits to take our place rather than
	// hand its link to a window that is gone.
	_ = inst.StopServing()
	stopLink()
	svc.StopPhone() // calls end, their records go to the sync engine
	ui.Close()      // waits for those hand-overs
	log.Info("omniphone stopped")
	return 0
}

// useLanguage makes Fyne (our strings and its own dialogs) speak the
// language chosen in the settings rather than the system's.
func useLanguage(l settings.Language, log *slog.Logger) {
	// Fyne's lang package reads the locale from the environment each time
	// translations are added; LANGUAGE takes precedence over LANG.
	if err := os.Setenv("LANGUAGE", string(l)); err != nil {
		log.Warn("cannot set the UI language", "err", err)
	}
	if err := lang.AddTranslationsFS(assets.Translations, "translations"); err != nil {
		log.Warn("UI translations not loaded", "err", err)
	}
}
