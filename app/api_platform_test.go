package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/tenants"
)

func (f *fixture) upload(t *testing.T, who, path, contentType, body string) *response {
	t.Helper()
	return f.sendBody(t, who, "POST", path, contentType, body)
}

// sendBody sends body of contentType as who and fails the test if the request cannot be sent.
func (f *fixture) sendBody(t *testing.T, who, method, path, contentType, body string) *response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func platformSquare(lon, lat, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`, lon, lat, lon+d, lat, lon+d, lat+d, lon, lat+d, lon, lat)
}

// gridsOf is a street, a community and a unit grid of the tenant with admin code ac.
func gridsOf(ac string) string {
	feat := func(code, name, g string) string {
		return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, ac+code, name, g)
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		feat("00100000", "A街道", platformSquare(101.49, 24.99, 0.04)),
		feat("00100100", "A社区", platformSquare(101.5, 25, 0.02)),
		feat("00100101", "A-SECRET-GRID", platformSquare(101.5, 25, 0.01)),
	}, ",") + `]}`
}

const platformStandards = "类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件\n部件,0101,A-SECRET-CONDITION,SZJ,2,紧急工作时,补齐\n"

// setupPlatformA gives tenant A a department, an inspector, grids with a responsibility grid,
// a standard, a component and a holiday, all through the API as A's admin.
func setupPlatformA(t *testing.T, f *fixture) (deptID, staffID string) {
	t.Helper()
	res, _ := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/departments", `{"code":"SZJ","name":"市政局A-SECRET"}`)
	if res.status != 201 {
		t.Fatalf("department: %d %s", res.status, res.body)
	}
	var d struct{ ID string }
	json.Unmarshal([]byte(res.body), &d)
	res, _ = f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/staff", `{"name":"监督员甲","posts":["inspector"]}`)
	if res.status != 201 {
		t.Fatalf("staff: %d %s", res.status, res.body)
	}
	var s struct{ ID string }
	json.Unmarshal([]byte(res.body), &s)
	if res := f.upload(t, "adminA", "/api/v1/t/chuxiong/grids/import", "application/geo+json", gridsOf("532301")); res.status != 200 {
		t.Fatalf("grids: %d %s", res.status, res.body)
	}
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/responsibility-grids/R1", `{"name":"一号责任网格","inspector_id":"`+s.ID+`","units":["53230100100101"]}`); res.status != 200 {
		t.Fatalf("responsibility: %d %s", res.status, res.body)
	}
	if res := f.upload(t, "adminA", "/api/v1/t/chuxiong/standards/import", "text/csv", platformStandards); res.status != 200 {
		t.Fatalf("standards: %d %s", res.status, res.body)
	}
	if res := f.upload(t, "adminA", "/api/v1/t/chuxiong/components/import", "text/csv", "部件编码,名称,经度,纬度\n5323010101000001,A-SECRET-COVER,101.505,25.005\n"); res.status != 200 {
		t.Fatalf("components: %d %s", res.status, res.body)
	}
	if res := f.upload(t, "adminA", "/api/v1/t/chuxiong/calendar/import?year=2026", "text/csv", "日期,类型,名称\n2026-01-01,放假,A-SECRET-HOLIDAY\n"); res.status != 200 {
		t.Fatalf("calendar: %d %s", res.status, res.body)
	}
	return d.ID, s.ID
}

// TestPlatformEndpointsIsolation covers every platform endpoint: the owner, tenant B (404 and
// none of A's data), the prefecture viewer (reads work, writes are refused) and a non-admin.
func TestPlatformEndpointsIsolation(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			dept, staff := setupPlatformA(t, f)
			const A = "/api/v1/t/chuxiong"
			var stdID string
			{
				res, _ := f.do(t, "adminA", "GET", A+"/standards", "")
				var st []struct{ ID string }
				json.Unmarshal([]byte(res.body), &st)
				if len(st) != 1 {
					t.Fatalf("standards: %s", res.body)
				}
				stdID = st[0].ID
			}
			deadline := A + "/calendar/deadline?start=2025-12-31T17:00:00%2B08:00&limit=2工作时&now=2026-01-02T09:00:00%2B08:00"
			runScenarios(t, f, []scenario{
				{"owner lists departments", "adminA", "GET", A + "/departments", "", 200, "A-SECRET", ""},
				{"owner resolves", "adminA", "GET", A + "/grids/resolve?lon=101.505&lat=25.005", "", 200, staff, ""},
				{"owner looks up a class", "adminA", "GET", A + "/catalog/classes/component/0101", "", 200, "A-SECRET-CONDITION", ""},
				{"owner previews a deadline", "adminA", "GET", deadline, "", 200, `"deadline":"2026-01-02T09:30:00+08:00"`, ""},
				{"inspector reads grids", "inspectorA", "GET", A + "/grids", "", 200, "A-SECRET-GRID", ""},
				{"inspector cannot import", "inspectorA", "POST", A + "/standards/import", "", 403, "tenant_admin", ""},
				{"inspector cannot add a department", "inspectorA", "POST", A + "/departments", `{"code":"X","name":"X"}`, 403, "tenant_admin", ""},

				{"B lists A departments", "adminB", "GET", A + "/departments", "", 404, "", "A-SECRET"},
				{"B reads A department", "adminB", "GET", A + "/departments/" + dept, "", 404, "", "A-SECRET"},
				{"B reads its own department by A's id", "adminB", "GET", "/api/v1/t/wuding/departments/" + dept, "", 404, "", "A-SECRET"},
				{"B changes A department", "adminB", "PUT", A + "/departments/" + dept, `{"code":"SZJ","name":"pwned"}`, 404, "", ""},
				{"B deletes A department", "adminB", "DELETE", A + "/departments/" + dept, "", 404, "", ""},
				{"B creates in A", "adminB", "POST", A + "/departments", `{"code":"X","name":"X"}`, 404, "", ""},
				{"B lists A staff", "adminB", "GET", A + "/staff", "", 404, "", "监督员甲"},
				{"B reads A staff", "adminB", "GET", A + "/staff/" + staff, "", 404, "", "监督员甲"},
				{"B reads own staff by A's id", "adminB", "GET", "/api/v1/t/wuding/staff/" + staff, "", 404, "", "监督员甲"},
				{"B changes A staff", "adminB", "PUT", A + "/staff/" + staff, `{"name":"x"}`, 404, "", ""},
				{"B deletes A staff", "adminB", "DELETE", A + "/staff/" + staff, "", 404, "", ""},
				{"B creates A staff", "adminB", "POST", A + "/staff", `{"name":"x"}`, 404, "", ""},
				{"B lists A grids", "adminB", "GET", A + "/grids", "", 404, "", "A-SECRET"},
				{"B exports A grids", "adminB", "GET", A + "/grids.geojson", "", 404, "", "A-SECRET"},
				{"B reads A map boundary", "adminB", "GET", A + "/map/boundary.geojson", "", 404, "", "楚雄"},
				{"B reads A tile source", "adminB", "GET", A + "/map/tiles", "", 404, "", ""},
				{"B sets A tile source", "adminB", "PUT", A + "/map/tiles", `{"kind":"offline"}`, 404, "", ""},
				{"viewer reads A map boundary", "viewer", "GET", A + "/map/boundary.geojson", "", 200, "楚雄市", ""},
				{"viewer sets A tile source", "viewer", "PUT", A + "/map/tiles", `{"kind":"offline"}`, 403, "read-only", ""},
				{"inspector sets A tile source", "inspectorA", "PUT", A + "/map/tiles", `{"kind":"offline"}`, 403, "tenant_admin", ""},
				{"B reads A grid", "adminB", "GET", A + "/grids/53230100100101", "", 404, "", "A-SECRET"},
				{"B resolves in A", "adminB", "GET", A + "/grids/resolve?lon=101.505&lat=25.005", "", 404, "", "A-SECRET"},
				{"B resolves A's point in B", "adminB", "GET", "/api/v1/t/wuding/grids/resolve?lon=101.505&lat=25.005", "", 404, "", "A-SECRET"},
				{"B lists A's grids in B", "adminB", "GET", "/api/v1/t/wuding/grids", "", 200, "[]", "A-SECRET"},
				{"B imports into A", "adminB", "POST", A + "/grids/import", "", 404, "", ""},
				{"B lists A responsibility", "adminB", "GET", A + "/responsibility-grids", "", 404, "", "一号"},
				{"B puts A responsibility", "adminB", "PUT", A + "/responsibility-grids/R1", `{"name":"x"}`, 404, "", ""},
				{"B deletes A responsibility", "adminB", "DELETE", A + "/responsibility-grids/R1", "", 404, "", ""},
				{"B lists A classes", "adminB", "GET", A + "/catalog/classes", "", 404, "", ""},
				{"B looks up A class", "adminB", "GET", A + "/catalog/classes/component/0101", "", 404, "", "A-SECRET"},
				{"B looks up in B", "adminB", "GET", "/api/v1/t/wuding/catalog/classes/component/0101", "", 200, "上水井盖", "A-SECRET"},
				{"B creates A class", "adminB", "POST", A + "/catalog/classes", `{"kind":"event","code":"60","name_zh":"x"}`, 404, "", ""},
				{"B deletes A class", "adminB", "DELETE", A + "/catalog/classes/event/60", "", 404, "", ""},
				{"B syncs A", "adminB", "POST", A + "/catalog/sync", "", 404, "", ""},
				{"B lists A components", "adminB", "GET", A + "/components", "", 404, "", "A-SECRET"},
				{"B reads A component", "adminB", "GET", A + "/components/5323010101000001", "", 404, "", "A-SECRET"},
				{"B reads A component in B", "adminB", "GET", "/api/v1/t/wuding/components/5323010101000001", "", 404, "", "A-SECRET"},
				{"B imports components into A", "adminB", "POST", A + "/components/import", "", 404, "", ""},
				{"B lists A standards", "adminB", "GET", A + "/standards", "", 404, "", "A-SECRET"},
				{"B reads A standard", "adminB", "GET", A + "/standards/" + stdID, "", 404, "", "A-SECRET"},
				{"B reads A standard in B", "adminB", "GET", "/api/v1/t/wuding/standards/" + stdID, "", 404, "", "A-SECRET"},
				{"B imports standards into A", "adminB", "POST", A + "/standards/import", "", 404, "", ""},
				{"B reads A calendar", "adminB", "GET", A + "/calendar", "", 404, "", "A-SECRET"},
				{"B reads B calendar", "adminB", "GET", "/api/v1/t/wuding/calendar?year=2026", "", 200, "Asia/Shanghai", "A-SECRET"},
				{"B sets A calendar", "adminB", "PUT", A + "/calendar", `{"time_zone":"Asia/Shanghai","working_hours":"00:00-24:00","weekend":[]}`, 404, "", ""},
				{"B imports A calendar", "adminB", "POST", A + "/calendar/import?year=2026", "", 404, "", ""},
				{"B previews in A", "adminB", "GET", deadline, "", 404, "", ""},

				{"viewer lists departments", "viewer", "GET", A + "/departments", "", 200, "A-SECRET", ""},
				{"viewer reads staff", "viewer", "GET", A + "/staff/" + staff, "", 200, "监督员甲", ""},
				{"viewer exports grids", "viewer", "GET", A + "/grids.geojson", "", 200, "A-SECRET-GRID", ""},
				{"viewer resolves", "viewer", "GET", A + "/grids/resolve?lon=101.505&lat=25.005", "", 200, "53230100100101", ""},
				{"viewer reads responsibility", "viewer", "GET", A + "/responsibility-grids", "", 200, "R1", ""},
				{"viewer reads classes", "viewer", "GET", A + "/catalog/classes?kind=event&level=major", "", 200, "街面秩序", ""},
				{"viewer reads components", "viewer", "GET", A + "/components?grid=53230100100101", "", 200, "A-SECRET-COVER", ""},
				{"viewer reads standards", "viewer", "GET", A + "/standards/" + stdID, "", 200, "A-SECRET-CONDITION", ""},
				{"viewer reads calendar", "viewer", "GET", A + "/calendar?year=2026", "", 200, "A-SECRET-HOLIDAY", ""},
				{"viewer previews", "viewer", "GET", deadline, "", 200, "deadline", ""},
				{"viewer creates department", "viewer", "POST", A + "/departments", `{"code":"V","name":"V"}`, 403, "read-only", ""},
				{"viewer changes department", "viewer", "PUT", A + "/departments/" + dept, `{"code":"V","name":"V"}`, 403, "read-only", ""},
				{"viewer deletes staff", "viewer", "DELETE", A + "/staff/" + staff, "", 403, "read-only", ""},
				{"viewer imports grids", "viewer", "POST", A + "/grids/import", "", 403, "read-only", ""},
				{"viewer puts responsibility", "viewer", "PUT", A + "/responsibility-grids/R1", `{"name":"x"}`, 403, "read-only", ""},
				{"viewer creates class", "viewer", "POST", A + "/catalog/classes", `{"kind":"event","code":"60","name_zh":"x"}`, 403, "read-only", ""},
				{"viewer syncs", "viewer", "POST", A + "/catalog/sync", "", 403, "read-only", ""},
				{"viewer imports components", "viewer", "POST", A + "/components/import", "", 403, "read-only", ""},
				{"viewer imports standards", "viewer", "POST", A + "/standards/import", "", 403, "read-only", ""},
				{"viewer sets calendar", "viewer", "PUT", A + "/calendar", `{}`, 403, "read-only", ""},
				{"viewer imports calendar", "viewer", "POST", A + "/calendar/import?year=2026", "", 403, "read-only", ""},
			})
			// Nothing B or the viewer tried arrived.
			res, _ := f.do(t, "adminA", "GET", A+"/departments", "")
			if strings.Contains(res.body, "pwned") || !strings.Contains(res.body, "A-SECRET") {
				t.Fatalf("A's departments after the attempts: %s", res.body)
			}
			// The export is GeoJSON with its media type, and B's own export is empty.
			res, _ = f.do(t, "adminA", "GET", A+"/grids.geojson?level=unit", "")
			if ct := res.header.Get("Content-Type"); ct != "application/geo+json" || !strings.Contains(res.body, `"FeatureCollection"`) {
				t.Fatalf("export: %s %s", ct, res.body)
			}
			// Imports are audited on A.
			res, _ = f.do(t, "adminA", "GET", A+"/audit?action=standards.import", "")
			if !strings.Contains(res.body, "standards.import") {
				t.Fatalf("import not audited: %s", res.body)
			}
		})
	}
}

// TestPlatformImportsRejectBrokenFiles sends broken files to every import: each is refused with
// per-row problems (or a clear file-level error) and nothing is written.
func TestPlatformImportsRejectBrokenFiles(t *testing.T) {
	f := newFixture(t, "sqlite")
	setupPlatformA(t, f)
	const A = "/api/v1/t/chuxiong"
	for _, tc := range []struct {
		name, path, ct, body string
		status               int
		want                 string
	}{
		{"grids bad geometry", "/grids/import", "application/geo+json", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"53230100100102","name":"x"},"geometry":{"type":"Polygon","coordinates":[[[101.5,25],[101.6,25],[101.6,25.1]]]}}]}`, 422, `"column":"geometry"`},
		{"grids foreign code", "/grids/import", "application/geo+json", gridsOf("532329"), 422, "532301"},
		{"grids not geojson", "/grids/import", "application/geo+json", `[1,2]`, 400, "FeatureCollection"},
		{"grids as csv", "/grids/import", "text/csv", "a,b\n", 415, "geo+json"},
		{"standards unknown class", "/standards/import", "text/csv", "类型,小类代码,立案条件,处置时限,结案条件\n部件,9999,x,2工作时,y\n", 422, `"row":2,"column":"class_code"`},
		{"standards missing columns", "/standards/import", "text/csv", "类型,小类代码\n部件,0101\n", 400, "closing_condition"},
		{"standards bad encoding", "/standards/import", "text/csv", "\xff\xfe\x31\x00", 400, "UTF-16"},
		{"standards as json", "/standards/import", "application/json", `{}`, 415, "text/csv"},
		{"components unknown class", "/components/import", "text/csv", "部件编码,经度,纬度\n5323019901000001,101.5,25\n", 422, `"column":"code"`},
		{"components bad point", "/components/import", "application/geo+json", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"5323010101000002"},"geometry":{"type":"Point","coordinates":[200,25]}}]}`, 422, `"column":"lon"`},
		{"calendar bad rows", "/calendar/import?year=2026", "text/csv", "日期,类型\n2026-02-30,放假\n2025-01-01,放假\n", 422, `"row":3`},
		{"calendar no year", "/calendar/import", "text/csv", "日期,类型\n2026-01-01,放假\n", 400, "year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.upload(t, "adminA", A+tc.path, tc.ct, tc.body)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) {
				t.Fatalf("%d %s, want %d with %q", res.status, res.body, tc.status, tc.want)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %s", ct)
			}
		})
	}
	// Nothing was written: A still has exactly what setup put there.
	for path, want := range map[string]string{"/grids?level=unit": "53230100100101", "/standards": "A-SECRET-CONDITION", "/components": "A-SECRET-COVER", "/calendar?year=2026": "A-SECRET-HOLIDAY"} {
		res, _ := f.do(t, "adminA", "GET", A+path, "")
		if !strings.Contains(res.body, want) || strings.Contains(res.body, "53230100100102") || strings.Contains(res.body, "5323010101000002") {
			t.Fatalf("%s after rejected imports: %s", path, res.body)
		}
	}
	// A dry run reports without writing; a multipart upload works like a raw body.
	res := f.upload(t, "adminA", A+"/standards/import?dry_run=true", "text/csv", "类型,小类代码,立案条件,处置时限,结案条件\n事件,0102,暴露垃圾,1工作日,清除\n")
	if res.status != 200 || !strings.Contains(res.body, `"applied":false`) {
		t.Fatalf("dry run: %d %s", res.status, res.body)
	}
	body := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"std.csv\"\r\nContent-Type: application/octet-stream\r\n\r\n" + platformStandards + "\r\n--B--\r\n"
	res = f.upload(t, "adminA", A+"/standards/import", "multipart/form-data; boundary=B", body)
	if res.status != 200 || !strings.Contains(res.body, `"applied":true`) {
		t.Fatalf("multipart: %d %s", res.status, res.body)
	}
	// An oversize file is 413 (through a real listener: fasthttp refuses it while reading).
	addr := f.listen(t)
	// The request is written by hand, headers only: the server refuses it from its Content-Length
	// before reading the body, and a client still sending the body could instead see the refusal
	// as a broken pipe.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s/standards/import HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
		A, addr, f.tokens["adminA"], 70<<10)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 413 {
		t.Fatalf("oversize: %d %s", r.StatusCode, b)
	}
}

func TestPlatformOrgAndCatalogFlow(t *testing.T) {
	f := newFixture(t, "sqlite")
	const A = "/api/v1/t/chuxiong"
	runScenarios(t, f, []scenario{
		{"handler needs a department", "adminA", "POST", A + "/staff", `{"name":"处置员","posts":["handler"]}`, 400, `"field":"department_id"`, ""},
		{"bad post", "adminA", "POST", A + "/staff", `{"name":"x","posts":["king"]}`, 400, `"field":"posts"`, ""},
		{"unknown department", "adminA", "GET", A + "/departments/nope", "", 404, "", ""},
		{"bad point", "adminA", "GET", A + "/grids/resolve?lon=x&lat=1", "", 400, "lon", ""},
		{"point outside China", "adminA", "GET", A + "/grids/resolve?lon=2&lat=48", "", 400, "outside China", ""},
		{"no grid there", "adminA", "GET", A + "/grids/resolve?lon=101&lat=25", "", 404, "none of", ""},
		{"bad kind", "adminA", "GET", A + "/catalog/classes?kind=thing", "", 400, "kind", ""},
		{"national classes", "adminA", "GET", A + "/catalog/classes?kind=component&major=01", "", 200, `"code_status":"confirmed"`, ""},
		{"prefecture adds a class", "viewer", "POST", "/api/v1/t/chuxiong-zhou/catalog/classes", `{"kind":"event","code":"50","name_zh":"服务事项"}`, 403, "", ""},
		{"bad limit", "adminA", "GET", A + "/calendar/deadline?start=2026-01-05T09:00:00%2B08:00&limit=3周", "", 400, "unit", ""},
		{"bad start", "adminA", "GET", A + "/calendar/deadline?start=monday&limit=3工作日", "", 400, "start", ""},
		{"deadline with a pause", "adminA", "GET", A + "/calendar/deadline?start=2026-01-05T09:00:00%2B08:00&amount=4&unit=working_hours&pause=2026-01-05T10:00:00%2B08:00/2026-01-05T15:30:00%2B08:00&now=2026-01-05T12:00:00%2B08:00", "", 200, `"deadline":"2026-01-06T09:00:00+08:00"`, ""},
		{"urgent hours run at night", "adminA", "GET", A + "/calendar/deadline?start=2026-01-05T23:00:00%2B08:00&limit=2紧急工作时&now=2026-01-06T03:00:00%2B08:00", "", 200, `"overtime_multiple":1`, ""},
		{"set hours", "adminA", "PUT", A + "/calendar", `{"time_zone":"Asia/Shanghai","working_hours":"09:00-17:00","weekend":[0]}`, 200, "09:00-17:00", ""},
		{"bad hours", "adminA", "PUT", A + "/calendar", `{"time_zone":"Asia/Shanghai","working_hours":"17:00-09:00","weekend":[0]}`, 400, "working_hours", ""},
	})
	// The prefecture (which has no admin account in the fixture) adds an extension class through
	// the service; county A pulls it with a sync, B has not.
	pref, err := f.app.store.FindTenantBySlug(context.Background(), "chuxiong-zhou")
	if err != nil {
		t.Fatal(err)
	}
	pctx := tenants.WithScope(context.Background(), tenants.SystemScope(pref))
	for _, in := range []catalog.ClassInput{{Kind: catalog.Event, Code: "50", NameZH: "服务事项"}, {Kind: catalog.Event, Code: "5001", NameZH: "群众求助"}} {
		if _, err := f.app.platform.catalog.CreateClass(pctx, in); err != nil {
			t.Fatal(err)
		}
	}
	runScenarios(t, f, []scenario{
		{"sync", "adminA", "POST", A + "/catalog/sync", "", 200, `"classes":2`, ""},
		{"synced class", "adminA", "GET", A + "/catalog/classes/event/5001", "", 200, `"origin":"prefecture"`, ""},
		{"not in B", "adminB", "GET", "/api/v1/t/wuding/catalog/classes/event/5001", "", 404, "", ""},
		{"own class", "adminA", "POST", A + "/catalog/classes", `{"kind":"event","code":"5002","name_zh":"县级事项"}`, 201, `"origin":"own"`, ""},
		{"own class clash", "adminA", "POST", A + "/catalog/classes", `{"kind":"event","code":"5001","name_zh":"x"}`, 409, "already", ""},
		{"prefecture class cannot be deleted here", "adminA", "DELETE", A + "/catalog/classes/event/5001", "", 404, "", ""},
		{"own class deleted", "adminA", "DELETE", A + "/catalog/classes/event/5002", "", 204, "", ""},
		{"prefecture has no parent", "operator", "POST", "/api/v1/t/chuxiong-zhou/catalog/sync", "", 403, "", ""},
	})
}
