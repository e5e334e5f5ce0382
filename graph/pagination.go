package graph

import (
	"github.com/taskmind/taskmind/internal/apperr"
)

// Page size bounds for every connection.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// pageBounds applies the default page size and refuses out-of-range sizes
// rather than silently clamping them, so a client never mistakes a short
// page for the end of the list. backwards (a before cursor) makes the
// default page the last one before the cursor.
func pageBounds(first, last *int, backwards bool) (*int, *int, error) {
	if first != nil && last != nil {
		return nil, nil, apperr.Invalid("first", "pass either first or last, not both")
	}
	for _, p := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if p.v != nil && (*p.v < 1 || *p.v > MaxPageSize) {
			return nil, nil, apperr.Invalid(p.name, "%s must be between 1 and %d, got %d", p.name, MaxPageSize, *p.v)
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		if backwards {
			last = &n
		} else {
			first = &n
		}
	}
	return first, last, nil
}
