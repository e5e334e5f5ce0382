package apperr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/lib/pq"
)

// ErrUnavailable is what a client sees for a database that is down,
// saturated or too slow: a retryable condition, never the driver's text.
var ErrUnavailable = &Error{Code: Unavailable, Message: "the service is temporarily unavailable; retry shortly"}

// ErrPoolTimeout is returned when no database connection frees up within
// the pool wait (TASKMIND_DB_POOL_WAIT).
var ErrPoolTimeout = &Error{Code: Unavailable, Message: "the service is busy; retry shortly"}

// IsUnavailable reports whether err is a database or deadline fault that a
// retry may cure: the connection refused or lost, too many connections
// (53300), a statement timeout (57014), a serialization failure or
// deadlock (40001, 40P01), the server shutting down (57P01..57P03), or the
// request's own deadline passing while it waited on the database.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := As(err); ok {
		return e.Code == Unavailable
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := string(pqErr.Code)
		switch {
		case code == "53300", code == "57014", code == "40001", code == "40P01",
			strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"):
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF)
}
