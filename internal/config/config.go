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

	"github.com/taskmind/taskmind/internal/inference/kernels"
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
	// DBPoolWait bounds how long a request waits for a pool connection
	// before it is answered UNAVAILABLE (TASKMIND_DB_POOL_WAIT).
	DBPoolWait time.Duration
	// RequestTimeout is every HTTP request's overall deadline, websockets
	// excepted (TASKMIND_REQUEST_TIMEOUT).
	RequestTimeout time.Duration

	// GraphQL limits.
	Introspection   bool
	ComplexityLimit int
	MaxDepth        int
	MaxBodyBytes    int64
	MaxRootFields   int
	MaxCostlyFields int

	// Identity.
	SecretKey      string // TASKMIND_SECRET_KEY; generated into DataDir when empty
	BaseURL        string // public URL, for OAuth callbacks and sign-in links
	SecureCookies  bool
	DefaultRole    string
	AdminEmails    []string
	AnonymousRole  string
	AllowedOrigins []string
	// TrustProxyHeaders takes client IPs from X-Forwarded-For; only safe
	// behind a proxy that sets it (an ingress, a load balancer).
	TrustProxyHeaders bool
	SessionIdle       time.Duration
	// CredentialCacheTTL bounds how long a credential is trusted without
	// the database; 0 turns the cache off.
	CredentialCacheTTL time.Duration
	SessionMaxAge      time.Duration
	GitHubKey          string
	GitHubSecret       string
	GoogleKey          string
	GoogleSecret       string
	OIDCIssuer         string
	OIDCClientID       string
	OIDCSecret         string
	OIDCName           string

	// Inference.
	MaxModelBytes      int64
	InferencePoolSize  int
	InferenceQueueSize int
	InferenceTimeout   time.Duration
	InferenceMaxBatch  int
	// InferenceKernels forces the compiled backend's kernel set; "" or
	// "auto" picks the best the CPU has.
	InferenceKernels string

	LogFormat       string // "json", "text" or "" (decide by terminal)
	LogLevel        string
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long the server keeps serving, with /readyz
	// answering 503, between SIGTERM and closing its listeners, so that
	// load balancers polling /readyz stop sending traffic first
	// (TASKMIND_SHUTDOWN_DELAY).
	ShutdownDelay time.Duration
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
		DBPoolWait:         5 * time.Second,
		RequestTimeout:     30 * time.Second,
		Introspection:      true,
		ComplexityLimit:    2000,
		MaxDepth:           15,
		MaxRootFields:      50,
		MaxCostlyFields:    4,
		MaxBodyBytes:       1 << 20,
		ShutdownTimeout:    20 * time.Second,
		DefaultRole:        "MEMBER",
		SessionIdle:        7 * 24 * time.Hour,
		CredentialCacheTTL: time.Second,
		SessionMaxAge:      30 * 24 * time.Hour,
		OIDCName:           "OpenID Connect",
		MaxModelBytes:      64 << 20,
		InferenceQueueSize: 64,
		InferenceMaxBatch:  64,
		InferenceTimeout:   2 * time.Second,
	}
	p := parser{getenv: getenv}
	p.str("TASKMIND_LISTEN_ADDR", &c.ListenHost)
	p.integer("PORT", &c.Port)
	p.str("TASKMIND_METRICS_ADDR", &c.MetricsAddr)
	p.str("DATABASE_URL", &c.DatabaseURL)
	p.str("TASKMIND_DATA_DIR", &c.DataDir)
	p.integer("TASKMIND_DB_MAX_CONNS", &c.DBMaxConns)
	p.duration("TASKMIND_DB_STATEMENT_TIMEOUT", &c.DBStatementTimeout)
	p.duration("TASKMIND_DB_POOL_WAIT", &c.DBPoolWait)
	p.duration("TASKMIND_REQUEST_TIMEOUT", &c.RequestTimeout)
	p.boolean("TASKMIND_GRAPHQL_INTROSPECTION", &c.Introspection)
	p.integer("TASKMIND_GRAPHQL_COMPLEXITY_LIMIT", &c.ComplexityLimit)
	p.integer("TASKMIND_GRAPHQL_MAX_DEPTH", &c.MaxDepth)
	p.integer("TASKMIND_GRAPHQL_MAX_ROOT_FIELDS", &c.MaxRootFields)
	p.integer("TASKMIND_GRAPHQL_MAX_COSTLY_FIELDS", &c.MaxCostlyFields)
	p.int64("TASKMIND_MAX_BODY_BYTES", &c.MaxBodyBytes)
	p.str("TASKMIND_SECRET_KEY", &c.SecretKey)
	p.str("TASKMIND_BASE_URL", &c.BaseURL)
	p.boolean("TASKMIND_SECURE_COOKIES", &c.SecureCookies)
	p.str("TASKMIND_DEFAULT_ROLE", &c.DefaultRole)
	p.list("TASKMIND_ADMIN_EMAILS", &c.AdminEmails, true)
	p.str("TASKMIND_ANONYMOUS_ROLE", &c.AnonymousRole)
	p.list("TASKMIND_ALLOWED_ORIGINS", &c.AllowedOrigins, false)
	p.boolean("TASKMIND_TRUST_PROXY_HEADERS", &c.TrustProxyHeaders)
	p.duration("TASKMIND_SESSION_IDLE", &c.SessionIdle)
	p.duration("TASKMIND_SESSION_MAX_AGE", &c.SessionMaxAge)
	p.duration("TASKMIND_CREDENTIAL_CACHE_TTL", &c.CredentialCacheTTL)
	p.str("TASKMIND_GITHUB_KEY", &c.GitHubKey)
	p.str("TASKMIND_GITHUB_SECRET", &c.GitHubSecret)
	p.str("TASKMIND_GOOGLE_KEY", &c.GoogleKey)
	p.str("TASKMIND_GOOGLE_SECRET", &c.GoogleSecret)
	p.str("TASKMIND_OIDC_ISSUER", &c.OIDCIssuer)
	p.str("TASKMIND_OIDC_CLIENT_ID", &c.OIDCClientID)
	p.str("TASKMIND_OIDC_CLIENT_SECRET", &c.OIDCSecret)
	p.str("TASKMIND_OIDC_NAME", &c.OIDCName)
	p.int64("TASKMIND_MAX_MODEL_BYTES", &c.MaxModelBytes)
	p.integer("TASKMIND_INFERENCE_POOL_SIZE", &c.InferencePoolSize)
	p.integer("TASKMIND_INFERENCE_QUEUE_SIZE", &c.InferenceQueueSize)
	p.duration("TASKMIND_INFERENCE_TIMEOUT", &c.InferenceTimeout)
	p.integer("TASKMIND_INFERENCE_MAX_BATCH", &c.InferenceMaxBatch)
	p.str(kernels.EnvVar, &c.InferenceKernels)
	p.str("TASKMIND_LOG_FORMAT", &c.LogFormat)
	p.str("TASKMIND_LOG_LEVEL", &c.LogLevel)
	p.duration("TASKMIND_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	p.duration("TASKMIND_SHUTDOWN_DELAY", &c.ShutdownDelay)
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
	if c.DBPoolWait <= 0 {
		errs = append(errs, errors.New("TASKMIND_DB_POOL_WAIT must be positive"))
	}
	if c.RequestTimeout < time.Second {
		errs = append(errs, fmt.Errorf("TASKMIND_REQUEST_TIMEOUT must be at least 1s, got %s", c.RequestTimeout))
	}
	if c.ComplexityLimit < 10 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_COMPLEXITY_LIMIT must be at least 10, got %d", c.ComplexityLimit))
	}
	if c.MaxDepth < 3 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_MAX_DEPTH must be at least 3, got %d", c.MaxDepth))
	}
	if c.MaxRootFields < 1 || c.MaxRootFields > 1000 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_MAX_ROOT_FIELDS must be between 1 and 1000, got %d", c.MaxRootFields))
	}
	if c.MaxCostlyFields < 1 || c.MaxCostlyFields > 100 {
		errs = append(errs, fmt.Errorf("TASKMIND_GRAPHQL_MAX_COSTLY_FIELDS must be between 1 and 100, got %d", c.MaxCostlyFields))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("TASKMIND_MAX_BODY_BYTES must be at least 1024, got %d", c.MaxBodyBytes))
	}
	errs = append(errs, c.validateIdentity()...)
	if c.MaxModelBytes < 1024 || c.MaxModelBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("TASKMIND_MAX_MODEL_BYTES must be between 1024 and 1073741824, got %d", c.MaxModelBytes))
	}
	if c.InferencePoolSize < 0 || c.InferencePoolSize > 256 {
		errs = append(errs, fmt.Errorf("TASKMIND_INFERENCE_POOL_SIZE must be between 1 and 256 (0 = one per CPU), got %d", c.InferencePoolSize))
	}
	if c.InferenceQueueSize < 1 || c.InferenceQueueSize > 100000 {
		errs = append(errs, fmt.Errorf("TASKMIND_INFERENCE_QUEUE_SIZE must be between 1 and 100000, got %d", c.InferenceQueueSize))
	}
	if c.InferenceTimeout <= 0 {
		errs = append(errs, errors.New("TASKMIND_INFERENCE_TIMEOUT must be positive"))
	}
	if c.InferenceMaxBatch < 1 || c.InferenceMaxBatch > 4096 {
		errs = append(errs, fmt.Errorf("TASKMIND_INFERENCE_MAX_BATCH must be between 1 and 4096, got %d", c.InferenceMaxBatch))
	}
	if c.InferenceKernels == "auto" {
		c.InferenceKernels = ""
	}
	if c.InferenceKernels != "" {
		if _, err := kernels.Lookup(c.InferenceKernels); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kernels.EnvVar, err))
		}
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
	if c.ShutdownDelay < 0 {
		errs = append(errs, errors.New("TASKMIND_SHUTDOWN_DELAY must not be negative"))
	}
	return errors.Join(errs...)
}

