// Command bench is Taskmind's load benchmark (make bench): it seeds 10,000
// tasks in PostgreSQL, then drives the real taskmind binary and a minimal
// raw database/sql + lib/pq JSON handler (the floor) with the same two
// workloads at the same concurrency, and reports throughput, latency and
// CPU seconds per 1,000 requests for the server plus PostgreSQL.
//
//	bench -db postgres://... -bin bin/taskmind [-c 32] [-d 10s]
//	bench raw-server -db postgres://... -addr 127.0.0.1:0   (used by bench itself)
//	bench inference -bin bin/taskmind [-d 10s]   (classifyDigit through GraphQL at concurrency 1 and 8)
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "raw-server" {
		err = rawServer(os.Args[2:])
	} else if len(os.Args) > 1 && os.Args[1] == "inference" {
		err = benchInference(os.Args[2:])
	} else {
		err = bench(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// ---- the floor: a minimal handler straight on database/sql ----

func rawServer(args []string) error {
	fs := flag.NewFlagSet("raw-server", flag.ExitOnError)
	dsn := fs.String("db", "", "PostgreSQL URL")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)
	db, err := sql.Open("postgres", *dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	mux := http.NewServeMux()
	type row struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
		Done  bool   `json:"done"`
		Owner string `json:"owner"`
	}
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), `SELECT t.id, t.title, t.done, u.name FROM tasks t JOIN users u ON u.id = t.owner_id ORDER BY t.id LIMIT 20`)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		out := make([]row, 0, 20)
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.ID, &x.Title, &x.Done, &x.Owner); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			out = append(out, x)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"tasks": out})
	})
	var owner int
	if err := db.QueryRow(`SELECT id FROM users ORDER BY id LIMIT 1`).Scan(&owner); err != nil {
		return err
	}
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Title string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var id int
		now := time.Now()
		err := db.QueryRowContext(r.Context(), `INSERT INTO tasks (title, done, priority, version, owner_id, created_at, updated_at) VALUES ($1, false, 2, 1, $2, $3, $3) RETURNING id`, in.Title, owner, now).Scan(&id)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "title": in.Title})
	})
	return http.Serve(ln, mux)
}

// ---- the driver ----

type workload struct {
	name   string
	method string
	path   string
	body   func(i int64) []byte
	header http.Header
}

