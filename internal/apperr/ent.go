package apperr

import (
	"errors"
	"strings"

	"github.com/taskmind/taskmind/ent"
)

// FromEnt turns ent's errors into client-safe ones; what names the object
// in messages (empty: take it from ent's error). Validation messages are
// our own validators' words (see ent/schema) and are safe to show; a
// constraint violation never shows the driver's text, which may quote SQL.
func FromEnt(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	if IsUnavailable(err) {
		return ErrUnavailable
	}
	var ve *ent.ValidationError
	switch {
	case errors.As(err, &ve):
		field := ve.Name
		msg := "invalid value"
		// ent wraps our validator's error in its own sentence that names
		// the Go type; show our words only.
		for inner := errors.Unwrap(ve); inner != nil; inner = errors.Unwrap(inner) {
			msg = inner.Error()
		}
		if !strings.Contains(msg, field) {
			msg = field + ": " + msg
		}
		return &Error{Code: BadUserInput, Field: field, Message: msg}
	case ent.IsNotFound(err):
		if what == "" {
			// ent says "ent: <type> not found"; the type name is ours.
			return New(NotFound, "%s", strings.TrimPrefix(err.Error(), "ent: "))
		}
		return New(NotFound, "%s not found", what)
	case ent.IsConstraintError(err):
		if what == "" {
			what = "the change"
		}
		return New(Conflict, "%s conflicts with existing data", what)
	}
	return err
}
