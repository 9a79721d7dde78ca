package app

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/open311"
)

// boundaryA is a boundary for 楚雄市 in the tests: a square of 0.2° around the fixture's grids
// (101.49–101.53°E, 24.99–25.03°N) and the points the tests report at.
const boundaryA = `{"type":"Feature","properties":{"name":"楚雄市"},"geometry":{"type":"Polygon","coordinates":[[[101.4,24.9],[101.6,24.9],[101.6,25.1],[101.4,25.1],[101.4,24.9]]]}}`

// TestBoundaryEndpoints: A's admin sets, reads and deletes A's boundary; tenant B's admin can
// neither read nor write it (404), the prefecture viewer reads it and cannot change it, a
// member who is not admin cannot change it.
func TestBoundaryEndpoints(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			const A, B = "/api/v1/t/chuxiong/boundary", "/api/v1/t/wuding/boundary"
			point := `{"type":"Point","coordinates":[101.5,25]}`
			runScenarios(t, f, []scenario{
				{"none yet", "adminA", "GET", A, "", 404, "no boundary", ""},
				{"set", "adminA", "PUT", A, boundaryA, 200, `"bbox":[101.4,24.9,101.6,25.1]`, ""},
				{"read", "adminA", "GET", A, "", 200, `"coordinates":[[[101.4,24.9]`, ""},
				{"viewer reads", "viewer", "GET", A, "", 200, `"type":"Feature"`, ""},
				{"viewer cannot set", "viewer", "PUT", A, boundaryA, 403, "", ""},
				{"viewer cannot delete", "viewer", "DELETE", A, "", 403, "", ""},
				{"inspector cannot set", "inspectorA", "PUT", A, boundaryA, 403, "", ""},
				{"B cannot read A", "adminB", "GET", A, "", 404, "", "101.4"},
				{"B cannot set A", "adminB", "PUT", A, boundaryA, 404, "", ""},
				{"B cannot delete A", "adminB", "DELETE", A, "", 404, "", ""},
				{"B has none of A's", "adminB", "GET", B, "", 404, "no boundary", "101.4"},
				{"nobody", "nobody", "GET", A, "", 404, "", "101.4"},
				{"a point is no boundary", "adminA", "PUT", A, point, 400, `"field":"geometry"`, ""},
				{"unclosed ring", "adminA", "PUT", A, `{"type":"Polygon","coordinates":[[[101,25],[102,25],[102,26],[101,26]]]}`, 400, "not closed", ""},
				{"outside China", "adminA", "PUT", A, `{"type":"Polygon","coordinates":[[[25,101],[26,101],[26,102],[25,102],[25,101]]]}`, 400, "outside China", ""},
				{"still the first", "adminA", "GET", A, "", 200, `"bbox":[101.4,24.9,101.6,25.1]`, ""},
			})
			// The file may come as application/geo+json, and is audited.
			res := f.sendBody(t, "adminA", "PUT", A, "application/geo+json", boundaryA)
			if res.status != 200 || res.header.Get("Content-Type") != "application/geo+json" {
				t.Fatalf("geo+json: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
			}
			if res := f.sendBody(t, "adminA", "PUT", A, "text/plain", boundaryA); res.status != 415 {
				t.Fatalf("text/plain: %d %s", res.status, res.body)
			}
			if res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action=boundary.put", ""); !strings.Contains(res.body, "boundary.put") {
				t.Fatalf("not audited: %s", res.body)
			}
			runScenarios(t, f, []scenario{
				{"delete", "adminA", "DELETE", A, "", 204, "", ""},
				{"deleted", "adminA", "GET", A, "", 404, "", ""},
				{"delete again", "adminA", "DELETE", A, "", 404, "", ""},
			})
		})
	}
}

// TestBoundaryRefusesReports: with a boundary, a point outside it is refused with a 400 naming
// 楚雄市 wherever the report comes in — Open311 (JSON and XML), the citizens' form, the API and
// the console's report form — and nothing is stored; a point inside is taken. A tenant without
// a boundary takes any point in China and none outside.
func TestBoundaryRefusesReports(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testBoundaryRefusesReports(t, dialect) })
	}
}

