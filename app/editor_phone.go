package app

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

func (e *settingsEditor) accountsSection() fyne.CanvasObject {
	box := container.NewVBox(e.problems.label("sip.accounts"))
	for i := range e.draft.SIP.Accounts {
		box.Add(e.accountCard(i))
	}
	box.Add(e.addButton(lang.L("Add a SIP account"), func() {
		acc := settings.NewSIPAccount(fmt.Sprintf("account%d", len(e.draft.SIP.Accounts)+1))
		acc.Default = len(e.draft.SIP.Accounts) == 0
		e.draft.SIP.Accounts = append(e.draft.SIP.Accounts, acc)
	}))
	return box
}

func (e *settingsEditor) accountCard(i int) fyne.CanvasObject {
	a := &e.draft.SIP.Accounts[i]
	path := fmt.Sprintf("sip.accounts[%d]", i)
	// The pickers show what an empty value means.
	if a.DialPlan == "" {
		a.DialPlan = settings.DialPlanNone
	}
	if a.CallerIDMode == "" {
		a.CallerIDMode = settings.CallerIDFrom
	}
	if a.SRTP == "" {
		a.SRTP = settings.SRTPOff
	}
	def := widget.NewCheck(lang.L("Default account"), nil)
	def.SetChecked(a.Default)
	def.OnChanged = func(on bool) {
		if on {
			for j := range e.draft.SIP.Accounts {
				e.draft.SIP.Accounts[j].Default = j == i
			}
			e.rebuildKeepingTab()
			return
		}
		a.Default = false
	}
	transport := choice(&a.Transport, []option{
		{string(settings.TransportUDP), "UDP"}, {string(settings.TransportTCP), "TCP"}, {string(settings.TransportTLS), "TLS"},
		{string(settings.TransportWS), "WS"}, {string(settings.TransportWSS), "WSS"},
	}, nil)
	srtp := choice(&a.SRTP, []option{
		{string(settings.SRTPOff), lang.L("off")}, {string(settings.SRTPOptional), lang.L("optional (SRTP if the other side can)")},
		{string(settings.SRTPRequired), lang.L("required (SRTP, SDES)")},
	}, nil)
	dtmf := choice(&a.DTMF, []option{{string(settings.DTMFRFC4733), "RFC 4733"}, {string(settings.DTMFInfo), "SIP INFO"}}, nil)
	password := e.secretEntry(func() settings.SecretKey { return settings.SIPPassword(a.ID) })
	return widget.NewCard("", "", container.NewVBox(
		e.field(path+".display_name", lang.L("Display name"), entry(&a.DisplayName, "")),
		container.NewGridWithColumns(2,
			e.field(path+".user", lang.L("User (extension)"), entry(&a.User, "101")),
			e.field(path+".auth_user", lang.L("Authentication user (if different)"), entry(&a.AuthUser, ""))),
		e.field(path+".password", lang.L("Password"), password),
		e.field(path+".domain", lang.L("SIP domain"), entry(&a.Domain, "pbx.example.com")),
		container.NewGridWithColumns(2,
			e.field(path+".registrar", lang.L("Registrar (host:port, optional)"), entry(&a.Registrar, "")),
			e.field(path+".proxy", lang.L("Outbound proxy (host:port, optional)"), entry(&a.Proxy, ""))),
		container.NewGridWithColumns(2,
			e.field(path+".ca_cert_file", lang.L("CA certificate of the PBX for TLS and WSS (PEM file, optional)"), entry(&a.CACertFile, "/etc/ssl/pbx-ca.pem")),
			e.field(path+".srtp", lang.L("Audio encryption"), srtp)),
		e.field(path+".ws_path", lang.L("WebSocket path of the WebRTC gateway (ws/wss, optional)"), entry(&a.WSPath, "/ws")),
		container.NewGridWithColumns(3,
			e.field(path+".transport", lang.L("Transport"), transport),
			e.field(path+".expiry_seconds", lang.L("Registration expiry, s"), intEntry(&a.ExpirySeconds, "600")),
			e.field(path+".dtmf", lang.L("DTMF"), dtmf)),
		container.NewGridWithColumns(2,
			e.field(path+".codecs", lang.L("Codecs in order of preference"), commaList(&a.Codecs, "opus, PCMU, PCMA")),
			e.field(path+".dial_plan", lang.L("Dial plan for Russian numbers"), choice(&a.DialPlan, []option{
				{string(settings.DialPlanNone), lang.L("as typed")}, {string(settings.DialPlanRuE164), "+7XXXXXXXXXX"},
				{string(settings.DialPlanRu8), "8XXXXXXXXXX"}, {string(settings.DialPlanRu7), "7XXXXXXXXXX"},
			}, nil))),
		container.NewGridWithColumns(2,
			e.field(path+".caller_id", lang.L("Caller ID (optional)"), entry(&a.CallerID, "+74951234567")),
			e.field(path+".caller_id_mode", lang.L("Caller ID is sent in"), choice(&a.CallerIDMode, []option{
				{string(settings.CallerIDFrom), lang.L("From (user part)")},
				{string(settings.CallerIDIdentity), "P-Asserted-Identity"},
			}, nil))),
		e.callHeadersField(path+".call_headers", &a.CallHeaders),
		container.NewGridWithColumns(2,
			e.field(path+".failover_registrars", lang.L("Backup registrars (host:port, comma-separated)"), commaList(&a.FailoverRegistrars, "pbx2.example.com:5060")),
			e.field(path+".keepalive_seconds", lang.L("Keep-alive every, s"), intEntry(&a.KeepAliveSeconds, "25"))),
		check(lang.L("No keep-alive (the PBX is on the same network)"), &a.KeepAliveOff, nil),
		e.field(path+".trusted_sources", lang.L("Also accept calls from (host[:port], comma-separated)"), commaList(&a.TrustedSources, "10.0.0.5")),
		check(lang.L("Accept calls from any address (turns off ghost-call protection)"), &a.AcceptAnySource, nil),
		e.field(path+".id", lang.L("Short ID"), entry(&a.ID, "office")),
		def,
		e.removeButton(func() { e.draft.SIP.Accounts = append(e.draft.SIP.Accounts[:i], e.draft.SIP.Accounts[i+1:]...) }),
	))
}

