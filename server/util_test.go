package server_test

import (
	"context"
	"testing"

	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

func systemCtx() context.Context { return auth.SystemContext(context.Background()) }

func dbtestSQLite(t *testing.T) config.Config { return dbtest.SQLite(t) }
