package app

import (
	"context"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func (a *App) webRoutes(f *fiber.App) {
	f.Get("/", a.webHome)
	f.Get("/login", func(c *fiber.Ctx) error {
		return a.web.Render(c, "login", fiber.Map{"Next": console.SafeNext(c.Query("next"))})
	})
	f.Post("/login", a.sameOrigin, a.webLogin)
	f.Post("/logout", a.csrf, a.webLogout)
	f.Get("/me", a.needLogin, a.webMe)
	f.Get("/invite/:token", func(c *fiber.Ctx) error {
		return a.web.Render(c, "invite", fiber.Map{"Token": c.Params("token")})
	})
	f.Post("/invite/:token", a.sameOrigin, a.webAcceptInvitation)

	console.MountOps(f.Group("/ops", a.needOperator(), a.csrf), console.OpsDeps{
		UI: a.web, Store: a.store, Prov: a.prov, Billing: a.billing, Runs: a.jobs, Statements: a.statements(),
		BaseURL: a.cfg.BaseURL, ExportDir: a.exportDir(),
		NeedAdmin: a.needOperator(tenants.OperatorAdmin), NeedBilling: a.needOperator(tenants.OperatorAdmin, tenants.OperatorBilling),
	})
	tw := f.Group("/t/:tenant", a.needLogin, a.csrf, a.tenantScope)
	tw.Get("/", a.webTenantHome)
	console.MountAdmin(tw, console.AdminDeps{
		UI: a.web, Store: a.store, Log: a.log,
		Org: a.platform.org, Grids: a.platform.grids, Catalog: a.platform.catalog, Calendar: a.platform.calendar,
		Cases: a.cases, Secrets: a.secrets, Billing: a.billing, BaseURL: a.cfg.BaseURL, MapTiles: a.cfg.MapTiles,
	})
	a.webCaseRoutes(tw)
	console.MountPrefecture(tw, a.prefectureDeps())
	console.MountBilling(tw, console.BillingDeps{UI: a.web, Store: a.store, Billing: a.billing, Statements: a.statements()})
	a.moduleConsoleRoutes(tw)
	a.webPublicRoutes(f.Group("/r/:tenant"))
}

// prefectureDeps are the prefecture overview's: it reads every county through its own scope,
// auditing each as the tenant scope middleware does.
func (a *App) prefectureDeps() console.PrefectureDeps {
	return console.PrefectureDeps{UI: a.web, Store: a.store, Cases: a.cases, Log: a.log, AuditCrossRead: a.auditCrossRead, StateLabels: stateLabels}
}

// webHome sends each person to where their work is (landing).
func (a *App) webHome(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	to, err := a.landing(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// webTenantHome opens a tenant on the page for the caller's work there (console.WorkPage).
func (a *App) webTenantHome(c *fiber.Ctx) error {
	sc := tenants.ScopeFrom(c.UserContext())
	return c.Redirect(console.WorkPage(sc), fiber.StatusSeeOther)
}

// landing is where p's work is: the page p lands on after logging in through the form or
// accepting an invitation (unless the form carries a next page), and at /. An operator works in
// the operations console; a member of exactly one tenant works on that tenant's page for their
// roles (console.WorkPage); anyone else, a member of several tenants or of none, lands on the
// account page, which lists the units they may open: no rule picks one unit over another.
func (a *App) landing(ctx context.Context, p *tenants.Principal) (string, error) {
	if p.IsOperator() {
		return "/ops", nil
	}
	var only uuid.UUID
	for _, m := range p.Memberships {
		if only != uuid.Nil && m.TenantID != only {
			return "/me", nil
		}
		only = m.TenantID
	}
	if only == uuid.Nil {
		return "/me", nil
	}
	t, err := a.store.FindTenantByID(ctx, only)
	if err != nil {
		return "", err
	}
	sc, err := tenants.Resolve(p, t, nil)
	if err != nil {
		return "", err
	}
	return console.WorkPage(sc), nil
}

// signIn sets the session cookie of a new session and sends the person to next, or without one
// to where their work is (landing).
func (a *App) signIn(c *fiber.Ctx, session, next string) error {
	api.SetSession(c, session, a.cfg.secureCookies())
	if next == "" {
		ctx := c.UserContext()
		p, err := a.store.PrincipalBySession(ctx, session)
		if err != nil {
			return err
		}
		if next, err = a.landing(ctx, p); err != nil {
			return err
		}
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (a *App) webLogin(c *fiber.Ctx) error {
	email, next := c.FormValue("email"), console.SafeNext(c.FormValue("next"))
	token, _, err := a.store.Login(c.UserContext(), email, c.FormValue("password"), c.Get(fiber.HeaderUserAgent), c.IP())
	switch {
	case errs.Is(err, errs.Unauthorized):
		c.Status(fiber.StatusUnauthorized)
		return a.web.Render(c, "login", fiber.Map{"Error": console.Translate(console.Lang(c), "login.failed"), "Email": email, "Next": next})
	case errs.Is(err, errs.RateLimited):
		setRetryAfter(c, err)
		c.Status(fiber.StatusTooManyRequests)
		return a.web.Render(c, "login", fiber.Map{"Error": errs.MessageIn(err, console.Lang(c)), "Email": email, "Next": next})
	case err != nil:
		return err
	}
	return a.signIn(c, token, next)
}

func (a *App) webLogout(c *fiber.Ctx) error {
	if tok := c.Cookies(sessionCookie); tok != "" {
		if err := a.store.Logout(c.UserContext(), tok); err != nil {
			return err
		}
	}
	c.ClearCookie(sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// webMe shows the account and the units it may open.
func (a *App) webMe(c *fiber.Ctx) error {
	me, err := api.Me(c, a.store)
	if err != nil {
		return err
	}
	visible, err := a.store.FindVisibleTenants(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return a.web.Render(c, "me", fiber.Map{"Me": me, "Tenants": visible})
}

// webAcceptInvitation joins the invitee to the tenant and signs them in with the password they
// just set or proved, sending them to where their work is. Should the sign-in be refused (the
// login limiter), the page says they have joined and may log in.
func (a *App) webAcceptInvitation(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token, password := c.Params("token"), c.FormValue("password")
	id, _, err := a.store.AcceptInvitation(ctx, token, c.FormValue("name"), password)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		c.Status(module.Status(errs.CodeOf(err)))
		return a.web.Render(c, "invite", fiber.Map{"Token": token, "Error": errs.MessageOf(err)})
	}
	session, _, err := a.store.Login(ctx, id.Email, password, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		return a.web.Render(c, "invite", fiber.Map{"Token": token, "Done": true})
	}
	return a.signIn(c, session, "")
}
