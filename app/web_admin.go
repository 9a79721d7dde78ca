package app

// The county admin's console (/t/:tenant/admin): departments and staff, users and posts, grids,
// categories and the 立结案标准, the work calendar, stage time limits, integration credentials
// and the modules of the plan. Every page and form is for the tenant's admins only; the actions
// call the same services as the API and are audited the same way.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
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
		return done(c, target, messageKey)
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
	msg, err := formError(c, err)
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
	l := lang(c)
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
		rows[8].Detail, rows[8].Warn = translate(l, "admin.home.keysdown"), true
	}
	if modErr != nil {
		a.log.Warn("admin overview: entitlements", "err", modErr, "tenant", sc.Tenant.Slug)
		rows[9].Detail, rows[9].Warn = translate(l, "admin.home.unknown"), true
	}
	return a.render(c, "admin_home", fiber.Map{"Rows": rows})
}

// adminTF translates key and formats the result with args, as the template function does.
func adminTF(l, key string, args ...any) string { return fmt.Sprintf(translate(l, key), args...) }

// --- departments and staff ---

// adminDept is a department in the tree with its sub-departments and staff count.
type adminDept struct {
	org.Department
	Parent   string // the parent's id, "" at the top
	Children []*adminDept
	Staff    int
}

// adminStaffView is a staff member (or the new-staff form) as the page shows it.
type adminStaffView struct {
	ID, Name, Phone, DepartmentID, IdentityID string
	Posts                                     []org.Post
	Active                                    bool
}

// Holds reports whether the staff member holds post p (a form's checkbox).
func (v adminStaffView) Holds(p org.Post) bool { return slices.Contains(v.Posts, p) }

func adminDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func adminStaffViewOf(id string, in org.StaffInput) adminStaffView {
	return adminStaffView{ID: id, Name: in.Name, Phone: in.Phone, DepartmentID: adminDeref(in.DepartmentID), IdentityID: adminDeref(in.IdentityID),
		Posts: in.Posts, Active: in.Active == nil || *in.Active}
}

// adminDeptOption is a department in a parent or department select, indented by level.
type adminDeptOption struct {
	ID, Label string
	Level     int
}

