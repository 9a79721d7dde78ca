package app

import (
	"context"
	"strings"
	"testing"
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
