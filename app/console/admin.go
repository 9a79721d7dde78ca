package console

// The county admin's console (/t/:tenant/admin): departments and staff, users and posts, grids,
// categories and the 立结案标准, the work calendar, stage time limits, integration credentials,
// the modules of the plan and the data export. Every page and form is for the tenant's admins only; the actions
// call the same services as the API and are audited the same way.

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
)

// AdminDeps are what the county admin's console uses: the same services as the API.
type AdminDeps struct {
	UI    *UI
	Store *tenants.Store
	Log   *slog.Logger
	// Org, Grids, Catalog and Calendar are the shared platform modules' services.
	Org      *org.Service
	Grids    *grids.Service
	Catalog  *catalog.Service
	Calendar *calendar.Service
	// Cases holds the stage time limits.
	Cases *cases.Service
	// Secrets holds the integration credentials (write-only on the pages).
	Secrets secrets.Store
	// Billing says which modules the plan turns on.
	Billing *billing.Service
	// BaseURL starts the invitation links shown (the request's own when empty).
	BaseURL string
	// MapTiles is the maps' base layer (CITYOPS_MAP_TILES), shown on the integrations page.
	MapTiles string
	// ExportDir is where downloads of the export are spooled (api.SendExport).
	ExportDir string
}

// MountAdmin adds a county admin's settings to r, the /t/:tenant group that already resolves the
// tenant scope; every page and form needs the tenant_admin role.
func MountAdmin(r fiber.Router, d AdminDeps) {
	home, o, data := &adminPages{d}, &adminOrgPages{d}, &adminDataPages{d}
	admin := module.NeedRole(tenants.TenantAdmin)
	get := func(path string, h fiber.Handler) { r.Get("/admin"+path, admin, h) }
	post := func(path string, h fiber.Handler) { r.Post("/admin"+path, admin, h) }
	page := func(p adminPage) fiber.Handler { return func(c *fiber.Ctx) error { return p(c, fiber.Map{}) } }

	get("", home.home)

	get("/org", page(o.orgPage))
	post("/departments", o.createDepartment)
	post("/departments/:id", o.updateDepartment)
	post("/departments/:id/delete", o.deleteDepartment)
	post("/staff", o.createStaff)
	post("/staff/:id", o.updateStaff)
	post("/staff/:id/delete", o.deleteStaff)

	get("/users", page(o.usersPage))
	post("/invitations", o.invite)
	post("/members/:id", o.updateRoles)
	post("/members/:id/remove", o.removeMember)

	get("/grids", page(data.gridsPage))
	post("/grids/import", data.importForm(adminGridsImport))
	post("/grids/:code", data.renameGrid)
	post("/boundary", data.putBoundary)
	post("/boundary/delete", data.deleteBoundary)
	post("/responsibility", data.putResponsibility)
	post("/responsibility/:code/delete", data.deleteResponsibility)

	get("/catalog", page(data.catalogPage))
	post("/classes", data.createClass)
	post("/classes/:kind/:code/delete", data.deleteClass)
	post("/classes/sync", data.syncClasses)
	post("/standards/import", data.importForm(adminStandardsImport))

	get("/calendar", page(data.calendarPage))
	post("/calendar", data.putCalendar)
	post("/calendar/import", data.importForm(adminCalendarImport))

	get("/stages", page(data.stagesPage))
	post("/stages/:stage", data.putStage)

	get("/integrations", page(home.integrationsPage))
	post("/credentials", home.putCredential)
	post("/credentials/:name/delete", home.deleteCredential)
	post("/map-tiles", home.putTileSource)
	post("/public-map", home.putPublicMap)

	get("/modules", home.modules)

	get("/export", page(home.exportPage))
	get("/export/download", home.download)
	post("/export", home.exportClear)
	post("/export/waiver", home.waive)
}

// The Admin… types and functions below and in admin_org.go and admin_data.go are the pages' data
// as the templates read it; they are exported for the page samples of TestEveryPageRenders.

// adminPages are the overview, the integration credentials and the modules of the plan.
type adminPages struct{ AdminDeps }

// adminBase is the admin console's address in the request's tenant.
func adminBase(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug + "/admin" }

