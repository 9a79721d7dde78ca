package app

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func init() {
	samplePage("billing_tenant", fiber.Map{"B": emptyBilling(), "Years": []int{2026}, "Base": "/t/chuxiong/billing"},
		fiber.Map{"B": sampleBilling(), "Years": []int{2026, 2025}, "Base": "/t/chuxiong/billing",
			"Counties": []console.CountyBilling{{Tenant: sampleTenant, Outstanding: 100, Overdue: 50}}})
	j := &billing.Journal{ID: 7, Kind: billing.Advance, Category: "cloud", AmountFen: 1000000, Memo: "<script>x</script>", Reference: "BANK-1",
		Source: "web", OccurredAt: sampleNow, PostedAt: sampleNow, PostedBy: "op@cityops.cn"}
	forms := func() map[string]*console.LedgerForm {
		return map[string]*console.LedgerForm{"advances": {Kind: "advances", Category: "fit_out", Key: "k1"}, "repayments": {Kind: "repayments", Category: "bank", Key: "k2"},
			"adjustments": {Kind: "adjustments", Category: "correction", Key: "k3"}}
	}
	cats := map[string][]string{"advances": billing.Categories(billing.Advance), "repayments": billing.Categories(billing.Repayment), "adjustments": billing.Categories(billing.Adjustment)}
	order := []string{"advances", "repayments", "adjustments"}
	full := forms()
	full["advances"] = &console.LedgerForm{Kind: "advances", Amount: "12.345", Category: "cloud", Memo: "<b>m</b>", Reference: "r", Date: "2026-05-01", Due: "2026-06-01", Key: "k"}
	samplePage("ops_billing", fiber.Map{"T": sampleTenant, "B": emptyBilling(), "Forms": forms(), "FormOrder": order, "Categories": cats, "Base": "/ops/tenants/chuxiong/billing"},
		fiber.Map{"T": sampleTenant, "B": sampleBilling(), "Rows": []console.LedgerRow{{J: j, Net: 1000000, Balance: 1000000}}, "Total": 51,
			"Next": "/ops/tenants/chuxiong/billing?page=2", "Prev": "/ops/tenants/chuxiong/billing?page=1", "Forms": full, "FormOrder": order, "Categories": cats,
			"Error": "输入有误：\"12.345\" is not an amount", "ErrorForm": "advances", "Years": []int{2026, 2025}, "Base": "/ops/tenants/chuxiong/billing",
			"Today": "2026-05-14", "CSRF": "tok"})
}

// TestWebBillingAccess: a tenant's billing page is for its admins, its prefecture's viewers and
// operators; another tenant's admin and another prefecture's viewer get 404, and the page has
// no form.
func TestWebBillingAccess(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	if r, _ := f.do(t, "operator", "POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":13579246,"category":"cloud","memo":"A-ADVANCE"}`); r.status != 201 {
		t.Fatalf("advance: %d %s", r.status, r.body)
	}
	dali, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: tenants.Prefecture, AdminCode: "532900"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "daliViewer@test.cn", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.app.store.Grant(ctx, dali.Tenant, id.ID, tenants.PrefectureViewer); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who, path string
		status    int
		want      string
	}{
		{"adminA", "/t/chuxiong/billing", 200, "135,792.46"},
		{"adminA", "/t/chuxiong/billing/statements/2026", 200, "A-ADVANCE"},
		{"adminB", "/t/chuxiong/billing", 404, ""},
		{"adminB", "/t/chuxiong/billing/statements/2026", 404, ""},
		{"adminB", "/t/wuding/billing", 200, "武定县"},
		{"inspectorA", "/t/chuxiong/billing", 403, ""},
		{"viewer", "/t/chuxiong/billing", 200, "135,792.46"},
		{"viewer", "/t/chuxiong-zhou/billing", 200, "/t/chuxiong/billing"},
		{"daliViewer", "/t/chuxiong/billing", 404, ""},
		{"daliViewer", "/t/dali-zhou/billing", 200, "大理州"},
		{"operator", "/t/chuxiong/billing", 200, "135,792.46"},
	} {
		cookie, csrf := webLogin(t, f, tc.who)
		res := webPage(t, f, cookie, csrf, "GET", tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s GET %s: %d, want %d with %q", tc.who, tc.path, res.status, tc.status, tc.want)
			continue
		}
		if tc.status != 200 {
			if strings.Contains(res.body, "135,792.46") || strings.Contains(res.body, "A-ADVANCE") {
				t.Errorf("%s GET %s: refused, but shows A's billing", tc.who, tc.path)
			}
			continue
		}
		if strings.Contains(tc.path, "/statements/") {
			continue
		}
		if strings.Contains(res.body, `method="post" action="/t/`) || strings.Contains(res.body, "/ops/tenants/") {
			t.Errorf("%s GET %s: the read-only billing page has a form or an operator's link", tc.who, tc.path)
		}
	}
	// The statement's CSV, through the console's route.
	cookie, csrf := webLogin(t, f, "adminA")
	res := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong/billing/statements/2026?format=csv", nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || !strings.Contains(res.body, "A-ADVANCE") {
		t.Fatalf("CSV: %d %s", res.status, res.header.Get("Content-Type"))
	}
	// A prefecture viewer's POST is refused (read-only scope), and nothing changes.
	cookie, csrf = webLogin(t, f, "viewer")
	if res := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/billing", url.Values{"amount": {"1"}}); res.status != 403 {
		t.Fatalf("viewer POST: %d", res.status)
	}
}

