package app

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

func directionOptions() []option {
	return []option{{string(settings.DirectionIn), lang.L("Incoming")}, {string(settings.DirectionOut), lang.L("Outgoing")}}
}

// addButton appends to a list and rebuilds the editor.
func (e *settingsEditor) addButton(label string, add func()) *widget.Button {
	return widget.NewButtonWithIcon(label, theme.ContentAddIcon(), func() {
		add()
		e.rebuildKeepingTab()
	})
}

func (e *settingsEditor) removeButton(remove func()) *widget.Button {
	b := widget.NewButtonWithIcon(lang.L("Remove"), theme.DeleteIcon(), func() {
		remove()
		e.rebuildKeepingTab()
	})
	b.Importance = widget.LowImportance
	return b
}

func (e *settingsEditor) portalsSection() fyne.CanvasObject {
	sync := widget.NewButtonWithIcon(lang.L("Sync employees"), theme.ViewRefreshIcon(), e.onSync)
	refresh := widget.NewButtonWithIcon(lang.L("Refresh pipelines"), theme.ViewRefreshIcon(), e.onSync)
	box := container.NewVBox(container.NewHBox(sync, refresh), e.problems.label("portals"))
	for i := range e.draft.Portals {
		box.Add(e.portalCard(i))
	}
	box.Add(e.addButton(lang.L("Add a portal"), func() {
		n := len(e.draft.Portals) + 1
		e.draft.Portals = append(e.draft.Portals, settings.Portal{
			ID: fmt.Sprintf("portal%d", n), Main: n == 1, Auth: settings.Auth{Kind: settings.AuthWebhook},
		})
	}))
	telephony := []option{{"", lang.L("the main portal")}}
	for _, p := range e.draft.Portals {
		telephony = append(telephony, option{p.ID, p.Name})
	}
	box.Add(e.field("telephony_portal", lang.L("Telephony works with"), choice(&e.draft.TelephonyPortal, telephony, nil)))
	return box
}

func (e *settingsEditor) portalCard(i int) fyne.CanvasObject {
	p := &e.draft.Portals[i]
	path := fmt.Sprintf("portals[%d]", i)
	main := widget.NewCheck(lang.L("Main"), nil)
	main.SetChecked(p.Main)
	main.OnChanged = func(on bool) {
		if on { // exactly one main portal: switching one on switches the others off
			for j := range e.draft.Portals {
				e.draft.Portals[j].Main = j == i
			}
			e.rebuildKeepingTab()
			return
		}
		p.Main = false
	}
	clientID := entry(&p.Auth.ClientID, "local.xxxxxxxx")
	clientSecret := e.secretEntry(func() settings.SecretKey { return settings.PortalClientSecret(p.ID) })
	webhook := widget.NewEntry()
	webhook.SetPlaceHolder("https://company.bitrix24.ru/rest/1/xxxxxxxx/")
	if p.Auth.WebhookUserID > 0 {
		webhook.SetPlaceHolder(fmt.Sprintf(lang.L("saved (user %d); paste a new URL to replace it"), p.Auth.WebhookUserID))
	}
	webhookErr := e.problems.label(path + ".auth.webhook_user_id")
	webhook.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			delete(e.pending, settings.PortalWebhookCode(p.ID))
			return
		}
		w, err := settings.ParseWebhookURL(s)
		if err != nil {
			webhookErr.SetText(err.Error())
			webhookErr.Show()
			return
		}
		webhookErr.Hide()
		p.Domain, p.Auth.WebhookUserID = w.Domain, w.UserID
		e.pending[settings.PortalWebhookCode(p.ID)] = w.Code
	}
	oauthBox := container.NewVBox(e.field(path+".auth.client_id", lang.L("Application ID (client_id)"), clientID),
		e.field(path+".auth.client_secret", lang.L("Application key (client_secret)"), clientSecret))
	webhookBox := container.NewVBox(widget.NewLabel(lang.L("Incoming webhook URL")), webhook, webhookErr)
	kind := choice(&p.Auth.Kind, []option{
		{string(settings.AuthWebhook), lang.L("Incoming webhook")},
		{string(settings.AuthOAuth), lang.L("OAuth application")},
	}, nil)
	showKind := func() {
		oauthBox.Hidden = p.Auth.Kind != settings.AuthOAuth
		webhookBox.Hidden = p.Auth.Kind != settings.AuthWebhook
		oauthBox.Refresh()
		webhookBox.Refresh()
	}
	kind.OnChanged = chain(kind.OnChanged, showKind)
	showKind()
	domain := entry(&p.Domain, "https://company.bitrix24.ru")
	return widget.NewCard("", "", container.NewVBox(
		e.field(path+".name", lang.L("Name"), entry(&p.Name, lang.L("Any name to tell portals apart"))),
		e.field(path+".domain", lang.L("Portal address"), domain),
		e.field(path+".id", lang.L("Short ID"), entry(&p.ID, "main")),
		main, e.problems.label(path+".main"),
		e.field(path+".auth.kind", lang.L("Connection"), kind),
		oauthBox, webhookBox,
		e.field(path+".ca_cert_file", lang.L("CA certificate to trust (on-premise portals, optional)"), entry(&p.CACertFile, "/etc/ssl/company-ca.pem")),
		e.removeButton(func() { e.draft.Portals = append(e.draft.Portals[:i], e.draft.Portals[i+1:]...) }),
	))
}

