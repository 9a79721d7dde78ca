package app

import (
	"context"
	"io"
	"mime"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// newCases builds the case loop over the gate, the tenant keys and billing's usage meter, and
// puts its photos into tenant exports.
func (a *App) newCases() *cases.Service {
	s := cases.NewService(cases.Config{Gate: a.store, Tenants: a.store, Cipher: a.secrets, Usage: a.billing,
		PhotoDir: filepath.Join(a.cfg.DataDir, "photos"), Now: a.store.Now, Logger: a.log,
		Places: a.platform.grids.Index(), Classes: a.platform.catalog.Entries()})
	a.store.AddExportFiles(s.PhotoExport())
	return s
}

// caseRoutes adds the case loop's API. Which post may take which action is the service's
// business (platform/cases.Machine); the HTTP layer only refuses writes to read-only scopes
// (in tenantScope) and translates.
func (a *App) caseRoutes(t fiber.Router) {
	t.Post("/cases", a.apiReportCase)
	t.Get("/cases", a.apiListCases)
	t.Get("/cases.geojson", a.apiCasesGeoJSON)
	t.Get("/cases/:id", a.apiGetCase)
	t.Post("/cases/:id/actions/:action", a.apiCaseAction)
	t.Post("/cases/:id/photos", a.apiAddCasePhoto)
	t.Get("/cases/:id/photos/:photo", a.apiGetCasePhoto)
	t.Get("/case-stage-limits", a.apiListStageLimits)
	t.Put("/case-stage-limits/:stage", a.needRole(tenants.TenantAdmin), a.apiPutStageLimit)
}

func (a *App) apiListStageLimits(c *fiber.Ctx) error {
	ls, err := a.cases.FindStageLimits(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"stages": ls})
}

func (a *App) apiPutStageLimit(c *fiber.Ctx) error {
	var in cases.StageLimitInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	l, err := a.cases.PutStageLimit(c.UserContext(), cases.Stage(c.Params("stage")), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (a *App) apiReportCase(c *fiber.Ctx) error {
	var in cases.ReportInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cs, err := a.cases.Report(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cs)
}

func (a *App) apiGetCase(c *fiber.Ctx) error {
	cs, err := a.cases.FindCaseByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

func (a *App) apiCaseAction(c *fiber.Ctx) error {
	var in cases.ActionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cs, err := a.cases.Act(c.UserContext(), c.Params("id"), cases.Action(c.Params("action")), in)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// caseFilter reads the list's query: state (comma list), kind, class_code, grid, department,
// source, overdue (any clock), stage, stage_overdue, supervised, from, to (RFC 3339 or a date),
// cursor, limit, bbox.
func caseFilter(c *fiber.Ctx) (cases.Filter, error) {
	f := cases.Filter{Kind: c.Query("kind"), ClassCode: c.Query("class_code"), GridCode: c.Query("grid"),
		DepartmentID: c.Query("department"), Source: cases.Source(c.Query("source")), Cursor: c.Query("cursor"),
		Stage: cases.Stage(c.Query("stage"))}
	if s := c.Query("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			f.States = append(f.States, cases.State(strings.TrimSpace(st)))
		}
	}
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"overdue", &f.Overdue}, {"stage_overdue", &f.StageOverdue}, {"supervised", &f.Supervised}} {
		if v := c.Query(b.name); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				return f, errs.Field(b.name, msgTrueFalse, b.name)
			}
			*b.dst = &x
		}
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := c.Query(d.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, v, clock.China); err != nil {
				return f, errs.Field(d.name, msgDateRfcTime, d.name)
			}
			if d.name == "to" {
				t = t.AddDate(0, 0, 1) // a date is inclusive: to=2026-03-02 takes in all of that day
			}
		}
		*d.dst = &t
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, errs.Field("limit", msgLimitPositiveNumberMost)
		}
		f.Limit = n
	}
	if v := c.Query("bbox"); v != "" {
		parts := strings.Split(v, ",")
		var b [4]float64
		if len(parts) != 4 {
			return f, errs.Field("bbox", msgBboxMinlonMinlatMaxlonMaxlat)
		}
		for i, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return f, errs.Field("bbox", msgBboxMinlonMinlatMaxlonMaxlat)
			}
			b[i] = x
		}
		f.BBox = &b
	}
	return f, nil
}

func (a *App) apiListCases(c *fiber.Ctx) error {
	f, err := caseFilter(c)
	if err != nil {
		return err
	}
	f.BBox = nil
	page, err := a.cases.FindCases(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (a *App) apiCasesGeoJSON(c *fiber.Ctx) error {
	f, err := caseFilter(c)
	if err != nil {
		return err
	}
	fc, err := a.cases.GeoJSON(c.UserContext(), f)
	if err != nil {
		return err
	}
	b, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	return c.Send(b)
}

// apiAddCasePhoto takes the photo as the request body or as the form field "file". Its type is
// judged by its bytes, not by the header.
func (a *App) apiAddCasePhoto(c *fiber.Ctx) error {
	data := c.Body()
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt == "multipart/form-data" {
		fh, err := c.FormFile("file")
		if err != nil {
			return errs.Field("file", msgSendPhotoFormFieldFile)
		}
		f, err := fh.Open()
		if err != nil {
			return errs.Field("file", msgUploadedPhotoCannotRead)
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, module.MaxUpload+1)); err != nil {
			return errs.Field("file", msgUploadedPhotoCannotRead)
		}
	}
	if len(data) == 0 {
		return errs.E(errs.Invalid, msgPhotoEmpty)
	}
	p, err := a.cases.AddPhoto(c.UserContext(), c.Params("id"), data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (a *App) apiGetCasePhoto(c *fiber.Ctx) error {
	p, data, err := a.cases.FindPhoto(c.UserContext(), c.Params("id"), c.Params("photo"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.MediaType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(data)
}

// runOverdue marks overdue cases in every active tenant every interval until ctx ends
// (cases.Service.MarkOverdueAll, four tenants at a time; it logs a failing tenant itself). Each
// run recomputes from the database, so nothing is lost across restarts.
func (a *App) runOverdue(ctx context.Context, interval time.Duration) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		if _, err := a.cases.MarkOverdueAll(ctx, 4); err != nil && ctx.Err() == nil {
			a.log.Error("overdue job", "err", err)
		}
	})
}
