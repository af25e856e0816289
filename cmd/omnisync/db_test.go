package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
)

func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func readStatus(t *testing.T, db string) crmsync.DBStatus {
	t.Helper()
	code, out, errOut := runCmd("status", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	var st crmsync.DBStatus
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&st), out)
	return st
}

// TestMigrate_CreatesTablesAndIsRepeatable: migrate on a new SQLite file
// creates River's tables and the ledger; running it again changes nothing;
// status then reports an empty ledger and queue.
func TestMigrate_CreatesTablesAndIsRepeatable(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "sync.db")
	for range 2 {
		code, out, errOut := runCmd("migrate", "--db", db)
		require.Equal(t, 0, code, errOut)
		require.Empty(t, errOut)
		require.Equal(t, "omnisync: "+db+" is up to date\n", out)
	}
	st := readStatus(t, db)
	require.Empty(t, st.Calls)
	require.Empty(t, st.Jobs)
}

// TestStatus_CountsCallsAndJobs: calls taken in by an engine that has not
// started its workers show up as queued calls and available jobs; a
// repeated call is counted once.
func TestStatus_CountsCallsAndJobs(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "sync.db")
	code, _, errOut := runCmd("migrate", "--db", db)
	require.Equal(t, 0, code, errOut)

	d, err := crmsync.ParseDatabase(db)
	require.NoError(t, err)
	s := settings.Default()
	s.Portals = []settings.Portal{{ID: "main", Name: "sim", Domain: "http://127.0.0.1:1", Main: true, Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}}
	ctx := context.Background()
	eng, err := crmsync.New(ctx, crmsync.Options{DB: d, Settings: s})
	require.NoError(t, err)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, id := range []string{"st-1", "st-2", "st-1"} {
		rec := fmt.Sprintf(`{"id":%q,"direction":"in","outcome":"missed","contact_number":"+79161234567","virtual_number":"+74951234567",
			"rung":["102"],"talked":[],"started_at":%q,"answered_at":null,"ended_at":%q,"params":{},"recording":null,"bitrix24_call_id":null,"portal":null}`,
			id, start.Format(time.RFC3339), start.Add(time.Minute).Format(time.RFC3339))
		_, _, err := eng.Submit(ctx, []byte(rec))
		require.NoError(t, err)
	}
	require.NoError(t, eng.Close())

	st := readStatus(t, db)
	require.Equal(t, map[string]int{crmsync.StateQueued: 2}, st.Calls)
	require.Equal(t, map[string]int{"available": 2}, st.Jobs)
}

func TestMigrateStatus_BadInput(t *testing.T) {
	missing := "sqlite:" + filepath.Join(t.TempDir(), "never-migrated.db")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"migrate without --db", []string{"migrate"}, 2, "omnisync migrate: --db is required"},
		{"status without --db", []string{"status"}, 2, "omnisync status: --db is required"},
		{"migrate with an unknown database", []string{"migrate", "--db", "mysql://x"}, 2, `want sqlite:PATH or postgres://`},
		{"status with an extra argument", []string{"status", "--db", missing, "now"}, 2, "--db is required, and nothing else"},
		{"status before migrate", []string{"status", "--db", missing}, 1, "run omnisync migrate"},
		{"migrate with an unreachable PostgreSQL", []string{"migrate", "--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, 1, "omnisync migrate: postgres:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Empty(t, out)
			require.Contains(t, errOut, tt.want)
			require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		})
	}
}
