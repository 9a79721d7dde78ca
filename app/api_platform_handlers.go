package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// --- grids ---

func (a *App) apiListGrids(c *fiber.Ctx) error {
	gs, err := a.platform.grids.FindGrids(c.UserContext(), grids.Filter{Level: grids.Level(c.Query("level")), Parent: c.Query("parent")})
	if err != nil {
		return err
	}
	return c.JSON(gs)
}

func (a *App) apiGetGrid(c *fiber.Ctx) error {
	g, err := a.platform.grids.FindGridByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (a *App) apiExportGrids(c *fiber.Ctx) error {
	b, err := a.platform.grids.Export(c.UserContext(), grids.Level(c.Query("level")))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+scope(c).Tenant.Slug+`-grids.geojson"`)
	return c.Send(b)
}

func (a *App) apiResolveGrid(c *fiber.Ctx) error {
	lon, err1 := strconv.ParseFloat(c.Query("lon"), 64)
	lat, err2 := strconv.ParseFloat(c.Query("lat"), 64)
	if err1 != nil || err2 != nil {
		return errs.Field("lon", msgGivePointLonLatDegrees)
	}
	res, err := a.platform.grids.Resolve(c.UserContext(), lon, lat)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// boundaryTypes are the media types a boundary is sent as (the body itself, or the form field
// "file").
var boundaryTypes = []string{"application/geo+json", "application/json"}

func (a *App) apiGetBoundary(c *fiber.Ctx) error {
	b, err := a.platform.grids.FindBoundary(c.UserContext())
	if err != nil {
		return err
	}
	return sendBoundary(c, b)
}

func (a *App) apiPutBoundary(c *fiber.Ctx) error {
	b, err := a.putBoundary(c)
	if err != nil {
		return err
	}
	return sendBoundary(c, b)
}

func (a *App) apiDeleteBoundary(c *fiber.Ctx) error {
	if err := a.platform.grids.DeleteBoundary(c.UserContext()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// putBoundary sets the tenant's boundary from the uploaded GeoJSON (the service audits it); the
// API and the console's form both go through it.
func (a *App) putBoundary(c *fiber.Ctx) (*grids.Boundary, error) {
	data, _, err := module.ReadUpload(c, boundaryTypes)
	if err != nil {
		return nil, err
	}
	return a.platform.grids.PutBoundary(c.UserContext(), data)
}

// sendBoundary answers with the boundary as a GeoJSON Feature.
func sendBoundary(c *fiber.Ctx, b *grids.Boundary) error {
	f, err := b.Feature()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	return c.Send(f)
}

func (a *App) apiListResponsibilities(c *fiber.Ctx) error {
	rs, err := a.platform.grids.FindResponsibilities(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

type responsibilityRequest struct {
	Name        string   `json:"name"`
	InspectorID *string  `json:"inspector_id"`
	Units       []string `json:"units"`
}

func (a *App) apiPutResponsibility(c *fiber.Ctx) error {
	var in responsibilityRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	rg, err := a.platform.grids.PutResponsibility(c.UserContext(), grids.ResponsibilityGrid{Code: c.Params("code"), Name: in.Name, InspectorID: in.InspectorID, Units: in.Units})
	if err != nil {
		return err
	}
	return c.JSON(rg)
}

func (a *App) apiDeleteResponsibility(c *fiber.Ctx) error {
	if err := a.platform.grids.DeleteResponsibility(c.UserContext(), c.Params("code")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- catalog, components, standards ---

func parseKindParam(s string) (catalog.Kind, error) {
	if s == "" {
		return "", nil
	}
	k, ok := catalog.ParseKind(s)
	if !ok {
		return "", errs.Field("kind", msgKindComponentEvent)
	}
	return k, nil
}

func (a *App) apiListClasses(c *fiber.Ctx) error {
	k, err := parseKindParam(c.Query("kind"))
	if err != nil {
		return err
	}
	cs, err := a.platform.catalog.FindClasses(c.UserContext(), catalog.ClassFilter{Kind: k, Level: c.Query("level"), Major: c.Query("major")})
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// apiLookupClass returns a class; a minor class comes with its standards.
func (a *App) apiLookupClass(c *fiber.Ctx) error {
	k, err := parseKindParam(c.Params("kind"))
	if err != nil || k == "" {
		return errs.E(errs.NotFound, msgNoClassKind, c.Params("kind"))
	}
	cl, err := a.platform.catalog.FindClass(c.UserContext(), k, c.Params("code"))
	if err != nil {
		return err
	}
	if cl.Level != "minor" {
		return c.JSON(catalog.Entry{Class: *cl, Standards: []catalog.Standard{}})
	}
	e, err := a.platform.catalog.Lookup(c.UserContext(), k, c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (a *App) apiCreateClass(c *fiber.Ctx) error {
	var in catalog.ClassInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cl, err := a.platform.catalog.CreateClass(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cl)
}

func (a *App) apiDeleteClass(c *fiber.Ctx) error {
	k, err := parseKindParam(c.Params("kind"))
	if err != nil || k == "" {
		return errs.E(errs.NotFound, msgNoClassKind, c.Params("kind"))
	}
	if err := a.platform.catalog.DeleteClass(c.UserContext(), k, c.Params("code")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiSyncPrefectureClasses copies the parent prefecture's own extension classes into this
// county (catalog.Service.SyncFromPrefecture, which audits it).
func (a *App) apiSyncPrefectureClasses(c *fiber.Ctx) error {
	parent, n, err := a.platform.catalog.SyncFromPrefecture(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"prefecture": parent.Slug, "classes": n})
}

func (a *App) apiListComponents(c *fiber.Ctx) error {
	cs, err := a.platform.catalog.FindComponents(c.UserContext(), catalog.ComponentFilter{ClassCode: c.Query("class"), GridCode: c.Query("grid"), After: c.Query("after"), Limit: c.QueryInt("limit")})
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

func (a *App) apiGetComponent(c *fiber.Ctx) error {
	cm, err := a.platform.catalog.FindComponentByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

func (a *App) apiListStandards(c *fiber.Ctx) error {
	k, err := parseKindParam(c.Query("kind"))
	if err != nil {
		return err
	}
	st, err := a.platform.catalog.FindStandards(c.UserContext(), catalog.StandardFilter{Kind: k, ClassCode: c.Query("class")})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (a *App) apiGetStandard(c *fiber.Ctx) error {
	st, err := a.platform.catalog.FindStandardByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// --- calendar ---

func (a *App) apiGetCalendar(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st, err := a.platform.calendar.FindSettings(ctx)
	if err != nil {
		return err
	}
	days, err := a.platform.calendar.FindDays(ctx, c.QueryInt("year"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settings": st, "days": days})
}

func (a *App) apiPutCalendar(c *fiber.Ctx) error {
	var in calendar.Settings
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	st, err := a.platform.calendar.UpdateSettings(c.UserContext(), in, principal(c).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// apiDeadline previews a deadline: ?start=RFC3339&limit=4工作时 (or amount=&unit=), optional
// now=, extension= (repeatable, like limit) and pause=FROM/TO (repeatable; TO may be empty for a
// pause still open).
func (a *App) apiDeadline(c *fiber.Ctx) error {
	parseTime := func(name, v string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, errs.Field(name, msgTimeNotRfcT09, v)
		}
		return t, nil
	}
	start, err := parseTime("start", c.Query("start"))
	if err != nil {
		return err
	}
	var tm calendar.Timer
	tm.Start = start
	if l := c.Query("limit"); l != "" {
		if tm.Limit, err = calendar.ParseLimit(l); err != nil {
			return err
		}
	} else {
		u, err := calendar.ParseUnit(c.Query("unit"))
		if err != nil {
			return err
		}
		amount, err := strconv.ParseFloat(c.Query("amount"), 64)
		if err != nil {
			return errs.Field("amount", msgGiveLimitLimitAmountUnit)
		}
		tm.Limit = calendar.Limit{Amount: amount, Unit: u}
	}
	args := c.Context().QueryArgs()
	for _, v := range args.PeekMulti("extension") {
		l, err := calendar.ParseLimit(string(v))
		if err != nil {
			return err
		}
		tm.Extensions = append(tm.Extensions, l)
	}
	for _, v := range args.PeekMulti("pause") {
		from, to, _ := strings.Cut(string(v), "/")
		var p calendar.Interval
		if p.From, err = parseTime("pause", from); err != nil {
			return err
		}
		if to != "" {
			if p.To, err = parseTime("pause", to); err != nil {
				return err
			}
		}
		tm.Pauses = append(tm.Pauses, p)
	}
	now := a.store.Now()
	if v := c.Query("now"); v != "" {
		if now, err = parseTime("now", v); err != nil {
			return err
		}
	}
	st, err := a.platform.calendar.Preview(c.UserContext(), tm, now)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"timer": tm, "now": now, "status": st})
}
