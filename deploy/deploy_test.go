// Package deploy_test checks the deployment artifacts: the Helm chart's invariants (rendered by
// the real helm binary), the raw staging manifests against the chart, and the security
// properties of the Terraform configuration (parsed with hashicorp/hcl/v2).
//
// Regenerate the raw manifests after a chart change with:
//
//	go test ./deploy -run TestRawStagingManifestsMatchChart -update
package deploy_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite deploy/k8s/staging from the chart's staging render")

const (
	chartDir    = "helm/bitunix-bot"
	releaseName = "bitunix-bot"
	rawStaging  = "k8s/staging"
)

var environments = []string{"development", "staging", "production"}

type object = map[string]any

// render runs `helm template` and returns the objects, or the error helm printed.
func render(t *testing.T, chart, env string, args ...string) ([]object, error) {
	t.Helper()
	helm, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm is not on PATH (bash .ci/tools.sh installs it into $BITRADER_TOOLS/bin); skipping chart tests")
	}
	cmdArgs := append([]string{"template", releaseName, chart, "-n", "bitrader-" + env,
		"-f", filepath.Join(chart, "values-"+env+".yaml")}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm, cmdArgs...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w: %s", strings.Join(cmdArgs, " "), err, stderr.String())
	}
	return decodeAll(t, stdout.Bytes()), nil
}

func mustRender(t *testing.T, env string, args ...string) []object {
	t.Helper()
	objs, err := render(t, chartDir, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decodeAll(t *testing.T, data []byte) []object {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode YAML: %v", err)
		}
		if o != nil {
			out = append(out, o)
		}
	}
}

func find(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o["kind"] == kind {
			out = append(out, o)
		}
	}
	return out
}

func one(t *testing.T, objs []object, kind string) object {
	t.Helper()
	found := find(objs, kind)
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, got %d", kind, len(found))
	}
	return found[0]
}

// get walks nested maps and lists: get(o, "spec", "template", "spec", "containers", 0).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func podSpec(t *testing.T, objs []object) map[string]any {
	t.Helper()
	spec, ok := get(one(t, objs, "Deployment"), "spec", "template", "spec").(map[string]any)
	if !ok {
		t.Fatal("Deployment has no pod spec")
	}
	return spec
}

func TestSecurityContextIsRestricted(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			spec := podSpec(t, mustRender(t, env))
			checks := []struct {
				path []any
				want any
			}{
				{[]any{"securityContext", "runAsNonRoot"}, true},
				{[]any{"securityContext", "runAsUser"}, 65532},
				{[]any{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
				{[]any{"containers", 0, "securityContext", "runAsNonRoot"}, true},
				{[]any{"containers", 0, "securityContext", "allowPrivilegeEscalation"}, false},
				{[]any{"containers", 0, "securityContext", "readOnlyRootFilesystem"}, true},
				{[]any{"containers", 0, "securityContext", "privileged"}, false},
				{[]any{"containers", 0, "securityContext", "capabilities", "drop", 0}, "ALL"},
				{[]any{"containers", 0, "securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
				{[]any{"enableServiceLinks"}, false},
			}
			for _, c := range checks {
				if got := get(spec, c.path...); got != c.want {
					t.Errorf("%v = %v, want %v", c.path, got, c.want)
				}
			}
			if add := get(spec, "containers", 0, "securityContext", "capabilities", "add"); add != nil {
				t.Errorf("capabilities added: %v", add)
			}
			for _, forbidden := range []string{"hostNetwork", "hostPID", "hostIPC"} {
				if spec[forbidden] == true {
					t.Errorf("%s is set", forbidden)
				}
			}
			for _, v := range spec["volumes"].([]any) {
				vol := v.(map[string]any)
				if _, ok := vol["hostPath"]; ok {
					t.Errorf("hostPath volume %v", vol["name"])
				}
			}
			// Writable paths are volumes: the root filesystem is read-only.
			mounts := map[string]bool{}
			for _, m := range get(spec, "containers", 0, "volumeMounts").([]any) {
				mounts[m.(map[string]any)["mountPath"].(string)] = true
			}
			for _, p := range []string{"/data", "/tmp", "/etc/bitrader/config", "/var/run/secrets/bitrader"} {
				if !mounts[p] {
					t.Errorf("no volume mounted at %s", p)
				}
			}
		})
	}
}

func TestNamespaceEnforcesRestrictedPodSecurity(t *testing.T) {
	ns := one(t, mustRender(t, "staging", "--set", "namespace.create=true"), "Namespace")
	labels := get(ns, "metadata", "labels").(map[string]any)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if got := labels["pod-security.kubernetes.io/"+mode]; got != "restricted" {
			t.Errorf("pod-security %s = %v, want restricted", mode, got)
		}
	}
	if n := len(find(mustRender(t, "staging"), "Namespace")); n != 0 {
		t.Errorf("namespace rendered by default (%d), which breaks helm --create-namespace", n)
	}
}

