package console

import (
	"slices"
	"strings"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// adminOrgPages are the departments and staff, and the users and their posts.
type adminOrgPages struct{ AdminDeps }

// AdminDept is a department in the tree with its sub-departments and staff count.
type AdminDept struct {
	org.Department
	Parent   string // the parent's id, "" at the top
	Children []*AdminDept
	Staff    int
}

// AdminStaffView is a staff member (or the new-staff form) as the page shows it.
type AdminStaffView struct {
	ID, Name, Phone, DepartmentID, IdentityID string
	Posts                                     []org.Post
	Active                                    bool
}

// Holds reports whether the staff member holds post p (a form's checkbox).
func (v AdminStaffView) Holds(p org.Post) bool { return slices.Contains(v.Posts, p) }

func adminDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func adminStaffViewOf(id string, in org.StaffInput) AdminStaffView {
	return AdminStaffView{ID: id, Name: in.Name, Phone: in.Phone, DepartmentID: adminDeref(in.DepartmentID), IdentityID: adminDeref(in.IdentityID),
		Posts: in.Posts, Active: in.Active == nil || *in.Active}
}

// AdminDeptOption is a department in a parent or department select, indented by level.
type AdminDeptOption struct {
	ID, Label string
	Level     int
}

// AdminDepartmentTree arranges ds as the org page shows them: the tree (each department with its
// staff count), the options of a department select, and each department's name by id.
func AdminDepartmentTree(ds []org.Department, staff []org.Staff) ([]*AdminDept, []AdminDeptOption, map[string]string) {
	nodes := map[string]*AdminDept{}
	names := map[string]string{}
	for i := range ds {
		nodes[ds[i].ID] = &AdminDept{Department: ds[i], Parent: adminDeref(ds[i].ParentID)}
		names[ds[i].ID] = ds[i].Name
	}
	for _, s := range staff {
		if s.DepartmentID != nil && nodes[*s.DepartmentID] != nil {
			nodes[*s.DepartmentID].Staff++
		}
	}
	var roots []*AdminDept
	for i := range ds { // by level then code, so parents come first
		n := nodes[ds[i].ID]
		if p := ds[i].ParentID; p != nil && nodes[*p] != nil {
			nodes[*p].Children = append(nodes[*p].Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var opts []AdminDeptOption
	var walk func([]*AdminDept)
	walk = func(ns []*AdminDept) {
		for _, n := range ns {
			opts = append(opts, AdminDeptOption{ID: n.ID, Label: strings.Repeat("　", n.Level-1) + n.Name + " (" + n.Code + ")", Level: n.Level})
			walk(n.Children)
		}
	}
	walk(roots)
	return roots, opts, names
}

func (p *adminOrgPages) orgPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	ds, err := p.Org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	staff, err := p.Org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	members, err := p.Store.FindMembers(ctx, module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	emails := map[string]string{}
	for _, m := range members {
		emails[m.Identity.ID.String()] = m.Identity.Email
	}
	tree, opts, names := AdminDepartmentTree(ds, staff)
	views := make([]AdminStaffView, len(staff))
	for i, s := range staff {
		views[i] = AdminStaffView{ID: s.ID, Name: s.Name, Phone: s.Phone, DepartmentID: adminDeref(s.DepartmentID), IdentityID: adminDeref(s.IdentityID), Posts: s.Posts, Active: s.Active}
	}
	if data["StaffForm"] == nil {
		form := AdminStaffView{Active: true}
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
	return p.UI.Render(c, "admin_org", data)
}

func adminDepartmentForm(c *fiber.Ctx) org.DepartmentInput {
	return org.DepartmentInput{Code: c.FormValue("code"), Name: c.FormValue("name"), ParentID: adminFormID(c, "parent_id"), Phone: c.FormValue("phone")}
}

func (p *adminOrgPages) createDepartment(c *fiber.Ctx) error {
	in := adminDepartmentForm(c)
	if _, err := p.Org.CreateDepartment(c.UserContext(), in); err != nil {
		return adminFail(c, err, p.orgPage, fiber.Map{"DeptForm": in})
	}
	return adminDone(c, adminBase(c)+"/org", "admin.org.created")
}

func (p *adminOrgPages) updateDepartment(c *fiber.Ctx) error {
	in := adminDepartmentForm(c)
	_, err := p.Org.UpdateDepartment(c.UserContext(), c.Params("id"), in)
	return adminFinish(c, err, p.orgPage, nil, "/org", "admin.org.updated")
}

func (p *adminOrgPages) deleteDepartment(c *fiber.Ctx) error {
	err := p.Org.DeleteDepartment(c.UserContext(), c.Params("id"))
	return adminFinish(c, err, p.orgPage, nil, "/org", "admin.org.deleted")
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

func (p *adminOrgPages) createStaff(c *fiber.Ctx) error {
	in := adminStaffForm(c)
	if _, err := p.Org.CreateStaff(c.UserContext(), in); err != nil {
		return adminFail(c, err, p.orgPage, fiber.Map{"StaffForm": adminStaffViewOf("", in)})
	}
	return adminDone(c, adminBase(c)+"/org#staff", "admin.staff.created")
}

func (p *adminOrgPages) updateStaff(c *fiber.Ctx) error {
	in := adminStaffForm(c)
	if _, err := p.Org.UpdateStaff(c.UserContext(), c.Params("id"), in); err != nil {
		return adminFail(c, err, p.orgPage, nil)
	}
	return adminDone(c, adminBase(c)+"/org#staff", "admin.staff.updated")
}

func (p *adminOrgPages) deleteStaff(c *fiber.Ctx) error {
	err := p.Org.DeleteStaff(c.UserContext(), c.Params("id"))
	return adminFinish(c, err, p.orgPage, nil, "/org#staff", "admin.staff.deleted")
}

// --- users and posts ---

// AdminTenantRoles are the roles a member of t may hold.
func AdminTenantRoles(t *tenants.Tenant) []tenants.Role {
	var out []tenants.Role
	for _, r := range tenants.TenantRoles {
		if tenants.ValidTenantRole(r, t.Kind) == nil {
			out = append(out, r)
		}
	}
	return out
}

// AdminMember is a member of the tenant as the users page shows it.
type AdminMember struct {
	*tenants.Member
	ID string
}

// Holds reports whether the member holds role r (a form's checkbox).
func (m AdminMember) Holds(r tenants.Role) bool { return slices.Contains(m.Roles, r) }

func (p *adminOrgPages) usersPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	sc := module.Scope(c)
	members, err := p.Store.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	invs, err := p.Store.FindInvitations(ctx, sc.Tenant.ID)
	if err != nil {
		return err
	}
	staff, err := p.Org.FindStaff(ctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	linked := map[string]bool{}
	for _, s := range staff {
		if s.IdentityID != nil {
			linked[*s.IdentityID] = true
		}
	}
	views := make([]AdminMember, len(members))
	for i, m := range members {
		views[i] = AdminMember{Member: m, ID: m.Identity.ID.String()}
	}
	data["Members"], data["Invitations"], data["Roles"], data["Linked"] = views, invs, AdminTenantRoles(sc.Tenant), linked
	data["Self"] = module.Principal(c).Identity.ID.String()
	if data["InviteForm"] == nil {
		data["InviteForm"] = fiber.Map{"Role": string(tenants.Inspector)} // the most common post, not admin
	}
	return p.UI.Render(c, "admin_users", data)
}

func (p *adminOrgPages) invite(c *fiber.Ctx) error {
	email, name, role := c.FormValue("email"), c.FormValue("name"), tenants.Role(c.FormValue("role"))
	inv, token, err := p.Store.Invite(c.UserContext(), module.Scope(c).Tenant, email, name, role)
	if err != nil {
		return adminFail(c, err, p.usersPage, fiber.Map{"InviteForm": fiber.Map{"Email": email, "Name": name, "Role": string(role)}})
	}
	// The token is shown once, here: there is no mail; the admin hands the link over.
	base := p.BaseURL
	if base == "" {
		base = c.BaseURL()
	}
	c.Status(fiber.StatusCreated)
	return p.usersPage(c, fiber.Map{"Invited": inv, "InviteURL": base + "/invite/" + token, "Flash": Translate(Lang(c), "admin.users.invited")})
}

func (p *adminOrgPages) setRoles(c *fiber.Ctx, roles []tenants.Role, msg string) error {
	id, err := api.MemberID(c)
	if err != nil {
		return err
	}
	if err := p.Store.SetMemberRoles(c.UserContext(), module.Scope(c).Tenant, id, roles); err != nil {
		return adminFail(c, err, p.usersPage, nil)
	}
	return adminDone(c, adminBase(c)+"/users", msg)
}

func (p *adminOrgPages) updateRoles(c *fiber.Ctx) error {
	roles := []tenants.Role{}
	for _, r := range adminFormValues(c, "roles") {
		roles = append(roles, tenants.Role(r))
	}
	if len(roles) == 0 {
		return adminFail(c, errs.Field("roles", msgChooseOnePost), p.usersPage, nil)
	}
	return p.setRoles(c, roles, "admin.users.updated")
}

func (p *adminOrgPages) removeMember(c *fiber.Ctx) error {
	return p.setRoles(c, []tenants.Role{}, "admin.users.removed")
}
