package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/identity"
	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/registry"
	"github.com/taskmind/taskmind/internal/metrics"
	"github.com/taskmind/taskmind/server"
)

// instance is a real Taskmind server on a loopback port.
type instance struct {
	t       testing.TB
	URL     string
	DB      *database.DB
	Server  *server.Server
	Logs    *syncBuffer
	IDs     *identity.Service
	Metrics *metrics.Metrics
}

// start runs a server over cfg's database. Each call is a separate
// "replica": several on one PostgreSQL database share it like production.
func start(t testing.TB, cfg config.Config) *instance {
	return startWith(t, cfg, nil)
}

// startWith is start with an embedded frontend (nil: not built).
func startWith(t testing.TB, cfg config.Config, frontend fs.FS) *instance {
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
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg.BaseURL = base
	key, _, err := identity.LoadSecretKey(cfg)
	if err != nil {
		t.Fatalf("secret key: %v", err)
	}
	ids := identity.New(db.Client, log, identity.Options{
		SessionIdle: cfg.SessionIdle, SessionMaxAge: cfg.SessionMaxAge,
		DefaultRole: user.Role(cfg.DefaultRole), AdminEmails: cfg.AdminEmails, Dialect: db.Dialect,
	})
	oauth := identity.SetupOAuth(context.Background(), cfg, key, base, log)
	engine := inference.New(inference.Options{Metrics: m, Logger: log})
	models := registry.New(db.Client, engine, broker, log, builtinModel(t), cfg.MaxModelBytes)
	ctx, stopModels := context.WithCancel(context.Background())
	if err := models.Start(ctx); err != nil {
		t.Fatalf("starting the model registry: %v", err)
	}
	srv := server.New(server.Deps{
		Config: cfg, Log: log, Metrics: m, DB: db, Events: broker, Frontend: frontend,
		Identity: ids, OAuth: oauth, BaseURL: base, Registry: models, Version: "test",
		ReadyChecks: []server.ReadyCheck{models.Ready},
	})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		_ = srv.Shutdown(context.Background())
		ts.Close()
		stopModels()
		engine.Close()
		broker.Close()
	})
	return &instance{t: t, URL: ts.URL, DB: db, Server: srv, Logs: logs, IDs: ids, Metrics: m}
}

// actor is a user with an API token, for calls made as that user.
type actor struct {
	ID    int
	Email string
	Token string
}

// auth returns the headers that authenticate as the actor.
func (a actor) auth() []string {
	if a.Token == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + a.Token}
}

var userSeq atomic.Int64

// newUser creates a user with the role and an API token.
func (in *instance) newUser(role user.Role) actor {
	in.t.Helper()
	ctx := auth.SystemContext(context.Background())
	email := fmt.Sprintf("%s-%d@example.com", strings.ToLower(string(role)), userSeq.Add(1))
	u, err := in.DB.Client.User.Create().SetEmail(email).SetName(email).SetRole(role).Save(ctx)
	if err != nil {
		in.t.Fatalf("creating user: %v", err)
	}
	tok, _, err := in.IDs.CreateToken(ctx, u.ID, "test", nil)
	if err != nil {
		in.t.Fatalf("creating token: %v", err)
	}
	return actor{ID: u.ID, Email: email, Token: tok}
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

// reply is an HTTP response read whole.
type reply struct {
	status int
	body   string
	header http.Header
}

// send sends a request and reads the whole response; it is safe to call
// from other goroutines (it reports failures, it does not stop the test).
func (in *instance) send(method, path, contentType, body string, headers ...string) (reply, error) {
	req, _ := http.NewRequest(method, in.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(raw), header: resp.Header}, nil
}

// rest sends a request and returns status and body.
func (in *instance) rest(method, path, contentType, body string, headers ...string) (int, []byte) {
	in.t.Helper()
	r, err := in.send(method, path, contentType, body, headers...)
	if err != nil {
		in.t.Fatal(err)
	}
	return r.status, []byte(r.body)
}

// forEachBackend runs f against SQLite and PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, cfg config.Config)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b.Config) })
	}
}

// gauge reads a metric's value from the instance's registry.
func (in *instance) gauge(name string) float64 {
	in.t.Helper()
	mfs, err := in.Metrics.Registry().Gather()
	if err != nil {
		in.t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

var (
	builtinOnce  sync.Once
	builtinBytes []byte
	builtinErr   error
)

// builtinModel is the committed built-in model, as the binary embeds it.
func builtinModel(t testing.TB) registry.Builtin {
	builtinOnce.Do(func() { builtinBytes, builtinErr = os.ReadFile("../models/mnist/model.onnx") })
	if builtinErr != nil {
		t.Fatalf("reading the built-in model: %v", builtinErr)
	}
	labels := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return registry.Builtin{Name: "mnist", Version: "1", Description: "built-in", Labels: labels, Bytes: builtinBytes}
}
