package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

// loadCompose loads docker-compose.yml with the Compose specification's
// reference loader: schema validation, interpolation and normalisation, as
// `docker compose config` does.
func loadCompose(t *testing.T, environment map[string]string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: environment,
	}, func(o *loader.Options) { o.SetProjectName("taskmind", true) })
}

func TestComposeRequiresSecretKey(t *testing.T) {
	_, err := loadCompose(t, map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "TASKMIND_SECRET_KEY") {
		t.Errorf("got error %v without TASKMIND_SECRET_KEY, want one naming it", err)
	}
}

func TestCompose(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"TASKMIND_SECRET_KEY": "test-only"})
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	root, _ := filepath.Abs(repoRoot)
	service := func(name string) types.ServiceConfig {
		t.Helper()
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("got no service %q, want taskmind, postgres, prometheus and grafana", name)
		}
		return s
	}
	app, pg, prom, graf := service("taskmind"), service("postgres"), service("prometheus"), service("grafana")
	appEnv := func(key string) string {
		if v := app.Environment[key]; v != nil {
			return *v
		}
		return ""
	}

	t.Run("images pinned", func(t *testing.T) {
		for _, s := range []types.ServiceConfig{pg, prom, graf} {
			_, tag, _ := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
			if tag == "" || tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
				t.Errorf("%s: got image %q, want a pinned version", s.Name, s.Image)
			}
		}
		if app.Build == nil || app.Build.Context != root {
			t.Errorf("taskmind: got build %+v, want the repository's Dockerfile", app.Build)
		}
	})

	t.Run("ports on loopback", func(t *testing.T) {
		for _, s := range p.Services {
			for _, port := range s.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("%s: got port %s published on %q, want 127.0.0.1 only", s.Name, port.Published, port.HostIP)
				}
			}
		}
	})

	t.Run("taskmind", func(t *testing.T) {
		dep, ok := app.DependsOn["postgres"]
		if !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("got depends_on %+v, want postgres service_healthy", app.DependsOn)
		}
		if pg.HealthCheck == nil || len(pg.HealthCheck.Test) == 0 {
			t.Error("postgres: got no healthcheck, want pg_isready")
		}
		u, err := url.Parse(appEnv("DATABASE_URL"))
		if err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" {
			t.Errorf("got DATABASE_URL %q, want postgres://...@postgres:5432/...", appEnv("DATABASE_URL"))
		}
		if !app.ReadOnly || !slices.Contains(app.Tmpfs, "/tmp") {
			t.Errorf("got read_only %v tmpfs %v, want a read-only root with /tmp on tmpfs, as on Kubernetes", app.ReadOnly, app.Tmpfs)
		}
		if !slices.Contains(app.CapDrop, "ALL") {
			t.Errorf("got cap_drop %v, want ALL", app.CapDrop)
		}
		shutdown, err := time.ParseDuration(appEnv("TASKMIND_SHUTDOWN_TIMEOUT"))
		if err != nil {
			t.Fatalf("TASKMIND_SHUTDOWN_TIMEOUT: %v", err)
		}
		if app.StopGracePeriod == nil || time.Duration(*app.StopGracePeriod) <= shutdown {
			t.Errorf("got stop_grace_period %v, want more than TASKMIND_SHUTDOWN_TIMEOUT %v", app.StopGracePeriod, shutdown)
		}
	})

	// Prometheus scrapes the port Taskmind serves /metrics on.
	t.Run("prometheus", func(t *testing.T) {
		cfg := mountedFile(t, prom, "/etc/prometheus/prometheus.yml")
		var pc struct {
			RuleFiles     []string `json:"rule_files"`
			ScrapeConfigs []struct {
				JobName       string `json:"job_name"`
				StaticConfigs []struct {
					Targets []string `json:"targets"`
				} `json:"static_configs"`
			} `json:"scrape_configs"`
		}
		if err := yaml.Unmarshal(cfg, &pc); err != nil {
			t.Fatal(err)
		}
		_, metricsPort, err := net.SplitHostPort(appEnv("TASKMIND_METRICS_ADDR"))
		if err != nil {
			t.Fatalf("TASKMIND_METRICS_ADDR: %v", err)
		}
		want := net.JoinHostPort("taskmind", metricsPort)
		var got []string
		for _, sc := range pc.ScrapeConfigs {
			if sc.JobName != "taskmind" {
				continue
			}
			for _, st := range sc.StaticConfigs {
				got = append(got, st.Targets...)
			}
		}
		if !slices.Contains(got, want) {
			t.Errorf("got taskmind targets %v, want %s (job taskmind, as the alert rules select)", got, want)
		}
		for _, rf := range pc.RuleFiles {
			mountedFile(t, prom, "/etc/prometheus/"+rf)
		}
	})

	t.Run("grafana", func(t *testing.T) {
		var ds struct {
			Datasources []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"datasources"`
		}
		if err := yaml.Unmarshal(mountedFile(t, graf, "/etc/grafana/provisioning/datasources/prometheus.yml"), &ds); err != nil {
			t.Fatal(err)
		}
		if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
			t.Fatalf("got data sources %+v, want one Prometheus", ds.Datasources)
		}
		u, err := url.Parse(ds.Datasources[0].URL)
		if err != nil || u.Hostname() != prom.Name || u.Port() != "9090" {
			t.Errorf("got data source URL %q, want http://%s:9090", ds.Datasources[0].URL, prom.Name)
		}

		var prov struct {
			Providers []struct {
				Options struct {
					Path string `json:"path"`
				} `json:"options"`
			} `json:"providers"`
		}
		if err := yaml.Unmarshal(mountedFile(t, graf, "/etc/grafana/provisioning/dashboards/taskmind.yml"), &prov); err != nil {
			t.Fatal(err)
		}
		if len(prov.Providers) != 1 {
			t.Fatalf("got %d dashboard providers, want 1", len(prov.Providers))
		}
		mountedFile(t, graf, prov.Providers[0].Options.Path+"/taskmind.json")
	})
}

// mountedFile reads the host file that a service sees at target, through
// its bind mounts: it fails if no mount provides the file.
func mountedFile(t *testing.T, s types.ServiceConfig, target string) []byte {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, err := filepath.Rel(v.Target, target)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(v.Source, rel))
		if err != nil {
			t.Fatalf("%s: %s (mounted from %s): %v", s.Name, target, v.Source, err)
		}
		return data
	}
	t.Fatalf("%s: got no bind mount providing %s", s.Name, target)
	return nil
}