func (e *settingsEditor) processingSection() fyne.CanvasObject {
	cp := &e.draft.CallProcessing
	other := check(lang.L("Use other telephony (CP1)"), &cp.UseOtherTelephony, e.reevaluate)
	firstComm := e.textFieldPicker(&cp.FirstCommunicationField)
	forward := check(lang.L("Forward to the personal manager from CRM (CP2)"), &cp.ForwardToPersonalManager, e.reevaluate)
	createIn := check(lang.L("Create a lead/deal for all incoming calls (CP3)"), &cp.CreateForIncoming, e.reevaluate)
	createOut := check(lang.L("Create a lead/deal for all outgoing calls (CP4)"), &cp.CreateForOutgoing, e.reevaluate)
	delay := intEntry(&cp.UpdateResponsibleAfterMinutes, "0")
	source := check(lang.L("Pass virtual numbers as the source (CP6)"), &cp.VirtualNumberAsSource, nil)
	filters := check(lang.L("Filter calls (CP7)"), &cp.Filters.Enabled, e.reevaluate)
	in := e.newFilterEditor("call_processing.filters.incoming", &cp.Filters.Incoming, settings.DirectionIn, e.reevaluate)
	out := e.newFilterEditor("call_processing.filters.outgoing", &cp.Filters.Outgoing, settings.DirectionOut, e.reevaluate)
	warn := widget.NewLabel("")
	warn.Wrapping = fyne.TextWrapWord
	warn.Importance = widget.WarningImportance
	filterBox := container.NewVBox(widget.NewLabel(lang.L("Incoming calls")), in.object(),
		widget.NewLabel(lang.L("Outgoing calls")), out.object())
	e.refresh["processing"] = func() {
		rest := !cp.UseOtherTelephony
		setEnabled(rest, forward, createIn, createOut, delay, source, filters)
		setEnabled(cp.UseOtherTelephony, firstComm)
		filterBox.Hidden = !rest || !cp.Filters.Enabled
		filterBox.Refresh()
		var notes []string
		for _, w := range e.draft.Warnings() {
			if strings.HasPrefix(w.Path, "call_processing") {
				notes = append(notes, problemMessage(w))
			}
		}
		warn.SetText(strings.Join(notes, "\n"))
		warn.Hidden = len(notes) == 0
		warn.Refresh()
	}
	return container.NewVBox(
		other, e.field("call_processing.first_communication_field", lang.L("Field \"first communication ID\""), firstComm),
		forward, createIn, createOut,
		e.field("call_processing.update_responsible_after_minutes", lang.L("Update the responsible after, minutes (CP5; 0 — at once)"), delay),
		source, filters, filterBox, warn,
	)
}

