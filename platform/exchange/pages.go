package exchange

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// pageRows is how many rows of a destination's log and of its dead and failing items the page
// shows (the API pages through all of them).
const pageRows = 20

// destinationView is one destination's section of the page.
type destinationView struct {
	D       *Destination
	Log     []LogEntry
	Dead    []Entry
	Failing []Entry
}

func base(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug }

// canAdmin reports whether the caller may change the tenant's exchange.
func canAdmin(c *fiber.Ctx) bool {
	sc := module.Scope(c)
	return sc != nil && !sc.ReadOnly && sc.Has(tenants.TenantAdmin)
}

// page is GET /exchange: the tenant's destinations with their backlog, failures, last delivery
// and log, the admin's forms; for a prefecture, its counties' connection too.
func (h *handlers) page(c *fiber.Ctx) error { return h.render(c, fiber.Map{}, fiber.StatusOK) }

// render shows the page with data (a refused form's values and error) and status.
func (h *handlers) render(c *fiber.Ctx, data fiber.Map, status int) error {
	ctx := c.UserContext()
	ds, err := h.s.FindDestinations(ctx)
	if err != nil {
		return err
	}
	views := make([]destinationView, len(ds))
	for i, d := range ds {
		v := destinationView{D: d}
		if v.Log, err = h.s.FindLog(ctx, d.Code, 0, pageRows); err != nil {
			return err
		}
		if v.Dead, err = h.s.FindEntries(ctx, d.Code, "dead", pageRows); err != nil {
			return err
		}
		if v.Failing, err = h.s.FindEntries(ctx, d.Code, "failing", pageRows); err != nil {
			return err
		}
		views[i] = v
	}
	data["Destinations"] = views
	data["Base"] = base(c)
	data["CanAdmin"] = canAdmin(c)
	data["Kinds"] = ReplayKinds
	data["Profiles"] = []string{ProfileV1, ProfileHotline}
	data["Limits"] = fiber.Map{"Batch": DefaultBatchSize, "MaxBatch": MaxBatchSize, "Concurrency": DefaultConcurrency,
		"MaxConcurrency": MaxConcurrency, "Timeout": DefaultTimeoutMS, "MinTimeout": MinTimeoutMS, "MaxTimeout": MaxTimeoutMS}
	if module.Scope(c).Tenant.Kind == tenants.Prefecture {
		us, err := h.units(c)
		if err != nil {
			return err
		}
		data["Units"] = us
	}
	c.Status(status)
	return h.k.Pages.Render(c, "exchange/exchange", data)
}

// refused shows the page again with a form's error beside it (a person's mistake, 4xx), or
// returns err for the error page (anything else).
func (h *handlers) refused(c *fiber.Ctx, form string, values fiber.Map, err error) error {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.NotFound, errs.Conflict:
	default:
		return err
	}
	data := fiber.Map{"Form": form, "FormError": errs.MessageIn(err, h.k.Pages.Lang(c)), "FormField": errs.FieldOf(err), "Values": values}
	return h.render(c, data, module.Status(errs.CodeOf(err)))
}

// done sends the browser back to the page with a message.
func done(c *fiber.Ctx, id string) error {
	return c.Redirect(base(c)+"/exchange?done="+url.QueryEscape(id), fiber.StatusSeeOther)
}

// form is a form field, trimmed and copied out of fiber's buffer.
func form(c *fiber.Ctx, name string) string {
	return strings.TrimSpace(strings.Clone(c.FormValue(name)))
}

// formInt reads an optional whole number field.
func formInt(c *fiber.Ctx, name string) (*int, error) {
	v := form(c, name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, errs.Field(name, msgNumber, name)
	}
	return &n, nil
}

// putForm is POST /exchange/destinations (tenant admin): a destination made or changed from the
// page's form. The token field, when filled, replaces the credential; "remove_token" removes it.
func (h *handlers) putForm(c *fiber.Ctx) error {
	values := fiber.Map{}
	for _, k := range []string{"code", "name", "url", "profile", "batch_size", "concurrency", "timeout_ms"} {
		values[k] = form(c, k)
	}
	enabled := form(c, "enabled") != ""
	values["enabled"] = enabled
	in := DestinationInput{URL: values["url"].(string), Enabled: &enabled}
	name := values["name"].(string)
	in.Name = &name
	if p := form(c, "profile"); p != "" {
		in.Profile = &p
	}
	var err error
	if in.BatchSize, err = formInt(c, "batch_size"); err == nil {
		if in.Concurrency, err = formInt(c, "concurrency"); err == nil {
			in.TimeoutMS, err = formInt(c, "timeout_ms")
		}
	}
	if err != nil {
		return h.refused(c, "destination", values, err)
	}
	if tok := strings.Clone(c.FormValue("token")); tok != "" {
		in.Token = &tok
	} else if form(c, "remove_token") != "" {
		empty := ""
		in.Token = &empty
	}
	if _, err := h.s.PutDestination(c.UserContext(), values["code"].(string), in); err != nil {
		return h.refused(c, "destination", values, err)
	}
	return done(c, "exchange.done.saved")
}

// replayForm is POST /exchange/destinations/:code/replay (tenant admin).
func (h *handlers) replayForm(c *fiber.Ctx) error {
	in := ReplayInput{From: form(c, "from"), To: form(c, "to"), FromEvent: form(c, "from_event"), ToEvent: form(c, "to_event")}
	for _, k := range c.Request().PostArgs().PeekMulti("kinds") {
		in.Kinds = append(in.Kinds, textutil.Truncate(string(k), 20))
	}
	values := fiber.Map{"code": code(c), "from": in.From, "to": in.To, "from_event": in.FromEvent, "to_event": in.ToEvent, "kinds": in.Kinds}
	if _, err := h.s.Replay(c.UserContext(), code(c), in); err != nil {
		return h.refused(c, "replay", values, err)
	}
	return done(c, "exchange.done.replayed")
}

// retryForm is POST /exchange/destinations/:code/retry (tenant admin): every dead item back.
func (h *handlers) retryForm(c *fiber.Ctx) error {
	if _, err := h.s.RetryDead(c.UserContext(), code(c), nil); err != nil {
		return h.refused(c, "retry", fiber.Map{"code": code(c)}, err)
	}
	return done(c, "exchange.done.retried")
}

// deleteForm is POST /exchange/destinations/:code/delete (tenant admin).
func (h *handlers) deleteForm(c *fiber.Ctx) error {
	if err := h.s.DeleteDestination(c.UserContext(), code(c)); err != nil {
		return h.refused(c, "delete", fiber.Map{"code": code(c)}, err)
	}
	return done(c, "exchange.done.deleted")
}
