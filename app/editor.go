package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

// settingsEditor edits a draft of every settings section (SPEC §1–§9, SIP
// accounts, preferences) and saves all of them with one button (P4): the
// draft is validated, secrets go to the SecretStore, and the document is
// written all at once — or nothing changes and every problem shows next to
// its field.
type settingsEditor struct {
	draft    settings.Settings
	dir      settings.Dir
	secrets  settings.SecretStore
	lists    directoryLists
	source   func() (Directory, error)
	log      *slog.Logger
	win      fyne.Window
	problems *problemBoard
	// pending are secrets typed since the last save, by key.
	pending map[settings.SecretKey]string
	// saved is called with the settings after a successful save.
	saved func(settings.Settings)

	tabs    *container.AppTabs
	save    *widget.Button
	status  *widget.Label
	refresh map[string]func() // per-section re-evaluation of greyed fields and warnings
	root    fyne.CanvasObject
}

type editorOptions struct {
	Settings  settings.Settings
	Dir       settings.Dir
	Secrets   settings.SecretStore
	Directory func() (Directory, error)
	Logger    *slog.Logger
	Window    fyne.Window
	Saved     func(settings.Settings)
}

func newSettingsEditor(o editorOptions) *settingsEditor {
	e := &settingsEditor{
		draft: o.Settings.Clone(), dir: o.Dir, secrets: o.Secrets, source: o.Directory,
		log: o.Logger, win: o.Window, saved: o.Saved, problems: newProblemBoard(),
		pending: map[settings.SecretKey]string{}, refresh: map[string]func(){},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.save = widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), e.onSave)
	e.save.Importance = widget.HighImportance
	help := widget.NewButtonWithIcon("", theme.QuestionIcon(), e.onHelp)
	e.status = widget.NewLabel("")
	e.status.Wrapping = fyne.TextWrapWord
	e.tabs = container.NewAppTabs()
	e.tabs.SetTabLocation(container.TabLocationLeading)
	e.build()
	e.root = container.NewBorder(
		e.problems.rest,
		container.NewBorder(nil, nil, nil, container.NewHBox(help, e.save), e.status),
		nil, nil, e.tabs)
	return e
}

// build (re)creates every section from the draft.
func (e *settingsEditor) build() {
	selected := 0
	if e.tabs.Selected() != nil {
		selected = e.tabs.SelectedIndex()
	}
	e.problems = newProblemBoardKeeping(e.problems)
	e.refresh = map[string]func(){}
	e.tabs.Items = []*container.TabItem{
		e.section(lang.L("Portals"), e.portalsSection()),
		e.section(lang.L("Call processing"), e.processingSection()),
		e.section(lang.L("Click-to-call and callback"), e.clickSection()),
		e.section(lang.L("Recordings and open lines"), e.recordingsSection()),
		e.section(lang.L("Templates"), e.templatesSection()),
		e.section(lang.L("Pipelines"), e.pipelinesSection()),
		e.section(lang.L("Responsibles"), e.responsiblesSection()),
		e.section(lang.L("Extra fields"), e.extraFieldsSection()),
		e.section(lang.L("SIP accounts"), e.accountsSection()),
		e.section(lang.L("Preferences"), e.preferencesSection()),
	}
	e.tabs.Refresh()
	if selected < len(e.tabs.Items) {
		e.tabs.SelectIndex(selected)
	}
	e.reevaluate()
}

func newProblemBoardKeeping(old *problemBoard) *problemBoard {
	b := newProblemBoard()
	if old != nil {
		b.rest = old.rest
	}
	return b
}

// reset replaces the draft (after an import or a restore elsewhere).
func (e *settingsEditor) reset(s settings.Settings) {
	e.draft = s.Clone()
	e.pending = map[settings.SecretKey]string{}
	e.build()
	e.problems.show(nil)
}

func (e *settingsEditor) section(title string, content fyne.CanvasObject) *container.TabItem {
	return container.NewTabItem(title, container.NewVScroll(container.NewPadded(content)))
}

