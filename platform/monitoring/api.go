package monitoring

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// handlers serve the module's API, pages and ingest.
type handlers struct {
	s *Service
	k module.Kit
}

// routes adds the JSON API. Reads are open to every member and to read-only scopes (prefecture
// viewers, support); writes need tenant_admin.
func (h *handlers) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/monitoring/types", h.apiTypes)
	r.Get("/monitoring/devices", h.apiDevices)
	r.Post("/monitoring/devices", admin, h.apiCreateDevice)
	r.Post("/monitoring/devices/import", admin, h.apiImport)
	r.Get("/monitoring/devices/:code", h.apiDevice)
	r.Patch("/monitoring/devices/:code", admin, h.apiUpdateDevice)
	r.Delete("/monitoring/devices/:code", admin, h.apiDeleteDevice)
	r.Post("/monitoring/devices/:code/token", admin, h.apiRotateToken)
	r.Get("/monitoring/devices/:code/readings", h.apiReadings)
	r.Get("/monitoring/rejections", h.apiRejections)
	r.Get("/monitoring/quota", h.apiQuota)
	r.Get("/monitoring/settings", h.apiSettings)
	r.Get("/monitoring/live", h.liveFeed)
	r.Put("/monitoring/settings", admin, h.apiPutSettings)
	h.alarmRoutes(r)
}

// typeView is a device type as the API lists it, with its names.
type typeView struct {
	Type
	NameZH  string       `json:"name_zh"`
	NameEN  string       `json:"name_en"`
	Metrics []metricView `json:"metrics"`
}

type metricView struct {
	Metric
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
}

func (h *handlers) apiTypes(c *fiber.Ctx) error {
	out := make([]typeView, len(Types))
	for i := range Types {
		t := &Types[i]
		out[i] = typeView{Type: *t, NameZH: t.Name("zh-CN"), NameEN: t.Name("en")}
		for j := range t.Metrics {
			m := &t.Metrics[j]
			out[i].Metrics = append(out[i].Metrics, metricView{Metric: *m, NameZH: m.Name("zh-CN"), NameEN: m.Name("en")})
		}
	}
	return c.JSON(out)
}

func (h *handlers) apiDevices(c *fiber.Ctx) error {
	ds, err := h.s.FindDevices(c.UserContext(), DeviceFilter{Type: c.Query("type"), Status: c.Query("status"), GridCode: c.Query("grid"),
		After: c.Query("after"), Limit: c.QueryInt("limit")})
	if err != nil {
		return err
	}
	return c.JSON(ds)
}

// withToken is a device with its token, shown this once.
type withToken struct {
	*Device
	Token string `json:"token"`
}