// textFieldPicker picks a text user field from the synced list, or takes
// its name typed when the list is not loaded.
func (e *settingsEditor) textFieldPicker(v *string) control {
	if len(e.lists.textFields) == 0 {
		en := entry(v, lang.L("UF_CRM_… (press \"Sync employees\" to choose from the list)"))
		return en
	}
	opts := []option{{"", lang.L("none")}}
	for _, f := range e.lists.textFields {
		opts = append(opts, option{f, f})
	}
	return choice(v, opts, nil)
}

func (e *settingsEditor) clickSection() fyne.CanvasObject {
	c2c := &e.draft.ClickToCall
	cb := &e.draft.Callback
	number := entry(&c2c.Number, lang.L("e.g.")+" +7 495 123-45-67")
	override := check(lang.L("Override the caller ID for outgoing calls (C3)"), &c2c.OverrideCallerID, nil)
	use := check(lang.L("Use click-to-call (C1)"), &c2c.Enabled, e.reevaluate)
	cbNumber := entry(&cb.Number, lang.L("e.g.")+" +7 495 123-45-67")
	cbUse := check(lang.L("Use callback (CB1)"), &cb.Enabled, e.reevaluate)
	e.refresh["click"] = func() {
		setEnabled(c2c.Enabled, number, override)
		setEnabled(cb.Enabled, cbNumber)
	}
	return container.NewVBox(
		widget.NewCard(lang.L("Click-to-call from CRM"), "", container.NewVBox(use,
			e.field("click_to_call.number", lang.L("Number for click-to-call calls (C2)"), number), override)),
		widget.NewCard(lang.L("Callback"), "", container.NewVBox(cbUse,
			e.field("callback.number", lang.L("Number for the outgoing call"), cbNumber))),
	)
}

func (e *settingsEditor) recordingsSection() fyne.CanvasObject {
	r := &e.draft.Recordings
	withFilters := check(lang.L("Create the activity and send recordings when certain filters are set (RC2)"), &r.WithFilters, nil)
	send := check(lang.L("Send call recordings (RC1)"), &r.Send, e.reevaluate)
	e.refresh["recordings"] = func() { setEnabled(r.Send, withFilters) }
	return container.NewVBox(
		widget.NewCard(lang.L("Call recording"), "", container.NewVBox(send, withFilters)),
		widget.NewCard(lang.L("Open lines"), "", check(lang.L("Add a message about the call to the employee's chat (OL1)"), &e.draft.OpenLines.NotifyEmployee, nil)),
	)
}

func (e *settingsEditor) templatesSection() fyne.CanvasObject {
	box := container.NewVBox(widget.NewLabel(lang.L("Without a matching template the default is used:") + "\n" +
		settings.DefaultIncomingTitle + "\n" + settings.DefaultOutgoingTitle))
	for i := range e.draft.Templates.Rules {
		box.Add(e.templateCard(i))
	}
	box.Add(e.addButton(lang.L("Add a template"), func() {
		e.draft.Templates.Rules = append(e.draft.Templates.Rules, settings.TitleTemplate{
			Direction: settings.DirectionIn, Entity: settings.EntityLead, Template: settings.DefaultIncomingTitle,
		})
	}))
	return box
}

func entityOptions() []option {
	return []option{{string(settings.EntityLead), lang.L("Lead")}, {string(settings.EntityDeal), lang.L("Deal")},
		{string(settings.EntityContact), lang.L("Contact")}, {string(settings.EntityCompany), lang.L("Company")}}
}

