package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/taskmind/taskmind/ent/apitoken"
	"github.com/taskmind/taskmind/ent/privacy"
)

// Identity links a user to an account at an OAuth / OpenID Connect
// provider. Users are matched by provider + subject, never by email, since
// an email address at one provider proves nothing about another.
type Identity struct{ ent.Schema }

// Mixin adds the timestamps.
func (Identity) Mixin() []ent.Mixin { return []ent.Mixin{timestamps{}} }

// Fields of the identity.
func (Identity) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").NotEmpty().MaxLen(64).Immutable(),
		field.String("subject").NotEmpty().MaxLen(255).Immutable(),
		field.String("email").MaxLen(320).Optional(),
		field.Int("user_id").Immutable(),
	}
}

// Edges of the identity.
func (Identity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("identities").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the identity.
func (Identity) Indexes() []ent.Index {
	return []ent.Index{index.Fields("provider", "subject").Unique()}
}

// Annotations of the identity: not part of the GraphQL API.
func (Identity) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Session is a signed-in browser. Only a hash of its ID is stored, so a
// database leak does not hand out sessions, and deleting the row signs the
// browser out on every replica at once.
type Session struct{ ent.Schema }

// Fields of the session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("id_hash").Sensitive().Unique().Immutable().MaxLen(32),
		field.Int("user_id").Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("last_seen_at"),
		field.Time("expires_at").Immutable(),
	}
}

// Edges of the session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session: sessions are listed and revoked per user.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}

// Annotations of the session: not part of the GraphQL API.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// APIToken lets scripts and third-party clients act as a user. The token
// itself is shown once; only its hash and last four characters are kept.
type APIToken struct{ ent.Schema }

// Fields of the token.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.Bytes("token_hash").Sensitive().Unique().Immutable().MaxLen(32).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("last4").Immutable(),
		field.Int("user_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Optional().Nillable().Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of the token.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("api_tokens").Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the APIToken: tokens are listed and revoked per user.
func (APIToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}

// Annotations of the token: a GraphQL type, listed through custom fields.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("APIToken"), entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// LoginLink is a one-time sign-in link (first run, or the login-link
// command): single use, short-lived, stored hashed.
type LoginLink struct{ ent.Schema }

// Fields of the link.
func (LoginLink) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Sensitive().Unique().Immutable().MaxLen(32),
		field.Int("user_id").Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Edges of the link.
func (LoginLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("login_links").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the LoginLink: links are revoked per user.
func (LoginLink) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}

// Annotations of the link: not part of the GraphQL API.
func (LoginLink) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of identities, sessions and login links: only the server itself
// reads or writes them (internal/identity does so with a system context).
func (Identity) Policy() ent.Policy { return systemOnly() }

// Policy of the session: see Identity.
func (Session) Policy() ent.Policy { return systemOnly() }

// Policy of the login link: see Identity.
func (LoginLink) Policy() ent.Policy { return systemOnly() }

// Policy of the API token: each user sees and revokes their own; admins all.
func (APIToken) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), allowAdmin(), ownedBy(apitoken.FieldUserID)},
		Mutation: privacy.MutationPolicy{allowSystem(), allowAdmin(), ownedBy(apitoken.FieldUserID)},
	}
}

func systemOnly() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), denyAll()},
		Mutation: privacy.MutationPolicy{allowSystem(), denyAll()},
	}
}
