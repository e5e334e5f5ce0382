package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// filler is an endless stream of one byte, so a test can send a huge body
// without holding it in memory.
type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// postMultipart streams a multipart body built from head, n filler bytes and
// tail, chunked (no Content-Length), and returns the status and body.
func postMultipart(t *testing.T, in *instance, a actor, boundary, head string, n int64, tail string) (int, string) {
	t.Helper()
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(filler{}, n), strings.NewReader(tail))
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("GraphQL-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+a.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The server may answer and close before the whole body is sent.
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// allocatedDuring is how many bytes the whole process (server included)
// allocated while f ran: an upper bound on the server's heap growth.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestMultipartIsBoundedBeforeParsing(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)
	const b = "XbOuNdArY"
	const limit = 32 << 20

	t.Run("16 MiB operations part", func(t *testing.T) {
		var status int
		var body string
		alloc := allocatedDuring(func() {
			status, body = postMultipart(t, in, viewer, b,
				"--"+b+"\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\",\"x\":\"", 16<<20,
				"\"}\r\n--"+b+"\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--"+b+"--\r\n")
		})
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d %.200s, want 413", status, body)
		}
		t.Logf("allocated %d KiB", alloc>>10)
		if alloc > limit {
			t.Errorf("allocated %d MiB serving it, want under 32 MiB", alloc>>20)
		}
	})

	t.Run("60 MiB chunked file part", func(t *testing.T) {
		var status int
		var body string
		ops := `{"query":"mutation($f: Upload!) { uploadModel(file: $f, name: \"x\") { name } }","variables":{"f":null}}`
		alloc := allocatedDuring(func() {
			status, body = postMultipart(t, in, viewer, b,
				"--"+b+"\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n"+ops+
					"\r\n--"+b+"\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--"+b+
					"\r\nContent-Disposition: form-data; name=\"0\"; filename=\"m.onnx\"\r\n\r\n", 60<<20,
				"\r\n--"+b+"--\r\n")
		})
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d %.200s, want 413", status, body)
		}
		t.Logf("allocated %d KiB", alloc>>10)
		if alloc > limit {
			t.Errorf("allocated %d MiB serving it, want under 32 MiB", alloc>>20)
		}
	})

	t.Run("admin multipart that is not uploadModel", func(t *testing.T) {
		admin := in.newUser(user.RoleAdmin)
		status, body := postMultipart(t, in, admin, b,
			"--"+b+"\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"mutation($i: Upload) { classifyDigit(image: $i) { digit } }\",\"variables\":{\"i\":null}}"+
				"\r\n--"+b+"\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.i\"]}\r\n--"+b+
				"\r\nContent-Disposition: form-data; name=\"0\"; filename=\"d.png\"\r\n\r\n", 4<<20,
			"\r\n--"+b+"--\r\n")
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d %.200s, want 413", status, body)
		}
	})
}

func TestClassifyDigitRefusesPNGBomb(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, image.NewGray(image.Rect(0, 0, 4096, 4096))); err != nil {
		t.Fatal(err)
	}
	var out gqlResponse
	_ = json.Unmarshal(classifyImage(t, in, viewer.Token, "bomb.png", pngBytes.Bytes()), &out)
	if out.code() != "BAD_USER_INPUT" || !strings.Contains(out.Errors[0].Message, "pixels") {
		t.Fatalf("a %d-byte 4096x4096 PNG: got %+v, want BAD_USER_INPUT about its pixels", pngBytes.Len(), out.Errors)
	}
}

