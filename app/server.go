package app

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/open311api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
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
	f.Use(a.gate.authenticate)

	f.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	f.Get("/readyz", a.ready)
	f.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{})))
	f.Use("/static", a.web.Static())

	apiv1 := f.Group("/api/v1", a.gate.csrf)
	apiv1.Get("/openapi.json", a.openAPI)
	t := apiv1.Group("/t/:tenant", a.gate.needLogin, a.gate.tenantScope)
	// Every request on a tenant route is metered, the modules' too: the meter comes before them all.
	t.Use(a.meterAPIRequest)
	api.Mount(apiv1, t, api.Deps{
		Store: a.store, Prov: a.prov, Billing: a.billing, Secrets: a.secrets, Cases: a.cases,
		Statements: a.statements(), BaseURL: a.cfg.BaseURL, ExportDir: a.exportDir(), MapTiles: a.cfg.MapTiles, Archives: a.blobs, PresignTTL: a.cfg.Blob.PresignTTL, SecureCookies: a.cfg.secureCookies(),
	}, api.Guards{Login: a.gate.needLogin, Operator: a.gate.needOperator})
	api.MountSSO(apiv1, t, a.store, a.sso, api.Guards{Login: a.gate.needLogin, Operator: a.gate.needOperator})
	a.modules.apiRoutes(t)
	// Machines (monitoring's devices) post with tokens of their own: no login, no tenant scope.
	a.modules.machineRoutes(apiv1.Group("/ingest/:tenant")) // machinePrefix

	open311api.Mount(f, open311api.Deps{Service: a.open311, BaseURL: a.cfg.BaseURL, Now: a.store.Now,
		Logger: a.log, Meter: a.meterAPIRequest, Limits: a.limitStore("open311")})
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
	if sc := tenants.ScopeFrom(c.UserContext()); sc != nil && sc.Tenant != nil {
		a.metrics.tenantRequests.WithLabelValues(sc.Tenant.Slug, strconv.Itoa(status/100)+"xx").Inc()
	}
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
	// Nor does the object store: only photos and offboarding archives need it.
	objects := "available"
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := a.blobs.Ping(ctx); err != nil {
		a.log.Warn("object storage not reachable", "kind", a.blobs.Kind(), "err", err)
		objects = msgObjectStoreUnreachable.In(msg.EN)
	}
	return c.JSON(fiber.Map{"status": "ready", "database": a.store.Dialect(), "keys": keys, "objects": a.blobs.Kind() + ": " + objects})
}

func principal(c *fiber.Ctx) *tenants.Principal { return module.Principal(c) }

func scope(c *fiber.Ctx) *tenants.Scope { return module.Scope(c) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
