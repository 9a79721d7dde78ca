package tenants

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
)

// TileSourceSetting is the tenant setting that holds its maps' tile source (a TileSource as JSON).
const TileSourceSetting = "map.tiles"

// The kinds of tile source a tenant's maps may use.
const (
	// TilesOffline draws no tiles: the tenant's boundary and grids as vector layers (the default).
	TilesOffline = "offline"
	// TilesTianditu is 天地图, with the tenant's browser key (credential "tianditu").
	TilesTianditu = "tianditu"
	// TilesXYZ is any XYZ (slippy map) service: a URL template with {z}, {x} and {y}.
	TilesXYZ = "xyz"
	// TilesWMTS is any WMTS service in a Web Mercator tile matrix set whose matrices are named by
	// zoom level (GoogleMapsCompatible, 天地图's "w", GeoServer's EPSG:900913 with a prefix).
	TilesWMTS = "wmts"
)

// TileSource is a tenant's choice of base map. Only the fields of its Kind are kept.
type TileSource struct {
	Kind string `json:"kind"`
	// 天地图: Layer is vec (streets), img (imagery) or ter (terrain), each with its annotation
	// layer; Style is wmts (the WMTS GetTile URLs) or xyz (the DataServer URLs).
	Layer string `json:"layer,omitempty"`
	Style string `json:"style,omitempty"`
	// XYZ: URL is the template; Subdomains fill {s}. WMTS: URL is the service's KVP endpoint.
	URL        string `json:"url,omitempty"`
	Subdomains string `json:"subdomains,omitempty"`
	// WMTS: the layer, its style, the tile matrix set, an optional prefix of the matrix
	// identifiers (EPSG:900913: for "EPSG:900913:12") and the image format.
	WMTSLayer     string `json:"wmts_layer,omitempty"`
	WMTSStyle     string `json:"wmts_style,omitempty"`
	MatrixSet     string `json:"matrix_set,omitempty"`
	MatrixPrefix  string `json:"matrix_prefix,omitempty"`
	Format        string `json:"format,omitempty"`
	Attribution   string `json:"attribution,omitempty"`
	MaxZoom       int    `json:"max_zoom,omitempty"`
	UpdatedBy     string `json:"updated_by,omitempty"`
	DefaultSource bool   `json:"default,omitempty"` // not set by the tenant: the deployment's default
}

// ParseTileSource reads and checks a tile source: Invalid (with the field) when it is not one
// a browser can draw — a kind it does not know, a URL that is not http(s) or lacks its
// placeholders, text too long or with control characters.
func ParseTileSource(data []byte) (TileSource, error) {
	var ts TileSource
	if err := json.Unmarshal(data, &ts); err != nil {
		return ts, errs.Field("value", msgTileSourceNotJSON)
	}
	return ts, ts.Check()
}

// Check validates ts and drops the fields its kind does not use.
func (ts *TileSource) Check() error {
	ts.DefaultSource, ts.UpdatedBy = false, ""
	for f, v := range map[string]string{"url": ts.URL, "subdomains": ts.Subdomains, "wmts_layer": ts.WMTSLayer, "wmts_style": ts.WMTSStyle,
		"matrix_set": ts.MatrixSet, "matrix_prefix": ts.MatrixPrefix, "format": ts.Format, "attribution": ts.Attribution} {
		if len(v) > 500 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return errs.Field(f, msgTileFieldTooLong, f)
		}
	}
	if ts.MaxZoom == 0 {
		ts.MaxZoom = 18
	}
	if ts.MaxZoom < 1 || ts.MaxZoom > 22 {
		return errs.Field("max_zoom", msgTileMaxZoom)
	}
	switch ts.Kind {
	case "", TilesOffline, "none":
		*ts = TileSource{Kind: TilesOffline}
	case TilesTianditu:
		if ts.Layer == "" {
			ts.Layer = "vec"
		}
		if ts.Style == "" {
			ts.Style = "wmts"
		}
		if ts.Layer != "vec" && ts.Layer != "img" && ts.Layer != "ter" {
			return errs.Field("layer", msgTiandituLayer)
		}
		if ts.Style != "wmts" && ts.Style != "xyz" {
			return errs.Field("style", msgTiandituStyle)
		}
		*ts = TileSource{Kind: TilesTianditu, Layer: ts.Layer, Style: ts.Style, MaxZoom: min(ts.MaxZoom, 18)}
	case TilesXYZ:
		if err := checkTileURL(ts.URL, ts.Subdomains, true); err != nil {
			return err
		}
		*ts = TileSource{Kind: TilesXYZ, URL: ts.URL, Subdomains: ts.Subdomains, Attribution: ts.Attribution, MaxZoom: ts.MaxZoom}
	case TilesWMTS:
		if err := checkTileURL(ts.URL, ts.Subdomains, false); err != nil {
			return err
		}
		for f, v := range map[string]string{"wmts_layer": ts.WMTSLayer, "matrix_set": ts.MatrixSet} {
			if strings.TrimSpace(v) == "" {
				return errs.Field(f, msgWMTSFieldRequired, f)
			}
		}
		if ts.Format == "" {
			ts.Format = "image/png"
		}
		if !strings.HasPrefix(ts.Format, "image/") && ts.Format != "tiles" {
			return errs.Field("format", msgWMTSFormat)
		}
		if ts.WMTSStyle == "" {
			ts.WMTSStyle = "default"
		}
		*ts = TileSource{Kind: TilesWMTS, URL: ts.URL, Subdomains: ts.Subdomains, WMTSLayer: ts.WMTSLayer, WMTSStyle: ts.WMTSStyle,
			MatrixSet: ts.MatrixSet, MatrixPrefix: ts.MatrixPrefix, Format: ts.Format, Attribution: ts.Attribution, MaxZoom: ts.MaxZoom}
	default:
		return errs.Field("kind", msgTileKind)
	}
	return nil
}

