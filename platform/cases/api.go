package cases

import (
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// api is the module's JSON API.
type api struct{ s *Service }

// routes adds the API. Which post may take which action is the service's business (Machine); the
// HTTP layer only translates (writes by read-only scopes are refused before it). Setting a stage
// limit is the tenant admin's.
func (h api) routes(r module.Router) {
	r.Post("/cases", h.report)
	r.Get("/cases", h.list)
	r.Get("/cases.geojson", h.geoJSON)
	r.Get("/cases/:id", h.get)
	r.Post("/cases/:id/actions/:action", h.act)
	r.Post("/cases/:id/photos", h.addPhoto)
	r.Get("/cases/:id/photos/:photo", h.getPhoto)
	r.Get("/case-stage-limits", h.listStageLimits)
	r.Put("/case-stage-limits/:stage", module.NeedRole(tenants.TenantAdmin), h.putStageLimit)
	h.fieldRoutes(r)
}

func (h api) listStageLimits(c *fiber.Ctx) error {
	ls, err := h.s.FindStageLimits(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"stages": ls})
}

func (h api) putStageLimit(c *fiber.Ctx) error {
	var in StageLimitInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := h.s.PutStageLimit(c.UserContext(), Stage(c.Params("stage")), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (h api) report(c *fiber.Ctx) error {
	var in ReportInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	cs, err := h.s.Report(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cs)
}

func (h api) get(c *fiber.Ctx) error {
	cs, err := h.s.FindCaseByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

func (h api) act(c *fiber.Ctx) error {
	var in ActionInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	cs, err := h.s.Act(c.UserContext(), c.Params("id"), Action(c.Params("action")), in)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// QueryFilter reads a case list's filter from the query: state (comma list), kind, class_code,
// grid, department, source, overdue (any clock), stage, stage_overdue, supervised, from, to
// (RFC 3339 or a date), import_run (the cases a vendor import run created or updated), survey
// (answered, solved, not_solved: the citizens' survey), cursor, limit, bbox. The API and the console's list and map read it so.
func QueryFilter(c *fiber.Ctx) (Filter, error) {
	f := Filter{Kind: c.Query("kind"), ClassCode: c.Query("class_code"), GridCode: c.Query("grid"),
		DepartmentID: c.Query("department"), Source: Source(c.Query("source")), Cursor: c.Query("cursor"),
		Stage: Stage(c.Query("stage")), ImportRun: c.Query("import_run"), Survey: c.Query("survey")}
	if s := c.Query("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			f.States = append(f.States, State(strings.TrimSpace(st)))
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
			return f, errs.Field("bbox", msgBboxFourNumbers)
		}
		for i, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return f, errs.Field("bbox", msgBboxFourNumbers)
			}
			b[i] = x
		}
		f.BBox = &b
	}
	return f, nil
}

func (h api) list(c *fiber.Ctx) error {
	f, err := QueryFilter(c)
	if err != nil {
		return err
	}
	f.BBox = nil
	page, err := h.s.FindCases(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h api) geoJSON(c *fiber.Ctx) error {
	f, err := QueryFilter(c)
	if err != nil {
		return err
	}
	fc, err := h.s.GeoJSON(c.UserContext(), f)
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

// addPhoto takes the photo as the request body or as the form field "file". Its type is judged
// by its bytes, not by the header. (Not module.ReadUpload: that one tells the format from the
// media type or the file name, which a photo's bytes decide here.)
func (h api) addPhoto(c *fiber.Ctx) error {
	data := c.Body()
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt == "multipart/form-data" {
		fh, err := c.FormFile("file")
		if err != nil {
			return errs.Field("file", msgSendPhotoFormFieldFile)
		}
		if data, err = ReadPhoto(fh, "file"); err != nil {
			return err
		}
	}
	if len(data) == 0 {
		return errs.E(errs.Invalid, msgPhotoEmpty)
	}
	p, err := h.s.AddPhoto(c.UserContext(), c.Params("id"), data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// ReadPhoto reads an uploaded photo, at most one byte more than module.MaxUpload (so that
// AddPhoto or CheckPhoto refuses a larger one); field names the form field in its errors. The API
// and the console's forms read photos so.
func ReadPhoto(fh *multipart.FileHeader, field string) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, errs.Field(field, msgUploadedPhotoCannotRead)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, module.MaxUpload+1))
	if err != nil {
		return nil, errs.Field(field, msgUploadedPhotoCannotRead)
	}
	return data, nil
}

func (h api) getPhoto(c *fiber.Ctx) error {
	p, data, err := h.s.FindPhoto(c.UserContext(), c.Params("id"), c.Params("photo"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.MediaType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(data)
}
