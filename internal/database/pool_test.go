package database_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// TestPoolWaitIsBounded: with every connection held by a transaction, the
// next statement or transaction fails with ErrPoolTimeout after the pool
// wait instead of queueing until its caller's deadline. (PostgreSQL only: on
// SQLite a second open transaction already waits on the write lock.)
func TestPoolWaitIsBounded(t *testing.T) {
	cfg := dbtest.Postgres(t)
	cfg.DBMaxConns = 2
	cfg.DBPoolWait = 200 * time.Millisecond
	db := dbtest.Open(t, cfg)
	ctx := auth.SystemContext(context.Background())
	for range cfg.DBMaxConns {
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatalf("holding a connection: %v", err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
	}
	if _, err := db.Client.Tx(ctx); !errors.Is(err, apperr.ErrPoolTimeout) {
		t.Fatalf("transaction on a full pool: %v, want ErrPoolTimeout", err)
	}
	if _, err := db.Client.User.Query().Count(ctx); !errors.Is(err, apperr.ErrPoolTimeout) {
		t.Fatalf("query on a full pool: %v, want ErrPoolTimeout", err)
	}
}

// TestSQLiteKeepsAcknowledgedCommits: in WAL mode synchronous=NORMAL may
// lose the last commits on power loss; FULL syncs the WAL on every commit,
// so what a client was told is stored stays stored. Every pooled
// connection must have it, not only the first.
func TestSQLiteKeepsAcknowledgedCommits(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLite(t))
	ctx := context.Background()
	conns := make([]*sql.Conn, 0, 3)
	for range 3 {
		c, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode int
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 { // 2 is FULL
			t.Errorf("connection %d: PRAGMA synchronous = %d, want 2 (FULL)", i, mode)
		}
		c.Close()
	}
}

// TestTransactionOptionsReachPostgreSQL: the pool bound wraps transactions;
// their options must still reach the database (a read-only transaction
// refuses a write).
func TestTransactionOptionsReachPostgreSQL(t *testing.T) {
	db := dbtest.Open(t, dbtest.Postgres(t))
	ctx := auth.SystemContext(context.Background())
	tx, err := db.Client.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("BeginTx: %v", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.User.Create().SetEmail("ro@example.com").SetName("ro").Save(ctx); err == nil {
		t.Fatal("a write inside a read-only transaction succeeded: the options were dropped")
	}
}
