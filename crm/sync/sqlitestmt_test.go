package sync

import (
	"context"
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
