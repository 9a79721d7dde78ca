package console

import (
	"context"
	"net/url"
	"strings"

	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// MapConfig is what a map partial needs: the tenant's base map, built from its tile source
// (tenants.TileSource, setting map.tiles) by static/js/map.js. Tiles is the kind drawn
// (offline, tianditu, xyz, wmts); Base what map.js reads.
type MapConfig struct {
	Tiles  string
	Base   MapBase
	origin string // the CSP img-src source of the tiles
}

// MapBase is the JSON map.js builds a map's base layers from: tile layers (bottom first), the
// highest zoom, and the vector layers drawn under the page's own — the tenant's administrative
// boundary always, its unit grids too when there are no tiles — so a map is never an empty box.
type MapBase struct {
	Kind    string           `json:"kind"`
	Tiles   []TileLayer      `json:"tiles"`
	MaxZoom int              `json:"max_zoom"`
	Offline []map[string]any `json:"offline"`
}

// TileLayer is one Leaflet tile layer: a URL template with {z}/{x}/{y} (and {s} from Subdomains).
type TileLayer struct {
	URL         string `json:"url"`
	Subdomains  string `json:"subdomains,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	MaxZoom     int    `json:"max_zoom"`
}

// MapConfig is the maps' configuration for the request's tenant (offline outside one).
func (u *UI) MapConfig(c *fiber.Ctx) MapConfig {
	sc := tenants.ScopeFrom(c.UserContext())
	if sc == nil {
		return u.buildMap(c.UserContext(), nil, "")
	}
	return u.buildMap(c.UserContext(), sc.Tenant, "/api/v1/t/"+sc.Tenant.Slug)
}

// TenantMapConfig is the maps' configuration for t on its public pages (/r/{tenant}): the
// offline layers come from the public map's routes.
func (u *UI) TenantMapConfig(ctx context.Context, t *tenants.Tenant) MapConfig {
	if t == nil {
		return u.buildMap(ctx, nil, "")
	}
	return u.buildMap(tenants.WithScope(ctx, &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true}), t, "/r/"+t.Slug+"/map")
}

// buildMap reads t's tile source (the deployment's default when t chose none or the setting
// cannot be read) and, for 天地图, t's browser key. Without a key 天地图 falls back to offline.
// layers is where the boundary.geojson and grids.geojson of the offline layers are.
func (u *UI) buildMap(ctx context.Context, t *tenants.Tenant, layers string) MapConfig {
	ts := tenants.DefaultTileSource(u.d.MapTiles)
	if t != nil && u.d.Store != nil {
		if got, err := u.d.Store.FindTileSource(ctx, ts); err == nil {
			ts = got
		}
	}
	var key string
	if ts.Kind == tenants.TilesTianditu {
		if t != nil && u.d.Secrets != nil {
			if sec, err := u.d.Secrets.Credential(ctx, t.ID, "tianditu"); err == nil {
				key = sec.Reveal()
			}
		}
		if key == "" {
			ts = tenants.TileSource{Kind: tenants.TilesOffline, MaxZoom: 18}
		}
	}
	m := MapConfig{Tiles: ts.Kind, Base: MapBase{Kind: ts.Kind, Tiles: TileLayers(ts, key), MaxZoom: max(ts.MaxZoom, 18), Offline: []map[string]any{}}, origin: ts.Origin()}
	if layers != "" {
		m.Base.Offline = append(m.Base.Offline, map[string]any{"url": layers + "/boundary.geojson", "kind": "boundary", "fit": true})
		if ts.Kind == tenants.TilesOffline {
			grids := layers + "/grids.geojson"
			if strings.HasPrefix(layers, "/api/") {
				grids += "?level=unit"
			}
			m.Base.Offline = append(m.Base.Offline, map[string]any{"url": grids, "kind": "grids", "interactive": false})
		}
	}
	return m
}

// TileLayers are the Leaflet tile layers of ts; key is 天地图's browser key (tk). A 天地图 key is
// a browser key by design: it is in every tile URL the browser fetches, so it is bound to the
// site's domain in the 天地图 console rather than kept secret from the page.
func TileLayers(ts tenants.TileSource, key string) []TileLayer {
	switch ts.Kind {
	case tenants.TilesTianditu:
		notes := map[string]string{"vec": "cva", "img": "cia", "ter": "cta"}[ts.Layer]
		var out []TileLayer
		for _, l := range []string{ts.Layer, notes} {
			u := "https://t{s}.tianditu.gov.cn/" + l + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=" + l +
				"&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + url.QueryEscape(key)
			if ts.Style == "xyz" {
				u = "https://t{s}.tianditu.gov.cn/DataServer?T=" + l + "_w&x={x}&y={y}&l={z}&tk=" + url.QueryEscape(key)
			}
			out = append(out, TileLayer{URL: u, Subdomains: "01234567", Attribution: "© 天地图", MaxZoom: ts.MaxZoom})
		}
		return out
	case tenants.TilesXYZ:
		return []TileLayer{{URL: ts.URL, Subdomains: ts.Subdomains, Attribution: ts.Attribution, MaxZoom: ts.MaxZoom}}
	case tenants.TilesWMTS:
		sep := "?"
		if strings.Contains(ts.URL, "?") {
			sep = "&"
		}
		q := "SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=" + url.QueryEscape(ts.WMTSLayer) + "&STYLE=" + url.QueryEscape(ts.WMTSStyle) +
			"&TILEMATRIXSET=" + url.QueryEscape(ts.MatrixSet) + "&FORMAT=" + url.QueryEscape(ts.Format) +
			"&TILEMATRIX=" + url.QueryEscape(ts.MatrixPrefix) + "{z}&TILEROW={y}&TILECOL={x}"
		return []TileLayer{{URL: ts.URL + sep + q, Subdomains: ts.Subdomains, Attribution: ts.Attribution, MaxZoom: ts.MaxZoom}}
	}
	return []TileLayer{}
}