// adminDone is done for targets with a #fragment: the message goes in the query, before it.
func adminDone(c *fiber.Ctx, target, messageKey string) error {
	path, frag, ok := strings.Cut(target, "#")
	if !ok {
		return Done(c, target, messageKey)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect(path+sep+"done="+url.QueryEscape(messageKey)+"#"+frag, fiber.StatusSeeOther)
}

// adminPage loads a page's data into data (which may already hold a failed form's message and
// values) and renders it.
type adminPage func(c *fiber.Ctx, data fiber.Map) error

// adminFail re-renders page after a failed form: a 4xx with the message (data may carry the
// values sent, to fill the form again), or the error page for an internal error.
func adminFail(c *fiber.Ctx, err error, page adminPage, data fiber.Map) error {
	msg, err := FormError(c, err)
	if err != nil {
		return err
	}
	if data == nil {
		data = fiber.Map{}
	}
	data["Error"] = msg
	return page(c, data)
}

// adminFinish ends a form action that needs nothing from its result: a failed action re-renders
// page with the message (and data); a successful one (which the service audited) redirects to
// back, below /admin, with the message key.
func adminFinish(c *fiber.Ctx, err error, page adminPage, data fiber.Map, back, msg string) error {
	if err != nil {
		return adminFail(c, err, page, data)
	}
	return adminDone(c, adminBase(c)+back, msg)
}

// adminFormID reads an optional id field ("" → nil).
func adminFormID(c *fiber.Ctx, name string) *string {
	if v := strings.TrimSpace(c.FormValue(name)); v != "" {
		return &v
	}
	return nil
}

// adminFormValues returns every value of a repeated form field (checkboxes, multiple selects).
func adminFormValues(c *fiber.Ctx, name string) []string {
	var out []string
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		out = append(out, mf.Value[name]...)
	} else {
		for _, v := range c.Request().PostArgs().PeekMulti(name) {
			out = append(out, string(v))
		}
	}
	return out
}

// --- overview ---

// AdminCount is one line of the overview: a section, what it holds, and where to change it.
type AdminCount struct {
	Key, Href string
	Count     int
	Detail    string
	Warn      bool
}

