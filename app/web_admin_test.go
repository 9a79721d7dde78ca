package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func init() {
	evil := "<script>x</script>"
	parent := "d1"
	sampleMember := console.AdminMember{Member: &tenants.Member{Identity: &tenants.Identity{ID: uuid.New(), Email: "a@b.cn", Name: evil}, Roles: []tenants.Role{tenants.TenantAdmin, tenants.Inspector}}}
	sampleMember.ID = sampleMember.Identity.ID.String()
	dept := org.Department{ID: "d1", Code: "SZJ", Name: "市政设施管理局" + evil, Level: 1, Phone: "0878"}
	sub := org.Department{ID: "d2", Code: "SZJ-1", Name: "道路科", Level: 2, ParentID: &parent}
	tree, opts, names := console.AdminDepartmentTree([]org.Department{dept, sub}, []org.Staff{{ID: "s1", DepartmentID: &parent}})
	staffView := console.AdminStaffView{ID: "s1", Name: "张巡" + evil, Phone: "139", DepartmentID: "d1", IdentityID: sampleMember.ID, Posts: []org.Post{org.Inspector, org.Handler}, Active: true}
	report := &tabular.Report{Rows: 3, Accepted: 2, Problems: []tabular.Problem{{Row: 3, Column: "class_code", Key: "9999", Message: "\"9999\" is not a known event minor class " + evil}}}
	geo := json.RawMessage(`{"type":"FeatureCollection","features":[]}`)

	samplePage("admin_home", fiber.Map{}, fiber.Map{"Rows": []console.AdminCount{
		{Key: "admin.home.departments", Href: "/t/chuxiong/admin/org", Count: 3},
		{Key: "admin.home.calendar", Href: "/t/chuxiong/admin/calendar", Count: 0, Detail: "2026 年尚未导入节假日" + evil, Warn: true},
	}})
	samplePage("admin_org", fiber.Map{"StaffForm": console.AdminStaffView{Active: true}}, fiber.Map{
		"Error": "输入有误：" + evil, "Tree": tree, "Departments": opts, "DeptNames": names,
		"Staff":   []console.AdminStaffView{staffView, {ID: "s2", Name: "钱处"}},
		"Members": []*tenants.Member{sampleMember.Member}, "Emails": map[string]string{sampleMember.ID: "a@b.cn"}, "Posts": org.Posts,
		"StaffForm": staffView, "DeptForm": org.DepartmentInput{Code: "X", Name: evil},
	})
	samplePage("admin_users", fiber.Map{}, fiber.Map{
		"Members": []console.AdminMember{sampleMember}, "Self": sampleMember.ID, "Linked": map[string]bool{sampleMember.ID: true},
		"Roles":       console.AdminTenantRoles(sampleTenant),
		"Invitations": []*tenants.Invitation{{Email: "new@b.cn", Name: evil, Role: tenants.Inspector, CreatedAt: sampleNow, ExpiresAt: sampleNow.Add(14 * 24 * time.Hour)}},
		"Invited":     &tenants.Invitation{Email: "new@b.cn", Role: tenants.Inspector, ExpiresAt: sampleNow}, "InviteURL": "https://x.cn/invite/inv_abc",
		"InviteForm": fiber.Map{"Email": "x@y.cn", "Name": evil, "Role": "inspector"}, "Error": evil,
	})
	samplePage("admin_grids", fiber.Map{"Map": sampleMap}, fiber.Map{
		"Map": sampleMap, "Layers": []map[string]any{{"url": "/api/v1/t/chuxiong/grids.geojson", "kind": "grids", "fit": true}},
		"PreviewLayers": []map[string]any{{"data": geo, "kind": "grids", "fit": true}},
		"Grids":         []grids.Grid{{Code: "53230100100000", Name: "鹿城街道", Level: grids.Street, Shape: grids.Shape{AreaM2: 1234}}, {Code: "53230100100101", Name: evil, Level: grids.Unit}},
		"Units":         []grids.Grid{{Code: "53230100100101"}}, "Level": "unit", "Parent": "53230100100100", "Truncated": 1200,
		"Boundary":   console.AdminBoundaryView{AreaKM2: 4433.2, BBox: [4]float64{100.9, 24.5, 101.8, 25.4}, UpdatedAt: sampleNow},
		"Resp":       []console.AdminResponsibility{{ResponsibilityGrid: grids.ResponsibilityGrid{Code: "R1", Name: "一号责任网格", Units: []string{"53230100100101"}}, Inspector: "s1"}, {ResponsibilityGrid: grids.ResponsibilityGrid{Code: "R2", Name: evil}}},
		"Inspectors": []org.Staff{{ID: "s1", Name: "张巡"}}, "StaffNames": map[string]string{"s1": "张巡"},
		"RespForm": fiber.Map{"Code": "R3", "Name": evil, "Units": []string{"1", "2"}},
		"Import":   &console.AdminImportView{Action: "/grids/import", Report: report, Checked: true, Data: "eyJ9", Format: "geojson", Filename: evil},
		"Error":    evil,
	})
	samplePage("admin_catalog", fiber.Map{}, fiber.Map{
		"Extensions": []catalog.Class{{Kind: catalog.Event, Code: "91", Level: "major", NameZH: "扩展事件", Origin: catalog.Own}, {Kind: catalog.Component, Code: "9101", Level: "minor", NameZH: evil, Origin: catalog.Prefecture}},
		"Components": []console.AdminClassGroup{{Major: catalog.Class{Kind: catalog.Component, Code: "01", NameZH: "公用设施", Origin: catalog.National}, Minors: []catalog.Class{{Code: "0101", NameZH: "上水井盖", Origin: catalog.National, CodeStatus: "provisional"}, {Code: "0199", NameZH: evil, Origin: catalog.Own}}}},
		"Events":     []console.AdminClassGroup{},
		"Standards": []console.AdminStandard{{Standard: catalog.Standard{Kind: catalog.Component, ClassCode: "0101", FilingCondition: evil, DepartmentID: &parent,
			Limit: calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}, ClosingCondition: "补齐", LegalBasis: "《城市道路管理条例》"}, ClassName: "上水井盖", Department: "市政设施管理局"}},
		"HasParent": true, "ClassForm": catalog.ClassInput{Kind: catalog.Event, Code: "9", NameZH: evil},
		"Import": &console.AdminImportView{Action: "/standards/import", Report: report}, "Error": "文件有 1 处问题",
	})
	samplePage("admin_calendar", fiber.Map{"Settings": calendar.DefaultSettings(), "Year": 2026}, fiber.Map{
		"Settings": calendar.Settings{TimeZone: "Asia/Shanghai", WorkingHours: "08:30-12:00", Weekend: []time.Weekday{0, 6}, UpdatedAt: sampleNow, UpdatedBy: "a@b.cn"},
		"Weekend":  map[int]bool{0: true, 6: true}, "Weekdays": []int{1, 2, 3, 4, 5, 6, 0}, "Year": 2026,
		"Days":     []console.AdminDay{{Day: calendar.Day{Date: "2026-01-01", Kind: calendar.Holiday, Name: "元旦" + evil}, Weekday: time.Thursday}, {Day: calendar.Day{Date: "2026-01-04", Kind: calendar.Workday}, Weekday: time.Sunday}},
		"Holidays": 1, "Workdays": 1,
		"Import": &console.AdminImportView{Action: "/calendar/import", Report: &tabular.Report{Rows: 2, Accepted: 2}, Checked: true, Data: "YQ==", Format: "csv", Year: "2026"},
	})
	now := sampleNow
	samplePage("admin_stages", fiber.Map{}, fiber.Map{
		"Stages": append(cases.DefaultStageLimits(), cases.StageLimit{Stage: cases.StageClose, Limit: calendar.Limit{Amount: 1, Unit: calendar.WorkingDays}, Urgent: calendar.Limit{Amount: 0.5, Unit: calendar.UrgentHours}, UpdatedAt: &now, UpdatedBy: evil}),
		"Units":  []calendar.Unit{calendar.WorkingHours, calendar.WorkingDays, calendar.UrgentHours}, "Error": evil,
	})
	samplePage("admin_integrations", fiber.Map{}, fiber.Map{
		"Credentials": []secrets.Credential{{Name: "tianditu", Last4: "cdef", SetAt: sampleNow, SetBy: evil}, {Name: "sms_gateway", SetAt: sampleNow}},
		"Known":       console.AdminKnownCredentials(), "Tiles": "tianditu", "CredName": evil, "Unavailable": evil, "Error": evil,
		"TileSource": tenants.TileSource{Kind: tenants.TilesXYZ, URL: "https://{s}.t.example.cn/{z}/{x}/{y}.png" + evil, Subdomains: "abc", Attribution: evil, MaxZoom: 17},
		"PublicMap":  tenants.PublicMap{Days: 30, Photos: true}, "NoTiandituKey": true,
	})
	samplePage("admin_export", fiber.Map{"Handover": &tenants.Handover{}}, fiber.Map{
		"Handover": &tenants.Handover{Records: 3, Exported: &tenants.HandoverEvent{At: sampleNow, By: evil, Reason: evil, Records: 2}},
		"Reason":   evil, "Error": evil,
	})
	samplePage("admin_modules", fiber.Map{}, fiber.Map{
		"Plan":    &billing.Plan{Code: "starter", NameZH: "共享入门" + evil, NameEN: "Starter", Shared: true},
		"Modules": []console.AdminModule{{Name: "cases", On: true}, {Name: "evaluation", On: false, Override: true}},
	})
}