func adminDepartmentTree(ds []org.Department, staff []org.Staff) ([]*adminDept, []adminDeptOption, map[string]string) {
	nodes := map[string]*adminDept{}
	names := map[string]string{}
	for i := range ds {
		nodes[ds[i].ID] = &adminDept{Department: ds[i], Parent: adminDeref(ds[i].ParentID)}
		names[ds[i].ID] = ds[i].Name
	}
	for _, s := range staff {
		if s.DepartmentID != nil && nodes[*s.DepartmentID] != nil {
			nodes[*s.DepartmentID].Staff++
		}
	}
	var roots []*adminDept
	for i := range ds { // by level then code, so parents come first
		n := nodes[ds[i].ID]
		if p := ds[i].ParentID; p != nil && nodes[*p] != nil {
			nodes[*p].Children = append(nodes[*p].Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var opts []adminDeptOption
	var walk func([]*adminDept)
	walk = func(ns []*adminDept) {
		for _, n := range ns {
			opts = append(opts, adminDeptOption{ID: n.ID, Label: strings.Repeat("　", n.Level-1) + n.Name + " (" + n.Code + ")", Level: n.Level})
			walk(n.Children)
		}
	}
	walk(roots)
	return roots, opts, names
}

func (a *App) adminOrgPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	ds, err := a.platform.org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	staff, err := a.platform.org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	members, err := a.store.FindMembers(ctx, scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	emails := map[string]string{}
	for _, m := range members {
		emails[m.Identity.ID.String()] = m.Identity.Email
	}
	tree, opts, names := adminDepartmentTree(ds, staff)
	views := make([]adminStaffView, len(staff))
	for i, s := range staff {
		views[i] = adminStaffView{ID: s.ID, Name: s.Name, Phone: s.Phone, DepartmentID: adminDeref(s.DepartmentID), IdentityID: adminDeref(s.IdentityID), Posts: s.Posts, Active: s.Active}
	}
	if data["StaffForm"] == nil {
		form := adminStaffView{Active: true}
		// ?identity= (from the users page) fills the new staff form for that member: their name,
		// their login and the posts their roles name.
		for _, m := range members {
			if m.Identity.ID.String() == c.Query("identity") {
				form.Name, form.IdentityID = m.Identity.Name, m.Identity.ID.String()
				if form.Name == "" {
					form.Name, _, _ = strings.Cut(m.Identity.Email, "@")
				}
				for _, r := range m.Roles {
					if slices.Contains(org.Posts, org.Post(r)) {
						form.Posts = append(form.Posts, org.Post(r))
					}
				}
			}
		}
		data["StaffForm"] = form
	}
	data["Tree"], data["Departments"], data["DeptNames"] = tree, opts, names
	data["Staff"], data["Members"], data["Emails"], data["Posts"] = views, members, emails, org.Posts
	return a.render(c, "admin_org", data)
}

func adminDepartmentForm(c *fiber.Ctx) org.DepartmentInput {
	return org.DepartmentInput{Code: c.FormValue("code"), Name: c.FormValue("name"), ParentID: adminFormID(c, "parent_id"), Phone: c.FormValue("phone")}
}

func (a *App) webAdminCreateDepartment(c *fiber.Ctx) error {
	in := adminDepartmentForm(c)
	if _, err := a.platform.org.CreateDepartment(c.UserContext(), in); err != nil {
		return adminFail(c, err, a.adminOrgPage, fiber.Map{"DeptForm": in})
	}
	return adminDone(c, adminBase(c)+"/org", "admin.org.created")
}

func (a *App) webAdminUpdateDepartment(c *fiber.Ctx) error {
	in := adminDepartmentForm(c)
	_, err := a.platform.org.UpdateDepartment(c.UserContext(), c.Params("id"), in)
	return adminFinish(c, err, a.adminOrgPage, nil, "/org", "admin.org.updated")
}

func (a *App) webAdminDeleteDepartment(c *fiber.Ctx) error {
	err := a.platform.org.DeleteDepartment(c.UserContext(), c.Params("id"))
	return adminFinish(c, err, a.adminOrgPage, nil, "/org", "admin.org.deleted")
}

func adminStaffForm(c *fiber.Ctx) org.StaffInput {
	in := org.StaffInput{IdentityID: adminFormID(c, "identity_id"), Name: c.FormValue("name"), Phone: c.FormValue("phone"), DepartmentID: adminFormID(c, "department_id")}
	for _, p := range adminFormValues(c, "posts") {
		in.Posts = append(in.Posts, org.Post(p))
	}
	active := c.FormValue("active") == "true"
	in.Active = &active
	return in
}

func (a *App) webAdminCreateStaff(c *fiber.Ctx) error {
	in := adminStaffForm(c)
	if _, err := a.platform.org.CreateStaff(c.UserContext(), in); err != nil {
		return adminFail(c, err, a.adminOrgPage, fiber.Map{"StaffForm": adminStaffViewOf("", in)})
	}
	return adminDone(c, adminBase(c)+"/org#staff", "admin.staff.created")
}

func (a *App) webAdminUpdateStaff(c *fiber.Ctx) error {
	in := adminStaffForm(c)
	if _, err := a.platform.org.UpdateStaff(c.UserContext(), c.Params("id"), in); err != nil {
		return adminFail(c, err, a.adminOrgPage, nil)
	}
	return adminDone(c, adminBase(c)+"/org#staff", "admin.staff.updated")
}

func (a *App) webAdminDeleteStaff(c *fiber.Ctx) error {
	err := a.platform.org.DeleteStaff(c.UserContext(), c.Params("id"))
	return adminFinish(c, err, a.adminOrgPage, nil, "/org#staff", "admin.staff.deleted")
}

// --- users and posts ---

// adminTenantRoles are the roles a member of t may hold.
func adminTenantRoles(t *tenants.Tenant) []tenants.Role {
	var out []tenants.Role
	for _, r := range tenants.TenantRoles {
		if tenants.ValidTenantRole(r, t.Kind) == nil {
			out = append(out, r)
		}
	}
	return out
}

// adminMember is a member of the tenant as the users page shows it.
type adminMember struct {
	*tenants.Member
	ID string
}

// Holds reports whether the member holds role r (a form's checkbox).
func (m adminMember) Holds(r tenants.Role) bool { return slices.Contains(m.Roles, r) }

func (a *App) adminUsersPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	sc := scope(c)
	members, err := a.store.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	invs, err := a.store.FindInvitations(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	staff, err := a.platform.org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	linked := map[string]bool{}
	for _, s := range staff {
		if s.IdentityID != nil {
			linked[*s.IdentityID] = true
		}
	}
	views := make([]adminMember, len(members))
	for i, m := range members {
		views[i] = adminMember{Member: m, ID: m.Identity.ID.String()}
	}
	data["Members"], data["Invitations"], data["Roles"], data["Linked"] = views, invs, adminTenantRoles(sc.Tenant), linked
	data["Self"] = principal(c).Identity.ID.String()
	if data["InviteForm"] == nil {
		data["InviteForm"] = fiber.Map{"Role": string(tenants.Inspector)} // the most common post, not admin
	}
	return a.render(c, "admin_users", data)
}

func (a *App) webAdminInvite(c *fiber.Ctx) error {
	email, name, role := c.FormValue("email"), c.FormValue("name"), tenants.Role(c.FormValue("role"))
	inv, token, err := a.store.Invite(c.UserContext(), scope(c).Tenant, email, name, role)
	if err != nil {
		return adminFail(c, err, a.adminUsersPage, fiber.Map{"InviteForm": fiber.Map{"Email": email, "Name": name, "Role": string(role)}})
	}
	// The token is shown once, here: there is no mail; the admin hands the link over.
	base := a.cfg.BaseURL
	if base == "" {
		base = c.BaseURL()
	}
	c.Status(fiber.StatusCreated)
	return a.adminUsersPage(c, fiber.Map{"Invited": inv, "InviteURL": base + "/invite/" + token, "Flash": translate(lang(c), "admin.users.invited")})
}

func (a *App) adminSetRoles(c *fiber.Ctx, roles []tenants.Role, msg string) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errs.E(errs.NotFound, msgNoMember, c.Params("id"))
	}
	if err := a.store.SetMemberRoles(c.UserContext(), scope(c).Tenant, id, roles); err != nil {
		return adminFail(c, err, a.adminUsersPage, nil)
	}
	return adminDone(c, adminBase(c)+"/users", msg)
}

func (a *App) webAdminSetRoles(c *fiber.Ctx) error {
	roles := []tenants.Role{}
	for _, r := range adminFormValues(c, "roles") {
		roles = append(roles, tenants.Role(r))
	}
	if len(roles) == 0 {
		return adminFail(c, errs.Field("roles", msgChooseLeastOnePostRemove), a.adminUsersPage, nil)
	}
	return a.adminSetRoles(c, roles, "admin.users.updated")
}

func (a *App) webAdminRemoveMember(c *fiber.Ctx) error {
	return a.adminSetRoles(c, []tenants.Role{}, "admin.users.removed")
}

// --- uploads (grids, standards, calendar) ---

// adminImport is one of the console's import forms: the API's accepted media types, the page it
// belongs to, and the service call (the same as the API's).
type adminImport struct {
	accept []string
	page   func(a *App) adminPage
	back   string
	run    func(a *App) module.Importer
}

var (
	adminGridsImport = adminImport{accept: []string{"application/geo+json", "application/json"},
		page: func(a *App) adminPage { return a.adminGridsPage }, back: "/grids",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, _ string, dry bool) (*tabular.Report, error) {
				return a.platform.grids.Import(c.UserContext(), data, dry)
			}
		}}
	adminStandardsImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(a *App) adminPage { return a.adminCatalogPage }, back: "/catalog#standards",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				return a.platform.catalog.ImportStandards(c.UserContext(), data, tabular.Format(format), dry)
			}
		}}
	adminCalendarImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(a *App) adminPage { return a.adminCalendarPage }, back: "/calendar",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				year, err := strconv.Atoi(c.FormValue("year"))
				if err != nil {
					return nil, errs.Field("year", msgGiveYearBeingImportedSuch)
				}
				return a.platform.calendar.ImportYear(c.UserContext(), year, data, format, dry)
			}
		}}
)

