package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
)

// TestRoleMatrix runs every protected operation as each kind of caller and
// checks the outcome code, and that a refused write changed nothing.
func TestRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember) // owns the task under test
		callers := map[string]actor{
			"anonymous":    {},
			"viewer":       in.newUser(user.RoleViewer),
			"owner":        alice,
			"other member": in.newUser(user.RoleMember),
			"admin":        in.newUser(user.RoleAdmin),
		}
		victim := in.newUser(user.RoleMember) // target of admin operations

		type op struct {
			name  string
			query string
			write bool
			// want maps caller to expected code ("" = success).
			want map[string]string
		}
		all := func(anon, viewer, owner, other, admin string) map[string]string {
			return map[string]string{"anonymous": anon, "viewer": viewer, "owner": owner, "other member": other, "admin": admin}
		}
		const unauth = "UNAUTHENTICATED"
		ops := []op{
			{"tasks", `{ tasks { totalCount } }`, false, all(unauth, "", "", "", "")},
			{"node", `query($id: ID!) { node(id: $id) { id } }`, false, all(unauth, "NOT_FOUND", "", "NOT_FOUND", "")},
			{"nodes", `query($id: ID!) { nodes(ids: [$id]) { id } }`, false, all(unauth, "NOT_FOUND", "", "NOT_FOUND", "")},
			{"viewer", `{ viewer { id } }`, false, all(unauth, "", "", "", "")},
			{"users", `{ users { totalCount } }`, false, all(unauth, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "")},
			{"apiTokens", `{ apiTokens { id } }`, false, all(unauth, "", "", "", "")},
			{"createTask", `mutation { createTask(input: {title: "new"}) { id } }`, true, all(unauth, "FORBIDDEN", "", "", "")},
			{"updateTask", `mutation($id: ID!) { updateTask(id: $id, input: {title: "changed"}) { id } }`, true, all(unauth, "FORBIDDEN", "", "NOT_FOUND", "")},
			{"setTaskDone", `mutation($id: ID!) { setTaskDone(id: $id, done: true) { id } }`, true, all(unauth, "FORBIDDEN", "", "NOT_FOUND", "")},
			{"deleteTask", `mutation($id: ID!) { deleteTask(id: $id) }`, true, all(unauth, "FORBIDDEN", "", "NOT_FOUND", "")},
			{"createAPIToken", `mutation { createAPIToken(input: {name: "x"}) { token } }`, true, all(unauth, "", "", "", "")},
			{"revokeAPIToken (alice's)", `mutation($tok: ID!) { revokeAPIToken(id: $tok) { id } }`, true, all(unauth, "NOT_FOUND", "", "NOT_FOUND", "")},
			{"setUserRole", `mutation($victim: ID!) { setUserRole(id: $victim, role: VIEWER) { id } }`, true, all(unauth, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "")},
			{"setUserDisabled", `mutation($victim: ID!) { setUserDisabled(id: $victim, disabled: true) { id } }`, true, all(unauth, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "")},
			{"models", `{ models { name } }`, false, all(unauth, "", "", "", "")},
			{"model", `{ model(name: "mnist") { name } }`, false, all(unauth, "", "", "", "")},
			{"predictions", `{ predictions { totalCount } }`, false, all(unauth, "", "", "", "")},
			{"predict", `mutation { predict(model: "mnist", inputs: [{shape: [1, 1, 28, 28], data: [` + zeros784 + `]}]) { model } }`, true, all(unauth, "", "", "", "")},
			{"classifyDigit", `mutation { classifyDigit(pixels: [` + zeros784 + `]) { digit } }`, true, all(unauth, "", "", "", "")},
			{"deleteModel", `mutation { deleteModel(name: "no-such-model") }`, true, all(unauth, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND")},
			{"mass assignment", `mutation { createTask(input: {title: "x", ownerID: 1}) { id } }`, true, all(unauth, "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED")},
		}
		for _, o := range ops {
			for _, name := range []string{"anonymous", "viewer", "owner", "other member", "admin"} {
				t.Run(o.name+"/"+name, func(t *testing.T) {
					caller := callers[name]
					// A fresh task and token per case, so successful writes
					// by one case never change what the next one sees.
					task := createTask(t, in, alice, map[string]any{"title": "alice's"})
					var tok struct {
						CreateAPIToken struct {
							APIToken struct{ ID string } `json:"apiToken"`
						} `json:"createAPIToken"`
					}
					in.mustGQL(&tok, `mutation { createAPIToken(input: {name: "alice's"}) { apiToken { id } } }`, nil, alice.auth()...)
					before := snapshot(t, in)
					vars := map[string]any{"id": task.ID, "tok": tok.CreateAPIToken.APIToken.ID, "victim": fmt.Sprint(victim.ID)}
					r := in.gql(o.query, filterVars(o.query, vars), caller.auth()...)
					if got, want := r.code(), o.want[name]; got != want {
						t.Fatalf("code: got %q, want %q (%+v)", got, want, r.Errors)
					}
					if o.write && o.want[name] != "" {
						if after := snapshot(t, in); after != before {
							t.Fatalf("refused write changed rows:\nbefore %s\nafter  %s", before, after)
						}
					}
					if o.name == "setUserRole" || o.name == "setUserDisabled" {
						// Put the victim back for the next case.
						in.DB.Client.User.UpdateOneID(victim.ID).SetRole(user.RoleMember).SetDisabled(false).ExecX(systemCtx())
					}
				})
			}
		}

		rest := []struct {
			method, path, body string
			want               map[string]int
		}{
			{http.MethodGet, "/tasks", "", map[string]int{"anonymous": 401, "viewer": 200, "owner": 200, "other member": 200, "admin": 200}},
			{http.MethodPost, "/tasks", `{"title": "rest"}`, map[string]int{"anonymous": 401, "viewer": 403, "owner": 201, "other member": 201, "admin": 201}},
			{http.MethodGet, "/v2/models/mnist", "", map[string]int{"anonymous": 401, "viewer": 200, "owner": 200, "other member": 200, "admin": 200}},
			{http.MethodPost, "/v2/models/mnist/infer", `{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [` + zeros784 + `]}]}`,
				map[string]int{"anonymous": 401, "viewer": 200, "owner": 200, "other member": 200, "admin": 200}},
			{http.MethodGet, "/v2/health/ready", "", map[string]int{"anonymous": 200, "viewer": 200, "owner": 200, "other member": 200, "admin": 200}},
		}
		for _, rc := range rest {
			for name, want := range rc.want {
				t.Run("REST "+rc.method+" "+rc.path+"/"+name, func(t *testing.T) {
					before := snapshot(t, in)
					status, body := in.rest(rc.method, rc.path, "application/json", rc.body, callers[name].auth()...)
					if status != want {
						t.Fatalf("got %d %s, want %d", status, body, want)
					}
					if status >= 400 && rc.method == http.MethodPost && snapshot(t, in) != before {
						t.Fatalf("refused REST write changed rows")
					}
				})
			}
		}

		t.Run("REST GET shows only own tasks", func(t *testing.T) {
			_, body := in.rest(http.MethodGet, "/tasks?limit=1000", "", "", callers["other member"].auth()...)
			var list struct{ Tasks []struct{ OwnerID int } }
			mustJSON(t, body, &list)
			for _, tk := range list.Tasks {
				if tk.OwnerID != callers["other member"].ID {
					t.Fatalf("other member sees a task owned by %d", tk.OwnerID)
				}
			}
		})

		t.Run("subscription", func(t *testing.T) {
			for name, wantOK := range map[string]bool{"anonymous": false, "viewer": true, "owner": true, "admin": true} {
				_, err := dialWS(t, in, false, callers[name].Token)
				if (err == nil) != wantOK {
					t.Fatalf("%s websocket: got err %v, want ok=%v", name, err, wantOK)
				}
			}
		})
	})
}

