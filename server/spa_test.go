package server_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/taskmind/taskmind/internal/dbtest"
)

func TestSPA(t *testing.T) {
	app := fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><title>Taskmind</title><div id="root"></div>`)},
		"assets/index-abc1.js": {Data: []byte(`console.log("app")`)},
		"favicon.svg":          {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	}
	in := startWith(t, dbtest.SQLite(t), app)
	get := func(path string) *http.Response {
		resp, err := http.Get(in.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		path, contentType, cache string
		status                   int
	}{
		{"/", "text/html", "no-cache", 200},
		{"/board", "text/html", "no-cache", 200},
		{"/settings/tokens", "text/html", "no-cache", 200},
		{"/assets/index-abc1.js", "javascript", "immutable", 200},
		{"/favicon.svg", "image/svg+xml", "max-age=3600", 200},
		{"/assets/missing.js", "application/json", "", 404},
		{"/graphql/x", "application/json", "", 404},
		{"/tasks/x", "application/json", "", 404},
		{"/auth/x/y/z", "application/json", "", 404},
		{"/v2/x", "application/json", "", 404},
		{"/metrics/x", "application/json", "", 404},
		{"/healthz/x", "application/json", "", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := get(tc.path)
			if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("Content-Type"), tc.contentType) ||
				!strings.Contains(resp.Header.Get("Cache-Control"), tc.cache) {
				t.Fatalf("got %d %q %q, want %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"),
					resp.Header.Get("Cache-Control"), tc.status, tc.contentType, tc.cache)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Fatalf("Content-Security-Policy: got %q", csp)
			}
		})
	}
}

func TestWelcomeWithoutFrontend(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	status, body := in.rest(http.MethodGet, "/", "", "")
	if status != 200 || !strings.Contains(string(body), "Welcome") || !strings.Contains(string(body), "make run") {
		t.Fatalf("got %d %s, want the welcome page explaining the frontend is not built", status, body)
	}
}