// adminImportView is what an import form shows after a check or a rejected import.
type adminImportView struct {
	Action   string // the form's path below /admin
	Report   *tabular.Report
	Checked  bool   // a dry run passed: offer to import the same file
	Data     string // the checked file, base64, sent back with the import
	Format   string
	Filename string
	Year     string
}

// webAdminImport serves an import form. The first step checks the file (a dry run: the
// row-by-row report, nothing written); when it passes, the page offers to import the very same
// file, which travels back in a hidden field and is checked again as it is imported, all or
// nothing. "mode=import" with a file imports at once.
func (a *App) webAdminImport(imp adminImport) fiber.Handler {
	return func(c *fiber.Ctx) error {
		page := imp.page(a)
		view := &adminImportView{Action: strings.TrimPrefix(c.Path(), adminBase(c)), Year: c.FormValue("year")}
		data, format, err := a.adminUpload(c, imp.accept, view)
		if err != nil {
			return adminFail(c, err, page, fiber.Map{"Import": view})
		}
		dry := c.FormValue("mode") != "import"
		rep, err := imp.run(a)(c, data, format, dry)
		var rej *tabular.Rejected
		if errors.As(err, &rej) {
			view.Report = rej.Report
			c.Status(fiber.StatusUnprocessableEntity)
			return page(c, fiber.Map{"Import": view, "Error": adminTF(lang(c), "admin.import.rejected", len(rej.Report.Problems))})
		}
		if err != nil {
			return adminFail(c, err, page, fiber.Map{"Import": view})
		}
		if dry {
			view.Report, view.Checked = rep, true
			view.Data, view.Format = base64.StdEncoding.EncodeToString(data), format
			return page(c, fiber.Map{"Import": view, "Preview": adminPreview(format, data)})
		}
		target := adminBase(c) + imp.back
		if view.Year != "" {
			target = adminBase(c) + imp.back + "?year=" + view.Year
		}
		return adminDone(c, target, "admin.import.done")
	}
}

