package events

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// TestC4_OnlineClickDialsWithCallID: a click in the simulator reaches the
// handler over HTTP, and the target gets the number, the clicking
// employee's extension, the caller ID and the pre-registered CALL_ID.
func TestC4_OnlineClickDialsWithCallID(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c2c      settings.ClickToCall
		callerID string
	}{
		{"C3 off: account caller ID", c2cOn, ""},
		{"C3 on: override", c2cOverride, "+74950000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			target := newTarget()
			router := newRouter(t, b, target, conf(tc.c2c, cbOn), UserFilter{})
			_, url := serveHandler(t, HandlerOptions{
				Dispatcher: router, Portals: []Portal{b.portal()},
				Tokens: SecretTokens{Secrets: newSecrets(portalID, b.appToken)},
			})
			_, err := Install(context.Background(), b.client, InstallOptions{HandlerURL: url})
			require.NoError(t, err)

			trig, err := b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+7 (999) 123-45-67", CRMEntityType: "CONTACT", CRMEntityID: 1})
			require.NoError(t, err)
			req := target.wait(t)
			require.Equal(t, KindClickToCall, req.Kind)
			require.Equal(t, trig.CallID, req.CallID, "the sync engine finishes Bitrix24's call (C4)")
			require.Equal(t, "+79991234567", req.Number)
			require.Equal(t, "+7 (999) 123-45-67", req.RawNumber)
			require.Equal(t, 2, req.UserID)
			require.Equal(t, "102", req.Extension)
			require.Equal(t, tc.callerID, req.CallerID)
			require.Equal(t, EntityRef{Type: "CONTACT", ID: 1}, req.Entity)
			require.Equal(t, "omniphone", req.LineNumber)
			require.True(t, req.Trace.Fired("C1"))
			require.Equal(t, tc.callerID != "", req.Trace.Fired("C3"))
		})
	}
}

// TestC4_WrongApplicationTokenRejected: the simulator's delivery with a
// token other than the stored one is answered 401 and dials nothing.
func TestC4_WrongApplicationTokenRejected(t *testing.T) {
	b := setup(t)
	target := newTarget()
	router := newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{})
	_, url := serveHandler(t, HandlerOptions{
		Dispatcher: router, Portals: []Portal{b.portal()},
		Tokens: SecretTokens{Secrets: newSecrets(portalID, strings.Repeat("0", 32))},
	})
	_, err := Install(context.Background(), b.client, InstallOptions{HandlerURL: url})
	require.NoError(t, err)
	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := b.sim.Snapshot()
		return err == nil && len(st.Deliveries) == 1 && st.Deliveries[0].Status == http.StatusUnauthorized
	}, 5*time.Second, 10*time.Millisecond)
	target.none(t, 50*time.Millisecond)
}

// clickForm is an online click-to-call as Bitrix24 posts it (reference §4.1).
func clickForm(domain, token string) Form {
	return Form{
		Values: map[string]string{"event": "ONEXTERNALCALLSTART", "event_handler_id": "1", "ts": "1773236988"},
		Groups: map[string]map[string]string{
			"data": {"PHONE_NUMBER": "+15551230001", "USER_ID": "12", "CALL_ID": "externalCall.1", "LINE_NUMBER": "main-line",
				"IS_MOBILE": "0", "CALL_LIST_ID": "0", "CRM_ENTITY_TYPE": "CONTACT", "CRM_ENTITY_ID": "797"},
			"auth": {"domain": domain, "member_id": "m1", "application_token": token},
		},
	}
}

