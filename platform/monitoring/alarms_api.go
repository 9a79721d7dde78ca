package monitoring

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// alarmRoutes adds the rules' and alarms' API: every member and read-only scope reads; the
// tenant's admins change rules; the posts of AlarmRoles act on alarms.
func (h *handlers) alarmRoutes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	acts := module.NeedRole(AlarmRoles...)
	r.Get("/monitoring/rules", h.apiRules)
	r.Post("/monitoring/rules", admin, h.apiCreateRule)
	r.Get("/monitoring/rules/:id", h.apiRule)
	r.Put("/monitoring/rules/:id", admin, h.apiUpdateRule)
	r.Delete("/monitoring/rules/:id", admin, h.apiDeleteRule)
	r.Get("/monitoring/alarms", h.apiAlarms)
	r.Get("/monitoring/alarms/:id", h.apiAlarm)
	for _, a := range []string{AlarmAcknowledge, AlarmClear, AlarmConfirm, AlarmDismiss} {
		r.Post("/monitoring/alarms/:id/"+a, acts, h.apiAct(a))
	}
}

func (h *handlers) apiRules(c *fiber.Ctx) error {
	rs, err := h.s.FindRules(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (h *handlers) apiRule(c *fiber.Ctx) error {
	r, err := h.s.FindRuleByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (h *handlers) apiCreateRule(c *fiber.Ctx) error {
	var in RuleInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := h.s.CreateRule(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (h *handlers) apiUpdateRule(c *fiber.Ctx) error {
	var in RuleInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := h.s.UpdateRule(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (h *handlers) apiDeleteRule(c *fiber.Ctx) error {
	if err := h.s.DeleteRule(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// alarmFilter reads ?state, ?device, ?changed_since (ms or RFC 3339) and ?limit.
func alarmFilter(c *fiber.Ctx) (AlarmFilter, error) {
	f := AlarmFilter{State: strings.Clone(c.Query("state")), Device: strings.Clone(c.Query("device")), Limit: c.QueryInt("limit")}
	if f.Device != "" && !validCode(f.Device) {
		return f, errs.Field("device", msgDeviceCode, f.Device)
	}
	if v := c.Query("changed_since"); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			f.ChangedSince = ms
		} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			f.ChangedSince = t.UnixMilli()
		} else {
			return f, errs.Field("changed_since", msgAlarmBadSince)
		}
	}
	return f, nil
}

func (h *handlers) apiAlarms(c *fiber.Ctx) error {
	f, err := alarmFilter(c)
	if err != nil {
		return err
	}
	as, err := h.s.FindAlarms(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(as)
}

func (h *handlers) apiAlarm(c *fiber.Ctx) error {
	a, err := h.s.FindAlarmByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// apiAct is POST /monitoring/alarms/:id/<action>, with an optional JSON body {"reason": …}.
func (h *handlers) apiAct(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in struct {
			Reason string `json:"reason"`
		}
		if len(c.Body()) > 0 {
			if err := module.DecodeJSON(c, &in); err != nil {
				return err
			}
		}
		a, err := h.s.ActOnAlarm(c.UserContext(), c.Params("id"), action, in.Reason)
		if err != nil {
			return err
		}
		return c.JSON(a)
	}
}