// TestWebOpsLedger records an advance, a repayment and an adjustment through the forms, and checks
// that bad amounts and dates give a 4xx page with the message and change nothing.
func TestWebOpsLedger(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	chuxiong, err := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		js, err := f.app.billing.FindJournals(ctx, billing.JournalFilter{Tenant: chuxiong.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(js)
	}
	cookie, csrf := webLogin(t, f, "operator")
	res := webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong/billing", nil)
	if res.status != 200 || !strings.Contains(res.body, `id="form-advances"`) {
		t.Fatalf("ledger page: %d\n%s", res.status, res.body)
	}
	before := count()
	for _, tc := range []struct {
		kind string
		form url.Values
		want string
	}{
		{"advances", url.Values{"amount": {"12.345"}}, "最多两位小数"},
		{"advances", url.Values{"amount": {"abc"}}, "不是有效的金额"},
		{"advances", url.Values{"amount": {""}}, "请以元为单位填写金额"},
		{"advances", url.Values{"amount": {"-5"}}, "正的整数分"},
		{"repayments", url.Values{"amount": {"0"}}, "正的整数分"},
		{"adjustments", url.Values{"amount": {"0"}}, "不能为零"},
		{"advances", url.Values{"amount": {"100"}, "occurred_on": {"2026-13-45"}}, "不是日期"},
		{"advances", url.Values{"amount": {"100"}, "occurred_on": {"2999-01-01"}}, "不能在未来"},
		{"advances", url.Values{"amount": {"100"}, "occurred_on": {"2026-01-10"}, "due_on": {"2025-01-01"}}, "到期日早于记账日期"},
		{"advances", url.Values{"amount": {"100"}, "category": {"bogus"}}, "category"},
		{"repayments", url.Values{"amount": {"99999999999999999"}}, "amount"},
	} {
		res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/"+tc.kind, tc.form)
		if res.status != 400 || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
			t.Errorf("%s %v: %d, want 400 with %q\n%s", tc.kind, tc.form, res.status, tc.want, res.body)
		}
		if v := tc.form.Get("amount"); v != "" && !strings.Contains(res.body, `value="`+v+`"`) {
			t.Errorf("%s %v: the form lost the amount typed", tc.kind, tc.form)
		}
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/charges", url.Values{"amount": {"1"}}); res.status != 404 {
		t.Errorf("charges by hand: %d", res.status)
	}
	if n := count(); n != before {
		t.Fatalf("refused forms posted %d journals", n-before)
	}
	key := uuid.NewString()
	for i := 0; i < 2; i++ { // a double submission posts once
		res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/advances",
			url.Values{"amount": {"1,234.50"}, "category": {"cloud"}, "memo": {"云资源"}, "occurred_on": {"2026-01-10"}, "key": {key}})
		if res.status != 303 {
			t.Fatalf("advance: %d\n%s", res.status, res.body)
		}
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/repayments", url.Values{"amount": {"234.5"}, "reference": {"BANK-9"}}); res.status != 303 {
		t.Fatalf("repayment: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/adjustments", url.Values{"amount": {"-100"}, "category": {"waiver"}}); res.status != 303 {
		t.Fatalf("adjustment: %d\n%s", res.status, res.body)
	}
	if n := count(); n != before+3 {
		t.Fatalf("%d journals posted, want 3", n-before)
	}
	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong/billing?done=ops.msg.posted.advance", nil)
	if res.status != 200 || !strings.Contains(res.body, "900.00") || !strings.Contains(res.body, "BANK-9") || !strings.Contains(res.body, "垫资已入账") {
		t.Fatalf("ledger after posting: %d\n%s", res.status, res.body)
	}
	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong/billing/statements/2026", nil)
	if res.status != 200 || !strings.Contains(res.body, "云资源") {
		t.Fatalf("statement: %d\n%s", res.status, res.body)
	}
	es, err := f.app.store.FindAudit(ctx, tenants.AuditFilter{TenantID: &chuxiong.ID, Action: "billing.ledger.advance"})
	if err != nil || len(es) != 1 || es[0].ActorEmail != "operator@test.cn" {
		t.Fatalf("audit of the advance: %v %v", es, err)
	}
}
