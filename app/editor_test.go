package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
)

type editorBundle struct {
	e       *settingsEditor
	dir     settings.Dir
	secrets *settings.FileStore
	saved   []settings.Settings
}

func newTestEditor(t *testing.T, s settings.Settings, dirSrc Directory) *editorBundle {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("editor")
	b := &editorBundle{dir: settings.Dir{Path: t.TempDir()}, secrets: settings.NewFileStore(filepath.Join(t.TempDir(), "s.json"))}
	var src func() (Directory, error)
	if dirSrc != nil {
		src = func() (Directory, error) { return dirSrc, nil }
	}
	b.e = newSettingsEditor(editorOptions{Settings: s, Dir: b.dir, Secrets: b.secrets, Directory: src, Window: w,
		Saved: func(s settings.Settings) { b.saved = append(b.saved, s) }})
	w.SetContent(b.e.root)
	w.Resize(fyne.NewSize(980, 720))
	return b
}

// find returns the first widget of type T in the editor whose text
// matches, searching every tab.
func find[T fyne.CanvasObject](t *testing.T, e *settingsEditor, match func(T) bool) T {
	t.Helper()
	for _, item := range e.tabs.Items {
		for _, o := range test.LaidOutObjects(item.Content) {
			if w, ok := o.(T); ok && match(w) {
				return w
			}
		}
	}
	var zero T
	t.Fatalf("no matching %T in the editor", zero)
	return zero
}

func checkNamed(t *testing.T, e *settingsEditor, text string) *widget.Check {
	return find(t, e, func(c *widget.Check) bool { return c.Text == text })
}

func withPortal() settings.Settings {
	s := settings.Default()
	s.Portals = []settings.Portal{{ID: "main", Name: "Company", Domain: "https://company.bitrix24.ru", Main: true,
		Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}}
	s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 1, 1
	return s
}

func TestEditor_CP1GreysTheRestOut(t *testing.T) {
	b := newTestEditor(t, withPortal(), nil)
	other := checkNamed(t, b.e, "Use other telephony (CP1)")
	createIn := checkNamed(t, b.e, "Create a lead/deal for all incoming calls (CP3)")
	filters := checkNamed(t, b.e, "Filter calls (CP7)")
	require.False(t, createIn.Disabled())
	test.Tap(other)
	require.True(t, b.e.draft.CallProcessing.UseOtherTelephony)
	require.True(t, createIn.Disabled())
	require.True(t, filters.Disabled())
	test.Tap(other)
	require.False(t, createIn.Disabled())
}

func TestEditor_C2RequiredShownNextToTheField(t *testing.T) {
	b := newTestEditor(t, withPortal(), nil)
	use := checkNamed(t, b.e, "Use click-to-call (C1)")
	override := checkNamed(t, b.e, "Override the caller ID for outgoing calls (C3)")
	require.True(t, override.Disabled(), "C1 off disables the rest")
	test.Tap(use)
	require.False(t, override.Disabled())

	b.e.onSave()
	label := b.e.problems.labels["click_to_call.number"]
	require.True(t, label.Visible())
	require.Equal(t, "is required when click-to-call is on (C2)", label.Text)
	require.Contains(t, b.e.status.Text, "Not saved")
	_, err := os.Stat(b.dir.File())
	require.True(t, os.IsNotExist(err), "nothing was written")
	require.Empty(t, b.saved)
}

func TestEditor_RC2GreyedUnlessRC1(t *testing.T) {
	b := newTestEditor(t, withPortal(), nil)
	send := checkNamed(t, b.e, "Send call recordings (RC1)")
	rc2 := checkNamed(t, b.e, "Create the activity and send recordings when certain filters are set (RC2)")
	require.True(t, rc2.Disabled())
	test.Tap(send)
	require.False(t, rc2.Disabled())
}