func (e *settingsEditor) preferencesSection() fyne.CanvasObject {
	p := &e.draft.App
	s := &e.draft.Sync
	teamURL := entry(&s.TeamURL, "https://omnisync.example.com")
	token := e.secretEntry(func() settings.SecretKey { return settings.SyncToken })
	mode := choice(&s.Mode, []option{
		{string(settings.SyncEmbedded), lang.L("on this computer")},
		{string(settings.SyncTeam), lang.L("on the team service (omnisync)")},
	}, e.reevaluate)
	e.refresh["sync"] = func() { setEnabled(s.Mode == settings.SyncTeam, teamURL, token) }
	return container.NewVBox(
		e.field("app.language", lang.L("Language (takes effect after a restart)"), choice(&p.Language, []option{
			{string(settings.LanguageRU), "Русский"}, {string(settings.LanguageEN), "English"}}, nil)),
		check(lang.L("Start minimised"), &p.StartMinimised, nil),
		widget.NewCard(lang.L("Incoming-call card"), "", container.NewVBox(
			check(lang.L("Show the card on incoming calls"), &p.Card.Show, nil),
			check(lang.L("Open the client in Bitrix24 on answer"), &p.Card.OpenEntityOnAnswer, nil),
			check(lang.L("Close the card on answer"), &p.Card.HideOnAnswer, nil))),
		widget.NewCard(lang.L("Sound devices"), lang.L("Empty: the system's default"), container.NewVBox(
			e.field("app.input_device", lang.L("Microphone"), entry(&p.InputDevice, "")),
			e.field("app.output_device", lang.L("Speaker"), entry(&p.OutputDevice, "")),
			e.field("app.ring_device", lang.L("Ring on"), entry(&p.RingDevice, "")))),
		widget.NewCard(lang.L("Sync engine"), "", container.NewVBox(
			e.field("sync.mode", lang.L("Finished calls are written to the CRM"), mode),
			e.field("sync.team_url", lang.L("Team service address"), teamURL),
			e.field("sync.token", lang.L("Team service token"), token))),
	)
}

// callHeadersField edits an account's call-tracking headers: one row per
// INVITE header the PBX sends and the call parameter it carries (SPEC §11
// params, used by the filters and templates).
func (e *settingsEditor) callHeadersField(path string, m *map[string]string) fyne.CanvasObject {
	params := make([]option, len(settings.CallHeaderParams))
	for i, p := range settings.CallHeaderParams {
		params[i] = option{p, paramLabel(settings.Param(p))}
	}
	box := container.NewVBox()
	for _, name := range slices.Sorted(maps.Keys(*m)) {
		param := (*m)[name]
		header := widget.NewEntry()
		header.SetText(name)
		header.SetPlaceHolder("X-Scenario")
		header.OnChanged = func(s string) {
			if s = strings.TrimSpace(s); s != name {
				delete(*m, name)
				(*m)[s] = param
				name = s
			}
		}
		carries := choice(&param, params, func() { (*m)[name] = param })
		remove := e.removeButton(func() { delete(*m, name) })
		box.Add(container.NewBorder(nil, nil, nil, remove, container.NewGridWithColumns(2, header, carries)))
	}
	box.Add(e.addButton(lang.L("Add a header"), func() {
		if *m == nil {
			*m = map[string]string{}
		}
		if _, ok := (*m)[""]; !ok {
			(*m)[""] = settings.CallHeaderParams[0]
		}
	}))
	return e.field(path, lang.L("PBX call-tracking headers (INVITE header → call parameter)"), box)
}
