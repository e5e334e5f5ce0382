// Command taskmind is the whole Taskmind platform in one binary: the
// GraphQL and REST API, the embedded web app, inference, and the operator's
// commands (migrate, healthcheck, version).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/identity"
	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/kernels"
	"github.com/taskmind/taskmind/internal/inference/registry"
	"github.com/taskmind/taskmind/internal/metrics"
	"github.com/taskmind/taskmind/server"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "taskmind:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

const usage = `Taskmind: tasks and deep-learning inference in one binary.

Usage:
  taskmind [serve]       start the server (default)
  taskmind migrate       apply database migrations and exit
  taskmind healthcheck   exit 0 if the local server answers /healthz
  taskmind version       print the version
  taskmind login-link    print a one-time admin sign-in link
  taskmind token create  create an API token for a user

Configuration comes from environment variables; see README.md.
Run "taskmind <command> --help" for a command's flags.
`

// run is the whole program, with its environment passed in so tests can
// call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout)
	case "migrate":
		return cmdMigrate(ctx, args, getenv, stdout)
	case "healthcheck":
		return cmdHealthcheck(ctx, args, getenv, stdout)
	case "version":
		return cmdVersion(args, stdout)
	case "login-link":
		return cmdLoginLink(ctx, args, getenv, stdout)
	case "token":
		return cmdToken(ctx, args, getenv, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (run taskmind --help)", cmd)
}

// newFlags returns a flag set that prints its help to stdout.
func newFlags(name, summary string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: taskmind %s [flags]\n\n%s\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

func cmdVersion(args []string, stdout io.Writer) error {
	fs := newFlags("version", "Print the version and build commit.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "taskmind %s (commit %s)\n", version, commit)
	return nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("migrate", "Apply database migrations (also done at every start) and exit.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return db.Close()
}

func cmdHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("healthcheck", "Exit 0 when the server on this host answers /healthz (for container HEALTHCHECK).", stdout)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	host := cfg.ListenHost
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, fmt.Sprint(cfg.Port))+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("serve", "Start the Taskmind server (configured by environment variables).", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	tuneGC(getenv)
	m := metrics.New(metrics.BuildInfo{Version: version, Revision: commit})
	m.SetReady(false)

	db, err := database.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	m.RegisterDB(db.SQL)
	if cfg.DatabaseURL != "" {
		log.Info("database ready", "dialect", "postgres", "url", config.RedactURL(cfg.DatabaseURL))
	} else {
		log.Info("database ready", "dialect", "sqlite", "path", cfg.SQLitePath())
	}

	var broker events.Broker
	if db.DSN != "" {
		broker, err = events.NewPostgres(db.SQL, db.DSN, log)
		if err != nil {
			return fmt.Errorf("DATABASE_URL: listening for task events: %w", err)
		}
	} else {
		broker = events.NewLocal()
	}
	defer broker.Close()

	key, generated, err := identity.LoadSecretKey(cfg)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a new secret key", "path", filepath.Join(cfg.DataDir, "secret.key"))
	}
	if cfg.SecretKey == "" && cfg.DatabaseURL != "" {
		log.Warn("TASKMIND_SECRET_KEY is not set: each replica uses its own generated key, so sign-ins may fail behind a load balancer; set the same key on every replica")
	}
	if cfg.AnonymousRole != "" {
		log.Warn("ANONYMOUS ACCESS IS ON: TASKMIND_ANONYMOUS_ROLE lets anyone without credentials read as " + cfg.AnonymousRole)
	}
	ids := newIdentity(db, cfg, log)
	base := baseURL(cfg)
	oauth := identity.SetupOAuth(ctx, cfg, key, base, log)
	if len(oauth.Providers()) == 0 {
		if err := printFirstRunLink(ctx, ids, base, stdout); err != nil {
			return err
		}
	}

	engine := inference.New(inference.Options{
		PoolSize: cfg.InferencePoolSize, QueueSize: cfg.InferenceQueueSize, Timeout: cfg.InferenceTimeout,
		MaxBatch: cfg.InferenceMaxBatch, Kernels: cfg.InferenceKernels, Metrics: m, Logger: log,
	})
	if set, err := engine.KernelSet(); err == nil {
		var available []string
		for _, s := range kernels.Available() {
			available = append(available, s.Name())
		}
		log.Info("inference kernels", "set", set.Name(), "available", available)
	}
	defer engine.Close()
	bi, err := builtin()
	if err != nil {
		return err
	}
	models := registry.New(db.Client, engine, broker, log, bi, cfg.MaxModelBytes)

	srv := server.New(server.Deps{
		Config: cfg, Log: log, Metrics: m, DB: db, Events: broker, Frontend: frontendDist(),
		Identity: ids, OAuth: oauth, BaseURL: base, Registry: models, Version: version,
		ReadyChecks: []server.ReadyCheck{models.Ready},
	})
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("PORT/TASKMIND_LISTEN_ADDR: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TASKMIND_METRICS_ADDR: %w", err)
		}
		go func() { errc <- srv.ServeMetrics(mln) }()
	}
	log.Info("taskmind started", "version", version, "addr", "http://"+ln.Addr().String())
	// The listener is up (liveness answers) while the built-in model warms;
	// readiness waits for it.
	if err := models.Start(ctx); err != nil {
		return err
	}
	log.Info("built-in model ready", "model", bi.Name, "version", bi.Version)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "delay", cfg.ShutdownDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	// Readiness drops first; the listeners stay open for ShutdownDelay so
	// that load balancers polling /readyz notice before connections are
	// refused.
	srv.StartDraining()
	if cfg.ShutdownDelay > 0 {
		select {
		case <-time.After(cfg.ShutdownDelay):
		case err := <-errc:
			return err
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newLogger logs JSON unless a person is watching a terminal.
func newLogger(cfg config.Config, stdout io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := stdout.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(stdout, opts))
	}
	return slog.New(slog.NewJSONHandler(stdout, opts))
}

// tuneGC raises the garbage collector's target unless the operator set
// GOGC: the live heap of a Taskmind server is small, so at Go's default of
// 100 the collector runs very often under load, and GraphQL's many short-lived
// allocations make that a large share of the CPU. 400 trades a few tens of
// megabytes for a measurably cheaper request (see make bench).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