func TestEditor_SaveAllOrNothingWithSecrets(t *testing.T) {
	b := newTestEditor(t, withPortal(), nil)
	b.e.draft.SIP.Accounts = []settings.SIPAccount{settings.NewSIPAccount("office")}
	b.e.draft.SIP.Accounts[0].Default = true
	b.e.rebuildKeepingTab()
	accounts := tabContent(t, b.e, "SIP accounts")
	pw := findIn(t, accounts, func(en *widget.Entry) bool { return en.Password })
	test.Type(pw, "sip-s3cret")

	// Invalid: the account has no user and no domain. Nothing is stored.
	b.e.onSave()
	require.True(t, b.e.problems.labels["sip.accounts[0].user"].Visible())
	_, err := b.secrets.Get(settings.SIPPassword("office"))
	require.ErrorIs(t, err, settings.ErrSecretNotFound, "no secret is stored while the settings are invalid")

	user := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "101" })
	test.Type(user, "101")
	domain := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "pbx.example.com" })
	test.Type(domain, "pbx.example.com")
	b.e.onSave()
	require.Equal(t, "Saved.", b.e.status.Text)
	v, err := b.secrets.Get(settings.SIPPassword("office"))
	require.NoError(t, err)
	require.Equal(t, "sip-s3cret", v)
	loaded, err := b.dir.Load()
	require.NoError(t, err)
	require.Equal(t, "101", loaded.SIP.Accounts[0].User)
	data, err := os.ReadFile(b.dir.File())
	require.NoError(t, err)
	require.NotContains(t, string(data), "sip-s3cret")
	require.Len(t, b.saved, 1)
}

func TestEditor_FilterBuilder(t *testing.T) {
	s := withPortal()
	s.CallProcessing.Filters.Enabled = true
	b := newTestEditor(t, s, nil)
	fe := b.e.newFilterEditor("call_processing.filters.incoming", &b.e.draft.CallProcessing.Filters.Incoming, settings.DirectionIn, nil)
	test.Tap(fe.addOr)
	test.Tap(fe.addOr)
	f := b.e.draft.CallProcessing.Filters.Incoming
	require.Len(t, f.Groups, 2, "two groups joined by OR")
	addAnd := findIn(t, fe.box, func(bt *widget.Button) bool { return bt.Text == "Add a condition (AND)" })
	test.Tap(addAnd)
	require.Len(t, b.e.draft.CallProcessing.Filters.Incoming.Groups[0].Conditions, 2)
	values := findIn(t, fe.box, func(en *widget.Entry) bool { return en.PlaceHolder == "values, comma-separated" })
	test.Type(values, "site.ru, shop.ru")
	require.Equal(t, []string{"site.ru", "shop.ru"}, b.e.draft.CallProcessing.Filters.Incoming.Groups[0].Conditions[0].Values)
	texts := labelsIn(fe.box)
	require.Contains(t, texts, "OR")
	require.Contains(t, texts, "AND")

	b.e.onSave()
	require.True(t, b.e.problems.labels["call_processing.filters.incoming.groups[0].conditions[1]"].Visible(),
		"the condition without values is flagged on its own row")
}

func TestEditor_TemplatePreviewAndVariables(t *testing.T) {
	s := withPortal()
	s.Templates.Rules = []settings.TitleTemplate{{Direction: settings.DirectionIn, Entity: settings.EntityLead, Template: "Call "}}
	b := newTestEditor(t, s, nil)
	plus := find(t, b.e, func(sel *widget.Select) bool { return sel.PlaceHolder == "+" })
	plus.SetSelected(plus.Options[0])
	require.Equal(t, "Call {{contact_phone_number}}", b.e.draft.Templates.Rules[0].Template)
	tpl, err := settings.ParseTemplate(b.e.draft.Templates.Rules[0].Template)
	require.NoError(t, err)
	require.Equal(t, "Call +7 916 123-45-67", tpl.Preview())

	b.e.draft.Templates.Rules[0].Template = "{{nope}}"
	b.e.onSave()
	require.Contains(t, b.e.problems.labels["templates.rules[0].template"].Text, "unknown variable {{nope}}")
}

