package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// repoRoot is where the Dockerfile, docker-compose.yml and render.yaml live;
// go test runs in this package's directory.
const repoRoot = ".."

// dockerfile is a parsed Dockerfile: BuildKit's own parser, so what passes
// here is what `docker build` reads.
type dockerfile struct {
	stages []instructions.Stage
	// lint holds the parser's warnings and the BuildKit linter's findings.
	lint []string
}

func parseDockerfile(t *testing.T, src string) dockerfile {
	t.Helper()
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var d dockerfile
	for _, w := range res.Warnings {
		d.lint = append(d.lint, fmt.Sprintf("line %d: %s", w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			d.lint = append(d.lint, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
		},
	})
	d.stages, _, err = instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	for _, n := range res.AST.Children {
		// ConsistentInstructionCasing, as docker build --check reports it.
		if kw := strings.Fields(n.Original)[0]; kw != strings.ToUpper(kw) {
			d.lint = append(d.lint, fmt.Sprintf("line %d: instruction %q is not upper case", n.StartLine, kw))
		}
	}
	d.lint = append(d.lint, ruleFindings(d.stages)...)
	return d
}

// predefinedArgs are the build arguments BuildKit sets for every build.
var predefinedArgs = []string{"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"}

var (
	variableRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	imageRef    = regexp.MustCompile(`^[a-z0-9.\-/:]+?(:[A-Za-z0-9_.\-]+)?(@sha256:[a-f0-9]{64})?$`)
)

// ruleFindings applies the rules that hadolint and docker build --check
// would report and that matter for this image.
func ruleFindings(stages []instructions.Stage) []string {
	var out []string
	report := func(stage string, format string, args ...any) {
		out = append(out, fmt.Sprintf("stage %q: %s", stage, fmt.Sprintf(format, args...)))
	}
	seen := map[string]bool{}
	for i, s := range stages {
		if s.Name == "" && i < len(stages)-1 {
			report(strconv.Itoa(i), "intermediate stages must be named, for COPY --from and caching")
		}
		if seen[s.BaseName] {
			// FROM <earlier stage>: nothing to pin.
		} else {
			base := s.BaseName
			_, tag, hasTag := strings.Cut(base[strings.LastIndex(base, "/")+1:], ":")
			switch {
			case !imageRef.MatchString(base):
				report(s.Name, "base image %q is not a valid reference", base)
			case strings.Contains(base, "@sha256:"):
			case !hasTag:
				report(s.Name, "base image %q has no tag: pin a version (hadolint DL3006)", base)
			case tag == "latest":
				report(s.Name, "base image %q uses latest: pin a version (hadolint DL3007)", base)
			}
		}
		seen[s.Name] = true

		declared := map[string]bool{}
		for _, a := range predefinedArgs {
			declared[a] = false // predefined, but usable only after ARG
		}
		defined := func(name string) bool { return declared[name] }
		checkVars := func(what, text string) {
			for _, m := range variableRef.FindAllStringSubmatch(text, -1) {
				if !defined(m[1]) {
					report(s.Name, "%s uses $%s, which no ARG or ENV of the stage defines (UndefinedVar)", what, m[1])
				}
			}
		}
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					declared[a.Key] = true
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					checkVars("ENV "+kv.Key, kv.Value)
					declared[kv.Key] = true
				}
			case *instructions.LabelCommand:
				for _, kv := range c.Labels {
					checkVars("LABEL "+kv.Key, kv.Value)
				}
			case *instructions.RunCommand:
				checkVars("RUN", strings.Join(c.CmdLine, " "))
			case *instructions.AddCommand:
				report(s.Name, "ADD %v: use COPY; ADD fetches URLs and unpacks archives implicitly (hadolint DL3020)", c.SourcePaths)
			case *instructions.CopyCommand:
				if c.From != "" && !seen[c.From] {
					report(s.Name, "COPY --from=%s names no earlier stage", c.From)
				}
				for _, src := range c.SourcePaths {
					if strings.Contains(src, "://") {
						report(s.Name, "COPY from URL %q", src)
					}
				}
			case *instructions.WorkdirCommand:
				if !strings.HasPrefix(c.Path, "/") {
					report(s.Name, "WORKDIR %q is relative (WorkdirRelativePath)", c.Path)
				}
			case *instructions.CmdCommand:
				if c.PrependShell {
					report(s.Name, "CMD in shell form: use the JSON form, so signals reach the process (JSONArgsRecommended)")
				}
			case *instructions.EntrypointCommand:
				if c.PrependShell {
					report(s.Name, "ENTRYPOINT in shell form: use the JSON form, so signals reach the process (JSONArgsRecommended)")
				}
			case *instructions.MaintainerCommand:
				report(s.Name, "MAINTAINER is deprecated: use a LABEL")
			}
		}
	}
	return out
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return parseDockerfile(t, string(src))
}