// adminUpload returns the uploaded file (the form field "file") or, on the second step, the
// checked file sent back in the hidden field "data".
func (a *App) adminUpload(c *fiber.Ctx, accept []string, view *adminImportView) ([]byte, string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		view.Filename = fh.Filename
		return module.ReadUpload(c, accept)
	}
	enc := c.FormValue("data")
	if enc == "" {
		return nil, "", errs.Field("file", msgChooseFileUpload)
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(data) == 0 {
		return nil, "", errs.Field("file", msgCheckedFileDidNotCome)
	}
	if err := module.CheckUploadSize(data); err != nil {
		return nil, "", err
	}
	format := c.FormValue("format")
	known := map[string]string{"geojson": "application/geo+json", "csv": "text/csv", "xlsx": module.XLSXType}
	if !slices.Contains(accept, known[format]) {
		return nil, "", errs.E(errs.Unsupported, msgCheckedFileFormatNotAccepted, format)
	}
	view.Filename = c.FormValue("filename")
	return data, format, nil
}

// adminPreview returns a checked GeoJSON file for the map (nil for tables).
func adminPreview(format string, data []byte) json.RawMessage {
	if format != "geojson" || !json.Valid(data) {
		return nil
	}
	return json.RawMessage(data)
}

// --- grids ---

// adminResp is a responsibility grid with its inspector's staff id ("" when none).
type adminResp struct {
	grids.ResponsibilityGrid
	Inspector string
}

