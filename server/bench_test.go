package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// BenchmarkGraphQL measures the server's own cost per request for the
// benchmark's two workloads (make bench runs the full load test against
// the binary and a raw database/sql handler). PostgreSQL when configured.
func BenchmarkGraphQL(b *testing.B) {
	for _, be := range dbtest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			in := start(b, be.Config)
			alice := in.newUser(user.RoleMember)
			bulk := make([]*ent.TaskCreate, 1000)
			for i := range bulk {
				bulk[i] = in.DB.Client.Task.Create().SetTitle(fmt.Sprintf("task %d", i)).SetOwnerID(alice.ID)
			}
			in.DB.Client.Task.CreateBulk(bulk...).ExecX(systemCtx())
			read := []byte(`{"query":"query Read { tasks(first: 20) { edges { node { id title done owner { name } } } } }"}`)
			write := []byte(`{"query":"mutation Write { createTask(input: {title: \"bench\"}) { id title } }"}`)
			for _, w := range []struct {
				name string
				body []byte
			}{{"read", read}, {"write", write}} {
				b.Run(w.name, func(b *testing.B) { hammer(b, in, w.body, alice.Token) })
			}
		})
	}
}

// BenchmarkClassifyDigit measures recorded predictions through GraphQL
// (SQLite), the path the inference floor is about.
func BenchmarkClassifyDigit(b *testing.B) {
	in := start(b, dbtest.SQLite(b))
	alice := in.newUser(user.RoleViewer)
	px := make([]string, 784)
	for i := range px {
		px[i] = "0.5"
	}
	body := []byte(`{"query":"mutation Classify($p: [Float!]!) { classifyDigit(pixels: $p) { digit probabilities } }","variables":{"p":[` + strings.Join(px, ",") + `]}}`)
	b.SetParallelism(4)
	hammer(b, in, body, alice.Token)
}

// hammer posts body to /graphql from parallel goroutines and fails on any
// error response.
func hammer(b *testing.B, in *instance, body []byte, token string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Contains(out, []byte(`"errors"`)) {
				b.Errorf("got %d %s", resp.StatusCode, out)
				return
			}
		}
	})
}