func TestDockerfileLint(t *testing.T) {
	d := readDockerfile(t)
	for _, f := range d.lint {
		t.Errorf("Dockerfile: %s", f)
	}
}

// The lint must be able to fail: each of these Dockerfiles breaks one rule.
func TestDockerfileLintFindsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"untagged base", "FROM golang\n", "has no tag"},
		{"latest base", "FROM golang:latest\n", "uses latest"},
		{"ADD of a URL", "FROM golang:1.26.8\nADD https://example.com/x /x\n", "use COPY"},
		{"relative WORKDIR", "FROM golang:1.26.8\nWORKDIR src\n", "is relative"},
		{"shell-form ENTRYPOINT", "FROM golang:1.26.8\nENTRYPOINT /taskmind serve\n", "ENTRYPOINT in shell form"},
		{"undefined variable", "FROM golang:1.26.8\nRUN go build -ldflags \"-X main.version=${VERSION}\"\n", "$VERSION"},
		{"unknown stage", "FROM golang:1.26.8 AS build\nFROM scratch\nCOPY --from=bulid /x /x\n", "names no earlier stage"},
		{"lower-case instruction", "FROM golang:1.26.8\nrun true\n", "not upper case"},
		{"stage name casing", "FROM golang:1.26.8 AS Build\nFROM scratch\n", "StageNameCasing"},
		{"empty continuation line", "FROM golang:1.26.8\nRUN true \\\n\n && true\n", "Empty continuation line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parseDockerfile(t, tc.src)
			if !slices.ContainsFunc(d.lint, func(f string) bool { return strings.Contains(f, tc.want) }) {
				t.Errorf("got findings %q, want one containing %q", d.lint, tc.want)
			}
		})
	}
}

func stageCommands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if c, ok := c.(T); ok {
			out = append(out, c)
		}
	}
	return out
}

func stageEnv(s instructions.Stage) map[string]string {
	m := map[string]string{}
	for _, c := range stageCommands[*instructions.EnvCommand](s) {
		for _, kv := range c.Env {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

func TestDockerfileStages(t *testing.T) {
	d := readDockerfile(t)
	if len(d.stages) < 3 {
		t.Fatalf("got %d stages, want at least 3 (SPA, Go, runtime)", len(d.stages))
	}
	var web, build *instructions.Stage
	for i, s := range d.stages {
		for _, r := range stageCommands[*instructions.RunCommand](s) {
			line := strings.Join(r.CmdLine, " ")
			if strings.Contains(line, "npm run build") {
				web = &d.stages[i]
			}
			if strings.Contains(line, "go build") {
				build = &d.stages[i]
			}
		}
	}
	if web == nil || build == nil {
		t.Fatalf("got SPA stage %v and Go stage %v, want both", web != nil, build != nil)
	}

	t.Run("SPA", func(t *testing.T) {
		var runs []string
		for _, r := range stageCommands[*instructions.RunCommand](*web) {
			runs = append(runs, strings.Join(r.CmdLine, " "))
		}
		if !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, "npm ci") }) {
			t.Errorf("got RUN %q, want npm ci (the lockfile, not a fresh resolution)", runs)
		}
	})

	t.Run("Go build", func(t *testing.T) {
		if got := stageEnv(*build)["CGO_ENABLED"]; got != "0" {
			t.Errorf("got CGO_ENABLED=%q, want 0: the runtime image has no libc", got)
		}
		var goBuild string
		for _, r := range stageCommands[*instructions.RunCommand](*build) {
			if line := strings.Join(r.CmdLine, " "); strings.Contains(line, "go build") {
				goBuild = line
			}
		}
		for _, want := range []string{"-trimpath", "-s -w", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}"} {
			if !strings.Contains(goBuild, want) {
				t.Errorf("got %q, want it to contain %q", goBuild, want)
			}
		}
		fromWeb := false
		for _, c := range stageCommands[*instructions.CopyCommand](*build) {
			if c.From == web.Name && c.DestPath == "./frontend/dist/app" {
				fromWeb = true
			}
		}
		if !fromWeb {
			t.Errorf("got no COPY --from=%s into ./frontend/dist/app, want the SPA embedded by go:embed", web.Name)
		}
	})

	t.Run("runtime", func(t *testing.T) {
		final := d.stages[len(d.stages)-1]
		if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") {
			t.Errorf("got runtime base %q, want gcr.io/distroless/static (CA certificates, no shell)", final.BaseName)
		}
		e := stageEnv(final)
		for k, want := range map[string]string{
			"TASKMIND_LISTEN_ADDR": "0.0.0.0",
			"TASKMIND_DATA_DIR":    "/data",
			"PORT":                 "8080",
		} {
			if e[k] != want {
				t.Errorf("got ENV %s=%q, want %q", k, e[k], want)
			}
		}

		users := stageCommands[*instructions.UserCommand](final)
		if len(users) == 0 {
			t.Fatal("got no USER, want a non-root user")
		}
		user := users[len(users)-1].User
		uid, _, _ := strings.Cut(user, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			t.Errorf("got USER %q, want a numeric non-root UID (Kubernetes runAsNonRoot can only verify numbers)", user)
		}

		var dataOwner string
		for _, c := range stageCommands[*instructions.CopyCommand](final) {
			if c.DestPath == "/data" {
				dataOwner = c.Chown
			}
		}
		if dataOwner != user {
			t.Errorf("got /data owned by %q, want %q (the USER): a fresh volume copies the owner from the image", dataOwner, user)
		}

		var ports, volumes []string
		for _, c := range stageCommands[*instructions.ExposeCommand](final) {
			ports = append(ports, c.Ports...)
		}
		for _, c := range stageCommands[*instructions.VolumeCommand](final) {
			volumes = append(volumes, c.Volumes...)
		}
		if !slices.Contains(ports, e["PORT"]) {
			t.Errorf("got EXPOSE %v, want PORT %s", ports, e["PORT"])
		}
		if !slices.Contains(volumes, e["TASKMIND_DATA_DIR"]) {
			t.Errorf("got VOLUME %v, want TASKMIND_DATA_DIR %s", volumes, e["TASKMIND_DATA_DIR"])
		}

		hc := stageCommands[*instructions.HealthCheckCommand](final)
		if len(hc) != 1 {
			t.Fatalf("got %d HEALTHCHECK, want 1", len(hc))
		}
		if got, want := hc[0].Health.Test, []string{"CMD", "/taskmind", "healthcheck"}; !slices.Equal(got, want) {
			t.Errorf("got HEALTHCHECK %q, want %q (no shell in the image)", got, want)
		}
		if hc[0].Health.StartPeriod == 0 {
			t.Error("got no HEALTHCHECK --start-period, want one: migrations run at start-up")
		}

		eps := stageCommands[*instructions.EntrypointCommand](final)
		if len(eps) == 0 || !slices.Equal(eps[len(eps)-1].CmdLine, []string{"/taskmind"}) {
			t.Errorf("got ENTRYPOINT %v, want [\"/taskmind\"]", eps)
		}
	})
}