// MinSecretKeyLen is the shortest TASKMIND_SECRET_KEY accepted.
const MinSecretKeyLen = 32

func (c Config) validateIdentity() []error {
	var errs []error
	if c.SecretKey != "" && len(c.SecretKey) < MinSecretKeyLen {
		errs = append(errs, fmt.Errorf("TASKMIND_SECRET_KEY must be at least %d characters (try: openssl rand -hex 32)", MinSecretKeyLen))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("TASKMIND_BASE_URL must be an http(s) origin such as https://taskmind.example.com, got %q", c.BaseURL))
		}
	}
	switch c.DefaultRole {
	case "MEMBER", "VIEWER":
	default:
		errs = append(errs, fmt.Errorf("TASKMIND_DEFAULT_ROLE must be MEMBER or VIEWER, got %q", c.DefaultRole))
	}
	switch c.AnonymousRole {
	case "", "VIEWER":
	default:
		errs = append(errs, fmt.Errorf("TASKMIND_ANONYMOUS_ROLE may only be VIEWER (read-only demos), got %q", c.AnonymousRole))
	}
	for _, o := range c.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("TASKMIND_ALLOWED_ORIGINS entries must be origins such as https://app.example.com, got %q", o))
		}
	}
	if c.CredentialCacheTTL < 0 || c.CredentialCacheTTL > time.Minute {
		errs = append(errs, fmt.Errorf("TASKMIND_CREDENTIAL_CACHE_TTL must be between 0s (no cache) and 1m, got %v", c.CredentialCacheTTL))
	}
	if c.SessionIdle <= 0 || c.SessionMaxAge <= 0 || c.SessionIdle > c.SessionMaxAge {
		errs = append(errs, errors.New("TASKMIND_SESSION_IDLE and TASKMIND_SESSION_MAX_AGE must be positive, idle no longer than max age"))
	}
	pairs := []struct{ key, secret, keyVar, secretVar string }{
		{c.GitHubKey, c.GitHubSecret, "TASKMIND_GITHUB_KEY", "TASKMIND_GITHUB_SECRET"},
		{c.GoogleKey, c.GoogleSecret, "TASKMIND_GOOGLE_KEY", "TASKMIND_GOOGLE_SECRET"},
		{c.OIDCClientID, c.OIDCSecret, "TASKMIND_OIDC_CLIENT_ID", "TASKMIND_OIDC_CLIENT_SECRET"},
	}
	for _, p := range pairs {
		if p.key != "" && p.secret == "" {
			errs = append(errs, fmt.Errorf("%s is required when %s is set", p.secretVar, p.keyVar))
		}
		if p.key == "" && p.secret != "" {
			errs = append(errs, fmt.Errorf("%s is required when %s is set", p.keyVar, p.secretVar))
		}
	}
	if (c.OIDCIssuer == "") != (c.OIDCClientID == "") {
		errs = append(errs, errors.New("TASKMIND_OIDC_ISSUER and TASKMIND_OIDC_CLIENT_ID must be set together"))
	}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("TASKMIND_OIDC_ISSUER must be the issuer URL, got %q", c.OIDCIssuer))
		}
	}
	return errs
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

func (p *parser) list(key string, dst *[]string, lower bool) {
	v := p.getenv(key)
	if v == "" {
		return
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if lower {
			item = strings.ToLower(item)
		}
		if item != "" {
			*dst = append(*dst, item)
		}
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
