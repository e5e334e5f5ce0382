package opstest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/dbtest"
)

// TestLogsHoldNoSecrets runs a server on PostgreSQL with a password in
// DATABASE_URL and debug logging, goes through every step that handles a
// credential (sign-in with a one-time link, creating an API token with the
// session, using it, a bad token, a used link, sign-out), stops the server,
// and searches everything it wrote to stdout and stderr for each secret,
// raw and URL-encoded. It proves the logs never hold the DSN password, the
// session cookie, an API token (good or bad), a sign-in link token or
// TASKMIND_SECRET_KEY.
//
// The server prints its own first-run sign-in link to the console by
// design (no provider is configured); the link used here comes from
// `taskmind login-link`, a separate process, so it may appear nowhere.
func TestLogsHoldNoSecrets(t *testing.T) {
	requireBinary(t)
	admin := os.Getenv(dbtest.EnvURL)
	if admin == "" {
		dbtest.Postgres(t) // skips, or fails under CI
	}
	exec := func(q string) error {
		db, err := sql.Open("postgres", admin)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(q)
		return err
	}
	// A role of its own with a password; the test cluster trusts local
	// connections, so any password is accepted, but it is in the URL all
	// the same. Utility statements take no parameters: role and password
	// are hex made here, so plain quoting is safe.
	role, password := "tm_redact_"+randomHex(t, 6), "pw-"+randomHex(t, 16)
	if err := exec("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'"); err != nil {
		t.Fatalf("creating a role with a password: %v", err)
	}
	// Registered before dbtest's own cleanup, so it runs after the
	// database owned by the role is dropped.
	t.Cleanup(func() { _ = exec("DROP ROLE IF EXISTS " + role) })
	cfg := dbtest.Postgres(t)
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := exec("ALTER DATABASE " + strings.TrimPrefix(u.Path, "/") + " OWNER TO " + role); err != nil {
		t.Fatalf("handing the database to %s: %v", role, err)
	}
	u.User = url.UserPassword(role, password)
	testRedaction(t, u.String(), password)
}

func testRedaction(t *testing.T, dsn, dbPassword string) {
	secretKey := randomHex(t, 32)
	srv := startServer(t, map[string]string{
		"DATABASE_URL":        dsn,
		"TASKMIND_SECRET_KEY": secretKey,
		"TASKMIND_LOG_LEVEL":  "debug",
	})
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	link := runCLI(t, srv.env, "login-link", "--email", firstRunEmail)
	m := loginLinkToken.FindStringSubmatch(link.stdout)
	if link.code != 0 || m == nil {
		t.Fatalf("taskmind login-link: got exit %d, stdout %q, stderr %q; want a sign-in link", link.code, link.stdout, link.stderr)
	}
	linkToken, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}

	// Sign in with the link: a session cookie and a redirect.
	resp, err := client.Get(srv.URL + "/auth/link?token=" + url.QueryEscape(linkToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == "taskmind_session" {
			session = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("GET /auth/link: got %d with session cookie %q, want 303 and a session", resp.StatusCode, session)
	}
	cookie := http.Header{"Cookie": {"taskmind_session=" + session}, "Origin": {srv.URL}}

	// Create an API token with the session, as the app's token page does.
	status, r, err := graphql(client, srv.URL, cookie, `mutation OpsToken { createAPIToken(input: {name: "redaction"}) { token } }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		CreateAPIToken struct{ Token string }
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || status != http.StatusOK || created.CreateAPIToken.Token == "" {
		t.Fatalf("createAPIToken: got %d %s %+v, want 200 and a token", status, r.Data, r.Errors)
	}
	apiToken := created.CreateAPIToken.Token
	badToken := "tm_" + randomHex(t, 20)

	for _, step := range []struct {
		name         string
		method, path string
		header       http.Header
		want         int
	}{
		{"use the API token (REST)", http.MethodGet, "/tasks", bearer(apiToken), http.StatusOK},
		{"use the API token (GraphQL GET)", http.MethodGet, "/graphql?query=" + url.QueryEscape("query OpsViewer { viewer { email } }"), bearer(apiToken), http.StatusOK},
		{"bad API token", http.MethodGet, "/tasks", bearer(badToken), http.StatusUnauthorized},
		{"used sign-in link", http.MethodGet, "/auth/link?token=" + url.QueryEscape(linkToken), nil, http.StatusUnauthorized},
		{"sign out", http.MethodPost, "/auth/logout", cookie, http.StatusNoContent},
		{"stale session", http.MethodGet, "/tasks", cookie, http.StatusUnauthorized},
	} {
		status, body, err := request(client, step.method, srv.URL+step.path, step.header, "")
		if err != nil || status != step.want {
			t.Fatalf("%s: got %d %q (%v), want %d", step.name, status, body, err, step.want)
		}
	}

	srv.stop(15 * time.Second)
	logs := srv.out.String()
	// The checks below are only worth something if the requests were
	// logged at all, and the DSN was logged redacted.
	for _, want := range []string{`"path":"/auth/link"`, `"path":"/auth/logout"`, `"status":401`, ":xxxxx@"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("got logs without %s, want access-log lines and the redacted DATABASE_URL:\n%s", want, tail(logs, 4000))
		}
	}
	for _, s := range []struct{ name, value string }{
		{"DATABASE_URL password", dbPassword},
		{"TASKMIND_SECRET_KEY", secretKey},
		{"session cookie", session},
		{"API token", apiToken},
		{"bad API token", badToken},
		{"sign-in link token", linkToken},
	} {
		for _, form := range []string{s.value, url.QueryEscape(s.value)} {
			if i := strings.Index(logs, form); i >= 0 {
				t.Errorf("got the %s in the server's output, want it nowhere:\n…%s…", s.name, logs[max(0, i-200):min(len(logs), i+len(form)+50)])
				break
			}
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
