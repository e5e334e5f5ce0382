package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/requestid"
)

// restError is the JSON body of every REST error.
type restError struct {
	Error restErrorBody `json:"error"`
}

type restErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// httpError is an error with an HTTP status and a client-safe body.
type httpError struct {
	status int
	body   restErrorBody
}

func (e *httpError) Error() string { return e.body.Message }

var errInternal = &httpError{status: http.StatusInternalServerError, body: restErrorBody{Code: string(apperr.Internal), Message: "internal error"}}

func errTooLarge(limit int64) error {
	return &httpError{status: http.StatusRequestEntityTooLarge, body: restErrorBody{
		Code: "PAYLOAD_TOO_LARGE", Message: fmt.Sprintf("request body is larger than the limit of %d bytes", limit)}}
}

func badRequest(field, format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, body: restErrorBody{
		Code: string(apperr.BadUserInput), Message: fmt.Sprintf(format, args...), Field: field}}
}

var statusOf = map[apperr.Code]int{
	apperr.BadUserInput:    http.StatusBadRequest,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.TooManyRequests: http.StatusTooManyRequests,
	apperr.Unavailable:     http.StatusServiceUnavailable,
}

// retryAfterSeconds is what a 503 asks clients to wait: about the time a
// pool wait or a database restart takes to clear.
const retryAfterSeconds = "2"

// errorHandler writes every error as JSON with a stable code. Errors that
// are neither ours nor Echo's routing errors are logged and hidden.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	he := s.toHTTPError(c, err)
	if he.status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(he.status)
		return
	}
	if c.Path() == "/graphql" {
		// Refused before gqlgen ran (too large, unavailable, bad input):
		// GraphQL clients read errors[].extensions, not REST's shape.
		ext := map[string]any{"code": he.body.Code}
		if he.body.Field != "" {
			ext["field"] = he.body.Field
		}
		_ = c.JSON(he.status, map[string]any{"errors": []map[string]any{{"message": he.body.Message, "extensions": ext}}})
		return
	}
	_ = c.JSON(he.status, restError{Error: he.body})
}

func (s *Server) toHTTPError(c echo.Context, err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	if e, ok := apperr.As(err); ok {
		status, ok := statusOf[e.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return &httpError{status: status, body: restErrorBody{Code: string(e.Code), Message: e.Message, Field: e.Field}}
	}
	if apperr.IsUnavailable(err) {
		s.deps.Log.WarnContext(c.Request().Context(), "request failed: database unavailable",
			"request_id", requestid.From(c.Request().Context()), "err", err)
		return &httpError{status: http.StatusServiceUnavailable, body: restErrorBody{
			Code: string(apperr.Unavailable), Message: apperr.ErrUnavailable.Message}}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge(mbe.Limit).(*httpError)
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) && ee.Code < 500 {
		code := "BAD_REQUEST"
		switch ee.Code {
		case http.StatusNotFound:
			code = string(apperr.NotFound)
		case http.StatusMethodNotAllowed:
			code = "METHOD_NOT_ALLOWED"
		case http.StatusUnsupportedMediaType:
			code = "UNSUPPORTED_MEDIA_TYPE"
		case http.StatusRequestEntityTooLarge:
			code = "PAYLOAD_TOO_LARGE"
		}
		return &httpError{status: ee.Code, body: restErrorBody{Code: code, Message: http.StatusText(ee.Code)}}
	}
	s.deps.Log.ErrorContext(c.Request().Context(), "request failed",
		"request_id", requestid.From(c.Request().Context()), "err", err)
	return errInternal
}

func (s *Server) notFound(c echo.Context) error {
	return &httpError{status: http.StatusNotFound, body: restErrorBody{Code: string(apperr.NotFound), Message: "no such route"}}
}
