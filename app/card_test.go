package app

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/lookup"
)

func knownCard() lookup.Card {
	return lookup.Card{Number: "79991234567", Formatted: "+7 999 123-45-67", Matches: []lookup.Match{
		{Type: b24.Contact, ID: 1, Name: "Сергей Иванов", ResponsibleID: 2, ResponsibleName: "Мария Смирнова",
			ResponsibleStatus: lookup.AtWork, URL: "https://c.bitrix24.ru/crm/contact/details/1/",
			OpenDeals: []lookup.Deal{{ID: 1, Title: "Поставка оборудования", StageName: "Подготовка"}}},
		{Type: b24.Lead, ID: 7, Name: "Павел", ResponsibleID: 3},
	}}
}

func TestCardState(t *testing.T) {
	tests := []struct {
		name   string
		l      lookupState
		title  string
		status string
		lines  []string
		url    string
		warn   bool
	}{
		{"ringing, CRM not answered yet", lookupState{Pending: true}, "+7 999 123-45-67", "Looking up the CRM…", nil, "", false},
		{"slow or failing portal", lookupState{Err: errors.New("context deadline exceeded")}, "+7 999 123-45-67",
			"CRM unavailable: context deadline exceeded", nil, "", true},
		{"unknown number", lookupState{Card: lookup.Card{Number: "79991234567"}}, "+7 999 123-45-67", "Not in the CRM: a new client", nil, "", false},
		{"several matches all listed", lookupState{Card: knownCard()}, "Сергей Иванов", "2 matches in the CRM",
			[]string{"Contact: Сергей Иванов", "Lead: Павел"}, "https://c.bitrix24.ru/crm/contact/details/1/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := buildCardState("8 (999) 123-45-67", "", tt.l)
			require.Equal(t, tt.title, st.Title)
			require.Equal(t, "+7 999 123-45-67", st.Number)
			require.Equal(t, tt.status, st.Status)
			require.Equal(t, tt.warn, st.Warning)
			require.Equal(t, tt.url, st.OpenURL)
			var headings []string
			for _, l := range st.Lines {
				headings = append(headings, l.Heading)
			}
			require.Equal(t, tt.lines, headings)
		})
	}
	st := buildCardState("+79991234567", "", lookupState{Card: knownCard()})
	require.Equal(t, "Responsible: Мария Смирнова (at work)\nOpen deal: Поставка оборудования — Подготовка", st.Lines[0].Detail)
	require.Equal(t, "Responsible: #3", st.Lines[1].Detail, "an unsynced responsible still shows")
}

func TestCardView_CRMDataArrivesLate(t *testing.T) {
	test.NewTempApp(t)
	var answered, declined int
	var opened []string
	v := newCardView(func() { answered++ }, func() { declined++ }, func(u string) { opened = append(opened, u) })
	w := test.NewTempWindow(t, v.root)

	v.show(buildCardState("+79991234567", "", lookupState{Pending: true}))
	require.True(t, v.root.Visible())
	require.Equal(t, "Looking up the CRM…", v.status.Text)
	require.True(t, v.open.Disabled(), "nothing to open yet")
	test.Tap(v.answer)
	require.Equal(t, 1, answered, "answering never waits for the CRM")

	card := knownCard()
	card.LastCall = &lookup.Call{Subject: "Входящий звонок", Start: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	v.show(buildCardState("+79991234567", "", lookupState{Card: card}))
	require.Equal(t, "Сергей Иванов", v.title.Text)
	require.False(t, v.open.Disabled())
	test.Tap(v.open)
	require.Equal(t, []string{"https://c.bitrix24.ru/crm/contact/details/1/"}, opened)
	require.Contains(t, labelsIn(v.root), "Lead: Павел")
	test.Tap(v.decline)
	require.Equal(t, 1, declined)
	_ = w
}
