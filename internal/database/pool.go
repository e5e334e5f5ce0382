package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"golang.org/x/sync/semaphore"

	"github.com/taskmind/taskmind/internal/apperr"
)

// boundedDriver gives ent's statements and transactions a bounded wait for
// a pool connection. database/sql queues a caller until a connection frees
// up or the caller's context ends, so a saturated pool turns into requests
// that hang for their whole deadline; here a slot of the pool's size is
// taken first, with its own short deadline, and a request that cannot get
// one is told UNAVAILABLE at once. A slot is held exactly as long as the
// connection: until an Exec or a Query returns, or a transaction ends.
type boundedDriver struct {
	dialect.Driver
	slots *semaphore.Weighted
	wait  time.Duration
}

func newBoundedDriver(inner dialect.Driver, size int, wait time.Duration) *boundedDriver {
	return &boundedDriver{Driver: inner, slots: semaphore.NewWeighted(int64(size)), wait: wait}
}

// acquire takes a slot, returning its release (safe to call twice).
func (d *boundedDriver) acquire(ctx context.Context) (func(), error) {
	wctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	if err := d.slots.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			// The request's own deadline or the client leaving.
			return nil, ctx.Err()
		}
		return nil, apperr.ErrPoolTimeout
	}
	var once sync.Once
	return func() { once.Do(func() { d.slots.Release(1) }) }, nil
}

// Exec implements dialect.Driver.
func (d *boundedDriver) Exec(ctx context.Context, query string, args, v any) error {
	release, err := d.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return d.Driver.Exec(ctx, query, args, v)
}

// Query implements dialect.Driver. The slot goes back when the query has
// answered, a little before its rows are closed: ent's callers (and its
// migrations, which need the *sql.Rows itself) scan and close at once, so
// the overlap is a scan's length and never a wait on another request.
func (d *boundedDriver) Query(ctx context.Context, query string, args, v any) error {
	release, err := d.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return d.Driver.Query(ctx, query, args, v)
}

// Tx implements dialect.Driver; the slot goes back when it ends.
func (d *boundedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx is the transaction with options that ent's client looks for.
func (d *boundedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	begin, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("database: %T cannot begin a transaction with options", d.Driver)
	}
	release, err := d.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := begin.BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingTx{Tx: tx, release: release}, nil
}

// QueryContext runs hand-built queries (see internal/identity) under the
// same bound; like Query, the slot goes back once the query has answered.
func (d *boundedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return withSlot(ctx, d, func(q entsql.ExecQuerier) (*sql.Rows, error) { return q.QueryContext(ctx, query, args...) })
}

// ExecContext is QueryContext's counterpart.
func (d *boundedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return withSlot(ctx, d, func(q entsql.ExecQuerier) (sql.Result, error) { return q.ExecContext(ctx, query, args...) })
}

// withSlot runs a hand-built statement on the inner driver within a slot.
func withSlot[T any](ctx context.Context, d *boundedDriver, run func(entsql.ExecQuerier) (T, error)) (T, error) {
	var zero T
	q, err := querier(d.Driver)
	if err != nil {
		return zero, err
	}
	release, err := d.acquire(ctx)
	if err != nil {
		return zero, err
	}
	defer release()
	return run(q)
}

type releasingTx struct {
	dialect.Tx
	release func()
}

func (t *releasingTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *releasingTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

// QueryContext and ExecContext keep the hand-built queries working inside
// a transaction.
func (t *releasingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, err := querier(t.Tx)
	if err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, args...)
}

func (t *releasingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, err := querier(t.Tx)
	if err != nil {
		return nil, err
	}
	return q.ExecContext(ctx, query, args...)
}

func querier(v any) (entsql.ExecQuerier, error) {
	q, ok := v.(entsql.ExecQuerier)
	if !ok {
		return nil, fmt.Errorf("database: %T cannot run hand-built queries", v)
	}
	return q, nil
}
