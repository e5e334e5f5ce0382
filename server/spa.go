package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// serverPrefixes are paths the SPA never answers, so a typo in an API path
// is a JSON 404 instead of an HTML page.
var serverPrefixes = []string{"/graphql", "/auth/", "/tasks", "/v2/", "/metrics", "/healthz", "/readyz"}

// spa serves the embedded React app: real files first, index.html for
// client routes. Hashed assets are cached forever; index.html never.
func (s *Server) spa(c echo.Context) error {
	p := c.Request().URL.Path
	for _, prefix := range serverPrefixes {
		if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
			return s.notFound(c)
		}
	}
	if s.deps.Frontend == nil {
		return c.HTML(http.StatusOK, notBuiltPage)
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(s.deps.Frontend, name); err == nil && !st.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				c.Response().Header().Set("Cache-Control", "public, max-age=3600")
			}
			http.ServeFileFS(c.Response(), c.Request(), s.deps.Frontend, name)
			return nil
		}
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			// A missing asset must not turn into an HTML page with status 200.
			return s.notFound(c)
		}
	}
	index, err := fs.ReadFile(s.deps.Frontend, "index.html")
	if err != nil {
		return errors.New("embedded index.html unreadable")
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, index)
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Taskmind</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Welcome to Taskmind</h1>
<p>Tasks and deep-learning inference in one Go binary. The API is at <code>/graphql</code> (GraphQL) and <code>/tasks</code> (REST).</p>
<p>The web app was not built into this binary: run <code>make run</code> to build it.</p>
</main></body></html>`