func testBoundaryRefusesReports(t *testing.T, dialect string) {
	f := newO311Fixture(t, dialect)
	w := &caseWeb{caseFixture: f.caseFixture, sessions: map[string]string{}}
	if res := f.sendBody(t, "adminA", "PUT", "/api/v1/t/chuxiong/boundary", "application/geo+json", boundaryA); res.status != 200 {
		t.Fatalf("boundary: %d %s", res.status, res.body)
	}
	const o311 = "/open311/v2"
	named := func(s string) bool {
		return strings.Contains(s, "lies outside 楚雄市; reports here are for 楚雄市 only") || strings.Contains(s, "不在楚雄市范围内；这里只受理楚雄市辖区内的问题")
	}
	// Outside (101.8°E 25.5°N is in China, east of the boundary): refused everywhere.
	res := f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "25.5", "long", "101.8"), 400)
	var es []open311.Error
	if err := json.Unmarshal([]byte(res.body), &es); err != nil || len(es) != 1 || es[0].Code != 400 || !named(es[0].Description) {
		t.Fatalf("Open311 JSON outside: %v %s", err, res.body)
	}
	res = f.post(t, o311+"/requests.xml", o311Form(f.keyA, "lat", "25.5", "long", "101.8"), 400)
	var xe xmlError
	if err := xml.Unmarshal([]byte(res.body), &xe); err != nil || len(xe.Errors) != 1 || xe.Errors[0].Code != "400" || !named(xe.Errors[0].Description) {
		t.Fatalf("Open311 XML outside: %v %s", err, res.body)
	}
	public := map[string]string{"service_code": "component-0101", "description": "井盖丢了", "address_string": "鹿城南路 1 号", "lat": "25.5", "long": "101.8"}
	if res := publicPost(t, f.fixture, "/r/chuxiong/", public, nil, ""); res.status != 400 || !named(res.body) {
		t.Fatalf("public form outside: %d\n%s", res.status, res.body)
	}
	res = f.mustDo(t, "acceptorA", "POST", casesA, `{"kind":"component","class_code":"0101","lon":101.8,"lat":25.5,"source":"hotline"}`, 400)
	if !named(res.body) || !strings.Contains(res.body, `"field":"lat"`) {
		t.Fatalf("API outside: %s", res.body)
	}
	console := url.Values{"class": {"component/0101"}, "description": {"井盖缺失"}, "lat": {"25.5"}, "lon": {"101.8"}}
	if res := w.postMultipart(t, "inspectorA", webA+"/report", console, "", "", nil); res.status != 400 || !named(res.body) {
		t.Fatalf("console outside: %d\n%s", res.status, res.body)
	}
	if n := w.countCases(t); n != 0 {
		t.Fatalf("refused reports stored %d cases", n)
	}

	// Inside: taken everywhere.
	f.post(t, o311+"/requests.json", o311Form(f.keyA), 200)
	public["lat"], public["long"] = "25.03", "101.54"
	if res := publicPost(t, f.fixture, "/r/chuxiong/", public, nil, ""); res.status != 303 {
		t.Fatalf("public form inside: %d\n%s", res.status, res.body)
	}
	f.mustDo(t, "acceptorA", "POST", casesA, `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"source":"hotline"}`, 201)
	console.Set("lat", "25.005")
	console.Set("lon", "101.505")
	if res := w.postMultipart(t, "inspectorA", webA+"/report", console, "", "", nil); res.status != 303 {
		t.Fatalf("console inside: %d\n%s", res.status, res.body)
	}
	if n := w.countCases(t); n != 4 {
		t.Fatalf("%d cases, want 4", n)
	}

	// 武定县 has no boundary: any point in China (here Ürümqi), none outside.
	wuding := func(kv ...string) url.Values {
		return o311Form(f.keyB, append([]string{"jurisdiction_id", "wuding"}, kv...)...)
	}
	f.post(t, o311+"/requests.json", wuding("lat", "43.8", "long", "87.6"), 200)
	checkError(t, f.post(t, o311+"/requests.json", wuding("lat", "25.5", "long", "140"), 400), 400)
	checkError(t, f.post(t, o311+"/requests.xml", wuding("lat", "0", "long", "0"), 400), 400)

	// Without its boundary, 楚雄市 takes the point it refused.
	f.mustDo(t, "adminA", "DELETE", "/api/v1/t/chuxiong/boundary", "", 204)
	f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "25.5", "long", "101.8"), 200)
}

// TestBoundaryConsole: the admin uploads the boundary on the grids page, sees it described and
// drawn, is told what is wrong with a bad file, and deletes it.
func TestBoundaryConsole(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	const page = "/t/chuxiong/admin/grids"
	if res := admin.get(t, page); res.status != 200 || !strings.Contains(res.body, "尚未设置边界") {
		t.Fatalf("no boundary: %d\n%s", res.status, res.body)
	}
	res := admin.upload(t, "/t/chuxiong/admin/boundary", nil, "chuxiong.geojson", []byte(boundaryA))
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), page+"?done=admin.boundary.saved") {
		t.Fatalf("upload: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	res = admin.get(t, page)
	if res.status != 200 || !strings.Contains(res.body, "当前边界") || !strings.Contains(res.body, `/api/v1/t/chuxiong/boundary`) {
		t.Fatalf("with a boundary: %d\n%s", res.status, res.body)
	}
	res = admin.upload(t, "/t/chuxiong/admin/boundary", nil, "point.geojson", []byte(`{"type":"Point","coordinates":[101.5,25]}`))
	if res.status != 400 || !strings.Contains(res.body, "边界是 Point") {
		t.Fatalf("bad file: %d\n%s", res.status, res.body)
	}
	res = admin.post(t, "/t/chuxiong/admin/boundary/delete", nil)
	if res.status != 303 {
		t.Fatalf("delete: %d\n%s", res.status, res.body)
	}
	if res := admin.get(t, page); !strings.Contains(res.body, "尚未设置边界") {
		t.Fatalf("after delete:\n%s", res.body)
	}
}
