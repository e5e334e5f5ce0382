package schema

import (
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/taskmind/taskmind/ent/privacy"
	"github.com/taskmind/taskmind/ent/user"
)

// User is a person (or the owner of scripts) who signs in to Taskmind.
type User struct{ ent.Schema }

// Mixin adds the timestamps.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{timestamps{}} }

// Fields of the user.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").
			MaxLen(320).
			NotEmpty().
			// Emails are compared case-insensitively everywhere, so they are
			// stored lower-cased once instead of folded in every query.
			Validate(func(s string) error {
				if s != strings.ToLower(strings.TrimSpace(s)) {
					return errNotNormalised
				}
				return nil
			}).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").
			MaxLen(200).
			Default("").
			Annotations(entgql.OrderField("NAME")),
		field.String("avatar_url").
			MaxLen(2048).
			Optional().
			Annotations(entgql.MapsTo("avatarURL")),
		field.Enum("role").
			NamedValues(
				"Admin", "ADMIN",
				"Member", "MEMBER",
				"Viewer", "VIEWER",
			).
			Default("MEMBER").
			Annotations(entgql.OrderField("ROLE")),
		field.Bool("disabled").
			Default(false),
	}
}

// Edges of the user.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tasks", Task.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("identities", Identity.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("sessions", Session.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("api_tokens", APIToken.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("login_links", LoginLink.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("models", MLModel.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("predictions", Prediction.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the user.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("email").Unique()}
}

// Annotations of the user.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Directives(hasRole("ADMIN")),
	}
}

// Policy of the user: everyone sees themselves, admins everyone; only
// admins (and the server itself, at sign-in) change users.
func (User) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), allowAdmin(), ownedBy(user.FieldID)},
		Mutation: privacy.MutationPolicy{allowSystem(), allowAdmin(), denyAll()},
	}
}
