package app

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/tenants"
)

// TestBillingAccessMatrix walks every billing route the app serves (so a route added later is
// covered without editing this test) and asks, about tenant A (chuxiong):
//   - another tenant's admin (B, wuding) and a county's admin of another prefecture: refused (403
//     or 404), and none of A's billing data in the answer;
//   - the prefecture viewer of A's prefecture: reads of A's tenant billing views succeed, every
//     write is refused, and the operator's endpoints are refused;
//   - a prefecture viewer of another prefecture: A is not found;
//
// and, at the end, that none of the refused requests changed A's billing.
func TestBillingAccessMatrix(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			ctx := context.Background()
			const secret = "13579246" // A's advance in fen, and in its memo
			if r, _ := f.do(t, "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":13579246,"category":"cloud","memo":"A-13579246"}`); r.status != 201 {
				t.Fatalf("advance: %d %s", r.status, r.body)
			}
			if r, _ := f.do(t, "operator", "POST", "/api/v1/billing/tenants/chuxiong/plan-changes", `{"plan":"standard","effective":"2099-01","memo":"A-13579246"}`); r.status != 400 {
				t.Fatalf("plan change too far ahead: %d %s", r.status, r.body)
			}
			if r, _ := f.do(t, "operator", "PUT", "/api/v1/billing/tenants/chuxiong/schedule", `{"principal_fen":13579246,"years":3,"start_year":2026}`); r.status != 200 {
				t.Fatalf("schedule: %d %s", r.status, r.body)
			}
			// Another prefecture with a county of its own, and their people.
			dali, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: tenants.Prefecture, AdminCode: "532900"})
			if err != nil {
				t.Fatal(err)
			}
			xiaguan, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali", NameZH: "大理市", Kind: tenants.City, AdminCode: "532901", ParentSlug: "dali-zhou"})
			if err != nil {
				t.Fatal(err)
			}
			for who, grant := range map[string]struct {
				t    *tenants.Tenant
				role tenants.Role
			}{"daliViewer": {dali.Tenant, tenants.PrefectureViewer}, "daliAdmin": {xiaguan.Tenant, tenants.TenantAdmin}} {
				id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: who + "@test.cn", Password: testPassword})
				if err != nil {
					t.Fatal(err)
				}
				if err := f.app.store.Grant(ctx, grant.t, id.ID, grant.role); err != nil {
					t.Fatal(err)
				}
				tok, _, err := f.app.store.CreateAPIToken(ctx, id.ID, "test", 0)
				if err != nil {
					t.Fatal(err)
				}
				f.tokens[who] = tok
			}
			state := func() string {
				var b strings.Builder
				for _, p := range []string{"ledger", "plan-changes", "schedule"} {
					r, _ := f.do(t, "operator", "GET", "/api/v1/billing/tenants/chuxiong/"+p, "")
					b.WriteString(r.body)
				}
				r, _ := f.do(t, "operator", "GET", "/api/v1/billing/tenants/chuxiong", "")
				b.WriteString(r.body[strings.Index(r.body, `"entitlements"`):strings.Index(r.body, `"balance"`)])
				return b.String()
			}
			before := state()

			var cases []scenario
			routes := 0
			seen := map[string]bool{}
			for _, r := range f.app.fiber.GetRoutes(true) {
				if !strings.HasPrefix(r.Path, "/api/v1/") || !strings.Contains(r.Path, "/billing") || r.Method == "HEAD" ||
					r.Path == "/api/v1/billing/stripe/webhook" || seen[r.Method+r.Path] {
					continue
				}
				seen[r.Method+r.Path] = true
				routes++
				path := strings.NewReplacer(":slug", "chuxiong", ":tenant", "chuxiong", ":code", "starter", ":year", "2026", ":kind", "advances").Replace(r.Path)
				if strings.HasSuffix(r.Path, "/counties") {
					path = strings.Replace(path, "/t/chuxiong/", "/t/chuxiong-zhou/", 1)
				}
				tenantView := strings.HasPrefix(r.Path, "/api/v1/t/")
				body := ""
				if r.Method != "GET" {
					body = `{"amount_fen":1,"plan":"prefecture","month":"2026-01"}`
				}
				name := r.Method + " " + r.Path
				for _, who := range []string{"adminB", "daliAdmin", "daliViewer"} {
					status := 403
					if tenantView {
						status = 404
					}
					cases = append(cases, scenario{who + " " + name, who, r.Method, path, body, status, "", secret})
				}
				switch {
				case !tenantView:
					cases = append(cases, scenario{"viewer " + name, "viewer", r.Method, path, body, 403, "", secret})
				case r.Method == "GET":
					cases = append(cases, scenario{"viewer " + name, "viewer", r.Method, path, "", 200, "", ""})
					cases = append(cases, scenario{"viewer writes " + name, "viewer", "POST", path, `{}`, 403, "read-only", secret})
				default:
					cases = append(cases, scenario{"viewer " + name, "viewer", r.Method, path, body, 403, "", secret})
				}
			}
			if routes < 20 {
				t.Fatalf("only %d billing routes found", routes)
			}
			runScenarios(t, f, cases)
			// The viewer's reads carry A's data (so the 200s above were not empty answers).
			runScenarios(t, f, []scenario{
				{"viewer sees A's advance", "viewer", "GET", "/api/v1/t/chuxiong/billing/", "", 200, secret, ""},
				{"viewer sees A in the counties", "viewer", "GET", "/api/v1/t/chuxiong-zhou/billing/counties", "", 200, secret, ""},
				{"other prefecture's counties lack A", "daliViewer", "GET", "/api/v1/t/dali-zhou/billing/counties", "", 200, "dali", secret},
			})
			if after := state(); after != before {
				t.Fatalf("refused requests changed A's billing:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
