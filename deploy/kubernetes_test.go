package deploy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// manifests is one rendered kustomization, each object decoded into its
// typed Kubernetes API struct.
type manifests struct {
	namespaces      []*corev1.Namespace
	serviceAccounts []*corev1.ServiceAccount
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	services        []*corev1.Service
	deployments     []*appsv1.Deployment
	ingresses       []*networkingv1.Ingress
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
}

// decodeInto decodes strictly: an unknown or misspelt field, a duplicate
// field or a field of the wrong case fails, as kubectl apply
// --validate=strict would refuse it.
func decodeInto[T any](data []byte, list *[]*T) error {
	obj := new(T)
	strictErrs, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("strict decoding: %v", strictErrs)
	}
	*list = append(*list, obj)
	return nil
}

// render builds a kustomization as `kubectl apply -k` would.
func render(t *testing.T, dir string) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var m manifests
	for _, r := range resMap.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		gvk := r.GetApiVersion() + " " + r.GetKind()
		switch gvk {
		case "v1 Namespace":
			err = decodeInto(data, &m.namespaces)
		case "v1 ServiceAccount":
			err = decodeInto(data, &m.serviceAccounts)
		case "v1 ConfigMap":
			err = decodeInto(data, &m.configMaps)
		case "v1 Secret":
			err = decodeInto(data, &m.secrets)
		case "v1 Service":
			err = decodeInto(data, &m.services)
		case "apps/v1 Deployment":
			err = decodeInto(data, &m.deployments)
		case "networking.k8s.io/v1 Ingress":
			err = decodeInto(data, &m.ingresses)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			err = decodeInto(data, &m.hpas)
		case "policy/v1 PodDisruptionBudget":
			err = decodeInto(data, &m.pdbs)
		case "networking.k8s.io/v1 NetworkPolicy":
			err = decodeInto(data, &m.networkPolicies)
		default:
			t.Fatalf("%s: got %s %s, want one of the kinds this test decodes", dir, gvk, r.GetName())
		}
		if err != nil {
			t.Fatalf("%s: %s %s: %v", dir, gvk, r.GetName(), err)
		}
	}
	return m
}

func only[T any](t *testing.T, kind string, list []*T) *T {
	t.Helper()
	if len(list) != 1 {
		t.Fatalf("got %d %s, want 1", len(list), kind)
	}
	return list[0]
}

