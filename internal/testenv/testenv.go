// Package testenv holds the rule every test that needs something outside Go
// follows: skip on a developer's machine that lacks it, fail under CI=true,
// where a missing install step must not pass as green.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// SkipOrFail skips the test, or fails it under CI=true.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (required under CI=true)", args...)
	}
	t.Skipf(format, args...)
}

// RequireTool returns the path of an external program, or skips (fails
// under CI=true) saying how to install it.
func RequireTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, "%s not found on PATH: %s", name, install)
	}
	return path
}
