package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/identity"
)

// browser is an HTTP client with a cookie jar that stops at redirects to
// our own server's non-auth pages, like a person's browser would land there.
type browser struct {
	t      *testing.T
	client *http.Client
	base   string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.base + path
	}
	resp, err := b.client.Get(target)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, sb.String()
}

// viewer asks /graphql who the browser is signed in as ("" for nobody).
func (b *browser) viewer() string {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/graphql", strings.NewReader(`{"query":"{ viewer { email role } }"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("viewer: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Viewer *struct{ Email, Role string }
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if out.Data.Viewer == nil {
		return ""
	}
	return out.Data.Viewer.Email + "/" + out.Data.Viewer.Role
}

func startWithOIDC(t *testing.T) (*instance, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("mock OIDC provider: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := dbtest.SQLite(t)
	cfg.OIDCIssuer = m.Issuer()
	cfg.OIDCClientID = m.Config().ClientID
	cfg.OIDCSecret = m.Config().ClientSecret
	cfg.OIDCName = "Test IdP"
	cfg.AdminEmails = []string{"boss@example.com"}
	return start(t, cfg), m
}

func TestOIDCLogin(t *testing.T) {
	in, m := startWithOIDC(t)

	b := newBrowser(t, in.URL)
	_, body := b.get("/auth/providers")
	if !strings.Contains(body, `"name":"oidc"`) || !strings.Contains(body, "Test IdP") {
		t.Fatalf("providers: got %s, want the OIDC provider listed", body)
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "alice-123", Email: "Alice@Example.com", EmailVerified: true, PreferredUsername: "alice"})
	resp, _ := b.get("/auth/oidc?redirect=/board")
	if resp.Request.URL.Path != "/board" || resp.StatusCode != 200 {
		t.Fatalf("after login: landed on %s (%d), want /board", resp.Request.URL, resp.StatusCode)
	}
	if got := b.viewer(); got != "alice@example.com/MEMBER" {
		t.Fatalf("viewer: got %q, want alice@example.com/MEMBER", got)
	}

	// Same subject again: same user, fresh session.
	b2 := newBrowser(t, in.URL)
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-123", Email: "alice@example.com"})
	b2.get("/auth/oidc")
	if got := b2.viewer(); got != "alice@example.com/MEMBER" {
		t.Fatalf("second login: got %q", got)
	}
	if n, _ := in.DB.Client.User.Query().Where(user.Email("alice@example.com")).Count(systemCtx()); n != 1 {
		t.Fatalf("users for alice: got %d, want 1", n)
	}

	// An email in TASKMIND_ADMIN_EMAILS becomes ADMIN.
	b3 := newBrowser(t, in.URL)
	m.QueueUser(&mockoidc.MockUser{Subject: "boss-1", Email: "boss@example.com"})
	b3.get("/auth/oidc")
	if got := b3.viewer(); got != "boss@example.com/ADMIN" {
		t.Fatalf("admin email: got %q, want ADMIN", got)
	}

	// Logout ends the session at once.
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/auth/logout", nil)
	resp, err := b.client.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: got %v %v", resp, err)
	}
	if got := b.viewer(); got != "" {
		t.Fatalf("after logout: got %q, want signed out", got)
	}
	if resp, _ := b.get("/auth/logout"); resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET logout: got %d, want refused", resp.StatusCode)
	}
}

func TestOIDCLoginRefusals(t *testing.T) {
	in, m := startWithOIDC(t)
	noRedirect := func(b *browser) {
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	// begin returns the provider's authorize URL; the provider's answer
	// (our callback URL with code and state) is taken without following it.
	callbackURL := func(b *browser) *url.URL {
		t.Helper()
		noRedirect(b)
		resp, _ := b.get("/auth/oidc")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("begin: got %d", resp.StatusCode)
		}
		authz := resp.Header.Get("Location")
		if !strings.Contains(authz, "code_challenge=") || !strings.Contains(authz, "code_challenge_method=S256") {
			t.Fatalf("authorize URL lacks PKCE: %s", authz)
		}
		resp, _ = b.get(authz)
		cb, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || cb.Query().Get("code") == "" {
			t.Fatalf("provider redirect: got %q", resp.Header.Get("Location"))
		}
		return cb
	}

	for _, tc := range []struct {
		name   string
		mutate func(q url.Values)
	}{
		{"tampered state", func(q url.Values) { q.Set("state", "forged") }},
		{"missing state", func(q url.Values) { q.Del("state") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.QueueUser(&mockoidc.MockUser{Subject: "mallory", Email: "mallory@example.com"})
			b := newBrowser(t, in.URL)
			cb := callbackURL(b)
			q := cb.Query()
			tc.mutate(q)
			cb.RawQuery = q.Encode()
			resp, body := b.get(cb.String())
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "SIGN_IN_FAILED") {
				t.Fatalf("got %d %s, want 400 SIGN_IN_FAILED", resp.StatusCode, body)
			}
			if got := b.viewer(); got != "" {
				t.Fatalf("session after refusal: %q", got)
			}
		})
	}
	t.Run("callback without the flow cookie", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "mallory", Email: "mallory@example.com"})
		b := newBrowser(t, in.URL)
		cb := callbackURL(b)
		victim := newBrowser(t, in.URL) // login CSRF: someone else's callback
		resp, _ := victim.get(cb.String())
		if resp.StatusCode != http.StatusBadRequest || victim.viewer() != "" {
			t.Fatalf("got %d, want 400 and no session", resp.StatusCode)
		}
	})
	t.Run("unknown provider", func(t *testing.T) {
		b := newBrowser(t, in.URL)
		for _, p := range []string{"/auth/nope", "/auth/nope/callback?code=x&state=y", "/auth/github"} {
			if resp, _ := b.get(p); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: got %d, want 404", p, resp.StatusCode)
			}
		}
	})
	t.Run("open redirect", func(t *testing.T) {
		b := newBrowser(t, in.URL)
		noRedirect(b)
		for _, r := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "evil"} {
			resp, _ := b.get("/auth/oidc?redirect=" + url.QueryEscape(r))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("redirect %q: got %d, want 400", r, resp.StatusCode)
			}
		}
	})
}

