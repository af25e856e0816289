package app

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
)

// TestBitrixDirectory_P5 loads the editor's lists from the simulator's demo
// portal.
func TestBitrixDirectory_P5(t *testing.T) {
	sim, err := b24sim.New(b24sim.Options{WebhookUserID: 1, WebhookCode: "C"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := b24.New(b24.Options{Portal: srv.URL, Auth: b24.Webhook{UserID: 1, Code: "C"}, Limit: b24.Limit{Rate: -1}})
	require.NoError(t, err)
	d := NewBitrixDirectory(c)
	ctx := context.Background()

	emps, err := d.Employees(ctx)
	require.NoError(t, err)
	require.Len(t, emps, 3, "the dismissed employee is not offered")
	require.Contains(t, emps, Employee{ID: 2, Name: "Мария Смирнова", Extension: "102"})

	ps, err := d.Pipelines(ctx)
	require.NoError(t, err)
	require.Equal(t, LeadPipelineID, ps[0].ID, "classic CRM offers lead statuses")
	require.GreaterOrEqual(t, len(ps), 3)
	var repeat Pipeline
	for _, p := range ps {
		if p.ID == 1 {
			repeat = p
		}
	}
	require.Equal(t, "Повторные продажи", repeat.Name)
	require.Equal(t, "C1:NEW", repeat.Stages[0].ID)

	fields, err := d.TextFields(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"UF_CRM_CALL_COMMENT"}, fields)
}
