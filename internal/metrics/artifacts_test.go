package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.yaml.in/yaml/v3"
)

// Paths of the observability artifacts, relative to this package.
var (
	repoRoot      = filepath.Join("..", "..")
	dashboardsDir = filepath.Join(repoRoot, "deploy", "grafana", "dashboards")
	alertsFile    = filepath.Join(repoRoot, "deploy", "prometheus", "alerts.yaml")
	alertTests    = filepath.Join(repoRoot, "deploy", "prometheus", "alerts_test.yaml")
	helmAlerts    = filepath.Join(repoRoot, "deploy", "helm", "bitunix-bot", "files", "alerts.yaml")
	runbook       = filepath.Join(repoRoot, "docs", "runbook.md")
)

var metricNameRE = regexp.MustCompile(`\bbitrader_[a-zA-Z0-9_]+`)

// exportedNames returns every sample name a live /metrics of a bot with
// every metric touched exposes (histograms as _bucket, _sum and _count).
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg, b := newTestBot(t)
	touchAll(b)
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(scrape(t, reg)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	if len(names) < 40 {
		t.Fatalf("only %d sample names exported; scrape broken?", len(names))
	}
	return names
}

// unknownMetrics lists the bitrader_ names in exprs that the bot does not
// export.
func unknownMetrics(exprs []string, exported map[string]bool) []string {
	var bad []string
	for _, e := range exprs {
		for _, name := range metricNameRE.FindAllString(e, -1) {
			if !exported[name] {
				bad = append(bad, name+" in "+e)
			}
		}
	}
	return bad
}

func TestUnknownMetricsIsDetected(t *testing.T) {
	exported := map[string]bool{"bitrader_ready": true}
	bad := unknownMetrics([]string{"bitrader_ready == 0", "rate(bitrader_typo_total[5m])"}, exported)
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "bitrader_typo_total") {
		t.Fatalf("unknownMetrics = %v, want only bitrader_typo_total", bad)
	}
}

// collectExprs returns every "expr" string anywhere in a JSON document.
func collectExprs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			collectExprs(val, out)
		}
	case []any:
		for _, val := range x {
			collectExprs(val, out)
		}
	}
}

func TestDashboardsLoadStrictlyAndQueryExportedMetrics(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	exported := exportedNames(t)
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil || len(files) != 3 {
		t.Fatalf("dashboards: %v (err %v), want 3 files", files, err)
	}
	uids := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(raw); err != nil && !emptyBuildErrors(err) {
				t.Fatalf("strict load: %v", err)
			}
			if err := d.Validate(); err != nil && !emptyBuildErrors(err) {
				t.Fatalf("validate: %v", err)
			}
			if d.Uid == nil || *d.Uid == "" {
				t.Fatal("dashboard has no uid")
			}
			if other, dup := uids[*d.Uid]; dup {
				t.Fatalf("uid %s also used by %s", *d.Uid, other)
			}
			uids[*d.Uid] = f
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			var exprs []string
			collectExprs(doc, &exprs)
			queryPanels := 0
			for _, p := range d.Panels {
				if p.Panel == nil {
					continue
				}
				queryPanels++
				if len(p.Panel.Targets) == 0 {
					t.Errorf("panel %q has no query", *p.Panel.Title)
				}
			}
			if len(exprs) < queryPanels {
				t.Fatalf("found %d exprs for %d panels", len(exprs), queryPanels)
			}
			for _, e := range exprs {
				if !metricNameRE.MatchString(e) {
					t.Errorf("query %q references no bitrader metric", e)
				}
			}
			if bad := unknownMetrics(exprs, exported); len(bad) > 0 {
				t.Errorf("queries reference metrics the bot does not export:\n%s", strings.Join(bad, "\n"))
			}
		})
	}
}

// emptyBuildErrors: the SDK returns an empty cog.BuildErrors (a non-nil
// error value) on success.
func emptyBuildErrors(err error) bool {
	var be cog.BuildErrors
	return errors.As(err, &be) && len(be) == 0
}

func TestStrictLoadRejectsUnknownField(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict([]byte(`{"title":"x","panels":[],"bogusField":1}`))
	if err == nil || emptyBuildErrors(err) {
		t.Fatalf("strict load accepted an unknown field: %v", err)
	}
}

type rulesFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf rulesFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatalf("parse %s: %v", alertsFile, err)
	}
	book, err := os.ReadFile(runbook)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(book), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			anchors[githubAnchor(h)] = true
		}
	}
	tests, err := os.ReadFile(alertTests)
	if err != nil {
		t.Fatal(err)
	}
	exported := exportedNames(t)
	exported["up"] = true
	required := []string{"BitraderDown", "BitraderNotReady", "BitraderWebSocketDisconnected", "BitraderWebSocketStale",
		"BitraderWebSocketReconnectStorm", "BitraderRESTErrorRate", "BitraderRateLimitNear", "BitraderBreakerTripped",
		"BitraderDailyLossNearLimit", "BitraderReconciliationDrift", "BitraderNoLeader"}
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			seen[r.Alert] = true
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description annotations required", r.Alert)
			}
			url := r.Annotations["runbook_url"]
			_, anchor, ok := strings.Cut(url, "docs/runbook.md#")
			if !ok || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q does not point to a section of docs/runbook.md", r.Alert, url)
			}
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("%s has no promtool unit test in %s", r.Alert, alertTests)
			}
			if bad := unknownMetrics([]string{r.Expr}, exported); len(bad) > 0 {
				t.Errorf("%s references metrics the bot does not export: %v", r.Alert, bad)
			}
		}
	}
	for _, name := range required {
		if !seen[name] {
			t.Errorf("required alert %s is missing", name)
		}
	}
	helm, err := os.ReadFile(helmAlerts)
	if err != nil {
		t.Fatalf("Helm chart rules: %v", err)
	}
	if !bytes.Equal(helm, raw) {
		t.Errorf("%s differs from %s: cp deploy/prometheus/alerts.yaml %s", helmAlerts, alertsFile, helmAlerts)
	}
}

// githubAnchor is how GitHub turns a heading into a fragment.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func TestPromtoolConfigAndRules(t *testing.T) {
	promtool := needPromtool(t)
	tests := []struct {
		name string
		args []string
		dir  string
	}{
		{"check config", []string{"check", "config", "prometheus.yml"}, filepath.Join(repoRoot, "deploy")},
		{"check rules", []string{"check", "rules", "alerts.yaml"}, filepath.Join(repoRoot, "deploy", "prometheus")},
		{"check helm rules", []string{"check", "rules", "alerts.yaml"}, filepath.Dir(helmAlerts)},
		{"test rules", []string{"test", "rules", "alerts_test.yaml"}, filepath.Join(repoRoot, "deploy", "prometheus")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(promtool, tt.args...)
			cmd.Dir = tt.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
		})
	}
}

// A broken alert test must make promtool fail: proves the unit tests bite.
func TestPromtoolTestRulesCanFail(t *testing.T) {
	promtool := needPromtool(t)
	dir := t.TempDir()
	rules, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts.yaml"), rules, 0o600); err != nil {
		t.Fatal(err)
	}
	// The breaker is tripped, yet the test claims silence.
	bad := `rule_files: [alerts.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'bitrader_breaker_tripped{breaker="kill_switch"}'
        values: '1x3'
    alert_rule_test:
      - eval_time: 2m
        alertname: BitraderBreakerTripped
        exp_alerts: []
`
	if err := os.WriteFile(filepath.Join(dir, "bad_test.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "bad_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("promtool test rules passed a wrong expectation:\n%s", out)
	}
}
