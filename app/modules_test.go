package app

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/module/moduletest"
)

// TestModulePlugsIn boots the app with the test suite's Noticeboard module (plugged in by the one
// Options line below, as a real module is by one line of platformModules) and checks what the
// registration gives it: API routes and a console page behind the tenant scope, a nav link, its
// meter recorded and known to billing, its operations in the OpenAPI document, and its
// entitlement: refused, naming the plan, to a tenant whose plan lacks it; open once switched on.
func TestModulePlugsIn(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixtureWith(t, dialect, Options{Modules: []module.Module{moduletest.Noticeboard()}})
			ctx := context.Background()
			a := f.app
			chuxiong, err := a.store.FindTenantBySlug(ctx, "chuxiong")
			if err != nil {
				t.Fatal(err)
			}

			// The starter plan does not sell it: refused with the plan and the module named, in
			// the caller's language, and no link in the console.
			runScenarios(t, f, []scenario{
				{"starter plan refused", "adminA", "GET", "/api/v1/t/chuxiong/notices", "", 403, "Shared starter", ""},
				{"refusal names module", "adminA", "GET", "/api/v1/t/chuxiong/notices", "", 403, "Noticeboard", ""},
				{"write refused too", "adminA", "POST", "/api/v1/t/chuxiong/notices", `{"text":"x"}`, 403, "Shared starter", ""},
			})
			adminA, _ := webLogin(t, f, "adminA")
			res := webPage(t, f, adminA, "", "GET", "/t/chuxiong/notices?lang=zh-CN", nil)
			if res.status != 403 || !strings.Contains(res.body, "模块「公告栏」不在「共享入门版」套餐内") {
				t.Fatalf("console page without the module: %d, want 403 naming 共享入门版 and 公告栏\n%s", res.status, res.body)
			}
			if strings.Contains(webPage(t, f, adminA, "", "GET", "/t/chuxiong/cases", nil).body, `href="/t/chuxiong/notices"`) {
				t.Fatal("the nav links to a module the plan lacks")
			}

			// Switched on for chuxiong only (a tenant switch; a plan selling it works the same).
			if _, err := a.billing.SetPlan(ctx, chuxiong, "", map[string]bool{moduletest.Entitlement: true}); err != nil {
				t.Fatal(err)
			}
			runScenarios(t, f, []scenario{
				{"admin posts", "adminA", "POST", "/api/v1/t/chuxiong/notices", `{"text":"停水通知 WATER-NOTICE"}`, 201, "WATER-NOTICE", ""},
				{"member reads", "inspectorA", "GET", "/api/v1/t/chuxiong/notices", "", 200, "WATER-NOTICE", ""},
				{"post needs the role", "inspectorA", "POST", "/api/v1/t/chuxiong/notices", `{"text":"x"}`, 403, "", ""},
				{"bad body is a 4xx", "adminA", "POST", "/api/v1/t/chuxiong/notices", `{"text":1}`, 400, "text", ""},
				{"empty notice", "adminA", "POST", "/api/v1/t/chuxiong/notices", `{"text":" "}`, 400, "text", ""},
				{"prefecture reads", "viewer", "GET", "/api/v1/t/chuxiong/notices", "", 200, "WATER-NOTICE", ""},
				{"prefecture may not post", "viewer", "POST", "/api/v1/t/chuxiong/notices", `{"text":"x"}`, 403, "", ""},
				{"other county's admin", "adminB", "GET", "/api/v1/t/chuxiong/notices", "", 404, "", "WATER-NOTICE"},
				{"other county lacks it", "adminB", "GET", "/api/v1/t/wuding/notices", "", 403, "Shared starter", "WATER-NOTICE"},
				{"anonymous", "", "GET", "/api/v1/t/chuxiong/notices", "", 401, "", "WATER-NOTICE"},
			})
			page := webPage(t, f, adminA, "", "GET", "/t/chuxiong/notices", nil)
			if page.status != 200 || !strings.Contains(page.body, "WATER-NOTICE") || !strings.Contains(page.body, `href="/t/chuxiong/notices"`) {
				t.Fatalf("console page: %d, want 200 with the notice and its nav link\n%s", page.status, page.body)
			}

			// The meter: one unit per notice, recorded by the module, known to billing.
			if err := a.billing.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			used, err := a.billing.FindUsage(ctx, billing.UsageFilter{Tenant: chuxiong.ID, Period: billing.Month, Meter: moduletest.MeterPosted})
			if err != nil {
				t.Fatal(err)
			}
			if len(used) != 1 || used[0].Quantity != 1 {
				t.Fatalf("usage of %s: %+v, want 1", moduletest.MeterPosted, used)
			}
			// A plan may sell the module and price its meter.
			if err := a.billing.PutPlan(ctx, &billing.Plan{Code: "notices", NameZH: "公告版", Modules: []string{moduletest.Entitlement},
				Meters: map[string]billing.MeterPrice{moduletest.MeterPosted: {Included: 10, UnitPriceFen: 5, UnitSize: 1}}}); err != nil {
				t.Fatal(err)
			}

			// Its table is in the tenant's export, as every table of the tenant is.
			exp, err := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/export", "")
			if err != nil || exp.status != 200 {
				t.Fatalf("export: %v %v", exp, err)
			}
			zr, err := zip.NewReader(strings.NewReader(exp.body), int64(len(exp.body)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(zr.File, func(f *zip.File) bool { return strings.Contains(f.Name, "notices") }) {
				t.Fatal("the module's table is not in the export")
			}

			// Its operations are in the served document, and its routes are all documented.
			doc := MustLoadOpenAPI(t, a)
			if op := doc.Paths.Find("/t/{tenant}/notices"); op == nil || op.Get == nil || op.Get.OperationID != "listNotices" || op.Post == nil {
				t.Fatal("the module's operations are not in the OpenAPI document")
			}
		})
	}
}

