package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/gofiber/fiber/v2"
)

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
