package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is alive; it checks nothing else so that a slow
// database never gets a healthy process restarted.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this replica should get traffic: not while draining,
// and only when the database answers quickly and every extra check passes.
func (s *Server) readyz(c echo.Context) error {
	if s.draining.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.DB.Ping(ctx); err != nil {
		s.deps.Metrics.SetReady(false)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	for _, check := range s.deps.ReadyChecks {
		if err := check(ctx); err != nil {
			s.deps.Metrics.SetReady(false)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": err.Error()})
		}
	}
	s.deps.Metrics.SetReady(true)
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