// checkTileURL checks a tile URL: absolute http(s) without credentials; an XYZ template has
// {z}, {x} and {y} (or {-y}); {s} may stand only in the host's first label and needs subdomains.
func checkTileURL(raw, subdomains string, template bool) error {
	if raw == "" {
		return errs.Field("url", msgTileURLRequired)
	}
	// Placeholders are not valid URL characters in a host: parse with them replaced.
	probe := strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{-y}", "0").Replace(raw)
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.ContainsAny(probe, "{}<>\"' ") {
		return errs.Field("url", msgTileURLInvalid)
	}
	if template {
		if !strings.Contains(raw, "{z}") || !strings.Contains(raw, "{x}") || !(strings.Contains(raw, "{y}") || strings.Contains(raw, "{-y}")) {
			return errs.Field("url", msgTileURLPlaceholders)
		}
	}
	if strings.Contains(raw, "{s}") {
		host := strings.SplitN(strings.SplitN(raw, "://", 2)[1], "/", 2)[0]
		first, _, _ := strings.Cut(host, ".")
		if !strings.Contains(first, "{s}") || strings.Count(raw, "{s}") != 1 {
			return errs.Field("url", msgTileSubdomainPlace)
		}
		if subdomains == "" {
			return errs.Field("subdomains", msgTileSubdomainsRequired)
		}
	}
	for _, r := range subdomains {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return errs.Field("subdomains", msgTileSubdomainsRequired)
		}
	}
	return nil
}

// Origin is the CSP source that admits ts's tiles ("https://*.tianditu.gov.cn"); "" offline.
func (ts TileSource) Origin() string {
	switch ts.Kind {
	case TilesTianditu:
		return "https://*.tianditu.gov.cn"
	case TilesXYZ, TilesWMTS:
		scheme, rest, _ := strings.Cut(ts.URL, "://")
		host := strings.SplitN(rest, "/", 2)[0]
		host, _, _ = strings.Cut(host, "?")
		if first, more, ok := strings.Cut(host, "."); ok && strings.Contains(first, "{s}") {
			host = "*." + more
		}
		return scheme + "://" + host
	}
	return ""
}

// DefaultTileSource is the tile source of a tenant that chose none: the deployment's
// CITYOPS_MAP_TILES (none: offline; osm: OpenStreetMap; tianditu: 天地图 streets).
func DefaultTileSource(env string) TileSource {
	switch env {
	case "osm":
		return TileSource{Kind: TilesXYZ, URL: "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", Subdomains: "abc",
			Attribution: "© OpenStreetMap contributors", MaxZoom: 19}
	case "tianditu":
		return TileSource{Kind: TilesTianditu, Layer: "vec", Style: "wmts", MaxZoom: 18}
	}
	return TileSource{Kind: TilesOffline, MaxZoom: 18}
}

// FindTileSource returns the tile source of the tenant of ctx; def (marked DefaultSource) when
// it has set none.
func (s *Store) FindTileSource(ctx context.Context, def TileSource) (TileSource, error) {
	var st []Setting
	err := s.Tx(ctx, Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&st).Where("key = ?", TileSourceSetting).Scan(ctx)
	})
	if err != nil {
		return def, err
	}
	if len(st) == 0 {
		def.DefaultSource = true
		return def, nil
	}
	ts, err := ParseTileSource([]byte(st[0].Value))
	if err != nil {
		// A value set before a rule was added: the default, not a broken map.
		def.DefaultSource = true
		return def, nil
	}
	ts.UpdatedBy = st[0].UpdatedBy
	return ts, nil
}

// PutTileSource checks ts and makes it the tenant's tile source (audited as setting.put).
func (s *Store) PutTileSource(ctx context.Context, ts TileSource, by string) (TileSource, error) {
	if err := ts.Check(); err != nil {
		return ts, err
	}
	b, err := json.Marshal(ts)
	if err != nil {
		return ts, err
	}
	if _, err := s.PutSetting(ctx, TileSourceSetting, string(b), by); err != nil {
		return ts, err
	}
	ts.UpdatedBy = by
	return ts, nil
}

// checkSetting checks the value of a setting whose shape the platform knows.
func checkSetting(key, value string) error {
	switch key {
	case TileSourceSetting:
		_, err := ParseTileSource([]byte(value))
		return err
	case PublicMapDaysSetting:
		if n, err := strconv.Atoi(value); err != nil || n < 1 || n > 365 {
			return errs.Field("value", msgPublicMapDays)
		}
	case PublicMapPhotosSetting:
		if value != "true" && value != "false" {
			return errs.Field("value", msgPublicMapPhotos)
		}
	}
	return nil
}
