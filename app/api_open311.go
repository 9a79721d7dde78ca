package app

import (
	"io"
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

// open311Changeset is when this endpoint's behaviour last changed (discovery's changeset).
const open311Changeset = "2026-11-25T00:00:00+08:00"

// open311PostsPerMinute is how many requests one api key may create per minute (per replica).
const open311PostsPerMinute = 30

// newOpen311 builds the Open311 GeoReport v2 layer over the case loop and the catalog.
func (a *App) newOpen311() *open311.Service {
	return open311.NewService(open311.Config{Gate: a.store, Tenants: a.store, Cases: a.cases,
		Classes: a.platform.catalog, Departments: a.platform.org, Geocoder: a.platform.grids, Now: a.store.Now, Logger: a.log})
}

// open311Routes serves GeoReport v2 under /open311/v2, outside /api/v1: it is public (no
// session, no CSRF), a POST needs the client's api_key, and every answer — errors included — is
// in the format of the path's extension, with the spec's status codes. Tenant routes are
// metered like API requests.
func (a *App) open311Routes(f *fiber.App) {
	g := f.Group("/open311/v2")
	meter := a.meterAPIRequest
	g.Get("/discovery.:format", a.o311Discovery)
	g.Get("/services.:format", a.o311Jurisdiction, meter, a.o311Services)
	g.Get("/services/:code.:format", a.o311Jurisdiction, meter, a.o311ServiceDefinition)
	g.Post("/requests.:format", a.o311Jurisdiction, limiter.New(limiter.Config{
		Max: open311PostsPerMinute, Expiration: time.Minute, Storage: newLimitStore(),
		KeyGenerator: func(c *fiber.Ctx) string { return "open311:" + tenants.HashToken(c.FormValue("api_key")) },
		LimitReached: func(c *fiber.Ctx) error {
			return a.o311Fail(c, errs.E(errs.RateLimited, msgTooManyRequestsApiKey))
		}}), meter, a.o311CreateRequest)
	g.Get("/requests.:format", a.o311Jurisdiction, meter, a.o311Requests)
	g.Get("/requests/:id.:format", a.o311Jurisdiction, meter, a.o311Request)
	g.Get("/tokens/:token.:format", a.o311Jurisdiction, meter, a.o311Token)
	g.Get("/servicerequestupdates.:format", a.o311Jurisdiction, meter, a.o311Updates)
	g.Use(func(c *fiber.Ctx) error {
		return a.o311Fail(c, errs.E(errs.NotFound, msgThereNoOpen311ResourceAddress))
	})
}

// o311Format is the format of the path's extension; XML (the spec's required one) for errors
// when the extension is unknown.
func o311Format(c *fiber.Ctx) (open311.Format, bool) {
	f, ok := open311.ParseFormat(c.Params("format"))
	if !ok {
		return open311.XML, false
	}
	return f, true
}

// o311Status maps the error vocabulary onto the spec: 404 missing resource, 403 bad key, 400
// otherwise; our own outages stay 5xx and a rate limit 429.
func o311Status(code errs.Code) int {
	switch code {
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Forbidden, errs.Unauthorized:
		return http.StatusForbidden
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Internal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// o311Fail renders err as a GeoReport error list. Internal errors are logged once and not shown.
func (a *App) o311Fail(c *fiber.Ctx, err error) error {
	f, _ := o311Format(c)
	code := errs.CodeOf(err)
	status := o311Status(code)
	msg := errs.MessageIn(err, module.APILang(c)) // as every API problem: Accept-Language, English by default
	c.Set(fiber.HeaderContentLanguage, module.APILang(c))
	if status >= 500 {
		rid, _ := c.Locals("requestid").(string)
		a.log.Error("open311", "request_id", rid, "route", c.Route().Path, "err", err)
		if code == errs.Internal {
			msg = "Something went wrong on our side; try again later (request " + rid + ")."
		}
	}
	return a.o311Send(c, f, status, []open311.Error{{Code: status, Description: msg}})
}

func (a *App) o311Send(c *fiber.Ctx, f open311.Format, status int, v any) error {
	b, err := open311.Encode(f, v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType())
	return c.Status(status).Send(b)
}

// o311Reply renders v, or the error, in the path's format; an unknown format is a 404.
func (a *App) o311Reply(c *fiber.Ctx, status int, v any, err error) error {
	f, ok := o311Format(c)
	if !ok {
		return a.o311Fail(c, errs.E(errs.NotFound, msgFormatXmlJsonServicesXml))
	}
	if err != nil {
		return a.o311Fail(c, err)
	}
	return a.o311Send(c, f, status, v)
}

// o311Jurisdiction resolves jurisdiction_id (query string or form body) into the tenant and
// puts a read-only scope in the context (for the meter; the service sets its own).
func (a *App) o311Jurisdiction(c *fiber.Ctx) error {
	if _, ok := o311Format(c); !ok {
		return a.o311Fail(c, errs.E(errs.NotFound, msgFormatXmlJsonServicesXml))
	}
	t, err := a.open311.Jurisdiction(c.UserContext(), c.FormValue("jurisdiction_id"))
	if err != nil {
		return a.o311Fail(c, err)
	}
	c.Locals("open311.tenant", t)
	c.SetUserContext(tenants.WithScope(c.UserContext(), open311.ReadScope(t)))
	return c.Next()
}

func o311Tenant(c *fiber.Ctx) *tenants.Tenant { return c.Locals("open311.tenant").(*tenants.Tenant) }

func (a *App) o311Discovery(c *fiber.Ctx) error {
	base := a.cfg.BaseURL + "/open311/v2"
	d := &open311.Discovery{Changeset: open311Changeset, Contact: "The city operation centre (城市运行管理服务中心) of each jurisdiction.",
		KeyService: "Api keys are issued per client app by the operator of each jurisdiction; ask its city operation centre.",
		Endpoints: []open311.Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base, Changeset: open311Changeset,
			Type: "production", Formats: []string{"text/xml", "application/json"}}}}
	return a.o311Reply(c, http.StatusOK, d, nil)
}

func (a *App) o311Services(c *fiber.Ctx) error {
	v, err := a.open311.Services(c.UserContext(), o311Tenant(c))
	return a.o311Reply(c, http.StatusOK, v, err)
}

func (a *App) o311ServiceDefinition(c *fiber.Ctx) error {
	v, err := a.open311.ServiceDefinition(c.UserContext(), o311Tenant(c), c.Params("code"))
	return a.o311Reply(c, http.StatusOK, v, err)
}

// o311CreateRequest takes a form-encoded or multipart body; a multipart one may carry the photo
// in the field "media".
func (a *App) o311CreateRequest(c *fiber.Ctx) error {
	in, err := o311RequestInput(c)
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	r, err := a.open311.CreateRequest(c.UserContext(), o311Tenant(c), in)
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	return a.o311Reply(c, http.StatusOK, []open311.Receipt{*r}, nil)
}

// o311RequestInput reads a POST requests body by the spec's field names, from a form-encoded or
// multipart body (the photo in "media"); the public web form posts the same fields.
func o311RequestInput(c *fiber.Ctx) (open311.RequestInput, error) {
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

func (a *App) o311Token(c *fiber.Ctx) error {
	r, err := a.open311.FindToken(c.UserContext(), o311Tenant(c), c.Params("token"))
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	return a.o311Reply(c, http.StatusOK, []open311.Receipt{*r}, nil)
}

func (a *App) o311Requests(c *fiber.Ctx) error {
	q, err := open311.ParseQuery(func(k string) string { return c.Query(k) }, a.store.Now())
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	v, err := a.open311.FindRequests(c.UserContext(), o311Tenant(c), q)
	return a.o311Reply(c, http.StatusOK, v, err)
}

func (a *App) o311Request(c *fiber.Ctx) error {
	r, err := a.open311.FindRequestByID(c.UserContext(), o311Tenant(c), c.Params("id"))
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	return a.o311Reply(c, http.StatusOK, []open311.Request{*r}, nil)
}

func (a *App) o311Updates(c *fiber.Ctx) error {
	q, err := open311.ParseUpdatesQuery(func(k string) string { return c.Query(k) }, a.store.Now())
	if err != nil {
		return a.o311Reply(c, 0, nil, err)
	}
	v, err := a.open311.FindUpdates(c.UserContext(), o311Tenant(c), q)
	return a.o311Reply(c, http.StatusOK, v, err)
}
