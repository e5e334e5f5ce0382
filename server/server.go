// Package server is Taskmind's HTTP surface: one Echo instance with one
// route table (routes.go), its middleware, the GraphQL endpoint, the seed's
// REST contract, health checks and the embedded SPA. Echo types stay inside
// this package.
package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/taskmind/taskmind/graph"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/identity"
	"github.com/taskmind/taskmind/internal/inference/registry"
	"github.com/taskmind/taskmind/internal/metrics"
	"github.com/taskmind/taskmind/internal/tasks"
)

// Deps are what the server needs from the rest of the program.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Metrics  *metrics.Metrics
	DB       *database.DB
	Events   events.Broker
	Identity *identity.Service
	Registry *registry.Registry
	OAuth    *identity.OAuth
	// Version is the running build's version.
	Version string
	// BaseURL is the public origin (OAuth callbacks, sign-in links).
	BaseURL string
	// Frontend is the built SPA, or nil when it was not built.
	Frontend fs.FS
	// ReadyChecks must all pass for /readyz to answer 200 (for example the
	// built-in model being warm). The database is always checked.
	ReadyChecks []ReadyCheck
}

// ReadyCheck reports why the process is not ready yet, or nil.
type ReadyCheck func(ctx context.Context) error

// Server is the HTTP server.
type Server struct {
	deps     Deps
	echo     *echo.Echo
	http     *http.Server
	metrics  *http.Server
	tasks    *tasks.Service
	graphql  http.Handler
	draining atomic.Bool
	// tokenFailures limits failed API-token attempts per client IP.
	tokenFailures *middleware.RateLimiterMemoryStore
	// closing is cancelled once HTTP requests have drained, which closes
	// every websocket; websockets waits for their handlers to return.
	closing      context.Context
	closeSockets context.CancelFunc
	websockets   sync.WaitGroup
	// idempotencyPruned is when expired idempotency keys were last pruned
	// (Unix nanoseconds).
	idempotencyPruned atomic.Int64
}

// New builds the server and its routes; nothing listens yet.
func New(d Deps) *Server {
	s := &Server{deps: d, tasks: tasks.NewService(d.DB.Client, d.Events, d.Log)}
	s.closing, s.closeSockets = context.WithCancel(context.Background())
	if d.Identity != nil && d.Events != nil {
		// Other replicas' revocations reach this one's credential cache.
		d.Identity.Follow(s.closing, d.Events)
	}
	s.tokenFailures = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Every(6 * time.Second), Burst: 10, ExpiresIn: 10 * time.Minute,
	})
	resolver := &graph.Resolver{
		Client: d.DB.Client, Tasks: s.tasks, Identity: d.Identity, Registry: d.Registry,
		Events: d.Events, Log: d.Log, Metrics: d.Metrics,
	}
	s.graphql = graph.NewHandler(graph.NewSchema(resolver), d.DB.Client, d.Log, graph.HandlerOptions{
		Introspection:   d.Config.Introspection,
		ComplexityLimit: d.Config.ComplexityLimit,
		MaxDepth:        d.Config.MaxDepth,
		MaxRootFields:   d.Config.MaxRootFields,
		MaxCostlyFields: d.Config.MaxCostlyFields,
		// The registry names the model size limit in its error; the
		// transport only stops what is far beyond it.
		MaxUploadBytes: d.Config.MaxModelBytes + 1<<20,
		OnOperation:    s.observeOperation,
		ShuttingDown:   s.draining.Load,
		AllowedOrigins: originPatterns(d.Config.AllowedOrigins),
		WebsocketInit:  s.websocketInit,
	})

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	// Client IPs (rate limits, logs) come from the connection unless the
	// operator says a proxy in front sets X-Forwarded-For.
	e.IPExtractor = echo.ExtractIPDirect()
	if d.Config.TrustProxyHeaders {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s.echo = e
	s.routes()

	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // model uploads can be large
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.Log.Handler(), slog.LevelWarn),
	}
	if d.Config.MetricsAddr != "" {
		s.metrics = &http.Server{
			Handler:           d.Metrics.Handler(),
			ReadHeaderTimeout: 5 * time.Second,
		}
	}
	return s
}

// Handler returns the root handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve accepts connections on l until Shutdown. It returns nil after a
// clean shutdown.
func (s *Server) Serve(l net.Listener) error {
	if err := s.http.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ServeMetrics serves /metrics on its own listener, when configured.
func (s *Server) ServeMetrics(l net.Listener) error {
	if err := s.metrics.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// StartDraining makes /readyz fail so load balancers stop sending new
// requests, while the server keeps serving the ones that still arrive.
func (s *Server) StartDraining() {
	s.draining.Store(true)
	s.deps.Metrics.SetReady(false)
}

// Shutdown stops accepting connections, waits for in-flight requests until
// ctx ends, then closes every websocket with 1001 (going away) and waits for
// their handlers, so the database can be closed safely afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	s.StartDraining()
	var errs []error
	errs = append(errs, s.http.Shutdown(ctx))
	s.closeSockets()
	done := make(chan struct{})
	go func() { s.websockets.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("websockets did not close in time"))
	}
	if s.metrics != nil {
		errs = append(errs, s.metrics.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// originPatterns turns allowed origins into coder/websocket host patterns.
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}
