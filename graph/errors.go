package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/requestid"
)

// Codes gqlgen itself produces, which clients also rely on.
const (
	codeParseFailed      = "GRAPHQL_PARSE_FAILED"
	codeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	codeComplexity       = "COMPLEXITY_LIMIT_EXCEEDED"
	codeDepth            = "DEPTH_LIMIT_EXCEEDED"
)

// errorPresenter gives every error a stable extensions.code. Resolver
// errors reach it already sorted by classifyResolverErrors: client-safe
// *apperr.Error values keep their message, anything else is internal and
// becomes "internal error", logged once with the request ID. What remains
// comes from gqlgen itself: parse, validation and limit errors (which carry
// their own code) and argument coercion errors (a malformed Time, say), which
// describe the client's input and are BAD_USER_INPUT.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		gerr.Message = withoutSuggestion(gerr.Message)
		var internal *internalError
		if errors.As(err, &internal) {
			log.ErrorContext(ctx, "graphql resolver failed",
				"request_id", requestid.From(ctx), "path", gerr.Path.String(), "err", internal.err)
			return &gqlerror.Error{
				Message:    "internal error",
				Path:       gerr.Path,
				Extensions: map[string]any{"code": string(apperr.Internal)},
			}
		}
		if e, ok := apperr.As(err); ok {
			gerr.Message = e.Message
			gerr.Extensions = map[string]any{"code": string(e.Code)}
			if e.Field != "" {
				gerr.Extensions["field"] = e.Field
			}
			return gerr
		}
		if gerr.Extensions == nil || gerr.Extensions["code"] == nil {
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["code"] = string(apperr.BadUserInput)
		}
		return gerr
	}
}

// internalError marks a resolver error that must not be shown to clients.
type internalError struct{ err error }

func (e *internalError) Error() string { return "internal error" }
func (e *internalError) Unwrap() error { return e.err }

// classifyResolverErrors runs around every resolver: ent's not-found,
// validation and constraint errors become client errors, and anything else
// that is not already an *apperr.Error is marked internal.
func classifyResolverErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err == nil {
		return res, nil
	}
	err = apperr.FromEnt(err, "")
	if _, ok := apperr.As(err); ok {
		return res, err
	}
	var internal *internalError
	if errors.As(err, &internal) {
		return res, err
	}
	return res, &internalError{err: err}
}

// recoverFunc turns a resolver panic into an internal error; the stack goes
// to the log, never to the client.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql resolver panicked",
			"request_id", requestid.From(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("internal error")
	}
}

// withoutSuggestion cuts gqlparser's "Did you mean ...?" tail: some
// validator rules (unknown arguments among them) add it even with
// suggestions disabled, and it lists the schema to a client that guesses.
func withoutSuggestion(msg string) string {
	if i := strings.Index(msg, " Did you mean"); i >= 0 {
		return msg[:i]
	}
	return msg
}