type fakeDirectory struct{}

func (fakeDirectory) Employees(context.Context) ([]Employee, error) {
	return []Employee{{ID: 2, Name: "Мария Смирнова", Extension: "102"}, {ID: 3, Name: "Алексей Кузнецов", Extension: "103"},
		{ID: 4, Name: "Ольга Бухгалтер"}}, nil
}

func (fakeDirectory) Pipelines(context.Context) ([]Pipeline, error) {
	return []Pipeline{{ID: 1, Name: "Повторные продажи", Stages: []StageOption{{ID: "C1:NEW", Name: "Новая"}}}}, nil
}

func (fakeDirectory) TextFields(context.Context) ([]string, error) {
	return []string{"UF_CRM_SOURCE"}, nil
}

func TestEditor_P5SyncFillsThePickers(t *testing.T) {
	b := newTestEditor(t, withPortal(), fakeDirectory{})
	b.e.onSync()
	picker := find(t, b.e, func(sel *widget.Select) bool {
		for _, o := range sel.Options {
			if o == "Мария Смирнова (102)" {
				return true
			}
		}
		return false
	})
	picker.SetSelected("Алексей Кузнецов (103)")
	require.Contains(t, []int{b.e.draft.Responsibles.DefaultIncoming, b.e.draft.Responsibles.DefaultOutgoing}, 3)
}

func findIn[T fyne.CanvasObject](t *testing.T, root fyne.CanvasObject, match func(T) bool) T {
	t.Helper()
	for _, o := range test.LaidOutObjects(root) {
		if w, ok := o.(T); ok && match(w) {
			return w
		}
	}
	var zero T
	t.Fatalf("no matching %T", zero)
	return zero
}

func tabContent(t *testing.T, e *settingsEditor, title string) fyne.CanvasObject {
	t.Helper()
	for _, item := range e.tabs.Items {
		if item.Text == title {
			return item.Content
		}
	}
	t.Fatalf("no tab %q", title)
	return nil
}

func labelsIn(root fyne.CanvasObject) []string {
	var out []string
	for _, o := range test.LaidOutObjects(root) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestEditor_CallHeadersMapINVITEHeadersToCallParameters(t *testing.T) {
	s := withAccount()
	b := newTestEditor(t, s, nil)
	add := find(t, b.e, func(btn *widget.Button) bool { return btn.Text == "Add a header" })
	test.Tap(add)

	// A blank header name is refused next to the field; nothing is written.
	b.e.onSave()
	require.Equal(t, `"" is not a header name`, b.e.problems.labels["sip.accounts[0].call_headers"].Text)
	_, err := os.Stat(b.dir.File())
	require.True(t, os.IsNotExist(err))

	header := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "X-Scenario" })
	test.Type(header, "X-Campaign")
	carries := find(t, b.e, func(sel *widget.Select) bool { return sel.Selected == "PBX scenario" })
	carries.SetSelected("Ad campaign")
	b.e.onSave()
	require.Equal(t, "Saved.", b.e.status.Text)
	loaded, err := b.dir.Load()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"X-Campaign": "campaign"}, loaded.SIP.Accounts[0].CallHeaders)
}

