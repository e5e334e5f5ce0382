// Package apperr defines the errors Taskmind shows to clients. Each carries a
// stable code that GraphQL puts in extensions.code and REST in its JSON
// body; anything that is not an *Error is internal and is never shown.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error class.
type Code string

// The codes clients may rely on.
const (
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Forbidden       Code = "FORBIDDEN"
	Unauthenticated Code = "UNAUTHENTICATED"
	TooManyRequests Code = "TOO_MANY_REQUESTS"
	// Unavailable is a fault of this replica or its database, not of the
	// request: the same request may succeed if retried a little later.
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
)

// Error is an error safe to show to a client.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field, when there is one.
	Field string
}

func (e *Error) Error() string { return e.Message }

// New returns an error with a code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports bad input in a named field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns the client-safe error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns err's code, or Internal for anything unknown.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}