func TestOneActiveTrader(t *testing.T) {
	refusals := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"two replicas without HA", "staging", []string{"--set", "replicaCount=2"}, "one active trader"},
		{"autoscaler without HA", "staging", []string{"--set", "autoscaling.enabled=true"}, "second trader"},
		{"production with HA switched off", "production", []string{"--set", "ha.enabled=false"}, "one active trader"},
		{"shared journal with HA", "production", []string{"--set", "persistence.enabled=true"}, "single-writer"},
		{"live outside production", "staging", []string{"--set", "config.trading.live=true,config.trading.dryRun=false"}, "only allowed with environment=production"},
		{"grace period shorter than shutdown", "staging", []string{"--set", "terminationGracePeriodSeconds=25"}, "terminationGracePeriodSeconds=25"},
		{"longer shutdown not covered", "production", []string{"--set", "config.system.shutdownTimeout=1m"}, "(60s) + 10s"},
		// A secret in values would land in the ConfigMap: secrets come from a Secret.
		{"a secret in the config", "staging", []string{"--set", "config.secrets.apiKey=AKIA"}, "/config/secrets"},
		{"plain http to the exchange", "production", []string{"--set", "config.api.baseURL=http://fapi.bitunix.com"}, "/config/api/baseURL"},
		// The security context's pinned fields cannot be weakened by an
		// override (the rest is Pod Security Admission's "restricted").
		{"a writable root filesystem", "production", []string{"--set", "securityContext.readOnlyRootFilesystem=false"}, "/securityContext/readOnlyRootFilesystem"},
		{"a privileged container", "staging", []string{"--set", "securityContext.privileged=true"}, "/securityContext/privileged"},
		{"privilege escalation", "staging", []string{"--set", "securityContext.allowPrivilegeEscalation=true"}, "/securityContext/allowPrivilegeEscalation"},
		{"root in the container", "staging", []string{"--set", "securityContext.runAsUser=0"}, "/securityContext/runAsUser"},
		{"root in the pod", "staging", []string{"--set", "podSecurityContext.runAsNonRoot=false"}, "/podSecurityContext/runAsNonRoot"},
		{"an added capability", "staging", []string{"--set", "securityContext.capabilities.add={NET_ADMIN}"}, "/securityContext/capabilities/add"},
		{"capabilities kept", "staging", []string{"--set", "securityContext.capabilities.drop={NET_RAW}"}, "/securityContext/capabilities/drop"},
		{"no seccomp in the container", "staging", []string{"--set", "securityContext.seccompProfile.type=Unconfined"}, "/securityContext/seccompProfile/type"},
		{"no seccomp in the pod", "staging", []string{"--set", "podSecurityContext.seccompProfile.type=Unconfined"}, "/podSecurityContext/seccompProfile/type"},
		{"root user in the pod", "staging", []string{"--set", "podSecurityContext.runAsUser=0"}, "/podSecurityContext/runAsUser"},
		{"root group in the pod", "staging", []string{"--set", "podSecurityContext.runAsGroup=0"}, "/podSecurityContext/runAsGroup"},
		{"root filesystem group", "staging", []string{"--set", "podSecurityContext.fsGroup=0"}, "/podSecurityContext/fsGroup"},
		{"root group in the container", "staging", []string{"--set", "securityContext.runAsGroup=0"}, "/securityContext/runAsGroup"},
		{"non-root not required", "staging", []string{"--set", "securityContext.runAsNonRoot=false"}, "/securityContext/runAsNonRoot"},
		{"read-only root removed", "staging", []string{"--set", "securityContext.readOnlyRootFilesystem=null"}, "readOnlyRootFilesystem"},
		{"dropped capabilities removed", "staging", []string{"--set", "securityContext.capabilities.drop=null"}, "drop"},
	}
	for _, tc := range refusals {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := render(t, chartDir, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded, want a failure mentioning %q", tc.args, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not mention %q: %v", tc.want, err)
			}
		})
	}

	for _, env := range []string{"development", "staging"} {
		t.Run(env+" runs one replica with Recreate", func(t *testing.T) {
			objs := mustRender(t, env)
			d := one(t, objs, "Deployment")
			if got := get(d, "spec", "replicas"); got != 1 {
				t.Errorf("replicas = %v, want 1", got)
			}
			if got := get(d, "spec", "strategy", "type"); got != "Recreate" {
				t.Errorf("strategy = %v, want Recreate", got)
			}
			if n := len(find(objs, "Role")) + len(find(objs, "HorizontalPodAutoscaler")); n != 0 {
				t.Errorf("non-HA render has %d Role/HPA objects", n)
			}
			if got := get(d, "spec", "template", "spec", "automountServiceAccountToken"); got != false {
				t.Errorf("automountServiceAccountToken = %v, want false without HA", got)
			}
		})
	}

	t.Run("production elects a leader", func(t *testing.T) {
		objs := mustRender(t, "production")
		d := one(t, objs, "Deployment")
		if got := get(d, "spec", "replicas"); got != 2 {
			t.Errorf("replicas = %v, want 2", got)
		}
		if len(find(objs, "HorizontalPodAutoscaler")) != 0 {
			t.Error("production autoscales; it must run a fixed number of replicas")
		}
		strategy := get(d, "spec", "strategy")
		want := map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxUnavailable": 0, "maxSurge": 1}}
		if !reflect.DeepEqual(strategy, want) {
			t.Errorf("strategy = %v, want %v", strategy, want)
		}
		if get(d, "spec", "template", "spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", 0, "topologyKey") != "kubernetes.io/hostname" {
			t.Error("no required pod anti-affinity on kubernetes.io/hostname")
		}
		role := one(t, objs, "Role")
		rule := get(role, "rules", 0).(map[string]any)
		if !reflect.DeepEqual(rule["resources"], []any{"leases"}) || !reflect.DeepEqual(rule["apiGroups"], []any{"coordination.k8s.io"}) {
			t.Errorf("role rule = %v, want leases in coordination.k8s.io only", rule)
		}
		if len(get(role, "rules").([]any)) != 1 {
			t.Errorf("role has extra rules: %v", get(role, "rules"))
		}
		binding := one(t, objs, "RoleBinding")
		if get(binding, "subjects", 0, "name") != get(d, "spec", "template", "spec", "serviceAccountName") {
			t.Error("RoleBinding does not bind the Deployment's service account")
		}
		env := map[string]bool{}
		for _, e := range get(d, "spec", "template", "spec", "containers", 0, "env").([]any) {
			em := e.(map[string]any)
			if get(em, "valueFrom", "fieldRef", "fieldPath") != nil {
				env[em["name"].(string)] = true
			}
		}
		if !env["POD_NAME"] || !env["POD_NAMESPACE"] {
			t.Errorf("downward API env missing: %v", env)
		}
		cm := one(t, objs, "ConfigMap")
		var cfg map[string]any
		if err := yaml.Unmarshal([]byte(get(cm, "data", "production.yaml").(string)), &cfg); err != nil {
			t.Fatal(err)
		}
		if get(cfg, "ha", "enabled") != true || get(cfg, "ha", "leaseNamespace") != "bitrader-production" || get(cfg, "ha", "leaseName") != releaseName {
			t.Errorf("config ha block = %v", cfg["ha"])
		}
	})

	t.Run("HA allows an autoscaler of standbys", func(t *testing.T) {
		objs := mustRender(t, "production", "--set", "autoscaling.enabled=true")
		if len(find(objs, "HorizontalPodAutoscaler")) != 1 {
			t.Error("HA + autoscaling rendered no HPA")
		}
		if get(one(t, objs, "Deployment"), "spec", "replicas") != nil {
			t.Error("Deployment sets replicas while an HPA owns them")
		}
	})
}

