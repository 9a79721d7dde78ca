package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/tenants"
)

// TestBillingEndpoints covers the billing API: the operator records and reads, the tenant's
// admin reads its own, another tenant's user gets 404 and none of the data, the prefecture viewer
// reads but cannot write, and bad input is a 4xx problem.
func TestBillingEndpoints(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			ctx := context.Background()
			s := f.app.store
			id, err := s.CreateIdentity(ctx, tenants.NewIdentity{Email: "finance@test.cn", Password: testPassword, OperatorRole: tenants.OperatorBilling})
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := s.CreateAPIToken(ctx, id.ID, "test", 0)
			if err != nil {
				t.Fatal(err)
			}
			f.tokens["finance"] = tok
			const secret = "987654321" // A's advance in fen; nobody outside A (and the prefecture) may see it
			runScenarios(t, f, []scenario{
				{"finance records an advance", "finance", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"category":"fit_out","amount_fen":987654321,"memo":"平台建设"}`, 201, `"amount_fen":987654321`, ""},
				{"operator records a repayment", "operator", "POST", "/api/v1/billing/tenants/chuxiong/repayments", `{"amount_fen":1000,"reference":"BANK-1"}`, 201, `"repayment"`, ""},
				{"operator sets a schedule", "operator", "PUT", "/api/v1/billing/tenants/chuxiong/schedule", `{"principal_fen":987654321,"years":5,"start_year":2026,"rate_bp":300}`, 200, `"instalments"`, ""},
				{"operator sets plan and modules", "operator", "PUT", "/api/v1/billing/tenants/chuxiong/plan", `{"plan":"standard","modules":{"monitoring":false}}`, 200, `"standard"`, ""},
				{"operator lists plans", "finance", "GET", "/api/v1/billing/plans", "", 200, "starter", ""},
				{"operator overview", "finance", "GET", "/api/v1/billing/tenants", "", 200, secret, ""},
				{"operator ledger", "finance", "GET", "/api/v1/billing/tenants/chuxiong/ledger", "", 200, `"receivable"`, ""},
				{"operator ageing", "operator", "GET", "/api/v1/billing/ageing", "", 200, "not_due_fen", ""},
				{"operator outbox (offline: empty)", "operator", "GET", "/api/v1/billing/outbox", "", 200, "[]", ""},

				{"A admin reads own billing", "adminA", "GET", "/api/v1/t/chuxiong/billing/", "", 200, "987653321", ""},
				{"A admin reads own billing without the slash", "adminA", "GET", "/api/v1/t/chuxiong/billing", "", 200, "987653321", ""},
				{"A admin reads usage", "adminA", "GET", "/api/v1/t/chuxiong/billing/usage?period=month", "", 200, "", ""},
				{"A admin reads statement", "adminA", "GET", "/api/v1/t/chuxiong/billing/statements/2026", "", 200, `"closing_fen":987653321`, ""},
				{"A inspector cannot read billing", "inspectorA", "GET", "/api/v1/t/chuxiong/billing/", "", 403, "", secret},
				{"A admin cannot post advances", "adminA", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":1}`, 403, "", ""},
				{"A admin cannot read the overview", "adminA", "GET", "/api/v1/billing/tenants", "", 403, "", secret},

				{"B reads A billing", "adminB", "GET", "/api/v1/t/chuxiong/billing/", "", 404, "", secret},
				{"B reads A usage", "adminB", "GET", "/api/v1/t/chuxiong/billing/usage", "", 404, "", ""},
				{"B reads A statement", "adminB", "GET", "/api/v1/t/chuxiong/billing/statements/2026", "", 404, "", secret},
				{"B reads A statement CSV", "adminB", "GET", "/api/v1/t/chuxiong/billing/statements/2026?format=csv", "", 404, "", "9876543"},
				{"B reads own billing", "adminB", "GET", "/api/v1/t/wuding/billing/", "", 200, `"outstanding_fen":0`, secret},
				{"nobody reads A billing", "nobody", "GET", "/api/v1/t/chuxiong/billing/", "", 404, "", secret},
				{"anonymous reads A billing", "", "GET", "/api/v1/t/chuxiong/billing/", "", 401, "", secret},

				{"viewer reads A billing", "viewer", "GET", "/api/v1/t/chuxiong/billing/", "", 200, "987653321", ""},
				{"viewer reads A statement", "viewer", "GET", "/api/v1/t/chuxiong/billing/statements/2026?format=csv", "", 200, "9876543.21", ""},
				{"viewer lists counties", "viewer", "GET", "/api/v1/t/chuxiong-zhou/billing/counties", "", 200, "wuding", ""},
				{"viewer cannot post advances", "viewer", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":1}`, 403, "", ""},
				{"viewer cannot write tenant billing", "viewer", "POST", "/api/v1/t/chuxiong/billing/", `{}`, 403, "read-only", ""},
				{"county has no counties", "adminA", "GET", "/api/v1/t/chuxiong/billing/counties", "", 404, "", ""},
				{"support reads A billing read-only", "support", "GET", "/api/v1/t/chuxiong/billing/", "", 200, "987653321", ""},
				{"support cannot post", "support", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":1}`, 403, "", ""},

				{"amount as text", "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":"12"}`, 400, `"field":"amount_fen"`, ""},
				{"negative advance", "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":-5}`, 400, `"field":"amount_fen"`, ""},
				{"fractional fen", "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":1.5}`, 400, `"field":"amount_fen"`, ""},
				{"bad category", "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":5,"category":"party"}`, 400, `"field":"category"`, ""},
				{"unknown field", "operator", "POST", "/api/v1/billing/tenants/chuxiong/repayments", `{"amount_fen":5,"cash":true}`, 400, `"field":"cash"`, ""},
				{"unknown journal kind", "operator", "POST", "/api/v1/billing/tenants/chuxiong/gifts", `{"amount_fen":5}`, 404, "", ""},
				{"unknown tenant", "operator", "POST", "/api/v1/billing/tenants/nowhere/advances", `{"amount_fen":5}`, 404, "", ""},
				{"bad schedule", "operator", "PUT", "/api/v1/billing/tenants/wuding/schedule", `{"principal_fen":100,"years":99,"start_year":2026}`, 400, `"field":"years"`, ""},
				{"unknown plan", "operator", "PUT", "/api/v1/billing/tenants/wuding/plan", `{"plan":"gold"}`, 400, `"field":"plan"`, ""},
				{"bad month", "operator", "POST", "/api/v1/billing/rate", `{"month":"May"}`, 400, `"field":"month"`, ""},
				{"future month", "operator", "POST", "/api/v1/billing/rate", `{"month":"2999-01"}`, 400, `"field":"month"`, ""},
				{"bad year", "adminA", "GET", "/api/v1/t/chuxiong/billing/statements/abc", "", 400, `"field":"year"`, ""},
				{"bad format", "adminA", "GET", "/api/v1/t/chuxiong/billing/statements/2026?format=pdf", "", 400, `"field":"format"`, ""},
				{"bad period", "adminA", "GET", "/api/v1/t/chuxiong/billing/usage?period=week", "", 400, `"field":"period"`, ""},
				{"bad from", "adminA", "GET", "/api/v1/t/chuxiong/billing/usage?from=yesterday", "", 400, `"field":"from"`, ""},
				{"bad plan code", "operator", "PUT", "/api/v1/billing/plans/Bad%20Plan", `{"name_zh":"x"}`, 400, `"field":"code"`, ""},
				{"webhook offline", "", "POST", "/api/v1/billing/stripe/webhook", `{"id":"evt_1"}`, 404, "not configured", ""},
				{"stripe sync offline", "operator", "POST", "/api/v1/billing/stripe/sync", ``, 409, "CITYOPS_STRIPE_KEY", ""},
			})
			// Plan changes: scheduled for next month by default, a retry records nothing, the history
			// is in the tenant's own view (and the prefecture's), and bad input is a 4xx problem.
			month := clock.StartOfMonth(time.Now())
			next := month.AddDate(0, 1, 0).Format("2006-01")
			last := month.AddDate(0, -1, 0).Format("2006-01")
			runScenarios(t, f, []scenario{
				{"running month not rated", "operator", "POST", "/api/v1/billing/rate", `{"month":"` + month.Format("2006-01") + `"}`, 400, "has not ended", ""},
				{"operator schedules a plan change", "finance", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"prefecture","memo":"州批复"}`, 201, `"effective_from"`, ""},
				{"retried plan change", "finance", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"prefecture","effective":"` + next + `"}`, 200, `"recorded":false`, ""},
				{"operator lists plan changes", "operator", "GET", "/api/v1/billing/tenants/wuding/plan-changes", "", 200, `"to_plan":"prefecture"`, ""},
				{"B admin sees its plan changes", "adminB", "GET", "/api/v1/t/wuding/billing/", "", 200, `"to_plan":"prefecture"`, ""},
				{"viewer sees B's plan changes", "viewer", "GET", "/api/v1/t/wuding/billing/", "", 200, "州批复", ""},
				{"A admin does not see B's", "adminA", "GET", "/api/v1/t/wuding/billing/", "", 404, "", "州批复"},
				{"B admin cannot change its plan", "adminB", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"starter"}`, 403, "", ""},
				{"viewer cannot change B's plan", "viewer", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"starter"}`, 403, "", ""},
				{"plan change without a plan", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{}`, 400, `"field":"plan"`, ""},
				{"plan change to no plan", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"gold"}`, 400, `"field":"plan"`, ""},
				{"plan change in a past month", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"standard","effective":"` + last + `"}`, 400, `"field":"effective"`, ""},
				{"plan change, bad month", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"standard","effective":"soon"}`, 400, `"field":"effective"`, ""},
				{"plan change, month as number", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"standard","effective":202701}`, 400, `"field":"effective"`, ""},
				{"plan change, unknown field", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `{"plan":"standard","when":"now"}`, 400, `"field":"when"`, ""},
				{"plan change, not JSON", "operator", "POST", "/api/v1/billing/tenants/wuding/plan-changes", `plan=standard`, 400, "", ""},
				{"plan change of no tenant", "operator", "POST", "/api/v1/billing/tenants/nowhere/plan-changes", `{"plan":"standard"}`, 404, "", ""},
				{"subscribe offline", "operator", "POST", "/api/v1/billing/tenants/wuding/subscribe", ``, 409, "CITYOPS_STRIPE_KEY", ""},
			})
			// Nothing was half written by the refused requests: A owes the advance less the repayment.
			res, _ := f.do(t, "operator", "GET", "/api/v1/billing/tenants/chuxiong", "")
			if !strings.Contains(res.body, `"outstanding_fen":987653321`) || !strings.Contains(res.body, `"monitoring":false`) {
				t.Fatalf("A after the attempts: %s", res.body)
			}
			res, _ = f.do(t, "operator", "GET", "/api/v1/billing/tenants/wuding", "")
			if !strings.Contains(res.body, `"outstanding_fen":0`) || strings.Contains(res.body, `"instalments"`) && !strings.Contains(res.body, `"schedule":null`) {
				t.Fatalf("B after the attempts: %s", res.body)
			}
		})
	}
}

func TestBillingIdempotencyStatementsAndMetering(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	post := func() *response {
		req := `{"amount_fen":5000,"category":"cloud"}`
		r, err := f.send(t, withHeaders(t, "POST", "/api/v1/billing/tenants/wuding/advances", req, f.tokens["operator"], map[string]string{"Idempotency-Key": "adv-2026-1"}))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := post(); r.status != 201 {
		t.Fatalf("first post: %d %s", r.status, r.body)
	}
	if r := post(); r.status != 201 {
		t.Fatalf("retried post: %d %s", r.status, r.body)
	}
	res, _ := f.do(t, "adminB", "GET", "/api/v1/t/wuding/billing/", "")
	if !strings.Contains(res.body, `"outstanding_fen":5000`) {
		t.Fatalf("a retried advance posted twice: %s", res.body)
	}
	// The printable statement, in Chinese and in English, and the CSV.
	res, _ = f.do(t, "adminB", "GET", "/api/v1/t/wuding/billing/statements/2026?format=html", "")
	if res.status != 200 || !strings.Contains(res.body, "年度对账单") || !strings.Contains(res.body, "50.00") || !strings.Contains(res.body, "云资源垫资") {
		t.Fatalf("statement page: %d %s", res.status, res.body)
	}
	res, _ = f.do(t, "adminB", "GET", "/api/v1/t/wuding/billing/statements/2026?format=html&lang=en", "")
	if res.status != 200 || !strings.Contains(res.body, "Annual statement") || !strings.Contains(res.body, "Cloud advance") {
		t.Fatalf("English statement page: %d", res.status)
	}
	res, _ = f.do(t, "adminB", "GET", "/api/v1/t/wuding/billing/statements/2026?format=csv", "")
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || !strings.Contains(res.body, "期末余额") {
		t.Fatalf("statement CSV: %d %s", res.status, res.body)
	}
	// Every request on a tenant route was metered as an API request of that tenant.
	if err := f.app.billing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ = f.do(t, "adminB", "GET", "/api/v1/t/wuding/billing/usage?period=month&meter=api_requests", "")
	if !strings.Contains(res.body, `"meter":"api_requests"`) || !strings.Contains(res.body, `"quantity":4`) {
		t.Fatalf("API requests of wuding: %s", res.body)
	}
	// Rating a month twice charges once.
	for i := 0; i < 2; i++ {
		if r, _ := f.do(t, "operator", "POST", "/api/v1/billing/rate", `{"month":"2026-01"}`); r.status != 200 {
			t.Fatalf("rate: %d %s", r.status, r.body)
		}
	}
}

func withHeaders(t *testing.T, method, path, body, token string, h map[string]string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return req
}
