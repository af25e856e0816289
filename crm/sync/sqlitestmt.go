package sync

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"regexp"
	gosync "sync"

	"modernc.org/sqlite"
)

// The embedded engine's statement cache.
//
// riversqlite and the ledger send the same few dozen SQL statements for
// every job, and modernc.org/sqlite compiles each Query and Exec from
// scratch: database/sql caches statements only for db.Prepare, which
// River's generated queries do not use. Compiling (sqlite3_prepare_v2) was
// a third of the embedded engine's CPU time in BenchmarkThroughputSQLite.
// This connector keeps each connection's compiled statements by SQL text
// and runs Query and Exec on them — the path modernc.org/sqlite takes for a
// db.Prepare'd statement, which resets the statement when its rows close or
// its exec ends. A statement whose rows are still open is not shared: the
// query then compiles a one-off statement, as without the cache.

// limitParam matches a LIMIT whose value is a bare parameter. SQLite
// (3.4x, as modernc.org/sqlite builds it) reads a bound LIMIT while
// planning and marks the statement to be compiled again whenever that
// parameter is bound — on every run: River's JobGetAvailable ("LIMIT ?5"),
// the query of every fetch, was recompiled each time (5 % of an embedded
// node's CPU; BenchmarkSQLiteLimitParam shows a small query 3–4× slower).
// The cache compiles such a LIMIT as (?+0), which SQLite does not take for
// a constant; the value and meaning are the same.
var limitParam = regexp.MustCompile(`(?i)\bLIMIT\s+(\?\d*)`)

// compiledText is the SQL the cache compiles for query.
func compiledText(query string) string { return limitParam.ReplaceAllString(query, "LIMIT ($1+0)") }

// stmtCacheSize bounds the statements kept per connection; River and the
// ledger use well under a hundred distinct ones.
const stmtCacheSize = 256

// openSQLiteDB opens dsn with the statement cache.
func openSQLiteDB(dsn string) (*sql.DB, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{base}), nil
}

type cachingConnector struct{ base driver.Connector }

func (c cachingConnector) Driver() driver.Driver { return c.base.Driver() }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	bc, ok := conn.(baseConn)
	if !ok {
		return conn, nil // a driver without these interfaces: no cache
	}
	return &cachedConn{baseConn: bc, stmts: map[string]*cachedStmt{}}, nil
}

// baseConn is what modernc.org/sqlite's connection implements and
// database/sql uses.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmtCtx interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachedStmt struct {
	stmt stmtCtx
	busy bool // its rows are open
}

type cachedConn struct {
	baseConn
	mu    gosync.Mutex
	stmts map[string]*cachedStmt
}

// take returns the cached statement of query, compiling it on first use;
// nil when it is busy or cannot be compiled alone (the caller then runs the
// query uncached, which reports any error as before).
func (c *cachedConn) take(ctx context.Context, query string) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil
		}
		s.busy = true
		return s
	}
	ds, err := c.PrepareContext(ctx, compiledText(query))
	if err != nil {
		return nil
	}
	st, ok := ds.(stmtCtx)
	if !ok {
		_ = ds.Close()
		return nil
	}
	if len(c.stmts) >= stmtCacheSize {
		for q, s := range c.stmts {
			if !s.busy {
				_ = s.stmt.Close()
				delete(c.stmts, q)
			}
		}
	}
	s := &cachedStmt{stmt: st, busy: true}
	c.stmts[query] = s
	return s
}

// give returns s to the cache; a statement that failed is dropped, so the
// next use compiles it afresh.
func (c *cachedConn) give(query string, s *cachedStmt, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.busy = false
	if failed && c.stmts[query] == s {
		delete(c.stmts, query)
		_ = s.stmt.Close()
	}
}

func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s := c.take(ctx, query)
	if s == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	res, err := s.stmt.ExecContext(ctx, args)
	c.give(query, s, err != nil)
	return res, err
}

func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.take(ctx, query)
	if s == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.give(query, s, true)
		return nil, err
	}
	return &cachedRows{Rows: rows, done: func(failed bool) { c.give(query, s, failed) }}, nil
}

func (c *cachedConn) Close() error {
	c.mu.Lock()
	for q, s := range c.stmts {
		_ = s.stmt.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.baseConn.Close()
}

// cachedRows hands its statement back when closed.
type cachedRows struct {
	driver.Rows
	done   func(failed bool)
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.done(err != nil)
	return err
}

// The column type methods database/sql's ColumnTypes reads.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
