package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/assets"
	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/settings"
)

// phoneIcon is the handset glyph, recoloured by the theme.
var phoneIcon = theme.NewThemedResource(fyne.NewStaticResource("phone.svg", assets.PhoneIcon))

// errNoPortal means no saved portal can be reached yet.
var errNoPortal = errors.New("connect a portal and save the settings first")

// Title is the main window's title.
const Title = "Omniphone"

// Options are what the UI needs from main.
type Options struct {
	// Dir is the profile directory holding the settings.
	Dir settings.Dir
	// Settings are the loaded settings; LoadErr says why loading failed
	// (then Settings are the defaults and the file is untouched).
	Settings settings.Settings
	LoadErr  error
	Logger   *slog.Logger
	// Secrets keeps passwords and tokens (nil: the keyring is unavailable;
	// the editor then says so when a secret is typed).
	Secrets settings.SecretStore
	// DirectoryFor returns the lists of the portal the saved settings
	// connect ("Sync employees"); nil means there is no way to reach one.
	DirectoryFor func(settings.Settings) (Directory, error)

	// Services are the phone and the CRM side; main may also Attach them
	// after the window exists.
	Services
	// OpenURL opens a page in the browser (default: the Fyne app's).
	OpenURL func(rawURL string) error
	// History keeps History's calls across restarts (nil: this run only).
	History *calllog.History
	// TrayHost reports whether the desktop shows tray icons, or why not
	// (nil: it does not). "Start minimised" needs one: without it a
	// hidden window could not be reached.
	TrayHost func() (bool, error)
}

// Services are what runs behind the window.
type Services struct {
	// Phone is the SIP phone of Account (nil: no account or no password).
	Phone   PhoneEngine
	Account settings.SIPAccount
	// Cards looks callers up for the incoming-call card (nil: no portal).
	Cards CardSource
	// Sink takes finished calls for the CRM (nil: they stay in History only).
	Sink CallSink
	// Ringer sounds incoming calls (nil: the card alone announces them).
	Ringer Ringer
	// Sound switches the call's microphone and speaker (nil: no sound card).
	Sound SoundDevices
}

// Attach connects the running services to the window. main creates the
// window first — the GL context must exist before a sound library touches
// the X display — then starts the phone after Attach, so no registration
// event is missed.
func (a *App) Attach(s Services) {
	a.opts.Services = s
	a.history.retry = nil
	if _, ok := s.Sink.(retrier); ok {
		a.history.retry = a.retryCall
	}
	a.attachPhone()
	a.refresh()
	a.checkHistory()
}

// App is the main window and its views.
type App struct {
	fyne     fyne.App
	win      fyne.Window
	opts     Options
	tabs     *container.AppTabs
	phone    *phoneView
	history  *historyView
	settings *settingsView
	status   *widget.Label
	editor   *settingsEditor
	editWin  fyne.Window
	tray     *tray
	card     *cardView
	call     *callView
	calls    *callBook
	regText  string
	// registered is whether the phone's last registration succeeded.
	registered bool
	// colleaguesLoaded: the transfer picker has (or is getting) its list.
	colleaguesLoaded bool
	soundPick        soundPick
	ctx              context.Context
	uiGone           atomic.Bool
	stop             context.CancelFunc
	wg               sync.WaitGroup
}

// New builds the main window on fa: Phone, History and Settings tabs over a
// status line.
func New(fa fyne.App, opts Options) *App {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{fyne: fa, opts: opts, calls: newCallBook()}
	a.ctx, a.stop = context.WithCancel(context.Background())
	a.win = fa.NewWindow(Title)
	a.card = newCardView(a.onAnswer, a.onDecline, a.openPage)
	a.call = newCallView(callActions{mute: a.onMute, hold: a.onHold, hangup: a.onHangup, sound: a.onSound, transfer: a.onTransfer,
		consult: a.onConsult, complete: a.onCompleteTransfer, switchTo: a.onSwitch, keys: a.callKey})
	a.phone = newPhoneView(a.card.root, a.call.root, a.onDial, a.onDTMF, a.callKey)
	a.card.relayout = a.phone.root.Refresh
	a.call.relayout = a.phone.root.Refresh
	a.history = newHistoryView(a.Window)
	if _, ok := opts.Sink.(retrier); ok {
		a.history.retry = a.retryCall
	}
	a.settings = newSettingsView(a)
	a.status = widget.NewLabel("")
	a.status.Wrapping = fyne.TextWrapWord
	a.tabs = container.NewAppTabs(
		// Scrolls when the card, the call and its other lines outgrow a small window.
		container.NewTabItemWithIcon(lang.L("Phone"), phoneIcon, container.NewVScroll(container.NewPadded(a.phone.root))),
		container.NewTabItemWithIcon(lang.L("History"), theme.HistoryIcon(), container.NewPadded(a.history.root)),
		container.NewTabItemWithIcon(lang.L("Settings"), theme.SettingsIcon(), container.NewPadded(a.settings.root)),
	)
	a.win.SetContent(container.NewBorder(nil, a.status, nil, nil, a.tabs))
	a.win.Resize(fyne.NewSize(420, 640))
	a.addCallKeys()
	a.setupTray()
	a.refresh()
	a.loadHistory()
	a.attachPhone()
	return a
}

// Close stops what the app started (CRM lookups, sync polls, the call
// timer) and waits for it. main calls it after the window closed.
func (a *App) Close() {
	a.stop()
	a.wg.Wait()
}

