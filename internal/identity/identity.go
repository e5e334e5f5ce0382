// Package identity authenticates callers: server-side sessions for
// browsers, API tokens for scripts, one-time sign-in links for the first
// run, and users signed in through OAuth / OpenID Connect (goth). Every
// secret it hands out is random, shown once and stored only as a SHA-256
// hash, so the database alone cannot be used to impersonate anyone.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/apitoken"
	"github.com/taskmind/taskmind/ent/identity"
	"github.com/taskmind/taskmind/ent/loginlink"
	"github.com/taskmind/taskmind/ent/session"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// ErrInvalid means a session, token or link is unknown, expired, revoked,
// used or belongs to a disabled user. Callers never learn which.
var ErrInvalid = errors.New("invalid or expired credentials")

// TokenPrefix marks Taskmind API tokens so secret scanners can find leaks.
const TokenPrefix = "tmk_"

// Options are the lifetimes of what the service issues.
type Options struct {
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	LoginLinkTTL  time.Duration
	DefaultRole   user.Role
	AdminEmails   []string
	// Dialect is the database's ("postgres" or "sqlite3"), for the
	// hand-built credential lookup.
	Dialect string
	// CredentialCacheTTL bounds how long a credential looked up once is
	// trusted without the database (0: DefaultCredentialCacheTTL; negative:
	// no cache). Revocations through this service's client reach every
	// replica sooner; the TTL bounds a lost notification or a change made
	// behind Taskmind's back.
	CredentialCacheTTL time.Duration
	touchInterval      time.Duration
}

// Service issues and checks credentials.
type Service struct {
	client  *ent.Client
	dialect string
	log     *slog.Logger
	opts    Options
	now     func() time.Time
	cache   *credentialCache
}

// New returns a Service. It adds hooks to client so that any change to a
// user, session or token made through it also reaches the credential cache;
// Follow brings in those made elsewhere.
func New(client *ent.Client, log *slog.Logger, opts Options) *Service {
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 7 * 24 * time.Hour
	}
	if opts.SessionMaxAge == 0 {
		opts.SessionMaxAge = 30 * 24 * time.Hour
	}
	if opts.LoginLinkTTL == 0 {
		opts.LoginLinkTTL = 15 * time.Minute
	}
	if opts.DefaultRole == "" {
		opts.DefaultRole = user.RoleMember
	}
	// Refreshing last-seen on every request would make every read a write.
	opts.touchInterval = time.Minute
	if opts.Dialect == "" {
		opts.Dialect = dialect.SQLite
	}
	if opts.CredentialCacheTTL == 0 {
		opts.CredentialCacheTTL = DefaultCredentialCacheTTL
	}
	s := &Service{client: client, dialect: opts.Dialect, log: log, opts: opts, now: time.Now,
		cache: newCredentialCache(opts.CredentialCacheTTL)}
	s.watch(client)
	return s
}

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

// newSecret returns a random 256-bit secret, URL-safe, and its hash.
func newSecret() (string, []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	raw := base64.RawURLEncoding.EncodeToString(b[:])
	return raw, hashSecret(raw)
}

