package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/cityops/cityops/app/open311api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// PublicPostsPerIP is how many reports one address may send through a tenant's public form per
// minute; the form as a whole has the budget of one Open311 client (open311api.PostsPerMinute).
const PublicPostsPerIP = 10

// SurveyPostsPerIP is how many survey answers one address may send per minute (more than
// reports: a household or a carrier's shared address answers for several reports).
const SurveyPostsPerIP = 30

// PublicDeps are what the citizens' public pages use: the Open311 layer they report through.
type PublicDeps struct {
	UI      *UI
	Store   *tenants.Store
	Open311 *open311.Service
	Cases   *cases.Service
	// Grids draws the public maps' boundary and grids and offers the county's place names.
	Grids *grids.Service
	// LimitStore makes the storage of a rate limiter (the process's, or the replicas' shared one).
	LimitStore func() fiber.Storage
}

type publicPages struct{ d PublicDeps }

// MountPublic registers citizens' public report pages: no login, no session. A tenant has
// them only while it is active and opens at least one service to the public (Open311).
func MountPublic(r fiber.Router, d PublicDeps) {
	pub := &publicPages{d}
	r.Use(pub.tenant)
	r.Get("/", pub.form)
	limitWith := func(max int, m *msg.Message, key func(c *fiber.Ctx) string) fiber.Handler {
		return limiter.New(limiter.Config{Max: max, Expiration: time.Minute, KeyGenerator: key, Storage: pub.d.LimitStore(),
			LimitReached: func(*fiber.Ctx) error {
				return errs.E(errs.RateLimited, m)
			}})
	}
	limit := func(max int, key func(c *fiber.Ctx) string) fiber.Handler {
		return limitWith(max, msgTooManyReportsMinuteWait, key)
	}
	r.Post("/",
		limit(PublicPostsPerIP, func(c *fiber.Ctx) string { return "web-form:" + publicSlug(c) + ":" + c.IP() }),
		limit(open311api.PostsPerMinute, func(c *fiber.Ctx) string { return "open311:" + open311.WebFormKeyID + ":" + publicSlug(c) }),
		pub.report)
	r.Get("/lookup", pub.lookup)
	// The public map of recent problems and the public maps' layers (public_map.go).
	pub.mountPublicMap(r)
	// The citizens' survey (回访, public_survey.go): the link form and the answer.
	r.Get("/survey", pub.surveyPage)
	r.Post("/survey", limitWith(SurveyPostsPerIP, msgTooManyAnswersMinuteWait, func(c *fiber.Ctx) string { return "survey:" + publicSlug(c) + ":" + c.IP() }), pub.answerSurvey)
}

func publicSlug(c *fiber.Ctx) string { return c.Locals("public.tenant").(*tenants.Tenant).Slug }

// tenant finds :tenant for a public page: NotFound unless it is active and takes reports
// from the public through its web form.
func (pub *publicPages) tenant(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, err := pub.d.Store.FindTenantBySlug(ctx, c.Params("tenant"))
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusActive {
		return errs.E(errs.NotFound, msgNoTenant, t.Slug)
	}
	services, err := pub.d.Open311.WebForm(ctx, t)
	if err != nil {
		return err
	}
	c.Locals("public.tenant", t)
	c.Locals("public.services", services)
	return c.Next()
}

// page renders a public page with the tenant and no console navigation.
func (pub *publicPages) page(c *fiber.Ctx, page string, data fiber.Map) error {
	t := c.Locals("public.tenant").(*tenants.Tenant)
	data["Tenant"], data["Base"] = t, "/r/"+t.Slug
	data["Services"] = c.Locals("public.services")
	// The map's tiles as in the console; 天地图's browser key is the tenant's, meant for browsers.
	data["Map"] = pub.d.UI.TenantMapConfig(c.UserContext(), t)
	if _, ok := data["Layers"]; !ok {
		data["Layers"] = []map[string]any{}
	}
	return pub.d.UI.Render(c, page, data)
}

func (pub *publicPages) form(c *fiber.Ctx) error {
	return pub.page(c, "public_report", fiber.Map{"Form": map[string]string{}})
}

// report creates the request through the Open311 layer, as a client's POST does, and
// sends the citizen to the progress page of its number.
func (pub *publicPages) report(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := c.Locals("public.tenant").(*tenants.Tenant)
	form := map[string]string{}
	for _, k := range []string{"service_code", "description", "address_string", "lat", "long", "first_name", "phone"} {
		form[k] = c.FormValue(k)
	}
	fail := func(err error) error {
		msg, err := FormError(c, err)
		if err != nil {
			return err
		}
		return pub.page(c, "public_report", fiber.Map{"Form": form, "Error": msg})
	}
	if strings.TrimSpace(form["description"]) == "" {
		return fail(errs.Field("description", msgSayWhatProblem))
	}
	in, err := open311api.RequestInput(c)
	if err != nil {
		return fail(err)
	}
	r, err := pub.d.Open311.CreateWebFormRequest(ctx, t, in)
	if err != nil {
		return fail(err)
	}
	// The number is what a citizen keeps; the receipt carries the case id.
	cs, err := pub.d.Cases.FindCaseByID(tenants.WithScope(ctx, open311.ReadScope(t)), r.ID)
	if err != nil {
		return err
	}
	return Done(c, "/r/"+t.Slug+"/lookup?number="+url.QueryEscape(cs.Number)+"&token="+url.QueryEscape(r.Token), "public.done")
}

// lookup shows a report's progress by its number: the state, the public history, no
// personal data and nothing of who acted or why.
func (pub *publicPages) lookup(c *fiber.Ctx) error {
	t := c.Locals("public.tenant").(*tenants.Tenant)
	number := strings.TrimSpace(c.Query("number"))
	data := fiber.Map{"Number": number}
	if number != "" {
		p, err := pub.d.Open311.FindProgress(c.UserContext(), t, number)
		if err != nil {
			msg, err := FormError(c, err)
			if err != nil {
				return err
			}
			data["Error"] = msg
		} else {
			data["Progress"] = p
			// Right after the report, its Open311 token too (for a client app), when it is this one's.
			if tok := c.Query("token"); tok != "" && len(tok) <= 64 {
				if r, err := pub.d.Open311.FindToken(c.UserContext(), t, tok); err == nil && r.ID == p.Request.ID {
					data["Token"] = r.Token
				}
			}
			// Once closed, the survey under the progress (its form, or the answer given).
			if err := pub.survey(c, t, p, data); err != nil {
				return err
			}
		}
	}
	return pub.page(c, "public_lookup", data)
}
