package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
)

const taskFields = `id title description done priority dueAt version owner { id email }`

type taskJSON struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Done        bool    `json:"done"`
	Priority    string  `json:"priority"`
	DueAt       *string `json:"dueAt"`
	Version     int     `json:"version"`
	Owner       struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"owner"`
}

type connection struct {
	Tasks struct {
		TotalCount int `json:"totalCount"`
		Edges      []struct {
			Cursor string   `json:"cursor"`
			Node   taskJSON `json:"node"`
		} `json:"edges"`
		PageInfo struct {
			HasNextPage     bool    `json:"hasNextPage"`
			HasPreviousPage bool    `json:"hasPreviousPage"`
			StartCursor     *string `json:"startCursor"`
			EndCursor       *string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"tasks"`
}

func (c connection) titles() []string {
	var out []string
	for _, e := range c.Tasks.Edges {
		out = append(out, e.Node.Title)
	}
	return out
}

const listQuery = `query List($first: Int, $last: Int, $after: Cursor, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {
  tasks(first: $first, last: $last, after: $after, before: $before, orderBy: $orderBy, where: $where) {
    totalCount
    edges { cursor node { ` + taskFields + ` } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func createTask(t *testing.T, in *instance, a actor, input map[string]any) taskJSON {
	t.Helper()
	var out struct{ CreateTask taskJSON }
	in.mustGQL(&out, `mutation($in: CreateTaskInput!) { createTask(input: $in) { `+taskFields+` } }`,
		map[string]any{"in": input}, a.auth()...)
	return out.CreateTask
}

func TestPaginationForwardAndBackward(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		for i := 1; i <= 7; i++ {
			createTask(t, in, alice, map[string]any{"title": fmt.Sprintf("task %d", i)})
		}
		order := map[string]any{"field": "TITLE", "direction": "ASC"}

		var seen []string
		var after any
		for page := 0; page < 10; page++ {
			var c connection
			in.mustGQL(&c, listQuery, map[string]any{"first": 3, "after": after, "orderBy": order}, alice.auth()...)
			if c.Tasks.TotalCount != 7 {
				t.Fatalf("totalCount: got %d, want 7", c.Tasks.TotalCount)
			}
			seen = append(seen, c.titles()...)
			if !c.Tasks.PageInfo.HasNextPage {
				break
			}
			after = *c.Tasks.PageInfo.EndCursor
		}
		want := "task 1,task 2,task 3,task 4,task 5,task 6,task 7"
		if got := strings.Join(seen, ","); got != want {
			t.Fatalf("forward pages: got %s, want %s", got, want)
		}

		var back []string
		var before any
		for page := 0; page < 10; page++ {
			var c connection
			in.mustGQL(&c, listQuery, map[string]any{"last": 3, "before": before, "orderBy": order}, alice.auth()...)
			back = append(c.titles(), back...)
			if !c.Tasks.PageInfo.HasPreviousPage {
				break
			}
			before = *c.Tasks.PageInfo.StartCursor
		}
		if got := strings.Join(back, ","); got != want {
			t.Fatalf("backward pages: got %s, want %s", got, want)
		}

		var def connection
		in.mustGQL(&def, listQuery, nil, alice.auth()...)
		if len(def.Tasks.Edges) != 7 {
			t.Fatalf("default page: got %d tasks, want all 7 (default size 20)", len(def.Tasks.Edges))
		}
	})
}

func TestPageSizeBounds(t *testing.T) {
	in := start(t, dbtestSQLite(t))
	alice := in.newUser(user.RoleMember)
	for _, tc := range []struct {
		name string
		vars map[string]any
		code string
	}{
		{"first 0", map[string]any{"first": 0}, "BAD_USER_INPUT"},
		{"first 101", map[string]any{"first": 101}, "BAD_USER_INPUT"},
		{"last -1", map[string]any{"last": -1}, "BAD_USER_INPUT"},
		{"first and last", map[string]any{"first": 2, "last": 2}, "BAD_USER_INPUT"},
		{"first 100", map[string]any{"first": 100}, ""},
		{"bad cursor", map[string]any{"first": 1, "after": "not-a-cursor"}, "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := in.gql(listQuery, tc.vars, alice.auth()...)
			if got := r.code(); got != tc.code {
				t.Fatalf("code: got %q, want %q (%+v)", got, tc.code, r.Errors)
			}
		})
	}
}

func TestFiltersAndOrdering(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		createTask(t, in, alice, map[string]any{"title": "Buy milk", "priority": "LOW"})
		createTask(t, in, alice, map[string]any{"title": "File taxes", "priority": "HIGH", "done": true, "dueAt": "2026-04-15T00:00:00Z"})
		createTask(t, in, alice, map[string]any{"title": "Call mum", "priority": "MEDIUM", "dueAt": "2026-01-01T00:00:00Z"})

		for _, tc := range []struct {
			name    string
			orderBy map[string]any
			where   map[string]any
			want    string
		}{
			{"priority desc", map[string]any{"field": "PRIORITY", "direction": "DESC"}, nil, "File taxes,Call mum,Buy milk"},
			{"priority asc", map[string]any{"field": "PRIORITY", "direction": "ASC"}, nil, "Buy milk,Call mum,File taxes"},
			{"title asc", map[string]any{"field": "TITLE", "direction": "ASC"}, nil, "Buy milk,Call mum,File taxes"},
			{"due asc", map[string]any{"field": "DUE_AT", "direction": "ASC"}, map[string]any{"dueAtNotNil": true}, "Call mum,File taxes"},
			{"created desc", map[string]any{"field": "CREATED_AT", "direction": "DESC"}, nil, "Call mum,File taxes,Buy milk"},
			{"done", nil, map[string]any{"done": true}, "File taxes"},
			{"not done by title", map[string]any{"field": "TITLE", "direction": "ASC"}, map[string]any{"done": false}, "Buy milk,Call mum"},
			{"text", nil, map[string]any{"titleContainsFold": "MILK"}, "Buy milk"},
			{"priority in", map[string]any{"field": "TITLE", "direction": "ASC"}, map[string]any{"priorityIn": []string{"LOW", "HIGH"}}, "Buy milk,File taxes"},
			{"or", map[string]any{"field": "TITLE", "direction": "ASC"}, map[string]any{"or": []any{map[string]any{"done": true}, map[string]any{"priority": "LOW"}}}, "Buy milk,File taxes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var c connection
				in.mustGQL(&c, listQuery, map[string]any{"orderBy": tc.orderBy, "where": tc.where}, alice.auth()...)
				if got := strings.Join(c.titles(), ","); got != tc.want {
					t.Fatalf("got %s, want %s", got, tc.want)
				}
			})
		}
	})
}

func TestMutations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		created := createTask(t, in, alice, map[string]any{"title": "  Write report  ", "description": "Q3", "priority": "HIGH"})
		if created.Title != "Write report" || created.Version != 1 || created.Priority != "HIGH" || created.Done {
			t.Fatalf("created: got %+v, want trimmed title, version 1, HIGH, not done", created)
		}
		if created.Owner.Email != alice.Email {
			t.Fatalf("owner: got %q, want %q", created.Owner.Email, alice.Email)
		}

		var upd struct{ UpdateTask taskJSON }
		in.mustGQL(&upd, `mutation($id: ID!) { updateTask(id: $id, input: {title: "Write Q3 report", clearDescription: true}, expectedVersion: 1) { `+taskFields+` } }`,
			map[string]any{"id": created.ID}, alice.auth()...)
		if upd.UpdateTask.Title != "Write Q3 report" || upd.UpdateTask.Description != nil || upd.UpdateTask.Version != 2 {
			t.Fatalf("updated: got %+v, want new title, no description, version 2", upd.UpdateTask)
		}

		var done struct{ SetTaskDone taskJSON }
		in.mustGQL(&done, `mutation($id: ID!) { setTaskDone(id: $id, done: true) { `+taskFields+` } }`, map[string]any{"id": created.ID}, alice.auth()...)
		if !done.SetTaskDone.Done || done.SetTaskDone.Version != 3 {
			t.Fatalf("setTaskDone: got %+v, want done, version 3", done.SetTaskDone)
		}

		var del struct{ DeleteTask string }
		in.mustGQL(&del, `mutation($id: ID!) { deleteTask(id: $id) }`, map[string]any{"id": created.ID}, alice.auth()...)
		if del.DeleteTask != created.ID {
			t.Fatalf("deleteTask: got %q, want %q", del.DeleteTask, created.ID)
		}
		r := in.gql(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": created.ID}, alice.auth()...)
		if r.code() != "NOT_FOUND" {
			t.Fatalf("node after delete: got code %q, want NOT_FOUND", r.code())
		}
		r = in.gql(`mutation($id: ID!) { deleteTask(id: $id) }`, map[string]any{"id": created.ID}, alice.auth()...)
		if r.code() != "NOT_FOUND" {
			t.Fatalf("second delete: got code %q, want NOT_FOUND", r.code())
		}
	})
}

func TestOptimisticConcurrencyConflict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		created := createTask(t, in, alice, map[string]any{"title": "original"})
		update := `mutation($id: ID!, $title: String!, $v: Int) { updateTask(id: $id, input: {title: $title}, expectedVersion: $v) { title version } }`

		in.mustGQL(nil, update, map[string]any{"id": created.ID, "title": "first editor", "v": 1}, alice.auth()...)
		r := in.gql(update, map[string]any{"id": created.ID, "title": "second editor", "v": 1}, alice.auth()...)
		if r.code() != "CONFLICT" {
			t.Fatalf("stale update: got code %q, want CONFLICT (%+v)", r.code(), r.Errors)
		}
		var now struct {
			Node taskJSON `json:"node"`
		}
		in.mustGQL(&now, `query($id: ID!) { node(id: $id) { ... on Task { title version } } }`, map[string]any{"id": created.ID}, alice.auth()...)
		if now.Node.Title != "first editor" || now.Node.Version != 2 {
			t.Fatalf("after conflict: got %q v%d, want %q v2 (nothing written)", now.Node.Title, now.Node.Version, "first editor")
		}
	})
}

func TestRESTContract(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		status, body := in.rest(http.MethodPost, "/tasks", "application/json", `{"title": "from a script", "done": true}`, alice.auth()...)
		if status != http.StatusCreated {
			t.Fatalf("POST /tasks: got %d %s, want 201", status, body)
		}
		var created struct {
			ID    int    `json:"id"`
			Title string `json:"title"`
			Done  bool   `json:"done"`
		}
		if err := json.Unmarshal(body, &created); err != nil || created.ID == 0 || created.Title != "from a script" || !created.Done {
			t.Fatalf("created task: got %s (%v)", body, err)
		}
		status, body = in.rest(http.MethodGet, "/tasks", "", "", alice.auth()...)
		var list struct {
			Tasks []struct {
				ID    int    `json:"id"`
				Title string `json:"title"`
				Done  bool   `json:"done"`
			} `json:"tasks"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Tasks) != 1 || list.Tasks[0].ID != created.ID {
			t.Fatalf("GET /tasks: got %d %s, want the created task", status, body)
		}

		long := strings.Repeat("é", 201)
		for _, tc := range []struct {
			name, contentType, body string
			status                  int
			field                   string
		}{
			{"invalid json", "application/json", `{"title": `, 400, ""},
			{"not an object", "application/json", `["x"]`, 400, ""},
			{"empty body", "application/json", ``, 400, ""},
			{"missing title", "application/json", `{"done": false}`, 400, "title"},
			{"blank title", "application/json", `{"title": "   "}`, 400, "title"},
			{"over-long title", "application/json", `{"title": "` + long + `"}`, 400, "title"},
			{"unknown field", "application/json", `{"title": "x", "owner": 1}`, 400, "owner"},
			{"wrong type", "application/json", `{"title": 5}`, 400, "title"},
			{"bad priority", "application/json", `{"title": "x", "priority": "URGENT"}`, 400, ""},
			{"two objects", "application/json", `{"title": "x"} {"title": "y"}`, 400, ""},
			{"form post", "application/x-www-form-urlencoded", `title=x`, 415, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := in.rest(http.MethodPost, "/tasks", tc.contentType, tc.body, alice.auth()...)
				var e struct {
					Error struct{ Code, Message, Field string } `json:"error"`
				}
				if status != tc.status || json.Unmarshal(body, &e) != nil || e.Error.Message == "" || e.Error.Field != tc.field {
					t.Fatalf("got %d %s, want %d with a message naming field %q", status, body, tc.status, tc.field)
				}
			})
		}
		status, body = in.rest(http.MethodGet, "/tasks", "", "", alice.auth()...)
		if status != 200 || strings.Count(string(body), `"id"`) != 1 {
			t.Fatalf("after refused posts: got %s, want still exactly one task", body)
		}
	})
}

