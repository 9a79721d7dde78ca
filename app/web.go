package app

import (
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// webRoutes mounts the console: the account pages, the operations console, a tenant's pages
// (workspace, admin, prefecture overview, billing and the modules' pages) and citizens' public
// report pages, each a console package handler with its own deps.
func (a *App) webRoutes(f *fiber.App) {
	ssoDeps := console.SSODeps{UI: a.web, Store: a.store, SSO: a.sso, Log: a.log, SecureCookies: a.cfg.secureCookies()}
	tenantHome := console.MountAccount(f, console.AccountDeps{
		UI: a.web, Store: a.store, SecureCookies: a.cfg.secureCookies(),
		SameOrigin: a.gate.sameOrigin, CSRF: a.gate.csrf, NeedLogin: a.gate.needLogin,
		LoginButtons: console.MountSSO(f, ssoDeps), Logout: a.sso.LogoutURL,
	})
	console.MountOps(f.Group("/ops", a.gate.needOperator(), a.gate.csrf), console.OpsDeps{
		UI: a.web, Store: a.store, Prov: a.prov, Billing: a.billing, Runs: a.jobs, Statements: a.statements(),
		BaseURL: a.cfg.BaseURL, ExportDir: a.exportDir(), Archives: a.blobs,
		NeedAdmin: a.gate.needOperator(tenants.OperatorAdmin), NeedBilling: a.gate.needOperator(tenants.OperatorAdmin, tenants.OperatorBilling),
		Exchange: a.platform.exchange,
	})
	tw := f.Group("/t/:tenant", a.gate.needLogin, a.gate.csrf, a.gate.tenantScope)
	tw.Get("/", tenantHome)
	console.MountSSOAdmin(tw, f.Group("/ops/sso", a.gate.needOperator(tenants.OperatorAdmin), a.gate.csrf), ssoDeps)
	console.MountAdmin(tw, console.AdminDeps{
		UI: a.web, Store: a.store, Log: a.log,
		Org: a.platform.org, Grids: a.platform.grids, Catalog: a.platform.catalog, Calendar: a.platform.calendar,
		Cases: a.cases, Secrets: a.secrets, Billing: a.billing, BaseURL: a.cfg.BaseURL, MapTiles: a.cfg.MapTiles,
		ExportDir: a.exportDir(),
	})
	wsDeps := console.WorkspaceDeps{
		UI: a.web, Store: a.store, Log: a.log, Cases: a.cases, Catalog: a.platform.catalog, Org: a.platform.org,
		Surveys: a.open311,
	}
	console.MountWorkspace(tw, wsDeps)
	console.MountField(tw, wsDeps)
	// The prefecture overview reads every county through its own scope, auditing each as the
	// tenant scope middleware does.
	console.MountPrefecture(tw, console.PrefectureDeps{UI: a.web, Store: a.store, Cases: a.cases, Log: a.log, AuditCrossRead: a.store.AuditCrossRead})
	console.MountBilling(tw, console.BillingDeps{UI: a.web, Store: a.store, Billing: a.billing, Statements: a.statements()})
	a.modules.consoleRoutes(tw)
	console.MountPublic(f.Group("/r/:tenant"), console.PublicDeps{
		UI: a.web, Store: a.store, Open311: a.open311, Cases: a.cases, Grids: a.platform.grids,
		LimitStore: func() fiber.Storage { return a.limitStore("public") },
	})
}