type result struct {
	target, workload string
	requests, errors int64
	seconds          float64
	p50, p99         time.Duration
	latencies        []time.Duration
	cpuSeconds       float64
	serverCPU        float64
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	dsn := fs.String("db", os.Getenv("TASKMIND_TEST_DATABASE_URL"), "PostgreSQL admin URL (a fresh database is created)")
	bin := fs.String("bin", "bin/taskmind", "taskmind binary")
	conc := fs.Int("c", 32, "concurrency")
	dur := fs.Duration("d", 10*time.Second, "duration of each run")
	seed := fs.Int("tasks", 10000, "tasks to seed")
	rounds := fs.Int("rounds", 3, "alternating rounds per workload (the duration is split among them)")
	readQ := fs.String("read-query", "query Read { tasks(first: 20) { edges { node { id title done owner { name } } } } }", "GraphQL read operation (for profiling variants)")
	_ = fs.Parse(args)
	if *dsn == "" {
		return errors.New("-db or TASKMIND_TEST_DATABASE_URL is required")
	}
	ctx := context.Background()
	dbURL, err := freshDatabase(*dsn)
	if err != nil {
		return err
	}

	// Start Taskmind: it migrates the schema, then we seed through SQL.
	dataDir, _ := os.MkdirTemp("", "taskmind-bench")
	defer os.RemoveAll(dataDir)
	tm, tmAddr, err := startTaskmind(ctx, *bin, dbURL, dataDir)
	if err != nil {
		return err
	}
	defer stop(tm)
	token, err := seedData(*bin, dbURL, dataDir, *seed)
	if err != nil {
		return err
	}
	raw, rawAddr, err := startRaw(dbURL)
	if err != nil {
		return err
	}
	defer stop(raw)

	auth := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	readQuery, _ := json.Marshal(map[string]any{"query": *readQ})
	gqlRead := workload{"read", http.MethodPost, "/graphql", func(int64) []byte { return readQuery }, auth}
	gqlWrite := workload{"write", http.MethodPost, "/graphql", func(i int64) []byte {
		b, _ := json.Marshal(map[string]any{"query": "mutation Write($t: String!) { createTask(input: {title: $t}) { id title } }", "variables": map[string]any{"t": "bench " + strconv.FormatInt(i, 10)}})
		return b
	}, auth}
	rawRead := workload{"read", http.MethodGet, "/read", func(int64) []byte { return nil }, nil}
	rawWrite := workload{"write", http.MethodPost, "/write", func(i int64) []byte { return []byte(`{"title":"bench ` + strconv.FormatInt(i, 10) + `"}`) }, http.Header{"Content-Type": {"application/json"}}}

	pgPIDs := func() []int { return postgresPIDs() }
	var results []result
	// Each workload runs in rounds that alternate between the two servers,
	// and the rounds are summed: a machine that drifts (other processes,
	// CPU frequency, PostgreSQL's background writers) then weighs on both
	// sides alike instead of on whichever happened to run last.
	type run struct {
		target string
		addr   string
		pid    int
		w      workload
	}
	for _, pair := range [][2]run{
		{{"raw", rawAddr, raw.Process.Pid, rawRead}, {"graphql", tmAddr, tm.Process.Pid, gqlRead}},
		{{"raw", rawAddr, raw.Process.Pid, rawWrite}, {"graphql", tmAddr, tm.Process.Pid, gqlWrite}},
	} {
		var sums [2]result
		for round := 0; round < *rounds; round++ {
			for i, run := range pair {
				// A short warm-up fills pools and caches, then the measured run.
				load(run.addr, run.w, *conc, time.Second)
				pg0, srv0 := cpuSeconds(pgPIDs()), cpuSeconds([]int{run.pid})
				r := load(run.addr, run.w, *conc, *dur/time.Duration(*rounds))
				r.serverCPU = cpuSeconds([]int{run.pid}) - srv0
				r.cpuSeconds = cpuSeconds(pgPIDs()) - pg0 + r.serverCPU
				sums[i] = addResults(sums[i], r)
			}
		}
		for i, run := range pair {
			sums[i].target = run.target
			results = append(results, sums[i])
		}
	}

	fmt.Printf("\n%-8s %-6s %9s %7s %9s %9s %16s %16s %14s\n", "target", "load", "req/s", "errors", "p50", "p99", "cpu-s/1k req", "(server part)", "req/cpu-s")
	perCPU := map[string]float64{}
	for _, r := range results {
		rps := float64(r.requests) / r.seconds
		per := float64(r.requests) / r.cpuSeconds
		perCPU[r.target+"/"+r.workload] = per
		fmt.Printf("%-8s %-6s %9.0f %7d %9s %9s %16.3f %16.3f %14.0f\n", r.target, r.workload, rps, r.errors, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), 1000*r.cpuSeconds/float64(r.requests), 1000*r.serverCPU/float64(r.requests), per)
	}
	readRatio := perCPU["graphql/read"] / perCPU["raw/read"]
	writeRatio := perCPU["graphql/write"] / perCPU["raw/write"]
	fmt.Printf("\nGraphQL vs raw, requests per CPU-second (server + PostgreSQL): reads %.2fx (floor 0.35), writes %.2fx (floor 0.25)\n", readRatio, writeRatio)
	var errs int64
	for _, r := range results {
		errs += r.errors
	}
	if errs > 0 || readRatio < 0.35 || writeRatio < 0.25 {
		return fmt.Errorf("floor not met (errors %d, reads %.2fx, writes %.2fx)", errs, readRatio, writeRatio)
	}
	return nil
}

