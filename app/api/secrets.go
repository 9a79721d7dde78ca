package api

import (
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
)

// secretsAPI is a tenant's integration credentials (vendor systems, the provincial platform, map
// tile keys, the SMS gateway) and the rotation of a tenant's key. Values are written and never
// returned: reads give masked metadata only.
type secretsAPI struct {
	store   *tenants.Store
	secrets secrets.Store
	cases   *cases.Service
}

func (a *secretsAPI) routes(t fiber.Router) {
	t.Get("/credentials", a.listCredentials)
	t.Put("/credentials/:name", module.NeedRole(tenants.TenantAdmin), a.putCredential)
	t.Delete("/credentials/:name", module.NeedRole(tenants.TenantAdmin), a.deleteCredential)
}

func (a *secretsAPI) listCredentials(c *fiber.Ctx) error {
	cs, err := a.secrets.ListCredentials(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

type credentialRequest struct {
	Value string `json:"value"`
}

func (a *secretsAPI) putCredential(c *fiber.Ctx) error {
	var in credentialRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	sc := module.Scope(c)
	name := c.Params("name")
	cred, err := a.secrets.PutCredential(c.UserContext(), sc.Tenant.ID, name, in.Value, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(cred)
}

func (a *secretsAPI) deleteCredential(c *fiber.Ctx) error {
	sc := module.Scope(c)
	name := c.Params("name")
	if err := a.secrets.DeleteCredential(c.UserContext(), sc.Tenant.ID, name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *secretsAPI) rotateTenantKey(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	out, err := a.cases.RotateTenantKey(c.UserContext(), t, a.secrets)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
