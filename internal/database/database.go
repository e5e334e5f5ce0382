// Package database opens Taskmind's database: PostgreSQL through lib/pq when
// DATABASE_URL is set, otherwise an embedded pure-Go SQLite file, so a
// newcomer needs no services at all. It also runs the schema migration,
// serialised across replicas on PostgreSQL.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // PostgreSQL driver
	"github.com/taskmind/taskmind/ent"
	_ "github.com/taskmind/taskmind/ent/runtime" // schema hooks and defaults
	_ "modernc.org/sqlite"                       // pure-Go SQLite driver

	"github.com/taskmind/taskmind/internal/config"
)

// migrationLockKey is the PostgreSQL advisory lock that makes replicas
// starting together migrate one at a time ("tm" in ASCII, arbitrary).
const migrationLockKey = 0x746d

// DB is an open database with its ent client.
type DB struct {
	Client *ent.Client
	// SQL is the underlying pool, for health checks and pool metrics.
	SQL     *sql.DB
	Dialect string
	// DSN is set for PostgreSQL, where LISTEN needs its own connection.
	DSN string
	// health is a one-connection pool of its own for readiness checks, so
	// that a saturated request pool does not make every replica unready at
	// once (nil on SQLite, which has no network in between).
	health *sql.DB
}

// Open connects, checks the connection and migrates the schema.
func Open(ctx context.Context, cfg config.Config) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if cfg.DatabaseURL != "" {
		db, err = openPostgres(ctx, cfg)
	} else {
		db, err = openSQLite(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close releases the pools.
func (db *DB) Close() error {
	if db.health != nil {
		db.health.Close()
	}
	return db.Client.Close()
}

// Ping checks that the database answers, on the health connection (never
// waiting behind requests for a pool connection).
func (db *DB) Ping(ctx context.Context) error {
	if db.health == nil {
		return db.SQL.PingContext(ctx)
	}
	var one int
	return db.health.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func openPostgres(ctx context.Context, cfg config.Config) (*DB, error) {
	dsn, err := postgresDSN(cfg)
	if err != nil {
		return nil, err
	}
	sqlDB, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	sqlDB.SetMaxOpenConns(cfg.DBMaxConns)
	sqlDB.SetMaxIdleConns(cfg.DBMaxConns)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)

	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		// lib/pq's messages never include the password, but the URL might
		// be echoed by other layers: name the host only.
		return nil, fmt.Errorf("DATABASE_URL: cannot reach PostgreSQL at %s: %w", config.RedactURL(cfg.DatabaseURL), err)
	}
	drv, err := newPreparedDriver(sqlDB, dialect.Postgres)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	health, err := sql.Open("postgres", dsn)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	health.SetMaxOpenConns(1)
	health.SetMaxIdleConns(1)
	bounded := newBoundedDriver(drv, cfg.DBMaxConns, cfg.DBPoolWait)
	return &DB{Client: ent.NewClient(ent.Driver(bounded)), SQL: sqlDB, Dialect: dialect.Postgres, DSN: dsn, health: health}, nil
}

// postgresDSN adds settings to the URL unless the operator chose their own:
// a statement timeout so a runaway query cannot hold a connection forever,
// a connect timeout so start-up fails fast, and single-round-trip queries.
func postgresDSN(cfg config.Config) (string, error) {
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return "", errors.New("DATABASE_URL is not a valid URL")
	}
	q := u.Query()
	if q.Get("statement_timeout") == "" && cfg.DBStatementTimeout > 0 {
		q.Set("statement_timeout", strconv.FormatInt(cfg.DBStatementTimeout.Milliseconds(), 10))
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10")
	}
	if q.Get("application_name") == "" {
		q.Set("application_name", "taskmind")
	}
	// One round trip per parameterised query instead of two (parse, then
	// bind). lib/pq then sends []byte as binary, so JSON columns are text
	// (see ent/schema/model.go).
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func openSQLite(ctx context.Context, cfg config.Config) (*DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("TASKMIND_DATA_DIR: cannot create %q: %w", cfg.DataDir, err)
	}
	// _txlock=immediate takes the write lock when a transaction starts, so two
	// writers queue on busy_timeout instead of failing on lock upgrade.
	// synchronous=FULL syncs the WAL at every commit: with NORMAL, a power
	// loss may drop commits a client was already told about.
	dsn := "file:" + cfg.SQLitePath() +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(FULL)&_txlock=immediate"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("TASKMIND_DATA_DIR: opening SQLite: %w", err)
	}
	// SQLite writes one at a time anyway; a small pool keeps readers
	// concurrent under WAL without piling up waiting writers.
	const sqliteConns = 8
	sqlDB.SetMaxOpenConns(sqliteConns)
	sqlDB.SetMaxIdleConns(sqliteConns)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("TASKMIND_DATA_DIR: opening %s: %w", cfg.SQLitePath(), err)
	}
	drv := newBoundedDriver(entsql.OpenDB(dialect.SQLite, sqlDB), sqliteConns, cfg.DBPoolWait)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqlDB, Dialect: dialect.SQLite}, nil
}

// migrate brings the schema up to date. On PostgreSQL a session-level
// advisory lock, held on a connection of its own, makes replicas that start
// together migrate one after another instead of racing on DDL.
func (db *DB) migrate(ctx context.Context) error {
	if db.Dialect == dialect.Postgres {
		lockDB, err := sql.Open("postgres", db.DSN)
		if err != nil {
			return fmt.Errorf("migrating schema: %w", err)
		}
		defer lockDB.Close()
		conn, err := lockDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrating schema: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrating schema: taking the migration lock: %w", err)
		}
		// Closing the connection releases the lock too; unlocking first just
		// lets the next replica go without waiting for the close.
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey) //nolint:errcheck
	}
	if err := db.Client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	return nil
}
