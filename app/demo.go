package app

import (
	"context"
	"fmt"
	"io"

	"github.com/cityops/cityops/tenants"
)

// DemoPassword is the password of every demo account. Demo data is seeded only by
// `cityops serve --demo` into an empty database, never by a production start.
const DemoPassword = "cityops-demo-2026"

// demoCounties are the county-level units of 楚雄州 (GB/T 2260).
var demoCounties = []tenants.NewTenant{
	{Slug: "chuxiong", NameZH: "楚雄市", NameEN: "Chuxiong", Kind: tenants.City, AdminCode: "532301"},
	{Slug: "lufeng", NameZH: "禄丰市", NameEN: "Lufeng", Kind: tenants.City, AdminCode: "532302"},
	{Slug: "shuangbai", NameZH: "双柏县", NameEN: "Shuangbai", Kind: tenants.County, AdminCode: "532322"},
	{Slug: "mouding", NameZH: "牟定县", NameEN: "Mouding", Kind: tenants.County, AdminCode: "532323"},
	{Slug: "nanhua", NameZH: "南华县", NameEN: "Nanhua", Kind: tenants.County, AdminCode: "532324"},
	{Slug: "yaoan", NameZH: "姚安县", NameEN: "Yao'an", Kind: tenants.County, AdminCode: "532325"},
	{Slug: "dayao", NameZH: "大姚县", NameEN: "Dayao", Kind: tenants.County, AdminCode: "532326"},
	{Slug: "yongren", NameZH: "永仁县", NameEN: "Yongren", Kind: tenants.County, AdminCode: "532327"},
	{Slug: "yuanmou", NameZH: "元谋县", NameEN: "Yuanmou", Kind: tenants.County, AdminCode: "532328"},
	{Slug: "wuding", NameZH: "武定县", NameEN: "Wuding", Kind: tenants.County, AdminCode: "532329"},
}

// SeedDemo fills an empty database with the demo: an operator, the prefecture 楚雄州 with a
// prefecture viewer, and its ten county-level tenants, each with a tenant admin. It does nothing
// (and says so) when the database already has tenants or accounts.
func (a *App) SeedDemo(ctx context.Context, out io.Writer) error { return demo{a}.seed(ctx, out) }

// demo seeds the demo: the App's services, driven as the demo's people would.
type demo struct{ *App }

func (a demo) seed(ctx context.Context, out io.Writer) error {
	ts, err := a.store.FindTenants(ctx, tenants.TenantFilter{IncludeDeleted: true})
	if err != nil {
		return err
	}
	if len(ts) > 0 {
		fmt.Fprintln(out, "The database has tenants already; the demo is not seeded again.")
		return nil
	}
	if _, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "operator@cityops.demo", Name: "运营管理员", Password: DemoPassword, OperatorRole: tenants.OperatorAdmin}); err != nil {
		return fmt.Errorf("demo operator: %w", err)
	}
	pref, err := a.seedTenant(ctx, tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄彝族自治州", NameEN: "Chuxiong Prefecture", Kind: tenants.Prefecture, AdminCode: "532300"}, "admin@chuxiong-zhou.demo")
	if err != nil {
		return err
	}
	viewer, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "viewer@chuxiong-zhou.demo", Name: "州级查看", Password: DemoPassword})
	if err != nil {
		return err
	}
	if err := a.store.Grant(ctx, pref, viewer.ID, tenants.PrefectureViewer); err != nil {
		return err
	}
	// The prefecture and 楚雄市 are on the plans that sell the evaluation; the other counties start
	// on the shared starter plan.
	if _, err := a.billing.SetPlan(ctx, pref, "prefecture", nil); err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	for _, c := range demoCounties {
		c.ParentSlug = pref.Slug
		t, err := a.seedTenant(ctx, c, "admin@"+c.Slug+".demo")
		if err != nil {
			return err
		}
		if c.Slug == "chuxiong" {
			if _, err := a.billing.SetPlan(ctx, t, "standard", nil); err != nil {
				return fmt.Errorf("demo plan: %w", err)
			}
			if err := a.seedDemoLoop(ctx, t); err != nil {
				return err
			}
			if err := a.seedDemoCases(ctx, t); err != nil {
				return err
			}
			if err := a.modules.seed(ctx, t); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(out, "Demo seeded: the prefecture 楚雄州 and %d county-level tenants.\n", len(demoCounties))
	return nil
}

func (a demo) seedTenant(ctx context.Context, in tenants.NewTenant, adminEmail string) (*tenants.Tenant, error) {
	res, err := a.prov.Provision(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("demo tenant %s: %w", in.Slug, err)
	}
	admin, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: adminEmail, Name: in.NameZH + "管理员", Password: DemoPassword})
	if err != nil {
		return nil, err
	}
	return res.Tenant, a.store.Grant(ctx, res.Tenant, admin.ID, tenants.TenantAdmin)
}

// PrintDemoLogins tells a person how to log in to the demo.
func PrintDemoLogins(out io.Writer, url string) {
	fmt.Fprintf(out, `
CityOps (城运) is running at %s

Log in with any of these accounts; the password of each is %s
  operator@cityops.demo        operating company (运营管理员)
  viewer@chuxiong-zhou.demo    prefecture viewer, reads every county (州级查看)
  admin@chuxiong-zhou.demo     admin of 楚雄州
  admin@<county>.demo          admin of a county: chuxiong, lufeng, shuangbai, mouding, nanhua,
                               yaoan, dayao, yongren, yuanmou, wuding
  <post>@chuxiong.demo         the case loop in 楚雄市: inspector, acceptor, shiftlead, dispatcher,
                               handler (市政设施管理局), leader

Citizens' report form:     %s/r/chuxiong   (progress by number: %s/r/chuxiong/lookup)
Open311 for citizens' apps: %s/open311/v2/services.json?jurisdiction_id=chuxiong

`, url, DemoPassword, url, url, url)
}
