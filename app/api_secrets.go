package app

import (
	"context"
	"fmt"

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

// rotateTenantKey rotates t's key, re-wraps the personal data stored under older versions, and
// then raises the key's minimum decryption version, so that a leaked old key version decrypts
// nothing stored. Interrupted, it can be run again: the re-wrap picks up what is left.
func (a *App) rotateTenantKey(ctx context.Context, t *tenants.Tenant) (fiber.Map, error) {
	info, err := a.secrets.RotateTenantKey(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	n, err := a.cases.RewrapPersonalData(tenants.WithScope(ctx, tenants.SystemScope(t)), a.secrets, info.LatestVersion)
	if err != nil {
		return nil, fmt.Errorf("re-wrap after rotating to version %d: %w", info.LatestVersion, err)
	}
	if err := a.secrets.SetMinDecryptionVersion(ctx, t.ID, info.LatestVersion); err != nil {
		return nil, err
	}
	out := fiber.Map{"latest_version": info.LatestVersion, "min_decryption_version": info.LatestVersion, "rewrapped": n}
	return out, a.store.AuditNow(ctx, "tenant.key.rotate", &t.ID, t.Slug, out)
}

func (a *App) apiRotateTenantKey(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	out, err := a.rotateTenantKey(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
