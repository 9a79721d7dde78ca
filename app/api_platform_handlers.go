package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/gofiber/fiber/v2"
)

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
