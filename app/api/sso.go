package api

import (
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/sso"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// ssoAPI configures single sign-on: a tenant admin's providers, sign-in rules, waiting
// just-in-time accounts and claim links (/t/{tenant}/sso/…), and the operator's providers and
// links (/sso/…, operator_admin). The client secret is written with the provider and never read
// back: a provider says only whether its secret is set.
type ssoAPI struct {
	store *tenants.Store
	sso   *sso.Service
}

// MountSSO adds single sign-on's configuration to api (/api/v1) and t (/api/v1/t/:tenant).
func MountSSO(api, t fiber.Router, store *tenants.Store, s *sso.Service, g Guards) {
	a := &ssoAPI{store: store, sso: s}
	admin, op := module.NeedRole(tenants.TenantAdmin), g.Operator(tenants.OperatorAdmin)
	t.Get("/sso/providers", admin, a.listProviders)
	t.Put("/sso/providers/:key", admin, a.putProvider)
	t.Delete("/sso/providers/:key", admin, a.deleteProvider)
	t.Get("/sso/providers/:key/links", admin, a.listLinks)
	t.Post("/sso/providers/:key/links", admin, a.putLink)
	t.Delete("/sso/providers/:key/links/:value", admin, a.deleteLink)
	t.Get("/sso/policy", admin, a.getPolicy)
	t.Put("/sso/policy", admin, a.putPolicy)
	t.Get("/sso/requests", admin, a.listRequests)
	t.Post("/sso/requests/:id/approve", admin, a.approve)
	t.Post("/sso/requests/:id/reject", admin, a.reject)
	api.Get("/sso/providers", op, a.listProviders)
	api.Put("/sso/providers/:key", op, a.putProvider)
	api.Delete("/sso/providers/:key", op, a.deleteProvider)
	api.Get("/sso/providers/:key/links", op, a.listLinks)
	api.Post("/sso/providers/:key/links", op, a.putLink)
	api.Delete("/sso/providers/:key/links/:value", op, a.deleteLink)
	// Break-glass: the operator switches a unit's passwords back on when its provider fails.
	api.Put("/tenants/:slug/sso/policy", op, a.opPutPolicy)
}

// tenant is the request's tenant, nil on the operator's routes.
func ssoTenant(c *fiber.Ctx) *tenants.Tenant {
	if sc := module.Scope(c); sc != nil {
		return sc.Tenant
	}
	return nil
}

func ssoRealm(c *fiber.Ctx) *uuid.UUID {
	if t := ssoTenant(c); t != nil {
		return &t.ID
	}
	return nil
}

// SSOProviderView is a provider as the API shows it.
type SSOProviderView struct {
	*tenants.SSOProvider
	RedirectURI string `json:"redirect_uri"`
	SecretSet   bool   `json:"client_secret_set"`
}

func (a *ssoAPI) view(c *fiber.Ctx, p *tenants.SSOProvider) SSOProviderView {
	return SSOProviderView{SSOProvider: p, RedirectURI: a.sso.RedirectURI(ssoTenant(c), p.Key), SecretSet: a.sso.HasSecret(c.UserContext(), p)}
}

func (a *ssoAPI) listProviders(c *fiber.Ctx) error {
	ps, err := a.store.FindSSOProviders(c.UserContext(), ssoRealm(c))
	if err != nil {
		return err
	}
	out := make([]SSOProviderView, 0, len(ps))
	for _, p := range ps {
		out = append(out, a.view(c, p))
	}
	return c.JSON(out)
}

type ssoProviderRequest struct {
	DisplayName  string `json:"display_name"`
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scopes       string `json:"scopes"`
	Claim        string `json:"claim"`
	Enabled      *bool  `json:"enabled"`
}

func (a *ssoAPI) putProvider(c *fiber.Ctx) error {
	var in ssoProviderRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, created, err := a.sso.PutProvider(c.UserContext(), ssoTenant(c), tenants.SSOProviderInput{Key: c.Params("key"), DisplayName: in.DisplayName,
		Issuer: in.Issuer, ClientID: in.ClientID, Scopes: in.Scopes, Claim: in.Claim, Enabled: in.Enabled}, in.ClientSecret, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(a.view(c, p))
}

func (a *ssoAPI) deleteProvider(c *fiber.Ctx) error {
	if err := a.sso.DeleteProvider(c.UserContext(), ssoTenant(c), c.Params("key")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *ssoAPI) listLinks(c *fiber.Ctx) error {
	ls, err := a.store.FindSSOLinks(c.UserContext(), ssoRealm(c), c.Params("key"))
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

type ssoLinkRequest struct {
	Value      string `json:"value"`
	IdentityID string `json:"identity_id"`
}

func (a *ssoAPI) putLink(c *fiber.Ctx) error {
	var in ssoLinkRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	id, err := uuid.Parse(in.IdentityID)
	if err != nil {
		return errs.Field("identity_id", msgSSOIdentityID)
	}
	l, err := a.store.PutSSOLink(c.UserContext(), ssoRealm(c), c.Params("key"), in.Value, id)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (a *ssoAPI) deleteLink(c *fiber.Ctx) error {
	if err := a.store.DeleteSSOLink(c.UserContext(), ssoRealm(c), c.Params("key"), c.Params("value")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *ssoAPI) getPolicy(c *fiber.Ctx) error {
	p, err := a.store.FindLoginPolicy(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type ssoPolicyRequest struct {
	PasswordsOff bool `json:"passwords_off"`
	JITAccounts  bool `json:"jit_accounts"`
}

func (a *ssoAPI) putPolicy(c *fiber.Ctx) error {
	var in ssoPolicyRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := a.store.PutLoginPolicy(c.UserContext(), module.Scope(c).Tenant.ID, in.PasswordsOff, in.JITAccounts, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// opPutPolicy sets a unit's sign-in rules as the operator (operator_admin), for the day a unit's
// provider fails and its members must be let back in with their passwords.
func (a *ssoAPI) opPutPolicy(c *fiber.Ctx) error {
	var in ssoPolicyRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	p, err := a.store.PutLoginPolicy(c.UserContext(), t.ID, in.PasswordsOff, in.JITAccounts, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (a *ssoAPI) listRequests(c *fiber.Ctx) error {
	rs, err := a.store.FindSSORequests(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func ssoRequestID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, errs.E(errs.NotFound, msgSSONoRequest, c.Params("id"))
	}
	return id, nil
}

func (a *ssoAPI) approve(c *fiber.Ctx) error {
	id, err := ssoRequestID(c)
	if err != nil {
		return err
	}
	var in rolesRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := a.store.ApproveSSORequest(c.UserContext(), module.Scope(c).Tenant, id, in.Roles)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (a *ssoAPI) reject(c *fiber.Ctx) error {
	id, err := ssoRequestID(c)
	if err != nil {
		return err
	}
	if err := a.store.RejectSSORequest(c.UserContext(), module.Scope(c).Tenant, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
