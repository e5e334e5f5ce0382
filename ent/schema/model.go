package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/taskmind/taskmind/ent/privacy"
	"github.com/taskmind/taskmind/ent/schema/tensor"
)

// jsonAsText stores JSON in a text column on PostgreSQL: lib/pq sends
// []byte parameters in binary (binary_parameters, one round trip per query),
// which jsonb's binary input format would reject; nothing queries inside it.
var jsonAsText = map[string]string{dialect.Postgres: "text"}

// MLModel is an ONNX model in the registry. Every replica loads the same
// models from here; the file itself is in ModelBlob so that listing models
// never reads megabytes. The built-in model has a row but no blob (its bytes
// ship inside the binary).
type MLModel struct{ ent.Schema }

// Mixin adds the timestamps.
func (MLModel) Mixin() []ent.Mixin { return []ent.Mixin{timestamps{}} }

// Fields of the model.
func (MLModel) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Unique().Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.String("version").NotEmpty().MaxLen(32),
		field.String("description").MaxLen(2000).Default(""),
		field.JSON("inputs", []tensor.Spec{}).SchemaType(jsonAsText).Annotations(entgql.Type("[TensorSpec!]")),
		field.JSON("outputs", []tensor.Spec{}).SchemaType(jsonAsText).Annotations(entgql.Type("[TensorSpec!]")),
		field.JSON("labels", []string{}).SchemaType(jsonAsText).Optional(),
		field.JSON("operators", []string{}).SchemaType(jsonAsText).Optional(),
		field.String("sha256").MaxLen(64).Annotations(entgql.MapsTo("sha256")),
		field.Int64("size_bytes"),
		field.Int64("parameters").Default(0),
		field.Bool("builtin").Default(false),
		field.Int("uploaded_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the model.
func (MLModel) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("blob", ModelBlob.Type).Unique().Annotations(entgql.Skip(entgql.SkipAll), entsqlCascade()),
		edge.From("uploaded_by", User.Type).Ref("models").Field("uploaded_by_id").Unique(),
	}
}

// Annotations of the model: GraphQL type Model, listed through custom fields.
func (MLModel) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Type("Model"),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the model: everyone signed in reads; admins (and the server
// itself, loading the built-in model) write.
func (MLModel) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowSystem(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{allowSystem(), allowAdmin(), denyAll()},
	}
}

// ModelBlob holds an uploaded model's bytes.
type ModelBlob struct{ ent.Schema }

// Fields of the blob.
func (ModelBlob) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("data").MaxLen(1 << 30),
		field.Int("model_id").Unique(),
	}
}

// Edges of the blob.
func (ModelBlob) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("model", MLModel.Type).Ref("blob").Field("model_id").Unique().Required(),
	}
}

// Annotations of the blob: not part of the GraphQL API.
func (ModelBlob) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the blob: see MLModel.
func (ModelBlob) Policy() ent.Policy { return MLModel{}.Policy() }

// Prediction records one inference request: who asked, which model
// version, a hash of the input, the top result and how long it took.
type Prediction struct{ ent.Schema }

// Fields of the prediction.
func (Prediction) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("model").Immutable(),
		field.String("model_version").Immutable(),
		field.String("input_sha256").Immutable().Annotations(entgql.MapsTo("inputSha256")),
		field.Int("top_index").Immutable(),
		field.String("top_label").Optional().Immutable(),
		field.Float("top_score").Immutable(),
		field.Float("latency_ms").Immutable(),
		field.String("source").Immutable().Comment("graphql or v2"),
		field.Time("created_at").Immutable().Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the prediction.
func (Prediction) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("predictions").Field("user_id").Unique().Immutable(),
	}
}

// Indexes of the prediction: history is listed per user, newest first
// (by id or by created_at), and everyone's by admins.
func (Prediction) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "id"),
		index.Fields("user_id", "created_at"),
		index.Fields("created_at"),
	}
}

// Annotations of the prediction.
func (Prediction) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Directives(hasRole("VIEWER")),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the prediction: each user reads their own history, admins all.
// Rows are written by the server only, for the caller.
func (Prediction) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{allowSystem(), allowAdmin(), ownedBy("user_id")},
		Mutation: privacy.MutationPolicy{
			allowSystem(),
			privacy.OnMutationOperation(ownedBy("user_id"), ent.OpCreate),
			denyAll(),
		},
	}
}
