package opstest

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/testenv"
)

// The user and group of distroless's "nonroot" image.
const nonroot = 65532

// TestEmptyRootFilesystem runs the static binary the way the container image
// does (gcr.io/distroless/static:nonroot): in a root filesystem holding only
// the binary and the CA certificates, as uid/gid 65532, with nothing
// writable but /tmp. It proves that the binary needs no shared library, no
// /etc/passwd, no shell and no writable root; that it serves /healthz and
// /readyz; and that `taskmind healthcheck`, the image's HEALTHCHECK, works
// from inside that filesystem.
//
// Read-only root: every directory and file is owned by root and has no write
// bit (0555/0444) except /tmp (1777), and the server runs as uid 65532. An
// unprivileged process then gets EACCES for any write outside /tmp, just as
// it would get EROFS from a read-only mount, so a server that starts and
// serves here writes nowhere else; the test also checks afterwards that
// nothing appeared outside /tmp. This was chosen over `unshare -m` with a
// read-only bind mount because it needs no mount namespace, which CI
// containers often forbid, while proving the same property.
func TestEmptyRootFilesystem(t *testing.T) {
	requireBinary(t)
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "chroot and switching to uid %d need root", nonroot)
	}
	const caBundle = "/etc/ssl/certs/ca-certificates.crt"
	root := t.TempDir()
	for _, d := range []string{"etc/ssl/certs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o555); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, binary, filepath.Join(root, "taskmind"), 0o555)
	if _, err := os.Stat(caBundle); err != nil {
		testenv.SkipOrFail(t, "%s missing: apt-get install ca-certificates", caBundle)
	}
	copyFile(t, caBundle, filepath.Join(root, caBundle), 0o444)
	// MkdirAll applies the umask; set the modes exactly.
	for _, d := range []string{"", "etc", "etc/ssl", "etc/ssl/certs"} {
		if err := os.Chmod(filepath.Join(root, d), 0o555); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, root)

	port := freePort(t)
	env := environ(map[string]string{
		"PORT":                 strconv.Itoa(port),
		"TASKMIND_LISTEN_ADDR": "127.0.0.1",
		"TASKMIND_DATA_DIR":    "/tmp/data",
		"TASKMIND_LOG_FORMAT":  "json",
	})
	jail := func(args ...string) *exec.Cmd {
		cmd := exec.Command("/taskmind", args...)
		cmd.Env = env
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot, Groups: []uint32{}},
		}
		return cmd
	}
	p := startProcess(t, jail("serve"))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitReady(base, p, 60*time.Second); err != nil {
		t.Fatalf("server in the empty root: %v\n%s", err, tail(p.out.String(), 4000))
	}

	t.Run("runs as non-root", func(t *testing.T) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && (f[0] == "Uid:" || f[0] == "Gid:") {
				if f[1] != strconv.Itoa(nonroot) || f[2] != strconv.Itoa(nonroot) {
					t.Errorf("%s got real %s, effective %s; want %d", f[0], f[1], f[2], nonroot)
				}
			}
		}
	})

	t.Run("serves", func(t *testing.T) {
		client := &http.Client{Timeout: 5 * time.Second}
		for _, path := range []string{"/healthz", "/readyz", "/"} {
			status, body, err := request(client, http.MethodGet, base+path, nil, "")
			if err != nil || status != http.StatusOK {
				t.Errorf("GET %s: got %d %q (%v), want 200", path, status, body, err)
			}
		}
	})

	t.Run("healthcheck command", func(t *testing.T) {
		out, err := jail("healthcheck").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("taskmind healthcheck in the empty root: got %v, %q; want success and \"ok\"", err, out)
		}
	})

	p.stop(15 * time.Second)
	if code := p.exitCode(t, time.Second); code != 0 {
		t.Errorf("got exit code %d after SIGTERM, want 0", code)
	}

	t.Run("wrote only under /tmp", func(t *testing.T) {
		after := listTree(t, root)
		for path := range after {
			if !before[path] && !strings.HasPrefix(path, "/tmp/") {
				t.Errorf("got new file %s, want writes under /tmp only", path)
			}
		}
		if !after["/tmp/data/taskmind.db"] {
			t.Errorf("got no /tmp/data/taskmind.db, want the SQLite database under TASKMIND_DATA_DIR")
		}
	})
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

// listTree returns every path under root, as seen from inside the chroot.
func listTree(t *testing.T, root string) map[string]bool {
	t.Helper()
	paths := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		paths["/"+filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}
