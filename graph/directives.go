package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// hasRole implements @hasRole(role:). It is the GraphQL face of the rules;
// the ent privacy policies enforce the same rules underneath for every path.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role user.Role) (any, error) {
	v := auth.FromContext(ctx)
	if v.Role == auth.RoleAnonymous && !v.System {
		return nil, apperr.New(apperr.Unauthenticated, "sign in or send an API token")
	}
	if !v.Can(auth.RoleOf(role)) {
		return nil, apperr.New(apperr.Forbidden, "this needs the %s role", role)
	}
	return next(ctx)
}