func (p *adminPages) home(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sc := module.Scope(c)
	base := adminBase(c)
	l := Lang(c)
	depts, err := p.Org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	staff, err := p.Org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	members, err := p.Store.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	invs, err := p.Store.FindInvitations(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	gs, err := p.Grids.FindGrids(ctx, grids.Filter{})
	if err != nil {
		return err
	}
	levels := map[grids.Level]int{}
	for _, g := range gs {
		levels[g.Level]++
	}
	classes, err := p.Catalog.FindClasses(ctx, catalog.ClassFilter{})
	if err != nil {
		return err
	}
	ext := 0
	for _, cl := range classes {
		if cl.Origin != catalog.National {
			ext++
		}
	}
	standards, err := p.Catalog.FindStandards(ctx, catalog.StandardFilter{})
	if err != nil {
		return err
	}
	year := p.Store.Now().In(clock.China).Year()
	days, err := p.Calendar.FindDays(ctx, year)
	if err != nil {
		return err
	}
	limits, err := p.Cases.FindStageLimits(ctx)
	if err != nil {
		return err
	}
	own := 0
	for _, l := range limits {
		if !l.Default {
			own++
		}
	}
	creds, credErr := p.Secrets.ListCredentials(ctx, sc.Tenant.ID)
	on, modErr := 0, error(nil)
	var ent map[string]bool
	if p.Billing != nil {
		if e, err := p.Billing.FindEntitlements(ctx, sc.Tenant); err == nil {
			ent = e.Modules
		} else {
			modErr = err
		}
	}
	for _, v := range ent {
		if v {
			on++
		}
	}
	rows := []AdminCount{
		{Key: "admin.home.departments", Href: base + "/org", Count: len(depts), Warn: len(depts) == 0},
		{Key: "admin.home.staff", Href: base + "/org#staff", Count: len(staff), Warn: len(staff) == 0},
		{Key: "admin.home.users", Href: base + "/users", Count: len(members), Detail: adminTF(l, "admin.home.pending", len(invs))},
		{Key: "admin.home.grids", Href: base + "/grids", Count: len(gs), Detail: adminTF(l, "admin.home.gridlevels", levels[grids.Street], levels[grids.Community], levels[grids.Unit]), Warn: len(gs) == 0},
		{Key: "admin.home.classes", Href: base + "/catalog", Count: len(classes), Detail: adminTF(l, "admin.home.extensions", ext)},
		{Key: "admin.home.standards", Href: base + "/catalog#standards", Count: len(standards), Warn: len(standards) == 0},
		{Key: "admin.home.calendar", Href: base + "/calendar", Count: len(days), Detail: adminTF(l, "admin.home.year", year), Warn: len(days) == 0},
		{Key: "admin.home.stages", Href: base + "/stages", Count: len(limits), Detail: adminTF(l, "admin.home.ownlimits", own)},
		{Key: "admin.home.credentials", Href: base + "/integrations", Count: len(creds)},
		{Key: "admin.home.modules", Href: base + "/modules", Count: on, Detail: adminTF(l, "admin.home.modulesof", len(ent))},
	}
	if len(days) == 0 {
		rows[6].Detail = adminTF(l, "admin.home.noyear", year)
	}
	if credErr != nil {
		rows[8].Detail, rows[8].Warn = Translate(l, "admin.home.keysdown"), true
	}
	if modErr != nil {
		p.Log.Warn("admin overview: entitlements", "err", modErr, "tenant", sc.Tenant.Slug)
		rows[9].Detail, rows[9].Warn = Translate(l, "admin.home.unknown"), true
	}
	return p.UI.Render(c, "admin_home", fiber.Map{"Rows": rows})
}

// adminTF translates key and formats the result with args, as the template function does.
func adminTF(l, key string, args ...any) string {
	return fmt.Sprintf(Translate(l, key), args...)
}

// --- integrations ---

// AdminKnownCredentials are the credentials the platform itself uses, offered in the form.
func AdminKnownCredentials() []string {
	return []string{"tianditu", "sms_gateway", "exchange_province"}
}

func (p *adminPages) integrationsPage(c *fiber.Ctx, data fiber.Map) error {
	creds, err := p.Secrets.ListCredentials(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		data["Unavailable"] = errs.MessageOf(err)
	}
	data["Credentials"], data["Known"], data["Tiles"] = creds, AdminKnownCredentials(), p.MapTiles
	ctx := c.UserContext()
	if _, ok := data["TileSource"]; !ok {
		ts, err := p.Store.FindTileSource(ctx, tenants.DefaultTileSource(p.MapTiles))
		if err != nil {
			return err
		}
		data["TileSource"] = ts
	}
	if _, ok := data["PublicMap"]; !ok {
		pm, err := p.Store.FindPublicMap(ctx)
		if err != nil {
			return err
		}
		data["PublicMap"] = pm
	}
	// 天地图 chosen without a key: the maps are offline, and the page says so.
	data["NoTiandituKey"] = data["TileSource"].(tenants.TileSource).Kind == tenants.TilesTianditu && !slices.ContainsFunc(creds, func(c secrets.Credential) bool { return c.Name == "tianditu" })
	return p.UI.Render(c, "admin_integrations", data)
}

func (p *adminPages) putCredential(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	_, err := p.Secrets.PutCredential(c.UserContext(), module.Scope(c).Tenant.ID, name, c.FormValue("value"), module.Principal(c).Identity.Email)
	// On failure the form comes back with the name only: the value is never sent back.
	return adminFinish(c, err, p.integrationsPage, fiber.Map{"CredName": name}, "/integrations", "admin.integrations.saved")
}

func (p *adminPages) deleteCredential(c *fiber.Ctx) error {
	name := c.Params("name")
	err := p.Secrets.DeleteCredential(c.UserContext(), module.Scope(c).Tenant.ID, name)
	return adminFinish(c, err, p.integrationsPage, nil, "/integrations", "admin.integrations.deleted")
}

// --- modules ---

// AdminModule is one module of the plan: on or off, and whether the operator switched it for
// this tenant against the plan.
type AdminModule struct {
	Name     string
	On       bool
	Override bool
}

func (p *adminPages) modules(c *fiber.Ctx) error {
	e, err := p.Billing.FindEntitlements(c.UserContext(), module.Scope(c).Tenant)
	if err != nil {
		return err
	}
	rows := make([]AdminModule, 0, len(e.Modules))
	for m, on := range e.Modules {
		_, ov := e.Overrides[m]
		rows = append(rows, AdminModule{Name: m, On: on, Override: ov})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].On != rows[j].On {
			return rows[i].On
		}
		return rows[i].Name < rows[j].Name
	})
	return p.UI.Render(c, "admin_modules", fiber.Map{"Plan": e.Plan, "Modules": rows})
}
