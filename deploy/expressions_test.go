package deploy

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// exportedMetrics are the series the server exports (internal/metrics, plus
// client_golang's Go, process and database/sql collectors) and Prometheus's
// own up. A dashboard or alert that names anything else shows nothing.
var exportedMetrics = []string{
	"taskmind_http_requests_total",
	"taskmind_http_request_duration_seconds",
	"taskmind_graphql_operations_total",
	"taskmind_graphql_operation_duration_seconds",
	"taskmind_subscriptions_open",
	"taskmind_inference_requests_total",
	"taskmind_inference_duration_seconds",
	"taskmind_inference_queue_depth",
	"taskmind_ready",
	"taskmind_build_info",
	"go_sql_open_connections",
	"go_sql_in_use_connections",
	"go_sql_idle_connections",
	"go_sql_max_open_connections",
	"go_sql_wait_count_total",
	"go_sql_wait_duration_seconds_total",
	"go_goroutines",
	"go_gc_duration_seconds",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_alloc_bytes_total",
	"process_cpu_seconds_total",
	"process_resident_memory_bytes",
	"process_open_fds",
	"process_max_fds",
	"process_start_time_seconds",
	"up",
}

// histograms and summaries are exported as several series.
var seriesSuffixes = map[string][]string{
	"taskmind_http_request_duration_seconds":      {"_bucket", "_sum", "_count"},
	"taskmind_graphql_operation_duration_seconds": {"_bucket", "_sum", "_count"},
	"taskmind_inference_duration_seconds":         {"_bucket", "_sum", "_count"},
	"go_gc_duration_seconds":                      {"", "_sum", "_count"},
}

// seriesNames maps every series name to the metric family it belongs to.
func seriesNames() map[string]string {
	names := map[string]string{}
	for _, m := range exportedMetrics {
		suffixes, ok := seriesSuffixes[m]
		if !ok {
			suffixes = []string{""}
		}
		for _, s := range suffixes {
			names[m+s] = m
		}
	}
	return names
}

func loadExpressions(t *testing.T) []Expression {
	t.Helper()
	exprs, err := Expressions(5 * time.Minute)
	if err != nil {
		t.Fatalf("Expressions: %v", err)
	}
	return exprs
}

func parse(t *testing.T, e Expression) parser.Expr {
	t.Helper()
	node, err := parser.NewParser(parser.Options{}).ParseExpr(e.Query)
	if err != nil {
		t.Fatalf("%s: got parse error %v, want valid PromQL\n%s", e.Source, err, e.Query)
	}
	return node
}

