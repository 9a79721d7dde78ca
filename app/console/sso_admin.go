package console

// The single sign-on settings page: a tenant admin's (/t/:tenant/admin/sso: the unit's identity
// providers, its sign-in rules, the just-in-time accounts waiting for approval, the links of
// employee numbers or phones to members) and the operator's (/ops/sso: the operator's providers
// and links). The actions call tenants/sso and tenants.Store, which audit them, as the API does.

import (
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// SSOProviderRow is one provider as the settings page shows it.
type SSOProviderRow struct {
	P *tenants.SSOProvider
	// RedirectURI is the address to register at the provider.
	RedirectURI string
	// SecretSet says whether the client secret is in the secret store.
	SecretSet bool
	Links     []*tenants.SSOLink
}

type ssoAdmin struct{ d SSODeps }

// MountSSOAdmin adds the tenant admin's page to tw (the /t/:tenant group; tenant_admin only) and
// the operator's to ops (a group at /ops/sso that admits operator_admin only).
func MountSSOAdmin(tw, ops fiber.Router, d SSODeps) {
	a := &ssoAdmin{d}
	admin := module.NeedRole(tenants.TenantAdmin)
	tw.Get("/admin/sso", admin, a.page)
	tw.Post("/admin/sso/providers", admin, a.putProvider)
	tw.Post("/admin/sso/providers/:key/delete", admin, a.deleteProvider)
	tw.Post("/admin/sso/links", admin, a.putLink)
	tw.Post("/admin/sso/links/delete", admin, a.deleteLink)
	tw.Post("/admin/sso/policy", admin, a.putPolicy)
	tw.Post("/admin/sso/requests/:id/approve", admin, a.approve)
	tw.Post("/admin/sso/requests/:id/reject", admin, a.reject)
	ops.Get("", a.page)
	ops.Post("/providers", a.putProvider)
	ops.Post("/providers/:key/delete", a.deleteProvider)
	ops.Post("/links", a.putLink)
	ops.Post("/links/delete", a.deleteLink)
}

// tenant is the page's tenant, nil on the operator's page.
func (a *ssoAdmin) tenant(c *fiber.Ctx) *tenants.Tenant {
	if sc := module.Scope(c); sc != nil {
		return sc.Tenant
	}
	return nil
}

func (a *ssoAdmin) base(c *fiber.Ctx) string {
	if t := a.tenant(c); t != nil {
		return "/t/" + t.Slug + "/admin/sso"
	}
	return "/ops/sso"
}

func realmID(t *tenants.Tenant) *uuid.UUID {
	if t == nil {
		return nil
	}
	return &t.ID
}

func (a *ssoAdmin) page(c *fiber.Ctx) error { return a.render(c, fiber.Map{}) }

// render shows the page with data (which may hold a failed form's message and values).
func (a *ssoAdmin) render(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	t := a.tenant(c)
	ps, err := a.d.Store.FindSSOProviders(ctx, realmID(t))
	if err != nil {
		return err
	}
	rows := make([]SSOProviderRow, 0, len(ps))
	for _, p := range ps {
		links, err := a.d.Store.FindSSOLinks(ctx, realmID(t), p.Key)
		if err != nil {
			return err
		}
		rows = append(rows, SSOProviderRow{P: p, RedirectURI: a.d.SSO.RedirectURI(t, p.Key), SecretSet: a.d.SSO.HasSecret(ctx, p), Links: links})
	}
	data["Providers"], data["Base"], data["PostLogout"], data["Ops"] = rows, a.base(c), a.d.SSO.PostLogoutRedirectURI(), t == nil
	data["Skew"] = a.d.SSO.ClockSkew().String()
	if t != nil {
		if data["Policy"], err = a.d.Store.FindLoginPolicy(ctx, t.ID); err != nil {
			return err
		}
		if data["Requests"], err = a.d.Store.FindSSORequests(ctx, t.ID); err != nil {
			return err
		}
		var roles []tenants.Role
		for _, r := range tenants.TenantRoles {
			if tenants.ValidTenantRole(r, t.Kind) == nil {
				roles = append(roles, r)
			}
		}
		data["Roles"] = roles
		data["LoginURL"] = a.d.SSO.PostLogoutRedirectURI() + "?unit=" + t.Slug
	}
	return a.d.UI.Render(c, "sso_admin", data)
}

// fail re-renders the page after a failed form.
func (a *ssoAdmin) fail(c *fiber.Ctx, err error, data fiber.Map) error {
	m, err := FormError(c, err)
	if err != nil {
		return err
	}
	if data == nil {
		data = fiber.Map{}
	}
	data["Error"] = m
	return a.render(c, data)
}

func (a *ssoAdmin) finish(c *fiber.Ctx, err error, data fiber.Map, done string) error {
	if err != nil {
		return a.fail(c, err, data)
	}
	return Done(c, a.base(c), done)
}

func (a *ssoAdmin) putProvider(c *fiber.Ctx) error {
	enabled := c.FormValue("enabled") != ""
	in := tenants.SSOProviderInput{Key: c.FormValue("key"), DisplayName: c.FormValue("display_name"), Issuer: c.FormValue("issuer"),
		ClientID: c.FormValue("client_id"), Scopes: c.FormValue("scopes"), Claim: c.FormValue("claim"), Enabled: &enabled}
	_, _, err := a.d.SSO.PutProvider(c.UserContext(), a.tenant(c), in, c.FormValue("client_secret"), module.Principal(c).Identity.Email)
	// On failure the form comes back filled, without the secret.
	return a.finish(c, err, fiber.Map{"Form": in}, "sso.admin.saved")
}

func (a *ssoAdmin) deleteProvider(c *fiber.Ctx) error {
	err := a.d.SSO.DeleteProvider(c.UserContext(), a.tenant(c), c.Params("key"))
	return a.finish(c, err, nil, "sso.admin.deleted")
}

func (a *ssoAdmin) putLink(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := a.d.Store.FindIdentityByEmail(ctx, c.FormValue("email"))
	if err == nil {
		_, err = a.d.Store.PutSSOLink(ctx, realmID(a.tenant(c)), c.FormValue("provider"), c.FormValue("value"), id.ID)
	}
	return a.finish(c, err, nil, "sso.admin.linked")
}

func (a *ssoAdmin) deleteLink(c *fiber.Ctx) error {
	err := a.d.Store.DeleteSSOLink(c.UserContext(), realmID(a.tenant(c)), c.FormValue("provider"), c.FormValue("value"))
	return a.finish(c, err, nil, "sso.admin.unlinked")
}

func (a *ssoAdmin) putPolicy(c *fiber.Ctx) error {
	t := a.tenant(c)
	_, err := a.d.Store.PutLoginPolicy(c.UserContext(), t.ID, c.FormValue("passwords_off") != "", c.FormValue("jit_accounts") != "",
		module.Principal(c).Identity.Email)
	return a.finish(c, err, nil, "sso.admin.policysaved")
}

func (a *ssoAdmin) requestID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, errs.E(errs.NotFound, msgNoWaitingAccount, c.Params("id"))
	}
	return id, nil
}

func (a *ssoAdmin) approve(c *fiber.Ctx) error {
	id, err := a.requestID(c)
	if err == nil {
		var roles []tenants.Role
		for _, r := range adminFormValues(c, "roles") {
			roles = append(roles, tenants.Role(strings.TrimSpace(r)))
		}
		_, err = a.d.Store.ApproveSSORequest(c.UserContext(), a.tenant(c), id, roles)
	}
	return a.finish(c, err, nil, "sso.admin.approved")
}

func (a *ssoAdmin) reject(c *fiber.Ctx) error {
	id, err := a.requestID(c)
	if err == nil {
		err = a.d.Store.RejectSSORequest(c.UserContext(), a.tenant(c), id)
	}
	return a.finish(c, err, nil, "sso.admin.rejected")
}
