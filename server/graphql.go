package server

import (
	"context"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/graph"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// serveGraphQL hands the request to gqlgen. POST must be application/json
// (or multipart, for uploads): gqlgen's transports refuse anything else,
// which keeps simple cross-site form posts out.
func (s *Server) serveGraphQL(c echo.Context) error {
	req := c.Request()
	if req.Header.Get(echo.HeaderUpgrade) != "" {
		// Websockets authenticate in connection_init instead.
		s.serveWebsocket(c.Response(), req)
		return nil
	}
	if auth.FromContext(req.Context()).Role == auth.RoleAnonymous && req.Method != http.MethodOptions {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="taskmind"`)
		return c.JSON(http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{
			"message":    "sign in or send an API token (Authorization: Bearer <token>)",
			"extensions": map[string]any{"code": string(apperr.Unauthenticated)},
		}}})
	}
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt == "multipart/form-data" && req.Method == http.MethodPost {
		// A browser may send a multipart POST cross-site without asking
		// first; a custom header forces a CORS preflight, which fails for
		// other origins. (application/json POSTs already force one.)
		if req.Header.Get("GraphQL-Preflight") == "" && req.Header.Get("Apollo-Require-Preflight") == "" && req.Header.Get("X-Requested-With") == "" {
			return &httpError{status: http.StatusBadRequest, body: restErrorBody{Code: string(apperr.BadUserInput),
				Message: "multipart requests need a GraphQL-Preflight: 1 header"}}
		}
		if err := s.boundMultipart(req); err != nil {
			return err
		}
	} else if err := checkGraphQLHygiene(req); err != nil {
		return err
	}
	outcome := &graph.Outcome{}
	req = req.WithContext(graph.WithOutcome(req.Context(), outcome))
	s.graphql.ServeHTTP(&outcomeWriter{ResponseWriter: c.Response(), outcome: outcome}, req)
	return nil
}

// serveWebsocket ties each websocket to the server's own lifetime:
// http.Server.Shutdown does not track hijacked connections, so Shutdown
// closes them through s.closing.
func (s *Server) serveWebsocket(w http.ResponseWriter, req *http.Request) {
	s.websockets.Add(1)
	defer s.websockets.Done()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	s.graphql.ServeHTTP(w, req.WithContext(ctx))
}

// outcomeWriter turns the 200 of a GraphQL response that failed as a whole
// for want of the database into 503 with Retry-After (see graph.Outcome).
type outcomeWriter struct {
	http.ResponseWriter
	outcome *graph.Outcome
	wrote   bool
}

func (w *outcomeWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code == http.StatusOK && w.outcome.Unavailable() {
			w.Header().Set("Retry-After", retryAfterSeconds)
			code = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *outcomeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *outcomeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) observeOperation(ctx context.Context, name, opType, code string, d time.Duration) {
	setOperationName(ctx, name)
	s.deps.Metrics.ObserveGraphQL(name, opType, code, d)
}
