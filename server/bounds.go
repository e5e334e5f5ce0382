package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/taskmind/taskmind/graph"
	"github.com/taskmind/taskmind/internal/auth"
)

// readBounded reads the whole (already MaxBytesReader-capped) body so that
// it can be checked as raw bytes: encoding/json silently rewrites invalid
// UTF-8 to U+FFFD, so the check has to come before any decoding.
func readBounded(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(mbe.Limit)
		}
		return nil, badRequest("", "request body could not be read")
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	return raw, nil
}

// checkJSONText refuses a JSON document with a NUL byte or invalid UTF-8 in
// any string, naming the innermost key. Each string token is compared with
// its raw bytes, so escapes that decode to garbage (a lone surrogate such as
// \ud800, which encoding/json turns into U+FFFD) are caught too. Syntax
// errors are left to the real decoder, which words them better.
func checkJSONText(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		key    bool // the next string in this object is a key
		name   string
	}
	var stack []frame
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		end := dec.InputOffset()
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		field := ""
		if top != nil {
			field = top.name
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{object: true, key: true, name: field})
			case '[':
				stack = append(stack, frame{name: field})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				field = v
			}
			if err := checkString(field, raw[start:end], v); err != nil {
				return err
			}
			if top != nil && top.object {
				if top.key {
					top.name = v
				}
				top.key = !top.key
			}
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

func checkString(field string, raw []byte, decoded string) error {
	if !utf8.Valid(raw) || (strings.ContainsRune(decoded, utf8.RuneError) && !mentionsReplacement(raw)) {
		return fieldError(field, "is not valid UTF-8")
	}
	if strings.IndexByte(decoded, 0) >= 0 {
		return fieldError(field, "contains a NUL byte")
	}
	return nil
}

// mentionsReplacement reports whether U+FFFD was really sent, literally or
// escaped, rather than produced by the decoder from a broken escape.
func mentionsReplacement(raw []byte) bool {
	lower := bytes.ToLower(raw)
	return bytes.Contains(raw, []byte("\uFFFD")) || bytes.Contains(lower, []byte(`\ufffd`))
}

func fieldError(field, problem string) error {
	if field == "" {
		return badRequest("", "a string in the request %s", problem)
	}
	return badRequest(field, "%s %s", field, problem)
}

// checkGraphQLHygiene applies the raw-text checks to the parts of a GraphQL
// request that gqlgen decodes itself.
func checkGraphQLHygiene(req *http.Request) error {
	switch req.Method {
	case http.MethodGet:
		for key, vals := range req.URL.Query() {
			for _, v := range vals {
				if !utf8.ValidString(v) {
					return fieldError(key, "is not valid UTF-8")
				}
				if key == "variables" || key == "extensions" {
					if err := checkJSONText([]byte(v)); err != nil {
						return err
					}
				}
			}
		}
	case http.MethodPost:
		if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
			return nil
		}
		raw, err := readBounded(req)
		if err != nil {
			return err
		}
		return checkJSONText(raw)
	}
	return nil
}

// boundMultipart reads a multipart request's operations and map parts under
// the JSON body limit, then decides the limit for the rest of the body: the
// large model limit only for an ADMIN's uploadModel operation, the JSON limit
// for everything else. It runs after authentication and before gqlgen reads
// anything, so a file part is never read under the wrong limit. The bytes it
// consumed are handed back to gqlgen in front of the unread remainder.
func (s *Server) boundMultipart(req *http.Request) error {
	_, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return badRequest("", "multipart request has no boundary")
	}
	small := s.deps.Config.MaxBodyBytes
	var seen bytes.Buffer
	// The head (operations, map and framing) may not exceed the JSON limit.
	if auth.FromContext(req.Context()).Role != auth.RoleAdmin && req.ContentLength > small {
		return errTooLarge(small)
	}
	tee := io.TeeReader(http.MaxBytesReader(nil, req.Body, small+64<<10), &seen)
	mr := multipart.NewReader(tee, params["boundary"])
	var ops []byte
	for _, want := range []string{"operations", "map"} {
		part, err := mr.NextPart()
		if err != nil {
			return multipartError(err, small, "multipart request must start with the operations and map parts")
		}
		if part.FormName() != want {
			return badRequest(part.FormName(), "multipart part %q must come before any file", want)
		}
		body, err := io.ReadAll(io.LimitReader(part, small+1))
		if err != nil {
			return multipartError(err, small, "multipart request could not be read")
		}
		if int64(len(body)) > small {
			return errTooLarge(small)
		}
		if err := checkJSONText(body); err != nil {
			return err
		}
		if want == "operations" {
			ops = body
		}
	}
	limit := small
	if auth.FromContext(req.Context()).Role == auth.RoleAdmin && uploadsModel(ops) {
		limit = s.uploadLimit()
	}
	if req.ContentLength > limit {
		return errTooLarge(limit)
	}
	// The limit covers the whole body, the head included.
	rest := io.Reader(http.MaxBytesReader(nil, req.Body, limit-int64(seen.Len())))
	if limit == small {
		// Small enough to hold: reading it here turns an oversized
		// chunked body into a 413 (gqlgen would call it a bad file, 422).
		tail, err := io.ReadAll(rest)
		if err != nil {
			return multipartError(err, small, "multipart request could not be read")
		}
		rest = bytes.NewReader(tail)
	}
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(seen.Bytes()), rest), req.Body}
	return nil
}

func multipartError(err error, limit int64, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge(limit)
	}
	return badRequest("", "%s", msg)
}

// uploadsModel reports whether a multipart request's operations part is a
// single operation whose root fields include uploadModel; batches and
// anything unparsable get the small limit (gqlgen then refuses them anyway).
func uploadsModel(ops []byte) bool {
	var op struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(ops, &op) != nil {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: op.Query}, graph.ParserTokenLimit)
	if err != nil {
		return false
	}
	for _, o := range doc.Operations {
		if o.Operation != ast.Mutation || (op.OperationName != "" && o.Name != op.OperationName) {
			continue
		}
		for _, sel := range o.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && f.Name == "uploadModel" {
				return true
			}
		}
	}
	return false
}
