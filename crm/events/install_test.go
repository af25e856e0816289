package events

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
)

// TestD2_InstallBindsAndCreatesLineWithoutAutoCreate: both events are bound
// (online and offline), the line has CRM_AUTO_CREATE=N, and a second
// install changes nothing.
func TestD2_InstallBindsAndCreatesLineWithoutAutoCreate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts InstallOptions
	}{
		{"online", InstallOptions{HandlerURL: "http://127.0.0.1:9/b24/events"}},
		{"offline", InstallOptions{}},
		{"offline connector", InstallOptions{Connector: "omniphone-102", LineNumber: "sales", LineName: "Sales"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			res, err := Install(ctx, b.client, tc.opts)
			require.NoError(t, err)
			require.ElementsMatch(t, boundEvents, res.Bound)
			require.Empty(t, res.AlreadyBound)
			require.True(t, res.LineCreated)

			binds, err := b.client.Bindings(ctx)
			require.NoError(t, err)
			require.Len(t, binds, 2)
			for _, bd := range binds {
				require.Equal(t, tc.opts.HandlerURL == "", bd.Offline != 0)
				require.Equal(t, tc.opts.HandlerURL, string(bd.Handler))
				require.Equal(t, tc.opts.Connector, string(bd.Connector))
			}
			lines, err := b.client.ExternalLines(ctx)
			require.NoError(t, err)
			require.Len(t, lines, 1)
			require.False(t, bool(lines[0].CRMAutoCreate), "CRM_AUTO_CREATE=N (SPEC D2)")

			again, err := Install(ctx, b.client, tc.opts)
			require.NoError(t, err)
			require.Empty(t, again.Bound, "idempotent")
			require.ElementsMatch(t, boundEvents, again.AlreadyBound)
			require.False(t, again.LineCreated)
			require.False(t, again.LineUpdated)
			binds, err = b.client.Bindings(ctx)
			require.NoError(t, err)
			require.Len(t, binds, 2)
		})
	}
}

// TestD2_InstallTurnsAutoCreateOff: an existing line with CRM_AUTO_CREATE=Y
// is switched to N; another binding of the events is reported, not removed.
func TestD2_InstallTurnsAutoCreateOff(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	require.NoError(t, b.client.AddExternalLine(ctx, "omniphone", "Old", true))
	require.NoError(t, b.client.BindEvent(ctx, b24.EventExternalCallStart, "", true))

	res, err := Install(ctx, b.client, InstallOptions{HandlerURL: "http://127.0.0.1:9/evt"})
	require.NoError(t, err)
	require.True(t, res.LineUpdated)
	require.Len(t, res.Others, 1, "the offline binding is reported")
	lines, err := b.client.ExternalLines(ctx)
	require.NoError(t, err)
	require.False(t, bool(lines[0].CRMAutoCreate))
}

// TestD2_ClickOnInstalledLineCreatesNoLead: with the installed line,
// Bitrix24 pre-registers a click on an unknown number without a lead.
func TestD2_ClickOnInstalledLineCreatesNoLead(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	_, err := Install(ctx, b.client, InstallOptions{})
	require.NoError(t, err)
	before, err := b.sim.Snapshot()
	require.NoError(t, err)
	trig, err := b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+7 900 555-00-00"})
	require.NoError(t, err)
	require.Equal(t, "omniphone", trig.Data["LINE_NUMBER"])
	require.NotContains(t, trig.Data, "CRM_CREATED_LEAD")
	after, err := b.sim.Snapshot()
	require.NoError(t, err)
	require.Equal(t, countType(before, "LEAD"), countType(after, "LEAD"), "no lead of Bitrix24's own")
}

func countType(st *b24sim.State, typ string) int {
	n := 0
	for _, e := range st.Entities {
		if e.Type == typ {
			n++
		}
	}
	return n
}