func freshDatabase(admin string) (string, error) {
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	name := fmt.Sprintf("tm_bench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	i := strings.Index(admin, "://")
	rest := admin[i+3:]
	slash := strings.Index(rest, "/")
	q := ""
	if j := strings.Index(rest, "?"); j >= 0 {
		q = rest[j:]
	}
	return admin[:i+3] + rest[:slash] + "/" + name + q, nil
}

func startTaskmind(ctx context.Context, bin, dbURL, dataDir string) (*exec.Cmd, string, error) {
	port := freePort()
	cmd := exec.Command(bin, "serve")
	env := []string{}
	if dbURL != "" {
		env = append(env, "DATABASE_URL="+dbURL)
	}
	cmd.Env = append(append(os.Environ(), env...), "TASKMIND_DATA_DIR="+dataDir, "PORT="+strconv.Itoa(port),
		"TASKMIND_LOG_LEVEL=warn", "TASKMIND_SECRET_KEY=bench-secret-key-bench-secret-key-0123")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for range 200 {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, addr, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop(cmd)
	return nil, "", errors.New("taskmind did not become ready")
}

// seedData creates the benchmark user (a MEMBER who owns every task, so the
// privacy filter is in play) with an API token, and 10,000 tasks.
func seedData(bin, dbURL, dataDir string, n int) (string, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	now := time.Now()
	var uid int
	if err := db.QueryRow(`INSERT INTO users (email, name, role, disabled, created_at, updated_at) VALUES ('bench@example.com', 'Bench User', 'MEMBER', false, $1, $1) RETURNING id`, now).Scan(&uid); err != nil {
		return "", err
	}
	if _, err := db.Exec(`INSERT INTO tasks (title, done, priority, version, owner_id, created_at, updated_at)
		SELECT 'seeded task ' || g, g % 3 = 0, 1 + g % 3, 1, $1, $2, $2 FROM generate_series(1, $3) g`, uid, now, n); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "token", "create", "--email", "bench@example.com", "--name", "bench")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "TASKMIND_DATA_DIR="+dataDir)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("creating token: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func startRaw(dbURL string) (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, "raw-server", "-db", dbURL)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop(cmd)
		return nil, "", err
	}
	return cmd, strings.TrimSpace(line), nil
}

