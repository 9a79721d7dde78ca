package grids

import (
	"strconv"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// api is the module's JSON API.
type api struct{ s *Service }

// routes adds the API. Reads are open to every member and to read-only scopes (prefecture
// viewers, support); writes need tenant_admin, since configuring grids is the county admin's job.
func (h api) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/grids", h.list)
	r.Get("/grids.geojson", h.export)
	r.Get("/grids/resolve", h.resolve)
	r.Post("/grids/import", admin, module.Import([]string{"application/geo+json", "application/json"},
		func(c *fiber.Ctx, data []byte, _ string, dry bool) (*tabular.Report, error) {
			return h.s.Import(c.UserContext(), data, dry)
		}))
	r.Get("/grids/:code", h.get)
	r.Get("/boundary", h.getBoundary)
	r.Get("/map/boundary.geojson", h.mapBoundary)
	r.Put("/boundary", admin, h.putBoundary)
	r.Delete("/boundary", admin, h.deleteBoundary)
	r.Get("/responsibility-grids", h.listResponsibilities)
	r.Put("/responsibility-grids/:code", admin, h.putResponsibility)
	r.Delete("/responsibility-grids/:code", admin, h.deleteResponsibility)
}

func (h api) list(c *fiber.Ctx) error {
	gs, err := h.s.FindGrids(c.UserContext(), Filter{Level: Level(c.Query("level")), Parent: c.Query("parent")})
	if err != nil {
		return err
	}
	return c.JSON(gs)
}

func (h api) get(c *fiber.Ctx) error {
	g, err := h.s.FindGridByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (h api) export(c *fiber.Ctx) error {
	b, err := h.s.Export(c.UserContext(), Level(c.Query("level")))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+module.Scope(c).Tenant.Slug+`-grids.geojson"`)
	return c.Send(b)
}

func (h api) resolve(c *fiber.Ctx) error {
	lon, err1 := strconv.ParseFloat(c.Query("lon"), 64)
	lat, err2 := strconv.ParseFloat(c.Query("lat"), 64)
	if err1 != nil || err2 != nil {
		return errs.Field("lon", msgGivePointLonLatDegrees)
	}
	res, err := h.s.Resolve(c.UserContext(), lon, lat)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h api) getBoundary(c *fiber.Ctx) error {
	b, err := h.s.FindBoundary(c.UserContext())
	if err != nil {
		return err
	}
	return sendBoundary(c, b)
}

// mapBoundary answers the boundary a map draws: the uploaded one, else the shipped atlas's.
func (h api) mapBoundary(c *fiber.Ctx) error {
	b, err := h.s.MapBoundary(c.UserContext())
	if err != nil {
		return err
	}
	return SendMapLayer(c, b)
}

// SendMapLayer answers with a GeoJSON layer of a map, cached by the browser for five minutes
// (private: it is one tenant's).
func SendMapLayer(c *fiber.Ctx, b []byte) error {
	c.Set(fiber.HeaderContentType, "application/geo+json")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(b)
}

func (h api) putBoundary(c *fiber.Ctx) error {
	b, err := PutUploadedBoundary(c, h.s)
	if err != nil {
		return err
	}
	return sendBoundary(c, b)
}

func (h api) deleteBoundary(c *fiber.Ctx) error {
	if err := h.s.DeleteBoundary(c.UserContext()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// boundaryTypes are the media types a boundary is sent as (the body itself, or the form field
// "file").
var boundaryTypes = []string{"application/geo+json", "application/json"}

// PutUploadedBoundary sets the tenant's boundary from the GeoJSON uploaded with c (the body, or
// the form field "file"); s audits it. The API and the console's form both go through it.
func PutUploadedBoundary(c *fiber.Ctx, s *Service) (*Boundary, error) {
	data, _, err := module.ReadUpload(c, boundaryTypes)
	if err != nil {
		return nil, err
	}
	return s.PutBoundary(c.UserContext(), data)
}

// sendBoundary answers with the boundary as a GeoJSON Feature.
func sendBoundary(c *fiber.Ctx, b *Boundary) error {
	f, err := b.Feature()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	return c.Send(f)
}

func (h api) listResponsibilities(c *fiber.Ctx) error {
	rs, err := h.s.FindResponsibilities(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

// responsibilityRequest is the body of PUT /responsibility-grids/:code (the code is the path's).
type responsibilityRequest struct {
	Name        string   `json:"name"`
	InspectorID *string  `json:"inspector_id"`
	Units       []string `json:"units"`
}

func (h api) putResponsibility(c *fiber.Ctx) error {
	var in responsibilityRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	rg, err := h.s.PutResponsibility(c.UserContext(), ResponsibilityGrid{Code: c.Params("code"), Name: in.Name, InspectorID: in.InspectorID, Units: in.Units})
	if err != nil {
		return err
	}
	return c.JSON(rg)
}

func (h api) deleteResponsibility(c *fiber.Ctx) error {
	if err := h.s.DeleteResponsibility(c.UserContext(), c.Params("code")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