func TestProbesAndShutdown(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := mustRender(t, env)
			spec := podSpec(t, objs)
			c := get(spec, "containers", 0).(map[string]any)
			for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
				if got := get(c, probe, "httpGet", "path"); got != path {
					t.Errorf("%s path = %v, want %s", probe, got, path)
				}
				if got := get(c, probe, "httpGet", "port"); got != "http-metrics" {
					t.Errorf("%s port = %v, want http-metrics", probe, got)
				}
			}
			if got := get(c, "ports", 0, "containerPort"); got != 8080 {
				t.Errorf("containerPort = %v, want metricsPort 8080", got)
			}
			grace, _ := spec["terminationGracePeriodSeconds"].(int)
			if grace < 20+10 {
				t.Errorf("terminationGracePeriodSeconds = %d, want >= shutdownTimeout 20s + 10s", grace)
			}
			svc := one(t, objs, "Service")
			if get(svc, "spec", "ports", 0, "targetPort") != "http-metrics" {
				t.Error("Service does not target the metrics port")
			}
		})
	}
}

func TestConfigChangeRollsPods(t *testing.T) {
	checksum := func(args ...string) any {
		return get(one(t, mustRender(t, "staging", args...), "Deployment"), "spec", "template", "metadata", "annotations", "checksum/config")
	}
	a, b := checksum(), checksum("--set", "config.system.logLevel=warn")
	if a == nil || a == b {
		t.Errorf("checksum/config %v -> %v: a config change would not roll the pod", a, b)
	}
}