func hashSecret(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

func sys(ctx context.Context) context.Context { return auth.SystemContext(ctx) }

// db returns the transaction's client inside a GraphQL mutation and the
// root client elsewhere. Writing through the root client while the
// mutation's transaction is open would deadlock SQLite.
func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// viewerOf turns a stored user into the caller, refusing disabled users.
func viewerOf(u *ent.User) (auth.Viewer, error) {
	if u == nil || u.Disabled {
		return auth.Viewer{}, ErrInvalid
	}
	return auth.Viewer{UserID: u.ID, Role: auth.RoleOf(u.Role)}, nil
}

// CreateSession signs a user in and returns the new session ID. A fresh ID
// is made at every sign-in, so an ID planted before login is worthless.
func (s *Service) CreateSession(ctx context.Context, userID int) (string, error) {
	raw, hash := newSecret()
	now := s.now()
	err := s.client.Session.Create().
		SetIDHash(hash).SetUserID(userID).
		SetCreatedAt(now).SetLastSeenAt(now).SetExpiresAt(now.Add(s.opts.SessionMaxAge)).
		Exec(sys(ctx))
	return raw, err
}

// SessionViewer returns the caller behind a session ID.
func (s *Service) SessionViewer(ctx context.Context, raw string) (auth.Viewer, error) {
	if raw == "" || len(raw) > 100 {
		return auth.Viewer{}, ErrInvalid
	}
	hash := hashSecret(raw)
	now := s.now()
	e, keep, err := s.find(ctx, keyOf(sessionCredential, hash), now, s.lookupSession)
	if err != nil {
		return auth.Viewer{}, err
	}
	seen, ok := e.lastUse()
	if subtle.ConstantTimeCompare(e.hash, hash) != 1 || expired(e.expires, now) ||
		!ok || now.After(seen.Add(s.opts.SessionIdle)) {
		return auth.Viewer{}, ErrInvalid
	}
	v, err := e.viewer()
	if err != nil {
		return v, err
	}
	keep()
	// Refreshing last-seen on every request would make every read a write.
	if e.claimUse(now, s.opts.touchInterval) {
		if err := s.client.Session.UpdateOneID(e.id).SetLastSeenAt(now).Exec(sys(ctx)); err != nil {
			s.log.WarnContext(ctx, "refreshing session failed", "err", err)
		}
	}
	return v, nil
}

// find returns k's credential, from the cache or else from lookup. keep
// caches what lookup read; the caller calls it once the credential has
// proved valid, since failures are never cached: every bad token still costs
// a lookup and counts against the caller's rate limit.
func (s *Service) find(ctx context.Context, k cacheKey, now time.Time,
	lookup func(context.Context, []byte) (credential, bool, error)) (e *entry, keep func(), err error) {
	if e := s.cache.get(k, now); e != nil {
		return e, func() {}, nil
	}
	gen := s.cache.generation()
	c, ok, err := lookup(ctx, k.hash[:])
	if err != nil || !ok {
		return nil, nil, orInvalid(err)
	}
	e = newEntry(c, now.Add(s.opts.CredentialCacheTTL))
	return e, func() { s.cache.add(k, e, gen, now) }, nil
}

// orInvalid maps "no row" to ErrInvalid and keeps real errors.
func orInvalid(err error) error {
	if err != nil {
		return err
	}
	return ErrInvalid
}

// DeleteSession signs a browser out.
func (s *Service) DeleteSession(ctx context.Context, raw string) error {
	_, err := s.client.Session.Delete().Where(session.IDHash(hashSecret(raw))).Exec(sys(ctx))
	return err
}

// CreateToken issues an API token for userID. The raw token is returned
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, userID int, name string, expiresAt *time.Time) (string, *ent.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, apperr.Invalid("name", "token name must be 1 to 100 characters")
	}
	if expiresAt != nil && !expiresAt.After(s.now()) {
		return "", nil, apperr.Invalid("expiresAt", "expiresAt must be in the future")
	}
	secret, _ := newSecret()
	raw := TokenPrefix + secret
	t, err := s.db(ctx).APIToken.Create().
		SetName(name).SetTokenHash(hashSecret(raw)).SetLast4(raw[len(raw)-4:]).
		SetUserID(userID).SetCreatedAt(s.now()).SetNillableExpiresAt(expiresAt).
		Save(ctx)
	if err != nil {
		return "", nil, apperr.FromEnt(err, "token")
	}
	return raw, t, nil
}

// TokenViewer returns the caller behind an API token. The row is found by
// the token's SHA-256 and the stored hash is then compared in constant time.
func (s *Service) TokenViewer(ctx context.Context, raw string) (auth.Viewer, error) {
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) > 100 {
		return auth.Viewer{}, ErrInvalid
	}
	hash := hashSecret(raw)
	now := s.now()
	e, keep, err := s.find(ctx, keyOf(tokenCredential, hash), now, s.lookupToken)
	if err != nil {
		return auth.Viewer{}, err
	}
	if subtle.ConstantTimeCompare(e.hash, hash) != 1 || e.revoked.Valid || expired(e.expires, now) {
		return auth.Viewer{}, ErrInvalid
	}
	v, err := e.viewer()
	if err != nil {
		return v, err
	}
	keep()
	if e.claimUse(now, s.opts.touchInterval) {
		if err := s.client.APIToken.UpdateOneID(e.id).SetLastUsedAt(now).Exec(sys(ctx)); err != nil {
			s.log.WarnContext(ctx, "recording token use failed", "err", err)
		}
	}
	return v, nil
}

// Tokens lists the caller's tokens, newest first.
func (s *Service) Tokens(ctx context.Context) ([]*ent.APIToken, error) {
	v := auth.FromContext(ctx)
	return s.db(ctx).APIToken.Query().Where(apitoken.UserID(v.UserID)).Order(ent.Desc(apitoken.FieldID)).All(ctx)
}

// RevokeToken revokes a token the caller may see (their own; admins any).
func (s *Service) RevokeToken(ctx context.Context, id int) (*ent.APIToken, error) {
	c := s.db(ctx)
	t, err := c.APIToken.Get(ctx, id)
	if err != nil {
		return nil, apperr.FromEnt(err, "token")
	}
	if t.RevokedAt != nil {
		return t, nil
	}
	t, err = c.APIToken.UpdateOne(t).SetRevokedAt(s.now()).Save(ctx)
	return t, apperr.FromEnt(err, "token")
}

