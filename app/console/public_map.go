package console

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// PublicCell is the size, in degrees, of the cells the public map places problems in: a
// problem is drawn at the centre of its 0.002° cell (about 220 m north–south and 200 m east–west
// in Yunnan), never at the reported point, so the map does not lead to a citizen's door. Snapping
// is deterministic: a random jitter would average out over repeated requests.
const PublicCell = 0.002

// publicCell snaps a coordinate to the centre of its cell.
func publicCell(v float64) float64 {
	c := (math.Floor(v/PublicCell) + 0.5) * PublicCell
	return math.Round(c*1e4) / 1e4
}

// mountPublicMap registers the public map of recent problems and the layers every public map
// draws (the boundary and the grids; the county's place names for the report form).
func (pub *publicPages) mountPublicMap(r fiber.Router) {
	r.Get("/map", pub.mapPage)
	r.Get("/map/boundary.geojson", pub.mapBoundary)
	r.Get("/map/grids.geojson", pub.mapGrids)
	r.Get("/map/reports.geojson", pub.mapReports)
	r.Get("/map/photo/:id", pub.mapPhoto)
	r.Get("/places", pub.places)
}

// readScope is how the public pages read the tenant: a read-only viewer.
func (pub *publicPages) readCtx(c *fiber.Ctx) (context.Context, *tenants.Tenant) {
	t := c.Locals("public.tenant").(*tenants.Tenant)
	return tenants.WithScope(c.UserContext(), open311.ReadScope(t)), t
}

func (pub *publicPages) mapBoundary(c *fiber.Ctx) error {
	ctx, _ := pub.readCtx(c)
	b, err := pub.d.Grids.MapBoundary(ctx)
	if err != nil {
		return err
	}
	return grids.SendMapLayer(c, b)
}

// mapGrids is the tenant's unit grids (code, name, level, geometry): the same public knowledge as
// the community names a citizen may pick.
func (pub *publicPages) mapGrids(c *fiber.Ctx) error {
	ctx, _ := pub.readCtx(c)
	b, err := pub.d.Grids.Export(ctx, grids.Unit)
	if err != nil {
		return err
	}
	return grids.SendMapLayer(c, b)
}

// places answers the report form's place picker: grid names containing q.
func (pub *publicPages) places(c *fiber.Ctx) error {
	q := c.Query("q")
	if len(q) > 100 || strings.ContainsRune(q, 0) {
		return errs.Field("q", msgPlaceQueryTooLong)
	}
	ctx, _ := pub.readCtx(c)
	ps, err := pub.d.Grids.FindPlaceNames(ctx, q)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(ps)
}

// PublicProblem is what the public map shows of a problem: its kind, whether it is open, the day
// it was reported and its cell. No reporter, no description, no address, no case number.
type PublicProblem struct {
	Service  string  `json:"name"`
	Status   string  `json:"state"`
	Reported string  `json:"reported"`
	Lat      float64 `json:"-"`
	Lon      float64 `json:"-"`
	Photo    string  `json:"photo,omitempty"`
}

// recentProblems are the tenant's public requests of the last pm.Days days, placed in cells.
func (pub *publicPages) recentProblems(c *fiber.Ctx) ([]PublicProblem, tenants.PublicMap, error) {
	ctx, t := pub.readCtx(c)
	pm, err := pub.d.Store.FindPublicMap(ctx)
	if err != nil {
		return nil, pm, err
	}
	now := pub.d.Store.Now()
	rs, err := pub.d.Open311.FindRequests(c.UserContext(), t, open311.Query{Start: now.AddDate(0, 0, -pm.Days), End: now})
	if err != nil {
		return nil, pm, err
	}
	out := make([]PublicProblem, 0, len(rs))
	for _, r := range rs {
		if r.Lat == 0 && r.Long == 0 {
			continue
		}
		p := PublicProblem{Service: r.ServiceName, Status: r.Status, Lat: publicCell(r.Lat), Lon: publicCell(r.Long)}
		if at, err := time.Parse(time.RFC3339, r.RequestedDatetime); err == nil {
			p.Reported = at.Format(time.DateOnly)
		}
		if pm.Photos {
			p.Photo = "/r/" + t.Slug + "/map/photo/" + r.ID
		}
		out = append(out, p)
	}
	return out, pm, nil
}

func (pub *publicPages) mapReports(c *fiber.Ctx) error {
	ps, _, err := pub.recentProblems(c)
	if err != nil {
		return err
	}
	type feature struct {
		Type       string         `json:"type"`
		Properties PublicProblem  `json:"properties"`
		Geometry   map[string]any `json:"geometry"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{"FeatureCollection", make([]feature, 0, len(ps))}
	for _, p := range ps {
		fc.Features = append(fc.Features, feature{"Feature", p, map[string]any{"type": "Point", "coordinates": []float64{p.Lon, p.Lat}}})
	}
	b, err := json.Marshal(fc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.Send(b)
}

// mapPhoto sends the first photo of a problem on the public map: NotFound unless the tenant
// shows photos there and the case is a public request of its window.
func (pub *publicPages) mapPhoto(c *fiber.Ctx) error {
	ctx, t := pub.readCtx(c)
	notFound := errs.E(errs.NotFound, msgNoPublicPhoto)
	pm, err := pub.d.Store.FindPublicMap(ctx)
	if err != nil {
		return err
	}
	if !pm.Photos {
		return notFound
	}
	id := c.Params("id")
	if len(id) > 64 || strings.ContainsRune(id, 0) {
		return notFound
	}
	r, err := pub.d.Open311.FindRequestByID(c.UserContext(), t, id)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return notFound
		}
		return err
	}
	if at, err := time.Parse(time.RFC3339, r.RequestedDatetime); err != nil || at.Before(pub.d.Store.Now().AddDate(0, 0, -pm.Days)) {
		return notFound
	}
	cs, err := pub.d.Cases.FindCaseByID(ctx, r.ID)
	if err != nil {
		return err
	}
	if len(cs.Photos) == 0 {
		return notFound
	}
	p, data, err := pub.d.Cases.FindPhoto(ctx, cs.ID, cs.Photos[0].ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.MediaType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(data)
}

func (pub *publicPages) mapPage(c *fiber.Ctx) error {
	ps, pm, err := pub.recentProblems(c)
	if err != nil {
		return err
	}
	t := c.Locals("public.tenant").(*tenants.Tenant)
	l := Lang(c)
	layer := map[string]any{"url": "/r/" + t.Slug + "/map/reports.geojson", "kind": "points", "cluster": true,
		"states":    map[string]string{"open": Translate(l, "public.map.open"), "closed": Translate(l, "public.map.closed")},
		"photo_alt": Translate(l, "public.map.photoalt")}
	return pub.page(c, "public_map", fiber.Map{"Problems": ps, "Days": pm.Days, "Layers": []map[string]any{layer}})
}
