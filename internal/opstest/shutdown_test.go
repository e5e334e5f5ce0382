package opstest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	_ "github.com/lib/pq" // database/sql driver, to read the tasks back

	"github.com/taskmind/taskmind/internal/dbtest"
)

// writeOutcome is what one POST /tasks got.
type writeOutcome struct {
	start  time.Time
	status int
	id     int // the created task's id, for a 2xx
	err    error
}

// TestGracefulShutdownUnderWriteLoad sends SIGTERM to a server on
// PostgreSQL while writers keep creating tasks through the REST API, and
// keep trying through the drain and after the exit. It proves that:
//   - every write acknowledged with a 2xx is in the database afterwards;
//   - every other request was refused cleanly: 503, or no response at all
//     (connection refused, or a connection closed before the request was
//     read), never a 5xx other than 503 and never a hang;
//   - /readyz answers 503 "draining" between SIGTERM and the exit, so a
//     load balancer polling it stops sending traffic;
//   - an open GraphQL subscription is closed with 1001 (going away);
//   - the process exits 0.
func TestGracefulShutdownUnderWriteLoad(t *testing.T) {
	requireBinary(t)
	t.Parallel()
	cfg := dbtest.Postgres(t)
	srv := startServer(t, map[string]string{
		"DATABASE_URL":              cfg.DatabaseURL,
		"TASKMIND_SHUTDOWN_TIMEOUT": "10s",
		// How long the server keeps serving with /readyz failing before it
		// closes its listeners. A binary without this setting ignores it,
		// and fails the /readyz check below.
		"TASKMIND_SHUTDOWN_DELAY": "1s",
		"TASKMIND_LOG_LEVEL":      "warn",
	})
	token := srv.createToken(t, "writers")

	wsDone := make(chan error, 1)
	subscribeUntilClosed(t, srv.URL, token, wsDone)

	const writers = 8
	transport := &http.Transport{MaxIdleConnsPerHost: writers, MaxConnsPerHost: writers}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 15 * time.Second}

	var (
		mu       sync.Mutex
		outcomes []writeOutcome
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		acked    atomic.Int64
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				o := writeOutcome{start: time.Now()}
				status, body, err := request(client, http.MethodPost, srv.URL+"/tasks", bearer(token),
					fmt.Sprintf(`{"title":"writer %d task %d"}`, w, n))
				o.status, o.err = status, err
				if err == nil && status >= 200 && status < 300 {
					var task struct{ ID int }
					if jerr := json.Unmarshal([]byte(body), &task); jerr != nil || task.ID == 0 {
						o.err = fmt.Errorf("2xx with an unreadable body %q", body)
					}
					o.id = task.ID
					acked.Add(1)
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					// The server is gone or going: do not spin.
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}

	// Let the load settle, then stop the server in the middle of it.
	deadline := time.Now().Add(10 * time.Second)
	for acked.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if acked.Load() == 0 {
		close(stop)
		wg.Wait()
		t.Fatalf("got no acknowledged write before SIGTERM, want a running load; outcomes: %v", summarize(outcomes))
	}
	sigterm := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	readiness := pollReadiness(srv.URL, srv.process)

	code := srv.exitCode(t, 20*time.Second)
	exited := time.Now()
	// Writers keep going briefly after the exit: those requests must be
	// refused at the door.
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	if code != 0 {
		t.Errorf("got exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("drain took %v; %s", exited.Sub(sigterm).Round(time.Millisecond), summarize(outcomes))

	t.Run("acknowledged writes persisted", func(t *testing.T) {
		stored := taskIDs(t, cfg.DatabaseURL)
		var missing []int
		for _, o := range outcomes {
			if o.id != 0 && !stored[o.id] {
				missing = append(missing, o.id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("got %d acknowledged tasks missing from the database (ids %v), want none", len(missing), first(missing, 20))
		}
	})

	t.Run("other requests refused cleanly", func(t *testing.T) {
		for _, o := range outcomes {
			switch {
			case o.err == nil && o.status >= 200 && o.status < 300:
			case o.err == nil && o.status == http.StatusServiceUnavailable:
			case o.err == nil:
				t.Errorf("request at +%v: got status %d, want a 2xx or 503", o.start.Sub(sigterm).Round(time.Millisecond), o.status)
			case !refusedCleanly(o.err):
				t.Errorf("request at +%v: got error %v, want a 2xx, a 503 or a refused connection", o.start.Sub(sigterm).Round(time.Millisecond), o.err)
			}
		}
		// The load must have reached the closed door, or the test proved
		// nothing about requests arriving during and after the drain. (A
		// kept-alive connection may also report the exit as a reset.)
		var afterExit, answered, connRefused int
		for _, o := range outcomes {
			if o.start.After(exited) {
				afterExit++
				if o.err == nil {
					answered++
				} else if errors.Is(o.err, syscall.ECONNREFUSED) {
					connRefused++
				}
			}
		}
		if afterExit == 0 || connRefused == 0 || answered > 0 {
			t.Errorf("after the exit: got %d requests, %d answered, %d refused with ECONNREFUSED; want some, none answered, some refused", afterExit, answered, connRefused)
		}
	})

	t.Run("readyz reports draining", func(t *testing.T) {
		obs := <-readiness
		var draining, readyAfterDraining int
		for _, o := range obs {
			if o.status == http.StatusServiceUnavailable && o.body == "draining" {
				draining++
			}
			if draining > 0 && o.status == http.StatusOK {
				readyAfterDraining++
			}
		}
		if draining == 0 {
			t.Errorf("between SIGTERM and exit: got no 503 {\"status\":\"draining\"} from /readyz in %d polls (%s), want some: "+
				"the server must keep serving with readiness false for a moment before it closes its listeners", len(obs), summarizeReadiness(obs))
		}
		if readyAfterDraining > 0 {
			t.Errorf("got /readyz 200 %d times after it reported draining, want none", readyAfterDraining)
		}
	})

	t.Run("websocket closed with 1001", func(t *testing.T) {
		select {
		case err := <-wsDone:
			if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
				t.Errorf("subscription ended with %v (close status %d), want close status %d (going away)", err, got, websocket.StatusGoingAway)
			}
		case <-time.After(5 * time.Second):
			t.Error("got a subscription still open after the server exited, want it closed with 1001")
		}
	})
}

// refusedCleanly says whether a request failed without the server having
// read it: the listener was closed (connection refused), or a kept-alive
// connection the server closed as idle (reset, EOF) before the request
// reached it. A request cut off after the server read it would look the
// same from here; the acknowledged-writes check is what rules out loss.
func refusedCleanly(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

type readinessObservation struct {
	status int // 0 when the request failed
	body   string
	err    error
}

// pollReadiness asks /readyz every 10 ms, each time on a new connection as a
// load balancer's health check does, until the process exits.
func pollReadiness(base string, p *process) <-chan []readinessObservation {
	out := make(chan []readinessObservation, 1)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		var obs []readinessObservation
		for p.running() {
			var o readinessObservation
			status, body, err := request(client, http.MethodGet, base+"/readyz", nil, "")
			o.status, o.err = status, err
			var r struct{ Status string }
			if json.Unmarshal([]byte(body), &r) == nil {
				o.body = r.Status
			}
			obs = append(obs, o)
			time.Sleep(10 * time.Millisecond)
		}
		out <- obs
	}()
	return out
}

func summarizeReadiness(obs []readinessObservation) string {
	counts := map[string]int{}
	for _, o := range obs {
		key := fmt.Sprintf("%d %s", o.status, o.body)
		if o.err != nil {
			key = errorKind(o.err)
		}
		counts[key]++
	}
	return fmt.Sprint(counts)
}

func summarize(outcomes []writeOutcome) string {
	counts := map[string]int{}
	for _, o := range outcomes {
		key := fmt.Sprint(o.status)
		if o.err != nil {
			key = errorKind(o.err)
		}
		counts[key]++
	}
	return fmt.Sprintf("%d requests: %v", len(outcomes), counts)
}

func errorKind(err error) string {
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.As(err, &op):
		return op.Op + " error"
	}
	return err.Error()
}

// first returns at most n elements of s, for messages.
func first[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// taskIDs reads the ids of every task straight from PostgreSQL.
func taskIDs(t *testing.T, dsn string) map[int]bool {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id FROM tasks")
	if err != nil {
		t.Fatalf("reading tasks: %v", err)
	}
	defer rows.Close()
	ids := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// subscribeUntilClosed opens a taskChanged subscription over
// graphql-transport-ws and reports, on done, the error that ended it.
func subscribeUntilClosed(t *testing.T, base, token string, done chan<- error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("opening a websocket: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: got %+v, %v; want connection_ack", ack, err)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": "subscription OpsEvents { taskChanged { kind id } }"}}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			var m json.RawMessage
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				done <- err
				return
			}
		}
	}()
}
