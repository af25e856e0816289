package sync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what the ledger needs from a connection or a transaction of
// either database; SQL uses ? placeholders and is rebound for PostgreSQL.
type querier interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	queryRow(ctx context.Context, query string, args ...any) scanner
	query(ctx context.Context, query string, args ...any) (rowsIter, error)
}

type scanner interface{ Scan(dest ...any) error }

type rowsIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// errNoRows is returned by scanner.Scan when nothing matched, for both drivers.
var errNoRows = errors.New("no rows")

// Database names the engine's database: "sqlite:PATH" (embedded, one
// connection, WAL) or a postgres:// URL (team mode).
type Database struct {
	kind string // "sqlite" or "postgres"
	dsn  string
}

// ParseDatabase reads the --db flag.
func ParseDatabase(s string) (Database, error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		if path == "" {
			return Database{}, errors.New("database: sqlite: needs a file path, e.g. sqlite:/var/lib/omnisync/sync.db")
		}
		return Database{kind: "sqlite", dsn: path}, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return Database{kind: "postgres", dsn: s}, nil
	}
	return Database{}, fmt.Errorf("database %q: want sqlite:PATH or postgres://…", s)
}

// IsPostgres reports team mode.
func (d Database) IsPostgres() bool { return d.kind == "postgres" }

func (d Database) String() string {
	if d.kind == "sqlite" {
		return "sqlite:" + d.dsn
	}
	return "postgres"
}

// sqliteDSN is the recipe of reference/feasibility-river.md: WAL, a busy
// timeout, immediate write transactions; the pool gets one connection.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func openSQLite(path string) (*sql.DB, error) {
	db, err := openSQLiteDB(sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// riversqlite's advice: one connection avoids SQLITE_BUSY. Never use db
	// while holding a transaction on it: that deadlocks.
	db.SetMaxOpenConns(1)
	return db, nil
}

// openPostgres opens a pool of at least conns connections, unless the URL
// sets pool_max_conns.
func openPostgres(ctx context.Context, dsn string, conns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") && cfg.MaxConns < int32(conns) {
		cfg.MaxConns = int32(conns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return pool, nil
}

// ---- database/sql (SQLite) ----

type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type sqlQ struct{ x sqlExecer }

func (q sqlQ) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.x.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqlQ) queryRow(ctx context.Context, query string, args ...any) scanner {
	return sqlRow{q.x.QueryRowContext(ctx, query, args...)}
}

func (q sqlQ) query(ctx context.Context, query string, args ...any) (rowsIter, error) {
	rows, err := q.x.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}

type sqlRows struct{ r *sql.Rows }

func (r sqlRows) Next() bool             { return r.r.Next() }
func (r sqlRows) Scan(dest ...any) error { return r.r.Scan(dest...) }
func (r sqlRows) Err() error             { return r.r.Err() }
func (r sqlRows) Close()                 { _ = r.r.Close() }

// ---- pgx (PostgreSQL) ----

type pgQ struct {
	exec_     func(ctx context.Context, sql string, args ...any) (int64, error)
	queryRow_ func(ctx context.Context, sql string, args ...any) pgx.Row
	query_    func(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func poolQ(p *pgxpool.Pool) pgQ {
	return pgQ{
		exec_: func(ctx context.Context, s string, args ...any) (int64, error) {
			tag, err := p.Exec(ctx, s, args...)
			return tag.RowsAffected(), err
		},
		queryRow_: p.QueryRow,
		query_:    p.Query,
	}
}

func txQ(tx pgx.Tx) pgQ {
	return pgQ{
		exec_: func(ctx context.Context, s string, args ...any) (int64, error) {
			tag, err := tx.Exec(ctx, s, args...)
			return tag.RowsAffected(), err
		},
		queryRow_: tx.QueryRow,
		query_:    tx.Query,
	}
}

func (q pgQ) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return q.exec_(ctx, rebind(query), args...)
}

func (q pgQ) queryRow(ctx context.Context, query string, args ...any) scanner {
	return pgRow{q.queryRow_(ctx, rebind(query), args...)}
}

func (q pgQ) query(ctx context.Context, query string, args ...any) (rowsIter, error) {
	rows, err := q.query_(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL.
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
