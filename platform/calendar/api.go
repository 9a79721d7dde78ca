package calendar

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// api is the module's JSON API.
type api struct {
	s   *Service
	now func() time.Time
}

// routes adds the API. Reads are open to every member and to read-only scopes (prefecture
// viewers, support); writes need tenant_admin, since configuring the calendar is the county
// admin's job.
func (h api) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/calendar", h.get)
	r.Put("/calendar", admin, h.put)
	r.Get("/calendar/deadline", h.deadline)
	r.Post("/calendar/import", admin, module.Import([]string{"text/csv", module.XLSXType, "application/json"},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			year, err := strconv.Atoi(c.Query("year"))
			if err != nil {
				return nil, errs.Field("year", msgGiveYearBeingImportedYear)
			}
			return h.s.ImportYear(c.UserContext(), year, data, format, dry)
		}))
}

func (h api) get(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st, err := h.s.FindSettings(ctx)
	if err != nil {
		return err
	}
	days, err := h.s.FindDays(ctx, c.QueryInt("year"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settings": st, "days": days})
}

func (h api) put(c *fiber.Ctx) error {
	var in Settings
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.s.UpdateSettings(c.UserContext(), in, tenants.PrincipalFrom(c.UserContext()).Identity.Email)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// deadline previews a deadline: ?start=RFC3339&limit=4工作时 (or amount=&unit=), optional
// now=, extension= (repeatable, like limit) and pause=FROM/TO (repeatable; TO may be empty for a
// pause still open).
func (h api) deadline(c *fiber.Ctx) error {
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
	var tm Timer
	tm.Start = start
	if l := c.Query("limit"); l != "" {
		if tm.Limit, err = ParseLimit(l); err != nil {
			return err
		}
	} else {
		u, err := ParseUnit(c.Query("unit"))
		if err != nil {
			return err
		}
		amount, err := strconv.ParseFloat(c.Query("amount"), 64)
		if err != nil {
			return errs.Field("amount", msgGiveLimitLimitAmountUnit)
		}
		tm.Limit = Limit{Amount: amount, Unit: u}
	}
	args := c.Context().QueryArgs()
	for _, v := range args.PeekMulti("extension") {
		l, err := ParseLimit(string(v))
		if err != nil {
			return err
		}
		tm.Extensions = append(tm.Extensions, l)
	}
	for _, v := range args.PeekMulti("pause") {
		from, to, _ := strings.Cut(string(v), "/")
		var p Interval
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
	now := h.now()
	if v := c.Query("now"); v != "" {
		if now, err = parseTime("now", v); err != nil {
			return err
		}
	}
	st, err := h.s.Preview(c.UserContext(), tm, now)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"timer": tm, "now": now, "status": st})
}
