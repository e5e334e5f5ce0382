package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireTool finds an external program. Without it the test is skipped on a
// developer's machine but fails under CI=true, where a missing install step
// must not pass as green.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found on PATH (CI=true): %s", name, install)
		}
		t.Skipf("%s not found on PATH: %s", name, install)
	}
	return path
}

// TestPromtool runs Prometheus's own checks on the configuration and the
// rules, and the alert unit tests in prometheus/alerts_test.yml.
func TestPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool", "apt-get install prometheus")
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
	promtool := requireTool(t, "promtool", "apt-get install prometheus")
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