func (a *App) adminGridsPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	sc := scope(c)
	level := grids.Level(c.Query("level"))
	switch level {
	case "", grids.Street, grids.Community, grids.Unit:
	default:
		level = ""
	}
	gs, err := a.platform.grids.FindGrids(ctx, grids.Filter{Level: level, Parent: c.Query("parent")})
	if err != nil {
		return err
	}
	const maxRows = 1000
	if len(gs) > maxRows {
		data["Truncated"], gs = len(gs), gs[:maxRows]
	}
	units, err := a.platform.grids.FindGrids(ctx, grids.Filter{Level: grids.Unit})
	if err != nil {
		return err
	}
	resp, err := a.platform.grids.FindResponsibilities(ctx)
	if err != nil {
		return err
	}
	inspectors, err := a.platform.org.FindStaff(ctx, org.StaffFilter{Post: org.Inspector})
	if err != nil {
		return err
	}
	staffNames := map[string]string{}
	for _, s := range inspectors {
		staffNames[s.ID] = s.Name
	}
	layers := []map[string]any{}
	b, err := a.platform.grids.FindBoundary(ctx)
	switch {
	case err == nil:
		// Loaded first; the grids, loaded after it, take the map's view when there are any.
		layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/boundary", "kind": "boundary", "fit": true})
		data["Boundary"] = adminBoundaryView{AreaKM2: b.AreaM2 / 1e6, BBox: b.BBox, UpdatedAt: b.UpdatedAt}
	case !errs.Is(err, errs.NotFound):
		return err
	}
	layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/grids.geojson", "kind": "grids", "fit": true})
	var preview []map[string]any
	if p, ok := data["Preview"].(json.RawMessage); ok && p != nil {
		preview = []map[string]any{{"data": p, "kind": "grids", "fit": true}}
	}
	rv := make([]adminResp, len(resp))
	for i, r := range resp {
		rv[i] = adminResp{ResponsibilityGrid: r, Inspector: adminDeref(r.InspectorID)}
	}
	data["Grids"], data["Units"], data["Resp"], data["Inspectors"], data["StaffNames"] = gs, units, rv, inspectors, staffNames
	data["Level"], data["Parent"] = string(level), c.Query("parent")
	data["Map"], data["Layers"], data["PreviewLayers"] = a.mapConfig(c), layers, preview
	return a.render(c, "admin_grids", data)
}

