package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.ListenAddr() != "127.0.0.1:8080" || c.DatabaseURL != "" || c.SQLitePath() != "data/taskmind.db" ||
		!c.Introspection || c.ShutdownTimeout != 20*time.Second || c.DefaultRole != "MEMBER" || c.AnonymousRole != "" {
		t.Fatalf("defaults: got %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"port not a number", map[string]string{"PORT": "eighty"}, "PORT"},
		{"port out of range", map[string]string{"PORT": "70000"}, "PORT"},
		{"unknown database scheme", map[string]string{"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"},
		{"database url without host", map[string]string{"DATABASE_URL": "postgres:///db"}, "DATABASE_URL"},
		{"bad listen addr", map[string]string{"TASKMIND_LISTEN_ADDR": "example.com"}, "TASKMIND_LISTEN_ADDR"},
		{"short secret key", map[string]string{"TASKMIND_SECRET_KEY": "short"}, "TASKMIND_SECRET_KEY"},
		{"github key without secret", map[string]string{"TASKMIND_GITHUB_KEY": "k"}, "TASKMIND_GITHUB_SECRET"},
		{"oidc issuer without client", map[string]string{"TASKMIND_OIDC_ISSUER": "https://id.example.com"}, "TASKMIND_OIDC"},
		{"anonymous admin", map[string]string{"TASKMIND_ANONYMOUS_ROLE": "ADMIN"}, "TASKMIND_ANONYMOUS_ROLE"},
		{"default role admin", map[string]string{"TASKMIND_DEFAULT_ROLE": "ADMIN"}, "TASKMIND_DEFAULT_ROLE"},
		{"bad base url", map[string]string{"TASKMIND_BASE_URL": "ftp://x"}, "TASKMIND_BASE_URL"},
		{"bad origin", map[string]string{"TASKMIND_ALLOWED_ORIGINS": "evil"}, "TASKMIND_ALLOWED_ORIGINS"},
		{"bad duration", map[string]string{"TASKMIND_SHUTDOWN_TIMEOUT": "soon"}, "TASKMIND_SHUTDOWN_TIMEOUT"},
		{"negative delay", map[string]string{"TASKMIND_SHUTDOWN_DELAY": "-1s"}, "TASKMIND_SHUTDOWN_DELAY"},
		{"bad bool", map[string]string{"TASKMIND_SECURE_COOKIES": "maybe"}, "TASKMIND_SECURE_COOKIES"},
		{"bad log format", map[string]string{"TASKMIND_LOG_FORMAT": "xml"}, "TASKMIND_LOG_FORMAT"},
		{"tiny model cap", map[string]string{"TASKMIND_MAX_MODEL_BYTES": "10"}, "TASKMIND_MAX_MODEL_BYTES"},
		{"unknown kernel set", map[string]string{"TASKMIND_INFERENCE_KERNELS": "sse9"}, "TASKMIND_INFERENCE_KERNELS: unknown kernel set \"sse9\""},
		{"batch limit zero", map[string]string{"TASKMIND_INFERENCE_MAX_BATCH": "0"}, "TASKMIND_INFERENCE_MAX_BATCH must be between 1 and 4096"},
		{"credential cache too long", map[string]string{"TASKMIND_CREDENTIAL_CACHE_TTL": "1h"}, "TASKMIND_CREDENTIAL_CACHE_TTL must be between 0s (no cache) and 1m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestDatabaseURLErrorsHidePasswords(t *testing.T) {
	_, err := Load(env(map[string]string{"DATABASE_URL": "mysql://user:hunter2@db/x"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error without the password", err)
	}
	if got := RedactURL("postgres://user:hunter2@db:5432/x"); strings.Contains(got, "hunter2") {
		t.Fatalf("RedactURL: got %q", got)
	}
}

func TestLists(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TASKMIND_ADMIN_EMAILS":    " Boss@Example.com, ,ops@example.com",
		"TASKMIND_ALLOWED_ORIGINS": "https://app.example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.AdminEmails, ",") != "boss@example.com,ops@example.com" || len(c.AllowedOrigins) != 1 {
		t.Fatalf("got admins %v origins %v", c.AdminEmails, c.AllowedOrigins)
	}
}
