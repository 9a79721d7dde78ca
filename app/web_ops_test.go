package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/console"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// sampleBilling is a tenant's billing with every part filled.
func sampleBilling() *billing.Summary {
	due := sampleNow.AddDate(0, -2, 0)
	return &billing.Summary{Tenant: sampleTenant,
		Entitlements: &billing.Entitlements{Plan: &billing.Plan{Code: "standard", NameZH: "标准版", NameEN: "Standard", MonthlyFeeFen: 500000}},
		Balance:      &billing.Balance{Outstanding: 123456789, Credit: 100, Advanced: 200000000, Repaid: 76543211},
		Ageing:       &billing.Ageing{NotDue: 100, Days30: 200, Days90: 300, Days180: 400, Days365: 500, Over365: 600, Overdue: 2000, Total: 2100, OldestAt: &due},
		Schedule: &billing.Schedule{PrincipalFen: 300000000, Years: 3, StartYear: 2026, Instalments: []*billing.Instalment{
			{Year: 2026, DueOn: sampleNow, PrincipalFen: 100000000, InterestFen: 3500000, Status: "issued"}}},
		Quota: []billing.MeterStatus{{Meter: billing.MeterCasesCreated, Quantity: 1200, Included: 1000, Over: true, Overage: 200, OverageFen: 20000},
			{Meter: billing.MeterActiveUsers, Quantity: 12, Included: 50}, {Meter: billing.MeterSMS}},
		PlanChanges: []*billing.PlanChange{{FromPlan: "starter", ToPlan: "standard", EffectiveFrom: sampleNow, Memo: "<b>升级</b>", RequestedBy: "op@cityops.cn"}},
	}
}

func emptyBilling() *billing.Summary {
	return &billing.Summary{Tenant: sampleTenant, Entitlements: &billing.Entitlements{Plan: &billing.Plan{Code: "starter"}},
		Balance: &billing.Balance{}, Ageing: &billing.Ageing{}}
}

func init() {
	provisioning := &tenants.Tenant{Slug: "yaoan", NameZH: "姚安县", Kind: tenants.County, AdminCode: "532325", Status: tenants.StatusProvisioning, ParentID: &sampleParent}
	statuses := []tenants.Status{tenants.StatusProvisioning, tenants.StatusActive, tenants.StatusSuspended, tenants.StatusOffboarding, tenants.StatusDeleted}
	samplePage("ops_tenants", fiber.Map{"Statuses": statuses, "Rows": []console.OpsRow{}},
		fiber.Map{"Rows": []console.OpsRow{{Tenant: sampleTenant, Parent: samplePrefecture, Cases: 12, Users: 3, Outstanding: 123456, Credit: 5, Overdue: 100},
			{Tenant: samplePrefecture}, {Tenant: provisioning}}, "Prefectures": []*tenants.Tenant{samplePrefecture}, "Statuses": statuses,
			"Status": "active", "Parent": "chuxiong-zhou", "CanAdmin": true, "CSRF": "tok"})
	samplePage("ops_new", fiber.Map{"Form": console.NewTenantForm{}},
		fiber.Map{"Form": console.NewTenantForm{Division: "532325", Parent: "chuxiong-zhou", AdminCode: "532325", Slug: "yaoan", NameZH: "姚安县", NameEN: "Yao'an", Kind: "county", Plan: "starter", Email: "a@b.cn"},
			"Error": "输入有误：<script>x</script>", "Divisions": []console.Division{{Division: tenants.Division{Code: "532301", NameZH: "楚雄市", NameEN: "Chuxiong", Level: "city"}, Taken: true}, {Division: tenants.Division{Code: "532325", NameZH: "姚安县", Level: "county"}}},
			"Prefectures": []*tenants.Tenant{samplePrefecture}, "Plans": []*billing.Plan{{Code: "starter", NameZH: "入门版", NameEN: "Starter", MonthlyFeeFen: 100000}},
			"Kinds": []tenants.Kind{tenants.County, tenants.City, tenants.District, tenants.Prefecture}, "CSRF": "tok"})
	steps := []console.ProvStep{{Name: "record", State: "done"}, {Name: "schema", State: "done"}, {Name: "migrate", State: "failed"}, {Name: "seed", State: "pending"}, {Name: "secrets", State: "pending"}, {Name: "billing", State: "pending"}, {Name: "case_photos", State: "pending"}, {Name: "first_admin", State: "pending"}, {Name: "done", State: "pending"}}
	samplePage("ops_provisioning", fiber.Map{"Progress": &console.ProvProgress{Slug: "yaoan", State: "starting"}},
		fiber.Map{"Progress": &console.ProvProgress{Slug: "yaoan", Status: "provisioning", Steps: steps, Error: "step migrate: <disk full>", Failed: true, State: "failed",
			Invitation: "https://cityops.example/invite/inv_x"}, "T": provisioning, "CanAdmin": true, "CSRF": "tok"})
	samplePage("ops_tenant", fiber.Map{"D": &console.OpsTenant{T: provisioning, Progress: &console.ProvProgress{}, Billing: emptyBilling()}},
		fiber.Map{"D": &console.OpsTenant{T: sampleTenant, Parent: samplePrefecture, Children: 2, Members: 7, Progress: &console.ProvProgress{Steps: steps[:2], Error: "x"}, Billing: sampleBilling()},
			"Plans": []*billing.Plan{{Code: "starter", NameZH: "入门版"}, {Code: "standard", NameZH: "标准版"}}, "NextMonth": "2026-06", "Error": "输入有误：确认", "ErrorForm": "offboard",
			"CanAdmin": true, "CanBill": true, "CSRF": "tok", "Reason": "<script>x</script>",
			"Handover": &tenants.Handover{Records: 12, Waived: &tenants.HandoverEvent{At: sampleNow, By: "op@x.cn", Reason: "<script>x</script>"}}})
}

