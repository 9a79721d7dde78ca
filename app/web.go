package app

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/google/uuid"
)

// webUI holds the parsed pages; every template is parsed at start, so a broken one stops the
// process instead of a request. templates/partials/ holds the partials every page may use.
type webUI struct {
	pages  map[string]*template.Template
	static fiber.Handler
}

const langCookie = "cityops_lang"

// translate is the console text key (a message id) in lang.
func translate(lang, key string) string { return msg.TextOf(lang, key) }

// asTime accepts time.Time, *time.Time and nil.
func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil && !t.IsZero() {
			return *t, true
		}
	}
	return time.Time{}, false
}

// yuan formats an amount in fen as yuan with thousands separators: 123456 → "1,234.56".
func yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s := fmt.Sprintf("%s.%02d", b.String(), fen%100)
	if neg {
		return "-" + s
	}
	return s
}

// templateFuncs are the helpers every template may use.
var templateFuncs = template.FuncMap{
	"t": translate,
	// tf translates key and formats the result with args, e.g. {{tf .Lang "cases.count" 12}}.
	"tf":   func(lang, key string, args ...any) string { return fmt.Sprintf(translate(lang, key), args...) },
	"yuan": yuan,
	// dt shows a time in Beijing time to the minute; "—" when unset.
	"dt": func(v any) string {
		if t, ok := asTime(v); ok {
			return t.In(clock.China).Format("2006-01-02 15:04")
		}
		return "—"
	},
	"date": func(v any) string {
		if t, ok := asTime(v); ok {
			return t.In(clock.China).Format("2006-01-02")
		}
		return "—"
	},
	// has reports whether the request's scope holds one of the roles (by name).
	"has": func(sc *tenants.Scope, roles ...string) bool {
		if sc == nil {
			return false
		}
		for _, r := range roles {
			if sc.Has(tenants.Role(r)) {
				return true
			}
		}
		return false
	},
	// dict builds a map for passing several values to a partial: dict "ID" "m" "Map" .Map.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"query": url.QueryEscape,
	"add":   func(a, b int) int { return a + b },
	// pct shows part/whole as a percentage with one decimal; "—" when whole is 0.
	"pct": func(part, whole int) string {
		if whole == 0 {
			return "—"
		}
		return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
	},
}

