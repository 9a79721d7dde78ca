package api

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// tenantsAPI is the tenants and their lifecycle (the operator's), the audit log, and inside a
// tenant its home, settings and export.
type tenantsAPI struct {
	store     *tenants.Store
	prov      *tenants.Provisioner
	baseURL   string
	exportDir string
}

func (a *tenantsAPI) list(c *fiber.Ctx) error {
	ts, err := a.store.FindVisibleTenants(c.UserContext(), module.Principal(c))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

// findVisible finds :slug if the caller may see it, else NotFound (never Forbidden, so that
// another tenant's existence does not leak).
func (a *tenantsAPI) findVisible(c *fiber.Ctx) (*tenants.Tenant, error) {
	ctx := c.UserContext()
	t, err := a.store.FindTenantBySlug(ctx, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	anc, err := a.store.Ancestors(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, err := tenants.Resolve(module.Principal(c), t, anc); err != nil {
		return nil, err
	}
	return t, nil
}

func (a *tenantsAPI) get(c *fiber.Ctx) error {
	t, err := a.findVisible(c)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (a *tenantsAPI) create(c *fiber.Ctx) error {
	var in tenants.NewTenant
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	res, err := a.prov.Provision(c.UserContext(), in)
	if err != nil {
		return err
	}
	if res.InvitationToken != "" {
		res.InvitationToken = a.baseURL + "/invite/" + res.InvitationToken
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"tenant": res.Tenant, "first_admin_invitation_url": res.InvitationToken, "resumed": res.Resumed})
}

func (a *tenantsAPI) resumeProvisioning(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	res, err := a.prov.Resume(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

type suspendRequest struct {
	Reason string `json:"reason"`
}

func (a *tenantsAPI) suspend(c *fiber.Ctx) error {
	var in suspendRequest
	if len(c.Body()) > 0 {
		if err := module.DecodeJSON(c, &in); err != nil {
			return err
		}
	}
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	if err := a.store.Suspend(c.UserContext(), t, in.Reason); err != nil {
		return err
	}
	return c.JSON(t)
}

func (a *tenantsAPI) resume(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	if err := a.store.Reactivate(c.UserContext(), t); err != nil {
		return err
	}
	return c.JSON(t)
}

type offboardRequest struct {
	// Confirm must repeat the tenant's slug: offboarding destroys the tenant's data.
	Confirm string `json:"confirm"`
}

// offboard exports the tenant into the export directory, then removes it
// (tenants.Provisioner.OffboardTo, which also checks the confirmation).
func (a *tenantsAPI) offboard(c *fiber.Ctx) error {
	var in offboardRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	t, err := a.store.FindTenantBySlug(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	path, err := a.prov.OffboardTo(ctx, t, in.Confirm, a.exportDir)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tenant": t, "export": path})
}

func (a *tenantsAPI) export(c *fiber.Ctx) error {
	return SendExport(c, a.store, module.Scope(c).Tenant)
}

// SendExport answers with t's export archive, audited (the API and the operator's console).
func SendExport(c *fiber.Ctx, store *tenants.Store, t *tenants.Tenant) error {
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.zip"`, t.Slug, store.Now().UTC().Format("20060102")))
	if err := store.ExportAudited(c.UserContext(), t, c.Response().BodyWriter(), tenants.ExportOptions{}); err != nil {
		c.Response().ResetBody()
		c.Set(fiber.HeaderContentDisposition, "")
		return err
	}
	return nil
}

func (a *tenantsAPI) auditPage(c *fiber.Ctx, tenant *uuid.UUID) error {
	f := tenants.AuditFilter{TenantID: tenant, Action: c.Query("action")}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errs.Field("before", msgBeforeMustPositiveEntryId)
		}
		f.BeforeID = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errs.Field("limit", msgLimitMustNumberFrom)
		}
		f.Limit = n
	}
	es, err := a.store.FindAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(es)
}

func (a *tenantsAPI) audit(c *fiber.Ctx) error { return a.auditPage(c, nil) }

func (a *tenantsAPI) tenantAudit(c *fiber.Ctx) error {
	return a.auditPage(c, &module.Scope(c).Tenant.ID)
}

func (a *tenantsAPI) home(c *fiber.Ctx) error {
	sc := module.Scope(c)
	return c.JSON(fiber.Map{"tenant": sc.Tenant, "roles": sc.Roles, "read_only": sc.ReadOnly})
}

func (a *tenantsAPI) listSettings(c *fiber.Ctx) error {
	var out []tenants.Setting
	err := a.store.Tx(c.UserContext(), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&out).OrderExpr("key").Scan(ctx)
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type settingRequest struct {
	Value string `json:"value"`
}

func (a *tenantsAPI) putSetting(c *fiber.Ctx) error {
	var in settingRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	s, err := a.store.PutSetting(c.UserContext(), c.Params("key"), in.Value, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(s)
}