// TestEditor_CodecOrderIssue10: the account's codecs are typed as an
// ordered list; the order is saved as typed, and a codec the phone lacks
// is refused next to the field, naming the ones it has.
func TestEditor_CodecOrderIssue10(t *testing.T) {
	b := newTestEditor(t, withAccount(), nil)
	codecs := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "opus, PCMU, PCMA" })
	require.Equal(t, "PCMU, PCMA", codecs.Text)

	codecs.SetText("PCMU, G722")
	b.e.onSave()
	label := b.e.problems.labels["sip.accounts[0].codecs"]
	require.True(t, label.Visible())
	require.Contains(t, label.Text, `unknown codec "G722": use opus, PCMU, PCMA`)
	_, err := os.Stat(b.dir.File())
	require.True(t, os.IsNotExist(err), "nothing was written")

	codecs.SetText("opus, PCMA, PCMU")
	b.e.onSave()
	require.Equal(t, "Saved.", b.e.status.Text)
	loaded, err := b.dir.Load()
	require.NoError(t, err)
	require.Equal(t, []string{"opus", "PCMA", "PCMU"}, loaded.SIP.Accounts[0].Codecs)
}

// TestEditor_AccountResilienceIssue10: backup registrars, more trusted
// call sources, ghost-call protection and the keep-alive are account
// fields; a bad address is refused next to its field, good ones are saved.
func TestEditor_AccountResilienceIssue10(t *testing.T) {
	b := newTestEditor(t, withAccount(), nil)
	backups := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "pbx2.example.com:5060" })
	trusted := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "10.0.0.5" })
	keepAlive := find(t, b.e, func(en *widget.Entry) bool { return en.PlaceHolder == "25" })
	anySource := find(t, b.e, func(c *widget.Check) bool { return strings.HasPrefix(c.Text, "Accept calls from any address") })

	backups.SetText("pbx2.example.com:5060, pbx 3")
	keepAlive.SetText("often")
	b.e.onSave()
	require.Contains(t, b.e.problems.labels["sip.accounts[0].keepalive_seconds"].Text, "between 5 and 3600 seconds")
	label := b.e.problems.labels["sip.accounts[0].failover_registrars"]
	require.True(t, label.Visible())
	require.Contains(t, label.Text, `"pbx 3" is not host[:port]`)

	backups.SetText("pbx2.example.com:5060, 10.0.0.9")
	trusted.SetText("10.0.0.5")
	keepAlive.SetText("40")
	test.Tap(anySource)
	b.e.onSave()
	require.Equal(t, "Saved.", b.e.status.Text)
	loaded, err := b.dir.Load()
	require.NoError(t, err)
	acc := loaded.SIP.Accounts[0]
	require.Equal(t, []string{"pbx2.example.com:5060", "10.0.0.9"}, acc.FailoverRegistrars)
	require.Equal(t, []string{"10.0.0.5"}, acc.TrustedSources)
	require.Equal(t, 40, acc.KeepAliveSeconds)
	require.True(t, acc.AcceptAnySource)
}

// TestEditor_AudioEncryptionIssue10: the account's audio encryption offers
// off, optional and required; "optional" is saved, and any SDES policy on
// a WebSocket account is refused next to the field (WebRTC audio is always
// DTLS-SRTP).
func TestEditor_AudioEncryptionIssue10(t *testing.T) {
	b := newTestEditor(t, withAccount(), nil)
	srtp := find(t, b.e, func(sel *widget.Select) bool {
		return slices.Contains(sel.Options, "optional (SRTP if the other side can)")
	})
	require.Equal(t, []string{"off", "optional (SRTP if the other side can)", "required (SRTP, SDES)"}, srtp.Options)

	srtp.SetSelected("optional (SRTP if the other side can)")
	transport := find(t, b.e, func(sel *widget.Select) bool { return slices.Contains(sel.Options, "WSS") })
	transport.SetSelected("WS")
	b.e.onSave()
	label := b.e.problems.labels["sip.accounts[0].srtp"]
	require.True(t, label.Visible())
	require.Contains(t, label.Text, "always encrypted (DTLS-SRTP)")

	transport.SetSelected("UDP")
	b.e.onSave()
	require.Equal(t, "Saved.", b.e.status.Text)
	loaded, err := b.dir.Load()
	require.NoError(t, err)
	require.Equal(t, settings.SRTPOptional, loaded.SIP.Accounts[0].SRTP)
}