func TestWebOpsAccess(t *testing.T) {
	f := newFixture(t, "sqlite")
	for _, who := range []string{"adminA", "viewer", "inspectorA"} {
		cookie, csrf := webLogin(t, f, who)
		for _, p := range []string{"/ops", "/ops/tenants/new", "/ops/tenants/chuxiong", "/ops/tenants/chuxiong/billing", "/ops/tenants/chuxiong/progress",
			"/ops/tenants/chuxiong/billing/statements/2026", "/ops/tenants/chuxiong/export", "/ops/sso"} {
			if res := webPage(t, f, cookie, csrf, "GET", p, nil); res.status != 403 {
				t.Errorf("%s GET %s: %d, want 403", who, p, res.status)
			}
		}
		for _, p := range []string{"/ops/tenants", "/ops/tenants/chuxiong/suspend", "/ops/tenants/chuxiong/resume", "/ops/tenants/chuxiong/offboard",
			"/ops/tenants/chuxiong/provision", "/ops/tenants/chuxiong/plan", "/ops/tenants/chuxiong/billing/advances",
			"/ops/tenants/chuxiong/billing/repayments", "/ops/tenants/chuxiong/billing/adjustments", "/ops/tenants/chuxiong/invite-admin",
			"/ops/tenants/chuxiong/export", "/ops/tenants/chuxiong/export/waiver",
			"/ops/sso/providers", "/ops/sso/providers/gov/delete", "/ops/sso/links", "/ops/sso/links/delete"} {
			form := url.Values{"confirm": {"chuxiong"}, "reason": {"x"}, "amount": {"100"}, "plan": {"standard"}, "slug": {"evil"}, "admin_code": {"532325"}, "kind": {"county"}, "name_zh": {"x"}}
			if res := webPage(t, f, cookie, csrf, "POST", p, form); res.status != 403 {
				t.Errorf("%s POST %s: %d, want 403", who, p, res.status)
			}
		}
	}
	// Every /ops POST route is in the list above: a route added later must be added there too.
	posts := 0
	for _, r := range f.app.fiber.GetRoutes(true) {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/ops") {
			posts++
		}
	}
	if posts != 14 { // billing/:kind is one route
		t.Errorf("%d POST routes under /ops; add the new ones to this test", posts)
	}
	// Support operators read the console but change nothing.
	cookie, csrf := webLogin(t, f, "support")
	if res := webPage(t, f, cookie, csrf, "GET", "/ops", nil); res.status != 200 || !strings.Contains(res.body, "楚雄市") {
		t.Fatalf("support /ops: %d", res.status)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/suspend", nil); res.status != 403 {
		t.Fatalf("support suspends: %d", res.status)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/billing/advances", url.Values{"amount": {"1"}}); res.status != 403 {
		t.Fatalf("support posts an advance: %d", res.status)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong/export", url.Values{"reason": {"support"}}); res.status != 403 {
		t.Fatalf("support exports personal data in clear: %d", res.status)
	}
	// No session: the login page.
	if res := webPage(t, f, "", "", "GET", "/ops", nil); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("anonymous /ops: %d", res.status)
	}
	// A form without the CSRF token is refused, even for the operator.
	cookie, _ = webLogin(t, f, "operator")
	if res := webPage(t, f, cookie, "wrong", "POST", "/ops/tenants/chuxiong/suspend", nil); res.status != 403 {
		t.Fatalf("suspend without CSRF: %d", res.status)
	}
	if tn, _ := f.app.store.FindTenantBySlug(context.Background(), "chuxiong"); tn.Status != tenants.StatusActive {
		t.Fatalf("a refused request changed the tenant: %s", tn.Status)
	}
}