// TestModuleRegistrationChecked: a module that cannot be mounted stops the process at start.
func TestModuleRegistrationChecked(t *testing.T) {
	good := moduletest.Noticeboard()
	bad := []func(m *module.Module){
		func(m *module.Module) { m.Name = "Bad Name" },
		func(m *module.Module) { m.Entitlement = "x y" },
		func(m *module.Module) { m.Meters = []string{""} },
		func(m *module.Module) { m.Title = "noticeboard.no_such_text" },
		func(m *module.Module) { m.Build = nil },
	}
	for i, spoil := range bad {
		m := good
		spoil(&m)
		if err := checkModules([]module.Module{m}); err == nil {
			t.Errorf("spoiled registration %d accepted", i)
		}
	}
	if err := checkModules([]module.Module{good, good}); err == nil {
		t.Error("the same module twice accepted")
	}
	if err := checkModules([]module.Module{good}); err != nil {
		t.Error(err)
	}
}

// TestActiveUserAndStorageMeters: the two meters plans sell that no module causes are recorded.
// A member's requests in their tenant count them once a month, on the API and in the console;
// the prefecture reading a county and operators do not count for the county. The daily storage
// sample records the tenant's size in MiB once a day.
func TestActiveUserAndStorageMeters(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			ctx := context.Background()
			a := f.app
			chuxiong, err := a.store.FindTenantBySlug(ctx, "chuxiong")
			if err != nil {
				t.Fatal(err)
			}
			usage := func(meter string) int64 {
				t.Helper()
				if err := a.billing.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				us, err := a.billing.FindUsage(ctx, billing.UsageFilter{Tenant: chuxiong.ID, Period: billing.Month, Meter: meter})
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				for _, u := range us {
					n += u.Quantity
				}
				return n
			}
			base := usage(billing.MeterActiveUsers) // newFixture's own setting write as adminA
			for _, who := range []string{"adminA", "adminA", "inspectorA", "viewer", "operator", "support"} {
				if res, err := f.do(t, who, "GET", "/api/v1/t/chuxiong/settings", ""); err != nil || res.status != 200 {
					t.Fatalf("%s reads settings: %v %v", who, res, err)
				}
			}
			inspectorA, _ := webLogin(t, f, "inspectorA")
			webPage(t, f, inspectorA, "", "GET", "/t/chuxiong/cases", nil)
			if got := usage(billing.MeterActiveUsers); got != 2 || base > 1 {
				t.Fatalf("active users of chuxiong: %d (before: %d), want 2: adminA and inspectorA", got, base)
			}

			a.sampleStorage(ctx)
			first := usage(billing.MeterStorage)
			if first < 1 {
				t.Fatalf("storage sample of chuxiong: %d MiB-days, want at least 1", first)
			}
			a.sampleStorage(ctx)
			if again := usage(billing.MeterStorage); again != first {
				t.Fatalf("a second sample the same day counted: %d, want %d", again, first)
			}
		})
	}
}

// TestModuleCommandsAndDemo: a module's commands run under "cityops <module>", against its
// migrated table, and the demo seeds its sample data.
func TestModuleCommandsAndDemo(t *testing.T) {
	t.Setenv("CITYOPS_DATA_DIR", t.TempDir())
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	extra := []module.Module{moduletest.Noticeboard()}
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := runRoot(context.Background(), newRootCommand(strings.NewReader(""), &out, &errb, extra), args, &out, &errb)
		return out.String(), errb.String(), code
	}
	if _, e, code := run("noticeboard", "post", "nowhere", "x"); code == 0 || !strings.Contains(e, "nowhere") {
		t.Fatalf("post to an unknown tenant: %d %s", code, e)
	}
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Modules: extra})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SeedDemo(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if out, e, code := run("noticeboard", "post", "chuxiong", "CLI-NOTICE"); code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("noticeboard post: %d %q %s", code, out, e)
	}
	if _, e, code := run("noticeboard", "post", "chuxiong"); code == 0 || !strings.Contains(e, "accepts 2 arg") {
		t.Fatalf("post without its text: %d %s", code, e)
	}
	a, err = New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Modules: extra})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	chuxiong, err := a.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	err = a.store.Tx(tenants.WithScope(ctx, tenants.SystemScope(chuxiong)), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Table("notices").Column("text").OrderExpr("posted_at").Scan(ctx, &texts)
	})
	if err != nil || len(texts) != 2 || texts[0] != "欢迎使用公告栏。" || texts[1] != "CLI-NOTICE" {
		t.Fatalf("notices of the demo's chuxiong: %q %v, want the demo's and the command's", texts, err)
	}
}
