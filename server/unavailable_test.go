package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// TestPoolExhaustedAnswersUnavailable holds every pool connection in open
// transactions: a write must be told UNAVAILABLE (HTTP 503 with
// Retry-After) after the pool wait, not hang until the client gives up.
func TestPoolExhaustedAnswersUnavailable(t *testing.T) {
	cfg := dbtest.Postgres(t)
	cfg.DBMaxConns = 2
	cfg.DBPoolWait = 300 * time.Millisecond
	in := start(t, cfg)
	member := in.newUser(user.RoleMember)

	ctx := auth.SystemContext(context.Background())
	for range cfg.DBMaxConns {
		tx, err := in.DB.Client.Tx(ctx)
		if err != nil {
			t.Fatalf("holding a connection: %v", err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
	}

	// Readiness checks on a connection of its own: a busy pool is not a
	// reason to take the replica out of service.
	if status, body := in.rest(http.MethodGet, "/readyz", "", ""); status != http.StatusOK {
		t.Errorf("/readyz on a full request pool: %d %s, want 200", status, body)
	}

	r := in.gql(`mutation { createTask(input: {title: "held"}) { id owner { id } } }`, nil, member.auth()...)
	if r.code() != "UNAVAILABLE" {
		t.Fatalf("GraphQL write on a full pool: code %q (%+v), want UNAVAILABLE", r.code(), r.Errors)
	}
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("GraphQL write on a full pool: HTTP %d, want 503", r.status)
	}

	w := mustSend(t, in, http.MethodPost, "/tasks", `{"title":"held"}`, member.auth()...)
	if w.status != http.StatusServiceUnavailable || w.header.Get("Retry-After") == "" {
		t.Fatalf("REST write on a full pool: %d Retry-After=%q %s, want 503 with Retry-After", w.status, w.header.Get("Retry-After"), w.body)
	}
	if !strings.Contains(w.body, `"UNAVAILABLE"`) {
		t.Errorf("REST body %s lacks code UNAVAILABLE", w.body)
	}
}

// TestDatabaseDownAnswersUnavailable cuts the replica off from PostgreSQL
// (a loopback proxy in front of it is closed): reads and writes on both
// APIs must say UNAVAILABLE / 503 with Retry-After, with no driver text,
// and work again once the database is back, without a restart.
func TestDatabaseDownAnswersUnavailable(t *testing.T) {
	cfg := dbtest.Postgres(t)
	px := newTCPProxy(t, cfg.DatabaseURL)
	cfg.DatabaseURL = px.url
	cfg.CredentialCacheTTL = 0
	in := start(t, cfg)
	member := in.newUser(user.RoleMember)
	in.mustGQL(nil, `mutation { createTask(input: {title: "before"}) { id } }`, nil, member.auth()...)

	px.down()
	for _, q := range []string{
		`mutation { createTask(input: {title: "during"}) { id owner { id } } }`,
		`query { tasks(first: 5) { totalCount } }`,
	} {
		r := in.gql(q, nil, member.auth()...)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s with the database down: HTTP %d, want 503 (%+v)", q, r.status, r.Errors)
		}
		for _, e := range r.Errors {
			if strings.Contains(strings.ToLower(e.Message), "dial") || strings.Contains(e.Message, "pq:") || strings.Contains(e.Message, "connection") {
				t.Errorf("driver text reached the client: %q", e.Message)
			}
		}
	}
	w := mustSend(t, in, http.MethodPost, "/tasks", `{"title":"during"}`, member.auth()...)
	if w.status != http.StatusServiceUnavailable || w.header.Get("Retry-After") == "" || !strings.Contains(w.body, "UNAVAILABLE") {
		t.Errorf("REST write with the database down: %d Retry-After=%q %s", w.status, w.header.Get("Retry-After"), w.body)
	}
	if strings.Contains(w.body, "dial") || strings.Contains(w.body, "pq:") {
		t.Errorf("driver text reached the client: %s", w.body)
	}

	px.up()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := in.gql(`mutation { createTask(input: {title: "after"}) { id } }`, nil, member.auth()...)
		if len(r.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %+v", r.Errors)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustSend is send with a JSON body that must get an answer.
func mustSend(t *testing.T, in *instance, method, path, body string, headers ...string) reply {
	t.Helper()
	r, err := in.send(method, path, "application/json", body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tcpProxy forwards a loopback port to PostgreSQL; down closes the port and
// every open connection (what a database restart looks like to a client),
// up listens again on the same port.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	url    string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newTCPProxy(t *testing.T, dbURL string) *tcpProxy {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, target: u.Host}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	u.Host = p.addr
	p.url = u.String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("re-listening on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
