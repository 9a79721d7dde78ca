package exchange

import (
	"context"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

type handlers struct {
	s       *Service
	hotline *Hotline
	im      *Importer
	k       module.Kit
}

// code is the request's destination code, copied out of fiber's buffer.
func code(c *fiber.Ctx) string { return strings.Clone(c.Params("code")) }

// apiDestinations is GET /exchange/destinations: the tenant's destinations with their backlog,
// last delivery and (masked) credential.
func (h *handlers) apiDestinations(c *fiber.Ctx) error {
	ds, err := h.s.FindDestinations(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ds)
}

// apiDestination is GET /exchange/destinations/:code.
func (h *handlers) apiDestination(c *fiber.Ctx) error {
	d, err := h.s.FindDestinationByCode(c.UserContext(), code(c))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// apiPutDestination is PUT /exchange/destinations/:code (tenant admin): creates or changes it.
func (h *handlers) apiPutDestination(c *fiber.Ctx) error {
	var in DestinationInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.s.PutDestination(c.UserContext(), code(c), in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// apiDeleteDestination is DELETE /exchange/destinations/:code (tenant admin).
func (h *handlers) apiDeleteDestination(c *fiber.Ctx) error {
	if err := h.s.DeleteDestination(c.UserContext(), code(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// intQuery reads a whole number from the query; def when absent.
func intQuery(c *fiber.Ctx, name string, def int64, m func(v string) error) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, m(textutil.Truncate(v, 20))
	}
	return n, nil
}

// apiLog is GET /exchange/destinations/:code/log: the delivery log, newest first (?before=id
// pages back, ?limit= at most 500).
func (h *handlers) apiLog(c *fiber.Ctx) error {
	before, err := intQuery(c, "before", 0, func(v string) error { return errs.Field("before", msgBefore, v) })
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", 100, func(v string) error { return errs.Field("limit", msgRange, "limit", 1, 500) })
	if err != nil {
		return err
	}
	log, err := h.s.FindLog(c.UserContext(), code(c), before, int(min(limit, 500)))
	if err != nil {
		return err
	}
	return c.JSON(log)
}

// apiItems is GET /exchange/destinations/:code/items?status=dead|pending|failing: the outbox's
// rows, oldest first.
func (h *handlers) apiItems(c *fiber.Ctx) error {
	limit, err := intQuery(c, "limit", 100, func(v string) error { return errs.Field("limit", msgRange, "limit", 1, 500) })
	if err != nil {
		return err
	}
	es, err := h.s.FindEntries(c.UserContext(), code(c), strings.Clone(c.Query("status", "dead")), int(min(limit, 500)))
	if err != nil {
		return err
	}
	return c.JSON(es)
}

// apiReplay is POST /exchange/destinations/:code/replay (tenant admin): 202 with what was queued.
func (h *handlers) apiReplay(c *fiber.Ctx) error {
	var in ReplayInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	res, err := h.s.Replay(c.UserContext(), code(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(res)
}

// retryInput names the dead items to retry; none retries them all.
type retryInput struct {
	IDs []int64 `json:"ids,omitempty"`
}

// apiRetry is POST /exchange/destinations/:code/retry (tenant admin): the dead items back in
// the queue.
func (h *handlers) apiRetry(c *fiber.Ctx) error {
	var in retryInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	n, err := h.s.RetryDead(c.UserContext(), code(c), in.IDs)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"retried": n})
}

// apiUnits is GET /exchange/units: the upward connection of every county the caller reads below
// the tenant (a prefecture's); empty for a county.
func (h *handlers) apiUnits(c *fiber.Ctx) error {
	us, err := h.units(c)
	if err != nil {
		return err
	}
	return c.JSON(us)
}

// units reads the counties the caller reads below the request's tenant, auditing each read as
// the tenant scope middleware does.
func (h *handlers) units(c *fiber.Ctx) ([]UnitStatus, error) {
	ctx, path := c.UserContext(), strings.Clone(c.Path())
	scopes, err := h.k.Store.ReadableUnder(ctx, module.Principal(c), module.Scope(c).Tenant)
	if err != nil {
		return nil, err
	}
	return h.s.Units(ctx, scopes, func(ctx context.Context, sc *tenants.Scope) error {
		return h.k.Store.AuditCrossRead(ctx, sc, fiber.MethodGet, path)
	})
}

// apiWorkOrder is POST /exchange/hotline/work-orders (the acceptor's post: the 12345 hotline's
// system): the work order becomes a case (201), or is one already (200).
func (h *handlers) apiWorkOrder(c *fiber.Ctx) error {
	var in WorkOrderInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	// The decoder copies strings out of fiber's buffer; NUL and other control bytes are refused
	// by the check before anything reaches the database.
	wo, created, err := h.hotline.SubmitWorkOrder(c.UserContext(), in)
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(wo)
}

// number is the request's work-order number, copied out of fiber's buffer.
func number(c *fiber.Ctx) string { return strings.Clone(c.Params("number")) }

// apiFindWorkOrder is GET /exchange/hotline/work-orders/:number: the work order and its case.
func (h *handlers) apiFindWorkOrder(c *fiber.Ctx) error {
	wo, err := h.hotline.FindWorkOrder(c.UserContext(), number(c))
	if err != nil {
		return err
	}
	return c.JSON(wo)
}

// apiSatisfaction is PUT /exchange/hotline/work-orders/:number/satisfaction (the acceptor's
// post: the hotline's system): the citizen's satisfaction from the return visit.
func (h *handlers) apiSatisfaction(c *fiber.Ctx) error {
	var in SatisfactionInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	wo, err := h.hotline.SetSatisfaction(c.UserContext(), number(c), in)
	if err != nil {
		return err
	}
	return c.JSON(wo)
}
