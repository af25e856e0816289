package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/lookup"
)

// cardState is what the incoming-call card shows, derived from the call
// and whatever the CRM lookup has returned so far. It holds no widgets.
type cardState struct {
	Title   string // the caller: CRM name when known, else the number
	Number  string // the formatted number
	Status  string // "Looking up…", "Not in the CRM", "CRM unavailable: …"
	Lines   []cardLine
	OpenURL string // the entity "Open in Bitrix24" opens
	Warning bool   // the status is a failure
	// Outgoing cards (click-to-call) have nothing to answer or decline.
	Outgoing bool
	// Answered: the call was taken; Answer and Decline go away.
	Answered bool
}

// cardLine is one CRM match on the card.
type cardLine struct {
	Heading string // "Contact: Сергей Иванов"
	Detail  string // responsible, deals, last call
	URL     string
}

// lookupState is the lookup's progress for the card.
type lookupState struct {
	Pending bool
	Card    lookup.Card
	Err     error
}

func entityWord(t b24.EntityType) string {
	switch t {
	case b24.Contact:
		return lang.L("Contact")
	case b24.Company:
		return lang.L("Company")
	case b24.Lead:
		return lang.L("Lead")
	case b24.Deal:
		return lang.L("Deal")
	}
	return string(t)
}

func workWord(s lookup.WorkStatus) string {
	switch s {
	case lookup.AtWork:
		return lang.L("at work")
	case lookup.OnBreak:
		return lang.L("on a break")
	case lookup.OffWork:
		return lang.L("not at work")
	}
	return ""
}

// buildCardState is the card for a caller number (as the PBX sent it),
// given the lookup so far. Several matches are all listed, never silently
// one; a failing CRM never blocks the card.
func buildCardState(rawNumber, displayName string, l lookupState) cardState {
	number := lookup.Format(lookup.Normalize(rawNumber))
	if number == "" {
		number = rawNumber
	}
	st := cardState{Title: number, Number: number}
	if displayName != "" {
		st.Title = displayName
	}
	switch {
	case l.Pending:
		st.Status = lang.L("Looking up the CRM…")
		return st
	case l.Err != nil:
		st.Status = lang.L("CRM unavailable:") + " " + l.Err.Error()
		st.Warning = true
		return st
	case len(l.Card.Matches) == 0:
		st.Status = lang.L("Not in the CRM: a new client")
		return st
	}
	first := l.Card.Matches[0]
	if first.Name != "" {
		st.Title = first.Name
	}
	st.OpenURL = first.URL
	if len(l.Card.Matches) > 1 {
		st.Status = fmt.Sprintf(lang.L("%d matches in the CRM"), len(l.Card.Matches))
	}
	for _, m := range l.Card.Matches {
		line := cardLine{Heading: entityWord(m.Type) + ": " + nonEmpty(m.Name, "#"+fmt.Sprint(m.ID)), URL: m.URL}
		var details []string
		if m.ResponsibleName != "" || m.ResponsibleID > 0 {
			who := nonEmpty(m.ResponsibleName, fmt.Sprintf("#%d", m.ResponsibleID))
			if w := workWord(m.ResponsibleStatus); w != "" {
				who += " (" + w + ")"
			}
			details = append(details, lang.L("Responsible:")+" "+who)
		}
		for _, d := range m.OpenDeals {
			details = append(details, lang.L("Open deal:")+" "+d.Title+nonEmptyPrefix(" — ", d.StageName))
		}
		line.Detail = strings.Join(details, "\n")
		st.Lines = append(st.Lines, line)
	}
	if c := l.Card.LastCall; c != nil && !c.Start.IsZero() {
		st.Lines = append(st.Lines, cardLine{Heading: lang.L("Last call:") + " " + c.Start.Local().Format("02.01.2006 15:04"), Detail: c.Subject})
	}
	return st
}

func nonEmpty(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

func nonEmptyPrefix(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