func TestConcurrentRESTCreates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		const n = 500
		ids := make(chan int, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				status, body := in.rest(http.MethodPost, "/tasks", "application/json", fmt.Sprintf(`{"title": "t%d", "done": false}`, i), alice.auth()...)
				var created struct{ ID int }
				if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
					t.Errorf("POST %d: got %d %s", i, status, body)
					return
				}
				ids <- created.ID
			}()
		}
		wg.Wait()
		close(ids)
		distinct := map[int]bool{}
		for id := range ids {
			distinct[id] = true
		}
		if len(distinct) != n {
			t.Fatalf("distinct ids: got %d, want %d", len(distinct), n)
		}
		count, err := in.DB.Client.Task.Query().Count(systemCtx())
		if err != nil || count != n {
			t.Fatalf("stored tasks: got %d (%v), want %d", count, err, n)
		}
	})
}

func TestGraphQLLimits(t *testing.T) {
	cfg := dbtestSQLite(t)
	cfg.MaxBodyBytes = 64 << 10
	in := start(t, cfg)
	alice := in.newUser(user.RoleMember)

	deep := "{ tasks { edges { node { owner { tasks { edges { node { owner { tasks { edges { node { owner { tasks { edges { node { id } } } } } } } } } } } } } } } }"
	wide := "{ tasks(first: 100) { edges { node { owner { tasks(first: 100) { edges { node { id title } } } } } } } }"
	for _, tc := range []struct {
		name, query, code string
	}{
		{"deep nesting", deep, "DEPTH_LIMIT_EXCEEDED"},
		{"over-complex", wide, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"syntax error", "{ tasks { ", "GRAPHQL_PARSE_FAILED"},
		{"unknown field", "{ nope }", "GRAPHQL_VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := in.gql(tc.query, nil, alice.auth()...)
			if r.code() != tc.code {
				t.Fatalf("code: got %q, want %q (%+v)", r.code(), tc.code, r.Errors)
			}
		})
	}
	t.Run("no field suggestions", func(t *testing.T) {
		r := in.gql("{ taks { totalCount } }", nil, alice.auth()...)
		if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("got %+v, want an error without suggestions", r.Errors)
		}
	})
	t.Run("huge body", func(t *testing.T) {
		q := `{"query": "{ tasks { totalCount } }", "variables": {"pad": "` + strings.Repeat("x", 100<<10) + `"}}`
		status, body := in.rest(http.MethodPost, "/graphql", "application/json", q, alice.auth()...)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "PAYLOAD_TOO_LARGE") {
			t.Fatalf("got %d %s, want 413 PAYLOAD_TOO_LARGE", status, body)
		}
	})
	t.Run("token limit", func(t *testing.T) {
		q := "{ " + strings.Repeat("a ", 6000) + "}"
		r := in.gql(q, nil, alice.auth()...)
		if r.code() != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("got %q, want GRAPHQL_PARSE_FAILED", r.code())
		}
	})
	t.Run("mutation over GET refused", func(t *testing.T) {
		status, _ := in.rest(http.MethodGet, `/graphql?query=mutation{createTask(input:{title:"x"}){id}}`, "", "", alice.auth()...)
		if status == http.StatusOK {
			t.Fatalf("GET mutation: got 200, want refusal")
		}
		n, _ := in.DB.Client.Task.Query().Count(systemCtx())
		if n != 0 {
			t.Fatalf("tasks after GET mutation: got %d, want 0", n)
		}
	})
	t.Run("query over GET", func(t *testing.T) {
		status, body := in.rest(http.MethodGet, "/graphql?query={tasks{totalCount}}", "", "", alice.auth()...)
		if status != 200 || !strings.Contains(string(body), `"totalCount":0`) {
			t.Fatalf("GET query: got %d %s", status, body)
		}
	})
	t.Run("form post refused", func(t *testing.T) {
		status, _ := in.rest(http.MethodPost, "/graphql", "application/x-www-form-urlencoded", "query={tasks{totalCount}}", alice.auth()...)
		if status == http.StatusOK {
			t.Fatalf("form-encoded POST: got 200, want refusal (CSRF)")
		}
	})
	t.Run("bad input values", func(t *testing.T) {
		for _, q := range []string{
			`mutation { createTask(input: {title: "x", dueAt: "yesterday"}) { id } }`,
			`mutation { createTask(input: {title: ""}) { id } }`,
			`mutation { createTask(input: {title: "x", description: "` + strings.Repeat("d", 10001) + `"}) { id } }`,
		} {
			if r := in.gql(q, nil, alice.auth()...); r.code() != "BAD_USER_INPUT" {
				t.Errorf("got %q, want BAD_USER_INPUT (%+v)", r.code(), r.Errors)
			}
		}
	})
	if strings.Contains(in.Logs.String(), "panic") {
		t.Fatalf("server logged a panic")
	}
}
