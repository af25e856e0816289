package sync_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// startPostgres runs a private PostgreSQL 15 cluster on 127.0.0.1 for the
// test and returns its URL. Without the binaries the test is skipped,
// unless OMNIPHONE_REQUIRE_PEERS=1.
func startPostgres(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
			t.Fatalf("PostgreSQL 15 is required (Debian package postgresql-15): %v", err)
		}
		t.Skipf("PostgreSQL 15 not installed (Debian package postgresql-15): %v", err)
	}
	dir, err := os.MkdirTemp("", "omnisync-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	data := filepath.Join(dir, "data")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(args[0], args[1:]...)
		// The C locale always exists; the caller's (make sets en_US.UTF-8
		// for Fyne) may not be generated on this machine, and initdb then
		// refuses to start.
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
		return cmd
	}
	asPG := func(args ...string) *exec.Cmd { return run(args...) }
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		pg, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs the postgres user to own the cluster")
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		asPG = func(args ...string) *exec.Cmd {
			return run(append([]string{"runuser", "-u", "postgres", "--"}, args...)...)
		}
	}
	out, err := asPG(filepath.Join(pgBin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8").CombinedOutput()
	require.NoError(t, err, string(out))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	if os.Getenv(pgStatsEnv) != "" {
		opts += " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
	}
	out, err = asPG(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput()
	require.NoError(t, err, string(out))
	psql := func(sql string) ([]byte, error) {
		return exec.Command(filepath.Join(pgBin, "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres", "-c", sql).CombinedOutput()
	}
	t.Cleanup(func() {
		if f := os.Getenv(pgStatsEnv); f != "" {
			stmts, _ := psql(`SELECT calls, round(total_exec_time::numeric, 1) AS ms, round(mean_exec_time::numeric, 3) AS mean, rows,
				left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 30`)
			sizes, _ := psql(`SELECT count(*) AS calls, avg(length(record)) AS record, avg(length(plan)) AS plan,
				avg(pg_column_size(plan)) AS plan_stored, avg(length(trace)) AS trace, avg(pg_column_size(trace)) AS trace_stored FROM omnisync_call`)
			tables, _ := psql(`SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
				WHERE relname IN ('omnisync_call', 'river_job') ORDER BY relname`)
			_ = os.WriteFile(f, append(append(stmts, sizes...), tables...), 0o644)
		}
		_ = asPG(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if os.Getenv(pgStatsEnv) != "" {
		out, err := psql("CREATE EXTENSION pg_stat_statements")
		require.NoError(t, err, string(out))
	}
	pgDataDirs.Store(url, data)
	return url
}

// pgDataDirs maps the URLs startPostgres returned to their clusters' data
// directories (the benchmarks read the server's CPU time).
var pgDataDirs gosync.Map

// TestTeam_TwoNodesOnPostgres: two engine nodes on one PostgreSQL share
// the calls; none is processed twice and together they stay within the
// portal's limit (the simulator refuses anything over it).
func TestTeam_TwoNodesOnPostgres(t *testing.T) {
	dsn := startPostgres(t)
	limit := b24.Limit{Rate: 2, Burst: 6}
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)(), func(o *b24sim.Options) {
		o.RateLimit, o.RateBurst = limit.Rate, limit.Burst
	})
	s := baseSettings(p.srv.URL)
	withLimit := func(o *crmsync.Options) { o.Limit = limit; o.Workers = 4 }
	a := newNode(t, dsn, s, withLimit)
	b := newNode(t, dsn, s, withLimit)
	const calls = 12
	var ids []string
	for i := range calls {
		c := call(fmt.Sprintf("team-%02d", i), "in", "missed", []string{"102"}, nil)
		c["contact_number"] = fmt.Sprintf("+7916111%04d", i)
		api := a.api.URL
		if i%2 == 1 {
			api = b.api.URL
		}
		code, body := post(t, api, c)
		require.Equal(t, 202, code, body)
		ids = append(ids, c["id"].(string))
	}
	start := time.Now()
	waitDone(t, a.api.URL, 60*time.Second, ids...)
	elapsed := time.Since(start)
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, entities(st, "LEAD"), calls, "no call processed twice")
	require.Len(t, st.Activities, calls)
	require.Len(t, st.Stats, calls)
	log := readLog(t, p)
	require.Zero(t, limitErrors(t, p), "the portal never refused a request over its limit")
	t.Logf("%d calls, %d requests through 2 nodes in %s (limit %.0f/s, burst %d)", calls, log.Total, elapsed.Round(time.Millisecond), limit.Rate, limit.Burst)
	ra, rb := nodeRequests(a), nodeRequests(b)
	require.Positive(t, ra, "node A did work")
	require.Positive(t, rb, "node B did work")
}

func nodeRequests(n *node) int {
	total := 0
	for _, methods := range n.eng.Stats() {
		for _, m := range methods {
			total += m.Requests
		}
	}
	return total
}

// TestMigrateAndStatus_Postgres: what omnisync migrate and omnisync status
// run, on PostgreSQL: migrating twice is harmless, status before migrating
// says to migrate, after it counts an empty ledger and queue.
func TestMigrateAndStatus_Postgres(t *testing.T) {
	url := startPostgres(t)
	d, err := crmsync.ParseDatabase(url)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = crmsync.ReadStatus(ctx, d)
	require.ErrorContains(t, err, "run omnisync migrate")
	for range 2 {
		require.NoError(t, crmsync.Migrate(ctx, d))
	}
	st, err := crmsync.ReadStatus(ctx, d)
	require.NoError(t, err)
	require.Empty(t, st.Calls)
	require.Empty(t, st.Jobs)

	// The call's large columns are compressed with lz4, not pglz (the
	// "sending" update's cost; this server is built with lz4).
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, `SELECT attname::text, attcompression::text FROM pg_attribute
		WHERE attrelid = 'omnisync_call'::regclass AND attname IN ('record', 'plan', 'trace', 'result')`)
	require.NoError(t, err)
	compression, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	require.NoError(t, err)
	require.ElementsMatch(t, [][2]string{{"record", "l"}, {"plan", "l"}, {"trace", "l"}, {"result", "l"}}, compression)
}
