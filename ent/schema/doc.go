// Package schema holds Taskmind's ent schema: the single place where the data
// model, its validation and its GraphQL exposure (through entgql annotations)
// are declared. Everything else under ent/ is generated from it.
package schema
