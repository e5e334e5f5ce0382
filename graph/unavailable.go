package graph

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskmind/taskmind/internal/apperr"
)

// Outcome lets the HTTP layer learn that a whole GraphQL request failed for
// want of the database (no data, every error UNAVAILABLE), so that it can
// answer 503 with Retry-After like REST does: proxies, load balancers and
// client retry policies act on the status, not on extensions.code.
type Outcome struct{ unavailable atomic.Bool }

// Unavailable reports whether the request failed as a whole as UNAVAILABLE.
func (o *Outcome) Unavailable() bool { return o != nil && o.unavailable.Load() }

type outcomeKey struct{}

// WithOutcome returns a context that records the request's outcome in o.
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// recordOutcome marks a response with no data whose errors are all
// UNAVAILABLE.
func recordOutcome(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	o, _ := ctx.Value(outcomeKey{}).(*Outcome)
	if o == nil || resp == nil || len(resp.Errors) == 0 {
		return resp
	}
	if len(resp.Data) > 0 && !bytes.Equal(bytes.TrimSpace(resp.Data), []byte("null")) {
		return resp
	}
	for _, e := range resp.Errors {
		if c, _ := e.Extensions["code"].(string); c != string(apperr.Unavailable) {
			return resp
		}
	}
	o.unavailable.Store(true)
	return resp
}