func TestNetworkPolicyAllowsOnlyScrapingDNSAndHTTPS(t *testing.T) {
	for _, env := range []string{"staging", "production"} {
		t.Run(env, func(t *testing.T) {
			np := one(t, mustRender(t, env), "NetworkPolicy")
			if !reflect.DeepEqual(get(np, "spec", "policyTypes"), []any{"Ingress", "Egress"}) {
				t.Errorf("policyTypes = %v", get(np, "spec", "policyTypes"))
			}
			var egress []string
			for _, r := range get(np, "spec", "egress").([]any) {
				for _, p := range get(r, "ports").([]any) {
					egress = append(egress, fmt.Sprintf("%v/%v", get(p, "port"), get(p, "protocol")))
				}
			}
			sort.Strings(egress)
			if want := []string{"443/TCP", "53/TCP", "53/UDP"}; !reflect.DeepEqual(egress, want) {
				t.Errorf("egress ports = %v, want %v", egress, want)
			}
			ingress := get(np, "spec", "ingress").([]any)
			if len(ingress) != 1 || get(ingress[0], "ports", 0, "port") != 8080 || len(get(ingress[0], "ports").([]any)) != 1 {
				t.Errorf("ingress = %v, want only the metrics port 8080", ingress)
			}
			if get(ingress[0], "from") == nil {
				t.Error("ingress allows every source; want only the metrics scraper")
			}
		})
	}
}

func TestExternalSecretsAndIRSA(t *testing.T) {
	objs := mustRender(t, "production", "--set", "serviceAccount.irsaRoleArn=arn:aws:iam::123456789012:role/bot")
	sa := one(t, objs, "ServiceAccount")
	if get(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn") != "arn:aws:iam::123456789012:role/bot" {
		t.Errorf("service account annotations = %v", get(sa, "metadata", "annotations"))
	}
	store := one(t, objs, "SecretStore")
	if get(store, "spec", "provider", "aws", "service") != "SecretsManager" ||
		get(store, "spec", "provider", "aws", "auth", "jwt", "serviceAccountRef", "name") != get(sa, "metadata", "name") {
		t.Errorf("SecretStore does not read Secrets Manager as the bot's service account: %v", get(store, "spec"))
	}
	es := one(t, objs, "ExternalSecret")
	secretVolume := ""
	for _, v := range podSpec(t, objs)["volumes"].([]any) {
		if name, ok := get(v, "secret", "secretName").(string); ok {
			secretVolume = name
		}
	}
	if get(es, "spec", "target", "name") != secretVolume {
		t.Errorf("ExternalSecret target %v is not the mounted secret %q", get(es, "spec", "target", "name"), secretVolume)
	}
	if n := len(find(mustRender(t, "staging"), "ExternalSecret")); n != 0 {
		t.Errorf("staging renders %d ExternalSecrets with the toggle off", n)
	}
}

