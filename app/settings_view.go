package app

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

// settingsView summarises the settings, lists their problems and warnings,
// and imports, exports and restores the settings document.
type settingsView struct {
	path     *widget.Label
	loadErr  *widget.Label
	restore  *widget.Button
	summary  *fyne.Container
	portals  *widget.Label
	accounts *widget.Label
	sync     *widget.Label
	problems *widget.Label
	warnings *widget.Label
	imp, exp *widget.Button
	edit     *widget.Button
	root     fyne.CanvasObject
}

func newSettingsView(a *App) *settingsView {
	v := &settingsView{}
	v.path = widget.NewLabel(a.opts.Dir.File())
	v.path.Wrapping = fyne.TextWrapBreak
	v.loadErr = widget.NewLabel("")
	v.loadErr.Wrapping = fyne.TextWrapWord
	v.loadErr.Importance = widget.DangerImportance
	v.restore = widget.NewButton(lang.L("Restore backup"), a.onRestoreBackup)
	v.portals = widget.NewLabel("")
	v.accounts = widget.NewLabel("")
	v.sync = widget.NewLabel("")
	for _, l := range []*widget.Label{v.portals, v.accounts, v.sync} {
		l.Wrapping = fyne.TextWrapWord
	}
	v.summary = container.NewVBox(
		widget.NewLabelWithStyle(lang.L("Portals"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.portals,
		widget.NewLabelWithStyle(lang.L("SIP accounts"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.accounts,
		widget.NewLabelWithStyle(lang.L("Sync engine"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.sync,
	)
	v.problems = widget.NewLabel("")
	v.problems.Wrapping = fyne.TextWrapWord
	v.warnings = widget.NewLabel("")
	v.warnings.Wrapping = fyne.TextWrapWord
	v.warnings.Importance = widget.WarningImportance
	v.imp = widget.NewButton(lang.L("Import…"), a.onImport)
	v.exp = widget.NewButton(lang.L("Export…"), a.onExport)
	v.edit = widget.NewButtonWithIcon(lang.L("Edit settings…"), theme.SettingsIcon(), a.openEditor)
	v.edit.Importance = widget.HighImportance

	v.root = container.NewVScroll(container.NewVBox(
		widget.NewCard(lang.L("Settings file"), "", container.NewVBox(v.path, v.loadErr, v.restore)),
		v.edit,
		v.summary,
		v.problems,
		v.warnings,
		container.NewGridWithColumns(2, v.imp, v.exp),
	))
	return v
}

func (v *settingsView) update(s settings.Settings, loadErr error, backupOK bool) {
	if loadErr != nil {
		v.loadErr.SetText(lang.L("The settings file could not be read; Omniphone runs with default settings and has not changed the file.") +
			"\n" + loadErr.Error())
		v.loadErr.Show()
	} else {
		v.loadErr.Hide()
	}
	if loadErr != nil && backupOK {
		v.restore.Show()
	} else {
		v.restore.Hide()
	}
	v.portals.SetText(portalSummary(s))
	v.accounts.SetText(accountSummary(s))
	if s.Sync.Mode == settings.SyncTeam {
		v.sync.SetText(lang.L("team service") + " " + s.Sync.TeamURL)
	} else {
		v.sync.SetText(lang.L("embedded (this computer)"))
	}
	var ps settings.Problems
	if err := s.Validate(); errors.As(err, &ps) {
		v.problems.SetText(lang.L("Problems") + ":\n" + problemLines(ps))
		v.problems.Importance = widget.DangerImportance
	} else {
		v.problems.SetText(lang.L("Settings are valid."))
		v.problems.Importance = widget.SuccessImportance
	}
	v.problems.Refresh()
	if ws := s.Warnings(); len(ws) > 0 {
		v.warnings.SetText(lang.L("Warnings") + ":\n" + problemLines(ws))
		v.warnings.Show()
	} else {
		v.warnings.Hide()
	}
}

func portalSummary(s settings.Settings) string {
	if len(s.Portals) == 0 {
		return lang.L("none")
	}
	lines := make([]string, len(s.Portals))
	for i, p := range s.Portals {
		lines[i] = fmt.Sprintf("%s — %s", p.Name, p.Domain)
		if p.Main {
			lines[i] += " (" + lang.L("main") + ")"
		}
	}
	return strings.Join(lines, "\n")
}

func accountSummary(s settings.Settings) string {
	if len(s.SIP.Accounts) == 0 {
		return lang.L("none")
	}
	lines := make([]string, len(s.SIP.Accounts))
	for i, a := range s.SIP.Accounts {
		lines[i] = accountLabel(a)
		if a.Default {
			lines[i] += " (" + lang.L("default") + ")"
		}
	}
	return strings.Join(lines, "\n")
}
