// Package dbtest gives tests a fresh, real database of each kind Taskmind
// supports: an SQLite file in a temporary folder, and a new database on the
// throwaway PostgreSQL that `make test` starts (scripts/pg.sh). Nothing is
// mocked: the tests exercise the same drivers and migrations as production.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq" // PostgreSQL driver

	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
)

// EnvURL names the variable holding the test server's admin URL.
const EnvURL = "TASKMIND_TEST_DATABASE_URL"

// Backend is one database kind with a configuration pointing at a fresh
// database of that kind.
type Backend struct {
	Name   string
	Config config.Config
}

// Backends returns a fresh SQLite and a fresh PostgreSQL configuration.
// PostgreSQL is skipped when no test server is configured, except under CI
// where its absence fails the test: CI must never pass on SQLite alone.
func Backends(t testing.TB) []Backend {
	t.Helper()
	b := []Backend{{Name: "sqlite", Config: SQLite(t)}}
	if pg, ok := postgres(t); ok {
		b = append(b, Backend{Name: "postgres", Config: pg})
	}
	return b
}

// SQLite returns a configuration for a new SQLite file.
func SQLite(t testing.TB) config.Config {
	t.Helper()
	cfg := base(t)
	cfg.DataDir = t.TempDir()
	return cfg
}

// Postgres returns a configuration for a new, empty PostgreSQL database,
// dropped when the test ends; it skips (or fails under CI) without a server.
func Postgres(t testing.TB) config.Config {
	t.Helper()
	cfg, ok := postgres(t)
	if !ok {
		t.SkipNow()
	}
	return cfg
}

func postgres(t testing.TB) (config.Config, bool) {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set under CI: PostgreSQL tests must run (make test starts a server)", EnvURL)
		}
		t.Logf("%s not set: skipping PostgreSQL (run make test to include it)", EnvURL)
		return config.Config{}, false
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatalf("opening %s: %v", EnvURL, err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tm_test_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvURL, err)
	}
	u.Path = "/" + name
	cfg := base(t)
	cfg.DatabaseURL = u.String()
	cfg.DataDir = t.TempDir()
	return cfg, true
}

func base(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	return cfg
}

// Open opens and migrates the database, closing it when the test ends.
func Open(t testing.TB, cfg config.Config) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("opening database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