// adminClient is a browser-like client of the console: a session cookie, the CSRF token of the
// session, and Accept: text/html so that errors come back as pages.
type adminClient struct {
	f            *fixture
	cookie, csrf string
}

func adminLogin(t *testing.T, f *fixture, who string) *adminClient {
	t.Helper()
	cookie, csrf := webLogin(t, f, who)
	return &adminClient{f: f, cookie: sessionCookie + "=" + cookie, csrf: csrf}
}

func (ac *adminClient) send(t *testing.T, req *http.Request) *response {
	t.Helper()
	req.Header.Set("Cookie", ac.cookie)
	req.Header.Set("Accept", "text/html")
	res, err := ac.f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (ac *adminClient) get(t *testing.T, path string) *response {
	t.Helper()
	return ac.send(t, httptest.NewRequest("GET", path, nil))
}

func (ac *adminClient) post(t *testing.T, path string, form url.Values) *response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", ac.csrf)
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return ac.send(t, req)
}

// upload posts a multipart form with the file under "file" (no file when filename is "").
func (ac *adminClient) upload(t *testing.T, path string, form url.Values, filename string, content []byte) *response {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(adminMultipart(t, ac.csrf, form, filename, content)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+adminBoundary)
	return ac.send(t, req)
}

const adminBoundary = "cityops-admin-test-boundary"