// goAsync runs f on a goroutine the app owns until Close.
func (a *App) goAsync(f func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f(a.ctx)
	}()
}

// Window returns the main window.
func (a *App) Window() fyne.Window { return a.win }

// ShowAndRun shows the window — or only the tray icon when the operator
// chose to start minimised and the desktop has a tray — and runs the event
// loop until the app quits. From then on events only reach the sync
// engine, not the gone window.
func (a *App) ShowAndRun() {
	if a.startHidden() {
		a.fyne.Run()
	} else {
		a.win.ShowAndRun()
	}
	a.uiGone.Store(true)
}

// startHidden decides "start minimised": only where a tray icon will be
// seen; otherwise the window shows and the log says why.
func (a *App) startHidden() bool {
	if !a.opts.Settings.App.StartMinimised || a.tray == nil {
		return false
	}
	ok, err := false, errors.New("the desktop's tray is unknown")
	if a.opts.TrayHost != nil {
		ok, err = a.opts.TrayHost()
	}
	if !ok {
		a.opts.Logger.Warn("start minimised needs a tray icon the desktop shows; showing the window", "err", err)
	}
	return ok
}

// do runs f on the UI goroutine while the window exists.
func (a *App) do(f func()) {
	if !a.uiGone.Load() {
		fyne.Do(f)
	}
}

func (a *App) refresh() {
	s := a.opts.Settings
	a.phone.update(s, a.opts.Phone != nil, a.registered)
	a.settings.update(s, a.opts.LoadErr, a.backupLoads())
	line := statusLine(s, a.opts.LoadErr, a.regText)
	a.status.SetText(line)
	if a.tray != nil {
		sipPart, _, _ := strings.Cut(line, " · ")
		a.tray.setRegistration(sipPart, a.registered)
	}
}

func (a *App) backupLoads() bool {
	_, err := a.opts.Dir.LoadBackup()
	return err == nil
}

// setSettings makes s the current settings after a successful save.
func (a *App) setSettings(s settings.Settings) {
	a.opts.Settings, a.opts.LoadErr = s, nil
	a.refresh()
}

// openEditor shows the settings editor in its own window: the phone's
// window is narrow, the integration settings are wide.
func (a *App) openEditor() {
	if a.editWin != nil {
		a.editWin.RequestFocus()
		return
	}
	w := a.fyne.NewWindow(Title + " — " + lang.L("Settings"))
	a.editor = newSettingsEditor(editorOptions{
		Settings: a.opts.Settings, Dir: a.opts.Dir, Secrets: a.opts.Secrets,
		Directory: func() (Directory, error) {
			if a.opts.DirectoryFor == nil {
				return nil, errNoPortal
			}
			return a.opts.DirectoryFor(a.opts.Settings)
		},
		Logger: a.opts.Logger, Window: w,
		Saved: func(s settings.Settings) {
			a.opts.Logger.Info("settings saved", "file", a.opts.Dir.File())
			a.setSettings(s)
		},
	})
	w.SetContent(a.editor.root)
	w.Resize(fyne.NewSize(980, 720))
	w.SetOnClosed(func() { a.editWin, a.editor = nil, nil })
	a.editWin = w
	w.Show()
}

func (a *App) onRestoreBackup() {
	s, err := a.opts.Dir.RestoreBackup()
	if err != nil {
		a.showError(err)
		return
	}
	a.opts.Logger.Info("settings restored from backup", "file", a.opts.Dir.File())
	a.setSettings(s)
	if a.editor != nil {
		a.editor.reset(s)
	}
	dialog.ShowInformation(Title, lang.L("Settings restored from the backup."), a.win)
}

func (a *App) onImport() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			a.showError(err)
			return
		}
		defer r.Close()
		s, err := importSettings(a.opts.Dir, r, r.URI().Name())
		if err != nil {
			a.showError(err)
			return
		}
		a.opts.Logger.Info("settings imported", "from", r.URI().Path())
		a.setSettings(s)
		if a.editor != nil {
			a.editor.reset(s)
		}
		dialog.ShowInformation(Title, lang.L("Settings imported."), a.win)
	}, a.win)
}

func (a *App) onExport() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			a.showError(err)
			return
		}
		if err := settings.Write(w, a.opts.Settings); err != nil {
			_ = w.Close()
			a.showError(err)
			return
		}
		if err := w.Close(); err != nil {
			a.showError(fmt.Errorf("export settings: %w", err))
			return
		}
		dialog.ShowInformation(Title, lang.L("Settings exported."), a.win)
	}, a.win)
	d.SetFileName("omniphone-settings.json")
	d.Show()
}

// showError logs err once and shows it; nil (a cancelled dialog) is ignored.
func (a *App) showError(err error) {
	if err == nil {
		return
	}
	a.opts.Logger.Error("action failed", "err", err)
	dialog.ShowError(err, a.win)
}

// importSettings reads a settings document and saves it as the profile's
// settings, all or nothing.
func importSettings(dir settings.Dir, r io.Reader, name string) (settings.Settings, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return settings.Settings{}, fmt.Errorf("import %s: %w", name, err)
	}
	s, err := settings.Parse(data)
	if err != nil {
		return settings.Settings{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := dir.Save(s); err != nil {
		return settings.Settings{}, fmt.Errorf("import %s: %w", name, err)
	}
	return s, nil
}
