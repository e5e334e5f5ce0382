package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
)

// wsClient speaks one of the two GraphQL websocket protocols.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	legacy bool // graphql-ws (subscriptions-transport-ws) instead of graphql-transport-ws
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS connects and completes connection_init with the token (if any).
func dialWS(t *testing.T, in *instance, legacy bool, token string) (*wsClient, error) {
	t.Helper()
	proto := "graphql-transport-ws"
	if legacy {
		proto = "graphql-ws"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: t, conn: conn, legacy: legacy}
	t.Cleanup(func() { conn.CloseNow() })
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		return nil, err
	}
	m, err := c.next(5 * time.Second)
	if err != nil {
		return nil, err
	}
	if m.Type != "connection_ack" {
		return nil, &wsRefused{m}
	}
	return c, nil
}

type wsRefused struct{ m wsMsg }

func (e *wsRefused) Error() string { return "refused: " + e.m.Type + " " + string(e.m.Payload) }

// next returns the next message that is not a keep-alive.
func (c *wsClient) next(timeout time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ka" || m.Type == "ping" || m.Type == "pong" {
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	typ := "subscribe"
	if c.legacy {
		typ = "start"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query}}); err != nil {
		c.t.Fatalf("subscribe: %v", err)
	}
}

type taskEvent struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Task *struct {
		Title string `json:"title"`
	} `json:"task"`
}

// event waits for the next data message and decodes it.
func (c *wsClient) event(timeout time.Duration) (taskEvent, error) {
	m, err := c.next(timeout)
	if err != nil {
		return taskEvent{}, err
	}
	if m.Type != "next" && m.Type != "data" {
		return taskEvent{}, &wsRefused{m}
	}
	var p struct {
		Data struct {
			TaskChanged taskEvent `json:"taskChanged"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		return taskEvent{}, &wsRefused{m}
	}
	return p.Data.TaskChanged, nil
}

const subQuery = `subscription { taskChanged { kind id task { title } } }`

func TestSubscriptionProtocols(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		alice := in.newUser(user.RoleMember)
		for _, legacy := range []bool{false, true} {
			name := "graphql-transport-ws"
			if legacy {
				name = "graphql-ws"
			}
			t.Run(name, func(t *testing.T) {
				c, err := dialWS(t, in, legacy, alice.Token)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.subscribe("1", subQuery)
				waitFor(t, func() bool { return in.gauge("taskmind_subscriptions_open") >= 1 })

				var created taskJSON
				steps := []func(){
					func() { created = createTask(t, in, alice, map[string]any{"title": "live " + name}) },
					func() {
						in.mustGQL(nil, `mutation($id: ID!) { setTaskDone(id: $id, done: true) { id } }`, map[string]any{"id": created.ID}, alice.auth()...)
					},
					func() {
						in.mustGQL(nil, `mutation($id: ID!) { deleteTask(id: $id) }`, map[string]any{"id": created.ID}, alice.auth()...)
					},
				}
				for i, want := range []string{"CREATED", "UPDATED", "DELETED"} {
					steps[i]()
					ev, err := c.event(5 * time.Second)
					if err != nil {
						t.Fatalf("waiting for %s: %v", want, err)
					}
					if ev.Kind != want || ev.ID != created.ID {
						t.Fatalf("event: got %s %s, want %s %s", ev.Kind, ev.ID, want, created.ID)
					}
					if want != "DELETED" && (ev.Task == nil || ev.Task.Title != "live "+name) {
						t.Fatalf("event task: got %+v, want the task", ev.Task)
					}
				}
				c.conn.Close(websocket.StatusNormalClosure, "bye")
				waitFor(t, func() bool { return in.gauge("taskmind_subscriptions_open") == 0 })
			})
		}
	})
}

func TestSubscriptionAcrossReplicas(t *testing.T) {
	cfg := dbtest.Postgres(t)
	a := start(t, cfg)
	cfgB := cfg
	cfgB.DataDir = t.TempDir()
	b := start(t, cfgB)
	alice := a.newUser(user.RoleMember)
	bob := a.newUser(user.RoleMember)

	aliceSub, err := dialWS(t, a, false, alice.Token)
	if err != nil {
		t.Fatal(err)
	}
	aliceSub.subscribe("1", subQuery)
	bobSub, err := dialWS(t, a, false, bob.Token)
	if err != nil {
		t.Fatal(err)
	}
	bobSub.subscribe("1", subQuery)
	waitFor(t, func() bool { return a.gauge("taskmind_subscriptions_open") == 2 })

	// Written through replica B, seen by a subscriber on replica A.
	created := createTask(t, b, alice, map[string]any{"title": "from replica B"})
	ev, err := aliceSub.event(5 * time.Second)
	if err != nil {
		t.Fatalf("event on replica A: %v", err)
	}
	if ev.Kind != "CREATED" || ev.ID != created.ID || ev.Task == nil || ev.Task.Title != "from replica B" {
		t.Fatalf("event: got %+v, want CREATED %s", ev, created.ID)
	}
	// Bob may not read Alice's task: he gets nothing, not even the id.
	bobTask := createTask(t, b, bob, map[string]any{"title": "bob's"})
	ev, err = bobSub.event(5 * time.Second)
	if err != nil || ev.ID != bobTask.ID {
		t.Fatalf("bob's first event: got %+v (%v), want only his own task %s", ev, err, bobTask.ID)
	}
}

func TestSubscriptionAuth(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	if _, err := dialWS(t, in, false, ""); err == nil {
		t.Fatalf("anonymous websocket: got connection_ack, want refusal")
	}
	if _, err := dialWS(t, in, false, "tmk_forged"); err == nil {
		t.Fatalf("forged token: got connection_ack, want refusal")
	}
	t.Run("foreign origin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := map[string][]string{"Origin": {"https://evil.example"}}
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if err == nil {
			t.Fatalf("cross-origin upgrade: got accepted, want refused")
		}
		if resp != nil && resp.StatusCode != 403 {
			t.Fatalf("cross-origin upgrade: got %d, want 403", resp.StatusCode)
		}
	})
	for _, tc := range []struct {
		name   string
		revoke func(a actor, admin actor)
	}{
		{"token revoked", func(a, _ actor) {
			var toks struct {
				APITokens []struct{ ID string } `json:"apiTokens"`
			}
			in.mustGQL(&toks, `{ apiTokens { id } }`, nil, a.auth()...)
			in.mustGQL(nil, `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`, map[string]any{"id": toks.APITokens[0].ID}, a.auth()...)
		}},
		{"user disabled", func(a, admin actor) {
			in.mustGQL(nil, `mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { id } }`, map[string]any{"id": a.ID}, admin.auth()...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := in.newUser(user.RoleMember)
			admin := in.newUser(user.RoleAdmin)
			c, err := dialWS(t, in, false, a.Token)
			if err != nil {
				t.Fatal(err)
			}
			c.subscribe("1", subQuery)
			tc.revoke(a, admin)
			start := time.Now()
			for {
				if _, err := c.next(6 * time.Second); err != nil {
					break // closed
				}
				if time.Since(start) > 6*time.Second {
					t.Fatalf("subscription still open after revocation")
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("subscription closed after %v, want within 5s", d)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
