package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestStartupRefusesBadDatabase checks that a wrong DATABASE_URL stops the
// server with a message naming the variable, never falling back to SQLite.
func TestStartupRefusesBadDatabase(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"unknown scheme", "mysql://root@127.0.0.1/taskmind"},
		{"unreachable server", "postgres://taskmind:secret@127.0.0.1:1/taskmind?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DATABASE_URL": tc.url, "TASKMIND_DATA_DIR": dir, "PORT": "18999"}
			var out bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out)
			if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
				t.Fatalf("got %v, want an error naming DATABASE_URL", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}
