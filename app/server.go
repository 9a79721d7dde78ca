package app

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/open311api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// sessionCookie carries a browser's session token (api.SessionCookie).
const sessionCookie = api.SessionCookie

func (a *App) newServer() *fiber.App {
	f := fiber.New(fiber.Config{
		AppName: "cityops",
		// Every string fiber hands out is a copy: see "Request strings do not outlive the
		// request" in edge.go before changing this.
		Immutable:               true,
		ErrorHandler:            a.errorHandler,
		BodyLimit:               a.cfg.BodyLimit,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          a.cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(a.cfg.TrustedProxies),
	})
	f.Use(requestID)
	f.Use(a.observe)
	f.Use(recover.New())
	f.Use(checkInput)
	f.Use(a.authenticate)

	f.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	f.Get("/readyz", a.ready)
	f.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{})))
	f.Use("/static", a.web.Static())

	apiv1 := f.Group("/api/v1", a.csrf)
	apiv1.Get("/openapi.json", a.openAPI)
	t := apiv1.Group("/t/:tenant", a.needLogin, a.tenantScope)
	// Every request on a tenant route is metered, the modules' too: the meter comes before them all.
	t.Use(a.meterAPIRequest)
	api.Mount(apiv1, t, api.Deps{
		Store: a.store, Prov: a.prov, Billing: a.billing, Secrets: a.secrets, Cases: a.cases,
		Statements: a.statements(), BaseURL: a.cfg.BaseURL, ExportDir: a.exportDir(), SecureCookies: a.cfg.secureCookies(),
	}, api.Guards{Login: a.needLogin, Operator: a.needOperator})
	a.moduleAPIRoutes(t)

	open311api.Mount(f, open311api.Deps{Service: a.open311, BaseURL: a.cfg.BaseURL, Now: a.store.Now,
		Logger: a.log, Meter: a.meterAPIRequest, Limits: newLimitStore()})
	a.webRoutes(f)
	f.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return f
}

// requestID gives every request a fresh id (in the X-Request-ID response header, the logs and the
// audit log). An id sent by the client is not taken over: audit entries must not carry ids a
// caller chose.
func requestID(c *fiber.Ctx) error {
	rid := uuid.NewString()
	c.Set(fiber.HeaderXRequestID, rid)
	c.Locals("requestid", rid)
	return c.Next()
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// observe logs every request once and counts it, with request id, tenant, route and status.
func (a *App) observe(c *fiber.Ctx) error {
	start := time.Now()
	rid, _ := c.Locals("requestid").(string)
	c.SetUserContext(tenants.WithRequestInfo(c.UserContext(), tenants.RequestInfo{ID: rid, IP: c.IP()}))
	err := c.Next()
	if err != nil {
		if herr := a.errorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	a.logRequest(c, rid, time.Since(start))
	return nil
}

// logRequest logs and counts one answered request. Labels are the route as registered and a
// method from a fixed set, never request bytes.
func (a *App) logRequest(c *fiber.Ctx, rid string, d time.Duration) {
	status := c.Response().StatusCode()
	route, tenant := "", ""
	if r := c.Route(); r != nil && len(r.Handlers) > 0 { // fiber makes up a route from the path when none matched
		route = r.Path
		if len(r.Params) > 0 {
			tenant = c.Params("tenant")
		}
	}
	method := methodLabel(c.Method())
	a.metrics.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	a.metrics.duration.WithLabelValues(method, route).Observe(d.Seconds())
	level := a.log.Info
	if status >= 500 {
		level = a.log.Error
	}
	level("request", "request_id", rid, "method", method, "path", c.Path(), "route", route,
		"status", status, "duration_ms", d.Milliseconds(), "tenant", tenant)
}

func (a *App) ready(c *fiber.Ctx) error {
	if err := a.store.Ping(c.UserContext()); err != nil {
		return errs.Wrap(err, errs.Unavailable, msgDatabaseNotReachable)
	}
	// Keys being unavailable (Vault down or sealed) does not make the app unready: pages and reads
	// that need no decryption keep working. It is reported, and operations needing a key get 503.
	keys := "available"
	if err := a.secrets.Ping(c.UserContext()); err != nil {
		keys = errs.MessageOf(err)
	}
	return c.JSON(fiber.Map{"status": "ready", "database": a.store.Dialect(), "keys": keys})
}

// authenticate finds who is asking, from a bearer token or the session cookie. Anonymous requests
// pass on; routes that need someone say so with needLogin.
func (a *App) authenticate(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/open311/") {
		// Open311 clients identify with api_key, never with a session or bearer token; its
		// errors follow the GeoReport format.
		return c.Next()
	}
	ctx := c.UserContext()
	var p *tenants.Principal
	var err error
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return errs.E(errs.Unauthorized, msgUseAuthorizationHeaderBearerToken)
		}
		if p, err = a.store.PrincipalByAPIToken(ctx, strings.TrimSpace(tok)); err != nil {
			return err
		}
		c.Locals("auth", "token")
	} else if tok := c.Cookies(sessionCookie); tok != "" {
		if p, err = a.store.PrincipalBySession(ctx, tok); err != nil {
			if !errs.Is(err, errs.Unauthorized) {
				return err
			}
			c.ClearCookie(sessionCookie)
			p = nil
		} else {
			c.Locals("auth", "session")
		}
	}
	if p != nil {
		c.SetUserContext(tenants.WithPrincipal(ctx, p))
	}
	return c.Next()
}

