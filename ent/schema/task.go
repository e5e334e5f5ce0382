package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	gen "github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/hook"
	"github.com/taskmind/taskmind/ent/privacy"
	"github.com/taskmind/taskmind/ent/schema/priority"
	"github.com/taskmind/taskmind/ent/task"
	"github.com/taskmind/taskmind/internal/auth"
)

// Limits on task text, counted in characters (runes), not bytes.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 10000
)

var errNotNormalised = errors.New("value must be trimmed and lower-case")

// Task is one thing to do.
type Task struct{ ent.Schema }

// Mixin adds the timestamps.
func (Task) Mixin() []ent.Mixin { return []ent.Mixin{timestamps{}} }

// Fields of the task.
func (Task) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").
			Validate(validateTitle).
			Annotations(entgql.OrderField("TITLE")),
		field.Text("description").
			Optional().
			Nillable().
			Validate(func(s string) error {
				if n := utf8.RuneCountInString(s); n > MaxDescriptionLen {
					return fmt.Errorf("description is %d characters long; the limit is %d", n, MaxDescriptionLen)
				}
				return nil
			}),
		field.Bool("done").
			Default(false),
		field.Int("priority").
			GoType(priority.Priority(0)).
			Default(int(priority.Medium)).
			Validate(func(p int) error {
				if !priority.Priority(p).Valid() {
					return fmt.Errorf("priority %d is not valid", p)
				}
				return nil
			}).
			Annotations(entgql.OrderField("PRIORITY"), entgql.Type("TaskPriority")),
		field.Time("due_at").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("DUE_AT")),
		field.Int("owner_id").
			Immutable().
			Annotations(
				entgql.MapsTo("ownerID"),
				entgql.Skip(entgql.SkipAll),
			),
		// version increments on every update (see the hook in package
		// internal/tasks) so clients can detect lost updates.
		field.Int("version").
			Default(1).
			Min(1).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}

// validateTitle reports whether a title, already trimmed by the hook in
// internal/tasks, is acceptable.
func validateTitle(s string) error {
	if strings.TrimSpace(s) != s {
		return errors.New("title must not start or end with spaces")
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return errors.New("title must not be empty")
	case n > MaxTitleLen:
		return fmt.Errorf("title is %d characters long; the limit is %d", n, MaxTitleLen)
	}
	return nil
}

// Edges of the task.
func (Task) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).
			Ref("tasks").
			Field("owner_id").
			Unique().
			Required().
			Immutable().
			// Resolved by graph's owner cache instead of an eager-loaded
			// query per page (see graph/owners.go and schema.graphqls).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the task: every non-admin read is filtered by owner (see
// Policy), ordered by id (the default) or by creation time (the board).
func (Task) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("owner_id", "id"),
		index.Fields("owner_id", "created_at"),
		index.Fields("done"),
	}
}

// Annotations of the task.
func (Task) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Directives(hasRole("VIEWER")),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Hooks of the task: titles are trimmed before validation, and every update
// bumps the version so concurrent editors notice each other.
func (Task) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(trimTitle, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.On(bumpVersion, ent.OpUpdate|ent.OpUpdateOne),
	}
}

func trimTitle(next ent.Mutator) ent.Mutator {
	return hook.TaskFunc(func(ctx context.Context, m *gen.TaskMutation) (ent.Value, error) {
		if t, ok := m.Title(); ok {
			m.SetTitle(strings.TrimSpace(t))
		}
		return next.Mutate(ctx, m)
	})
}

func bumpVersion(next ent.Mutator) ent.Mutator {
	return hook.TaskFunc(func(ctx context.Context, m *gen.TaskMutation) (ent.Value, error) {
		if _, set := m.AddedVersion(); !set {
			m.AddVersion(1)
		}
		return next.Mutate(ctx, m)
	})
}

// Policy of the task: admins see and change everything; members their own
// tasks; viewers read their own.
func (Task) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{allowSystem(), allowAdmin(), ownedBy(task.FieldOwnerID)},
		Mutation: privacy.MutationPolicy{
			allowSystem(), requireRole(auth.RoleMember), allowAdmin(), ownedBy(task.FieldOwnerID),
		},
	}
}
