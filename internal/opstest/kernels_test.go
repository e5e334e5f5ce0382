package opstest

import (
	"strings"
	"testing"
	"time"
)

// TestKernelsSetting starts the real binary with TASKMIND_INFERENCE_KERNELS:
// a supported set is used and logged with the sets the CPU offers; an
// unknown one stops start-up, naming the variable.
func TestKernelsSetting(t *testing.T) {
	requireBinary(t)
	s := startServer(t, map[string]string{"TASKMIND_INFERENCE_KERNELS": "generic"})
	defer s.stop(5 * time.Second)
	logs := s.out.String()
	if !strings.Contains(logs, `"msg":"inference kernels","set":"generic","available":["`) || !strings.Contains(logs, `"generic"]`) {
		t.Errorf("no inference kernels line naming the forced set and the available ones in:\n%s", tail(logs, 2000))
	}

	env := environ(map[string]string{"TASKMIND_DATA_DIR": t.TempDir(), "PORT": "1", "TASKMIND_INFERENCE_KERNELS": "sse9"})
	r := runCLI(t, env, "serve")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, `TASKMIND_INFERENCE_KERNELS: unknown kernel set "sse9"`) {
		t.Errorf("serve with an unknown kernel set: exit %d, output %q; want a failure naming the variable", r.code, r.stdout+r.stderr)
	}
}
