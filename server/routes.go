package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the one table of every route Taskmind serves.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.requestID, s.recoverPanics, s.observe, s.securityHeaders, s.deadline, s.limitBody)
	if origins := s.deps.Config.AllowedOrigins; len(origins) > 0 {
		// CORS only for the listed origins (never a reflected one), so a
		// separate front end may call the API with credentials.
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     origins,
			AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodOptions},
			AllowHeaders:     []string{echo.HeaderContentType, echo.HeaderAuthorization, "GraphQL-Preflight", echo.HeaderXRequestID},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
	e.Use(s.authenticate)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.deps.Config.MetricsAddr == "" {
		e.GET("/metrics", echo.WrapHandler(s.deps.Metrics.Handler()))
	}

	e.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, "/graphql", s.serveGraphQL, s.idempotent)

	e.GET("/tasks", s.listTasks, s.requireViewer)
	e.POST("/tasks", s.createTask, s.requireViewer, s.idempotent)

	e.GET("/v2/health/live", s.v2Live)
	e.GET("/v2/health/ready", s.v2Ready)
	e.GET("/v2", s.v2Server, s.requireViewer)
	for _, base := range []string{"/v2/models/:name", "/v2/models/:name/versions/:version"} {
		e.GET(base, s.v2ModelMeta, s.requireViewer)
		e.GET(base+"/ready", s.v2ModelReady, s.requireViewer)
		e.POST(base+"/infer", s.v2Infer, s.requireViewer)
	}

	login := s.loginLimiter()
	e.GET("/auth/providers", s.authProviders)
	e.GET("/auth/link", s.authLink, login)
	e.POST("/auth/logout", s.authLogout)
	e.GET("/auth/:provider", s.authBegin, login)
	e.GET("/auth/:provider/callback", s.authCallback, login)

	e.GET("/", s.spa)
	e.GET("/*", s.spa)
	e.RouteNotFound("/*", s.notFound)
}
