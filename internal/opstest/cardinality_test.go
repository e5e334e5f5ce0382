package opstest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRandomPathsAddNoSeries sends 100,000 requests to random paths that do
// not exist, under every prefix the server routes (/graphql/x, /tasks/x,
// /v2/x, /auth/x, the SPA's /x and /assets/x.js), and checks that the set
// of taskmind_http_* series in /metrics is the same before and after. It
// proves that metrics are labelled by route template, never by raw path, so
// a scanner or a crawler cannot exhaust Prometheus's memory. Random request
// methods, which HTTP allows as any token, must not add series either.
func TestRandomPathsAddNoSeries(t *testing.T) {
	requireBinary(t)
	// Info-level access logs for 100,000 requests would only measure the
	// pipe to this test.
	srv := startServer(t, map[string]string{"TASKMIND_LOG_LEVEL": "warn"})
	transport := &http.Transport{MaxIdleConnsPerHost: 8, MaxConnsPerHost: 8}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	// A warm-up creates the series that random paths legitimately share:
	// one per route template, method and status (route "/*" with 404, the
	// sign-in limiter's 429, whatever bucket odd methods fall in, /metrics
	// itself). From then on, the count must not move however many new
	// paths and methods arrive.
	for _, methods := range []bool{false, true} {
		if _, err := sendRandom(client, srv.URL, 2_000, methods); err != nil {
			t.Fatal(err)
		}
	}
	httpSeries(t, client, srv.URL)

	for _, tc := range []struct {
		name     string
		requests int
		methods  bool
	}{
		{"random paths", 100_000, false},
		{"random methods", 1_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := httpSeries(t, client, srv.URL)
			start := time.Now()
			statuses, err := sendRandom(client, srv.URL, tc.requests, tc.methods)
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			t.Logf("%d requests in %v (%.0f/s)", tc.requests, elapsed.Round(time.Millisecond), float64(tc.requests)/elapsed.Seconds())
			for family, byStatus := range statuses {
				for status, ex := range byStatus {
					if !randomPathFamilies[family].statuses[status] && !(tc.methods && (status == 404 || status == 405)) {
						t.Errorf("%s: got status %d for %d requests (e.g. %s), want one of %v",
							randomPathFamilies[family].name, status, ex.count, ex.example, keys(randomPathFamilies[family].statuses))
					}
				}
			}
			after := httpSeries(t, client, srv.URL)
			var added []string
			for s := range after {
				if !before[s] {
					added = append(added, s)
				}
			}
			sort.Strings(added)
			if len(after) != len(before) || len(added) > 0 {
				t.Errorf("got %d taskmind_http_* series after %d %s, want %d as before; new: %v",
					len(after), tc.requests, tc.name, len(before), first(added, 6))
			}
		})
	}
}

// statusCount counts the answers of one status, with one request as an example.
type statusCount struct {
	count   int
	example string
}

// sendRandom sends n requests to random paths, 8 at a time over kept-alive
// connections, with random methods if asked. It returns, per family of
// randomPathFamilies, the statuses seen.
func sendRandom(client *http.Client, base string, n int, methods bool) (map[int]map[int]statusCount, error) {
	const concurrency = 8
	var (
		next     atomic.Int64
		mu       sync.Mutex
		statuses = map[int]map[int]statusCount{}
		firstErr error
		wg       sync.WaitGroup
	)
	seed := uint64(time.Now().UnixNano())
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			local := map[int]map[int]statusCount{}
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				for family, m := range local {
					if statuses[family] == nil {
						statuses[family] = map[int]statusCount{}
					}
					for s, c := range m {
						c.count += statuses[family][s].count
						statuses[family][s] = c
					}
				}
			}()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				family := int(i) % len(randomPathFamilies)
				method := http.MethodGet
				if methods {
					method = "X" + randomToken(rng)
				}
				path := randomPath(rng, family)
				for randomPathFamilies[family].prefix == "/" && hasServerPrefix(path) {
					// A "client route" that happens to start with /v2/ or
					// /tasks is not one.
					path = randomPath(rng, family)
				}
				status, err := send(client, method, base+path)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s %s: %w", method, path, err)
					}
					mu.Unlock()
					return
				}
				if local[family] == nil {
					local[family] = map[int]statusCount{}
				}
				c := local[family][status]
				c.count++
				if c.example == "" {
					c.example = method + " " + path
				}
				local[family][status] = c
			}
		}()
	}
	wg.Wait()
	return statuses, firstErr
}

// randomPathFamilies are the prefixes the router treats differently, with
// the statuses a random path under each may get. /auth/<x> is a provider
// name: 404, or 429 once the sign-in rate limit for this IP is spent. A
// bare /<x> is a client-side route of the SPA, so 200. A missing file
// (/assets/x.js, /x.php) is 404 when the SPA is embedded, and 200 when it
// is not: a binary built without the SPA answers every page with a notice.
var randomPathFamilies = []struct {
	name     string
	prefix   string
	suffix   string
	statuses map[int]bool
}{
	{"graphql", "/graphql/", "", map[int]bool{404: true}},
	{"tasks", "/tasks/", "", map[int]bool{404: true}},
	{"v2", "/v2/", "", map[int]bool{404: true}},
	{"auth", "/auth/", "", map[int]bool{404: true, 429: true}},
	{"auth deep", "/auth/x/", "", map[int]bool{404: true}},
	{"asset", "/assets/", ".js", map[int]bool{200: true, 404: true}},
	{"file", "/", ".php", map[int]bool{200: true, 404: true}},
	{"client route", "/", "", map[int]bool{200: true}},
}

const pathAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~"

// hasServerPrefix tells whether path starts like a server route, which the
// SPA never answers (serverPrefixes in server/spa.go).
func hasServerPrefix(path string) bool {
	for _, p := range []string{"/graphql", "/auth", "/tasks", "/v2", "/metrics", "/healthz", "/readyz"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// randomToken returns 1 to 12 random upper-case letters.
func randomToken(rng *rand.Rand) string {
	b := make([]byte, 1+rng.IntN(12))
	for i := range b {
		b[i] = byte('A' + rng.IntN(26))
	}
	return string(b)
}

// randomPath returns a fresh path of 1 to 4 random segments (some
// percent-encoded) under the family's prefix, sometimes with a query.
func randomPath(rng *rand.Rand, family int) string {
	f := randomPathFamilies[family]
	var b strings.Builder
	b.WriteString(f.prefix)
	for i := range 1 + rng.IntN(4) {
		if i > 0 {
			b.WriteByte('/')
		}
		for range 1 + rng.IntN(16) {
			if rng.IntN(20) == 0 {
				fmt.Fprintf(&b, "%%%02X", 0x80+rng.IntN(0x80))
				continue
			}
			b.WriteByte(pathAlphabet[rng.IntN(len(pathAlphabet))])
		}
	}
	b.WriteString(f.suffix)
	if rng.IntN(4) == 0 {
		fmt.Fprintf(&b, "?q=%d", rng.Int64())
	}
	return b.String()
}

func send(client *http.Client, method, url string) (int, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	// Drain so the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// httpSeries returns the taskmind_http_* series in /metrics (name and
// labels, without the value).
func httpSeries(t *testing.T, client *http.Client, base string) map[string]bool {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: got %d, want 200", resp.StatusCode)
	}
	series := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "taskmind_http_") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			line = line[:i]
		}
		series[line] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(series) == 0 {
		t.Fatal("got no taskmind_http_* series in /metrics, want some")
	}
	return series
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
