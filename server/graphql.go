package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// serveGraphQL hands the request to gqlgen. POST must be application/json
// (or multipart, for uploads): gqlgen's transports refuse anything else,
// which keeps simple cross-site form posts out.
func (s *Server) serveGraphQL(c echo.Context) error {
	req := c.Request()
	upgrade := req.Header.Get(echo.HeaderUpgrade) != ""
	if !upgrade && auth.FromContext(req.Context()).Role == auth.RoleAnonymous && req.Method != http.MethodOptions {
		// Websockets authenticate in connection_init instead.
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="taskmind"`)
		return c.JSON(http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{
			"message":    "sign in or send an API token (Authorization: Bearer <token>)",
			"extensions": map[string]any{"code": string(apperr.Unauthenticated)},
		}}})
	}
	if upgrade {
		// http.Server.Shutdown does not track hijacked connections: tie each
		// websocket to the server's own lifetime so Shutdown can close them.
		s.websockets.Add(1)
		defer s.websockets.Done()
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		stop := context.AfterFunc(s.closing, cancel)
		defer stop()
		req = req.WithContext(ctx)
	}
	s.graphql.ServeHTTP(c.Response(), req)
	return nil
}

func (s *Server) observeOperation(ctx context.Context, name, opType, code string, d time.Duration) {
	setOperationName(ctx, name)
	s.deps.Metrics.ObserveGraphQL(name, opType, code, d)
}