func stop(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// load runs w at concurrency c for d, and stops by itself.
func load(addr string, w workload, c int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}, Timeout: 10 * time.Second}
	var (
		seq      atomic.Int64
		errCount atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				i := seq.Add(1)
				req, _ := http.NewRequest(w.method, "http://"+addr+w.path, bytes.NewReader(w.body(i)))
				for k, v := range w.header {
					req.Header[k] = v
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errCount.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode >= 300 || bytes.Contains(body, []byte(`"errors"`)) {
					errCount.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	slices.Sort(lat)
	r := result{workload: w.name, requests: int64(len(lat)), errors: errCount.Load(), seconds: secs, latencies: lat}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}

// cpuSeconds sums user+system CPU time of the given processes (Linux).
func cpuSeconds(pids []int) float64 {
	var ticks float64
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseFloat(fields[11], 64)
		st, _ := strconv.ParseFloat(fields[12], 64)
		ticks += ut + st
	}
	return ticks / 100 // USER_HZ
}

// postgresPIDs lists every postgres process (the postmaster and its
// backends); backends that exit mid-run take their CPU with them, which is
// why the pools keep their connections.
func postgresPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// benchInference drives classifyDigit through GraphQL on the embedded
// SQLite database, every prediction recorded, at concurrency 1 and 8, and
// reports how many cores the server used.
func benchInference(args []string) error {
	fs := flag.NewFlagSet("inference", flag.ExitOnError)
	bin := fs.String("bin", "bin/taskmind", "taskmind binary")
	dur := fs.Duration("d", 10*time.Second, "duration of each run")
	_ = fs.Parse(args)
	dataDir, _ := os.MkdirTemp("", "taskmind-bench-inference")
	defer os.RemoveAll(dataDir)
	tm, addr, err := startTaskmind(context.Background(), *bin, "", dataDir)
	if err != nil {
		return err
	}
	defer stop(tm)
	cmd := exec.Command(*bin, "login-link", "--email", "bench@example.com")
	cmd.Env = append(os.Environ(), "TASKMIND_DATA_DIR="+dataDir)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("creating the bench admin: %w", err)
	}
	cmd = exec.Command(*bin, "token", "create", "--email", "bench@example.com", "--name", "bench")
	cmd.Env = append(os.Environ(), "TASKMIND_DATA_DIR="+dataDir)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	pixels := make([]float64, 784)
	for i := range pixels {
		if i%28 > 10 && i%28 < 16 && i/28 > 4 && i/28 < 24 { // a "1"
			pixels[i] = 1
		}
	}
	body, _ := json.Marshal(map[string]any{
		"query":     "mutation Classify($p: [Float!]!) { classifyDigit(pixels: $p) { digit probabilities } }",
		"variables": map[string]any{"p": pixels},
	})
	w := workload{"classify", http.MethodPost, "/graphql", func(int64) []byte { return body },
		http.Header{"Authorization": {"Bearer " + strings.TrimSpace(string(out))}, "Content-Type": {"application/json"}}}
	fmt.Printf("\n%-6s %10s %7s %9s %9s %12s %14s\n", "conc", "pred/s", "errors", "p50", "p99", "server cores", "machine cores")
	var rate8, cores8 float64
	for _, c := range []int{1, 8} {
		load(addr, w, c, time.Second)
		cpu0, busy0 := cpuSeconds([]int{tm.Process.Pid}), machineBusy()
		r := load(addr, w, c, *dur)
		cores := (cpuSeconds([]int{tm.Process.Pid}) - cpu0) / r.seconds
		machine := (machineBusy() - busy0) / r.seconds
		rate := float64(r.requests) / r.seconds
		fmt.Printf("%-6d %10.0f %7d %9s %9s %12.2f %14.2f\n", c, rate, r.errors, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), cores, machine)
		if r.errors > 0 {
			return fmt.Errorf("%d errors at concurrency %d", r.errors, c)
		}
		if c == 8 {
			rate8, cores8 = rate, cores
		}
	}
	fmt.Printf("\nGraphQL at concurrency 8: %.0f recorded predictions/s (floor 2000), server used %.2f cores\n", rate8, cores8)
	if runs, reqs, err := batchStats(addr); err == nil && runs > 0 {
		fmt.Printf("model runs: %.0f for %.0f requests (%.2f requests merged per run on average)\n", runs, reqs, reqs/runs)
	}
	if rate8 < 2000 {
		return fmt.Errorf("floor not met: %.0f predictions/s", rate8)
	}
	return nil
}

// batchStats reads how many model runs served how many requests from the
// server's taskmind_inference_batch_requests histogram.
func batchStats(addr string) (runs, requests float64, err error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch {
		case strings.HasPrefix(f[0], "taskmind_inference_batch_requests_count{"):
			runs += v
		case strings.HasPrefix(f[0], "taskmind_inference_batch_requests_sum{"):
			requests += v
		}
	}
	return runs, requests, nil
}

// machineBusy is the machine's busy CPU seconds so far (all processes:
// server, load generator and anything else), from /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / 100
}

// addResults sums two runs of the same workload; latency percentiles are
// recomputed over both runs' requests.
func addResults(a, b result) result {
	out := result{
		workload: b.workload, requests: a.requests + b.requests, errors: a.errors + b.errors,
		seconds: a.seconds + b.seconds, cpuSeconds: a.cpuSeconds + b.cpuSeconds, serverCPU: a.serverCPU + b.serverCPU,
		latencies: append(a.latencies, b.latencies...),
	}
	slices.Sort(out.latencies)
	if n := len(out.latencies); n > 0 {
		out.p50 = out.latencies[n/2]
		out.p99 = out.latencies[n*99/100]
	}
	return out
}
