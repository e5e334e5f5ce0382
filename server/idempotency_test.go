package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/taskmind/taskmind/ent/task"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// postWithKey posts a JSON body as the token's user with an Idempotency-Key.
func postWithKey(t *testing.T, in *instance, path, body, token, key string) reply {
	r, err := in.send(http.MethodPost, path, "application/json", body,
		"Authorization", "Bearer "+token, "Idempotency-Key", key)
	if err != nil {
		t.Error(err)
	}
	return r
}

func replayed(r reply) bool { return r.header.Get("Idempotent-Replayed") == "true" }

func countTitled(t *testing.T, in *instance, title string) int {
	t.Helper()
	n, err := in.DB.Client.Task.Query().Where(task.Title(title)).Count(auth.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
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

		first := postWithKey(t, in, "/tasks", `{"title":"rest-once"}`, alice.Token, "k-1")
		again := postWithKey(t, in, "/tasks", `{"title":"rest-once"}`, alice.Token, "k-1")
		if first.status != http.StatusCreated || again.status != first.status || again.body != first.body || !replayed(again) {
			t.Fatalf("REST retry: first %+v, again %+v", first, again)
		}
		if n := countTitled(t, in, "rest-once"); n != 1 {
			t.Fatalf("REST retry stored %d rows, want 1", n)
		}
		other := postWithKey(t, in, "/tasks", `{"title":"rest-other"}`, alice.Token, "k-1")
		if other.status != http.StatusUnprocessableEntity {
			t.Errorf("key reused for another body: %+v, want 422", other)
		}
		if b := postWithKey(t, in, "/tasks", `{"title":"rest-once"}`, bob.Token, "k-1"); b.status != http.StatusCreated || replayed(b) {
			t.Errorf("another user's same key: %+v, want a new 201", b)
		}

		gql, _ := json.Marshal(map[string]any{"query": `mutation { createTask(input: {title: "gql-once"}) { id title owner { id } } }`})
		g1 := postWithKey(t, in, "/graphql", string(gql), alice.Token, "k-1")
		g2 := postWithKey(t, in, "/graphql", string(gql), alice.Token, "k-1")
		if g1.status != http.StatusOK || g2.body != g1.body || !replayed(g2) {
			t.Fatalf("GraphQL retry: first %+v, again %+v", g1, g2)
		}
		if n := countTitled(t, in, "gql-once"); n != 1 {
			t.Fatalf("GraphQL retry stored %d rows, want 1", n)
		}
		if bad := postWithKey(t, in, "/tasks", `{"title":"x"}`, alice.Token, strings.Repeat("k", 256)); bad.status != http.StatusBadRequest {
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
		answers := make([]reply, n)
		var wg sync.WaitGroup
		for i := range n {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = postWithKey(t, in, target.path, target.body, member.Token, "race-"+target.title)
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
