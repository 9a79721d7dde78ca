package console

// Signing in and out, the account page, invitations, and where a person lands: the pages
// everyone passes through before their work.

import (
	"context"
	"errors"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// AccountDeps are what the sign-in and account pages use.
type AccountDeps struct {
	UI    *UI
	Store *tenants.Store
	// SecureCookies marks the session cookie Secure (served over HTTPS).
	SecureCookies bool
	// SameOrigin refuses a post a browser marks as from another site (login CSRF); CSRF checks
	// a signed-in session's token; NeedLogin sends a stranger to the login page.
	SameOrigin, CSRF, NeedLogin fiber.Handler
	// LoginButtons are the single sign-on buttons for the login page (MountSSO), given where
	// the person is going; nil offers none.
	LoginButtons func(c *fiber.Ctx, next string) []LoginButton
	// Logout ends a session and says where to send the browser next: the provider's logout
	// for a single sign-on session ("" for the login page). Nil ends it locally.
	Logout func(ctx context.Context, token string) (string, error)
}

type account struct{ d AccountDeps }

// MountAccount adds /, /login, /logout, /me and /invite/:token to f, and returns the handler of
// a tenant's home (/t/:tenant/), which sends the caller to the page of their work there.
func MountAccount(f fiber.Router, d AccountDeps) (tenantHome fiber.Handler) {
	ac := &account{d}
	f.Get("/", ac.home)
	f.Get("/login", func(c *fiber.Ctx) error {
		return d.UI.Render(c, "login", ac.loginData(c, fiber.Map{"Next": SafeNext(c.Query("next"))}))
	})
	f.Post("/login", d.SameOrigin, ac.login)
	f.Post("/logout", d.CSRF, ac.logout)
	f.Get("/me", d.NeedLogin, ac.me)
	f.Get("/invite/:token", func(c *fiber.Ctx) error {
		return d.UI.Render(c, "invite", fiber.Map{"Token": c.Params("token")})
	})
	f.Post("/invite/:token", d.SameOrigin, ac.acceptInvitation)
	return ac.tenantHome
}

// home sends each person to where their work is (landing).
func (ac *account) home(c *fiber.Ctx) error {
	p := module.Principal(c)
	if p == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	to, err := ac.landing(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// tenantHome opens a tenant on the page for the caller's work there (WorkPage).
func (ac *account) tenantHome(c *fiber.Ctx) error {
	sc := tenants.ScopeFrom(c.UserContext())
	return c.Redirect(WorkPage(sc), fiber.StatusSeeOther)
}

// landing is where p's work is: the page p lands on after logging in through the form or
// accepting an invitation (unless the form carries a next page), and at /. An operator works in
// the operations console; a member of exactly one tenant works on that tenant's page for their
// roles (WorkPage); anyone else, a member of several tenants or of none, lands on the
// account page, which lists the units they may open: no rule picks one unit over another.
func (ac *account) landing(ctx context.Context, p *tenants.Principal) (string, error) {
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
	t, err := ac.d.Store.FindTenantByID(ctx, only)
	if err != nil {
		return "", err
	}
	sc, err := tenants.Resolve(p, t, nil)
	if err != nil {
		return "", err
	}
	return WorkPage(sc), nil
}

// signIn sets the session cookie of a new session and sends the person to next, or without one
// to where their work is (landing).
func (ac *account) signIn(c *fiber.Ctx, session, next string) error {
	api.SetSession(c, session, ac.d.SecureCookies)
	if next == "" {
		ctx := c.UserContext()
		p, err := ac.d.Store.PrincipalBySession(ctx, session)
		if err != nil {
			return err
		}
		if next, err = ac.landing(ctx, p); err != nil {
			return err
		}
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (ac *account) login(c *fiber.Ctx) error {
	email, next := c.FormValue("email"), SafeNext(c.FormValue("next"))
	token, _, err := ac.d.Store.Login(c.UserContext(), email, c.FormValue("password"), c.Get(fiber.HeaderUserAgent), c.IP())
	switch {
	case errs.Is(err, errs.Unauthorized):
		c.Status(fiber.StatusUnauthorized)
		return ac.d.UI.Render(c, "login", ac.loginData(c, fiber.Map{"Error": Translate(Lang(c), "login.failed"), "Email": email, "Next": next}))
	case errs.Is(err, errs.RateLimited):
		module.SetRetryAfter(c, err)
		c.Status(fiber.StatusTooManyRequests)
		return ac.d.UI.Render(c, "login", ac.loginData(c, fiber.Map{"Error": errs.MessageIn(err, Lang(c)), "Email": email, "Next": next}))
	case errs.Is(err, errs.Forbidden): // the unit switched passwords off: its buttons are the way in
		c.Status(fiber.StatusForbidden)
		data := ac.loginData(c, fiber.Map{"Error": errs.MessageIn(err, Lang(c)), "Email": email, "Next": next})
		var off *tenants.PasswordsOffError
		if errors.As(err, &off) && ac.d.LoginButtons != nil {
			var buttons []LoginButton
			for _, slug := range off.Slugs {
				buttons = append(buttons, ac.d.LoginButtons(c, "/t/"+slug+"/")...)
			}
			data["Providers"] = buttons
		}
		return ac.d.UI.Render(c, "login", data)
	case err != nil:
		return err
	}
	return ac.signIn(c, token, next)
}

// logout ends the session here and, for a single sign-on session, at the provider too
// (RP-initiated logout), which sends the browser back to the login page.
func (ac *account) logout(c *fiber.Ctx) error {
	to := ""
	if tok := c.Cookies(api.SessionCookie); tok != "" {
		var err error
		if ac.d.Logout != nil {
			to, err = ac.d.Logout(c.UserContext(), tok)
		} else {
			err = ac.d.Store.Logout(c.UserContext(), tok)
		}
		if err != nil {
			return err
		}
	}
	c.ClearCookie(api.SessionCookie)
	if to == "" {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	// To the provider by a page that moves on by itself, not by a redirect: the console's
	// Content-Security-Policy (form-action 'self') refuses a form post redirected to another
	// site, and the logout is a form post.
	c.SetUserContext(tenants.WithPrincipal(c.UserContext(), nil))
	return ac.d.UI.Render(c, "logout", fiber.Map{"To": to})
}

// loginData adds the single sign-on buttons for where the person is going to the login page's
// data.
func (ac *account) loginData(c *fiber.Ctx, data fiber.Map) fiber.Map {
	if ac.d.LoginButtons != nil {
		next, _ := data["Next"].(string)
		data["Providers"] = ac.d.LoginButtons(c, next)
	}
	return data
}

// me shows the account and the units it may open.
func (ac *account) me(c *fiber.Ctx) error {
	me, err := api.Me(c, ac.d.Store)
	if err != nil {
		return err
	}
	visible, err := ac.d.Store.FindVisibleTenants(c.UserContext(), module.Principal(c))
	if err != nil {
		return err
	}
	return ac.d.UI.Render(c, "me", fiber.Map{"Me": me, "Tenants": visible})
}

// acceptInvitation joins the invitee to the tenant and signs them in with the password they
// just set or proved, sending them to where their work is. Should the sign-in be refused (the
// login limiter), the page says they have joined and may log in.
func (ac *account) acceptInvitation(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token, password := c.Params("token"), c.FormValue("password")
	id, _, err := ac.d.Store.AcceptInvitation(ctx, token, c.FormValue("name"), password)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		c.Status(module.Status(errs.CodeOf(err)))
		return ac.d.UI.Render(c, "invite", fiber.Map{"Token": token, "Error": errs.MessageOf(err)})
	}
	session, _, err := ac.d.Store.Login(ctx, id.Email, password, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		return ac.d.UI.Render(c, "invite", fiber.Map{"Token": token, "Done": true})
	}
	return ac.signIn(c, session, "")
}