// newWebUI parses the console's pages and the modules' (named "<module>/<page>"), each inside
// the layout.
func newWebUI(mods []module.Module) (*webUI, error) {
	w := &webUI{pages: map[string]*template.Template{}}
	layout, err := template.New("layout").Funcs(templateFuncs).ParseFS(web.Files, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(web.Files, "templates/*.html")
	if err != nil {
		return nil, err
	}
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
	for _, m := range mods {
		if m.Templates == nil {
			continue
		}
		files, err := fs.Glob(m.Templates, "*.html")
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name, err)
		}
		for _, n := range files {
			t, err := template.Must(layout.Clone()).ParseFS(m.Templates, n)
			if err != nil {
				return nil, fmt.Errorf("module %s: parse %s: %w", m.Name, n, err)
			}
			w.pages[m.Name+"/"+strings.TrimSuffix(n, ".html")] = t
		}
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

// navItem is one link of the console's navigation.
type navItem struct {
	Href, Key string
	Active    bool
}

// staffPosts are the case-loop posts that have an inbox.
var staffPosts = []tenants.Role{tenants.Inspector, tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.Handler, tenants.Leader}

// nav lists the links the caller may follow from the current page: the tenant's pages when the
// request is inside one (/t/:tenant/...), the operator's console for operators.
func nav(c *fiber.Ctx, sc *tenants.Scope, modules []navItem) []navItem {
	var items []navItem
	if sc != nil {
		base := "/t/" + sc.Tenant.Slug
		if sc.Via != nil && sc.Via.Kind == tenants.Prefecture {
			// A prefecture viewer inside one of its counties: the way back to the overview.
			items = append(items, navItem{Href: "/t/" + sc.Via.Slug + "/overview", Key: "nav.overview"})
		}
		if sc.Tenant.Kind == tenants.Prefecture {
			items = append(items, navItem{Href: base + "/overview", Key: "nav.overview"})
		}
		if sc.Has(staffPosts...) {
			items = append(items, navItem{Href: base + "/inbox", Key: "nav.inbox"})
		}
		items = append(items, navItem{Href: base + "/cases", Key: "nav.cases"}, navItem{Href: base + "/map", Key: "nav.map"})
		if sc.Has(tenants.Inspector, tenants.Acceptor) && !sc.ReadOnly {
			items = append(items, navItem{Href: base + "/report", Key: "nav.report"})
		}
		items = append(items, modules...)
		if sc.Has(tenants.TenantAdmin) {
			items = append(items, navItem{Href: base + "/admin", Key: "nav.admin"})
		}
		if billing.CanSee(sc) {
			items = append(items, navItem{Href: base + "/billing", Key: "nav.billing"})
		}
	}
	if p := principal(c); p != nil && p.IsOperator() {
		items = append(items, navItem{Href: "/ops", Key: "nav.ops"})
	}
	path := c.Path()
	best := -1
	for i, it := range items {
		if (path == it.Href || strings.HasPrefix(path, it.Href+"/")) && (best < 0 || len(it.Href) > len(items[best].Href)) {
			best = i
		}
	}
	if best >= 0 {
		items[best].Active = true
	}
	return items
}

// render executes page inside the layout with the common fields: Lang, Me (the signed-in
// account), CSRF, Path, Flash (the ?done= message of a completed form), and inside a tenant
// Tenant, Scope and the tenant's Nav.
func (a *App) render(c *fiber.Ctx, page string, data fiber.Map) error {
	t, ok := a.web.pages[page]
	if !ok {
		return errs.E(errs.Internal, msgNoPage, page)
	}
	if data == nil {
		data = fiber.Map{}
	}
	l := lang(c)
	data["Lang"] = l
	data["Path"] = c.Path()
	if p := principal(c); p != nil && data["Me"] == nil {
		if me, err := api.Me(c, a.store); err == nil {
			data["Me"] = me
		}
	}
	if tok := c.Cookies(sessionCookie); tok != "" {
		data["CSRF"] = api.CSRFToken(tok)
	}
	sc := tenants.ScopeFrom(c.UserContext())
	if sc != nil {
		data["Tenant"], data["Scope"] = sc.Tenant, sc
	}
	var more []navItem
	if sc != nil {
		more = a.moduleNav(c.UserContext(), sc)
	}
	data["Nav"] = nav(c, sc, more)
	if done := c.Query("done"); done != "" && data["Flash"] == nil {
		if msg.Known(done) {
			data["Flash"] = translate(l, done)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", a.contentSecurityPolicy())
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	return c.Send(buf.Bytes())
}

// contentSecurityPolicy admits only this site's scripts and styles (no inline script: pages pass
// data to their scripts in <script type="application/json"> blocks), and images from the
// configured map tile source.
func (a *App) contentSecurityPolicy() string {
	img := "'self' data: blob:"
	switch a.cfg.MapTiles {
	case "osm":
		img += " https://*.tile.openstreetmap.org"
	case "tianditu":
		img += " https://*.tianditu.gov.cn"
	}
	return "default-src 'self'; img-src " + img + "; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
}

// done redirects after a successful form (post/redirect/get) to target with a message key the
// next page shows.
func done(c *fiber.Ctx, target, messageKey string) error {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return c.Redirect(target+sep+"done="+url.QueryEscape(messageKey), fiber.StatusSeeOther)
}

// formError turns a failed form action into a message for the page, in the page's language, and
// sets the response status. Internal errors are returned as such, for the error page.
func formError(c *fiber.Ctx, err error) (string, error) {
	code := errs.CodeOf(err)
	if code == errs.Internal {
		return "", err
	}
	c.Status(module.Status(code))
	l := lang(c)
	sep := "："
	if l == "en" {
		sep = ": "
	}
	return translate(l, "problem."+string(code)) + sep + errs.MessageIn(err, l), nil
}

// mapConfig is what a map partial needs: the tile source (none, osm, tianditu) and, for 天地图,
// the tenant's browser key from the secret store (credential "tianditu"). Without a key, or when
// the secret store is unreachable, the map shows grids and cases on a blank background.
type mapConfig struct {
	Tiles, Key string
}

func (a *App) mapConfig(c *fiber.Ctx) mapConfig {
	m := mapConfig{Tiles: a.cfg.MapTiles}
	if m.Tiles == "tianditu" {
		m.Tiles = "none"
		if sc := tenants.ScopeFrom(c.UserContext()); sc != nil && a.secrets != nil {
			if sec, err := a.secrets.Credential(c.UserContext(), sc.Tenant.ID, "tianditu"); err == nil {
				m.Tiles, m.Key = "tianditu", sec.Reveal()
			}
		}
	}
	if m.Tiles == "" {
		m.Tiles = "none"
	}
	return m
}

func (a *App) webRoutes(f *fiber.App) {
	f.Get("/", a.webHome)
	f.Get("/login", func(c *fiber.Ctx) error {
		return a.render(c, "login", fiber.Map{"Next": safeNext(c.Query("next"))})
	})
	f.Post("/login", a.sameOrigin, a.webLogin)
	f.Post("/logout", a.csrf, a.webLogout)
	f.Get("/me", a.needLogin, a.webMe)
	f.Get("/invite/:token", func(c *fiber.Ctx) error {
		return a.render(c, "invite", fiber.Map{"Token": c.Params("token")})
	})
	f.Post("/invite/:token", a.sameOrigin, a.webAcceptInvitation)

	a.webOpsRoutes(f.Group("/ops", a.needOperator(), a.csrf))
	tw := f.Group("/t/:tenant", a.needLogin, a.csrf, a.tenantScope)
	tw.Get("/", a.webTenantHome)
	a.webAdminRoutes(tw)
	a.webCaseRoutes(tw)
	a.webPrefectureRoutes(tw)
	a.webBillingRoutes(tw)
	a.moduleConsoleRoutes(tw)
	a.webPublicRoutes(f.Group("/r/:tenant"))
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

// webTenantHome opens a tenant on the page for the caller's work there (workPage).
func (a *App) webTenantHome(c *fiber.Ctx) error {
	sc := tenants.ScopeFrom(c.UserContext())
	return c.Redirect(workPage(sc), fiber.StatusSeeOther)
}

// landing is where p's work is: the page p lands on after logging in through the form or
// accepting an invitation (unless the form carries a next page), and at /. An operator works in
// the operations console; a member of exactly one tenant works on that tenant's page for their
// roles (workPage); anyone else, a member of several tenants or of none, lands on the account
// page, which lists the units they may open: no rule picks one unit over another.
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
	return workPage(sc), nil
}

// workPage is the page of sc's tenant where someone with sc's roles does their work, by the first
// that applies: a prefecture viewer's is the prefecture overview; a case-loop post's (staffPosts)
// the inbox; a tenant admin's the tenant console; anyone else's (a viewer, a prefecture viewer or
// an operator reading a county) the prefecture's overview or a county's case list.
func workPage(sc *tenants.Scope) string {
	base := "/t/" + sc.Tenant.Slug
	switch {
	case sc.Has(tenants.PrefectureViewer):
		return base + "/overview"
	case sc.Has(staffPosts...):
		return base + "/inbox"
	case sc.Has(tenants.TenantAdmin):
		return base + "/admin"
	case sc.Tenant.Kind == tenants.Prefecture:
		return base + "/overview"
	}
	return base + "/cases"
}

// safeNext keeps a post-login redirect on this site: a path, not //host or /\host, and without
// control characters (a browser drops tabs and line breaks from a URL, so /<tab>/host is //host).
// It returns "" for anything else.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
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
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	token, _, err := a.store.Login(c.UserContext(), email, c.FormValue("password"), c.Get(fiber.HeaderUserAgent), c.IP())
	switch {
	case errs.Is(err, errs.Unauthorized):
		c.Status(fiber.StatusUnauthorized)
		return a.render(c, "login", fiber.Map{"Error": translate(lang(c), "login.failed"), "Email": email, "Next": next})
	case errs.Is(err, errs.RateLimited):
		setRetryAfter(c, err)
		c.Status(fiber.StatusTooManyRequests)
		return a.render(c, "login", fiber.Map{"Error": errs.MessageIn(err, lang(c)), "Email": email, "Next": next})
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
	return a.render(c, "me", fiber.Map{"Me": me, "Tenants": visible})
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
		return a.render(c, "invite", fiber.Map{"Token": token, "Error": errs.MessageOf(err)})
	}
	session, _, err := a.store.Login(ctx, id.Email, password, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		return a.render(c, "invite", fiber.Map{"Token": token, "Done": true})
	}
	return a.signIn(c, session, "")
}
