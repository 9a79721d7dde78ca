package app

import (
	"slices"
	"strings"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

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
	return a.web.Render(c, "admin_org", data)
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
	return a.web.Render(c, "admin_users", data)
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
	return a.adminUsersPage(c, fiber.Map{"Invited": inv, "InviteURL": base + "/invite/" + token, "Flash": console.Translate(console.Lang(c), "admin.users.invited")})
}

func (a *App) adminSetRoles(c *fiber.Ctx, roles []tenants.Role, msg string) error {
	id, err := api.MemberID(c)
	if err != nil {
		return err
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
