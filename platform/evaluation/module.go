package evaluation

import (
	"context"
	"embed"
	"io/fs"

	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

// Entitlement is the plan module code that unlocks the evaluation.
const Entitlement = "evaluation"

//go:embed templates openapi.json migrations
var files embed.FS

// Classes names the problem classes of the top classes list (catalog.Service).
type Classes interface {
	FindClasses(ctx context.Context, f catalog.ClassFilter) ([]catalog.Class, error)
}

// Module is the evaluation's registration: its API (/evaluation…), its pages, its schemes and
// bulletins tables and indexes, the loop that publishes the bulletins due (Bulletins), and the
// loop that stores periods' totals (StoreTotals, tenant migrations evaluation.0003 and 0005). Plans
// sell it (Entitlement); members of the tenant and the prefecture read it, the tenant's admins
// set the weighting scheme and publish bulletins. The PDF bulletins are set in Kit.PDFFont.
func Module(s *Service, classes Classes, cs Cases) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "evaluation",
		Entitlement: Entitlement,
		Title:       msgTitle.ID(),
		Templates:   tpl,
		Migrations:  migs,
		OpenAPI:     api,
		Nav:         []module.Nav{{Path: "/evaluation", Label: "evaluation.nav"}},
		Build: func(k module.Kit) (module.Parts, error) {
			if k.Log != nil {
				s.log = k.Log.With("module", "evaluation")
			}
			b := NewBulletins(s, classes, k.PDFFont)
			h := &handlers{s: s, classes: classes, cases: cs, bulletins: b, k: k}
			return module.Parts{
				API: func(r module.Router) {
					r.Get("/evaluation", h.apiReport)
					r.Get("/evaluation/cases", h.apiBehind)
					r.Get("/evaluation/units", h.apiUnits)
					r.Get("/evaluation/satisfaction", h.apiSatisfaction)
					r.Get("/evaluation/schemes", h.apiSchemes)
					r.Post("/evaluation/schemes", module.NeedRole(tenants.TenantAdmin), h.apiPutScheme)
					r.Get("/evaluation/bulletins", h.apiBulletins)
					r.Post("/evaluation/bulletins", module.NeedRole(tenants.TenantAdmin), h.apiPublishBulletin)
					r.Get("/evaluation/bulletins/:id.xlsx", h.bulletinFile("xlsx"))
					r.Get("/evaluation/bulletins/:id.pdf", h.bulletinFile("pdf"))
				},
				Console: func(r module.Router) {
					r.Get("/evaluation", h.page)
					r.Get("/evaluation/cases", h.behindPage)
					r.Get("/evaluation/screen", h.screenPage)
					r.Get("/evaluation/live", h.liveFeed)
					r.Post("/evaluation/schemes", module.NeedRole(tenants.TenantAdmin), h.putSchemeForm)
					r.Post("/evaluation/bulletins", module.NeedRole(tenants.TenantAdmin), h.publishBulletinForm)
				},
				Background: []module.Loop{{Name: "bulletins", Run: func(ctx context.Context) { b.runSchedule(ctx, k) }},
					{Name: "totals", Run: func(ctx context.Context) { s.runTotals(ctx, k) }}},
			}, nil
		},
	}
}
