package open311api

import (
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// changeset is when this endpoint's behaviour last changed (discovery's changeset).
const changeset = "2026-11-25T00:00:00+08:00"

// PostsPerMinute is how many requests one api key may create per minute (per replica).
const PostsPerMinute = 30

// Deps are what the Open311 handlers use.
type Deps struct {
	Service *open311.Service
	// BaseURL starts the endpoint URL discovery hands out.
	BaseURL string
	// Now is the clock the request queries' default dates count from.
	Now    func() time.Time
	Logger *slog.Logger
	// Meter counts a request on a tenant route (the API-requests meter); it runs once the
	// jurisdiction is resolved into a tenant scope.
	Meter fiber.Handler
	// Limits keeps the counts of the per-api-key limit on creating requests.
	Limits fiber.Storage
}

// handlers serve the routes Mount adds.
type handlers struct {
	svc     *open311.Service
	baseURL string
	now     func() time.Time
	log     *slog.Logger
}

// Mount serves GeoReport v2 under /open311/v2 on r, outside /api/v1: it is public (no session,
// no CSRF), a POST needs the client's api_key, and every answer — errors included — is in the
// format of the path's extension, with the spec's status codes. Tenant routes are metered like
// API requests.
func Mount(r fiber.Router, d Deps) {
	h := &handlers{svc: d.Service, baseURL: d.BaseURL, now: d.Now, log: d.Logger}
	g := r.Group("/open311/v2")
	meter := d.Meter
	g.Get("/discovery.:format", h.discovery)
	g.Get("/services.:format", h.jurisdiction, meter, h.services)
	g.Get("/services/:code.:format", h.jurisdiction, meter, h.serviceDefinition)
	g.Post("/requests.:format", h.jurisdiction, limiter.New(limiter.Config{
		Max: PostsPerMinute, Expiration: time.Minute, Storage: d.Limits,
		KeyGenerator: func(c *fiber.Ctx) string { return "open311:" + tenants.HashToken(c.FormValue("api_key")) },
		LimitReached: func(c *fiber.Ctx) error {
			return h.fail(c, errs.E(errs.RateLimited, msgTooManyRequestsApiKey))
		}}), meter, h.createRequest)
	g.Get("/requests.:format", h.jurisdiction, meter, h.requests)
	g.Get("/requests/:id.:format", h.jurisdiction, meter, h.request)
	g.Get("/tokens/:token.:format", h.jurisdiction, meter, h.token)
	g.Get("/servicerequestupdates.:format", h.jurisdiction, meter, h.updates)
	// CityOps extension: the citizens' survey (回访) of a closed request (surveys.go).
	g.Get("/surveys/:token.:format", h.jurisdiction, meter, h.survey)
	g.Post("/surveys.:format", h.jurisdiction, limiter.New(limiter.Config{
		Max: PostsPerMinute, Expiration: time.Minute, Storage: d.Limits,
		KeyGenerator: func(c *fiber.Ctx) string { return "open311-survey:" + tenant(c).Slug + ":" + c.IP() },
		LimitReached: func(c *fiber.Ctx) error {
			return h.fail(c, errs.E(errs.RateLimited, msgTooManyRequestsApiKey))
		}}), meter, h.answerSurvey)
	g.Use(func(c *fiber.Ctx) error {
		return h.fail(c, errs.E(errs.NotFound, msgThereNoOpen311ResourceAddress))
	})
}

// format is the format of the path's extension; XML (the spec's required one) for errors when
// the extension is unknown.
func format(c *fiber.Ctx) (open311.Format, bool) {
	f, ok := open311.ParseFormat(c.Params("format"))
	if !ok {
		return open311.XML, false
	}
	return f, true
}

// statusOf maps the error vocabulary onto the spec: 404 missing resource, 403 bad key, 400
// otherwise; our own outages stay 5xx and a rate limit 429.
func statusOf(code errs.Code) int {
	switch code {
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Forbidden, errs.Unauthorized:
		return http.StatusForbidden
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Conflict:
		return http.StatusConflict // a survey answered already, or not yet open
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Internal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// fail renders err as a GeoReport error list. Internal errors are logged once and not shown.
func (h *handlers) fail(c *fiber.Ctx, err error) error {
	f, _ := format(c)
	code := errs.CodeOf(err)
	status := statusOf(code)
	msg := errs.MessageIn(err, module.APILang(c)) // as every API problem: Accept-Language, English by default
	c.Set(fiber.HeaderContentLanguage, module.APILang(c))
	if status >= 500 {
		rid, _ := c.Locals("requestid").(string)
		h.log.Error("open311", "request_id", rid, "route", c.Route().Path, "err", err)
		if code == errs.Internal {
			msg = "Something went wrong on our side; try again later (request " + rid + ")."
		}
	}
	return SendErrors(c, f, status, []open311.Error{{Code: status, Description: msg}})
}

// SendErrors answers with status and the GeoReport error list in format f: the handlers' errors
// and those the app refuses at the edge, before the handlers ran.
func SendErrors(c *fiber.Ctx, f open311.Format, status int, list []open311.Error) error {
	return send(c, f, status, list)
}

func send(c *fiber.Ctx, f open311.Format, status int, v any) error {
	b, err := open311.Encode(f, v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType())
	return c.Status(status).Send(b)
}

// reply renders v, or the error, in the path's format; an unknown format is a 404.
func (h *handlers) reply(c *fiber.Ctx, status int, v any, err error) error {
	f, ok := format(c)
	if !ok {
		return h.fail(c, errs.E(errs.NotFound, msgFormatXmlJsonServicesXml))
	}
	if err != nil {
		return h.fail(c, err)
	}
	return send(c, f, status, v)
}

// jurisdiction resolves jurisdiction_id (query string or form body) into the tenant and puts a
// read-only scope in the context (for the meter; the service sets its own).
func (h *handlers) jurisdiction(c *fiber.Ctx) error {
	if _, ok := format(c); !ok {
		return h.fail(c, errs.E(errs.NotFound, msgFormatXmlJsonServicesXml))
	}
	t, err := h.svc.Jurisdiction(c.UserContext(), c.FormValue("jurisdiction_id"))
	if err != nil {
		return h.fail(c, err)
	}
	c.Locals("open311.tenant", t)
	c.SetUserContext(tenants.WithScope(c.UserContext(), open311.ReadScope(t)))
	return c.Next()
}

func tenant(c *fiber.Ctx) *tenants.Tenant { return c.Locals("open311.tenant").(*tenants.Tenant) }

func (h *handlers) discovery(c *fiber.Ctx) error {
	base := h.baseURL + "/open311/v2"
	d := &open311.Discovery{Changeset: changeset, Contact: "The city operation centre (城市运行管理服务中心) of each jurisdiction.",
		KeyService: "Api keys are issued per client app by the operator of each jurisdiction; ask its city operation centre.",
		Endpoints: []open311.Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base, Changeset: changeset,
			Type: "production", Formats: []string{"text/xml", "application/json"}}}}
	return h.reply(c, http.StatusOK, d, nil)
}

func (h *handlers) services(c *fiber.Ctx) error {
	v, err := h.svc.Services(c.UserContext(), tenant(c))
	return h.reply(c, http.StatusOK, v, err)
}

func (h *handlers) serviceDefinition(c *fiber.Ctx) error {
	v, err := h.svc.ServiceDefinition(c.UserContext(), tenant(c), c.Params("code"))
	return h.reply(c, http.StatusOK, v, err)
}

// createRequest takes a form-encoded or multipart body; a multipart one may carry the photo in
// the field "media".
func (h *handlers) createRequest(c *fiber.Ctx) error {
	in, err := RequestInput(c)
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	r, err := h.svc.CreateRequest(c.UserContext(), tenant(c), in)
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	return h.reply(c, http.StatusOK, []open311.Receipt{*r}, nil)
}

// RequestInput reads a POST requests body by the spec's field names, from a form-encoded or
// multipart body (the photo in "media"); the public web form posts the same fields.
func RequestInput(c *fiber.Ctx) (open311.RequestInput, error) {
	get := func(k string) string { return c.FormValue(k) }
	in := open311.RequestInput{APIKey: get("api_key"), ServiceCode: get("service_code"), AddressString: get("address_string"),
		AddressID: get("address_id"), Email: get("email"), DeviceID: get("device_id"), AccountID: get("account_id"),
		FirstName: get("first_name"), LastName: get("last_name"), Phone: get("phone"), Description: get("description"), MediaURL: get("media_url")}
	var err error
	if in.Lat, err = open311.ParseFloat("lat", get("lat")); err != nil {
		return in, err
	}
	if in.Long, err = open311.ParseFloat("long", get("long")); err != nil {
		return in, err
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt == "multipart/form-data" {
		if fh, ferr := c.FormFile("media"); ferr == nil {
			if fh.Size > open311.MaxMedia {
				return in, errs.E(errs.TooLarge, msgMediaPhotoMayMostMib, open311.MaxMedia>>20)
			}
			f, err := fh.Open()
			if err != nil {
				return in, errs.Field("media", msgMediaPhotoCannotRead)
			}
			in.Media, err = io.ReadAll(io.LimitReader(f, open311.MaxMedia+1))
			f.Close()
			if err != nil {
				return in, errs.Field("media", msgMediaPhotoCannotRead)
			}
		}
	}
	return in, nil
}

func (h *handlers) token(c *fiber.Ctx) error {
	r, err := h.svc.FindToken(c.UserContext(), tenant(c), c.Params("token"))
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	return h.reply(c, http.StatusOK, []open311.Receipt{*r}, nil)
}

func (h *handlers) requests(c *fiber.Ctx) error {
	q, err := open311.ParseQuery(func(k string) string { return c.Query(k) }, h.now())
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	v, err := h.svc.FindRequests(c.UserContext(), tenant(c), q)
	return h.reply(c, http.StatusOK, v, err)
}

func (h *handlers) request(c *fiber.Ctx) error {
	r, err := h.svc.FindRequestByID(c.UserContext(), tenant(c), c.Params("id"))
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	return h.reply(c, http.StatusOK, []open311.Request{*r}, nil)
}

func (h *handlers) updates(c *fiber.Ctx) error {
	q, err := open311.ParseUpdatesQuery(func(k string) string { return c.Query(k) }, h.now())
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	v, err := h.svc.FindUpdates(c.UserContext(), tenant(c), q)
	return h.reply(c, http.StatusOK, v, err)
}
