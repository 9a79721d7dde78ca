package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// Deps are what the console's rendering uses.
type Deps struct {
	// Store reads the signed-in account for the layout (api.Me).
	Store *tenants.Store
	// Secrets holds each tenant's 天地图 browser key (credential "tianditu"); nil leaves 天地图 off.
	Secrets secrets.Store
	// MapTiles is the deployment's default base map for tenants that chose none: none (offline),
	// osm or tianditu (CITYOPS_MAP_TILES). A tenant's own choice is its setting map.tiles.
	MapTiles string
	// Modules bring their pages, parsed with the console's as "<module>/<page>".
	Modules []module.Module
	// ModuleNav are the links of the modules sc's tenant has, after the tenant's own.
	ModuleNav func(ctx context.Context, sc *tenants.Scope) []NavItem
}

var _ module.Pages = (*UI)(nil)

// UI holds the parsed pages; every template is parsed at start, so a broken one stops the
// process instead of a request. templates/partials/ holds the partials every page may use.
type UI struct {
	d      Deps
	pages  map[string]*template.Template
	static fiber.Handler
}

// New parses the console's pages and the modules' (named "<module>/<page>"), each inside the
// layout.
func New(d Deps) (*UI, error) {
	u := &UI{d: d, pages: map[string]*template.Template{}}
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
		u.pages[name] = t
	}
	for _, m := range d.Modules {
		if m.Templates == nil {
			continue
		}
		files, err := fs.Glob(m.Templates, "*.html")
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name, err)
		}
		// The module's partials/*.html are parsed into each of its pages, as the console's are.
		base := template.Must(layout.Clone())
		if parts, _ := fs.Glob(m.Templates, "partials/*.html"); len(parts) > 0 {
			if base, err = base.ParseFS(m.Templates, "partials/*.html"); err != nil {
				return nil, fmt.Errorf("module %s: partials: %w", m.Name, err)
			}
		}
		for _, n := range files {
			t, err := template.Must(base.Clone()).ParseFS(m.Templates, n)
			if err != nil {
				return nil, fmt.Errorf("module %s: parse %s: %w", m.Name, n, err)
			}
			u.pages[m.Name+"/"+strings.TrimSuffix(n, ".html")] = t
		}
	}
	u.static = filesystem.New(filesystem.Config{Root: http.FS(web.Files), PathPrefix: "static", MaxAge: 3600})
	return u, nil
}

// Static serves app/web's static/ (scripts, styles, the vendored libraries).
func (u *UI) Static() fiber.Handler { return u.static }

// Pages are the names of every parsed page, sorted.
func (u *UI) Pages() []string {
	names := make([]string, 0, len(u.pages))
	for n := range u.pages {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Execute writes page inside the layout with data as it is, adding nothing (Render adds the
// request's common fields).
func (u *UI) Execute(w io.Writer, page string, data fiber.Map) error {
	t, ok := u.pages[page]
	if !ok {
		return errs.E(errs.Internal, msgNoPage, page)
	}
	if err := t.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return nil
}

// Lang is the page's language (Lang), for module.Pages.
func (u *UI) Lang(c *fiber.Ctx) string { return Lang(c) }

// Render executes page inside the layout with the common fields: Lang, Me (the signed-in
// account), CSRF, Path, Flash (the ?done= message of a completed form), and inside a tenant
// Tenant, Scope, the tenant's Nav and, for a page with map Layers but no Map, the tenant's Map.
func (u *UI) Render(c *fiber.Ctx, page string, data fiber.Map) error {
	if _, ok := u.pages[page]; !ok {
		return errs.E(errs.Internal, msgNoPage, page)
	}
	if data == nil {
		data = fiber.Map{}
	}
	l := Lang(c)
	data["Lang"] = l
	data["Path"] = c.Path()
	if p := module.Principal(c); p != nil && data["Me"] == nil {
		if me, err := api.Me(c, u.d.Store); err == nil {
			data["Me"] = me
		}
	}
	if tok := c.Cookies(api.SessionCookie); tok != "" {
		data["CSRF"] = api.CSRFToken(tok)
	}
	sc := tenants.ScopeFrom(c.UserContext())
	if sc != nil {
		data["Tenant"], data["Scope"] = sc.Tenant, sc
		// A page with map layers and no map of its own (a module's) gets the tenant's.
		if _, ok := data["Layers"]; ok && data["Map"] == nil {
			data["Map"] = u.MapConfig(c)
		}
	}
	var more []NavItem
	if sc != nil && u.d.ModuleNav != nil {
		more = u.d.ModuleNav(c.UserContext(), sc)
	}
	data["Nav"] = nav(c, sc, more)
	if done := c.Query("done"); done != "" && data["Flash"] == nil {
		if msg.Known(done) {
			data["Flash"] = Translate(l, done)
		}
	}
	var buf bytes.Buffer
	if err := u.Execute(&buf, page, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	var tiles string
	if m, ok := data["Map"].(MapConfig); ok {
		tiles = m.origin
	}
	c.Set("Content-Security-Policy", contentSecurityPolicy(tiles))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	return c.Send(buf.Bytes())
}

// contentSecurityPolicy admits only this site's scripts and styles (no inline script: pages pass
// data to their scripts in <script type="application/json"> blocks), and images from the tile
// source of the page's map (tiles, an origin such as https://*.tianditu.gov.cn; "" for none).
func contentSecurityPolicy(tiles string) string {
	img := "'self' data: blob:"
	if tiles != "" {
		img += " " + tiles
	}
	return "default-src 'self'; img-src " + img + "; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
}
