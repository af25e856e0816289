package events

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
)

// TestCB1_CallbackRouting: a callback rings the client's responsible
// employee first; with no employee mapped (unknown number, or a
// responsible without an extension or inactive) the configured number is
// called instead; CB1 off is ignored. The events come from the simulator
// through the offline queue.
func TestCB1_CallbackRouting(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cb        settings.Callback
		req       b24sim.CallbackRequest
		filter    UserFilter
		ext       string // "" = fallback or ignored
		fallback  string
		ignored   bool
		userID    int
		wantRoute bool
	}{
		{name: "mapped employee rings first", cb: cbOn, ext: "102", userID: 2,
			req: b24sim.CallbackRequest{Phone: "+79991234567", CRMEntityType: "CONTACT", CRMEntityID: 1, Text: "Перезвоните"}},
		{name: "entity found by the number", cb: cbOn, ext: "103", userID: 3,
			req: b24sim.CallbackRequest{Phone: "+79165551234"}},
		{name: "unknown number: the configured number", cb: cbOn, fallback: "+74950000099",
			req: b24sim.CallbackRequest{Phone: "+79005550000"}},
		{name: "CB1 off", cb: settings.Callback{}, ignored: true,
			req: b24sim.CallbackRequest{Phone: "+79991234567", CRMEntityType: "CONTACT", CRMEntityID: 1}},
		{name: "filtered desktop of the employee", cb: cbOn, ext: "102", userID: 2, filter: UserFilter{UserIDs: []int{2}},
			req: b24sim.CallbackRequest{Phone: "+79991234567", CRMEntityType: "CONTACT", CRMEntityID: 1}},
		{name: "filtered desktop of another employee", cb: cbOn, ignored: true, filter: UserFilter{Extensions: []string{"103"}},
			req: b24sim.CallbackRequest{Phone: "+79991234567", CRMEntityType: "CONTACT", CRMEntityID: 1}},
		{name: "filtered desktop leaves the unmapped", cb: cbOn, ignored: true, filter: UserFilter{UserIDs: []int{2}},
			req: b24sim.CallbackRequest{Phone: "+79005550000"}},
		{name: "filtered desktop that takes the unmapped", cb: cbOn, fallback: "+74950000099", filter: UserFilter{UserIDs: []int{2}, Unmapped: true},
			req: b24sim.CallbackRequest{Phone: "+79005550000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			_, err := Install(context.Background(), b.client, InstallOptions{})
			require.NoError(t, err)
			target := newTarget()
			p := runPoller(t, PollerOptions{Queue: b.client, Dispatcher: newRouter(t, b, target, conf(c2cOn, tc.cb), tc.filter)})
			_, err = b.sim.Callback(tc.req)
			require.NoError(t, err)
			if tc.ignored {
				require.Eventually(t, func() bool { return p.Stats().Dispatched == 1 }, 5*time.Second, 5*time.Millisecond)
				target.none(t, 20*time.Millisecond)
				return
			}
			req := target.wait(t)
			require.Equal(t, KindCallback, req.Kind)
			require.True(t, req.RingFirst)
			require.Empty(t, req.CallID, "a callback has no pre-registered call")
			require.Equal(t, tc.ext, req.Extension)
			require.Equal(t, tc.userID, req.UserID)
			require.Equal(t, tc.fallback, req.FallbackNumber)
			require.Equal(t, tc.req.Text, req.Text)
			require.True(t, req.Trace.Fired("CB1"))
		})
	}
}