func TestLoginLink(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	ctx := context.Background()
	admin, err := in.IDs.EnsureAdmin(ctx, "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := in.IDs.CreateLoginLink(ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, in.URL)
	resp, _ := b.get("/auth/link?token=" + url.QueryEscape(tok))
	if resp.Request.URL.Path != "/board" {
		t.Fatalf("landed on %s, want /board", resp.Request.URL.Path)
	}
	if got := b.viewer(); got != "root@example.com/ADMIN" {
		t.Fatalf("viewer: got %q", got)
	}

	for _, tc := range []struct {
		name  string
		token func() string
	}{
		{"reused", func() string { return tok }},
		{"expired", func() string {
			tok2, _ := in.IDs.CreateLoginLink(ctx, admin.ID)
			// expires_at is immutable in the schema; age the link in SQL.
			if _, err := in.DB.SQL.Exec("UPDATE login_links SET expires_at = ? WHERE used_at IS NULL", time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			return tok2
		}},
		{"forged", func() string { return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }},
		{"empty", func() string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, in.URL)
			resp, _ := b.get("/auth/link?token=" + url.QueryEscape(tc.token()))
			if resp.StatusCode != http.StatusUnauthorized || b.viewer() != "" {
				t.Fatalf("got %d viewer %q, want 401 and no session", resp.StatusCode, b.viewer())
			}
		})
	}
	if strings.Contains(in.Logs.String(), tok) {
		t.Fatalf("the sign-in token appears in the log")
	}
}

