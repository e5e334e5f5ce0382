package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskmind/taskmind/deploy"

	"github.com/taskmind/taskmind/internal/testenv"
)

// allowedEmpty lists the dashboard expressions that may return no data in
// this test, and why. Keep it short: an entry hides a panel that an
// operator would see empty. The test fails once an entry returns data, so
// the list cannot go stale. Today every panel gets data.
var allowedEmpty = map[string]string{}

// rateInterval stands in for Grafana's $__rate_interval: with a 1 s
// scrape interval, 15 s holds enough samples for rate().
const rateInterval = 15 * time.Second

// TestPrometheusEvaluatesEveryExpression starts Debian's Prometheus,
// scraping a running Taskmind every second and loading the alert rules,
// sends some traffic, and evaluates every expression of the Grafana
// dashboard and of the alert rules through Prometheus's HTTP API. It proves
// that each expression is valid PromQL against the real metrics, that every
// dashboard panel and variable shows data (not NaN) after traffic, that the
// rule engine evaluates every rule without error. (`promtool check rules`
// runs in deploy's TestPromtool.)
func TestPrometheusEvaluatesEveryExpression(t *testing.T) {
	requireBinary(t)
	promBin := testenv.RequireTool(t, "prometheus", "apt-get install prometheus")
	t.Parallel()
	exprs, err := deploy.Expressions(rateInterval)
	if err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, map[string]string{"TASKMIND_LOG_LEVEL": "warn"})
	token := srv.createToken(t, "prometheus test")
	prom := startPrometheus(t, promBin, strings.TrimPrefix(srv.URL, "http://"))

	ctx, cancel := context.WithCancel(context.Background())
	trafficDone := make(chan error, 1)
	go func() { trafficDone <- generateTraffic(ctx, srv.URL, token) }()
	defer func() {
		cancel()
		if err := <-trafficDone; err != nil {
			t.Errorf("traffic: %v", err)
		}
	}()

	// Scrapes, rate windows and rule evaluations need a few seconds:
	// evaluate until every expression that should have data has it.
	type result struct {
		err     error
		samples int // samples in the result
		values  int // samples that are numbers, not NaN
	}
	results := map[string]result{}
	pending := func() []string {
		var names []string
		for _, e := range exprs {
			r := results[e.Source]
			if r.err != nil || e.Kind == deploy.KindAlert || allowedEmpty[e.Source] != "" {
				continue
			}
			if r.values == 0 {
				names = append(names, e.Source)
			}
		}
		return names
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		for _, e := range exprs {
			samples, values, err := prom.query(e.Query)
			results[e.Source] = result{err: err, samples: samples, values: values}
		}
		if len(pending()) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}

	for _, e := range exprs {
		r := results[e.Source]
		switch {
		case r.err != nil:
			t.Errorf("%s: got error %v, want none\nquery: %s", e.Source, r.err, e.Query)
		case e.Kind == deploy.KindAlert:
			// An alert's result is the set of firing series: empty is fine.
		case allowedEmpty[e.Source] != "":
			if r.samples > 0 {
				t.Errorf("%s: got %d samples, want none as listed in allowedEmpty (%s): remove it from the list", e.Source, r.samples, allowedEmpty[e.Source])
			}
		case r.values == 0:
			t.Errorf("%s: got %d samples, none a number, want data after traffic\nquery: %s", e.Source, r.samples, e.Query)
		}
	}
	var empty []string
	for source := range allowedEmpty {
		empty = append(empty, source)
	}
	sort.Strings(empty)
	t.Logf("%d expressions evaluated; allowed to be empty: %s", len(exprs), strings.Join(empty, "; "))

	t.Run("rule engine", func(t *testing.T) {
		prom.checkRules(t, len(exprsOfKind(exprs, deploy.KindAlert)))
	})
}