// selectors returns the vector selectors of an expression.
func selectors(node parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func TestExpressionsCount(t *testing.T) {
	exprs := loadExpressions(t)
	counts := map[Kind]int{}
	for _, e := range exprs {
		counts[e.Kind]++
	}
	// Lower bounds: a refactoring that silently drops queries (a renamed
	// JSON field, a row collapsed into nested panels) must fail here.
	for _, tc := range []struct {
		kind Kind
		min  int
	}{
		{KindPanel, 40},
		{KindVariable, 2},
		{KindAlert, 12},
	} {
		if got := counts[tc.kind]; got < tc.min {
			t.Errorf("got %d expressions of kind %s, want at least %d", got, tc.kind, tc.min)
		}
	}
}

func TestExpressionsAreValidPromQL(t *testing.T) {
	for _, e := range loadExpressions(t) {
		t.Run(e.Source, func(t *testing.T) {
			node := parse(t, e)
			if e.Kind == KindVariable {
				if _, ok := node.(*parser.VectorSelector); !ok {
					t.Errorf("got %T, want a series selector", node)
				}
			}
			if strings.Contains(e.Query, "$") {
				t.Errorf("got %q, want no Grafana variable left", e.Query)
			}
		})
	}
}

func TestExpressionsNameExportedMetrics(t *testing.T) {
	names := seriesNames()
	for _, e := range loadExpressions(t) {
		for _, vs := range selectors(parse(t, e)) {
			name := metricName(vs)
			if _, ok := names[name]; !ok {
				t.Errorf("%s: got metric %q, want one the server exports\n%s", e.Source, name, e.Query)
			}
		}
	}
}

// Every metric the server exports is on the dashboard, so an operator sees
// all of them without writing a query.
func TestDashboardShowsEveryMetric(t *testing.T) {
	names := seriesNames()
	shown := map[string]bool{}
	for _, e := range loadExpressions(t) {
		if e.Kind != KindPanel {
			continue
		}
		for _, vs := range selectors(parse(t, e)) {
			shown[names[metricName(vs)]] = true
		}
	}
	for _, m := range exportedMetrics {
		if m == "up" {
			continue // Prometheus's, not Taskmind's
		}
		if !shown[m] {
			t.Errorf("got no panel querying %s, want at least one", m)
		}
	}
}

// The dashboard's job and instance variables filter every panel: a panel
// that ignores them mixes in other deployments.
func TestDashboardPanelsHonourVariables(t *testing.T) {
	for _, e := range loadExpressions(t) {
		if e.Kind != KindPanel {
			continue
		}
		for _, vs := range selectors(parse(t, e)) {
			var got []string
			for _, m := range vs.LabelMatchers {
				if (m.Name == "job" || m.Name == "instance") && m.Type == labels.MatchRegexp && m.Value == ".+" {
					got = append(got, m.Name)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, []string{"instance", "job"}) {
				t.Errorf("%s: selector %s filters by %v, want job=~\"$job\" and instance=~\"$instance\"", e.Source, vs, got)
			}
		}
	}
}

// The alert rules cover what issue 6 asks for: error rate, latency,
// readiness and database pool saturation.
func TestAlertsCoverSignals(t *testing.T) {
	byMetric := map[string][]string{}
	for _, e := range loadExpressions(t) {
		if e.Kind != KindAlert {
			continue
		}
		for _, vs := range selectors(parse(t, e)) {
			byMetric[metricName(vs)] = append(byMetric[metricName(vs)], e.Source)
		}
	}
	for _, tc := range []struct {
		signal, metric string
	}{
		{"error rate", "taskmind_http_requests_total"},
		{"latency", "taskmind_http_request_duration_seconds_bucket"},
		{"readiness", "taskmind_ready"},
		{"database pool saturation", "go_sql_in_use_connections"},
		{"database pool waits", "go_sql_wait_duration_seconds_total"},
		{"GraphQL errors", "taskmind_graphql_operations_total"},
		{"inference errors", "taskmind_inference_requests_total"},
	} {
		if len(byMetric[tc.metric]) == 0 {
			t.Errorf("%s: got no alert on %s, want one", tc.signal, tc.metric)
		}
	}
}

func TestExpandVariables(t *testing.T) {
	vars := map[string]string{"job": ".+", "__rate_interval": "1m"}
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{name: "plain", in: `rate(x{job=~"$job"}[$__rate_interval])`, want: `rate(x{job=~".+"}[1m])`},
		{name: "braces", in: `x{job=~"${job}"}`, want: `x{job=~".+"}`},
		{name: "format", in: `x{job=~"${job:regex}"}`, want: `x{job=~".+"}`},
		{name: "none", in: `sum(up)`, want: `sum(up)`},
		{name: "unknown", in: `x{pod=~"$pod"}`, wantErr: "unknown Grafana variable $pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandVariables(tc.in, vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExpressionsRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"zero interval", func() error { _, err := Expressions(0); return err }, "must be positive"},
		{"dashboard with an unknown variable", func() error {
			_, err := dashboardExpressions([]byte(`{"panels":[{"title":"p","targets":[{"refId":"A","expr":"up{pod=\"$pod\"}"}]}]}`), "1m")
			return err
		}, "unknown Grafana variable $pod"},
		{"dashboard with an empty query", func() error {
			_, err := dashboardExpressions([]byte(`{"panels":[{"title":"p","targets":[{"refId":"A","expr":" "}]}]}`), "1m")
			return err
		}, "empty expression"},
		{"variable without an All value", func() error {
			_, err := dashboardExpressions([]byte(`{"templating":{"list":[{"name":"job","type":"query","definition":"label_values(up, job)"}]}}`), "1m")
			return err
		}, "allValue"},
		{"rule without a name", func() error {
			_, err := ruleExpressions([]byte("groups:\n- name: g\n  rules:\n  - expr: up\n"))
			return err
		}, "neither alert nor record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
