package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/events"
)

// longTTL keeps cached entries alive for the whole test, so only the
// expiry checks and the invalidations can take them away.
const longTTL = time.Hour

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestService(t *testing.T, db *database.DB) *Service {
	t.Helper()
	return New(db.Client, quiet(), Options{Dialect: db.Dialect, CredentialCacheTTL: longTTL})
}

// member creates an enabled member with an API token and a session.
func member(t *testing.T, s *Service, email string) (id int, token, sess string) {
	t.Helper()
	ctx := sys(context.Background())
	u, err := s.client.User.Create().SetEmail(email).SetName("m").SetRole(user.RoleMember).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err = s.CreateToken(ctx, u.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err = s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, token, sess
}

func cached(s *Service, kind credentialKind, raw string) bool {
	return s.cache.get(keyOf(kind, hashSecret(raw)), s.now()) != nil
}

// A cached credential is still refused at its own expiry, however long the
// cache would keep it.
func TestCachedCredentialExpires(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := dbtest.Open(t, b.Config)
			s := New(db.Client, quiet(), Options{Dialect: db.Dialect, CredentialCacheTTL: longTTL, SessionIdle: time.Minute})
			ctx := sys(context.Background())
			id, _, sess := member(t, s, "exp@example.com")
			at := time.Now().Add(time.Minute)
			tok, _, err := s.CreateToken(ctx, id, "short", &at)
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range []string{tok, sess} {
				if _, err := s.viewer(ctx, raw); err != nil {
					t.Fatalf("fresh credential: got %v, want a viewer", err)
				}
			}
			// Past the token's expiry and the session's idle limit, well
			// within the cache's TTL.
			now := time.Now()
			s.now = func() time.Time { return now.Add(2 * time.Minute) }
			for name, raw := range map[string]string{"token": tok, "session": sess} {
				kind := tokenCredential
				if name == "session" {
					kind = sessionCredential
				}
				if !cached(s, kind, raw) {
					t.Fatalf("%s: not cached, want the check made on the cached copy", name)
				}
				if _, err := s.viewer(ctx, raw); !errors.Is(err, ErrInvalid) {
					t.Fatalf("expired %s: got %v, want ErrInvalid", name, err)
				}
			}
		})
	}
}

// viewer authenticates a token or a session ID.
func (s *Service) viewer(ctx context.Context, raw string) (auth.Viewer, error) {
	if len(raw) > len(TokenPrefix) && raw[:len(TokenPrefix)] == TokenPrefix {
		return s.TokenViewer(ctx, raw)
	}
	return s.SessionViewer(ctx, raw)
}

// revocation is a change that must take a cached credential away, made
// through the service or client of one replica.
type revocation struct {
	name string
	// change is made on s for the user; it returns the credential whose
	// fate is checked afterwards and the role it must then have (anonymous:
	// refused).
	change func(t *testing.T, s *Service, userID int, token, sess string) (raw string, want auth.Role)
}