var zeros784 = strings.TrimSuffix(strings.Repeat("0,", 784), ",")

// snapshot summarises every table a refused write could touch.
func snapshot(t *testing.T, in *instance) string {
	t.Helper()
	ctx := systemCtx()
	ts := in.DB.Client.Task.Query().Order().AllX(ctx)
	us := in.DB.Client.User.Query().AllX(ctx)
	toks := in.DB.Client.APIToken.Query().AllX(ctx)
	s := ""
	for _, x := range ts {
		s += fmt.Sprintf("t%d:%s:%v:%d;", x.ID, x.Title, x.Done, x.Version)
	}
	for _, x := range us {
		s += fmt.Sprintf("u%d:%s:%v;", x.ID, x.Role, x.Disabled)
	}
	for _, x := range toks {
		s += fmt.Sprintf("k%d:%v;", x.ID, x.RevokedAt != nil)
	}
	preds := in.DB.Client.Prediction.Query().CountX(ctx)
	models := in.DB.Client.MLModel.Query().CountX(ctx)
	return s + fmt.Sprintf("predictions:%d;models:%d", preds, models)
}

// filterVars keeps only the variables the query declares.
func filterVars(query string, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if containsVar(query, k) {
			out[k] = v
		}
	}
	return out
}

func containsVar(q, name string) bool {
	needle := "$" + name + ":"
	for i := 0; i+len(needle) <= len(q); i++ {
		if q[i:i+len(needle)] == needle {
			return true
		}
	}
	return false
}