func TestOperationCostLimits(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)

	var q strings.Builder
	q.WriteString("{")
	for i := range 500 {
		fmt.Fprintf(&q, " a%d: __typename", i)
	}
	q.WriteString(" }")
	if r := in.gql(q.String(), nil, viewer.auth()...); r.code() != "ROOT_FIELD_LIMIT_EXCEEDED" {
		t.Errorf("500 aliases: got %d %+v, want ROOT_FIELD_LIMIT_EXCEEDED", r.status, r.Errors)
	}

	pixels := make([]float64, 784)
	for _, n := range []int{5, 300} {
		q.Reset()
		q.WriteString("mutation($p: [Float!]) {")
		for i := range n {
			fmt.Fprintf(&q, " c%d: classifyDigit(pixels: $p) { digit }", i)
		}
		q.WriteString(" }")
		r := in.gql(q.String(), map[string]any{"p": pixels}, viewer.auth()...)
		if c := r.code(); c != "COSTLY_FIELD_LIMIT_EXCEEDED" && c != "ROOT_FIELD_LIMIT_EXCEEDED" {
			t.Errorf("%d classifyDigit aliases: got %d %s %.300s, want a cost limit error", n, r.status, c, r.Data)
		}
	}
	// A few stay allowed.
	r := in.gql(`mutation($p: [Float!]) { a: classifyDigit(pixels: $p) { digit } b: classifyDigit(pixels: $p) { digit } }`,
		map[string]any{"p": pixels}, viewer.auth()...)
	if len(r.Errors) > 0 {
		t.Errorf("2 classifyDigit: %+v", r.Errors)
	}
}

func TestErrorsSuggestNothing(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	member := in.newUser(user.RoleMember)
	for _, q := range []string{
		`{ tasks(frist: 1) { totalCount } }`,
		`{ taskz { totalCount } }`,
		`{ tasks(first: 1) { totalCoun } }`,
		`query($x: Strin) { __typename }`,
		`{ tasks(first: 1, orderBy: {field: CREATED_AX, direction: ASC}) { totalCount } }`,
		`mutation { createTask(input: {title: "x", priorty: HIGH}) { id } }`,
	} {
		r := in.gql(q, nil, member.auth()...)
		if len(r.Errors) == 0 {
			t.Errorf("%s: no error", q)
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "Did you mean") {
				t.Errorf("%s: %q suggests", q, e.Message)
			}
		}
	}
}

func TestAPIResponsesAreNotStored(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	member := in.newUser(user.RoleMember)
	for _, path := range []string{"/graphql?query=%7B__typename%7D", "/tasks", "/v2", "/auth/providers"} {
		req, _ := http.NewRequest(http.MethodGet, in.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+member.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s (%d): Cache-Control %q, want no-store", path, resp.StatusCode, got)
		}
	}
}

func TestStringInputHygiene(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		member := in.newUser(user.RoleMember)
		for _, tc := range []struct{ name, body string }{
			{"NUL", `{"title":"a\u0000b"}`},
			{"raw invalid UTF-8", "{\"title\":\"a\xffb\"}"},
			{"lone surrogate", `{"title":"a\ud800b"}`},
		} {
			status, raw := in.rest(http.MethodPost, "/tasks", "application/json", tc.body, member.auth()...)
			var e struct{ Error struct{ Code, Field string } }
			_ = json.Unmarshal(raw, &e)
			if status != http.StatusBadRequest || e.Error.Code != "BAD_USER_INPUT" || e.Error.Field != "title" {
				t.Errorf("REST %s: %d %s, want 400 BAD_USER_INPUT naming title", tc.name, status, raw)
			}
		}
		const mutation = `mutation($in: CreateTaskInput!) { createTask(input: $in) { id title } }`
		for _, tc := range []struct{ name, body string }{
			{"NUL variable", `{"query":"` + mutation + `","variables":{"in":{"title":"a\u0000b"}}}`},
			{"raw invalid UTF-8 variable", "{\"query\":\"" + mutation + "\",\"variables\":{\"in\":{\"title\":\"a\xffb\"}}}"},
			{"NUL literal", `{"query":"mutation { createTask(input: {title: \"a\\u0000b\"}) { id } }"}`},
		} {
			req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+member.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(raw), "BAD_USER_INPUT") || !strings.Contains(string(raw), `"title"`) ||
				strings.Contains(string(raw), `"createTask":{`) {
				t.Errorf("GraphQL %s: %d %s, want BAD_USER_INPUT naming title", tc.name, resp.StatusCode, raw)
			}
		}
		n, err := in.DB.Client.Task.Query().Count(systemCtx())
		if err != nil || n != 0 {
			t.Errorf("%d tasks stored (%v), want none", n, err)
		}
	})
}