func TestPrometheusRuleComesFromAlertsFile(t *testing.T) {
	// A copy of the chart, so the test controls files/alerts.yaml.
	dir := filepath.Join(t.TempDir(), "bitunix-bot")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	alerts := filepath.Join(dir, "files", "alerts.yaml")
	if err := os.Remove(alerts); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	objs, err := render(t, dir, "production")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(find(objs, "PrometheusRule")); n != 0 {
		t.Errorf("without files/alerts.yaml the chart rendered %d PrometheusRules", n)
	}
	if err := os.MkdirAll(filepath.Dir(alerts), 0o755); err != nil {
		t.Fatal(err)
	}
	rules := "groups:\n  - name: bitrader\n    rules:\n      - alert: BotDown\n        expr: up == 0\n        for: 1m\n"
	if err := os.WriteFile(alerts, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err = render(t, dir, "production")
	if err != nil {
		t.Fatal(err)
	}
	if got := get(one(t, objs, "PrometheusRule"), "spec", "groups", 0, "rules", 0, "alert"); got != "BotDown" {
		t.Errorf("PrometheusRule first alert = %v, want BotDown", got)
	}
}

// Labels that only say "Helm made this"; everything else must match the raw manifests.
var helmOnlyLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by"}

func normalize(v any) any {
	switch n := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range n {
			if k == "labels" {
				if m, ok := val.(map[string]any); ok {
					m2 := map[string]any{}
					for lk, lv := range m {
						m2[lk] = lv
					}
					for _, l := range helmOnlyLabels {
						delete(m2, l)
					}
					out[k] = m2
					continue
				}
			}
			out[k] = normalize(val)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i := range n {
			out[i] = normalize(n[i])
		}
		return out
	}
	return v
}

func objectKey(o object) string {
	return fmt.Sprintf("%v/%v", o["kind"], get(o, "metadata", "name"))
}

func TestRawStagingManifestsMatchChart(t *testing.T) {
	chart := mustRender(t, "staging", "--set", "namespace.create=true")
	if *update {
		writeRawManifests(t, chart)
	}
	entries, err := os.ReadDir(rawStaging)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]object{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(rawStaging, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decodeAll(t, data) {
			raw[objectKey(o)] = normalize(o).(map[string]any)
		}
	}
	want := map[string]object{}
	for _, o := range chart {
		want[objectKey(o)] = normalize(o).(map[string]any)
	}
	for k, w := range want {
		r, ok := raw[k]
		if !ok {
			t.Errorf("%s is in the chart's staging render but not in %s (run with -update)", k, rawStaging)
			continue
		}
		if !reflect.DeepEqual(r, w) {
			wb, _ := yaml.Marshal(w)
			rb, _ := yaml.Marshal(r)
			t.Errorf("%s differs from the chart's staging render (run with -update)\nchart:\n%s\nraw:\n%s", k, wb, rb)
		}
	}
	for k := range raw {
		if _, ok := want[k]; !ok {
			t.Errorf("%s is in %s but not in the chart's staging render", k, rawStaging)
		}
	}
}

func writeRawManifests(t *testing.T, objs []object) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(rawStaging, "*.yaml"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	order := map[string]int{"Namespace": 0, "ServiceAccount": 1, "ConfigMap": 2, "PersistentVolumeClaim": 3, "Service": 4, "Deployment": 5, "NetworkPolicy": 6, "PodDisruptionBudget": 7}
	for _, o := range objs {
		n := normalize(o).(map[string]any)
		// Delete server-side-irrelevant Helm bookkeeping; set who manages the raw copy.
		if labels, ok := get(n, "metadata", "labels").(map[string]any); ok {
			labels["app.kubernetes.io/managed-by"] = "kubectl"
		}
		var body bytes.Buffer
		enc := yaml.NewEncoder(&body)
		enc.SetIndent(2)
		if err := enc.Encode(n); err != nil {
			t.Fatal(err)
		}
		kind := o["kind"].(string)
		name := fmt.Sprintf("%02d-%s.yaml", order[kind], strings.ToLower(kind))
		header := "# Generated from the Helm chart's staging render (values-staging.yaml, release bitunix-bot,\n" +
			"# namespace bitrader-staging) by: go test ./deploy -run TestRawStagingManifestsMatchChart -update\n" +
			"# Do not edit by hand: a test fails when this differs from the chart.\n"
		if err := os.WriteFile(filepath.Join(rawStaging, name), append([]byte(header), body.Bytes()...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
