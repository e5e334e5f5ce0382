// Package auth decides who is calling and what they may do: the Viewer in
// a request's context, roles, sessions, API tokens and the OAuth set-up.
package auth

import (
	"context"

	"github.com/taskmind/taskmind/ent/user"
)

// Role is a user's role. Roles are ordered: each includes the ones below it.
type Role int

// The roles, lowest first. Anonymous is the absence of a signed-in user.
const (
	RoleAnonymous Role = iota
	RoleViewer
	RoleMember
	RoleAdmin
)

// RoleOf maps the stored enum to a Role.
func RoleOf(r user.Role) Role {
	switch r {
	case user.RoleAdmin:
		return RoleAdmin
	case user.RoleMember:
		return RoleMember
	case user.RoleViewer:
		return RoleViewer
	}
	return RoleAnonymous
}

// String returns the GraphQL name of the role.
func (r Role) String() string {
	switch r {
	case RoleAdmin:
		return "ADMIN"
	case RoleMember:
		return "MEMBER"
	case RoleViewer:
		return "VIEWER"
	}
	return "ANONYMOUS"
}

// Viewer is whoever makes a request. The zero value is an anonymous caller.
type Viewer struct {
	UserID int
	Role   Role
	// System marks work the server does on its own behalf (migrations,
	// start-up, fan-out), which is not subject to per-user rules.
	System bool
}

// Can reports whether the caller has at least role r. It is the only role
// comparison in Taskmind.
func (v Viewer) Can(r Role) bool { return v.System || v.Role >= r }

// SignedIn reports whether a user (not a system task) is calling.
func (v Viewer) SignedIn() bool { return v.UserID != 0 }

type viewerKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the caller in ctx; anonymous when there is none.
func FromContext(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// SystemContext marks ctx as the server acting on its own behalf.
func SystemContext(ctx context.Context) context.Context {
	return NewContext(ctx, Viewer{System: true})
}

// MayReadOwnedBy reports whether v may read data owned by ownerID: admins
// read everything, everyone else only their own. Tasks without an owner
// (created before sign-in existed) are admin-only.
func MayReadOwnedBy(v Viewer, ownerID int) bool {
	return v.Can(RoleAdmin) || (v.SignedIn() && v.UserID == ownerID)
}
