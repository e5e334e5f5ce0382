package server

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
)

// serveGraphQL hands the request to gqlgen. POST must be application/json
// (or multipart, for uploads): gqlgen's transports refuse anything else,
// which keeps simple cross-site form posts out.
func (s *Server) serveGraphQL(c echo.Context) error {
	req := c.Request()
	if req.Header.Get(echo.HeaderUpgrade) != "" {
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
