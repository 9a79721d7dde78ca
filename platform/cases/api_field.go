package cases

import (
	"errors"
	"mime"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// fieldRoutes are 城管通's API: a report with its photos in one request, an action and a batch
// of track points, each idempotent by the Idempotency-Key header; the inspector's tasks; the
// tracks of a day.
func (h api) fieldRoutes(r module.Router) {
	r.Post("/field/reports", h.fieldReport)
	r.Post("/field/cases/:id/actions/:action", h.fieldAct)
	r.Get("/field/tasks", h.fieldTasks)
	r.Post("/field/tracks", h.fieldTrack)
	r.Get("/field/tracks", h.fieldTracks)
}

// idempotencyKey is the request's key: the Idempotency-Key header, or the form field
// idempotency_key of a multipart report.
func idempotencyKey(c *fiber.Ctx) string {
	if k := c.Get("Idempotency-Key"); k != "" {
		return strings.Clone(k)
	}
	return strings.Clone(c.FormValue("idempotency_key"))
}

// fieldReport takes a multipart form: "report" is the report's JSON (ReportInput), each "photo"
// part a photo. 201 with the case when made, 200 with the same case for a retry.
func (h api) fieldReport(c *fiber.Ctx) error {
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "multipart/form-data" {
		return errs.E(errs.Unsupported, msgFieldReportPart)
	}
	form, err := c.MultipartForm()
	if err != nil {
		if errors.Is(err, fiber.ErrRequestEntityTooLarge) {
			return err
		}
		return errs.E(errs.Invalid, msgFieldReportPart)
	}
	vals := form.Value["report"]
	if len(vals) != 1 {
		return errs.Field("report", msgFieldReportPart)
	}
	var in ReportInput
	if err := module.UnmarshalJSON([]byte(vals[0]), &in); err != nil {
		return err
	}
	for name, v := range map[string]string{"description": in.Description, "address": in.Address, "class_code": in.ClassCode,
		"reporter_name": in.ReporterName, "reporter_phone": in.ReporterPhone, "source": string(in.Source), "kind": string(in.Kind)} {
		if strings.ContainsRune(v, 0) {
			return errs.Field(name, msgFieldNUL, name)
		}
	}
	files := form.File["photo"]
	if len(files) > MaxFieldPhotos {
		return errs.Field("photo", msgTooManyPhotos, MaxFieldPhotos)
	}
	photos := make([][]byte, 0, len(files))
	for _, fh := range files {
		data, err := ReadPhoto(fh, "photo")
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return errs.Field("photo", msgPhotoEmpty)
		}
		photos = append(photos, data)
	}
	cs, created, err := h.s.ReportOnce(c.UserContext(), idempotencyKey(c), in, photos)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(cs)
}

func (h api) fieldAct(c *fiber.Ctx) error {
	var in ActionInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if strings.ContainsRune(in.Reason, 0) {
		return errs.Field("reason", msgFieldNUL, "reason")
	}
	cs, created, err := h.s.ActOnce(c.UserContext(), idempotencyKey(c), c.Params("id"), Action(c.Params("action")), in)
	if err != nil {
		return err
	}
	if created {
		return c.Status(fiber.StatusCreated).JSON(cs)
	}
	return c.JSON(cs)
}

// fieldTasks lists the cases waiting for the caller as an inspector: 核实 (verifying) and 核查
// (checking), most pressing first.
func (h api) fieldTasks(c *fiber.Ctx) error {
	sc := module.Scope(c)
	if sc == nil || !sc.Has(tenants.Inspector) {
		return errs.E(errs.Forbidden, msgTrackInspectorOnly)
	}
	page, err := h.s.FindQueue(c.UserContext(), Queue{States: WaitingStates(tenants.Inspector), Soon: time.Hour})
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h api) fieldTrack(c *fiber.Ctx) error {
	var in TrackBatchInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	b, err := h.s.RecordTrack(c.UserContext(), idempotencyKey(c), in)
	if err != nil {
		return err
	}
	if b.Created {
		return c.Status(fiber.StatusCreated).JSON(b)
	}
	return c.JSON(b)
}

// ParseDay reads the query's date (YYYY-MM-DD, China's time zone), today when absent.
func ParseDay(c *fiber.Ctx, now time.Time) (time.Time, error) {
	v := c.Query("date")
	if v == "" {
		return now.In(clock.China), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, clock.China)
	if err != nil {
		return time.Time{}, errs.Field("date", msgFieldDate)
	}
	return d, nil
}

func (h api) fieldTracks(c *fiber.Ctx) error {
	day, err := ParseDay(c, h.s.clock())
	if err != nil {
		return err
	}
	ts, err := h.s.FindTracks(c.UserContext(), day)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"date": day.Format(time.DateOnly), "tracks": ts})
}
