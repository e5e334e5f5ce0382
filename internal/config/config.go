// Package config reads Taskmind's settings from the environment once, at
// start-up, and validates them so that a mistake stops the process with a
// message naming the variable instead of surfacing later as odd behaviour.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Taskmind reads. Fields are filled by Load and not
// changed afterwards.
type Config struct {
	// ListenHost and Port form the HTTP listen address (TASKMIND_LISTEN_ADDR, PORT).
	ListenHost string
	Port       int
	// MetricsAddr, when set, serves /metrics on its own listener instead of
	// the main one (TASKMIND_METRICS_ADDR).
	MetricsAddr string

	// DatabaseURL is a postgres:// URL; empty selects the embedded SQLite
	// file under DataDir.
	DatabaseURL string
	DataDir     string
	// DBMaxConns bounds the pool; idle connections are kept up to the same
	// number, since reconnecting to PostgreSQL forks a backend each time.
	DBMaxConns         int
	DBStatementTimeout time.Duration

	// GraphQL limits.
	Introspection   bool
	ComplexityLimit int
	MaxDepth        int
	MaxBodyBytes    int64

	LogFormat       string // "json", "text" or "" (decide by terminal)
	LogLevel        string
	ShutdownTimeout time.Duration
}

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests) and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		ListenHost:         "127.0.0.1",
		Port:               8080,
		DataDir:            "data",
		DBMaxConns:         20,
		DBStatementTimeout: 10 * time.Second,
		Introspection:      true,
		ComplexityLimit:    2000,
		MaxDepth:           12,
		MaxBodyBytes:       1 << 20,
		ShutdownTimeout:    20 * time.Second,
	}
	p := parser{getenv: getenv}
	p.str("TASKMIND_LISTEN_ADDR", &c.ListenHost)
	p.integer("PORT", &c.Port)
	p.str("TASKMIND_METRICS_ADDR", &c.MetricsAddr)
	p.str("DATABASE_URL", &c.DatabaseURL)
	p.str("TASKMIND_DATA_DIR", &c.DataDir)
	p.integer("TASKMIND_DB_MAX_CONNS", &c.DBMaxConns)
	p.duration("TASKMIND_DB_STATEMENT_TIMEOUT", &c.DBStatementTimeout)
	p.boolean("TASKMIND_GRAPHQL_INTROSPECTION", &c.Introspection)
	p.integer("TASKMIND_GRAPHQL_COMPLEXITY_LIMIT", &c.ComplexityLimit)
	p.integer("TASKMIND_GRAPHQL_MAX_DEPTH", &c.MaxDepth)
	p.int64("TASKMIND_MAX_BODY_BYTES", &c.MaxBodyBytes)
	p.str("TASKMIND_LOG_FORMAT", &c.LogFormat)
	p.str("TASKMIND_LOG_LEVEL", &c.LogLevel)
	p.duration("TASKMIND_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate checks the settings against each other and their allowed ranges.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be between 1 and 65535, got %d", c.Port))
	}
	if c.ListenHost != "" && net.ParseIP(c.ListenHost) == nil && c.ListenHost != "localhost" {
		errs = append(errs, fmt.Errorf("TASKMIND_LISTEN_ADDR must be an IP address or localhost, got %q", c.ListenHost))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("TASKMIND_METRICS_ADDR must be host:port, got %q", c.MetricsAddr))
		}
	}
	if c.DatabaseURL != "" {
		if err := checkDatabaseURL(c.DatabaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("TASKMIND_DATA_DIR must not be empty"))
	}
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		errs = append(errs, fmt.Errorf("TASKMIND_DB_MAX_CONNS must be between 1 and 1000, got %d", c.DBMaxConns))
	}
	if c.DBStatementTimeout < 0 {
		errs = append(errs, errors.New("TASKMIND_DB_STATEMENT_TIMEOUT must not be negative"))
	}
	if c.ComplexityLimit < 10 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_COMPLEXITY_LIMIT must be at least 10, got %d", c.ComplexityLimit))
	}
	if c.MaxDepth < 3 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_MAX_DEPTH must be at least 3, got %d", c.MaxDepth))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("TASKMIND_MAX_BODY_BYTES must be at least 1024, got %d", c.MaxBodyBytes))
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		errs = append(errs, fmt.Errorf("TASKMIND_LOG_FORMAT must be json or text, got %q", c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("TASKMIND_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("TASKMIND_SHUTDOWN_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// ListenAddr is the main HTTP listener's address.
func (c Config) ListenAddr() string {
	return net.JoinHostPort(c.ListenHost, strconv.Itoa(c.Port))
}

// SQLitePath is where the embedded database lives when DATABASE_URL is unset.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "taskmind.db") }

// checkDatabaseURL refuses anything but a parseable postgres URL, so a typo
// never silently falls back to the embedded database.
func checkDatabaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the input, which may hold a password.
		return errors.New("DATABASE_URL is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("DATABASE_URL must start with postgres:// or postgresql://, got scheme %q (leave it unset for the embedded SQLite database)", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("DATABASE_URL has no host")
	}
	return nil
}

// RedactURL hides the password in a database URL for logs and messages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) str(key string, dst *string) {
	if v := p.getenv(key); v != "" {
		*dst = strings.TrimSpace(v)
	}
}

func (p *parser) integer(key string, dst *int) {
	if v := p.getenv(key); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s must be an integer, got %q", key, v))
			return
		}
		*dst = n
	}
}

func (p *parser) int64(key string, dst *int64) {
	if v := p.getenv(key); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s must be an integer, got %q", key, v))
			return
		}
		*dst = n
	}
}

func (p *parser) boolean(key string, dst *bool) {
	if v := p.getenv(key); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s must be true or false, got %q", key, v))
			return
		}
		*dst = b
	}
}

func (p *parser) duration(key string, dst *time.Duration) {
	if v := p.getenv(key); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s must be a duration such as 10s or 1m, got %q", key, v))
			return
		}
		*dst = d
	}
}
