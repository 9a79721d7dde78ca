package app

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// gate is the HTTP edge's access control: who is asking (authenticate), whether they may
// (needLogin, needOperator, tenantScope with its read-only rule and cross-read audit), and
// whether the form came from this site (csrf, sameOrigin). Every transport mounts its routes
// behind these handlers.
type gate struct {
	store   *tenants.Store
	billing *billing.Service
	log     *slog.Logger
	// baseURL is CITYOPS_BASE_URL, the origin sameOrigin accepts besides the request's own.
	baseURL string
}

// authenticate finds who is asking, from a bearer token or the session cookie. Anonymous requests
// pass on; routes that need someone say so with needLogin.
// machinePrefix starts the paths of the modules' machine routes (module.Parts.Machine).
const machinePrefix = "/api/v1/ingest/"

func (g *gate) authenticate(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/open311/") {
		// Open311 clients identify with api_key, never with a session or bearer token; its
		// errors follow the GeoReport format.
		return c.Next()
	}
	if strings.HasPrefix(c.Path(), machinePrefix) {
		// Machines authenticate with tokens of their own, which the module checks.
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
		if p, err = g.store.PrincipalByAPIToken(ctx, strings.TrimSpace(tok)); err != nil {
			return err
		}
		c.Locals("auth", "token")
	} else if tok := c.Cookies(sessionCookie); tok != "" {
		if p, err = g.store.PrincipalBySession(ctx, tok); err != nil {
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
func (g *gate) csrf(c *fiber.Ctx) error {
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

func (g *gate) needLogin(c *fiber.Ctx) error {
	if principal(c) == nil {
		return errs.E(errs.Unauthorized, msgPleaseLogFirst)
	}
	return c.Next()
}

// needOperator admits operators holding one of roles (any operator role when none are given).
func (g *gate) needOperator(roles ...tenants.Role) fiber.Handler {
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
func (g *gate) tenantScope(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, anc, err := g.store.ResolveSlug(ctx, c.Params("tenant"))
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
	if err := g.store.AuditCrossRead(ctx, sc, c.Method(), c.Path()); err != nil {
		return err
	}
	g.recordActiveUser(ctx, sc)
	c.SetUserContext(tenants.WithScope(ctx, sc))
	return c.Next()
}

// sameOrigin refuses a form post that a browser says came from another site. The forms that
// open a session (login, accepting an invitation) have no session yet, so no CSRF token: without
// this check another site could sign a visitor in to an account of its choosing (login CSRF).
// As OWASP's CSRF guidance describes, it trusts the browser's own headers: Sec-Fetch-Site when
// sent, else Origin, which must be this server (CITYOPS_BASE_URL, or the request's own host).
// Programs that send neither are let through: they carry no ambient authority to abuse.
func (g *gate) sameOrigin(c *fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return c.Next()
		}
		return errs.E(errs.Forbidden, msgFormWasSentFromAnother)
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || origin == c.Protocol()+"://"+c.Hostname() || origin == strings.TrimSuffix(g.baseURL, "/") {
		return c.Next()
	}
	return errs.E(errs.Forbidden, msgFormWasSentFromAnother)
}

// recordActiveUser counts the caller of a request in sc's tenant as active this month, when they
// are a member acting in their own tenant (not an operator, not the prefecture reading a county).
// It never fails a request.
func (g *gate) recordActiveUser(ctx context.Context, sc *tenants.Scope) {
	p := tenants.PrincipalFrom(ctx)
	if p == nil || sc.Via != nil || sc.Operator || len(sc.Roles) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := g.billing.RecordActiveUser(ctx, sc.Tenant.ID, p.Identity.ID); err != nil {
		g.log.Warn("active user not metered", "tenant", sc.Tenant.Slug, "err", err)
	}
}