func TestLoginRateLimit(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	b := newBrowser(t, in.URL)
	var last *http.Response
	for range 40 {
		last, _ = b.get("/auth/link?token=guess")
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 40 bad links: got %d, want 429 with Retry-After", last.StatusCode)
	}
	var tokenResp int
	var retry string
	for range 40 {
		req, _ := http.NewRequest(http.MethodGet, in.URL+"/tasks", nil)
		req.Header.Set("Authorization", "Bearer tmk_guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		tokenResp, retry = resp.StatusCode, resp.Header.Get("Retry-After")
		if tokenResp == http.StatusTooManyRequests {
			break
		}
		if resp.Header.Get("WWW-Authenticate") != `Bearer realm="taskmind", error="invalid_token"` {
			t.Fatalf("bad token: WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
	if tokenResp != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("after 40 bad tokens: got %d, want 429 with Retry-After", tokenResp)
	}
}

func TestTokens(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	alice := in.newUser(user.RoleMember)
	var created struct {
		CreateAPIToken struct {
			Token    string
			APIToken struct{ ID, Name, Last4 string } `json:"apiToken"`
		} `json:"createAPIToken"`
	}
	in.mustGQL(&created, `mutation { createAPIToken(input: {name: "ci"}) { token apiToken { id name last4 } } }`, nil, alice.auth()...)
	tok := created.CreateAPIToken.Token
	if !strings.HasPrefix(tok, "tmk_") || created.CreateAPIToken.APIToken.Last4 != tok[len(tok)-4:] {
		t.Fatalf("created token: got %+v", created.CreateAPIToken)
	}
	scripted := actor{Token: tok}
	if status, _ := in.rest(http.MethodGet, "/tasks", "", "", scripted.auth()...); status != 200 {
		t.Fatalf("new token: got %d, want 200", status)
	}
	var list struct {
		APITokens []struct{ Name, Last4 string } `json:"apiTokens"`
	}
	in.mustGQL(&list, `{ apiTokens { name last4 } }`, nil, alice.auth()...)
	raw, _ := json.Marshal(list)
	if len(list.APITokens) != 2 || strings.Contains(string(raw), tok) {
		t.Fatalf("token list: got %s, want 2 entries without the secret", raw)
	}
	in.mustGQL(nil, `mutation($id: ID!) { revokeAPIToken(id: $id) { revokedAt } }`, map[string]any{"id": created.CreateAPIToken.APIToken.ID}, alice.auth()...)
	status, _ := in.rest(http.MethodGet, "/tasks", "", "", scripted.auth()...)
	if status != http.StatusUnauthorized {
		t.Fatalf("revoked token: got %d, want 401", status)
	}
	expired := time.Now().Add(-time.Hour)
	if _, _, err := in.IDs.CreateToken(systemCtx(), alice.ID, "old", &expired); err == nil {
		t.Fatalf("token expiring in the past: got created, want refused")
	}
	if strings.Contains(in.Logs.String(), tok) || strings.Contains(in.Logs.String(), alice.Token) {
		t.Fatalf("a token appears in the log")
	}
}

func TestAnonymousAccess(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		in := start(t, dbtest.SQLite(t))
		r := in.gql(`{ tasks { totalCount } }`, nil)
		if r.status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous GraphQL: got %d %q", r.status, r.code())
		}
		for _, p := range []string{"/", "/healthz", "/readyz", "/auth/providers", "/board"} {
			if status, _ := in.rest(http.MethodGet, p, "", ""); status != 200 {
				t.Fatalf("anonymous %s: got %d, want 200", p, status)
			}
		}
	})
	t.Run("read-only demo opt-in", func(t *testing.T) {
		cfg := dbtest.SQLite(t)
		cfg.AnonymousRole = "VIEWER"
		in := start(t, cfg)
		r := in.gql(`{ tasks { totalCount } viewer { id } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("anonymous viewer read: %+v", r.Errors)
		}
		r = in.gql(`mutation { createTask(input: {title: "x"}) { id } }`, nil)
		if r.code() != "FORBIDDEN" {
			t.Fatalf("anonymous viewer write: got %q, want FORBIDDEN", r.code())
		}
	})
}

var _ = config.Config{}

func TestCORS(t *testing.T) {
	preflight := func(in *instance, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, in.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	t.Run("off by default", func(t *testing.T) {
		in := start(t, dbtest.SQLite(t))
		if h := preflight(in, "https://app.example.com"); h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("got Access-Control-Allow-Origin %q, want none", h.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("listed origins only", func(t *testing.T) {
		cfg := dbtest.SQLite(t)
		cfg.AllowedOrigins = []string{"https://app.example.com"}
		in := start(t, cfg)
		h := preflight(in, "https://app.example.com")
		if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("allowed origin: got %v", h)
		}
		if h := preflight(in, "https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("other origin: got Access-Control-Allow-Origin %q, want none", h.Get("Access-Control-Allow-Origin"))
		}
	})
}

// A revocation made through one replica reaches another replica's
// credential cache through PostgreSQL, well before the cache's TTL would.
func TestRevocationAcrossReplicas(t *testing.T) {
	cfg := dbtest.Postgres(t)
	a, b := start(t, cfg), start(t, cfg)
	admin := a.newUser(user.RoleAdmin)
	cases := []struct {
		name   string
		revoke func(victim actor)
		// refused reports whether b now treats the victim as revoked.
		refused func(victim actor) bool
	}{
		{"token revoked", func(v actor) {
			var toks struct {
				APITokens []struct{ ID string } `json:"apiTokens"`
			}
			a.mustGQL(&toks, `{ apiTokens { id } }`, nil, v.auth()...)
			a.mustGQL(nil, `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`, map[string]any{"id": toks.APITokens[0].ID}, v.auth()...)
		}, func(v actor) bool {
			status, _ := b.rest(http.MethodGet, "/tasks", "", "", v.auth()...)
			return status == http.StatusUnauthorized
		}},
		{"user disabled", func(v actor) {
			a.mustGQL(nil, `mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { id } }`, map[string]any{"id": v.ID}, admin.auth()...)
		}, func(v actor) bool {
			status, _ := b.rest(http.MethodGet, "/tasks", "", "", v.auth()...)
			return status == http.StatusUnauthorized
		}},
		{"role lowered", func(v actor) {
			a.mustGQL(nil, `mutation($id: ID!) { setUserRole(id: $id, role: VIEWER) { id } }`, map[string]any{"id": v.ID}, admin.auth()...)
		}, func(v actor) bool {
			return b.gql(`mutation { createTask(input: {title: "x"}) { id } }`, nil, v.auth()...).code() == "FORBIDDEN"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			victim := a.newUser(user.RoleMember)
			// b's first lookup of the token, just before the change, caches
			// it for a full TTL.
			if tc.refused(victim) {
				t.Fatal("before the change: got refused, want accepted")
			}
			tc.revoke(victim)
			start := time.Now()
			for !tc.refused(victim) {
				if time.Since(start) > identity.DefaultCredentialCacheTTL/2 {
					t.Fatalf("other replica still accepts after %v, want refused within half the cache TTL", time.Since(start))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