// dockerignoreMatcher reads ../.dockerignore as BuildKit does.
func dockerignoreMatcher(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// TestDockerBuildContext checks that every source file and embedded file
// the binary is built from reaches the build context. The SPA build output
// is exempt: the image builds it afresh.
func TestDockerBuildContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps",
		"-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{"\n"}}{{end}}{{end}}`, ".")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	pm := dockerignoreMatcher(t)
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		dir, err := filepath.Rel(root, parts[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range parts[1:] {
			files = append(files, filepath.ToSlash(filepath.Join(dir, f)))
		}
	}
	if len(files) < 3 {
		t.Fatalf("got files %v from go list, want the main package's", files)
	}
	for _, f := range files {
		if strings.HasPrefix(f, "frontend/dist/app/") {
			continue
		}
		ignored, err := pm.MatchesOrParentMatches(f)
		if err != nil {
			t.Fatal(err)
		}
		if ignored {
			t.Errorf("got %s left out of the build context by .dockerignore, want it in: the binary is built from it", f)
		}
	}
}

// TestDockerignore checks that the build context leaves out what must not
// reach the image (or slow the build) and keeps what the Dockerfile needs.
func TestDockerignore(t *testing.T) {
	pm := dockerignoreMatcher(t)
	for _, tc := range []struct {
		path    string
		ignored bool
	}{
		{".git/config", true},
		{".env", true},
		{"frontend/node_modules/react/index.js", true},
		{"node_modules/x/y.js", true},
		{"frontend/dist/app/index.html", true},
		{"data/taskmind.db", true},
		{"go.mod", false},
		{"go.sum", false},
		{"main.go", false},
		{"embed.go", false},
		{"frontend/package.json", false},
		{"frontend/package-lock.json", false},
		{"frontend/src/main.tsx", false},
		{"frontend/dist/README.md", false},
		{"internal/config/config.go", false},
		{"ent/schema/task.go", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			got, err := pm.MatchesOrParentMatches(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.ignored {
				t.Errorf("got ignored=%v, want %v", got, tc.ignored)
			}
		})
	}
}
