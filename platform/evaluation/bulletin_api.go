package evaluation

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// unitsOf is how the publisher of a request compares the units below its tenant: a prefecture's
// counties as the caller reads them (each read audited), nil for a county.
func (h *handlers) unitsOf(c *fiber.Ctx) UnitsFunc {
	if module.Scope(c).Tenant.Kind != tenants.Prefecture {
		return nil
	}
	return func(_ context.Context, p Period) (*Comparison, error) { return h.compareUnits(c, p) }
}

// apiPublishBulletin is POST /evaluation/bulletins {"period": "2026-05"} (tenant admin): the
// period's bulletin, as its next version.
func (h *handlers) apiPublishBulletin(c *fiber.Ctx) error {
	var in struct {
		Period string `json:"period"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	b, err := h.bulletins.Publish(c.UserContext(), strings.TrimSpace(in.Period), h.unitsOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(b)
}

// apiBulletins is GET /evaluation/bulletins: every version of every bulletin, newest first.
func (h *handlers) apiBulletins(c *fiber.Ctx) error {
	list, err := h.bulletins.FindBulletins(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"bulletins": list})
}

// bulletinFile answers a bulletin's document (xlsx or pdf) as a download named after the tenant,
// the period and the version.
func (h *handlers) bulletinFile(format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := h.bulletins.FindBulletinByID(c.UserContext(), c.Params("id"))
		if err != nil {
			return err
		}
		body, ctype, sum := b.PDF, "application/pdf", b.PDFSHA256
		if format == "xlsx" {
			body, ctype, sum = b.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b.XLSXSHA256
		}
		name := "evaluation-bulletin-" + module.Scope(c).Tenant.Slug + "-" + b.Period + "-v" + strconv.Itoa(b.Version) + "." + format
		c.Set(fiber.HeaderContentType, ctype)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		c.Set("X-Content-SHA256", sum)
		return c.Send(body)
	}
}

// publishBulletinForm publishes from the evaluation page's form (tenant admin), then shows the
// page again. A period refused (malformed, not over, before any case) is shown beside the form,
// with what was typed, on the page of the current period.
func (h *handlers) publishBulletinForm(c *fiber.Ctx) error {
	period := strings.TrimSpace(c.FormValue("period"))
	if _, err := h.bulletins.Publish(c.UserContext(), period, h.unitsOf(c)); err != nil {
		if code := errs.CodeOf(err); code == errs.Internal || code == errs.Unavailable {
			return err
		}
		c.Status(module.Status(errs.CodeOf(err)))
		c.Locals(bulletinRefusal{}, bulletinRefusal{period: strings.Clone(period), message: errs.MessageIn(err, h.k.Pages.Lang(c))})
		return h.page(c)
	}
	return c.Redirect(base(c)+"/evaluation?period="+url.QueryEscape(period)+"&done=evaluation.bulletin.published#bulletins", fiber.StatusSeeOther)
}

// bulletinRefusal is the bulletin form's refused period and why, for the page shown again.
type bulletinRefusal struct{ period, message string }