func TestKustomizeDecodeRejectsUnknownFields(t *testing.T) {
	var got []*appsv1.Deployment
	for _, tc := range []struct{ name, doc string }{
		{"unknown field", `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replica":2}}`},
		{"wrong case", `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"Replicas":2}}`},
		{"duplicate field", `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":2,"replicas":3}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := decodeInto([]byte(tc.doc), &got); err == nil {
				t.Errorf("got no error for %s, want a strict decoding error", tc.doc)
			}
		})
	}
}

func TestKustomizeOverlays(t *testing.T) {
	for _, tc := range []struct {
		dir          string
		namespace    string
		minReplicas  int32
		minAvailable int
		// exampleSecret: the overlay ships the example Secret. Production
		// must not: its Secret comes from the operator.
		exampleSecret bool
		tls           bool
	}{
		{dir: "overlays/dev", namespace: "taskmind-dev", minReplicas: 2, minAvailable: 1, exampleSecret: true},
		{dir: "overlays/production", namespace: "taskmind", minReplicas: 3, minAvailable: 2, tls: true},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			m := render(t, filepath.Join("kubernetes", tc.dir))
			checkOverlay(t, m, tc.namespace, tc.minReplicas, tc.minAvailable, tc.exampleSecret, tc.tls)
		})
	}
}

func checkOverlay(t *testing.T, m manifests, namespace string, minReplicas int32, minAvailable int, exampleSecret, tls bool) {
	dep := only(t, "Deployment", m.deployments)
	svc := only(t, "Service", m.services)
	ing := only(t, "Ingress", m.ingresses)
	hpa := only(t, "HorizontalPodAutoscaler", m.hpas)
	pdb := only(t, "PodDisruptionBudget", m.pdbs)
	np := only(t, "NetworkPolicy", m.networkPolicies)
	cm := only(t, "ConfigMap", m.configMaps)
	ns := only(t, "Namespace", m.namespaces)
	sa := only(t, "ServiceAccount", m.serviceAccounts)
	pod := dep.Spec.Template
	podLabels := labels.Set(pod.Labels)

	t.Run("namespace", func(t *testing.T) {
		if ns.Name != namespace {
			t.Errorf("got Namespace %q, want %q", ns.Name, namespace)
		}
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Errorf("got pod security level %q, want restricted", got)
		}
		for _, obj := range []struct {
			kind, name, ns string
		}{
			{"Deployment", dep.Name, dep.Namespace}, {"Service", svc.Name, svc.Namespace},
			{"Ingress", ing.Name, ing.Namespace}, {"HorizontalPodAutoscaler", hpa.Name, hpa.Namespace},
			{"PodDisruptionBudget", pdb.Name, pdb.Namespace}, {"NetworkPolicy", np.Name, np.Namespace},
			{"ConfigMap", cm.Name, cm.Namespace}, {"ServiceAccount", sa.Name, sa.Namespace},
		} {
			if obj.ns != namespace {
				t.Errorf("%s %s: got namespace %q, want %q", obj.kind, obj.name, obj.ns, namespace)
			}
		}
	})

	t.Run("replicas", func(t *testing.T) {
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas < minReplicas {
			t.Errorf("got replicas %v, want at least %d", dep.Spec.Replicas, minReplicas)
		}
		ru := dep.Spec.Strategy.RollingUpdate
		if ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
			t.Errorf("got rolling update %+v, want maxUnavailable 0", ru)
		}
		sel, err := metaSelector(dep.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(podLabels) {
			t.Errorf("got selector %v for pod labels %v, want a match", dep.Spec.Selector.MatchLabels, pod.Labels)
		}
	})

	t.Run("pod security", func(t *testing.T) {
		ps := pod.Spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
			t.Errorf("got pod securityContext %+v, want runAsNonRoot", ps)
		} else {
			if ps.RunAsUser == nil || *ps.RunAsUser == 0 {
				t.Errorf("got runAsUser %v, want a non-zero UID", ps.RunAsUser)
			}
			if ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("got seccompProfile %+v, want RuntimeDefault", ps.SeccompProfile)
			}
		}
		if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
			t.Error("got a mounted service account token, want automountServiceAccountToken false")
		}
		if pod.Spec.ServiceAccountName != sa.Name {
			t.Errorf("got serviceAccountName %q, want %q", pod.Spec.ServiceAccountName, sa.Name)
		}
		if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
			t.Error("got service links enabled, want enableServiceLinks false: they inject TASKMIND_PORT and friends")
		}
	})

	c := containerNamed(t, pod.Spec, "taskmind")
	env := containerEnv(t, c, m)

	t.Run("container security", func(t *testing.T) {
		sc := c.SecurityContext
		if sc == nil {
			t.Fatal("got no container securityContext")
		}
		checks := []struct {
			name string
			ok   bool
		}{
			{"allowPrivilegeEscalation false", sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation},
			{"readOnlyRootFilesystem true", sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem},
			{"privileged unset or false", sc.Privileged == nil || !*sc.Privileged},
			{"capabilities drop ALL", sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL")},
			{"no added capabilities", sc.Capabilities == nil || len(sc.Capabilities.Add) == 0},
		}
		for _, ch := range checks {
			if !ch.ok {
				t.Errorf("got container securityContext %+v, want %s", sc, ch.name)
			}
		}
		// The root filesystem is read-only: /tmp must be a writable volume.
		mounts := map[string]string{}
		for _, vm := range c.VolumeMounts {
			mounts[vm.MountPath] = vm.Name
		}
		for _, path := range []string{"/tmp", env["TASKMIND_DATA_DIR"]} {
			vol := volumeNamed(pod.Spec, mounts[path])
			if vol == nil || vol.EmptyDir == nil {
				t.Errorf("got no emptyDir mounted at %s, want one", path)
			}
		}
	})

	t.Run("image", func(t *testing.T) {
		ref := c.Image
		name, tag, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
		if !strings.Contains(ref, "@sha256:") && (tag == "" || tag == "latest") {
			t.Errorf("got image %q, want a pinned tag or digest", ref)
		}
		if name != "taskmind" {
			t.Errorf("got image %q, want ghcr.io/taskmind/taskmind", ref)
		}
	})

	t.Run("resources", func(t *testing.T) {
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := c.Resources.Requests[res]; !ok || q.IsZero() {
				t.Errorf("got no %s request, want one", res)
			}
		}
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
			t.Errorf("got memory limit %v, want one at least the request", c.Resources.Limits)
		}
	})

	t.Run("configuration", func(t *testing.T) {
		if env["TASKMIND_LISTEN_ADDR"] != "0.0.0.0" {
			t.Errorf("got TASKMIND_LISTEN_ADDR %q, want 0.0.0.0 (the binary's default 127.0.0.1 is unreachable)", env["TASKMIND_LISTEN_ADDR"])
		}
		if got, want := env["PORT"], strconv.Itoa(int(containerPort(t, c, "http"))); got != want {
			t.Errorf("got PORT %q, want the http containerPort %s", got, want)
		}
		_, port, err := splitHostPort(env["TASKMIND_METRICS_ADDR"])
		if want := strconv.Itoa(int(containerPort(t, c, "metrics"))); err != nil || port != want {
			t.Errorf("got TASKMIND_METRICS_ADDR %q, want port %s (the metrics containerPort)", env["TASKMIND_METRICS_ADDR"], want)
		}
		for _, key := range []string{"DATABASE_URL", "TASKMIND_SECRET_KEY"} {
			ref := secretRef(c, key)
			if ref == nil {
				t.Errorf("got %s not from a Secret, want secretKeyRef", key)
				continue
			}
			if ref.Optional != nil && *ref.Optional {
				t.Errorf("got %s optional, want it required: without it the pod must not start", key)
			}
		}
		for k, v := range env {
			if strings.Contains(k, "SECRET") && !strings.HasPrefix(v, "secret:") {
				t.Errorf("got %s as a plain value, want it from a Secret", k)
			}
		}
	})

	t.Run("secret", func(t *testing.T) {
		if !exampleSecret {
			if len(m.secrets) != 0 {
				t.Errorf("got %d Secrets, want none: production secrets are never in the repository", len(m.secrets))
			}
			return
		}
		s := only(t, "Secret", m.secrets)
		for _, key := range []string{"DATABASE_URL", "TASKMIND_SECRET_KEY"} {
			ref := secretRef(c, key)
			if ref == nil || ref.Name != s.Name {
				t.Errorf("got %s from %v, want Secret %s", key, ref, s.Name)
			}
			if v := string(s.Data[key]); !strings.Contains(v, "example-only") {
				t.Errorf("got example %s %q, want it marked example-only", key, v)
			}
		}
	})

	t.Run("probes", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			probe *corev1.Probe
			path  string
		}{
			{"startupProbe", c.StartupProbe, "/healthz"},
			{"livenessProbe", c.LivenessProbe, "/healthz"},
			{"readinessProbe", c.ReadinessProbe, "/readyz"},
		} {
			if tc.probe == nil || tc.probe.HTTPGet == nil {
				t.Errorf("got %s %+v, want an HTTP GET of %s", tc.name, tc.probe, tc.path)
				continue
			}
			if tc.probe.HTTPGet.Path != tc.path {
				t.Errorf("got %s path %q, want %q", tc.name, tc.probe.HTTPGet.Path, tc.path)
			}
			if tc.probe.HTTPGet.Port != intstr.FromString("http") {
				t.Errorf("got %s port %v, want the named port http", tc.name, tc.probe.HTTPGet.Port)
			}
		}
		// Start-up covers migrations under a lock held by other replicas.
		if p := c.StartupProbe; p != nil {
			if budget := p.PeriodSeconds * p.FailureThreshold; budget < 120 {
				t.Errorf("got a start-up budget of %d s, want at least 120 s", budget)
			}
		}
	})

	t.Run("graceful shutdown", func(t *testing.T) {
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
			t.Fatal("got no preStop sleep, want one: endpoints must drop the pod before SIGTERM")
		}
		preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		shutdown := 20 * time.Second // the server's default
		if v, ok := env["TASKMIND_SHUTDOWN_TIMEOUT"]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("TASKMIND_SHUTDOWN_TIMEOUT %q: %v", v, err)
			}
			shutdown = d
		}
		grace := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
		// The margin covers closing websockets and the database after the
		// HTTP drain.
		if want := preStop + shutdown + 5*time.Second; grace < want {
			t.Errorf("got terminationGracePeriodSeconds %v, want at least %v (preStop %v + shutdown %v + 5s)", grace, want, preStop, shutdown)
		}
		if r := c.ReadinessProbe; r != nil {
			if drop := time.Duration(r.PeriodSeconds*r.FailureThreshold) * time.Second; drop > preStop+shutdown {
				t.Errorf("got readiness dropping after %v, want it within preStop + shutdown (%v)", drop, preStop+shutdown)
			}
		}
	})

	t.Run("service", func(t *testing.T) {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("got Service selector %v for pod labels %v, want a match", svc.Spec.Selector, pod.Labels)
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.Type != intstr.String || containerPort(t, c, p.TargetPort.StrVal) == 0 {
				t.Errorf("got Service port %s targeting %v, want a named container port", p.Name, p.TargetPort)
			}
		}
	})

	t.Run("ingress", func(t *testing.T) {
		if len(ing.Spec.Rules) == 0 {
			t.Fatal("got no Ingress rules")
		}
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != svc.Name || b.Port.Name != "http" {
					t.Errorf("got Ingress backend %+v, want Service %s port http (never metrics)", p.Backend, svc.Name)
				}
			}
		}
		if tls && len(ing.Spec.TLS) == 0 {
			t.Error("got no TLS on the Ingress, want it in production")
		}
	})

	t.Run("autoscaling", func(t *testing.T) {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != dep.Name || ref.APIVersion != "apps/v1" {
			t.Errorf("got scaleTargetRef %+v, want apps/v1 Deployment %s", ref, dep.Name)
		}
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < minReplicas {
			t.Errorf("got minReplicas %v, want at least %d", hpa.Spec.MinReplicas, minReplicas)
		} else if hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
			t.Errorf("got maxReplicas %d below minReplicas %d", hpa.Spec.MaxReplicas, *hpa.Spec.MinReplicas)
		}
		if len(hpa.Spec.Metrics) == 0 {
			t.Error("got no HPA metrics, want CPU utilisation at least")
		}
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			t.Error("got no CPU request: the HPA's utilisation target needs one")
		}
	})

	t.Run("disruption budget", func(t *testing.T) {
		if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.Type != intstr.Int {
			t.Fatalf("got minAvailable %v, want a number", pdb.Spec.MinAvailable)
		}
		got := pdb.Spec.MinAvailable.IntValue()
		if got < minAvailable {
			t.Errorf("got minAvailable %d, want at least %d", got, minAvailable)
		}
		// At minAvailable == minReplicas no pod could ever be evicted and
		// node drains would hang.
		if hpa.Spec.MinReplicas != nil && int32(got) >= *hpa.Spec.MinReplicas {
			t.Errorf("got minAvailable %d with minReplicas %d, want it below", got, *hpa.Spec.MinReplicas)
		}
		sel, err := metaSelector(pdb.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(podLabels) {
			t.Errorf("got PDB selector %v for pod labels %v, want a match", pdb.Spec.Selector.MatchLabels, pod.Labels)
		}
	})

	t.Run("network policy", func(t *testing.T) {
		sel, err := metaSelector(np.Spec.PodSelector.MatchLabels)
		if err != nil || !sel.Matches(podLabels) {
			t.Errorf("got NetworkPolicy podSelector %v for pod labels %v, want a match", np.Spec.PodSelector.MatchLabels, pod.Labels)
		}
		for _, pt := range []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress} {
			if !slices.Contains(np.Spec.PolicyTypes, pt) {
				t.Errorf("got policyTypes %v, want %s", np.Spec.PolicyTypes, pt)
			}
		}
		var ingressPorts []string
		for _, r := range np.Spec.Ingress {
			if len(r.From) == 0 {
				t.Errorf("got an ingress rule open to every source on %v, want sources named", r.Ports)
			}
			for _, p := range r.Ports {
				ingressPorts = append(ingressPorts, p.Port.String())
			}
		}
		for _, want := range []string{"http", "metrics"} {
			if !slices.Contains(ingressPorts, want) {
				t.Errorf("got ingress ports %v, want %s allowed", ingressPorts, want)
			}
		}
		var egressPorts []string
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				egressPorts = append(egressPorts, p.Port.String())
			}
		}
		for _, want := range []string{"53", "5432", "443"} {
			if !slices.Contains(egressPorts, want) {
				t.Errorf("got egress ports %v, want %s (DNS, PostgreSQL, OAuth providers)", egressPorts, want)
			}
		}
	})
}

func metaSelector(ml map[string]string) (labels.Selector, error) {
	if len(ml) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	return labels.SelectorFromSet(ml), nil
}

func containerNamed(t *testing.T, spec corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	t.Fatalf("got no container %q", name)
	return nil
}

func volumeNamed(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func containerPort(t *testing.T, c *corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Errorf("got no container port named %q", name)
	return 0
}

func secretRef(c *corev1.Container, key string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == key && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

// containerEnv resolves the container's environment as the kubelet would:
// envFrom ConfigMaps first (which must exist in the render), then env.
// Values from Secrets read "secret:<name>/<key>".
func containerEnv(t *testing.T, c *corev1.Container, m manifests) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		i := slices.IndexFunc(m.configMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == from.ConfigMapRef.Name })
		if i < 0 {
			t.Fatalf("got envFrom ConfigMap %q, want it in the render", from.ConfigMapRef.Name)
		}
		for k, v := range m.configMaps[i].Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom != nil:
			env[e.Name] = "field"
		default:
			env[e.Name] = e.Value
		}
	}
	return env
}

func splitHostPort(addr string) (host, port string, err error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", "", fmt.Errorf("%q has no port", addr)
	}
	return addr[:i], addr[i+1:], nil
}