func adminMultipart(t *testing.T, csrf string, form url.Values, filename string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary(adminBoundary)
	w.WriteField("_csrf", csrf)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if filename != "" {
		fw, err := w.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	w.Close()
	return buf.Bytes()
}

func adminSquare(lon, lat, h float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}`, lon-h, lat-h, lon+h, lat+h)
}

// adminGridsFile is a street, a community and two unit grids of chuxiong (532301).
func adminGridsFile() []byte {
	f := func(code, name, geom string) string {
		return `{"type":"Feature","properties":{"code":"` + code + `","name":"` + name + `"},"geometry":` + geom + `}`
	}
	return []byte(`{"type":"FeatureCollection","features":[` +
		f("53230100200000", "东瓜街道", adminSquare(101.56, 25.04, 0.03)) + `,` +
		f("53230100200100", "东兴社区", adminSquare(101.56, 25.04, 0.015)) + `,` +
		f("53230100200101", "东兴社区 1 号网格", adminSquare(101.555, 25.04, 0.004)) + `,` +
		f("53230100200102", "东兴社区 2 号网格", adminSquare(101.565, 25.04, 0.004)) + `]}`)
}

// adminState is everything the admin pages can change in chuxiong, for checking that a refused
// or rejected form changed nothing.
func adminState(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	ta, err := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	sctx := tenants.WithScope(ctx, tenants.SystemScope(ta))
	var parts []any
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v)
	}
	add(f.app.platform.org.FindDepartments(sctx))
	add(f.app.platform.org.FindStaff(sctx, org.StaffFilter{}))
	add(f.app.platform.grids.FindGrids(sctx, grids.Filter{}))
	add(f.app.platform.grids.FindResponsibilities(sctx))
	if b, err := f.app.platform.grids.FindBoundary(sctx); !errs.Is(err, errs.NotFound) {
		add(b, err)
	}
	add(f.app.platform.catalog.OwnClasses(sctx))
	add(f.app.platform.catalog.FindClasses(sctx, catalog.ClassFilter{Level: "major"}))
	add(f.app.platform.catalog.FindStandards(sctx, catalog.StandardFilter{}))
	add(f.app.platform.calendar.FindSettings(sctx))
	add(f.app.platform.calendar.FindDays(sctx, 0))
	add(f.app.cases.FindStageLimits(sctx))
	add(f.app.secrets.ListCredentials(ctx, ta.ID))
	add(f.app.store.FindMembers(ctx, ta.ID))
	add(f.app.store.FindInvitations(ctx, ta.ID))
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAdminPagesAccess: every admin page renders for the tenant's admin; another tenant's admin
// gets 404, an inspector of the same tenant and the prefecture's viewer 403, anonymous users the
// login page.
func TestAdminPagesAccess(t *testing.T) {
	f := newFixture(t, "sqlite")
	pages := map[string]string{
		"":              "单位设置",
		"/org":          "专业部门",
		"/users":        "admina@test.cn",
		"/grids":        "grids.geojson",
		"/catalog":      "上水井盖",
		"/calendar":     "08:30-12:00",
		"/stages":       "派遣",
		"/integrations": "天地图",
		"/modules":      "指挥协调",
	}
	admin, other, inspector, viewer := adminLogin(t, f, "adminA"), adminLogin(t, f, "adminB"), adminLogin(t, f, "inspectorA"), adminLogin(t, f, "viewer")
	for p, want := range pages {
		path := "/t/chuxiong/admin" + p
		if res := admin.get(t, path); res.status != 200 || !strings.Contains(res.body, want) {
			t.Errorf("admin GET %s: %d, want 200 with %q\n%.300s", path, res.status, want, res.body)
		}
		if res := other.get(t, path); res.status != 404 || strings.Contains(res.body, "楚雄市") {
			t.Errorf("other tenant's admin GET %s: %d, want 404 and no trace of the tenant", path, res.status)
		}
		if res := inspector.get(t, path); res.status != 403 {
			t.Errorf("inspector GET %s: %d, want 403", path, res.status)
		}
		if res := viewer.get(t, path); res.status != 403 {
			t.Errorf("prefecture viewer GET %s: %d, want 403", path, res.status)
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html")
		if res, _ := f.send(t, req); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Errorf("anonymous GET %s: %d %s", path, res.status, res.header.Get("Location"))
		}
	}
	// Admin B's own pages work and show B's tenant.
	if res := other.get(t, "/t/wuding/admin"); res.status != 200 || !strings.Contains(res.body, "武定县") {
		t.Fatalf("B's own admin: %d", res.status)
	}
}

// TestAdminFormsRefused: every admin form is refused to another tenant's admin (404), to an
// inspector of the tenant and to the prefecture's viewer (403), and nothing changes.
func TestAdminFormsRefused(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	// Something to act on.
	if res := admin.post(t, "/t/chuxiong/admin/departments", url.Values{"code": {"CG"}, "name": {"城管局"}}); res.status != 303 {
		t.Fatalf("create department: %d %s", res.status, res.body)
	}
	ctx := context.Background()
	ta, _ := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	sctx := tenants.WithScope(ctx, tenants.SystemScope(ta))
	ds, _ := f.app.platform.org.FindDepartments(sctx)
	st, err := f.app.platform.org.CreateStaff(sctx, org.StaffInput{Name: "张巡", Posts: []org.Post{org.Inspector}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.platform.grids.Import(sctx, adminGridsFile(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.secrets.PutCredential(ctx, ta.ID, "tianditu", "tk-0123456789abcdef", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.platform.grids.PutBoundary(sctx, []byte(boundaryA)); err != nil {
		t.Fatal(err)
	}
	dept, staff, member := ds[0].ID, st.ID, f.ids["inspectorA"]
	standards := []byte("类型,小类代码,立案条件,处置时限,时限单位,结案条件\n部件,0101,井盖缺失,2,紧急工作时,补齐\n")
	days := []byte("日期,类型,名称\n2026-01-01,放假,元旦\n")
	type form struct {
		path     string
		values   url.Values
		filename string
		file     []byte
	}
	forms := []form{
		{"/departments", url.Values{"code": {"X1"}, "name": {"新部门"}}, "", nil},
		{"/departments/" + dept, url.Values{"code": {"CG"}, "name": {"改名"}}, "", nil},
		{"/departments/" + dept + "/delete", nil, "", nil},
		{"/staff", url.Values{"name": {"新人"}, "posts": {"inspector"}}, "", nil},
		{"/staff/" + staff, url.Values{"name": {"改名"}, "posts": {"acceptor"}}, "", nil},
		{"/staff/" + staff + "/delete", nil, "", nil},
		{"/invitations", url.Values{"email": {"x@y.cn"}, "role": {"tenant_admin"}}, "", nil},
		{"/members/" + member, url.Values{"roles": {"tenant_admin"}}, "", nil},
		{"/members/" + member + "/remove", nil, "", nil},
		{"/grids/import", url.Values{"mode": {"import"}}, "grids.geojson", adminGridsFile()},
		{"/grids/53230100200101", url.Values{"name": {"改名"}}, "", nil},
		{"/responsibility", url.Values{"code": {"R1"}, "name": {"一号"}, "units": {"53230100200101"}}, "", nil},
		{"/responsibility/R1/delete", nil, "", nil},
		{"/boundary", nil, "boundary.geojson", []byte(`{"type":"Polygon","coordinates":[[[101,25],[102,25],[102,26],[101,26],[101,25]]]}`)},
		{"/boundary/delete", nil, "", nil},
		{"/classes", url.Values{"kind": {"event"}, "code": {"91"}, "name_zh": {"扩展"}}, "", nil},
		{"/classes/event/91/delete", nil, "", nil},
		{"/classes/sync", nil, "", nil},
		{"/standards/import", url.Values{"mode": {"import"}}, "standards.csv", standards},
		{"/calendar", url.Values{"time_zone": {"Asia/Shanghai"}, "working_hours": {"09:00-17:00"}, "weekend": {"0"}}, "", nil},
		{"/calendar/import", url.Values{"mode": {"import"}, "year": {"2026"}}, "days.csv", days},
		{"/stages/accept", url.Values{"amount": {"2"}, "unit": {"working_hours"}}, "", nil},
		{"/credentials", url.Values{"name": {"tianditu"}, "value": {"evil-value-123456"}}, "", nil},
		{"/credentials/tianditu/delete", nil, "", nil},
	}
	clients := map[string]*adminClient{}
	for _, who := range []string{"adminB", "inspectorA", "viewer", "support"} {
		clients[who] = adminLogin(t, f, who) // before the snapshot: a login changes last_login_at
	}
	before := adminState(t, f)
	for _, who := range []struct {
		name   string
		status int
	}{{"adminB", 404}, {"inspectorA", 403}, {"viewer", 403}, {"support", 403}} {
		c := clients[who.name]
		for _, fm := range forms {
			path := "/t/chuxiong/admin" + fm.path
			var res *response
			if fm.filename != "" {
				res = c.upload(t, path, fm.values, fm.filename, fm.file)
			} else {
				res = c.post(t, path, fm.values)
			}
			if res.status != who.status {
				t.Errorf("%s POST %s: %d, want %d", who.name, fm.path, res.status, who.status)
			}
			if strings.Contains(res.body, "tk-0123456789abcdef") || strings.Contains(res.body, "城管局") {
				t.Errorf("%s POST %s: the refusal shows A's data", who.name, fm.path)
			}
		}
	}
	// A form without the CSRF token is refused too, even for the admin.
	req := httptest.NewRequest("POST", "/t/chuxiong/admin/departments", strings.NewReader("code=Z&name=Z"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := admin.send(t, req); res.status != 403 {
		t.Errorf("admin POST without CSRF token: %d, want 403", res.status)
	}
	if after := adminState(t, f); after != before {
		t.Fatalf("refused forms changed the tenant:\nbefore %s\nafter  %s", before, after)
	}
}

// TestAdminOrgAndUsers: departments in three levels, staff, invitations and posts, through the
// forms, with the API's audit entries; bad input is a 4xx page that changes nothing.
func TestAdminOrgAndUsers(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	base := "/t/chuxiong/admin"
	ok := func(res *response, target string) {
		t.Helper()
		if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), base+target) {
			t.Fatalf("status %d → %s, want 303 to %s\n%.2000s", res.status, res.header.Get("Location"), base+target, res.body)
		}
	}
	fails := func(res *response, status int, want string) {
		t.Helper()
		if res.status != status || !strings.Contains(res.body, want) || !strings.Contains(res.body, `role="alert"`) {
			t.Fatalf("status %d, want %d with %q\n%.3000s", res.status, status, want, res.body)
		}
	}
	ok(admin.post(t, base+"/departments", url.Values{"code": {"CG"}, "name": {"城市管理局"}, "phone": {"0878-1"}}), "/org")
	ctx := context.Background()
	ta, _ := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	sctx := tenants.WithScope(ctx, tenants.SystemScope(ta))
	id := func(code string) string {
		ds, _ := f.app.platform.org.FindDepartments(sctx)
		for _, d := range ds {
			if d.Code == code {
				return d.ID
			}
		}
		t.Fatalf("no department %s", code)
		return ""
	}
	ok(admin.post(t, base+"/departments", url.Values{"code": {"CG-1"}, "name": {"市容科"}, "parent_id": {id("CG")}}), "/org")
	ok(admin.post(t, base+"/departments", url.Values{"code": {"CG-1-1"}, "name": {"一组"}, "parent_id": {id("CG-1")}}), "/org")
	before := adminState(t, f)
	fails(admin.post(t, base+"/departments", url.Values{"code": {"CG-1-1-1"}, "name": {"四级"}, "parent_id": {id("CG-1-1")}}), 400, "最多三级")
	fails(admin.post(t, base+"/departments", url.Values{"code": {"X"}, "name": {""}}), 400, "name")
	fails(admin.post(t, base+"/departments", url.Values{"code": {"CG"}, "name": {"重复"}}), 409, "已存在")
	fails(admin.post(t, base+"/departments/"+id("CG")+"/delete", nil), 409, "下级部门")
	fails(admin.post(t, base+"/staff", url.Values{"name": {"钱处"}, "posts": {"handler"}}), 400, "处置人员必须属于某个部门")
	fails(admin.post(t, base+"/members/"+f.ids["adminA"], url.Values{"roles": {"inspector"}}), 409, "最后一位单位管理员")
	fails(admin.post(t, base+"/members/"+f.ids["adminA"]+"/remove", nil), 409, "最后一位单位管理员")
	fails(admin.post(t, base+"/invitations", url.Values{"email": {"not-an-email"}, "role": {"inspector"}}), 400, "不是有效的电子邮箱地址")
	if after := adminState(t, f); after != before {
		t.Fatalf("rejected forms changed the tenant:\nbefore %s\nafter  %s", before, after)
	}
	// Rename and move: 一组 goes up to the top level, then 市容科 is deleted.
	ok(admin.post(t, base+"/departments/"+id("CG-1-1"), url.Values{"code": {"CG-1-1"}, "name": {"第一组"}}), "/org")
	ok(admin.post(t, base+"/departments/"+id("CG-1")+"/delete", nil), "/org")
	res := admin.get(t, base+"/org")
	if !strings.Contains(res.body, "第一组") || strings.Contains(res.body, "市容科") || !strings.Contains(res.body, "第 1 级") {
		t.Fatalf("org page after rename, move and delete:\n%s", res.body)
	}
	// The users page links a member without a staff record to a staff form filled for them.
	if res := admin.get(t, base+"/users"); !strings.Contains(res.body, base+"/org?identity="+f.ids["inspectorA"]) {
		t.Fatalf("users page: no link to add the inspector's staff record")
	}
	res = admin.get(t, base+"/org?identity="+f.ids["inspectorA"])
	if !regexp.MustCompile(`id="post-new-inspector" name="posts" value="inspector" checked`).MatchString(res.body) ||
		!regexp.MustCompile(`value="`+f.ids["inspectorA"]+`" selected`).MatchString(res.body) || !strings.Contains(res.body, `value="inspectora"`) {
		t.Fatalf("the staff form is not filled for the inspector:\n%s", res.body)
	}
	// Staff: a handler of 城市管理局 linked to the inspector's account.
	ok(admin.post(t, base+"/staff", url.Values{"name": {"钱处"}, "posts": {"handler", "inspector"}, "department_id": {id("CG")}, "identity_id": {f.ids["inspectorA"]}, "active": {"true"}}), "/org")
	if loc := admin.post(t, base+"/staff", url.Values{"name": {"值班"}, "posts": {"shift_lead"}}).header.Get("Location"); loc != base+"/org?done=admin.staff.created#staff" {
		t.Fatalf("the message goes before the fragment: %s", loc)
	}
	staff, _ := f.app.platform.org.FindStaff(sctx, org.StaffFilter{Post: org.Handler})
	if len(staff) != 1 || staff[0].IdentityID == nil || *staff[0].IdentityID != f.ids["inspectorA"] || !staff[0].Active {
		t.Fatalf("staff: %+v", staff)
	}
	ok(admin.post(t, base+"/staff/"+staff[0].ID, url.Values{"name": {"钱处长"}, "posts": {"handler"}, "department_id": {id("CG")}}), "/org")
	if s, _ := f.app.platform.org.FindStaffByID(sctx, staff[0].ID); s.Name != "钱处长" || s.Active || s.Holds(org.Inspector) {
		t.Fatalf("staff after edit: %+v", s)
	}
	// Invite a dispatcher: the link is shown once; the invitee accepts it and appears as a member.
	res = admin.post(t, base+"/invitations", url.Values{"email": {"new@chuxiong.cn"}, "name": {"李四"}, "role": {"dispatcher"}})
	link := regexp.MustCompile(`/invite/(inv_[A-Za-z0-9_-]+)`).FindStringSubmatch(res.body)
	if res.status != 201 || link == nil {
		t.Fatalf("invite: %d\n%s", res.status, res.body)
	}
	if res := admin.get(t, base+"/users"); !strings.Contains(res.body, "new@chuxiong.cn") || strings.Contains(res.body, link[1]) {
		t.Fatalf("the pending invitation is listed without its token: %v", strings.Contains(res.body, link[1]))
	}
	acc := httptest.NewRequest("POST", link[0], strings.NewReader(url.Values{"password": {"dispatcher pw 1"}}.Encode()))
	acc.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := f.send(t, acc); res.status != 303 || res.header.Get("Location") != "/t/chuxiong/inbox" {
		t.Fatalf("accept: %d %s %s", res.status, res.header.Get("Location"), res.body)
	}
	newID, err := f.app.store.FindIdentityByEmail(ctx, "new@chuxiong.cn")
	if err != nil {
		t.Fatal(err)
	}
	ok(admin.post(t, base+"/members/"+newID.ID.String(), url.Values{"roles": {"dispatcher", "acceptor"}}), "/users")
	ms, _ := f.app.store.FindMembers(ctx, ta.ID)
	var roles []tenants.Role
	for _, m := range ms {
		if m.Identity.Email == "new@chuxiong.cn" {
			roles = m.Roles
		}
	}
	if strings.Join([]string{string(roles[0]), string(roles[1])}, ",") != "acceptor,dispatcher" {
		t.Fatalf("roles: %v", roles)
	}
	ok(admin.post(t, base+"/members/"+newID.ID.String()+"/remove", nil), "/users")
	// Each action is audited as the API audits it.
	for _, action := range []string{"department.create", "department.update", "department.delete", "staff.create", "staff.update", "member.invite", "member.roles"} {
		r, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action="+action, "")
		if !strings.Contains(r.body, "admina@test.cn") {
			t.Errorf("no audit entry %s by the admin: %s", action, r.body)
		}
	}
}

// TestAdminImports: grids, standards and the calendar year, each checked first (a dry run with
// the row-by-row report), then imported all or nothing; bad files give a 4xx page with the
// report and change nothing.
func TestAdminImports(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testAdminImports(t, dialect) })
	}
}

func testAdminImports(t *testing.T, dialect string) {
	f := newFixture(t, dialect)
	admin := adminLogin(t, f, "adminA")
	base := "/t/chuxiong/admin"
	check := func(t *testing.T, res *response, status int, wants ...string) {
		t.Helper()
		if res.status != status {
			t.Fatalf("status %d, want %d\n%.4000s", res.status, status, res.body)
		}
		for _, w := range wants {
			if !strings.Contains(res.body, w) {
				t.Fatalf("page lacks %q\n%.6000s", w, res.body)
			}
		}
	}
	before := adminState(t, f)
	ring := strings.Replace(string(adminGridsFile()), "[101.551000,25.036000]]]", "[101.551000,25.037000]]]", 1)
	bad := []struct {
		name, path, file string
		content          []byte
		status           int
		want             []string
	}{
		{"grid ring not closed", "/grids/import", "g.geojson", []byte(ring), 422, []string{"第 1 个环未闭合", "几何图形", "53230100200101", "没有导入任何数据"}},
		{"grid outside China", "/grids/import", "g.geojson", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"53230100900000","name":"x"},"geometry":` + adminSquare(10, 10, 0.01) + `}]}`), 422, []string{"超出中国的经纬度范围"}},
		{"grid code of another county", "/grids/import", "g.geojson", []byte(strings.ReplaceAll(string(adminGridsFile()), "532301", "532329")), 422, []string{"行政区划代码 532301"}},
		{"not GeoJSON", "/grids/import", "g.geojson", []byte(`{"hello":1}`), 400, []string{"不是 GeoJSON FeatureCollection"}},
		{"grids as CSV", "/grids/import", "g.csv", []byte("a,b\n"), 415, []string{"application/json"}},
		{"standards bad row", "/standards/import", "s.csv", []byte("类型,小类代码,立案条件,处置时限,时限单位,结案条件\n部件,0101,井盖缺失,2,紧急工作时,补齐\n事件,9999,不存在,1,工作日,处理\n"), 422, []string{"9999", "小类代码", "<td class=\"num\">3</td>"}},
		{"standards missing columns", "/standards/import", "s.csv", []byte("类型,小类代码\n部件,0101\n"), 400, []string{"表头缺少", "filing_condition"}},
		{"standards UTF-16", "/standards/import", "s.csv", append([]byte{0xFF, 0xFE}, []byte("a\x00,\x00b\x00")...), 400, []string{"UTF-16"}},
		{"standards not text", "/standards/import", "s.csv", []byte{0x81, 0x30, 0xFF, 0x00, 0x01}, 400, []string{"不是文本"}},
		{"standards bad XLSX", "/standards/import", "s.xlsx", []byte("PK\x03\x04 not really a zip"), 400, []string{"XLSX"}},
		{"calendar wrong year", "/calendar/import", "d.csv", []byte("日期,类型,名称\n2026-01-01,放假,元旦\n2025-10-01,放假,国庆\n2026-02-15,周末,?\n"), 422, []string{"不在导入的年份 2026 内", "既不是“放假”也不是“上班”"}},
		{"empty file", "/standards/import", "s.csv", nil, 400, []string{"请选择要上传的文件"}},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			res := admin.upload(t, base+b.path, url.Values{"mode": {"import"}, "year": {"2026"}}, b.file, b.content)
			check(t, res, b.status, append(b.want, `role="alert"`)...)
			// The dry run reports the same.
			res = admin.upload(t, base+b.path, url.Values{"mode": {"check"}, "year": {"2026"}}, b.file, b.content)
			check(t, res, b.status, b.want...)
		})
	}
	if after := adminState(t, f); after != before {
		t.Fatalf("rejected files changed the tenant:\nbefore %s\nafter  %s", before, after)
	}

	// Grids: a check shows the report and the checked file on the map; importing the checked
	// file (sent back in the hidden field) writes it.
	res := admin.upload(t, base+"/grids/import", url.Values{"mode": {"check"}}, "grids.geojson", adminGridsFile())
	check(t, res, 200, "检查通过", "共 4 行，全部通过", `name="data"`, `id="import-confirm"`, "东兴社区 1 号网格")
	if after := adminState(t, f); after != before {
		t.Fatal("a dry run changed the tenant")
	}
	data := regexp.MustCompile(`name="data" value="([^"]+)"`).FindStringSubmatch(res.body)
	if data == nil {
		t.Fatal("no checked data in the page")
	}
	res = admin.post(t, base+"/grids/import", url.Values{"mode": {"import"}, "data": {data[1]}, "format": {"geojson"}, "filename": {"grids.geojson"}})
	check(t, res, 303)
	res = admin.get(t, base+"/grids?level=unit")
	check(t, res, 200, "53230100200101", "东兴社区 2 号网格")
	check(t, admin.post(t, base+"/grids/53230100200101", url.Values{"name": {"东兴一格"}}), 303)
	check(t, admin.post(t, base+"/grids/53230100200101", url.Values{"name": {""}}), 400, "name")
	check(t, admin.post(t, base+"/grids/53230100999999", url.Values{"name": {"x"}}), 404, "没有网格")
	check(t, admin.get(t, base+"/grids"), 200, "东兴一格")
	// A tampered hidden field is refused.
	check(t, admin.post(t, base+"/grids/import", url.Values{"mode": {"import"}, "data": {"%%%"}, "format": {"geojson"}}), 400, "重新选择文件")
	check(t, admin.post(t, base+"/grids/import", url.Values{"mode": {"import"}, "data": {data[1]}, "format": {"xlsx"}}), 415)

	// Responsibility grids: an inspector gets two unit grids.
	ctx := context.Background()
	ta, _ := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	sctx := tenants.WithScope(ctx, tenants.SystemScope(ta))
	st, _ := f.app.platform.org.CreateStaff(sctx, org.StaffInput{Name: "张巡", Posts: []org.Post{org.Inspector}})
	check(t, admin.post(t, base+"/responsibility", url.Values{"code": {"R1"}, "name": {"东兴责任网格"}, "inspector_id": {st.ID}, "units": {"53230100200101, 53230100200102"}}), 303)
	check(t, admin.post(t, base+"/responsibility", url.Values{"code": {"R2"}, "name": {"坏"}, "units": {"53230100200100"}}), 400, "已导入的单元网格")
	rs, _ := f.app.platform.grids.FindResponsibilities(sctx)
	if len(rs) != 1 || len(rs[0].Units) != 2 || rs[0].InspectorID == nil || *rs[0].InspectorID != st.ID {
		t.Fatalf("responsibility grids: %+v", rs)
	}
	check(t, admin.get(t, base+"/grids"), 200, "东兴责任网格", "张巡")
	check(t, admin.post(t, base+"/responsibility/R1/delete", nil), 303)

	// Standards: an own class, then a table that uses it.
	check(t, admin.post(t, base+"/classes", url.Values{"kind": {"event"}, "code": {"91"}, "name_zh": {"本地事件"}}), 303)
	check(t, admin.post(t, base+"/classes", url.Values{"kind": {"event"}, "code": {"9101"}, "name_zh": {"占道晾晒"}}), 303)
	check(t, admin.post(t, base+"/classes", url.Values{"kind": {"event"}, "code": {"0101"}, "name_zh": {"重复"}}), 409)
	good := []byte("类型,小类代码,立案条件,处置时限,时限单位,结案条件\n部件,0101,井盖缺失,2,紧急工作时,补齐\n事件,9101,占道晾晒衣物,1,工作日,清理完毕\n")
	check(t, admin.upload(t, base+"/standards/import", url.Values{"mode": {"check"}}, "s.csv", good), 200, "检查通过", "共 2 行，全部通过")
	// The same table as GBK text and as an XLSX workbook, as city offices send them.
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(good)
	if err != nil {
		t.Fatal(err)
	}
	check(t, admin.upload(t, base+"/standards/import", url.Values{"mode": {"check"}}, "s.csv", gbk), 200, "检查通过", "共 2 行，全部通过")
	book := excelize.NewFile()
	for r, line := range strings.Split(strings.TrimSpace(string(good)), "\n") {
		for c, cell := range strings.Split(line, ",") {
			name, _ := excelize.CoordinatesToCellName(c+1, r+1)
			book.SetCellValue("Sheet1", name, cell)
		}
	}
	var xlsx bytes.Buffer
	if err := book.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	check(t, admin.upload(t, base+"/standards/import", url.Values{"mode": {"check"}}, "标准.xlsx", xlsx.Bytes()), 200, "检查通过", "共 2 行，全部通过")
	check(t, admin.upload(t, base+"/standards/import", url.Values{"mode": {"import"}}, "s.csv", good), 303)
	check(t, admin.get(t, base+"/catalog"), 200, "占道晾晒衣物", "2 紧急工作时", "现行标准（2 条）")
	check(t, admin.post(t, base+"/classes/event/9101/delete", nil), 409, "仍被立结案标准、部件或小类使用")

	// The prefecture's extension classes, synced down.
	pref, _ := f.app.store.FindTenantBySlug(ctx, "chuxiong-zhou")
	if _, err := f.app.platform.catalog.CreateClass(tenants.WithScope(ctx, tenants.SystemScope(pref)), catalog.ClassInput{Kind: catalog.Event, Code: "95", NameZH: "州级扩展事件"}); err != nil {
		t.Fatal(err)
	}
	check(t, admin.post(t, base+"/classes/sync", nil), 303)
	check(t, admin.get(t, base+"/catalog"), 200, "州级扩展事件", "州级扩展")

	// The calendar year, and the working hours.
	year := []byte("日期,类型,名称\n2026-01-01,放假,元旦\n2026-01-04,上班,元旦调休\n")
	check(t, admin.upload(t, base+"/calendar/import", url.Values{"mode": {"import"}, "year": {"2026"}}, "d.csv", year), 303)
	check(t, admin.get(t, base+"/calendar?year=2026"), 200, "元旦调休", "放假 1 天，调休上班 1 天")
	check(t, admin.post(t, base+"/calendar", url.Values{"time_zone": {"Asia/Shanghai"}, "working_hours": {"09:00-12:00,14:00-17:30"}, "weekend": {"0", "6"}}), 303)
	check(t, admin.post(t, base+"/calendar", url.Values{"time_zone": {"Mars/Base"}, "working_hours": {"09:00-12:00"}}), 400, "IANA")
	check(t, admin.get(t, base+"/calendar"), 200, "09:00-12:00,14:00-17:30")

	// Stage limits.
	check(t, admin.post(t, base+"/stages/dispatch", url.Values{"amount": {"1"}, "unit": {"working_hours"}, "urgent": {"0.5"}}), 303)
	check(t, admin.post(t, base+"/stages/dispatch", url.Values{"amount": {"x"}, "unit": {"working_hours"}}), 400, "不是数字")
	check(t, admin.post(t, base+"/stages/handle", url.Values{"amount": {"1"}, "unit": {"working_hours"}}), 400, "立结案标准")
	check(t, admin.post(t, base+"/stages/nowhere", url.Values{"amount": {"1"}, "unit": {"working_hours"}}), 404)
	ls, _ := f.app.cases.FindStageLimits(sctx)
	for _, l := range ls {
		if l.Stage == cases.StageDispatch && (l.Default || l.Limit.Amount != 1 || l.Urgent.Amount != 0.5) {
			t.Fatalf("dispatch limit: %+v", l)
		}
	}

	for _, action := range []string{"grids.import", "grid.rename", "responsibility_grid.put", "catalog.class.create", "standards.import", "calendar.import", "calendar.settings", "cases.stage_limit"} {
		r, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action="+action, "")
		if !strings.Contains(r.body, "admina@test.cn") {
			t.Errorf("no audit entry %s: %s", action, r.body)
		}
	}
}