func exprsOfKind(exprs []deploy.Expression, kind deploy.Kind) []deploy.Expression {
	var out []deploy.Expression
	for _, e := range exprs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// generateTraffic exercises every kind of request the dashboard shows until
// ctx ends: GraphQL queries, mutations and errors, REST reads and writes,
// 401s, 404s and the health checks a load balancer sends.
func generateTraffic(ctx context.Context, base, token string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	gql := []struct {
		query    string
		wantCode string // "" for success
	}{
		{`query OpsTasks { tasks(first: 5) { totalCount } }`, ""},
		{`mutation OpsCreate { createTask(input: {title: "from the prometheus test"}) { id } }`, ""},
		{`mutation OpsMissing { setTaskDone(id: "999999999", done: true) { id } }`, "NOT_FOUND"},
		{`mutation OpsClassify { classifyDigit(pixels: [` + strings.TrimSuffix(strings.Repeat("0,", 784), ",") + `]) { digit } }`, ""},
		{`mutation OpsBadPredict { predict(model: "mnist", inputs: [{shape: [1, 2], data: [1, 2]}]) { model } }`, "BAD_USER_INPUT"},
	}
	for ctx.Err() == nil {
		for _, q := range gql {
			status, r, err := graphql(client, base, bearer(token), q.query, nil)
			if err != nil {
				return err
			}
			var code string
			if len(r.Errors) > 0 {
				code = r.Errors[0].Extensions.Code
			}
			if status != http.StatusOK || code != q.wantCode {
				return fmt.Errorf("%s: got status %d, error code %q; want 200, %q", q.query, status, code, q.wantCode)
			}
		}
		for _, r := range []struct {
			method, path string
			header       http.Header
			body         string
			want         int
		}{
			{http.MethodGet, "/tasks?limit=5", bearer(token), "", http.StatusOK},
			{http.MethodPost, "/tasks", bearer(token), `{"title":"rest"}`, http.StatusCreated},
			{http.MethodGet, "/tasks", nil, "", http.StatusUnauthorized},
			{http.MethodGet, "/tasks/no-such-task", nil, "", http.StatusNotFound},
			{http.MethodGet, "/v2/nothing-here", nil, "", http.StatusNotFound},
			{http.MethodGet, "/healthz", nil, "", http.StatusOK},
			{http.MethodGet, "/readyz", nil, "", http.StatusOK},
		} {
			status, body, err := request(client, r.method, base+r.path, r.header, r.body)
			if err != nil {
				return err
			}
			if status != r.want {
				return fmt.Errorf("%s %s: got %d %s, want %d", r.method, r.path, status, body, r.want)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// prometheus is a running Prometheus server.
type prometheus struct {
	*process
	url string
}

// startPrometheus runs Prometheus on a free loopback port, scraping target
// every second under the job name the alert rules expect, with the alert
// rules loaded.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	t.Helper()
	rules, err := filepath.Abs(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: taskmind
    static_configs:
      - targets: [%q]
`, rules, target)
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		cmd := exec.Command(bin,
			"--config.file="+configPath,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--log.level=warn",
		)
		p := &prometheus{process: startProcess(t, cmd), url: "http://" + addr}
		err := p.waitReady(30 * time.Second)
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
			continue
		}
		t.Fatalf("prometheus: %v\n%s", err, tail(p.out.String(), 4000))
	}
}

func (p *prometheus) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !p.running() {
			return fmt.Errorf("exited: %v", p.err)
		}
		if status, _, err := request(client, http.MethodGet, p.url+"/-/ready", nil, ""); err == nil && status == http.StatusOK {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready within %v", timeout)
}

// query evaluates an instant query now and counts the samples it returned
// and those that are numbers. A warning counts as an error: Prometheus
// emits one when a query is suspect, and a dashboard should have none.
func (p *prometheus) query(q string) (samples, values int, err error) {
	status, body, err := request(&http.Client{Timeout: 10 * time.Second}, http.MethodGet,
		p.url+"/api/v1/query?query="+url.QueryEscape(q), nil, "")
	if err != nil {
		return 0, 0, err
	}
	var r struct {
		Status    string   `json:"status"`
		Error     string   `json:"error"`
		ErrorType string   `json:"errorType"`
		Warnings  []string `json:"warnings"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return 0, 0, fmt.Errorf("HTTP %d, unreadable answer %q: %w", status, body, err)
	}
	if r.Status != "success" {
		return 0, 0, fmt.Errorf("HTTP %d, %s: %s", status, r.ErrorType, r.Error)
	}
	if len(r.Warnings) > 0 {
		return 0, 0, fmt.Errorf("warnings: %s", strings.Join(r.Warnings, "; "))
	}
	var vals []string
	switch r.Data.ResultType {
	case "vector":
		var v []struct {
			Value [2]any `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return 0, 0, err
		}
		for _, s := range v {
			str, _ := s.Value[1].(string)
			vals = append(vals, str)
		}
	case "scalar":
		var s [2]any
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return 0, 0, err
		}
		str, _ := s[1].(string)
		vals = append(vals, str)
	default:
		return 0, 0, fmt.Errorf("got result type %q, want vector or scalar", r.Data.ResultType)
	}
	for _, v := range vals {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f == f {
			values++
		}
	}
	return len(vals), values, nil
}

// checkRules asks Prometheus's rule engine, which evaluates alerts.yml every
// second here, whether every rule has been evaluated without error.
func (p *prometheus) checkRules(t *testing.T, want int) {
	t.Helper()
	type rule struct {
		Name           string    `json:"name"`
		Health         string    `json:"health"`
		LastError      string    `json:"lastError"`
		LastEvaluation time.Time `json:"lastEvaluation"`
	}
	var rules []rule
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body, err := request(&http.Client{Timeout: 5 * time.Second}, http.MethodGet, p.url+"/api/v1/rules", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Data struct {
				Groups []struct {
					Rules []rule `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("decoding /api/v1/rules %q: %v", body, err)
		}
		rules = rules[:0]
		evaluated := 0
		for _, g := range r.Data.Groups {
			for _, ru := range g.Rules {
				rules = append(rules, ru)
				if !ru.LastEvaluation.IsZero() && ru.LastEvaluation.Year() > 1 {
					evaluated++
				}
			}
		}
		if (evaluated == len(rules) && len(rules) > 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(rules) != want {
		t.Errorf("got %d rules loaded, want %d", len(rules), want)
	}
	for _, r := range rules {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: got health %q, error %q; want ok and no error", r.Name, r.Health, r.LastError)
		}
	}
}
