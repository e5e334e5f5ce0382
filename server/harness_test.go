package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/metrics"
	"github.com/taskmind/taskmind/server"
)

// instance is a real Taskmind server on a loopback port.
type instance struct {
	t      testing.TB
	URL    string
	DB     *database.DB
	Server *server.Server
	Logs   *bytes.Buffer
}

// start runs a server over cfg's database. Each call is a separate
// "replica": several on one PostgreSQL database share it like production.
func start(t testing.TB, cfg config.Config) *instance {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := dbtest.Open(t, cfg)
	var broker events.Broker = events.NewLocal()
	if db.DSN != "" {
		pg, err := events.NewPostgres(db.SQL, db.DSN, log)
		if err != nil {
			t.Fatalf("event listener: %v", err)
		}
		broker = pg
	}
	m := metrics.New(metrics.BuildInfo{Version: "test", Revision: "test"})
	srv := server.New(server.Deps{Config: cfg, Log: log, Metrics: m, DB: db, Events: broker})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		_ = srv.Shutdown(context.Background())
		ts.Close()
		broker.Close()
	})
	return &instance{t: t, URL: ts.URL, DB: db, Server: srv, Logs: &logs.buf}
}

// gqlResponse is a GraphQL response with its errors' codes handy.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	status int
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql posts a query and decodes the response.
func (in *instance) gql(query string, vars map[string]any, headers ...string) gqlResponse {
	in.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		in.t.Fatalf("decoding GraphQL response %q: %v", raw, err)
	}
	out.status = resp.StatusCode
	return out
}

// mustGQL runs a query that must succeed and decodes its data into dst.
func (in *instance) mustGQL(dst any, query string, vars map[string]any, headers ...string) {
	in.t.Helper()
	r := in.gql(query, vars, headers...)
	if len(r.Errors) > 0 {
		in.t.Fatalf("GraphQL errors: %+v", r.Errors)
	}
	if dst != nil {
		if err := json.Unmarshal(r.Data, dst); err != nil {
			in.t.Fatalf("decoding data %s: %v", r.Data, err)
		}
	}
}

// rest sends a request and returns status and body.
func (in *instance) rest(method, path, contentType, body string, headers ...string) (int, []byte) {
	in.t.Helper()
	req, _ := http.NewRequest(method, in.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// forEachBackend runs f against SQLite and PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, cfg config.Config)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b.Config) })
	}
}
