package graph

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/requestid"
)

type driverTx = driver.Tx

// openTx opens the mutation's transaction. A failure here is the database's
// (down, or no connection free within the pool wait); entgql would put its
// text in the response, so it is logged and the client-safe error recorded
// for codeTxErrors.
func openTx(ctx context.Context, client *ent.Client, log *slog.Logger) (context.Context, driver.Tx, error) {
	txCtx, tx, err := client.OpenTx(ctx)
	if err != nil {
		log.WarnContext(ctx, "opening transaction failed", "request_id", requestid.From(ctx), "err", err)
		return nil, nil, recordTxFailure(ctx, err)
	}
	return txCtx, loggedTx{Tx: tx, ctx: ctx, log: log}, nil
}

// loggedTx keeps the driver's words about a failed commit in the log.
type loggedTx struct {
	driver.Tx
	ctx context.Context
	log *slog.Logger
}

func (t loggedTx) Commit() error {
	err := t.Tx.Commit()
	if err == nil {
		return nil
	}
	t.log.WarnContext(t.ctx, "commit failed", "request_id", requestid.From(t.ctx), "err", err)
	return recordTxFailure(t.ctx, err)
}

// txFailure carries the client-safe form of a transaction error from
// openTx or loggedTx out to codeTxErrors: entgql reports those errors with
// graphql.ErrorResponse, as text with no code, past the error presenter.
type txFailure struct{ err *apperr.Error }

type txFailureKey struct{}

func recordTxFailure(ctx context.Context, err error) error {
	safe, ok := apperr.As(err)
	if !ok {
		safe = &apperr.Error{Code: apperr.Internal, Message: "internal error"}
		if apperr.IsUnavailable(err) {
			safe = apperr.ErrUnavailable
		}
	}
	if f, ok := ctx.Value(txFailureKey{}).(*txFailure); ok {
		f.err = safe
	}
	return safe
}

// codeTxErrors replaces entgql's transaction errors (the only errors that
// reach it with no code) by the recorded client-safe error, so that their
// message and code are ours. It must wrap the Transactioner.
func codeTxErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	f := &txFailure{}
	resp := next(context.WithValue(ctx, txFailureKey{}, f))
	if resp == nil {
		return resp
	}
	safe := f.err
	if safe == nil {
		safe = &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	}
	for _, e := range resp.Errors {
		if e.Extensions["code"] != nil {
			continue
		}
		e.Message = safe.Message
		e.Extensions = map[string]any{"code": string(safe.Code)}
	}
	return resp
}

// depthLimit refuses operations nested deeper than max, which complexity
// alone does not catch cheaply (each level may be a single object).
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0, d.max); depth > d.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation is nested deeper than the limit of %d levels", d.max),
			Extensions: map[string]any{"code": codeDepth},
		}
	}
	return nil
}

// selectionDepth measures nesting, following fragments; it stops counting
// once past limit so a hostile document costs little.
func selectionDepth(set ast.SelectionSet, depth, limit int) int {
	if depth > limit {
		return depth
	}
	deepest := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = depth + 1
			} else {
				d = selectionDepth(s.SelectionSet, depth+1, limit)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, depth, limit)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, depth, limit)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// observeOperations reports each operation's name, type, outcome code and
// duration. Anonymous operations are reported as "anonymous"; names come
// from a parsed and validated document, so they are bounded by what clients
// send, and are cut to 64 characters to keep label values sane.
func observeOperations(report func(ctx context.Context, name, opType, code string, d time.Duration)) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		name, opType := "anonymous", "unknown"
		if oc.Operation != nil {
			opType = string(oc.Operation.Operation)
			if oc.Operation.Name != "" {
				name = oc.Operation.Name
			}
		}
		if len(name) > 64 {
			name = name[:64]
		}
		code := "OK"
		if resp != nil && len(resp.Errors) > 0 {
			code = string(apperr.Internal)
			if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
				code = c
			}
		}
		if opType == string(ast.Subscription) {
			// A subscription "response" is each event; count only the start.
			if resp == nil || resp.Data == nil {
				return resp
			}
		}
		report(ctx, name, opType, code, time.Since(oc.Stats.OperationStart))
		return resp
	}
}
