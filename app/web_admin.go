package app

// The county admin's console (/t/:tenant/admin): departments and staff, users and posts, grids,
// categories and the 立结案标准, the work calendar, stage time limits, integration credentials
// and the modules of the plan. Every page and form is for the tenant's admins only; the actions
// call the same services as the API and are audited the same way.

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// webAdminRoutes registers a county admin's settings.
func (a *App) webAdminRoutes(r fiber.Router) {
	admin := a.needRole(tenants.TenantAdmin)
	get := func(path string, h fiber.Handler) { r.Get("/admin"+path, admin, h) }
	post := func(path string, h fiber.Handler) { r.Post("/admin"+path, admin, h) }

	get("", a.webAdminHome)

	get("/org", func(c *fiber.Ctx) error { return a.adminOrgPage(c, fiber.Map{}) })
	post("/departments", a.webAdminCreateDepartment)
	post("/departments/:id", a.webAdminUpdateDepartment)
	post("/departments/:id/delete", a.webAdminDeleteDepartment)
	post("/staff", a.webAdminCreateStaff)
	post("/staff/:id", a.webAdminUpdateStaff)
	post("/staff/:id/delete", a.webAdminDeleteStaff)

	get("/users", func(c *fiber.Ctx) error { return a.adminUsersPage(c, fiber.Map{}) })
	post("/invitations", a.webAdminInvite)
	post("/members/:id", a.webAdminSetRoles)
	post("/members/:id/remove", a.webAdminRemoveMember)

	get("/grids", func(c *fiber.Ctx) error { return a.adminGridsPage(c, fiber.Map{}) })
	post("/grids/import", a.webAdminImport(adminGridsImport))
	post("/grids/:code", a.webAdminRenameGrid)
	post("/boundary", a.webAdminPutBoundary)
	post("/boundary/delete", a.webAdminDeleteBoundary)
	post("/responsibility", a.webAdminPutResponsibility)
	post("/responsibility/:code/delete", a.webAdminDeleteResponsibility)

	get("/catalog", func(c *fiber.Ctx) error { return a.adminCatalogPage(c, fiber.Map{}) })
	post("/classes", a.webAdminCreateClass)
	post("/classes/:kind/:code/delete", a.webAdminDeleteClass)
	post("/classes/sync", a.webAdminSyncClasses)
	post("/standards/import", a.webAdminImport(adminStandardsImport))

	get("/calendar", func(c *fiber.Ctx) error { return a.adminCalendarPage(c, fiber.Map{}) })
	post("/calendar", a.webAdminPutCalendar)
	post("/calendar/import", a.webAdminImport(adminCalendarImport))

	get("/stages", func(c *fiber.Ctx) error { return a.adminStagesPage(c, fiber.Map{}) })
	post("/stages/:stage", a.webAdminPutStage)

	get("/integrations", func(c *fiber.Ctx) error { return a.adminIntegrationsPage(c, fiber.Map{}) })
	post("/credentials", a.webAdminPutCredential)
	post("/credentials/:name/delete", a.webAdminDeleteCredential)

	get("/modules", a.webAdminModules)
}

// adminBase is the admin console's address in the request's tenant.
func adminBase(c *fiber.Ctx) string { return "/t/" + scope(c).Tenant.Slug + "/admin" }

