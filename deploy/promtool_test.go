package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/testenv"
)

// TestPromtool runs Prometheus's own checks on the configuration and the
// rules, and the alert unit tests in prometheus/alerts_test.yml.
func TestPromtool(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "apt-get install prometheus")
	for _, tc := range []struct {
		name string
		args []string
	}{
		// check config also loads the rule files it names.
		{"check config", []string{"check", "config", "prometheus.yml"}},
		{"check rules", []string{"check", "rules", "alerts.yml"}},
		{"test rules", []string{"test", "rules", "alerts_test.yml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, promtool, tc.args...)
			cmd.Dir = "prometheus"
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: got %v, want success\n%s", strings.Join(tc.args, " "), err, out)
			}
		})
	}
}

// TestPromtoolRejectsBrokenRules makes sure the check above can fail: a rule
// file with a syntax error must be refused.
func TestPromtoolRejectsBrokenRules(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "apt-get install prometheus")
	bad := filepath.Join(t.TempDir(), "bad.yml")
	rules := "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(taskmind_http_requests_total[5m]) > \n"
	if err := os.WriteFile(bad, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", bad).CombinedOutput()
	if err == nil {
		t.Fatalf("promtool check rules on a broken file: got success, want failure\n%s", out)
	}
}