func (a *App) webAdminRenameGrid(c *fiber.Ctx) error {
	code := c.Params("code")
	if _, err := a.platform.grids.RenameGrid(c.UserContext(), code, c.FormValue("name")); err != nil {
		return adminFail(c, err, a.adminGridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids", "admin.grids.renamed")
}

// adminBoundaryView is the tenant's boundary as the grids page describes it.
type adminBoundaryView struct {
	AreaKM2   float64
	BBox      [4]float64
	UpdatedAt time.Time
}

func (a *App) webAdminPutBoundary(c *fiber.Ctx) error {
	if _, err := grids.PutUploadedBoundary(c, a.platform.grids); err != nil {
		return adminFail(c, err, a.adminGridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids#boundary", "admin.boundary.saved")
}

func (a *App) webAdminDeleteBoundary(c *fiber.Ctx) error {
	err := a.platform.grids.DeleteBoundary(c.UserContext())
	return adminFinish(c, err, a.adminGridsPage, nil, "/grids#boundary", "admin.boundary.deleted")
}

// adminSplitCodes reads grid codes separated by commas, spaces, semicolons or new lines.
func adminSplitCodes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func (a *App) webAdminPutResponsibility(c *fiber.Ctx) error {
	rg := grids.ResponsibilityGrid{Code: c.FormValue("code"), Name: c.FormValue("name"), InspectorID: adminFormID(c, "inspector_id"), Units: adminSplitCodes(c.FormValue("units"))}
	if _, err := a.platform.grids.PutResponsibility(c.UserContext(), rg); err != nil {
		return adminFail(c, err, a.adminGridsPage, fiber.Map{"RespForm": fiber.Map{"Code": rg.Code, "Name": rg.Name, "Units": rg.Units}})
	}
	return adminDone(c, adminBase(c)+"/grids#responsibility", "admin.grids.assigned")
}

func (a *App) webAdminDeleteResponsibility(c *fiber.Ctx) error {
	err := a.platform.grids.DeleteResponsibility(c.UserContext(), c.Params("code"))
	return adminFinish(c, err, a.adminGridsPage, nil, "/grids#responsibility", "admin.grids.unassigned")
}

// --- categories and standards ---

// adminClassGroup is a major class with its minor classes.
type adminClassGroup struct {
	Major  catalog.Class
	Minors []catalog.Class
}

func adminClassGroups(cs []catalog.Class, kind catalog.Kind) []adminClassGroup {
	var out []adminClassGroup
	idx := map[string]int{}
	for _, c := range cs {
		if c.Kind == kind && c.Level == "major" {
			idx[c.Code] = len(out)
			out = append(out, adminClassGroup{Major: c})
		}
	}
	for _, c := range cs {
		if c.Kind == kind && c.Level == "minor" {
			if i, ok := idx[c.MajorCode]; ok {
				out[i].Minors = append(out[i].Minors, c)
			}
		}
	}
	return out
}

// adminStandard is a 立结案标准 with its class's and department's names.
type adminStandard struct {
	catalog.Standard
	ClassName, Department string
}

func (a *App) adminCatalogPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	cs, err := a.platform.catalog.FindClasses(ctx, catalog.ClassFilter{})
	if err != nil {
		return err
	}
	var ext []catalog.Class
	names := map[string]string{}
	for _, cl := range cs {
		if cl.Origin != catalog.National {
			ext = append(ext, cl)
		}
		names[string(cl.Kind)+"/"+cl.Code] = cl.NameZH
	}
	standards, err := a.platform.catalog.FindStandards(ctx, catalog.StandardFilter{})
	if err != nil {
		return err
	}
	ds, err := a.platform.org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	depts := map[string]string{}
	for _, d := range ds {
		depts[d.ID] = d.Name
	}
	views := make([]adminStandard, len(standards))
	for i, st := range standards {
		views[i] = adminStandard{Standard: st, ClassName: names[string(st.Kind)+"/"+st.ClassCode], Department: depts[adminDeref(st.DepartmentID)]}
	}
	data["Extensions"], data["Standards"] = ext, views
	data["Components"], data["Events"] = adminClassGroups(cs, catalog.Component), adminClassGroups(cs, catalog.Event)
	data["HasParent"] = scope(c).Tenant.ParentID != nil
	return a.render(c, "admin_catalog", data)
}

func (a *App) webAdminCreateClass(c *fiber.Ctx) error {
	kind, _ := catalog.ParseKind(c.FormValue("kind"))
	in := catalog.ClassInput{Kind: kind, Code: c.FormValue("code"), NameZH: c.FormValue("name_zh"), NameEN: c.FormValue("name_en")}
	if _, err := a.platform.catalog.CreateClass(c.UserContext(), in); err != nil {
		return adminFail(c, err, a.adminCatalogPage, fiber.Map{"ClassForm": in})
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.created")
}

func (a *App) webAdminDeleteClass(c *fiber.Ctx) error {
	k, err := catalog.PathKind(c.Params("kind"))
	if err != nil {
		return err
	}
	err = a.platform.catalog.DeleteClass(c.UserContext(), k, c.Params("code"))
	return adminFinish(c, err, a.adminCatalogPage, nil, "/catalog", "admin.catalog.deleted")
}

func (a *App) webAdminSyncClasses(c *fiber.Ctx) error {
	if _, _, err := a.platform.catalog.SyncFromPrefecture(c.UserContext()); err != nil {
		return adminFail(c, err, a.adminCatalogPage, nil)
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.synced")
}

// --- work calendar ---

// adminDay is a special day as the page shows it.
type adminDay struct {
	calendar.Day
	Weekday time.Weekday
}

func (a *App) adminCalendarPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	st, err := a.platform.calendar.FindSettings(ctx)
	if err != nil {
		return err
	}
	year := c.QueryInt("year")
	if imp, ok := data["Import"].(*adminImportView); ok && imp.Year != "" {
		if y, err := strconv.Atoi(imp.Year); err == nil {
			year = y
		}
	}
	if year < 1949 || year > 2200 {
		year = a.store.Now().In(clock.China).Year()
	}
	days, err := a.platform.calendar.FindDays(ctx, year)
	if err != nil {
		return err
	}
	out := make([]adminDay, 0, len(days))
	holidays, workdays := 0, 0
	for _, d := range days {
		cd := adminDay{Day: d}
		if t, err := time.Parse("2006-01-02", d.Date); err == nil {
			cd.Weekday = t.Weekday()
		}
		if d.Kind == calendar.Holiday {
			holidays++
		} else {
			workdays++
		}
		out = append(out, cd)
	}
	weekend := map[int]bool{}
	for _, w := range st.Weekend {
		weekend[int(w)] = true
	}
	if f, ok := data["CalForm"].(calendar.Settings); ok {
		st.TimeZone, st.WorkingHours = f.TimeZone, f.WorkingHours
	}
	data["Settings"], data["Weekend"], data["Year"], data["Days"] = st, weekend, year, out
	data["Holidays"], data["Workdays"] = holidays, workdays
	data["Weekdays"] = []int{1, 2, 3, 4, 5, 6, 0}
	return a.render(c, "admin_calendar", data)
}

func (a *App) webAdminPutCalendar(c *fiber.Ctx) error {
	in := calendar.Settings{TimeZone: strings.TrimSpace(c.FormValue("time_zone")), WorkingHours: strings.TrimSpace(c.FormValue("working_hours"))}
	for _, w := range adminFormValues(c, "weekend") {
		if n, err := strconv.Atoi(w); err == nil && n >= 0 && n <= 6 {
			in.Weekend = append(in.Weekend, time.Weekday(n))
		}
	}
	if _, err := a.platform.calendar.UpdateSettings(c.UserContext(), in, principal(c).Identity.Email); err != nil {
		return adminFail(c, err, a.adminCalendarPage, fiber.Map{"CalForm": in})
	}
	return adminDone(c, adminBase(c)+"/calendar", "admin.calendar.saved")
}

// --- stage time limits ---

func (a *App) adminStagesPage(c *fiber.Ctx, data fiber.Map) error {
	ls, err := a.cases.FindStageLimits(c.UserContext())
	if err != nil {
		return err
	}
	data["Stages"] = ls
	data["Units"] = []calendar.Unit{calendar.WorkingHours, calendar.WorkingDays, calendar.UrgentHours}
	return a.render(c, "admin_stages", data)
}

func (a *App) webAdminPutStage(c *fiber.Ctx) error {
	var in cases.StageLimitInput
	amount, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue("amount")), 64)
	if err != nil {
		return adminFail(c, errs.Field("amount", msgLimitNotNumber, c.FormValue("amount")), a.adminStagesPage, nil)
	}
	in.Limit = &calendar.Limit{Amount: amount, Unit: calendar.Unit(c.FormValue("unit"))}
	if u := strings.TrimSpace(c.FormValue("urgent")); u != "" {
		v, err := strconv.ParseFloat(u, 64)
		if err != nil {
			return adminFail(c, errs.Field("urgent", msgLimitUrgentCasesNotNumber, u), a.adminStagesPage, nil)
		}
		in.Urgent = &calendar.Limit{Amount: v, Unit: calendar.UrgentHours}
	}
	if _, err := a.cases.PutStageLimit(c.UserContext(), cases.Stage(c.Params("stage")), in); err != nil {
		return adminFail(c, err, a.adminStagesPage, nil)
	}
	return adminDone(c, adminBase(c)+"/stages", "admin.stages.saved")
}

// --- integrations ---

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
	return a.render(c, "admin_integrations", data)
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
	return a.render(c, "admin_modules", fiber.Map{"Plan": e.Plan, "Modules": rows})
}
