package sync

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The statement cache runs repeated queries on one compiled statement,
// compiles a one-off when that statement's rows are still open, drops a
// statement that failed, and keeps transactions working.
func TestSQLiteStatementCache(t *testing.T) {
	db, err := openSQLite(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	require.NoError(t, err)
	for i := range 5 {
		_, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, i, "v")
		require.NoError(t, err)
	}
	cached := func() int {
		n := 0
		conn, err := db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.Raw(func(dc any) error {
			c := dc.(*cachedConn)
			c.mu.Lock()
			n = len(c.stmts)
			c.mu.Unlock()
			return nil
		}))
		return n
	}
	require.Equal(t, 2, cached(), "CREATE and INSERT")

	// The same query nested in its own open rows: the inner one cannot
	// share the busy statement and runs uncached.
	const q = `SELECT k FROM t WHERE k >= ? ORDER BY k`
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	outer, err := tx.QueryContext(ctx, q, 0)
	require.NoError(t, err)
	var got []int
	for outer.Next() {
		var k int
		require.NoError(t, outer.Scan(&k))
		var inner int
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+q+`)`, k).Scan(&inner))
		var again int
		require.NoError(t, tx.QueryRowContext(ctx, q, k).Scan(&again), "the busy statement's query, uncached")
		require.Equal(t, k, again)
		got = append(got, inner)
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	_, err = tx.ExecContext(ctx, `UPDATE t SET v = ? WHERE k = ?`, "w", 1)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.Equal(t, []int{5, 4, 3, 2, 1}, got)

	// Reused after its rows closed, with other arguments.
	var v string
	for range 3 {
		require.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = ?`, 1).Scan(&v))
		require.Equal(t, "w", v)
	}
	n := cached()

	// A failing exec is reported and its statement dropped.
	_, err = db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, 1, "dup")
	require.ErrorContains(t, err, "UNIQUE")
	require.Equal(t, n-1, cached())
	_, err = db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, 9, "ok")
	require.NoError(t, err)

	// A query that does not compile is reported as before, not cached.
	_, err = db.QueryContext(ctx, `SELECT nope FROM t`)
	require.ErrorContains(t, err, "no such column")
}

// The cache compiles a bare LIMIT parameter as (?+0) (see limitParam):
// same rows for a limit, none (-1) and zero.
func TestSQLiteStatementCache_LimitParameter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT k FROM t LIMIT ?`, `SELECT k FROM t LIMIT (?+0)`},
		{"SELECT id\n    FROM river_job\n    LIMIT ?5\n)", "SELECT id\n    FROM river_job\n    LIMIT (?5+0)\n)"},
		{`select k from t limit ? offset ?`, `select k from t LIMIT (?+0) offset ?`},
		{`SELECT k FROM t LIMIT 1`, `SELECT k FROM t LIMIT 1`},
		{`SELECT k FROM t WHERE k < ?`, `SELECT k FROM t WHERE k < ?`},
	} {
		require.Equal(t, tc.want, compiledText(tc.in))
	}
	db, err := openSQLite(filepath.Join(t.TempDir(), "l.db"))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY); INSERT INTO t (k) VALUES (1), (2), (3), (4)`)
	require.NoError(t, err)
	for _, tc := range []struct{ limit, want int }{{2, 2}, {-1, 4}, {0, 0}, {3, 3}} {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT k FROM t ORDER BY k LIMIT ?)`, tc.limit).Scan(&n))
		require.Equal(t, tc.want, n, "LIMIT %d", tc.limit)
	}
}

// BenchmarkSQLiteLimitParam: a query with a bound LIMIT run again and
// again with new arguments — on a statement prepared once with
// modernc.org/sqlite (recompiled on every run all the same) and through
// the statement cache (compiled once).
func BenchmarkSQLiteLimitParam(b *testing.B) {
	const q = `SELECT k FROM t WHERE k > ? ORDER BY k LIMIT ?`
	setup := func(b *testing.B, db *sql.DB) {
		b.Cleanup(func() { _ = db.Close() })
		db.SetMaxOpenConns(1)
		_, err := db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY); INSERT INTO t (k) VALUES (1), (2), (3), (4)`)
		require.NoError(b, err)
	}
	loop := func(b *testing.B, query func(args ...any) (*sql.Rows, error)) {
		for i := 0; b.Loop(); i++ {
			rows, err := query(0, i%3+1)
			require.NoError(b, err)
			for rows.Next() {
			}
			require.NoError(b, rows.Close())
		}
	}
	b.Run("modernc-prepared", func(b *testing.B) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "b.db"))
		require.NoError(b, err)
		setup(b, db)
		st, err := db.Prepare(q)
		require.NoError(b, err)
		defer st.Close()
		loop(b, st.Query)
	})
	b.Run("cache", func(b *testing.B) {
		db, err := openSQLite(filepath.Join(b.TempDir(), "b.db"))
		require.NoError(b, err)
		setup(b, db)
		loop(b, func(args ...any) (*sql.Rows, error) { return db.Query(q, args...) })
	})
}