// TestC1_UserFilterAndStaleClicks decides clicks without dialling: a
// filtered desktop takes only its employee's clicks (by user or by
// extension), and a click that waited too long is not dialled.
func TestC1_UserFilterAndStaleClicks(t *testing.T) {
	b := setup(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	click := func(user int, age time.Duration) Event {
		return Event{Kind: KindClickToCall, Name: "ONEXTERNALCALLSTART", UserID: user, PhoneNumber: "+7 999 123-45-67",
			CallID: "externalCall.x", LineNumber: "omniphone", Time: now.Add(-age)}
	}
	for _, tc := range []struct {
		name    string
		filter  UserFilter
		c2c     settings.ClickToCall
		ev      Event
		ignored string
		ext     string
	}{
		{"no filter", UserFilter{}, c2cOn, click(2, 0), "", "102"},
		{"own user", UserFilter{UserIDs: []int{2}}, c2cOn, click(2, 0), "", "102"},
		{"own extension", UserFilter{Extensions: []string{"103"}}, c2cOn, click(3, 0), "", "103"},
		{"another user", UserFilter{UserIDs: []int{3}}, c2cOn, click(2, 0), "another employee's click (user 2)", ""},
		{"another extension", UserFilter{Extensions: []string{"103"}}, c2cOn, click(2, 0), "another employee's click (user 2)", ""},
		{"unknown user, no filter", UserFilter{}, c2cOn, click(99, 0), "", ""},
		{"C1 off", UserFilter{}, settings.ClickToCall{Number: "+74950000001"}, click(2, 0), "C1: click-to-call is off", ""},
		{"stale click", UserFilter{}, c2cOn, click(2, 5*time.Minute), "C4: the click is 5m0s old, too late to dial", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRouter(RouterOptions{Settings: conf(tc.c2c, cbOn), Directory: NewPortalDirectory(b.client, DirectoryOptions{}),
				Target: newTarget(), Filter: tc.filter, Now: func() time.Time { return now }})
			require.NoError(t, err)
			d, err := r.Decide(context.Background(), tc.ev)
			require.NoError(t, err)
			require.Equal(t, tc.ignored, d.Ignored)
			if tc.ignored != "" {
				require.Nil(t, d.Dial)
				return
			}
			require.NotNil(t, d.Dial)
			require.Equal(t, tc.ext, d.Dial.Extension)
			require.Equal(t, "+79991234567", d.Dial.Number)
		})
	}
}

// TestC4_SameClickDialsOnce: the same click delivered twice (an online and
// an offline binding both active) dials once; a bad number is an error.
func TestC4_SameClickDialsOnce(t *testing.T) {
	b := setup(t)
	target := newTarget()
	r := newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{})
	ev := Event{Kind: KindClickToCall, UserID: 2, PhoneNumber: "+79991234567", CallID: "externalCall.1", LineNumber: "l"}
	ctx := context.Background()
	require.NoError(t, r.Dispatch(ctx, ev))
	require.NoError(t, r.Dispatch(ctx, ev))
	target.wait(t)
	target.none(t, 10*time.Millisecond)

	ev.CallID, ev.PhoneNumber = "externalCall.2", "call me maybe"
	require.ErrorContains(t, r.Dispatch(ctx, ev), "unexpected character")
}

// TestC4_ReusedCallIDDialsAfterWindow: Bitrix24 returns the same CALL_ID
// for a new click on a number whose call is not finished; past the dedup
// window that click dials.
func TestC4_ReusedCallIDDialsAfterWindow(t *testing.T) {
	b := setup(t)
	target := newTarget()
	now := time.Now()
	r, err := NewRouter(RouterOptions{Settings: conf(c2cOn, cbOn), Directory: NewPortalDirectory(b.client, DirectoryOptions{}),
		Target: target, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ev := Event{Kind: KindClickToCall, UserID: 2, PhoneNumber: "+79991234567", CallID: "externalCall.1", LineNumber: "l"}
	ctx := context.Background()
	require.NoError(t, r.Dispatch(ctx, ev))
	target.wait(t)
	now = now.Add(21 * time.Second)
	require.NoError(t, r.Dispatch(ctx, ev))
	target.wait(t)
}

// TestC4_NotConnectedIsAcknowledged: a team hub's ErrNotConnected is
// logged and acknowledged, other dial errors are returned.
func TestC4_NotConnectedIsAcknowledged(t *testing.T) {
	b := setup(t)
	for _, tc := range []struct {
		err     error
		wantErr bool
	}{{ErrNotConnected, false}, {errDial, true}} {
		target := newTarget()
		target.Err = tc.err
		r := newRouter(t, b, target, conf(c2cOn, cbOn), UserFilter{})
		err := r.Dispatch(context.Background(), Event{Kind: KindClickToCall, UserID: 2, PhoneNumber: "+79991234567", CallID: "c", LineNumber: "l"})
		require.Equal(t, tc.wantErr, err != nil, err)
		target.wait(t)
	}
}

func TestC4_CleanNumber(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"+7 (999) 123-45-67", "+79991234567", ""},
		{"8 916 555-12-34", "89165551234", ""},
		{" 102 ", "102", ""},
		{"+7 999 123 45 67;ext=5", "+79991234567", ""},
		{"*72#", "*72#", ""},
		{"7+9", "", "unexpected character"},
		{"abc", "", "unexpected character"},
		{"--", "", "no digits"},
	} {
		got, err := CleanNumber(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
