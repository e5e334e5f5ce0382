package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/internal/requestid"
)

// requestID accepts a well-formed X-Request-ID from a proxy, or makes one,
// and echoes it so a client can quote it in a bug report.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestid.Valid(id) {
			id = requestid.New()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(requestid.NewContext(c.Request().Context(), id)))
		return next(c)
	}
}

// recoverPanics turns a handler panic into a 500 with no detail; the stack
// goes to the log.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.deps.Log.ErrorContext(c.Request().Context(), "handler panicked",
					"request_id", requestid.From(c.Request().Context()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = errInternal
			}
		}()
		return next(c)
	}
}

// opInfo is filled in by the GraphQL layer so that the access log line
// can name the operation.
type opInfo struct {
	mu   sync.Mutex
	name string
}

type opInfoKey struct{}

// observe writes one access-log line per request and records metrics
// labelled by the route template, never the raw path.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		info := &opInfo{}
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), opInfoKey{}, info)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		d := time.Since(start)
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		if req.Header.Get(echo.HeaderUpgrade) == "" {
			// A websocket's "duration" is its whole life: keep it out of
			// the latency histogram (subscriptions have their own gauge).
			s.deps.Metrics.ObserveHTTP(req.Method, route, status, d)
		}

		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		ctx := c.Request().Context()
		if !s.deps.Log.Enabled(ctx, level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestid.From(ctx)),
			slog.String("method", req.Method),
			// The path only: query strings may carry one-time tokens.
			slog.String("path", req.URL.Path),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", c.Response().Size),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("remote_ip", c.RealIP()),
		}
		info.mu.Lock()
		if info.name != "" {
			attrs = append(attrs, slog.String("graphql_operation", info.name))
		}
		info.mu.Unlock()
		s.deps.Log.LogAttrs(ctx, level, "request", attrs...)
		return nil
	}
}

func setOperationName(ctx context.Context, name string) {
	if info, ok := ctx.Value(opInfoKey{}).(*opInfo); ok {
		info.mu.Lock()
		info.name = name
		info.mu.Unlock()
	}
}

// contentSecurityPolicy is satisfied by the SPA (no inline scripts, no
// third-party origins); GraphiQL runs as a bundled chunk under the same rules.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if carriesUserData(c.Request().URL.Path) {
			// A shared cache or the browser's back button must not keep
			// one user's tasks, tokens or session answers.
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// deadline gives every request an overall deadline
// (TASKMIND_REQUEST_TIMEOUT), so that no request holds a goroutine, a pool
// slot or a transaction for longer, whatever it waits on. Websockets live as
// long as their connection and are excepted.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Header.Get(echo.HeaderUpgrade) != "" {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(req.Context(), s.deps.Config.RequestTimeout)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// carriesUserData reports whether a path answers with user data (the API
// and sign-in routes), as opposed to the SPA's static files.
func carriesUserData(path string) bool {
	for _, p := range []string{"/graphql", "/tasks", "/v2", "/auth/", "/metrics"} {
		if path == p || strings.HasPrefix(path, p+"/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

// limitBody refuses bodies over the limit before reading them when the
// length is declared, and cuts them off at the limit when it is not.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		limit := s.deps.Config.MaxBodyBytes
		if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			limit = s.uploadLimit()
		}
		if req.ContentLength > limit {
			return errTooLarge(limit)
		}
		if req.Body != nil {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		return next(c)
	}
}

// uploadLimit is the cap for multipart requests: a model file plus room
// for the operation and the multipart framing.
func (s *Server) uploadLimit() int64 { return s.deps.Config.MaxModelBytes + 1<<20 }
