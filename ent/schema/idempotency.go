package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyKey remembers the first response to a create sent with an
// Idempotency-Key header, so that a client retrying after a timeout gets the
// same answer instead of a second row. The unique index is what makes two
// replicas racing on one key agree: one inserts, the other waits and
// replays. Rows older than a day are ignored and pruned.
type IdempotencyKey struct{ ent.Schema }

// Fields of the key.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		// scope is the route the key was used on ("POST /tasks"), so one key
		// on two endpoints is two requests.
		field.String("scope").Immutable().MaxLen(64),
		field.String("key").Immutable().MaxLen(255),
		// request_sha256 detects a key reused for a different request.
		field.String("request_sha256").Immutable().MaxLen(64),
		// status is 0 while the first request runs.
		field.Int("status").Default(0),
		field.String("content_type").Optional().MaxLen(128),
		field.Bytes("response").Optional().MaxLen(1 << 20),
		field.Time("created_at").Immutable(),
	}
}

// Indexes of the key.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "scope", "key").Unique(),
		index.Fields("created_at"),
	}
}

// Annotations of the key: not part of the GraphQL API.
func (IdempotencyKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the key: the server only.
func (IdempotencyKey) Policy() ent.Policy { return systemOnly() }
