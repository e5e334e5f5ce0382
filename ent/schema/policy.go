package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"github.com/taskmind/taskmind/ent/privacy"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// The privacy rules below are the one place where "who may see and change
// what" is decided, whichever path reads the data: a connection, a Relay
// node(id:), an edge, a subscription reload or the REST API. Reads of other
// people's rows are filtered out (so they are NOT_FOUND, never FORBIDDEN,
// and their existence does not leak); writes below the needed role are
// FORBIDDEN.

var (
	errSignIn    = apperr.New(apperr.Unauthenticated, "sign in or send an API token")
	errForbidden = apperr.New(apperr.Forbidden, "your role does not allow this")
)

// allowSystem lets the server act on its own behalf (start-up, sign-in,
// fan-out), and demands some caller otherwise.
func allowSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		v := auth.FromContext(ctx)
		switch {
		case v.System:
			return privacy.Allow
		case v.Role == auth.RoleAnonymous:
			return errSignIn
		}
		return privacy.Skip
	})
}

// allowAdmin lets admins through.
func allowAdmin() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if auth.FromContext(ctx).Can(auth.RoleAdmin) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// requireRole refuses callers below r.
func requireRole(r auth.Role) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if !auth.FromContext(ctx).Can(r) {
			return errForbidden
		}
		return privacy.Skip
	})
}

// denyAll ends a policy that only the system and admins pass.
func denyAll() privacy.QueryMutationRule { return privacy.AlwaysDenyRule() }

// ownedBy filters a query or an update/delete to the caller's own rows via
// the named owner column. Creates are checked instead: the owner set must
// be the caller.
func ownedBy(column string) privacy.QueryMutationRule {
	return ownerRule{column: column}
}

type ownerRule struct{ column string }

func (r ownerRule) EvalQuery(ctx context.Context, q ent.Query) error {
	return r.filter().EvalQuery(ctx, q)
}

func (r ownerRule) EvalMutation(ctx context.Context, m ent.Mutation) error {
	if m.Op().Is(ent.OpCreate) {
		v := auth.FromContext(ctx)
		owner, ok := m.Field(r.column)
		if !ok || !v.SignedIn() || owner != v.UserID {
			return errForbidden
		}
		return privacy.Skip
	}
	return r.filter().EvalMutation(ctx, m)
}

// filter adds "owner = caller"; UserID 0 (an anonymous demo viewer)
// matches no row.
func (r ownerRule) filter() privacy.FilterFunc {
	return func(ctx context.Context, f privacy.Filter) error {
		f.Where(entql.FieldEQ(r.column, auth.FromContext(ctx).UserID))
		return privacy.Skip
	}
}