// adminDone is done for targets with a #fragment: the message goes in the query, before it.
func adminDone(c *fiber.Ctx, target, messageKey string) error {
	path, frag, ok := strings.Cut(target, "#")
	if !ok {
		return console.Done(c, target, messageKey)
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
	msg, err := console.FormError(c, err)
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

// adminCount is one line of the overview: a section, what it holds, and where to change it.
type adminCount struct {
	Key, Href string
	Count     int
	Detail    string
	Warn      bool
}

func (a *App) webAdminHome(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sc := scope(c)
	base := adminBase(c)
	l := console.Lang(c)
	depts, err := a.platform.org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	staff, err := a.platform.org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	members, err := a.store.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	invs, err := a.store.FindInvitations(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	gs, err := a.platform.grids.FindGrids(ctx, grids.Filter{})
	if err != nil {
		return err
	}
	levels := map[grids.Level]int{}
	for _, g := range gs {
		levels[g.Level]++
	}
	classes, err := a.platform.catalog.FindClasses(ctx, catalog.ClassFilter{})
	if err != nil {
		return err
	}
	ext := 0
	for _, cl := range classes {
		if cl.Origin != catalog.National {
			ext++
		}
	}
	standards, err := a.platform.catalog.FindStandards(ctx, catalog.StandardFilter{})
	if err != nil {
		return err
	}
	year := a.store.Now().In(clock.China).Year()
	days, err := a.platform.calendar.FindDays(ctx, year)
	if err != nil {
		return err
	}
	limits, err := a.cases.FindStageLimits(ctx)
	if err != nil {
		return err
	}
	own := 0
	for _, l := range limits {
		if !l.Default {
			own++
		}
	}
	creds, credErr := a.secrets.ListCredentials(ctx, sc.Tenant.ID)
	on, modErr := 0, error(nil)
	var ent map[string]bool
	if a.billing != nil {
		if e, err := a.billing.FindEntitlements(ctx, sc.Tenant); err == nil {
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
	rows := []adminCount{
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
		rows[8].Detail, rows[8].Warn = console.Translate(l, "admin.home.keysdown"), true
	}
	if modErr != nil {
		a.log.Warn("admin overview: entitlements", "err", modErr, "tenant", sc.Tenant.Slug)
		rows[9].Detail, rows[9].Warn = console.Translate(l, "admin.home.unknown"), true
	}
	return a.web.Render(c, "admin_home", fiber.Map{"Rows": rows})
}

// adminTF translates key and formats the result with args, as the template function does.
func adminTF(l, key string, args ...any) string {
	return fmt.Sprintf(console.Translate(l, key), args...)
}

// --- departments and staff ---

// adminKnownCredentials are the credentials the platform itself uses, offered in the form.
var adminKnownCredentials = []string{"tianditu", "sms_gateway", "province_platform"}

func (a *App) adminIntegrationsPage(c *fiber.Ctx, data fiber.Map) error {
	creds, err := a.secrets.ListCredentials(c.UserContext(), scope(c).Tenant.ID)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		data["Unavailable"] = errs.MessageOf(err)
	}
	data["Credentials"], data["Known"], data["Tiles"] = creds, adminKnownCredentials, a.cfg.MapTiles
	return a.web.Render(c, "admin_integrations", data)
}

func (a *App) webAdminPutCredential(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	_, err := a.secrets.PutCredential(c.UserContext(), scope(c).Tenant.ID, name, c.FormValue("value"), principal(c).Identity.Email)
	// On failure the form comes back with the name only: the value is never sent back.
	return adminFinish(c, err, a.adminIntegrationsPage, fiber.Map{"CredName": name}, "/integrations", "admin.integrations.saved")
}

func (a *App) webAdminDeleteCredential(c *fiber.Ctx) error {
	name := c.Params("name")
	err := a.secrets.DeleteCredential(c.UserContext(), scope(c).Tenant.ID, name)
	return adminFinish(c, err, a.adminIntegrationsPage, nil, "/integrations", "admin.integrations.deleted")
}

// --- modules ---

// adminModule is one module of the plan: on or off, and whether the operator switched it for
// this tenant against the plan.
type adminModule struct {
	Name     string
	On       bool
	Override bool
}

func (a *App) webAdminModules(c *fiber.Ctx) error {
	e, err := a.billing.FindEntitlements(c.UserContext(), scope(c).Tenant)
	if err != nil {
		return err
	}
	rows := make([]adminModule, 0, len(e.Modules))
	for m, on := range e.Modules {
		_, ov := e.Overrides[m]
		rows = append(rows, adminModule{Name: m, On: on, Override: ov})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].On != rows[j].On {
			return rows[i].On
		}
		return rows[i].Name < rows[j].Name
	})
	return a.web.Render(c, "admin_modules", fiber.Map{"Plan": e.Plan, "Modules": rows})
}
