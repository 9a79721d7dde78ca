package app

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// TestMetricsForOnCall: /metrics carries what an on-call person reads (deploy/monitoring's
// dashboard and alert rules use these names): requests per tenant and status class, with the
// tenant label only ever a real tenant's slug; provisioning and migration durations; the
// database pool; the Stripe outbox's backlog; Vault's and Stripe's errors.
func TestMetricsForOnCall(t *testing.T) {
	f := newFixture(t, "postgres")
	for _, r := range []struct{ who, method, path, body string }{
		{"adminA", "GET", "/api/v1/t/chuxiong/settings", ""},
		{"adminA", "PUT", "/api/v1/t/chuxiong/settings/secret", "{"}, // 400 inside chuxiong
		{"adminA", "GET", "/api/v1/t/wuding/settings", ""},           // refused before any tenant is resolved for A
		{"adminA", "GET", "/api/v1/t/no-such-county/settings", ""},   // names no tenant
		{"adminB", "GET", "/api/v1/t/wuding/settings", ""},
	} {
		if _, err := f.do(t, r.who, r.method, r.path, r.body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.app.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := f.do(t, "", "GET", "/metrics", "")
	if err != nil || res.status != 200 {
		t.Fatalf("/metrics: %v %d", err, res.status)
	}
	for _, want := range []string{
		`cityops_tenant_requests_total{class="2xx",tenant="chuxiong"} 2`, // the fixture's own PUT and this GET
		`cityops_tenant_requests_total{class="4xx",tenant="chuxiong"} 1`,
		`cityops_tenant_requests_total{class="2xx",tenant="wuding"} 1`,
		`cityops_provisioning_duration_seconds_count{op="provision",result="ok"} 3`,
		`cityops_tenant_migration_duration_seconds_bucket`,
		`go_sql_open_connections{db_name="control"}`,
		`cityops_stripe_outbox_items{status="pending"}`,
		`cityops_stripe_outbox_oldest_pending_seconds`,
		`cityops_vault_errors_total{kind="unavailable"} 0`,
		`cityops_stripe_errors_total{kind="invoice",status="dead"} 0`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(res.body, "no-such-county") {
		t.Error("a slug that names no tenant became a label")
	}
}

// TestAlertRulesAndDashboard: every alert rule in deploy/monitoring/alerts.yml is complete (a
// name, an expression, a severity, a summary; promtool checks the file when it is installed),
// the dashboard is valid JSON, and every metric either names is one CityOps exports (or the
// Go database collector's, or Prometheus's own up).
func TestAlertRulesAndDashboard(t *testing.T) {
	a, _, _ := MustBootApp(t, "sqlite")
	families, err := a.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"up": true}
	for _, f := range families {
		known[f.GetName()] = true
	}
	// Vectors with no series yet are not gathered: take the names declared in the code too.
	declared := regexp.MustCompile(`Name:\s+"(cityops_[a-z_]+)"`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range declared.FindAllSubmatch(b, -1) {
			known[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	metric := regexp.MustCompile(`\b(cityops_[a-z_]+|go_sql_[a-z_]+|up)\b`)
	check := func(where, expr string) {
		t.Helper()
		for _, m := range metric.FindAllString(expr, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(m, suf); ok && known[b] {
					base = b
				}
			}
			if !known[base] {
				t.Errorf("%s: %s is not a metric CityOps exports", where, m)
			}
		}
	}

	raw, err := os.ReadFile("../deploy/monitoring/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("incomplete rule %+v", r)
			}
			check(r.Alert, r.Expr)
		}
	}
	if n < 10 {
		t.Fatalf("only %d alert rules", n)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(promtool, "check", "rules", "../deploy/monitoring/alerts.yml").CombinedOutput(); err != nil {
			t.Fatalf("promtool check rules: %v\n%s", err, out)
		}
	}

	raw, err = os.ReadFile("../deploy/monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("grafana-dashboard.json: %v (%d panels)", err, len(dash.Panels))
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check(p.Title, tg.Expr)
		}
	}
}