func (e *settingsEditor) templateCard(i int) fyne.CanvasObject {
	r := &e.draft.Templates.Rules[i]
	path := fmt.Sprintf("templates.rules[%d]", i)
	text := entry(&r.Template, "")
	vars := make([]string, len(settings.Variables))
	for j, v := range settings.Variables {
		vars[j] = v.Name + " — " + variableDescription(v)
	}
	plus := widget.NewSelect(vars, nil)
	plus.PlaceHolder = "+"
	plus.OnChanged = func(choice string) {
		if choice == "" {
			return
		}
		name := strings.SplitN(choice, " ", 2)[0]
		text.SetText(text.Text + "{{" + name + "}}")
		plus.ClearSelected()
	}
	preview := widget.NewButtonWithIcon("", theme.VisibilityIcon(), func() {
		tpl, err := settings.ParseTemplate(r.Template)
		if err != nil {
			dialog.ShowError(err, e.win)
			return
		}
		dialog.ShowInformation(lang.L("Preview"), tpl.Preview(), e.win)
	})
	fe := e.newFilterEditor(path+".filter", &r.Filter, r.Direction, nil)
	dir := choice(&r.Direction, directionOptions(), func() { e.rebuildKeepingTab() })
	return widget.NewCard("", "", container.NewVBox(
		container.NewGridWithColumns(2, dir, choice(&r.Entity, entityOptions(), nil)),
		e.field(path+".template", lang.L("Title"), container.NewBorder(nil, nil, nil, container.NewHBox(plus, preview), text)),
		widget.NewLabel(lang.L("Use this template for calls that match:")), fe.object(),
		e.removeButton(func() {
			e.draft.Templates.Rules = append(e.draft.Templates.Rules[:i], e.draft.Templates.Rules[i+1:]...)
		}),
	))
}

func variableDescription(v settings.Variable) string {
	if lang.SystemLocale().LanguageString() == "ru" {
		return v.DescriptionRU
	}
	return v.DescriptionEN
}

// stagePicker picks a pipeline and stage from the synced lists, or takes
// them typed when the lists are not loaded.
func (e *settingsEditor) stagePicker(path string, st *settings.Stage) fyne.CanvasObject {
	if len(e.lists.pipelines) == 0 {
		cat := intEntry(&st.CategoryID, lang.L("pipeline ID (0 — general)"))
		stage := entry(&st.StageID, lang.L("stage ID, e.g. NEW or C1:NEW"))
		return container.NewVBox(
			widget.NewLabel(lang.L("Press \"Refresh pipelines\" to choose from the portal's lists.")),
			container.NewGridWithColumns(2, cat, stage), e.problems.label(path))
	}
	opts := []option{{"", lang.L("the portal's default")}}
	for _, p := range e.lists.pipelines {
		for _, s := range p.Stages {
			opts = append(opts, option{strconv.Itoa(p.ID) + "|" + s.ID, p.Name + " — " + s.Name})
		}
	}
	key := ""
	if st.StageID != "" {
		key = strconv.Itoa(st.CategoryID) + "|" + st.StageID
	}
	sel := choice(&key, opts, func() {
		catStr, stage, _ := strings.Cut(key, "|")
		cat, _ := strconv.Atoi(catStr)
		if cat < 0 {
			cat = 0 // lead statuses have no pipeline
		}
		st.CategoryID, st.StageID = cat, stage
	})
	return container.NewVBox(sel, e.problems.label(path))
}

func (e *settingsEditor) pipelinesSection() fyne.CanvasObject {
	p := &e.draft.Pipelines
	box := container.NewVBox(
		widget.NewLabel(lang.L("Default pipeline and stage for incoming calls (F1)")), e.stagePicker("pipelines.default_incoming", &p.DefaultIncoming),
		widget.NewLabel(lang.L("Default pipeline and stage for outgoing calls (F1)")), e.stagePicker("pipelines.default_outgoing", &p.DefaultOutgoing),
	)
	for i := range p.Rules {
		r := &p.Rules[i]
		path := fmt.Sprintf("pipelines.rules[%d]", i)
		fe := e.newFilterEditor(path+".filter", &r.Filter, r.Direction, nil)
		box.Add(widget.NewCard("", "", container.NewVBox(
			choice(&r.Direction, directionOptions(), func() { e.rebuildKeepingTab() }),
			widget.NewLabel(lang.L("Calls that match:")), fe.object(),
			widget.NewLabel(lang.L("go to:")), e.stagePicker(path+".stage", &r.Stage),
			e.removeButton(func() { p.Rules = append(p.Rules[:i], p.Rules[i+1:]...) }),
		)))
	}
	box.Add(e.addButton(lang.L("Add a pipeline rule (F2)"), func() {
		p.Rules = append(p.Rules, settings.PipelineRule{Direction: settings.DirectionIn})
	}))
	return box
}

