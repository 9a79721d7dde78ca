package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/blob"
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
	mapTiles  string
	store     *tenants.Store
	prov      *tenants.Provisioner
	baseURL   string
	exportDir string
	// archives keeps offboarding archives; presignTTL is a download link's life.
	archives   blob.Store
	presignTTL time.Duration
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

// offboard exports the tenant into the object store, then removes it
// (tenants.Provisioner.OffboardTo, which also checks the confirmation). The answer names the
// archive and where to download it (offboardingArchive).
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
	key, err := a.prov.OffboardTo(ctx, t, in.Confirm, a.archives)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tenant": t, "export": key, "export_url": ArchiveURL(key)})
}

// ArchiveURL is where the API serves the offboarding archive stored under key: the route of
// offboardingArchive ("" for no key).
func ArchiveURL(key string) string {
	rest, ok := strings.CutPrefix(key, "offboarding/")
	if !ok {
		return ""
	}
	return "/api/v1/offboarding-archives/" + rest
}

// offboardingArchive downloads an offboarding archive (GET
// /api/v1/offboarding-archives/:tenant/:name), for operator admins only: the route's guard has
// checked the caller before anything is looked up. The download is audited, then streamed from
// a local store or, from a bucket, redirected to a presigned URL that works for presignTTL.
func (a *tenantsAPI) offboardingArchive(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("tenant"))
	name := c.Params("name")
	key := ""
	if err == nil {
		key = tenants.ArchivePrefix(id) + name
	}
	if err != nil || !strings.HasSuffix(name, ".zip") || strings.Contains(name, "/") || blob.CheckKey(key) != nil {
		return errs.E(errs.NotFound, msgNoOffboardingArchive)
	}
	key = strings.Clone(key)
	ctx := c.UserContext()
	info, err := a.archives.Stat(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return errs.E(errs.NotFound, msgNoOffboardingArchive)
	}
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodHead {
		// A HEAD (a link checker) is told what a GET gives, without a download audited or signed.
		c.Set(fiber.HeaderContentType, "application/zip")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return nil
	}
	if err := a.store.AuditNow(ctx, "tenant.offboard.archive_download", &id, strings.Clone(name), map[string]any{"key": key, "size": info.Size}); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	u, err := a.archives.PresignGet(ctx, key, a.presignTTL, path.Base(key), "application/zip")
	if err == nil {
		return c.Redirect(u, fiber.StatusFound)
	}
	if !errors.Is(err, blob.ErrNoPresign) {
		return err
	}
	r, info, err := a.archives.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return errs.E(errs.NotFound, msgNoOffboardingArchive)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+path.Base(key)+`"`)
	c.Response().SetBodyStream(r, int(info.Size))
	return nil
}

// export answers with the tenant's export as stored (personal data as ciphertext).
func (a *tenantsAPI) export(c *fiber.Ctx) error {
	return SendExport(c, a.store, module.Scope(c).Tenant, tenants.ExportOptions{}, a.exportDir)
}

// ExportRequest asks for an export (POST …/export): PersonalData "clear" decrypts citizens'
// personal data and needs Reason; "encrypted" is the export as stored, Reason optional.
type ExportRequest struct {
	PersonalData tenants.PersonalData `json:"personal_data"`
	Reason       string               `json:"reason"`
}

// Options checks the request and turns it into the store's options. A NUL or another control
// character in the reason was refused by the edge (checkInput) already; the store checks the
// reason for every caller.
func (r ExportRequest) Options() (tenants.ExportOptions, error) {
	if err := r.PersonalData.Check(); err != nil {
		return tenants.ExportOptions{}, err
	}
	return tenants.ExportOptions{PersonalData: r.PersonalData, Reason: strings.Clone(r.Reason)}, nil
}

// exportAs answers POST …/export for t: with personal data in clear when asked (audited with
// the reason), else as stored.
func (a *tenantsAPI) exportAs(c *fiber.Ctx, t *tenants.Tenant) error {
	var in ExportRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	opts, err := in.Options()
	if err != nil {
		return err
	}
	return SendExport(c, a.store, t, opts, a.exportDir)
}

func (a *tenantsAPI) exportPost(c *fiber.Ctx) error { return a.exportAs(c, module.Scope(c).Tenant) }

// WaiverRequest waives the export in clear before offboarding, with a reason.
type WaiverRequest struct {
	Reason string `json:"reason"`
}

// handoverOf answers with where t stands before offboarding.
func (a *tenantsAPI) handoverOf(c *fiber.Ctx, t *tenants.Tenant) error {
	h, err := a.store.FindHandover(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

// waive records a waiver of t's export in clear (tenants.Store.WaiveHandover, audited).
func (a *tenantsAPI) waive(c *fiber.Ctx, t *tenants.Tenant) error {
	var in WaiverRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	h, err := a.store.WaiveHandover(c.UserContext(), t, strings.Clone(in.Reason))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h)
}

func (a *tenantsAPI) handover(c *fiber.Ctx) error { return a.handoverOf(c, module.Scope(c).Tenant) }

func (a *tenantsAPI) waiver(c *fiber.Ctx) error { return a.waive(c, module.Scope(c).Tenant) }

// The operator's doors to the same, by slug.

func (a *tenantsAPI) opExport(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	return a.exportAs(c, t)
}

func (a *tenantsAPI) opHandover(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	return a.handoverOf(c, t)
}

func (a *tenantsAPI) opWaiver(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	return a.waive(c, t)
}

// SendExport answers with t's export archive made with opts (the API's and the consoles'
// downloads). The store audits it before a byte is sent, and refuses personal data in clear to
// whoever may not have it. The archive is spooled to a file in dir/.spool first — unlinked at
// once where the system allows, so that nothing holding personal data stays behind if the
// process dies — and then streamed from it: the tenant's snapshot is not held open while a slow
// client downloads, a failure is still a problem or an error page, and no archive sits in
// memory. An archive with personal data in clear says so in its name.
func SendExport(c *fiber.Ctx, store *tenants.Store, t *tenants.Tenant, opts tenants.ExportOptions, dir string) error {
	if c.Method() == fiber.MethodHead {
		// A HEAD (a link checker, a download manager probing the link) says what a GET gives
		// without building an archive, or auditing a download nobody took.
		c.Set(fiber.HeaderContentType, "application/zip")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return nil
	}
	sp, err := module.NewSpool(filepath.Join(dir, ".spool"))
	if err != nil {
		return err
	}
	opts.TempDir = sp.Dir
	if err := store.ExportAudited(c.UserContext(), t, sp, opts); err != nil {
		sp.Close()
		return err
	}
	name := fmt.Sprintf("%s-%s.zip", t.Slug, store.Now().UTC().Format("20060102"))
	if opts.PersonalData == tenants.PersonalDataClear {
		name = fmt.Sprintf("%s-%s-personal-data.zip", t.Slug, store.Now().UTC().Format("20060102"))
	}
	return sp.Send(c, name, "application/zip")
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

// getTileSource answers the tenant's tile source (the deployment's default, marked, when it set
// none). The 天地图 key is a credential of the secret store, not part of it.
func (a *tenantsAPI) getTileSource(c *fiber.Ctx) error {
	ts, err := a.store.FindTileSource(c.UserContext(), tenants.DefaultTileSource(a.mapTiles))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

// putTileSource sets the tenant's tile source: 400 with the field when it is not one a browser
// can draw.
func (a *tenantsAPI) putTileSource(c *fiber.Ctx) error {
	var in tenants.TileSource
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	ts, err := a.store.PutTileSource(c.UserContext(), in, module.Principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(ts)
}