var revocations = []revocation{
	{"token revoked", func(t *testing.T, s *Service, id int, tok, _ string) (string, auth.Role) {
		ctx := sys(context.Background())
		tid, err := s.client.APIToken.Query().OnlyID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeToken(ctx, tid); err != nil {
			t.Fatal(err)
		}
		return tok, auth.RoleAnonymous
	}},
	{"signed out", func(t *testing.T, s *Service, _ int, _, sess string) (string, auth.Role) {
		if err := s.DeleteSession(context.Background(), sess); err != nil {
			t.Fatal(err)
		}
		return sess, auth.RoleAnonymous
	}},
	{"user disabled in a transaction", func(t *testing.T, s *Service, id int, tok, _ string) (string, auth.Role) {
		// As the GraphQL admin mutation does it: one transaction, committed
		// after the resolver returns.
		ctx := sys(context.Background())
		tx, err := s.client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tctx := ent.NewContext(ctx, tx.Client())
		if err := tx.User.UpdateOneID(id).SetDisabled(true).Exec(tctx); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeUser(tctx, id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return tok, auth.RoleAnonymous
	}},
	{"user disabled only", func(t *testing.T, s *Service, id int, _, sess string) (string, auth.Role) {
		if err := s.client.User.UpdateOneID(id).SetDisabled(true).Exec(sys(context.Background())); err != nil {
			t.Fatal(err)
		}
		return sess, auth.RoleAnonymous
	}},
	{"role lowered", func(t *testing.T, s *Service, id int, tok, _ string) (string, auth.Role) {
		if err := s.client.User.UpdateOneID(id).SetRole(user.RoleViewer).Exec(sys(context.Background())); err != nil {
			t.Fatal(err)
		}
		return tok, auth.RoleViewer
	}},
	{"user deleted", func(t *testing.T, s *Service, id int, tok, _ string) (string, auth.Role) {
		ctx := sys(context.Background())
		// What the user owns goes behind the hooks' back, so that only the
		// user's own deletion can take the cached token away.
		for _, table := range []string{"sessions", "api_tokens", "login_links"} {
			if _, err := s.client.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE user_id = %d", table, id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.client.User.DeleteOneID(id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return tok, auth.RoleAnonymous
	}},
}

// roleOf authenticates raw, anonymous when refused.
func roleOf(t *testing.T, s *Service, raw string) auth.Role {
	t.Helper()
	v, err := s.viewer(context.Background(), raw)
	if errors.Is(err, ErrInvalid) {
		return auth.RoleAnonymous
	}
	if err != nil {
		t.Fatal(err)
	}
	return v.Role
}

// On the replica that made the change, the next request sees it.
func TestRevocationIsImmediateOnThisReplica(t *testing.T) {
	for _, r := range revocations {
		for _, b := range dbtest.Backends(t) {
			t.Run(r.name+"/"+b.Name, func(t *testing.T) {
				s := newTestService(t, dbtest.Open(t, b.Config))
				id, tok, sess := member(t, s, "r@example.com")
				for _, raw := range []string{tok, sess} {
					if got := roleOf(t, s, raw); got != auth.RoleMember {
						t.Fatalf("before: got %v, want %v", got, auth.RoleMember)
					}
				}
				raw, want := r.change(t, s, id, tok, sess)
				if got := roleOf(t, s, raw); got != want {
					t.Fatalf("after: got %v, want %v", got, want)
				}
			})
		}
	}
}

// replica is one Taskmind process's database pool, event listener and
// identity service.
func replica(t *testing.T, cfg config.Config, follow bool) *Service {
	t.Helper()
	db := dbtest.Open(t, cfg)
	s := newTestService(t, db)
	if follow {
		b, err := events.NewPostgres(db.SQL, db.DSN, quiet())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		s.Follow(context.Background(), b)
	}
	return s
}

// awaitRole polls s until raw authenticates as want, and fails after
// within. Replicas only have the notification to go by: their TTL is an hour.
func awaitRole(t *testing.T, s *Service, raw string, want auth.Role, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := roleOf(t, s, raw)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("after %v: got %v, want %v", within, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A change made on one replica reaches another replica's cache through
// PostgreSQL, long before that cache's TTL. The changing side runs no
// listener, as the CLI does not.
func TestRevocationReachesOtherReplicas(t *testing.T) {
	for _, r := range revocations {
		t.Run(r.name, func(t *testing.T) {
			cfg := dbtest.Postgres(t)
			a, b := replica(t, cfg, false), replica(t, cfg, true)
			id, tok, sess := member(t, a, "r@example.com")
			for _, s := range []*Service{a, b} {
				for _, raw := range []string{tok, sess} {
					if got := roleOf(t, s, raw); got != auth.RoleMember {
						t.Fatalf("before: got %v, want %v", got, auth.RoleMember)
					}
				}
			}
			raw, want := r.change(t, a, id, tok, sess)
			if got := roleOf(t, a, raw); got != want {
				t.Fatalf("changing replica: got %v, want %v", got, want)
			}
			took := awaitRole(t, b, raw, want, 2*time.Second)
			t.Logf("other replica saw it after %v", took)
		})
	}
}

// When the event listener loses its connection, notifications may be lost,
// so the whole cache goes: even a change made behind Taskmind's back (no
// hook, no notification) is then seen.
func TestListenerReconnectEmptiesCache(t *testing.T) {
	cfg := dbtest.Postgres(t)
	s := replica(t, cfg, true)
	id, tok, _ := member(t, s, "r@example.com")
	if got := roleOf(t, s, tok); got != auth.RoleMember {
		t.Fatalf("before: got %v, want %v", got, auth.RoleMember)
	}
	ctx := context.Background()
	db := dbtest.Open(t, cfg)
	if _, err := db.SQL.ExecContext(ctx, "UPDATE users SET role = 'VIEWER' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	if got := roleOf(t, s, tok); got != auth.RoleMember {
		t.Fatalf("unannounced change: got %v, want the cached %v", got, auth.RoleMember)
	}
	if _, err := db.SQL.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'listen%'`); err != nil {
		t.Fatal(err)
	}
	awaitRole(t, s, tok, auth.RoleViewer, 5*time.Second)
}

// A lookup that read the database before an invalidation must not store
// what it read after it.
func TestCacheRefusesReadsOlderThanAnInvalidation(t *testing.T) {
	c := newCredentialCache(longTTL)
	now := time.Now()
	k := keyOf(tokenCredential, hashSecret("tmk_x"))
	gen := c.generation()
	c.forget(7)
	c.add(k, newEntry(credential{userID: 7}, now.Add(longTTL)), gen, now)
	if c.get(k, now) != nil {
		t.Fatal("stored a read older than an invalidation")
	}
	c.add(k, newEntry(credential{userID: 7}, now.Add(longTTL)), c.generation(), now)
	if c.get(k, now) == nil {
		t.Fatal("did not store a current read")
	}
	c.forget(8)
	if c.get(k, now) == nil {
		t.Fatal("forgetting another user dropped this one's entry")
	}
	c.forget(0)
	if c.get(k, now) != nil {
		t.Fatal("forgetting everyone kept an entry")
	}
}
