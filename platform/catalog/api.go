package catalog

import (
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// api is the module's JSON API.
type api struct{ s *Service }

// routes adds the API. Reads are open to every member and to read-only scopes (prefecture
// viewers, support); writes need tenant_admin, since configuring the catalog and the standards
// is the county admin's job.
func (h api) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/catalog/classes", h.listClasses)
	r.Post("/catalog/classes", admin, h.createClass)
	r.Post("/catalog/sync", admin, h.syncPrefectureClasses)
	r.Get("/catalog/classes/:kind/:code", h.lookupClass)
	r.Delete("/catalog/classes/:kind/:code", admin, h.deleteClass)
	r.Get("/components", h.listComponents)
	r.Post("/components/import", admin, module.Import([]string{"application/geo+json", "application/json", "text/csv", module.XLSXType},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			return h.s.ImportComponents(c.UserContext(), data, format, dry)
		}))
	r.Get("/components/:code", h.getComponent)
	r.Get("/standards", h.listStandards)
	r.Post("/standards/import", admin, module.Import([]string{"text/csv", module.XLSXType},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			return h.s.ImportStandards(c.UserContext(), data, tabular.Format(format), dry)
		}))
	r.Get("/standards/:id", h.getStandard)
}

// queryKind reads the optional filter ?kind=.
func queryKind(s string) (Kind, error) {
	if s == "" {
		return "", nil
	}
	k, ok := ParseKind(s)
	if !ok {
		return "", errs.Field("kind", msgKindComponentEvent)
	}
	return k, nil
}

// PathKind reads the kind of a class's address (/catalog/classes/:kind/:code): an address with
// a kind that is not one is not found.
func PathKind(s string) (Kind, error) {
	k, ok := ParseKind(s)
	if !ok {
		return "", errs.E(errs.NotFound, msgNoClassKind, s)
	}
	return k, nil
}

func (h api) listClasses(c *fiber.Ctx) error {
	k, err := queryKind(c.Query("kind"))
	if err != nil {
		return err
	}
	cs, err := h.s.FindClasses(c.UserContext(), ClassFilter{Kind: k, Level: c.Query("level"), Major: c.Query("major")})
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// lookupClass returns a class; a minor class comes with its standards.
func (h api) lookupClass(c *fiber.Ctx) error {
	k, err := PathKind(c.Params("kind"))
	if err != nil {
		return err
	}
	cl, err := h.s.FindClass(c.UserContext(), k, c.Params("code"))
	if err != nil {
		return err
	}
	if cl.Level != "minor" {
		return c.JSON(Entry{Class: *cl, Standards: []Standard{}})
	}
	e, err := h.s.Lookup(c.UserContext(), k, c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (h api) createClass(c *fiber.Ctx) error {
	var in ClassInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	cl, err := h.s.CreateClass(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cl)
}

func (h api) deleteClass(c *fiber.Ctx) error {
	k, err := PathKind(c.Params("kind"))
	if err != nil {
		return err
	}
	if err := h.s.DeleteClass(c.UserContext(), k, c.Params("code")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// syncPrefectureClasses copies the parent prefecture's own extension classes into this county
// (Service.SyncFromPrefecture, which audits it).
func (h api) syncPrefectureClasses(c *fiber.Ctx) error {
	parent, n, err := h.s.SyncFromPrefecture(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"prefecture": parent.Slug, "classes": n})
}

func (h api) listComponents(c *fiber.Ctx) error {
	cs, err := h.s.FindComponents(c.UserContext(), ComponentFilter{ClassCode: c.Query("class"), GridCode: c.Query("grid"), After: c.Query("after"), Limit: c.QueryInt("limit")})
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

func (h api) getComponent(c *fiber.Ctx) error {
	cm, err := h.s.FindComponentByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

func (h api) listStandards(c *fiber.Ctx) error {
	k, err := queryKind(c.Query("kind"))
	if err != nil {
		return err
	}
	st, err := h.s.FindStandards(c.UserContext(), StandardFilter{Kind: k, ClassCode: c.Query("class")})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h api) getStandard(c *fiber.Ctx) error {
	st, err := h.s.FindStandardByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}
