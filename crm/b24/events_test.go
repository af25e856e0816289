package b24

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// TestRef4_6_OfflineConnectorQueues: each AUTH_CONNECTOR has a queue of its
// own, so two readers each receive the same click.
func TestRef4_6_OfflineConnectorQueues(t *testing.T) {
	b, _ := oauthSetup(t, b24sim.Options{})
	ctx := context.Background()
	require.NoError(t, b.client.BindOfflineEvent(ctx, EventExternalCallStart, "desk-2"))
	require.NoError(t, b.client.BindOfflineEvent(ctx, EventExternalCallStart, "desk-3"))
	binds, err := b.client.Bindings(ctx)
	require.NoError(t, err)
	require.Len(t, binds, 2)
	require.ElementsMatch(t, []String{"desk-2", "desk-3"}, []String{binds[0].Connector, binds[1].Connector})

	_, err = b.sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+79991234567"})
	require.NoError(t, err)
	for _, conn := range []string{"desk-2", "desk-3"} {
		batch, err := b.client.OfflineEventsOf(ctx, conn, 10)
		require.NoError(t, err)
		require.Len(t, batch.Events, 1, conn)
		require.NoError(t, b.client.ClearOfflineEvents(ctx, string(batch.ProcessID), []int{int(batch.Events[0].ID)}))
	}
	def, err := b.client.OfflineEvents(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, def.Events, "the default queue has no binding")
}

// TestRef3_5_UpdateExternalLine turns CRM_AUTO_CREATE off on an existing
// line (SPEC D2).
func TestRef3_5_UpdateExternalLine(t *testing.T) {
	b, _ := oauthSetup(t, b24sim.Options{})
	ctx := context.Background()
	require.NoError(t, b.client.AddExternalLine(ctx, "main-line", "Main", true))
	require.NoError(t, b.client.UpdateExternalLine(ctx, "main-line", "", false))
	lines, err := b.client.ExternalLines(ctx)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	require.False(t, bool(lines[0].CRMAutoCreate))
	require.Equal(t, "Main", string(lines[0].Name), "an empty name leaves it as it was")
	require.Error(t, b.client.UpdateExternalLine(ctx, "missing", "", false))
}
