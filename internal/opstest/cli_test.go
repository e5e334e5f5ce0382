package opstest

import (
	"strings"
	"testing"
)

// TestCLI checks the command-line surface of issue 6: --help on the binary
// and on every command exits 0 and prints usage, an unknown command fails,
// and version prints what -ldflags stamped in.
func TestCLI(t *testing.T) {
	requireBinary(t)
	dataDir := t.TempDir()
	// No DATABASE_URL: commands that open a database use a fresh SQLite file.
	env := environ(map[string]string{"TASKMIND_DATA_DIR": dataDir, "PORT": "1"})
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int // -1: any non-zero status
		// wantStdout and wantStderr must appear in the output.
		wantStdout, wantStderr string
	}{
		{"binary --help", []string{"--help"}, 0, "Usage:", ""},
		{"binary -h", []string{"-h"}, 0, "Usage:", ""},
		{"help command", []string{"help"}, 0, "taskmind healthcheck", ""},
		{"serve --help", []string{"serve", "--help"}, 0, "Usage: taskmind serve", ""},
		{"migrate --help", []string{"migrate", "--help"}, 0, "Usage: taskmind migrate", ""},
		{"healthcheck --help", []string{"healthcheck", "--help"}, 0, "Usage: taskmind healthcheck", ""},
		{"version --help", []string{"version", "--help"}, 0, "Usage: taskmind version", ""},
		{"login-link --help", []string{"login-link", "--help"}, 0, "Usage: taskmind login-link", ""},
		{"token --help", []string{"token", "--help"}, 0, "Usage: taskmind token create", ""},
		{"token create --help", []string{"token", "create", "--help"}, 0, "Usage: taskmind token create", ""},
		{"version", []string{"version"}, 0, "taskmind " + buildVersion + " (commit " + buildCommit + ")", ""},
		{"unknown command", []string{"frobnicate"}, -1, "", `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--no-such-flag"}, -1, "", ""},
		{"token without subcommand", []string{"token"}, -1, "", "usage: taskmind token create"},
		{"login-link without email", []string{"login-link"}, -1, "", "--email is required"},
		{"migrate", []string{"migrate"}, 0, "migrations applied", ""},
		// PORT=1: nothing listens there, so the check must fail.
		{"healthcheck with no server", []string{"healthcheck", "--timeout", "2s"}, -1, "", "healthcheck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, env, tc.args...)
			switch {
			case tc.wantCode == -1 && r.code == 0:
				t.Errorf("taskmind %s: got exit 0, want non-zero\nstdout: %s", strings.Join(tc.args, " "), r.stdout)
			case tc.wantCode >= 0 && r.code != tc.wantCode:
				t.Errorf("taskmind %s: got exit %d, want %d\nstderr: %s", strings.Join(tc.args, " "), r.code, tc.wantCode, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.wantStdout) {
				t.Errorf("taskmind %s: got stdout %q, want it to contain %q", strings.Join(tc.args, " "), r.stdout, tc.wantStdout)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("taskmind %s: got stderr %q, want it to contain %q", strings.Join(tc.args, " "), r.stderr, tc.wantStderr)
			}
		})
	}
}
