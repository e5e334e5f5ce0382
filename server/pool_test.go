package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
)

// TestSmallPoolConcurrentWritesSelectingOwner is the web app's mutation
// shape (every mutation selects the owner) at sixteen times the pool: each
// request must finish, none may wait on a connection its own transaction
// holds.
func TestSmallPoolConcurrentWritesSelectingOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		cfg.DBMaxConns = 2
		in := start(t, cfg)
		member := in.newUser(user.RoleMember)

		const n = 64
		body, _ := json.Marshal(map[string]any{
			"query": `mutation { createTask(input: {title: "pool"}) { id owner { id name } } }`,
		})
		// The client's own deadline is what a hang would hit: 10 s for all.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+member.Token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				defer resp.Body.Close()
				var out gqlResponse
				if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
					errs <- "decoding: " + err.Error()
					return
				}
				if len(out.Errors) > 0 {
					errs <- out.Errors[0].Message
				}
			}()
		}
		wg.Wait()
		close(errs)
		failed := 0
		for e := range errs {
			if failed < 3 {
				t.Errorf("createTask failed: %s", e)
			}
			failed++
		}
		if failed > 0 {
			t.Fatalf("%d of %d writes failed with a pool of 2", failed, n)
		}
		if count := countTitled(t, in, "pool"); count != n {
			t.Fatalf("%d tasks stored, want %d", count, n)
		}
	})
}
