package apperr

import (
	"errors"
	"strings"

	"github.com/taskmind/taskmind/ent"
)

// FromEnt turns ent's errors into client-safe ones. Validation messages are
// our own validators' words (see ent/schema) and are safe to show; a
// constraint violation never shows the driver's text, which may quote SQL.
func FromEnt(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	var ve *ent.ValidationError
	switch {
	case errors.As(err, &ve):
		field := ve.Name
		msg := "invalid value"
		if inner := errors.Unwrap(ve); inner != nil {
			msg = inner.Error()
		}
		if !strings.Contains(msg, field) {
			msg = field + ": " + msg
		}
		return &Error{Code: BadUserInput, Field: field, Message: msg}
	case ent.IsNotFound(err):
		return New(NotFound, "%s not found", what)
	case ent.IsConstraintError(err):
		return New(Conflict, "%s conflicts with existing data", what)
	}
	return err
}