// TestAdminTooLargeUpload: a file over the server's body limit is refused before any handler
// with a 413 page.
func TestAdminTooLargeUpload(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	before := adminState(t, f)
	addr := f.listen(t)
	big := bytes.Repeat([]byte(`{"type":"Feature"}`), 100<<10/18)
	req, _ := http.NewRequest("POST", "http://"+addr+"/t/chuxiong/admin/grids/import", bytes.NewReader(adminMultipart(t, admin.csrf, url.Values{"mode": {"import"}}, "big.geojson", big)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+adminBoundary)
	req.Header.Set("Cookie", admin.cookie)
	req.Header.Set("Accept", "text/html")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(b), "请求体过大") {
		t.Fatalf("oversize upload: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if after := adminState(t, f); after != before {
		t.Fatal("an oversize upload changed the tenant")
	}
}

// TestAdminCredentialsWriteOnly: a credential set through the form is listed masked and never
// shown; it is audited like the API's.
func TestAdminCredentialsWriteOnly(t *testing.T) {
	f := newFixture(t, "sqlite")
	admin := adminLogin(t, f, "adminA")
	const value = "tk-secret-0123456789abcdef"
	res := admin.post(t, "/t/chuxiong/admin/credentials", url.Values{"name": {"tianditu"}, "value": {value}})
	if res.status != 303 {
		t.Fatalf("set: %d %s", res.status, res.body)
	}
	res = admin.get(t, "/t/chuxiong/admin/integrations")
	if res.status != 200 || !strings.Contains(res.body, "••••cdef") || strings.Contains(res.body, value) || strings.Contains(res.body, "0123456789ab") {
		t.Fatalf("integrations page: %d\n%s", res.status, res.body)
	}
	res = admin.post(t, "/t/chuxiong/admin/credentials", url.Values{"name": {"Bad Name"}, "value": {value}})
	if res.status != 400 || strings.Contains(res.body, value) {
		t.Fatalf("bad name: %d, the value must not come back", res.status)
	}
	res = admin.post(t, "/t/chuxiong/admin/credentials", url.Values{"name": {"sms_gateway"}, "value": {""}})
	if res.status != 400 || !strings.Contains(res.body, "凭据值为空") {
		t.Fatalf("empty value: %d", res.status)
	}
	if res := admin.post(t, "/t/chuxiong/admin/credentials/tianditu/delete", nil); res.status != 303 {
		t.Fatalf("delete: %d", res.status)
	}
	if res := admin.post(t, "/t/chuxiong/admin/credentials/tianditu/delete", nil); res.status != 404 {
		t.Fatalf("delete again: %d", res.status)
	}
	r, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action=credential", "")
	if strings.Contains(r.body, value) {
		t.Fatal("the audit log holds the value")
	}
	for _, action := range []string{"credential.put", "credential.delete"} {
		r, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action="+action, "")
		if !strings.Contains(r.body, "tianditu") {
			t.Errorf("no audit entry %s: %s", action, r.body)
		}
	}
}

// TestBrowserAdminJourney: the county admin logs in, adds a department, invites an inspector
// (who accepts the link in a browser of their own and lands on the inbox), imports grids (map
// preview, check, import) and sees them on the map, and imports a standards table with one bad
// row and reads the report. Every admin page is saved as a screenshot.
func TestBrowserAdminJourney(t *testing.T) {
	f := newFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	dir := t.TempDir()
	gridsFile := filepath.Join(dir, "chuxiong-grids.geojson")
	standardsFile := filepath.Join(dir, "立结案标准.csv")
	if err := os.WriteFile(gridsFile, adminGridsFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(standardsFile, []byte("类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件\n部件,0101,井盖缺失或破损,CG,2,紧急工作时,井盖补齐\n事件,9999,没有这个小类,CG,1,工作日,处理完毕\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "/t/chuxiong/admin"
	admin := b.user("admin")
	admin.loginTo("adminA@test.cn", testPassword, base)
	admin.waitText("h1", "单位设置")
	admin.shot("admin-home")

	// A department.
	admin.visit(base + "/org")
	admin.fill("#d-code", "CG")
	admin.fill("#d-name", "城市管理局")
	admin.click("#dept-add")
	admin.waitText(".flash", "部门已添加")
	admin.waitText("ul.tree", "城市管理局")
	admin.shot("admin-org")

	// An inspector, invited with a link to copy.
	admin.visit(base + "/users")
	admin.fill("#inv-email", "zhang@chuxiong.cn")
	admin.fill("#inv-name", "张新")
	admin.fill("#inv-role", "inspector")
	admin.click("#invite-send")
	admin.waitText(".invited", "邀请链接")
	link := admin.inviteLink()
	admin.shot("admin-users-invited")

	invitee := b.user("inspector")
	invitee.acceptInvitation(link, "张新", "inspector pw 2026", "/t/chuxiong/inbox")
	invitee.loginTo("zhang@chuxiong.cn", "inspector pw 2026", "/t/chuxiong")
	invitee.waitLocation("/t/chuxiong/inbox")
	invitee.shot("inbox")
	admin.visit(base + "/users")
	admin.waitText("table.members", "zhang@chuxiong.cn")
	admin.shot("admin-users")
	// The new inspector gets a staff record (the form comes filled from the users page).
	href := eval[string](admin, `Array.from(document.querySelectorAll("table.members tr")).find(function(r){return r.textContent.indexOf("zhang@chuxiong.cn")>=0}).querySelector('a[href*="/org?identity="]').getAttribute("href")`)
	admin.visit(href)
	admin.waitText("#staff-new", "添加工作人员")
	if name := eval[string](admin, `document.getElementById("sn-new").value`); name != "张新" {
		t.Fatalf("the staff form is filled with %q", name)
	}
	admin.click("#staff-add")
	admin.waitText(".flash", "工作人员已添加")
	admin.waitText("#staff table", "张新")
	admin.shot("admin-org-staff")

	// Grids: the chosen file is drawn before it is sent, then checked, then imported.
	admin.visit(base + "/grids")
	admin.upload("#grids-file", gridsFile)
	adminWaitPolygons(t, admin, "#grids-preview", 4)
	admin.shot("admin-grids-preview")
	admin.click(`#upload button[value="check"]`)
	admin.waitText("section.report", "检查通过")
	adminWaitPolygons(t, admin, "#grids-preview", 4)
	admin.shot("admin-grids-checked")
	admin.click("#import-confirm")
	admin.waitText(".flash", "导入完成")
	adminWaitPolygons(t, admin, "#grids-map", 4)
	admin.waitText("table.grids", "东兴社区 2 号网格")
	// Two unit grids become 张新's patrol area.
	admin.fill("#rc-new", "R1")
	admin.fill("#rn-new", "东兴责任网格")
	eval[bool](admin, `(function(){var s=document.getElementById("ri-new");s.selectedIndex=1;return true})()`)
	admin.fill("#ru-new", "53230100200101\n53230100200102")
	admin.click("form.resp button[type=submit]")
	admin.waitText(".flash", "责任网格已保存")
	admin.waitText("#responsibility table", "张新")
	adminWaitPolygons(t, admin, "#grids-map", 4)
	admin.shot("admin-grids")

	// Standards with one bad row: the report names the row and column; nothing is imported.
	admin.visit(base + "/catalog")
	admin.upload("#standards-file", standardsFile)
	admin.click(`#standards button[value="check"]`)
	admin.waitText("section.report", "文件未通过检查")
	admin.waitText("table.problems", "9999")
	if got := admin.text("table.problems tbody tr td"); got != "3" {
		t.Fatalf("the report names row %q, want 3", got)
	}
	admin.shot("admin-standards-report")
	if n := eval[int](admin, `document.querySelectorAll("table.standards tbody tr").length`); n != 0 {
		t.Fatalf("a rejected table left %d standards", n)
	}

	// A map key, written and never shown again.
	admin.visit(base + "/integrations")
	admin.fill("#cred-name", "tianditu")
	admin.fill("#cred-value", "tk-browser-0123456789abcdef")
	admin.click("#cred-save")
	admin.waitText("table.credentials", "cdef")
	if strings.Contains(admin.html(), "0123456789ab") {
		t.Fatal("the credential's value is in the page")
	}
	// The year's holidays, imported at once (the harness accepts the confirmation).
	daysFile := filepath.Join(dir, "2026.csv")
	if err := os.WriteFile(daysFile, []byte("日期,类型,名称\n2026-01-01,放假,元旦\n2026-02-14,上班,春节调休\n2026-02-16,放假,春节\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	admin.visit(base + "/calendar")
	admin.upload("#calendar-file", daysFile)
	admin.click(`#year button[value="import"]`)
	admin.waitText("table.days", "春节调休")
	for _, p := range []string{"calendar", "stages", "integrations", "modules"} {
		admin.visit(base + "/" + p)
		admin.waitText("h1", "")
		admin.shot("admin-" + p)
	}
	admin.visit(base + "?lang=en")
	admin.waitText("h1", "Settings")
	admin.shot("admin-home-en")
}

// adminWaitPolygons waits until the map in sel draws at least n shapes.
func adminWaitPolygons(t *testing.T, s *session, sel string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := eval[int](s, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel+" path.leaflet-interactive"))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the map %s shows %d shapes, want %d", sel, got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