// reevaluate greys out what another switch disables and refreshes the
// warnings; called after every change that can affect them.
func (e *settingsEditor) reevaluate() {
	for _, f := range e.refresh {
		f()
	}
}

// rebuildKeepingTab rebuilds after a list changed shape.
func (e *settingsEditor) rebuildKeepingTab() {
	e.build()
	e.problems.show(e.lastProblems())
}

func (e *settingsEditor) lastProblems() settings.Problems {
	var ps settings.Problems
	if err := e.draft.Validate(); err != nil {
		errors.As(err, &ps)
	}
	return ps
}

// onSave validates the whole draft; if it is valid it stores the typed
// secrets and then writes the settings file at once.
func (e *settingsEditor) onSave() {
	err := e.saveDraft()
	var ps settings.Problems
	switch {
	case errors.As(err, &ps):
		e.problems.show(ps)
		e.status.SetText(fmt.Sprintf(lang.L("Not saved. Problems to fix: %d; each is shown next to its field."), len(ps)))
		e.status.Importance = widget.DangerImportance
	case err != nil:
		e.status.SetText(lang.L("Not saved:") + " " + err.Error())
		e.status.Importance = widget.DangerImportance
		e.log.Error("settings not saved", "err", err)
	default:
		e.problems.show(nil)
		e.status.SetText(lang.L("Saved."))
		e.status.Importance = widget.SuccessImportance
	}
	e.status.Refresh()
}

func (e *settingsEditor) saveDraft() error {
	e.draft.Version = settings.CurrentVersion
	if err := e.draft.Validate(); err != nil {
		return err
	}
	if len(e.pending) > 0 && e.secrets == nil {
		return errors.New("no keyring is available to keep the passwords and tokens: install and unlock a Secret Service (gnome-keyring or KWallet)")
	}
	for k, v := range e.pending {
		if err := e.secrets.Set(k, v); err != nil {
			return fmt.Errorf("store %s: %w", k, err)
		}
	}
	if err := e.dir.Save(e.draft); err != nil {
		return err
	}
	e.pending = map[settings.SecretKey]string{}
	if e.saved != nil {
		e.saved(e.draft.Clone())
	}
	return nil
}

// secretEntry is a password entry for key: empty keeps the stored value.
func (e *settingsEditor) secretEntry(key func() settings.SecretKey) *widget.Entry {
	p := widget.NewPasswordEntry()
	p.SetPlaceHolder(lang.L("unchanged"))
	p.OnChanged = func(s string) {
		if s == "" {
			delete(e.pending, key())
			return
		}
		e.pending[key()] = s
	}
	return p
}

// onSync reloads the portal's employees, pipelines and fields (P5).
func (e *settingsEditor) onSync() {
	var src Directory
	var err error
	if e.source != nil {
		src, err = e.source()
	}
	if src == nil {
		msg := lang.L("Connect a portal and save the settings first.")
		if err != nil && !errors.Is(err, errNoPortal) {
			msg += "\n" + err.Error()
		}
		dialog.ShowInformation(lang.L("Sync employees"), msg, e.win)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	employees, err := src.Employees(ctx)
	if err == nil {
		var pipelines []Pipeline
		if pipelines, err = src.Pipelines(ctx); err == nil {
			var fields []string
			if fields, err = src.TextFields(ctx); err == nil {
				e.lists = directoryLists{employees: employees, pipelines: pipelines, textFields: fields}
			}
		}
	}
	if err != nil {
		e.log.Error("portal lists not loaded", "err", err)
		dialog.ShowError(fmt.Errorf("%s: %w", lang.L("The portal's lists could not be loaded"), err), e.win)
		return
	}
	e.rebuildKeepingTab()
}

func (e *settingsEditor) onHelp() {
	text := widget.NewRichTextFromMarkdown(helpText())
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(lang.L("How the integration works"), lang.L("Close"), container.NewVScroll(text), e.win)
	d.Resize(fyne.NewSize(640, 560))
	d.Show()
}
