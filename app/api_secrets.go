package app

import (
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// secretRoutes are a tenant's integration credentials (vendor systems, the provincial platform,
// map tile keys, the SMS gateway). Values are written and never returned: reads give masked
// metadata only.
func (a *App) secretRoutes(t fiber.Router) {
	t.Get("/credentials", a.apiListCredentials)
	t.Put("/credentials/:name", a.needRole(tenants.TenantAdmin), a.apiPutCredential)
	t.Delete("/credentials/:name", a.needRole(tenants.TenantAdmin), a.apiDeleteCredential)
}

func (a *App) apiListCredentials(c *fiber.Ctx) error {
	cs, err := a.secrets.ListCredentials(c.UserContext(), scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

type credentialRequest struct {
	Value string `json:"value"`
}

func (a *App) apiPutCredential(c *fiber.Ctx) error {
	var in credentialRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sc := scope(c)
	name := c.Params("name")
	cred, err := a.secrets.PutCredential(c.UserContext(), sc.Tenant.ID, name, in.Value, principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(cred)
}

func (a *App) apiDeleteCredential(c *fiber.Ctx) error {
	sc := scope(c)
	name := c.Params("name")
	if err := a.secrets.DeleteCredential(c.UserContext(), sc.Tenant.ID, name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *App) apiRotateTenantKey(c *fiber.Ctx) error {
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
