package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/idempotencykey"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/requestid"
)

const (
	// idempotencyHeader is the header's name as in the IETF draft
	// (draft-ietf-httpapi-idempotency-key-header).
	idempotencyHeader = "Idempotency-Key"
	// idempotencyTTL is how long a key's first response is replayed.
	idempotencyTTL = 24 * time.Hour
	// idempotencyMaxResponse caps what is stored; a bigger first response
	// is answered but not kept (the key then acts as if never sent).
	idempotencyMaxResponse = 1 << 20
	// idempotencyPoll is how often a retry waiting on a key still in
	// flight (on this replica or another) looks again.
	idempotencyPoll = 25 * time.Millisecond
)

// idempotent makes a create safe to retry: the same Idempotency-Key from
// the same user on the same route within a day gets the first response,
// byte for byte, and writes nothing more. The key row is inserted before
// the request runs; its unique index decides which of two racing requests
// (on any replica) runs, and the other waits for the first to finish and
// replays it. A first request that fails with 5xx (or never finishes)
// frees the key, so a retry runs again.
//
// Only JSON bodies take part: the request hash covers the body, and a
// multipart model upload would have to be held in memory to hash it.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.Header.Get(idempotencyHeader)
		if key == "" || req.Method != http.MethodPost {
			return next(c)
		}
		if len(key) > 255 || !printableASCII(key) {
			return badRequest(idempotencyHeader, "%s must be 1 to 255 printable ASCII characters", idempotencyHeader)
		}
		if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
			return badRequest(idempotencyHeader, "%s is supported on application/json requests only", idempotencyHeader)
		}
		v := auth.FromContext(req.Context())
		if !v.SignedIn() {
			return next(c)
		}
		body, err := readBounded(req)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		scope := req.Method + " " + c.Path()

		ctx := auth.SystemContext(req.Context())
		s.pruneIdempotencyKeys(ctx)
		for {
			row, err := s.deps.DB.Client.IdempotencyKey.Create().
				SetUserID(v.UserID).SetScope(scope).SetKey(key).SetRequestSha256(hash).
				SetCreatedAt(time.Now()).Save(ctx)
			if err == nil {
				return s.runIdempotent(c, next, row.ID)
			}
			if !ent.IsConstraintError(err) {
				return err
			}
			done, err := s.replayIdempotent(c, ctx, v.UserID, scope, key, hash)
			if done || err != nil {
				return err
			}
			// The key was freed (a failed or abandoned first request):
			// try to take it again.
		}
	}
}

// runIdempotent runs the first request with a key and keeps its response.
func (s *Server) runIdempotent(c echo.Context, next echo.HandlerFunc, id int) error {
	rec := &recordingWriter{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	err := next(c)
	if err != nil {
		c.Error(err) // written now, so that it is recorded too
	}
	ctx := auth.SystemContext(context.WithoutCancel(c.Request().Context()))
	status := c.Response().Status
	if status >= 500 || rec.overflow || !c.Response().Committed {
		if derr := s.deps.DB.Client.IdempotencyKey.DeleteOneID(id).Exec(ctx); derr != nil {
			s.deps.Log.WarnContext(ctx, "freeing an idempotency key failed", "request_id", requestid.From(ctx), "err", derr)
		}
		return nil
	}
	if uerr := s.deps.DB.Client.IdempotencyKey.UpdateOneID(id).SetStatus(status).
		SetContentType(c.Response().Header().Get(echo.HeaderContentType)).SetResponse(rec.body.Bytes()).Exec(ctx); uerr != nil {
		// The write itself succeeded; a retry would now run it again, so
		// say so in the log, but the client has its answer.
		s.deps.Log.ErrorContext(ctx, "recording an idempotent response failed", "request_id", requestid.From(ctx), "err", uerr)
	}
	return nil
}

// replayIdempotent answers a request whose key is taken: with the stored
// response once there is one, CONFLICT for a different request under the
// same key. It reports false when the key turned out to be free.
func (s *Server) replayIdempotent(c echo.Context, ctx context.Context, userID int, scope, key, hash string) (bool, error) {
	for {
		row, err := s.deps.DB.Client.IdempotencyKey.Query().Where(
			idempotencykey.UserID(userID), idempotencykey.Scope(scope), idempotencykey.Key(key)).Only(ctx)
		if ent.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return true, err
		}
		age := time.Since(row.CreatedAt)
		if age > idempotencyTTL || (row.Status == 0 && age > s.deps.Config.RequestTimeout+5*time.Second) {
			// Expired, or the first request died without finishing: free it.
			_, _ = s.deps.DB.Client.IdempotencyKey.Delete().Where(idempotencykey.ID(row.ID), idempotencykey.CreatedAt(row.CreatedAt)).Exec(ctx)
			return false, nil
		}
		if row.RequestSha256 != hash {
			return true, &httpError{status: http.StatusUnprocessableEntity, body: restErrorBody{Code: string(apperr.Conflict),
				Field: idempotencyHeader, Message: "this Idempotency-Key was already used for a different request"}}
		}
		if row.Status != 0 {
			h := c.Response().Header()
			h.Set("Idempotent-Replayed", "true")
			h.Set(echo.HeaderContentType, row.ContentType)
			h.Set(echo.HeaderContentLength, strconv.Itoa(len(row.Response)))
			c.Response().WriteHeader(row.Status)
			_, err := c.Response().Write(row.Response)
			return true, err
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(idempotencyPoll):
		}
	}
}

// pruneIdempotencyKeys deletes expired keys, at most once a minute per
// replica, on the request path (one indexed delete).
func (s *Server) pruneIdempotencyKeys(ctx context.Context) {
	now := time.Now()
	last := s.idempotencyPruned.Load()
	if now.UnixNano()-last < int64(time.Minute) || !s.idempotencyPruned.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if _, err := s.deps.DB.Client.IdempotencyKey.Delete().Where(idempotencykey.CreatedAtLT(now.Add(-idempotencyTTL))).Exec(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.deps.Log.WarnContext(ctx, "pruning idempotency keys failed", "err", err)
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// recordingWriter keeps a copy of what is written, up to a cap.
type recordingWriter struct {
	http.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.overflow {
		if w.body.Len()+len(b) > idempotencyMaxResponse {
			w.overflow = true
			w.body.Reset()
		} else {
			w.body.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
