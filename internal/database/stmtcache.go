package database

import (
	"context"
	"database/sql"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
	lru "github.com/hashicorp/golang-lru/v2"
)

// stmtCacheSize bounds the prepared statements kept. ent builds a fixed set
// of statement shapes (an IN list of a new length is a new shape), so a few
// hundred covers the hot paths.
const stmtCacheSize = 512

// preparedDriver runs ent's statements outside transactions as prepared
// statements, cached by query text. PostgreSQL then parses and plans each
// shape once per connection instead of on every request, and lib/pq sends
// one bind-and-execute round trip. Transactions (mutations) use the plain
// driver: they are short, and a statement cache per transaction would not
// be reused.
type preparedDriver struct {
	*entsql.Driver // Tx and BeginTx, unprepared
	cached         entsql.Conn
}

func newPreparedDriver(db *sql.DB, d string) (*preparedDriver, error) {
	c, err := newStmtCache(db)
	if err != nil {
		return nil, err
	}
	return &preparedDriver{Driver: entsql.OpenDB(d, db), cached: entsql.Conn{ExecQuerier: c}}, nil
}

// Exec implements dialect.Driver.
func (d *preparedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.cached.Exec(ctx, query, args, v)
}

// Query implements dialect.Driver.
func (d *preparedDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.cached.Query(ctx, query, args, v)
}

// stmtCache is an entsql.ExecQuerier over prepared statements. A
// *sql.Stmt prepares itself on each pooled connection as needed.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex // serialises preparing, so a shape is prepared once
	stmts *lru.Cache[string, *sql.Stmt]
}

func newStmtCache(db *sql.DB) (*stmtCache, error) {
	stmts, err := lru.NewWithEvict(stmtCacheSize, func(_ string, st *sql.Stmt) { _ = st.Close() })
	if err != nil {
		return nil, err
	}
	return &stmtCache{db: db, stmts: stmts}, nil
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts.Add(query, st)
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryContext lets ent's client run hand-built queries (see
// internal/identity) through the same cache.
func (d *preparedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.cached.ExecQuerier.QueryContext(ctx, query, args...)
}

// ExecContext is QueryContext's counterpart.
func (d *preparedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.cached.ExecQuerier.ExecContext(ctx, query, args...)
}