// csrf refuses unsafe requests authenticated by the session cookie unless they carry the
// session's token (X-CSRF-Token header or _csrf form field). Requests with a bearer token carry
// no ambient authority and need none.
func (a *App) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if c.Locals("auth") != "session" {
		return c.Next()
	}
	want := api.CSRFToken(c.Cookies(sessionCookie))
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf")
	}
	if got != want {
		return errs.E(errs.Forbidden, msgFormHasExpiredDidNot)
	}
	return c.Next()
}

func principal(c *fiber.Ctx) *tenants.Principal { return module.Principal(c) }

func scope(c *fiber.Ctx) *tenants.Scope { return module.Scope(c) }

func (a *App) needLogin(c *fiber.Ctx) error {
	if principal(c) == nil {
		return errs.E(errs.Unauthorized, msgPleaseLogFirst)
	}
	return c.Next()
}

// needOperator admits operators holding one of roles (any operator role when none are given).
func (a *App) needOperator(roles ...tenants.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		if p == nil {
			return errs.E(errs.Unauthorized, msgPleaseLogFirst)
		}
		if !p.IsOperator(roles...) {
			return errs.E(errs.Forbidden, msgOnlyOperatingCompanyStaffMay)
		}
		return c.Next()
	}
}

// tenantScope resolves :tenant and the caller's access to it into the request's Scope. A
// read-only scope (prefecture viewers, operators, viewers) is refused any unsafe method here, and
// the gate would refuse the write again in the database. Cross-tenant reads are audited.
func (a *App) tenantScope(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, anc, err := a.store.ResolveSlug(ctx, c.Params("tenant"))
	if err != nil {
		return err
	}
	sc, err := tenants.Resolve(principal(c), t, anc)
	if err != nil {
		return err
	}
	if sc.ReadOnly {
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		default:
			return errs.E(errs.Forbidden, msgYourAccessReadOnly, t.NameZH)
		}
	}
	if err := a.auditCrossRead(ctx, sc, c.Method(), c.Path()); err != nil {
		return err
	}
	a.recordActiveUser(ctx, sc)
	c.SetUserContext(tenants.WithScope(ctx, sc))
	return c.Next()
}

// auditCrossRead records a read of sc's tenant by someone from outside it (a prefecture viewer
// or an operator); nothing for a member's own access.
func (a *App) auditCrossRead(ctx context.Context, sc *tenants.Scope, method, path string) error {
	if sc.Via == nil && !sc.Operator {
		return nil
	}
	detail := map[string]string{"method": method, "path": path}
	if sc.Via != nil {
		detail["via"] = sc.Via.Slug
	}
	return a.store.AuditNow(ctx, "tenant.cross_read", &sc.Tenant.ID, sc.Tenant.Slug, detail)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
