package console

// Single sign-on in the browser: the "使用 <provider> 登录" buttons of the login page, the start
// of a sign-in (to the provider) and its return (the redirect URI), for a tenant's providers
// (/sso/t/:tenant/:provider/…) and the operator's (/sso/ops/:provider/…). tenants/sso runs the
// protocol; docs/identity.md is the admin's guide.

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/sso"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// SSODeps are what the single sign-on pages use.
type SSODeps struct {
	UI    *UI
	Store *tenants.Store
	SSO   *sso.Service
	Log   *slog.Logger
	// SecureCookies marks the cookies Secure (served over HTTPS).
	SecureCookies bool
}

// ssoFlowCookie holds the token of a sign-in in progress, for the callback to find its state,
// nonce and PKCE verifier again. SameSite=Lax: the provider's redirect back is a top-level
// navigation from another site, which Lax cookies accompany.
const ssoFlowCookie = "cityops_sso"

// LoginButton is one "使用 <provider> 登录" button of the login page.
type LoginButton struct {
	Href, Name string
}

type ssoPages struct{ d SSODeps }

// MountSSO adds the start and callback routes of every provider to f and returns what the login
// page calls for its buttons.
func MountSSO(f fiber.Router, d SSODeps) func(c *fiber.Ctx, next string) []LoginButton {
	p := &ssoPages{d}
	f.Get("/sso/t/:tenant/:provider/start", p.start)
	f.Get("/sso/t/:tenant/:provider/callback", p.callback)
	f.Get("/sso/ops/:provider/start", p.start)
	f.Get("/sso/ops/:provider/callback", p.callback)
	return p.buttons
}

// realm is the tenant of the route (nil on /sso/ops/…).
func (p *ssoPages) realm(c *fiber.Ctx) (*tenants.Tenant, error) {
	slug := c.Params("tenant")
	if slug == "" {
		return nil, nil
	}
	t, _, err := p.d.Store.ResolveSlug(c.UserContext(), slug)
	return t, err
}

func (p *ssoPages) start(c *fiber.Ctx) error {
	t, err := p.realm(c)
	if err != nil {
		return err
	}
	to, flow, err := p.d.SSO.Begin(c.UserContext(), t, c.Params("provider"), SafeNext(c.Query("next")))
	if err != nil {
		return p.refused(c, t, err)
	}
	c.Cookie(&fiber.Cookie{Name: ssoFlowCookie, Value: flow, Path: "/sso/", HTTPOnly: true, Secure: p.d.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: p.d.Store.Now().Add(tenants.SSOFlowTTL)})
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (p *ssoPages) callback(c *fiber.Ctx) error {
	t, err := p.realm(c)
	if err != nil {
		return err
	}
	flow := c.Cookies(ssoFlowCookie)
	c.Cookie(&fiber.Cookie{Name: ssoFlowCookie, Value: "", Path: "/sso/", HTTPOnly: true, Secure: p.d.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(1, 0)})
	cb := sso.Callback{State: c.Query("state"), Code: c.Query("code"), Error: c.Query("error"), ErrorDescription: c.Query("error_description")}
	session, next, err := p.d.SSO.Finish(c.UserContext(), t, c.Params("provider"), flow, cb, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		return p.refused(c, t, err)
	}
	api.SetSession(c, session, p.d.SecureCookies)
	if next == "" {
		next = "/"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// refused shows the login page with why the sign-in failed and the realm's buttons to try again;
// an unknown provider is the error page's, an internal error too.
func (p *ssoPages) refused(c *fiber.Ctx, t *tenants.Tenant, err error) error {
	code := errs.CodeOf(err)
	if code == errs.Internal || code == errs.NotFound {
		return err
	}
	c.Status(module.Status(code))
	next := "/ops"
	if t != nil {
		next = "/t/" + t.Slug + "/"
	}
	return p.d.UI.Render(c, "login", fiber.Map{"Error": errs.MessageIn(err, Lang(c)), "Next": "", "Providers": p.realmButtons(c.UserContext(), t, next)})
}

// buttons are the providers to offer on the login page: the unit's named by ?unit=<slug> or by
// the page the person was going to (next, /t/<slug>/…), or the operator's for /ops.
func (p *ssoPages) buttons(c *fiber.Ctx, next string) []LoginButton {
	unit := c.Query("unit")
	if unit == "" {
		if rest, ok := strings.CutPrefix(next, "/t/"); ok {
			unit, _, _ = strings.Cut(rest, "/")
		} else if next == "/ops" || strings.HasPrefix(next, "/ops/") {
			return p.realmButtons(c.UserContext(), nil, next)
		}
	}
	if unit == "" {
		return nil
	}
	t, _, err := p.d.Store.ResolveSlug(c.UserContext(), unit)
	if err != nil {
		return nil
	}
	return p.realmButtons(c.UserContext(), t, next)
}

func (p *ssoPages) realmButtons(ctx context.Context, t *tenants.Tenant, next string) []LoginButton {
	var realm *uuid.UUID
	if t != nil {
		realm = &t.ID
	}
	ps, err := p.d.Store.FindSSOProviders(ctx, realm)
	if err != nil {
		p.d.Log.Warn("login page: identity providers", "err", err)
		return nil
	}
	var out []LoginButton
	for _, pr := range ps {
		if !pr.Enabled {
			continue
		}
		href := sso.StartPath(t, pr.Key)
		if next != "" {
			href += "?next=" + url.QueryEscape(next)
		}
		out = append(out, LoginButton{Href: href, Name: pr.DisplayName})
	}
	return out
}