// userPicker picks an employee from the synced list, or takes the ID
// typed when the list is not loaded.
func (e *settingsEditor) userPicker(v *int) fyne.CanvasObject {
	if len(e.lists.employees) == 0 {
		return intEntry(v, lang.L("Bitrix24 user ID (press \"Sync employees\" to choose by name)"))
	}
	key := ""
	if *v > 0 {
		key = strconv.Itoa(*v)
	}
	return choice(&key, e.lists.employeeOptions(), func() { *v, _ = strconv.Atoi(key) })
}

func (e *settingsEditor) responsiblesSection() fyne.CanvasObject {
	r := &e.draft.Responsibles
	talker := widget.NewRadioGroup([]string{lang.L("the first who talked"), lang.L("the last who talked")}, nil)
	if r.Talker == settings.TalkerFirst {
		talker.SetSelected(talker.Options[0])
	} else {
		talker.SetSelected(talker.Options[1])
	}
	talker.OnChanged = func(s string) {
		if s == talker.Options[0] {
			r.Talker = settings.TalkerFirst
		} else {
			r.Talker = settings.TalkerLast
		}
	}
	box := container.NewVBox(
		e.field("responsibles.default_outgoing", lang.L("Default responsible for outgoing calls (when the caller is not found)"), e.userPicker(&r.DefaultOutgoing)),
		e.field("responsibles.default_incoming", lang.L("Default responsible for missed incoming calls"), e.userPicker(&r.DefaultIncoming)),
		e.field("responsibles.talker", lang.L("Who answered a transferred call (RS3)"), talker),
	)
	for i := range r.Rules {
		rule := &r.Rules[i]
		path := fmt.Sprintf("responsibles.rules[%d]", i)
		fe := e.newFilterEditor(path+".filter", &rule.Filter, settings.DirectionIn, nil)
		box.Add(widget.NewCard("", "", container.NewVBox(
			widget.NewLabel(lang.L("Incoming calls that match:")), fe.object(),
			e.field(path+".user_id", lang.L("go to:"), e.userPicker(&rule.UserID)),
			e.removeButton(func() { r.Rules = append(r.Rules[:i], r.Rules[i+1:]...) }),
		)))
	}
	box.Add(e.addButton(lang.L("Add a responsible rule (RS2)"), func() { r.Rules = append(r.Rules, settings.ResponsibleRule{}) }))
	return box
}

func (e *settingsEditor) extraFieldsSection() fyne.CanvasObject {
	x := &e.draft.ExtraFields
	box := container.NewVBox(check(lang.L("Always update (EF2): otherwise fields are filled only on leads the integration creates"), &x.AlwaysUpdate, nil))
	for i := range x.Mappings {
		m := &x.Mappings[i]
		path := fmt.Sprintf("extra_fields.mappings[%d]", i)
		box.Add(container.NewVBox(
			container.NewGridWithColumns(2, e.textFieldPicker(&m.Field), choice(&m.Param, paramOptions(settings.ExtraFieldParams), nil)),
			e.problems.label(path),
			e.removeButton(func() { x.Mappings = append(x.Mappings[:i], x.Mappings[i+1:]...) }),
		))
	}
	box.Add(e.addButton(lang.L("Add a field (EF1)"), func() {
		x.Mappings = append(x.Mappings, settings.FieldMapping{Param: settings.ParamSource})
	}))
	return box
}
