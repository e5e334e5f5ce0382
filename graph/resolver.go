// Package graph is Taskmind's GraphQL layer: gqlgen resolvers (thin: check,
// call ent or a domain package, return), the handler with its transports
// and limits, and the error presenter that turns errors into stable codes.
package graph

import (
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/graph/generated"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/identity"
	"github.com/taskmind/taskmind/internal/inference/registry"
	"github.com/taskmind/taskmind/internal/metrics"
	"github.com/taskmind/taskmind/internal/tasks"
)

// Resolver holds the resolvers' dependencies.
type Resolver struct {
	Client   *ent.Client
	Tasks    *tasks.Service
	Identity *identity.Service
	Registry *registry.Registry
	Events   events.Broker
	Log      *slog.Logger
	Metrics  *metrics.Metrics

	owners *ownerCache
}

// NewSchema returns the executable schema with connection-aware complexity:
// a connection costs its children times the page size asked for, so one
// request cannot fan out into thousands of rows unnoticed.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	r.owners = newOwnerCache()
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasRole = hasRole
	cfg.Complexity.Query.Tasks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.TaskOrder, _ *ent.TaskWhereInput) int {
		return pageComplexity(child, first, last)
	}
	cfg.Complexity.Query.Users = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.UserOrder, _ *ent.UserWhereInput) int {
		return pageComplexity(child, first, last)
	}
	cfg.Complexity.User.Tasks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.TaskOrder, _ *ent.TaskWhereInput) int {
		return pageComplexity(child, first, last)
	}
	cfg.Complexity.Query.Nodes = func(child int, ids []int) int { return 1 + child*len(ids) }
	return generated.NewExecutableSchema(cfg)
}

func pageComplexity(child int, first, last *int) int {
	n := DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	if n < 1 {
		n = 1
	}
	return 1 + child*n
}
