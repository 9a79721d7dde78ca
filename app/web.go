package app

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/internal/errs"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// webUI holds the parsed pages; every template is parsed at start, so a broken one stops the
// process instead of a request.
type webUI struct {
	pages  map[string]*template.Template
	static fiber.Handler
}

const langCookie = "cityops_lang"

func translate(lang, key string) string {
	if m, ok := web.Messages[lang][key]; ok {
		return m
	}
	if m, ok := web.Messages["zh-CN"][key]; ok {
		return m
	}
	return key
}

func newWebUI() (*webUI, error) {
	funcs := template.FuncMap{"t": translate}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(web.Files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(web.Files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	w := &webUI{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(web.Files, n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		w.pages[name] = t
	}
	w.static = filesystem.New(filesystem.Config{Root: http.FS(web.Files), PathPrefix: "static", MaxAge: 3600})
	return w, nil
}

// lang picks the UI language: ?lang= (remembered in a cookie), then the cookie, then Chinese.
func lang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "en" || l == "zh-CN" {
		c.Cookie(&fiber.Cookie{Name: langCookie, Value: l, Path: "/", Expires: time.Now().Add(365 * 24 * time.Hour), SameSite: fiber.CookieSameSiteLaxMode})
		return l
	}
	if c.Cookies(langCookie) == "en" {
		return "en"
	}
	return "zh-CN"
}

// render executes page inside the layout with the common fields (language, current user, CSRF).
func (a *App) render(c *fiber.Ctx, page string, data fiber.Map) error {
	t, ok := a.web.pages[page]
	if !ok {
		return errs.E(errs.Internal, "no page %q", page)
	}
	if data == nil {
		data = fiber.Map{}
	}
	data["Lang"] = lang(c)
	if p := principal(c); p != nil && data["Me"] == nil {
		if me, err := a.me(c); err == nil {
			data["Me"] = me
		}
	}
	if tok := c.Cookies(sessionCookie); tok != "" {
		data["CSRF"] = csrfToken(tok)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(buf.Bytes())
}

func (a *App) webRoutes(f *fiber.App) {
	f.Get("/", func(c *fiber.Ctx) error {
		if principal(c) == nil {
			return c.Redirect("/login", fiber.StatusSeeOther)
		}
		return c.Redirect("/me", fiber.StatusSeeOther)
	})
	f.Get("/login", func(c *fiber.Ctx) error {
		return a.render(c, "login", fiber.Map{"Next": safeNext(c.Query("next"))})
	})
	f.Post("/login", a.webLogin)
	f.Post("/logout", a.csrf, a.webLogout)
	f.Get("/me", a.needLogin, a.webMe)
	f.Get("/invite/:token", func(c *fiber.Ctx) error {
		return a.render(c, "invite", fiber.Map{"Token": c.Params("token")})
	})
	f.Post("/invite/:token", a.webAcceptInvitation)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/me"
	}
	return next
}

func (a *App) webLogin(c *fiber.Ctx) error {
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	token, _, err := a.store.Login(c.UserContext(), email, c.FormValue("password"), c.Get(fiber.HeaderUserAgent), c.IP())
	if errs.Is(err, errs.Unauthorized) {
		c.Status(fiber.StatusUnauthorized)
		return a.render(c, "login", fiber.Map{"Error": translate(lang(c), "login.failed"), "Email": email, "Next": next})
	}
	if err != nil {
		return err
	}
	a.setSession(c, token)
	return c.Redirect(next, fiber.StatusSeeOther)
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

func (a *App) webMe(c *fiber.Ctx) error {
	me, err := a.me(c)
	if err != nil {
		return err
	}
	visible, err := a.visibleTenants(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return a.render(c, "me", fiber.Map{"Me": me, "Tenants": visible})
}

func (a *App) webAcceptInvitation(c *fiber.Ctx) error {
	token := c.Params("token")
	_, _, err := a.store.AcceptInvitation(c.UserContext(), token, c.FormValue("name"), c.FormValue("password"))
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		c.Status(statusOf[errs.CodeOf(err)])
		return a.render(c, "invite", fiber.Map{"Token": token, "Error": errs.MessageOf(err)})
	}
	return a.render(c, "invite", fiber.Map{"Token": token, "Done": true})
}