func (h *handlers) apiCreateDevice(c *fiber.Ctx) error {
	var in DeviceInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, tok, err := h.s.CreateDevice(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(withToken{d, tok})
}

func (h *handlers) apiImport(c *fiber.Ctx) error {
	data, format, err := module.ReadUpload(c, []string{"text/csv", module.XLSXType})
	if err != nil {
		return err
	}
	rep, made, err := h.s.ImportDevices(c.UserContext(), data, format, c.QueryBool("dry_run"))
	var rej *tabular.Rejected
	if errors.As(err, &rej) {
		return module.ImportProblem(c, rej.Report)
	}
	if err != nil {
		return err
	}
	if made == nil {
		made = []ImportedDevice{}
	}
	return c.JSON(struct {
		*tabular.Report
		Devices []ImportedDevice `json:"devices"`
	}{rep, made})
}

// deviceView is a device with its latest readings.
type deviceView struct {
	*Device
	Latest []Latest `json:"latest"`
}

func (h *handlers) apiDevice(c *fiber.Ctx) error {
	d, err := h.s.FindDeviceByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	l, err := h.s.FindLatest(c.UserContext(), d)
	if err != nil {
		return err
	}
	return c.JSON(deviceView{d, l})
}

func (h *handlers) apiUpdateDevice(c *fiber.Ctx) error {
	var in DeviceInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.s.UpdateDevice(c.UserContext(), c.Params("code"), in)
	if err != nil {
		return err
	}
	st, err := h.s.FindSettings(c.UserContext())
	if err != nil {
		return err
	}
	h.s.fill(d, st)
	return c.JSON(d)
}

func (h *handlers) apiDeleteDevice(c *fiber.Ctx) error {
	if err := h.s.DeleteDevice(c.UserContext(), c.Params("code")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *handlers) apiRotateToken(c *fiber.Ctx) error {
	d, tok, err := h.s.RotateToken(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(withToken{d, tok})
}

// parseTime reads a query time: a date (YYYY-MM-DD, the start of that day in China time) or
// an RFC 3339 time; def when empty.
func parseTime(field, s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, clock.China); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, errs.Field(field, msgBadTime, field)
	}
	return t, nil
}

// apiReadings answers a device's metric over ?from..?to (default the last 24 hours) at
// ?resolution (default chosen by the period), as JSON or, with ?format=csv, as CSV with a
// UTF-8 byte order mark (so that Excel reads the units right).
func (h *handlers) apiReadings(c *fiber.Ctx) error {
	ctx := c.UserContext()
	d, err := h.s.FindDeviceByCode(ctx, c.Params("code"))
	if err != nil {
		return err
	}
	now := h.s.now()
	// By default the last 24 hours, up to the latest reading a device may send (MaxSkew ahead).
	to, err := parseTime("to", c.Query("to"), now.Add(MaxSkew))
	if err != nil {
		return err
	}
	from, err := parseTime("from", c.Query("from"), now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	metric := c.Query("metric")
	if typ, _ := FindType(d.Type); metric == "" && len(typ.Metrics) > 0 {
		metric = typ.Metrics[0].Code
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return errs.Field("format", msgFormat)
	}
	ser, err := h.s.FindSeries(ctx, d, metric, from, to, c.Query("resolution"))
	if err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(ser)
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Write([]string{"at", "count", "min", "max", "avg", "last", "unit"})
	for _, p := range ser.Points {
		w.Write([]string{p.At.Format(time.RFC3339Nano), strconv.FormatInt(p.N, 10), fmtFloat(p.Min), fmtFloat(p.Max), fmtFloat(p.Avg), fmtFloat(p.Last), ser.Unit})
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, d.Code, ser.Metric, ser.Resolution))
	return c.Send(buf.Bytes())
}

func (h *handlers) apiRejections(c *fiber.Ctx) error {
	rs, err := h.s.FindRejections(c.UserContext(), c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (h *handlers) apiSettings(c *fiber.Ctx) error {
	st, err := h.s.FindSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h *handlers) apiPutSettings(c *fiber.Ctx) error {
	var in struct {
		RawDays        int `json:"raw_days"`
		MinuteDays     int `json:"minute_days"`
		HourDays       int `json:"hour_days"`
		DayDays        int `json:"day_days"`
		OfflineMinutes int `json:"offline_minutes"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.s.UpdateSettings(c.UserContext(), Settings{RawDays: in.RawDays, MinuteDays: in.MinuteDays, HourDays: in.HourDays,
		DayDays: in.DayDays, OfflineMinutes: in.OfflineMinutes})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// ingest is POST /api/v1/ingest/:tenant/readings: a device's batch, with its token as the
// bearer token. Accepted readings are metered on sensor_readings after the commit, one record
// per batch (idempotent by the batch), whatever the tenant's quota: nothing is dropped for
// billing. Rejections are counted (in the tenant and in Prometheus) and answered per reason.
func (h *handlers) ingest(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, tok, err := h.machine(c)
	if err != nil {
		return err
	}
	var b Batch
	if err := module.DecodeJSON(c, &b); err != nil {
		return err
	}
	res, err := h.s.Ingest(tenants.WithScope(ctx, tenants.SystemScope(t)), tok, b)
	if errs.Is(err, errs.Unauthorized) {
		h.s.stats.unauthorized.WithLabelValues(t.Slug).Inc()
	}
	if err != nil {
		return err
	}
	h.s.stats.count(t.Slug, res)
	if res.Accepted > 0 && h.k.Usage != nil {
		key := "monitoring.batch:" + res.Device + ":" + res.Batch
		if err := h.k.Usage.Record(ctx, t.ID, billing.MeterSensorReadings, int64(res.Accepted), key); err != nil {
			// The readings are stored; the batch sent again records its usage then.
			h.k.Log.Error("monitoring: recording usage", "tenant", t.Slug, "batch", res.Batch, "err", err)
		}
	}
	return c.JSON(res)
}

// machine authenticates a machine route's caller: the tenant of the path, the device token given
// as the bearer token (checked against the tenant's devices by the service) and the tenant's plan.
func (h *handlers) machine(c *fiber.Ctx) (*tenants.Tenant, string, error) {
	ctx := c.UserContext()
	slug := c.Params("tenant")
	t, err := h.k.Store.FindTenantBySlug(ctx, slug)
	if err != nil || t.Status == tenants.StatusDeleted {
		return nil, "", errs.E(errs.NotFound, msgNoTenant, textutil.Truncate(slug, 40))
	}
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if tok = strings.TrimSpace(tok); !ok || tok == "" {
		h.s.stats.unauthorized.WithLabelValues(t.Slug).Inc()
		return nil, "", errs.E(errs.Unauthorized, msgSendDeviceToken)
	}
	if on, err := h.k.Entitled(ctx, t, Entitlement); err != nil {
		return nil, "", err
	} else if !on {
		return nil, "", errs.E(errs.Forbidden, msgNotEntitled, t.Slug)
	}
	return t, strings.Clone(tok), nil
}
