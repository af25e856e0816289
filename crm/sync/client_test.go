package sync_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
)

// TestClient_TeamModeHandsCallsToOmnisync: the desktop's client posts a
// record to a real engine's API and follows it to "done".
func TestClient_TeamModeHandsCallsToOmnisync(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	n := newNode(t, sqliteDB(t), baseSettings(p.srv.URL))
	c, err := crmsync.NewClient(n.api.URL, apiToken, nil)
	require.NoError(t, err)
	ctx := context.Background()

	rec, err := json.Marshal(call("team-1", "in", "answered", []string{"102"}, []string{"102"}))
	require.NoError(t, err)
	st, _, err := c.Submit(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, "team-1", st.ID)
	require.Eventually(t, func() bool {
		s, err := c.Status(ctx, "team-1")
		return err == nil && s != nil && s.State == "done"
	}, 30*time.Second, 50*time.Millisecond)

	none, err := c.Status(ctx, "nobody")
	require.NoError(t, err)
	require.Nil(t, none)

	_, _, err = c.Submit(ctx, []byte(`{"id":"x","direction":"sideways"}`))
	var fe *crm.FieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "direction", fe.Field)

	bad, err := crmsync.NewClient(n.api.URL, "wrong", nil)
	require.NoError(t, err)
	_, _, err = bad.Submit(ctx, rec)
	require.ErrorContains(t, err, "HTTP 401")

	_, err = crmsync.NewClient(n.api.URL, "", nil)
	require.ErrorContains(t, err, "token")
}
