package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/app/apptest"
	"github.com/omniphone/omniphone/settings"
)

// TestEditor_TabScreenshots renders every settings tab with the real theme
// and keeps the pictures in $OMNIPHONE_ARTIFACTS (make test sets it), so a
// person can look at them.
func TestEditor_TabScreenshots(t *testing.T) {
	s := withPortal()
	s.CallProcessing.CreateForIncoming = true
	s.CallProcessing.Filters.Enabled = true
	s.CallProcessing.Filters.Incoming = settings.Filter{Groups: []settings.Group{
		{Conditions: []settings.Condition{{Param: settings.ParamEmployee, Mode: settings.ModeInclude, Values: []string{"101"}}}},
		{Conditions: []settings.Condition{{Param: settings.ParamSite, Mode: settings.ModeExclude, Values: []string{"example.com"}}}},
	}}
	s.Templates.Rules = []settings.TitleTemplate{{Direction: settings.DirectionIn, Entity: settings.EntityLead, Template: "Звонок {{contact_phone_number}}"}}
	s.ClickToCall.Enabled = true
	s.SIP = withAccount().SIP
	s.SIP.Accounts[0].CallerIDMode = settings.CallerIDIdentity
	s.SIP.Accounts[0].CallHeaders = map[string]string{"X-Scenario": "scenario", "X-Campaign": "campaign"}
	b := newTestEditor(t, s, nil)
	fyne.CurrentApp().Settings().SetTheme(theme.DefaultTheme())
	b.e.onSave() // shows C2 next to its field
	w := b.e.win
	for i, item := range b.e.tabs.Items {
		b.e.tabs.SelectIndex(i)
		img := w.Canvas().Capture()
		colours, spread := apptest.ImageStats(img)
		require.Greater(t, colours, 20, item.Text)
		require.Greater(t, spread, 0.02, item.Text)
		apptest.SaveArtifact(t, "settings-"+strings.ReplaceAll(strings.ToLower(item.Text), " ", "-")+".png", img)
	}
}
