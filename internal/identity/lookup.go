package identity

import (
	"context"
	stdsql "database/sql"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/taskmind/taskmind/ent/apitoken"
	"github.com/taskmind/taskmind/ent/session"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
)

// credential is a session or token row joined with its user. Every
// authenticated request looks one up, so it is one indexed query rather than
// ent's two (row, then edge).
type credential struct {
	id       int
	hash     []byte
	expires  stdsql.NullTime
	lastUsed stdsql.NullTime
	revoked  stdsql.NullTime
	userID   int
	role     string
	disabled bool
}

func (c credential) viewer() (auth.Viewer, error) {
	if c.disabled {
		return auth.Viewer{}, ErrInvalid
	}
	return auth.Viewer{UserID: c.userID, Role: auth.RoleOf(user.Role(c.role))}, nil
}

// lookupToken finds an API token by hash. ok is false when there is none.
func (s *Service) lookupToken(ctx context.Context, hash []byte) (c credential, ok bool, err error) {
	b := sql.Dialect(s.dialect)
	t, u := b.Table(apitoken.Table).As("t"), b.Table(user.Table).As("u")
	q, args := b.Select(
		t.C(apitoken.FieldID), t.C(apitoken.FieldTokenHash), t.C(apitoken.FieldExpiresAt),
		t.C(apitoken.FieldLastUsedAt), t.C(apitoken.FieldRevokedAt),
		u.C(user.FieldID), u.C(user.FieldRole), u.C(user.FieldDisabled),
	).From(t).Join(u).On(t.C(apitoken.FieldUserID), u.C(user.FieldID)).
		Where(sql.EQ(t.C(apitoken.FieldTokenHash), hash)).Limit(1).Query()
	ok, err = s.scanOne(ctx, q, args, &c.id, &c.hash, &c.expires, &c.lastUsed, &c.revoked, &c.userID, &c.role, &c.disabled)
	return c, ok, err
}

// lookupSession finds a session by hash. ok is false when there is none.
func (s *Service) lookupSession(ctx context.Context, hash []byte) (c credential, ok bool, err error) {
	b := sql.Dialect(s.dialect)
	t, u := b.Table(session.Table).As("t"), b.Table(user.Table).As("u")
	q, args := b.Select(
		t.C(session.FieldID), t.C(session.FieldIDHash), t.C(session.FieldExpiresAt), t.C(session.FieldLastSeenAt),
		u.C(user.FieldID), u.C(user.FieldRole), u.C(user.FieldDisabled),
	).From(t).Join(u).On(t.C(session.FieldUserID), u.C(user.FieldID)).
		Where(sql.EQ(t.C(session.FieldIDHash), hash)).Limit(1).Query()
	ok, err = s.scanOne(ctx, q, args, &c.id, &c.hash, &c.expires, &c.lastUsed, &c.userID, &c.role, &c.disabled)
	return c, ok, err
}

func (s *Service) scanOne(ctx context.Context, q string, args []any, dst ...any) (bool, error) {
	rows, err := s.client.QueryContext(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dst...); err != nil {
		return false, err
	}
	return true, rows.Close()
}

// expired reports whether a nullable deadline has passed.
func expired(t stdsql.NullTime, now time.Time) bool { return t.Valid && now.After(t.Time) }