// TestWebOpsLifecycle onboards a county through the wizard's form, follows its provisioning to
// the end, then suspends, resumes, changes its plan, exports and offboards it, checking the audit
// log names the operator for each.
// TestWebOpsInviteAdmin: an operator replaces a lost first-admin link; the link works once, the
// invitation is audited, bad input changes nothing, and a provisioning tenant gets none.
func TestWebOpsInviteAdmin(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	cookie, csrf := webLogin(t, f, "operator")
	res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/wuding/invite-admin", url.Values{"email": {"not-an-email"}})
	if res.status != 400 || !strings.Contains(res.body, "不是有效的电子邮箱地址") {
		t.Fatalf("bad email: %d\n%s", res.status, res.body)
	}
	wuding, err := f.app.store.FindTenantBySlug(ctx, "wuding")
	if err != nil {
		t.Fatal(err)
	}
	if invs, _ := f.app.store.FindInvitations(ctx, wuding.ID); len(invs) != 0 {
		t.Fatalf("a refused invitation left %d", len(invs))
	}
	res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/wuding/invite-admin", url.Values{"email": {"new-admin@wuding.cn"}, "name": {"武定新管理员"}})
	m := regexp.MustCompile(`/invite/(inv_[A-Za-z0-9_-]+)`).FindStringSubmatch(res.body)
	if res.status != 200 || m == nil {
		t.Fatalf("invite: %d\n%s", res.status, res.body)
	}
	if _, _, err := f.app.store.AcceptInvitation(ctx, m[1], "武定新管理员", "a long password 1"); err != nil {
		t.Fatal(err)
	}
	ms, err := f.app.store.FindMembers(ctx, wuding.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mb := range ms {
		found = found || (mb.Identity.Email == "new-admin@wuding.cn" && slices.Contains(mb.Roles, tenants.TenantAdmin))
	}
	if !found {
		t.Fatalf("the invited admin is not a member: %+v", ms)
	}
	entries, err := f.app.store.FindAudit(ctx, tenants.AuditFilter{TenantID: &wuding.ID, Action: "member.invite"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatal("the invitation is not in the audit log")
	}
}

// TestWebOpsWizardDivisions: with some 3,200 divisions, the wizard lists one province at a time —
// the province of the prefecture tenants by default, another on request — and a division chosen
// in one province is not filled in once the operator switched to another.
func TestWebOpsWizardDivisions(t *testing.T) {
	f := newFixture(t, "sqlite")
	cookie, csrf := webLogin(t, f, "operator")
	options := regexp.MustCompile(`<option value="(\d{6})"`)
	codes := func(body string) map[string]bool {
		out := map[string]bool{}
		for _, m := range options.FindAllStringSubmatch(body, -1) {
			out[m[1]] = true
		}
		return out
	}
	for _, tc := range []struct {
		path, province string
		has, hasNot    []string
		prefilled      string
	}{
		{"/ops/tenants/new", "53", []string{"532300", "532322", "530102"}, []string{"110101", "530000"}, ""},
		{"/ops/tenants/new?province=11", "11", []string{"110100", "110101"}, []string{"532322"}, ""},
		{"/ops/tenants/new?division=110101", "11", []string{"110101"}, []string{"532322"}, "东城区"},
		{"/ops/tenants/new?division=532325&province=11", "11", []string{"110101"}, []string{"532325"}, ""},
		{"/ops/tenants/new?division=532325&province=53", "53", []string{"532325"}, []string{"110101"}, "姚安县"},
		{"/ops/tenants/new?division=53zz&province=x", "53", []string{"532325"}, nil, ""},
	} {
		res := webPage(t, f, cookie, csrf, "GET", tc.path, nil)
		got := codes(res.body)
		if res.status != 200 || !strings.Contains(res.body, `<option value="`+tc.province+`" selected>`) || len(got) > 400 {
			t.Errorf("%s: %d, province %s selected?, %d divisions listed", tc.path, res.status, tc.province, len(got))
			continue
		}
		for _, c := range tc.has {
			if !got[c] {
				t.Errorf("%s: %s is not listed", tc.path, c)
			}
		}
		for _, c := range tc.hasNot {
			if got[c] {
				t.Errorf("%s: %s is listed", tc.path, c)
			}
		}
		if filled := strings.Contains(res.body, `id="n-name-zh" name="name_zh" value="`+tc.prefilled+`"`); !filled {
			t.Errorf("%s: the name is not %q", tc.path, tc.prefilled)
		}
	}
}

func TestWebOpsLifecycle(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	cookie, csrf := webLogin(t, f, "operator")
	res := webPage(t, f, cookie, csrf, "GET", "/ops?status=active&parent=chuxiong-zhou", nil)
	if res.status != 200 || !strings.Contains(res.body, "武定县") || strings.Contains(res.body, `href="/ops/tenants/chuxiong-zhou"`) {
		t.Fatalf("/ops filtered: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f, cookie, csrf, "GET", "/ops?status=bogus", nil); res.status != 400 {
		t.Fatalf("/ops?status=bogus: %d", res.status)
	}
	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/new?division=532325", nil)
	if res.status != 200 || !strings.Contains(res.body, `value="姚安县"`) || !strings.Contains(res.body, `value="yaoan"`) ||
		!regexp.MustCompile(`value="chuxiong-zhou" selected`).MatchString(res.body) {
		t.Fatalf("wizard prefill: %d\n%s", res.status, res.body)
	}
	form := url.Values{"division": {"532325"}, "parent": {"chuxiong-zhou"}, "admin_code": {"532325"}, "slug": {"yaoan"}, "name_zh": {"姚安县"},
		"name_en": {"Yao'an"}, "kind": {"county"}, "plan": {"starter"}, "first_admin_email": {"admin@yaoan.cn"}}
	// Refusals come back on the form, with the reason, and record nothing.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("admin_code", "530102")
	res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants", bad)
	if res.status != 400 || !strings.Contains(res.body, "五华区（530102）隶属于昆明市（530100），不属于上级单位楚雄州（532300）") || !strings.Contains(res.body, `value="yaoan"`) {
		t.Fatalf("code outside the prefecture: %d\n%s", res.status, res.body)
	}
	bad.Set("admin_code", "530101")
	res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants", bad)
	if res.status != 400 || !strings.Contains(res.body, "行政区划代码 530101 不在 GB/T 2260") || !strings.Contains(res.body, `value="yaoan"`) {
		t.Fatalf("unknown code: %d\n%s", res.status, res.body)
	}
	bad.Set("admin_code", "532325")
	bad.Set("slug", "chuxiong")
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants", bad); res.status != 400 || !strings.Contains(res.body, "已被单位") {
		t.Fatalf("slug taken: %d\n%s", res.status, res.body)
	}
	if _, err := f.app.store.FindTenantBySlug(ctx, "yaoan"); err == nil {
		t.Fatal("a refused request recorded a tenant")
	}
	res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants", form)
	if res.status != 303 || res.header.Get("Location") != "/ops/tenants/yaoan/provisioning" {
		t.Fatalf("provision: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	var state string
	for deadline := time.Now().Add(20 * time.Second); ; {
		res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/yaoan/progress", nil)
		var p struct{ State string }
		if json.Unmarshal([]byte(res.body), &p) == nil {
			state = p.State
		}
		if state == "done" || state == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state != "done" || !strings.Contains(res.body, `/invite/inv_`) {
		t.Fatalf("progress: %s", res.body)
	}
	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/yaoan/provisioning", nil)
	if res.status != 200 || !strings.Contains(res.body, "/invite/inv_") || strings.Contains(res.body, `class="failed"`) {
		t.Fatalf("progress page: %d\n%s", res.status, res.body)
	}
	// Another operator does not see the invitation link.
	sc, scsrf := webLogin(t, f, "support")
	if res := webPage(t, f, sc, scsrf, "GET", "/ops/tenants/yaoan/progress", nil); res.status != 200 || strings.Contains(res.body, "/invite/") || !strings.Contains(res.body, `"state":"done"`) {
		t.Fatalf("progress for another operator: %d %s", res.status, res.body)
	}
	yaoan, err := f.app.store.FindTenantBySlug(ctx, "yaoan")
	if err != nil || yaoan.Status != tenants.StatusActive {
		t.Fatalf("yaoan: %v %v", yaoan, err)
	}

	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/yaoan", nil)
	if res.status != 200 || !strings.Contains(res.body, "姚安县") || !strings.Contains(res.body, "data-confirm") {
		t.Fatalf("detail: %d\n%s", res.status, res.body)
	}
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/suspend", url.Values{"reason": {"欠费"}}); res.status != 303 {
		t.Fatalf("suspend: %d\n%s", res.status, res.body)
	}
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/suspend", nil); res.status != 409 || !strings.Contains(res.body, "suspended") {
		t.Fatalf("suspend twice: %d\n%s", res.status, res.body)
	}
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/resume", nil); res.status != 303 {
		t.Fatalf("resume: %d\n%s", res.status, res.body)
	}
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/plan", url.Values{"plan": {"standard"}, "effective": {"20xx"}}); res.status != 400 || !strings.Contains(res.body, "YYYY-MM") {
		t.Fatalf("plan change with a bad month: %d\n%s", res.status, res.body)
	}
	next := clock.StartOfMonth(f.app.store.Now()).AddDate(0, 1, 0).Format("2006-01")
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/plan", url.Values{"plan": {"standard"}, "effective": {next}}); res.status != 303 {
		t.Fatalf("plan change: %d\n%s", res.status, res.body)
	}
	res = webPage(t, f, cookie, csrf, "GET", "/ops/tenants/yaoan/export", nil)
	if res.status != 200 || res.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(res.body, "PK") {
		t.Fatalf("export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	// Offboarding needs the slug typed: anything else changes nothing.
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/offboard", url.Values{"confirm": {"yes"}}); res.status != 400 || !strings.Contains(res.body, "yaoan") {
		t.Fatalf("offboard unconfirmed: %d\n%s", res.status, res.body)
	}
	if tn, _ := f.app.store.FindTenantBySlug(ctx, "yaoan"); tn == nil || tn.Status != tenants.StatusActive {
		t.Fatal("an unconfirmed offboarding changed the tenant")
	}
	if res = webPage(t, f, cookie, csrf, "POST", "/ops/tenants/yaoan/offboard", url.Values{"confirm": {"yaoan"}}); res.status != 303 {
		t.Fatalf("offboard: %d\n%s", res.status, res.body)
	}
	if _, err := f.app.store.FindTenantBySlug(ctx, "yaoan"); err == nil {
		t.Fatal("yaoan is still there")
	}
	es, err := f.app.store.FindAudit(ctx, tenants.AuditFilter{TenantID: &yaoan.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range es {
		got[e.Action] = e.ActorEmail
	}
	for _, a := range []string{"tenant.create", "tenant.suspend", "tenant.resume", "billing.plan.change", "tenant.export", "tenant.offboard.start", "tenant.offboard.done"} {
		if got[a] != "operator@test.cn" {
			t.Errorf("audit %s by %q, want operator@test.cn (%v)", a, got[a], got)
		}
	}
}

// TestBrowserOpsOnboarding is the operator's journey: log in, open the tenants table, onboard a
// county through the wizard, watch provisioning finish, copy the first admin's invitation link,
// record an advance and open the statement; then the tenant's own billing page as its admin and
// as the prefecture's viewer.
func TestBrowserOpsOnboarding(t *testing.T) {
	f := newFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	s := b.user("operator")
	s.login("operator@test.cn", testPassword)
	s.visit("/")
	if loc := s.location(); loc != "/ops" && loc != "/ops/" {
		t.Fatalf("an operator lands on %s, want /ops", loc)
	}
	s.waitText("main", "武定县")
	s.shot("ops-tenants")

	s.clickTo(`a[href="/ops/tenants/new"]`, "/ops/tenants/new")
	s.fill("#n-division", "532325")
	s.clickTo(`form[action="/ops/tenants/new"] button[type=submit]`, "/ops/tenants/new?division=532325")
	if v := eval[string](s, `document.getElementById("n-slug").value`); v != "yaoan" {
		t.Fatalf("the wizard did not fill the slug: %q", v)
	}
	s.fill("#n-email", "admin@yaoan.cn")
	s.shot("ops-new")
	s.clickTo(`form.ops-new button[type=submit]`, "/ops/tenants/yaoan/provisioning")
	s.waitText("#provisioning", "开通完成")
	link := eval[string](s, `document.getElementById("invite-link").value`)
	if !strings.Contains(link, "/invite/inv_") {
		t.Fatalf("no invitation link: %q", link)
	}
	s.click("#copy-invite")
	s.waitText("#prov-invite", "已复制")
	s.shot("ops-provisioning")

	s.visit("/ops/tenants/yaoan")
	s.waitText("main", "姚安县")
	s.shot("ops-tenant")

	s.visit("/ops/tenants/yaoan/billing")
	s.fill("#advances-amount", "12.345")
	s.clickTo(`#form-advances button[type=submit]`, "/ops/tenants/yaoan/billing/advances")
	s.waitText("main", "最多两位小数")
	s.fill("#advances-amount", "150000")
	s.fill("#advances-category", "fit_out")
	s.fill("#advances-memo", "建设垫资 第一期")
	s.clickTo(`#form-advances button[type=submit]`, "/ops/tenants/yaoan/billing?done=")
	s.waitText(".flash", "垫资已入账")
	s.waitText("table.ledger", "150,000.00")
	s.shot("ops-billing")
	year := f.app.store.Now().In(clock.China).Format("2006")
	s.clickTo(`a[href="/ops/tenants/yaoan/billing/statements/`+year+`"]`, "/ops/tenants/yaoan/billing/statements/"+year)
	s.waitText("main", "建设垫资 第一期")
	s.shot("billing-statement")

	// Some of this month's text messages over the plan's quota, and a repayment schedule.
	yaoan, err := f.app.store.FindTenantBySlug(context.Background(), "yaoan")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.app.billing.Record(context.Background(), yaoan.ID, billing.MeterSMS, 620, "sms:batch-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.app.billing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.billing.PutSchedule(context.Background(), yaoan, billing.ScheduleRequest{PrincipalFen: 15000000, Years: 3, StartYear: f.app.store.Now().In(clock.China).Year() + 1}); err != nil {
		t.Fatal(err)
	}

	// The invitation works: the first admin joins, and sees the county's billing, read-only.
	a := b.user("yaoan-admin")
	a.acceptInvitation(strings.TrimPrefix(link, f.app.cfg.BaseURL), "姚安管理员", testPassword, "/t/yaoan/admin")
	a.login("admin@yaoan.cn", testPassword)
	a.visit("/t/yaoan/billing")
	a.waitText("main", "150,000.00")
	a.waitText("main", "本月已有用量超出套餐额度")
	if n := eval[int](a, `document.querySelectorAll('main form[method="post"]').length`); n != 0 {
		t.Fatalf("the tenant's billing page has %d forms", n)
	}
	a.shot("billing-tenant")

	v := b.user("prefecture-viewer")
	v.login("viewer@test.cn", testPassword)
	v.visit("/t/chuxiong-zhou")
	v.clickTo(`nav.sections a[href="/t/chuxiong-zhou/billing"]`, "/t/chuxiong-zhou/billing")
	v.waitText("main", "姚安县")
	v.shot("billing-prefecture")
}

// flakyStep fails its first run, as a step whose service is down would, and succeeds after.
type flakyStep struct{ runs int }

func (*flakyStep) Name() string { return "billing_probe" }

func (s *flakyStep) Run(context.Context, *tenants.Tenant) error {
	s.runs++
	if s.runs == 1 {
		return errors.New("the probe service is down")
	}
	return nil
}

// TestWebOpsProvisioningFailure: a step that fails stops provisioning; the progress page says
// where and why and offers to resume, and resuming finishes it.
func TestWebOpsProvisioningFailure(t *testing.T) {
	ctx := context.Background()
	cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateWorkers: 2, BodyLimit: 64 << 10, MaxOpenTenants: 8}
	a, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1},
		Steps: []tenants.Step{&flakyStep{}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "operator@test.cn", Password: testPassword, OperatorRole: tenants.OperatorAdmin}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{app: a}
	cookie, csrf := webLogin(t, f, "operator")
	form := url.Values{"admin_code": {"532300"}, "slug": {"chuxiong-zhou"}, "name_zh": {"楚雄州"}, "kind": {"prefecture"}, "plan": {"starter"}, "first_admin_email": {"admin@cx.cn"}}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants", form); res.status != 303 {
		t.Fatalf("provision: %d\n%s", res.status, res.body)
	}
	wait := func(want string) string {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			res := webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong-zhou/progress", nil)
			var p struct{ State string }
			if json.Unmarshal([]byte(res.body), &p) == nil && p.State == want {
				return res.body
			}
			if time.Now().After(deadline) {
				t.Fatalf("provisioning never reached %s: %s", want, res.body)
			}
		}
	}
	body := wait("failed")
	if !strings.Contains(body, `{"name":"billing_probe","state":"failed"}`) || !strings.Contains(body, "the probe service is down") {
		t.Fatalf("failed progress: %s", body)
	}
	res := webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong-zhou/provisioning", nil)
	if res.status != 200 || !strings.Contains(res.body, `action="/ops/tenants/chuxiong-zhou/provision"`) || !strings.Contains(res.body, "the probe service is down") {
		t.Fatalf("progress page after the failure: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f, cookie, csrf, "GET", "/ops/tenants/chuxiong-zhou", nil); res.status != 200 || !strings.Contains(res.body, "继续开通") {
		t.Fatalf("detail page of a tenant stuck in provisioning: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong-zhou/provision", nil); res.status != 303 {
		t.Fatalf("resume: %d\n%s", res.status, res.body)
	}
	body = wait("done")
	if !strings.Contains(body, "/invite/inv_") {
		t.Fatalf("no invitation after resuming: %s", body)
	}
	if res := webPage(t, f, cookie, csrf, "POST", "/ops/tenants/chuxiong-zhou/provision", nil); res.status != 409 {
		t.Fatalf("resuming an active tenant: %d", res.status)
	}
}
