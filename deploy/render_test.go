package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// blueprint is the subset of Render's Blueprint spec (render.yaml) that
// Taskmind uses. Decoding is strict, so a misspelt or unsupported field
// fails here rather than being ignored when the Blueprint is synced.
type blueprint struct {
	Services  []renderService  `json:"services"`
	Databases []renderDatabase `json:"databases"`
}

type renderService struct {
	Type                    string      `json:"type"`
	Name                    string      `json:"name"`
	Runtime                 string      `json:"runtime"`
	DockerfilePath          string      `json:"dockerfilePath"`
	DockerContext           string      `json:"dockerContext"`
	DockerCommand           string      `json:"dockerCommand"`
	Plan                    string      `json:"plan"`
	Region                  string      `json:"region"`
	HealthCheckPath         string      `json:"healthCheckPath"`
	MaxShutdownDelaySeconds int         `json:"maxShutdownDelaySeconds"`
	NumInstances            int         `json:"numInstances"`
	PreDeployCommand        string      `json:"preDeployCommand"`
	EnvVars                 []renderEnv `json:"envVars"`
}

type renderEnv struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	GenerateValue bool    `json:"generateValue"`
	Sync          *bool   `json:"sync"`
	FromDatabase  *struct {
		Name     string `json:"name"`
		Property string `json:"property"`
	} `json:"fromDatabase"`
}

type renderDatabase struct {
	Name                 string `json:"name"`
	DatabaseName         string `json:"databaseName"`
	User                 string `json:"user"`
	Plan                 string `json:"plan"`
	Region               string `json:"region"`
	PostgresMajorVersion string `json:"postgresMajorVersion"`
	IPAllowList          []any  `json:"ipAllowList"`
	ReadReplicas         []any  `json:"readReplicas"`
}

func TestRenderBlueprint(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var bp blueprint
	if err := yaml.UnmarshalStrict(data, &bp); err != nil {
		t.Fatalf("render.yaml: %v", err)
	}
	if len(bp.Services) != 1 || len(bp.Databases) != 1 {
		t.Fatalf("got %d services and %d databases, want 1 and 1", len(bp.Services), len(bp.Databases))
	}
	svc, db := bp.Services[0], bp.Databases[0]
	env := map[string]renderEnv{}
	for _, e := range svc.EnvVars {
		if _, dup := env[e.Key]; dup {
			t.Errorf("got %s twice, want each variable once", e.Key)
		}
		env[e.Key] = e
	}
	value := func(key string) string {
		if v := env[key].Value; v != nil {
			return *v
		}
		return ""
	}

	t.Run("web service", func(t *testing.T) {
		if svc.Type != "web" || svc.Runtime != "docker" {
			t.Errorf("got type %q runtime %q, want web and docker", svc.Type, svc.Runtime)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, svc.DockerContext, svc.DockerfilePath)); err != nil {
			t.Errorf("dockerfilePath %q: %v", svc.DockerfilePath, err)
		}
		if !slices.Contains([]string{"/readyz", "/healthz"}, svc.HealthCheckPath) {
			t.Errorf("got healthCheckPath %q, want /readyz or /healthz", svc.HealthCheckPath)
		}
		// Render sends SIGTERM, then SIGKILL after this delay: it must
		// outlast the server's own drain.
		if svc.MaxShutdownDelaySeconds <= 20 || svc.MaxShutdownDelaySeconds > 300 {
			t.Errorf("got maxShutdownDelaySeconds %d, want more than TASKMIND_SHUTDOWN_TIMEOUT (20 s) and at most 300", svc.MaxShutdownDelaySeconds)
		}
	})

	t.Run("port", func(t *testing.T) {
		// The image EXPOSEs its PORT; Render must route to the same one.
		final := readDockerfile(t).stages
		if got, want := value("PORT"), stageEnv(final[len(final)-1])["PORT"]; got != want {
			t.Errorf("got PORT %q, want %q as in the Dockerfile", got, want)
		}
		if got := value("TASKMIND_LISTEN_ADDR"); got != "0.0.0.0" {
			t.Errorf("got TASKMIND_LISTEN_ADDR %q, want 0.0.0.0", got)
		}
	})

	t.Run("database", func(t *testing.T) {
		from := env["DATABASE_URL"].FromDatabase
		if from == nil || from.Name != db.Name || from.Property != "connectionString" {
			t.Errorf("got DATABASE_URL from %+v, want database %q property connectionString", from, db.Name)
		}
		if db.PostgresMajorVersion != "15" {
			t.Errorf("got PostgreSQL %q, want 15 as in docker-compose.yml", db.PostgresMajorVersion)
		}
		if db.Region != svc.Region {
			t.Errorf("got database region %q and service region %q, want the same (private network)", db.Region, svc.Region)
		}
	})

	t.Run("secrets", func(t *testing.T) {
		if !env["TASKMIND_SECRET_KEY"].GenerateValue {
			t.Error("got TASKMIND_SECRET_KEY not generated, want generateValue: true")
		}
		for _, e := range svc.EnvVars {
			sources := 0
			for _, set := range []bool{e.Value != nil, e.GenerateValue, e.FromDatabase != nil, e.Sync != nil && !*e.Sync} {
				if set {
					sources++
				}
			}
			if sources != 1 {
				t.Errorf("%s: got %d value sources, want exactly 1", e.Key, sources)
			}
			if e.Value != nil && (strings.Contains(e.Key, "SECRET") || strings.Contains(e.Key, "PASSWORD") || e.Key == "DATABASE_URL") {
				t.Errorf("%s: got a value in the repository, want generateValue, fromDatabase or sync: false", e.Key)
			}
		}
	})
}
