package lookup

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
)

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"+7 (999) 123-45-67":  "79991234567",
		"8 999 123 45 67":     "79991234567",
		"89991234567":         "79991234567",
		"9991234567":          "79991234567",
		"+7 812 999-93-31#44": "78129999331",
		"+49 30 1234567":      "49301234567",
		"101":                 "101",
		"anonymous":           "",
		"":                    "",
	}
	for in, want := range tests {
		require.Equal(t, want, Normalize(in), in)
	}
}

func TestFormat(t *testing.T) {
	require.Equal(t, "+7 999 123-45-67", Format("79991234567"))
	require.Equal(t, "+49301234567", Format("49301234567"))
	require.Equal(t, "101", Format("101"))
}

type bundle struct {
	sim    *b24sim.Server
	client *b24.Client
	lookup *Lookup
}

func setup(t *testing.T, opts Options) bundle {
	t.Helper()
	sim, err := b24sim.New(b24sim.Options{WebhookUserID: 1, WebhookCode: "CODE"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := b24.New(b24.Options{Portal: srv.URL, Auth: b24.Webhook{UserID: 1, Code: "CODE"}, Limit: b24.Limit{Rate: -1},
		MaxAttempts: 1})
	require.NoError(t, err)
	opts.Client, opts.Portal = c, "https://company.bitrix24.ru"
	l, err := New(opts)
	require.NoError(t, err)
	return bundle{sim: sim, client: c, lookup: l}
}

func (b bundle) searches() int {
	return b.client.Stats()["telephony.externalcall.searchcrmentities"].Requests
}

func TestLookup_KnownContactOneRequestThenCache(t *testing.T) {
	b := setup(t, Options{})
	ctx := context.Background()
	require.NoError(t, b.lookup.Warm(ctx))

	card, err := b.lookup.Lookup(ctx, "8 (999) 123-45-67")
	require.NoError(t, err)
	require.Equal(t, "79991234567", card.Number)
	require.Equal(t, "+7 999 123-45-67", card.Formatted)
	require.False(t, card.Cached)
	require.NotEmpty(t, card.Matches)
	m := card.Matches[0]
	require.Equal(t, b24.Contact, m.Type)
	require.Equal(t, "Сергей Иванов", m.Name)
	require.Equal(t, 2, m.ResponsibleID)
	require.Equal(t, "Мария Смирнова", m.ResponsibleName)
	require.Equal(t, AtWork, m.ResponsibleStatus)
	require.Equal(t, "https://company.bitrix24.ru/crm/contact/details/1/", m.URL)
	require.Equal(t, 1, b.searches(), "one request")

	again, err := b.lookup.Lookup(ctx, "+79991234567")
	require.NoError(t, err)
	require.True(t, again.Cached)
	require.Equal(t, 1, b.searches(), "the second ring is answered from the cache")

	b.lookup.Invalidate("89991234567")
	_, err = b.lookup.Lookup(ctx, "+79991234567")
	require.NoError(t, err)
	require.Equal(t, 2, b.searches(), "our own write invalidates the card")
}

func TestLookup_SeveralMatchesAreAllListed(t *testing.T) {
	b := setup(t, Options{})
	ctx := context.Background()
	_, err := b.client.AddEntity(ctx, b24.Lead, b24.Params{"TITLE": "Second", "ASSIGNED_BY_ID": 3,
		"PHONE": []b24.Params{{"VALUE": "+79991234567", "VALUE_TYPE": "WORK"}}}, nil)
	require.NoError(t, err)
	card, err := b.lookup.Lookup(ctx, "89991234567")
	require.NoError(t, err)
	var types []b24.EntityType
	for _, m := range card.Matches {
		types = append(types, m.Type)
	}
	require.Contains(t, types, b24.Contact)
	require.Contains(t, types, b24.Lead, "never silently one")
}

func TestLookup_UnknownNumberIsCachedToo(t *testing.T) {
	b := setup(t, Options{})
	card, err := b.lookup.Lookup(context.Background(), "+7 900 000-00-00")
	require.NoError(t, err)
	require.Empty(t, card.Matches)
	_, err = b.lookup.Lookup(context.Background(), "+7 900 000-00-00")
	require.NoError(t, err)
	require.Equal(t, 1, b.searches())
	_, err = b.lookup.Lookup(context.Background(), "anonymous")
	require.ErrorIs(t, err, ErrNoNumber)
}

func TestLookup_ConcurrentRingsShareOneRequest(t *testing.T) {
	b := setup(t, Options{})
	b.sim.SetFaults(b24sim.FaultConfig{LatencyMS: 100})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.lookup.Lookup(context.Background(), "+79991234567")
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Equal(t, 1, b.searches())
}

func TestLookup_SlowOrFailingCRMIsAnErrorNotAWait(t *testing.T) {
	b := setup(t, Options{Timeout: 200 * time.Millisecond})
	b.sim.SetFaults(b24sim.FaultConfig{LatencyMS: 3000})
	start := time.Now()
	_, err := b.lookup.Lookup(context.Background(), "+79991234567")
	require.Error(t, err)
	require.Less(t, time.Since(start), 2*time.Second, "the card gives up, it does not hang")

	b.sim.SetFaults(b24sim.FaultConfig{Fail500: 1})
	_, err = b.lookup.Lookup(context.Background(), "+79991234567")
	require.Error(t, err)
	b.sim.SetFaults(b24sim.FaultConfig{})
	card, err := b.lookup.Lookup(context.Background(), "+79991234567")
	require.NoError(t, err, "a failure is not cached")
	require.NotEmpty(t, card.Matches)
}

func TestLookup_TTL(t *testing.T) {
	b := setup(t, Options{TTL: 30 * time.Millisecond})
	_, err := b.lookup.Lookup(context.Background(), "+79991234567")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	_, err = b.lookup.Lookup(context.Background(), "+79991234567")
	require.NoError(t, err)
	require.Equal(t, 2, b.searches(), "an expired card is fetched again")
}

func TestDetails_OpenDealsAndLastCall(t *testing.T) {
	b := setup(t, Options{})
	ctx := context.Background()
	_, err := b.client.AddActivity(ctx, b24.Params{
		"OWNER_TYPE_ID": 3, "OWNER_ID": 1, "TYPE_ID": 2, "DIRECTION": 1, "SUBJECT": "Входящий звонок",
		"COMPLETED": "Y", "RESPONSIBLE_ID": 2, "START_TIME": "2026-11-20T10:00:00+03:00",
		"COMMUNICATIONS": []b24.Params{{"VALUE": "+79991234567", "ENTITY_TYPE_ID": 3, "ENTITY_ID": 1}},
	})
	require.NoError(t, err)
	card, err := b.lookup.Lookup(ctx, "+79991234567")
	require.NoError(t, err)
	full, err := b.lookup.Details(ctx, card)
	require.NoError(t, err)
	require.True(t, full.Detailed)
	require.Len(t, full.Matches[0].OpenDeals, 1)
	d := full.Matches[0].OpenDeals[0]
	require.Equal(t, "Поставка оборудования", d.Title)
	require.Equal(t, "PREPARATION", d.StageID)
	require.NotEmpty(t, d.StageName)
	require.Equal(t, "https://company.bitrix24.ru/crm/deal/details/1/", d.URL)
	require.NotNil(t, full.LastCall)
	require.Equal(t, "Входящий звонок", full.LastCall.Subject)
	require.True(t, full.LastCall.Incoming)

	cached, err := b.lookup.Lookup(ctx, "+79991234567")
	require.NoError(t, err)
	require.True(t, cached.Detailed, "the fuller card is cached")
}
