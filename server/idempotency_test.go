package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

type answer struct {
	status   int
	body     string
	replayed bool
}

func postWithKey(t *testing.T, url, body, token, key string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", url, err)
		return answer{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(raw), replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
}

func countTitled(t *testing.T, in *instance, title string) int {
	t.Helper()
	var n int
	if err := in.DB.SQL.QueryRow(`SELECT count(*) FROM tasks WHERE title = $1`, title).Scan(&n); err != nil {
		// SQLite takes ? placeholders.
		if err := in.DB.SQL.QueryRow(`SELECT count(*) FROM tasks WHERE title = ?`, title).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestIdempotencyKeyReplaysTheFirstResponse: a retried create with the same
// key writes one row and gets the first answer, on REST and GraphQL; the key
// reused for another request is refused; another user's key is theirs.
func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice, bob := in.newUser(user.RoleMember), in.newUser(user.RoleMember)

		first := postWithKey(t, in.URL+"/tasks", `{"title":"rest-once"}`, alice.Token, "k-1")
		again := postWithKey(t, in.URL+"/tasks", `{"title":"rest-once"}`, alice.Token, "k-1")
		if first.status != http.StatusCreated || again.status != first.status || again.body != first.body || !again.replayed {
			t.Fatalf("REST retry: first %+v, again %+v", first, again)
		}
		if n := countTitled(t, in, "rest-once"); n != 1 {
			t.Fatalf("REST retry stored %d rows, want 1", n)
		}
		other := postWithKey(t, in.URL+"/tasks", `{"title":"rest-other"}`, alice.Token, "k-1")
		if other.status != http.StatusUnprocessableEntity {
			t.Errorf("key reused for another body: %+v, want 422", other)
		}
		if b := postWithKey(t, in.URL+"/tasks", `{"title":"rest-once"}`, bob.Token, "k-1"); b.status != http.StatusCreated || b.replayed {
			t.Errorf("another user's same key: %+v, want a new 201", b)
		}

		gql, _ := json.Marshal(map[string]any{"query": `mutation { createTask(input: {title: "gql-once"}) { id title owner { id } } }`})
		g1 := postWithKey(t, in.URL+"/graphql", string(gql), alice.Token, "k-1")
		g2 := postWithKey(t, in.URL+"/graphql", string(gql), alice.Token, "k-1")
		if g1.status != http.StatusOK || g2.body != g1.body || !g2.replayed {
			t.Fatalf("GraphQL retry: first %+v, again %+v", g1, g2)
		}
		if n := countTitled(t, in, "gql-once"); n != 1 {
			t.Fatalf("GraphQL retry stored %d rows, want 1", n)
		}
		if bad := postWithKey(t, in.URL+"/tasks", `{"title":"x"}`, alice.Token, strings.Repeat("k", 256)); bad.status != http.StatusBadRequest {
			t.Errorf("a 256-character key: %+v, want 400", bad)
		}
	})
}

// TestIdempotencyKeyRacingOnTwoReplicas sends one key many times at once to
// two replicas on one PostgreSQL: one row, and every answer the same.
func TestIdempotencyKeyRacingOnTwoReplicas(t *testing.T) {
	cfg := dbtest.Postgres(t)
	a := start(t, cfg)
	b := start(t, cfg)
	member := a.newUser(user.RoleMember)

	for _, target := range []struct{ path, body, title string }{
		{"/tasks", `{"title":"raced-rest"}`, "raced-rest"},
		{"/graphql", `{"query":"mutation { createTask(input: {title: \"raced-gql\"}) { id title } }"}`, "raced-gql"},
	} {
		const n = 16
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = postWithKey(t, in.URL+target.path, target.body, member.Token, "race-"+target.title)
			}()
		}
		wg.Wait()
		for i, got := range answers {
			if got.status >= 300 || got.body != answers[0].body {
				t.Fatalf("%s answer %d: %+v, want the same success as answer 0: %+v", target.path, i, got, answers[0])
			}
		}
		if c := countTitled(t, a, target.title); c != 1 {
			t.Fatalf("%s: %d concurrent requests with one key stored %d rows, want 1", target.path, n, c)
		}
	}
}
