package app

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/settings"
)

// statusLine is the text of the status bar: registration, CRM, sync and
// settings state, in that order.
// regText, when set, is the phone's own registration state and replaces
// what the settings alone can say.
func statusLine(s settings.Settings, loadErr error, regText string) string {
	sip := sipStatus(s)
	if regText != "" {
		sip = regText
	}
	parts := []string{sip, crmStatus(s), syncStatus(s)}
	if loadErr != nil {
		parts = append(parts, lang.L("Settings: broken file"))
	} else if n := problemCount(s.Validate()); n > 0 {
		parts = append(parts, lang.L("Settings: {{.Count}} problems", map[string]any{"Count": n}))
	}
	return strings.Join(parts, " · ")
}

func sipStatus(s settings.Settings) string {
	if _, ok := s.DefaultSIPAccount(); !ok {
		return lang.L("SIP: no account")
	}
	return lang.L("SIP: not registered")
}

func crmStatus(s settings.Settings) string {
	p, ok := s.TelephonyPortalOrMain()
	if !ok {
		return lang.L("CRM: not connected")
	}
	return lang.L("CRM") + ": " + p.Name
}

func syncStatus(s settings.Settings) string {
	if s.Sync.Mode == settings.SyncTeam {
		return lang.L("Sync: team")
	}
	return lang.L("Sync: embedded")
}

func problemCount(err error) int {
	var ps settings.Problems
	if errors.As(err, &ps) {
		return len(ps)
	}
	if err != nil {
		return 1
	}
	return 0
}

// accountLabel names an account the way the operator knows it.
func accountLabel(a settings.SIPAccount) string {
	label := a.User + "@" + a.Domain
	if a.DisplayName != "" {
		label = a.DisplayName + " <" + label + ">"
	}
	return label
}
