package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// visibleTenants lists what p may see: operators everything; others their own tenants and, through
// prefecture_viewer, the prefecture's descendants.
func (a *App) visibleTenants(ctx context.Context, p *tenants.Principal) ([]*tenants.Tenant, error) {
	all, err := a.store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil || p.IsOperator() {
		return all, err
	}
	mine := map[uuid.UUID]bool{}
	viewerOf := map[uuid.UUID]bool{}
	for _, m := range p.Memberships {
		mine[m.TenantID] = true
		if m.Role == tenants.PrefectureViewer {
			viewerOf[m.TenantID] = true
		}
	}
	out := []*tenants.Tenant{}
	for _, t := range all {
		if mine[t.ID] || (t.ParentID != nil && viewerOf[*t.ParentID]) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (a *App) apiListTenants(c *fiber.Ctx) error {
	ts, err := a.visibleTenants(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

// findVisibleTenant finds :slug if the caller may see it, else NotFound (never Forbidden, so
// that another tenant's existence does not leak).
func (a *App) findVisibleTenant(c *fiber.Ctx) (*tenants.Tenant, error) {
	ctx := c.UserContext()
	t, err := a.store.FindTenantBySlug(ctx, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	anc, err := a.store.Ancestors(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, err := tenants.Resolve(principal(c), t, anc); err != nil {
		return nil, err
	}
	return t, nil
}

func (a *App) apiGetTenant(c *fiber.Ctx) error {
	t, err := a.findVisibleTenant(c)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (a *App) apiCreateTenant(c *fiber.Ctx) error {
	var in tenants.NewTenant
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := a.prov.Provision(c.UserContext(), in)
	if err != nil {
		return err
	}
	if res.InvitationToken != "" {
		res.InvitationToken = a.cfg.BaseURL + "/invite/" + res.InvitationToken
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"tenant": res.Tenant, "first_admin_invitation_url": res.InvitationToken, "resumed": res.Resumed})
}

func (a *App) apiResumeProvisioning(c *fiber.Ctx) error {
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

func (a *App) apiSuspendTenant(c *fiber.Ctx) error {
	var in suspendRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
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

func (a *App) apiResumeTenant(c *fiber.Ctx) error {
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

// apiOffboardTenant exports the tenant into the data directory's exports folder, then removes it
// (tenants.Provisioner.OffboardTo, which also checks the confirmation).
func (a *App) apiOffboardTenant(c *fiber.Ctx) error {
	var in offboardRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	t, err := a.store.FindTenantBySlug(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	path, err := a.prov.OffboardTo(ctx, t, in.Confirm, a.exportDir())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tenant": t, "export": path})
}

// exportDir is where offboarding leaves a tenant's export archive: <data>/exports.
func (a *App) exportDir() string { return filepath.Join(a.cfg.DataDir, "exports") }

func (a *App) apiExport(c *fiber.Ctx) error { return a.sendExport(c, scope(c).Tenant) }

// sendExport answers with t's export archive, audited (the API and the operator's console).
func (a *App) sendExport(c *fiber.Ctx, t *tenants.Tenant) error {
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.zip"`, t.Slug, a.store.Now().UTC().Format("20060102")))
	if err := a.store.ExportAudited(c.UserContext(), t, c.Response().BodyWriter()); err != nil {
		c.Response().ResetBody()
		c.Set(fiber.HeaderContentDisposition, "")
		return err
	}
	return nil
}

func (a *App) auditPage(c *fiber.Ctx, tenant *uuid.UUID) error {
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

func (a *App) apiAudit(c *fiber.Ctx) error { return a.auditPage(c, nil) }

func (a *App) apiTenantAudit(c *fiber.Ctx) error { return a.auditPage(c, &scope(c).Tenant.ID) }

func (a *App) apiTenantHome(c *fiber.Ctx) error {
	sc := scope(c)
	return c.JSON(fiber.Map{"tenant": sc.Tenant, "roles": sc.Roles, "read_only": sc.ReadOnly})
}

func (a *App) apiListSettings(c *fiber.Ctx) error {
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

func (a *App) apiPutSetting(c *fiber.Ctx) error {
	var in settingRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	s, err := a.store.PutSetting(c.UserContext(), c.Params("key"), in.Value, principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(s)
}
