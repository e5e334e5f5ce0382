package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/schema/priority"
	"github.com/taskmind/taskmind/ent/task"
	"github.com/taskmind/taskmind/internal/auth"
)

// The seed's REST contract, kept for old scripts:
//
//	GET  /tasks  -> 200 {"tasks": [...], "next": "<cursor or empty>"}
//	POST /tasks  {"title": "...", "done": false} -> 201 {task}
//
// GET pages by id (limit default 100, at most 1000; ?after=<id> continues)
// so an old script that reads everything still can, a page at a time.

// restTask is a task as the REST API shows it.
type restTask struct {
	ID          int               `json:"id"`
	Title       string            `json:"title"`
	Done        bool              `json:"done"`
	Description *string           `json:"description"`
	Priority    priority.Priority `json:"priority"`
	DueAt       *time.Time        `json:"dueAt"`
	Version     int               `json:"version"`
	OwnerID     *int              `json:"ownerId"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

func toREST(t *ent.Task) restTask {
	rt := restTask{
		ID: t.ID, Title: t.Title, Done: t.Done, Description: t.Description, Priority: t.Priority,
		DueAt: t.DueAt, Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
	if t.OwnerID != 0 {
		id := t.OwnerID
		rt.OwnerID = &id
	}
	return rt
}

const (
	restDefaultLimit = 100
	restMaxLimit     = 1000
)

func (s *Server) listTasks(c echo.Context) error {
	limit := restDefaultLimit
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > restMaxLimit {
			return badRequest("limit", "limit must be an integer between 1 and %d", restMaxLimit)
		}
		limit = n
	}
	q := s.deps.DB.Client.Task.Query().Order(ent.Asc(task.FieldID)).Limit(limit + 1)
	if v := c.QueryParam("after"); v != "" {
		after, err := strconv.Atoi(v)
		if err != nil {
			return badRequest("after", "after must be a task id")
		}
		q.Where(task.IDGT(after))
	}
	ts, err := q.All(c.Request().Context())
	if err != nil {
		return err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		next = strconv.Itoa(ts[len(ts)-1].ID)
	}
	out := make([]restTask, len(ts))
	for i, t := range ts {
		out[i] = toREST(t)
	}
	return c.JSON(http.StatusOK, map[string]any{"tasks": out, "next": next})
}

// restCreate is the body of POST /tasks. Pointers tell "absent" from zero.
type restCreate struct {
	Title       *string            `json:"title"`
	Done        *bool              `json:"done"`
	Description *string            `json:"description"`
	Priority    *priority.Priority `json:"priority"`
	DueAt       *time.Time         `json:"dueAt"`
}

func (s *Server) createTask(c echo.Context) error {
	var in restCreate
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Title == nil {
		return badRequest("title", "title is required")
	}
	t, err := s.tasks.Create(c.Request().Context(), ent.CreateTaskInput{
		Title: *in.Title, Done: in.Done, Description: in.Description, Priority: in.Priority, DueAt: in.DueAt,
	}, auth.FromContext(c.Request().Context()).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toREST(t))
}

// decodeJSON reads exactly one JSON object with no unknown fields, and names
// the problem when the body is not that.
func decodeJSON(c echo.Context, dst any) error {
	ct, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || ct != echo.MIMEApplicationJSON {
		return &httpError{status: http.StatusUnsupportedMediaType, body: restErrorBody{
			Code: "UNSUPPORTED_MEDIA_TYPE", Message: "Content-Type must be application/json"}}
	}
	raw, err := readBounded(c.Request())
	if err != nil {
		return err
	}
	if err := checkJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest("", "request body must hold a single JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
		mbe     *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return errTooLarge(mbe.Limit)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "request body is not valid JSON")
	case errors.Is(err, io.EOF):
		return badRequest("", "request body is empty; expected a JSON object")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return badRequest("", "request body must be a JSON object")
		}
		return badRequest(typeErr.Field, "%s must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, "unknown field %q", field)
	}
	// Errors from our own UnmarshalText (priority) or time parsing.
	return badRequest("", "invalid value: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "ptr", "struct":
		return "valid value"
	}
	return "number"
}
