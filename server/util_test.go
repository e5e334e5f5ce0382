package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

func systemCtx() context.Context { return auth.SystemContext(context.Background()) }

func dbtestSQLite(t *testing.T) config.Config { return dbtest.SQLite(t) }

func mustJSON(t *testing.T, b []byte, dst any) {
	t.Helper()
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}