// TestC4_HandlerAnswers: the handler's answer for each kind of request, and
// which of them reach the dispatcher.
func TestC4_HandlerAnswers(t *testing.T) {
	const good = "51610fefc120afa4b628cc82d6298cce"
	withEvent := func(f Form, name string) Form { f.Values["event"] = name; return f }
	noCallID := clickForm("portal.example", good)
	delete(noCallID.Groups["data"], "CALL_ID")
	for _, tc := range []struct {
		name       string
		method     string
		body       string
		stored     string // "" = none
		tofu       bool
		want       int
		dispatched bool
		storedNow  string
	}{
		{"valid", "POST", clickForm("portal.example", good).Encode(), good, false, 200, true, good},
		{"domain given as host, case differs", "POST", clickForm("PORTAL.example", good).Encode(), good, false, 200, true, good},
		{"wrong token", "POST", clickForm("portal.example", "x"+good[1:]).Encode(), good, false, 401, false, good},
		{"missing token", "POST", clickForm("portal.example", "").Encode(), good, false, 401, false, good},
		{"unknown portal", "POST", clickForm("evil.example", good).Encode(), good, false, 401, false, good},
		{"member_id differs", "POST", strings.Replace(clickForm("portal.example", good).Encode(), "m1", "m2", 1), good, false, 401, false, good},
		{"no stored token", "POST", clickForm("portal.example", good).Encode(), "", false, 401, false, ""},
		{"no stored token, trust on first use", "POST", clickForm("portal.example", good).Encode(), "", true, 200, true, good},
		{"ONAPPINSTALL stores the first token", "POST", withEvent(clickForm("portal.example", good), "ONAPPINSTALL").Encode(), "", false, 200, false, good},
		{"ONAPPINSTALL cannot replace a token", "POST", withEvent(clickForm("portal.example", "x"+good[1:]), "ONAPPINSTALL").Encode(), good, false, 401, false, good},
		{"other event acknowledged", "POST", withEvent(clickForm("portal.example", good), "ONCRMLEADADD").Encode(), good, false, 200, false, good},
		{"bad data", "POST", noCallID.Encode(), good, false, 400, false, good},
		{"malformed form", "POST", "data%5BX=1&auth%5Bdomain%5D=portal.example", good, false, 400, false, good},
		{"bad escape", "POST", "event=%zz", good, false, 400, false, good},
		{"GET", "GET", "", good, false, 405, false, good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan Event, 1)
			secrets := newSecrets()
			if tc.stored != "" {
				secrets = newSecrets(portalID, tc.stored)
			}
			h, err := NewHandler(HandlerOptions{
				Dispatcher: DispatchFunc(func(_ context.Context, ev Event) error { got <- ev; return nil }),
				Portals:    []Portal{{ID: portalID, Domain: "https://portal.example", MemberID: "m1"}},
				Tokens:     SecretTokens{Secrets: secrets}, TrustFirstUse: tc.tofu,
			})
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, "/b24/events", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			h.ServeHTTP(rec, req)
			require.NoError(t, h.Close(), "Close dispatches what was queued")
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			require.Equal(t, tc.dispatched, len(got) == 1)
			if tc.dispatched {
				ev := <-got
				require.Equal(t, "externalCall.1", ev.CallID)
				require.Equal(t, 12, ev.UserID)
				require.Equal(t, SourceOnline, ev.Source)
			}
			stored, _ := secrets.Get(settings.PortalApplicationToken(portalID))
			require.Equal(t, tc.storedNow, stored)
		})
	}
}

// TestC4_HandlerQueueBounded: a dispatcher that hangs fills the queue, and
// then the handler answers 503 at once instead of blocking; Close waits
// for the queued events.
func TestC4_HandlerQueueBounded(t *testing.T) {
	const good = "51610fefc120afa4b628cc82d6298cce"
	release := make(chan struct{})
	h, err := NewHandler(HandlerOptions{
		Dispatcher: DispatchFunc(func(context.Context, Event) error { <-release; return nil }),
		Portals:    []Portal{{ID: portalID, Domain: "portal.example"}},
		Tokens:     SecretTokens{Secrets: newSecrets(portalID, good)}, QueueSize: 2, Workers: 1,
	})
	require.NoError(t, err)
	body := clickForm("portal.example", good).Encode()
	codes := map[int]int{}
	for range 6 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		codes[rec.Code]++
	}
	require.GreaterOrEqual(t, codes[http.StatusServiceUnavailable], 3)
	close(release)
	require.NoError(t, h.Close())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "closed")
}