// RevokeUser signs a user out everywhere and revokes their tokens, in one
// transaction (used when an admin disables them).
func (s *Service) RevokeUser(ctx context.Context, userID int) error {
	ctx = sys(ctx)
	c := s.db(ctx)
	if _, err := c.Session.Delete().Where(session.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	_, err := c.APIToken.Update().Where(apitoken.UserID(userID), apitoken.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
	return err
}

// CreateLoginLink returns a single-use sign-in token for userID.
func (s *Service) CreateLoginLink(ctx context.Context, userID int) (string, error) {
	raw, hash := newSecret()
	now := s.now()
	err := s.client.LoginLink.Create().
		SetTokenHash(hash).SetUserID(userID).SetCreatedAt(now).SetExpiresAt(now.Add(s.opts.LoginLinkTTL)).
		Exec(sys(ctx))
	return raw, err
}

// RedeemLoginLink consumes a sign-in token and returns its user. The
// conditional update makes the link single-use even under concurrent clicks.
func (s *Service) RedeemLoginLink(ctx context.Context, raw string) (int, error) {
	if raw == "" || len(raw) > 100 {
		return 0, ErrInvalid
	}
	ctx = sys(ctx)
	hash := hashSecret(raw)
	now := s.now()
	n, err := s.client.LoginLink.Update().
		Where(loginlink.TokenHash(hash), loginlink.UsedAtIsNil(), loginlink.ExpiresAtGT(now)).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, ErrInvalid
	}
	l, err := s.client.LoginLink.Query().Where(loginlink.TokenHash(hash)).WithUser().Only(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := viewerOf(l.Edges.User); err != nil {
		return 0, err
	}
	return l.UserID, nil
}

// EnsureAdmin returns the admin with this email, creating it (or promoting
// an existing user) when needed.
func (s *Service) EnsureAdmin(ctx context.Context, email string) (*ent.User, error) {
	ctx = sys(ctx)
	email = NormalizeEmail(email)
	u, err := s.client.User.Query().Where(user.Email(email)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return s.client.User.Create().SetEmail(email).SetName(strings.Split(email, "@")[0]).SetRole(user.RoleAdmin).Save(ctx)
	case err != nil:
		return nil, err
	case u.Role != user.RoleAdmin || u.Disabled:
		return s.client.User.UpdateOne(u).SetRole(user.RoleAdmin).SetDisabled(false).Save(ctx)
	}
	return u, nil
}

// AnyAdmin reports whether an enabled admin exists.
func (s *Service) AnyAdmin(ctx context.Context) (bool, error) {
	return s.client.User.Query().Where(user.RoleEQ(user.RoleAdmin), user.Disabled(false)).Exist(sys(ctx))
}

// External is a user as an OAuth / OpenID Connect provider describes them.
type External struct {
	Provider, Subject, Email, Name, AvatarURL string
}

// SignInExternal finds or creates the user behind a provider account.
// Accounts are matched by provider and subject only; a new account gets the
// default role, or ADMIN when its email is listed in TASKMIND_ADMIN_EMAILS.
func (s *Service) SignInExternal(ctx context.Context, ext External) (*ent.User, error) {
	if ext.Provider == "" || ext.Subject == "" {
		return nil, ErrInvalid
	}
	ctx = sys(ctx)
	id, err := s.client.Identity.Query().
		Where(identity.Provider(ext.Provider), identity.Subject(ext.Subject)).WithUser().Only(ctx)
	if err == nil {
		if _, err := viewerOf(id.Edges.User); err != nil {
			return nil, err
		}
		return id.Edges.User, nil
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	email := NormalizeEmail(ext.Email)
	if email == "" {
		email = NormalizeEmail(ext.Subject + "@" + ext.Provider + ".invalid")
	}
	role := s.opts.DefaultRole
	if slices.Contains(s.opts.AdminEmails, email) {
		role = user.RoleAdmin
	}
	taken, err := s.client.User.Query().Where(user.Email(email)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		// The email belongs to another account. Linking by email would let
		// anyone who controls that address at a lax provider take it over,
		// so this identity gets its own user with a marked address and the
		// default role.
		email = fmt.Sprintf("%s+%s@taskmind.invalid", strings.Split(email, "@")[0], ext.Provider)
		role = s.opts.DefaultRole
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	u, err := tx.User.Create().
		SetEmail(email).SetName(truncate(ext.Name, 200)).SetAvatarURL(truncate(ext.AvatarURL, 2048)).SetRole(role).
		Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Identity.Create().SetProvider(ext.Provider).SetSubject(ext.Subject).SetEmail(email).SetUserID(u.ID).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return u, tx.Commit()
}

// NormalizeEmail lower-cases and trims an address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// EnsureAdminIfNone creates an admin with this email when no enabled admin
// exists, and otherwise returns the first enabled admin.
func (s *Service) EnsureAdminIfNone(ctx context.Context, email string) (*ent.User, error) {
	u, err := s.client.User.Query().Where(user.RoleEQ(user.RoleAdmin), user.Disabled(false)).Order(ent.Asc(user.FieldID)).First(sys(ctx))
	if ent.IsNotFound(err) {
		return s.EnsureAdmin(ctx, email)
	}
	return u, err
}

// UserByEmail finds a user by email.
func (s *Service) UserByEmail(ctx context.Context, email string) (*ent.User, error) {
	return s.client.User.Query().Where(user.Email(NormalizeEmail(email))).Only(sys(ctx))
}
