package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
)

// TestBrowserJourney is the console's whole story in one real browser, on PostgreSQL: the
// operator onboards 双柏县; its first admin joins by the invitation link, adds a department,
// invites an inspector, gives them a staff record and imports the grids and the 立结案标准; the
// inspector reports a missing manhole cover with a photo; the acceptor accepts, the shift lead
// files, the dispatcher dispatches, the handler takes it and feeds back, the acceptor sends it to
// be checked, the inspector checks, the shift lead closes; then the prefecture's viewer finds the
// case from the overview and can change nothing. The other posts' accounts are made in code (the
// admin's pages for inviting them are the same as for the inspector, walked above).
func TestBrowserJourney(t *testing.T) {
	f := newFixture(t, "postgres")
	ctx := context.Background()
	b := newBrowser(t, f.listen(t))
	dir := t.TempDir()

	// 1. The operator onboards the county.
	op := b.user("operator")
	op.login("operator@test.cn", testPassword)
	op.visit("/ops/tenants/new")
	op.fill("#n-division", "532322")
	op.click(`form[action="/ops/tenants/new"] button[type=submit]`)
	slug := eval[string](op, `document.getElementById("n-slug").value`)
	if slug != "shuangbai" {
		t.Fatalf("the wizard suggests the slug %q", slug)
	}
	op.fill("#n-email", "admin@shuangbai.cn")
	op.shot("onboard")
	op.click(`form.ops-new button[type=submit]`)
	op.waitText("#provisioning", "开通完成")
	link := op.inviteLink()
	op.shot("provisioned")

	// 2. Its first admin joins and sets the county up.
	admin := b.user("admin")
	admin.acceptInvitation(link, "双柏管理员", testPassword, "/t/"+slug+"/admin")
	admin.login("admin@shuangbai.cn", testPassword)
	base := "/t/" + slug
	admin.visit(base + "/admin/org")
	admin.fill("#d-code", "CG")
	admin.fill("#d-name", "城市管理局")
	admin.click("#dept-add")
	admin.waitText("ul.tree", "城市管理局")
	admin.shot("department")

	admin.visit(base + "/admin/users")
	admin.fill("#inv-email", "zhang@shuangbai.cn")
	admin.fill("#inv-name", "张巡")
	admin.fill("#inv-role", "inspector")
	admin.click("#invite-send")
	admin.waitText(".invited", "邀请链接")
	inspector := b.user("inspector")
	inspector.acceptInvitation(admin.inviteLink(), "张巡", "inspector pw 2026", base+"/inbox")

	admin.visit(base + "/admin/users")
	admin.waitText("table.members", "zhang@shuangbai.cn")
	href := eval[string](admin, `Array.from(document.querySelectorAll("table.members tr")).find(function(r){return r.textContent.indexOf("zhang@shuangbai.cn")>=0}).querySelector('a[href*="/org?identity="]').getAttribute("href")`)
	admin.visit(href)
	admin.click("#staff-add")
	admin.waitText("#staff table", "张巡")
	admin.shot("staff")

	const lon, lat = 101.6420, 24.6890 // 双柏县 妥甸镇
	sq := func(h float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}`, lon-h, lat-h, lon+h, lat+h)
	}
	grids := filepath.Join(dir, "shuangbai.geojson")
	writeFile(t, grids, `{"type":"FeatureCollection","features":[`+
		`{"type":"Feature","properties":{"code":"53232210100000","name":"妥甸镇"},"geometry":`+sq(0.03)+`},`+
		`{"type":"Feature","properties":{"code":"53232210100100","name":"妥甸社区"},"geometry":`+sq(0.015)+`},`+
		`{"type":"Feature","properties":{"code":"53232210100101","name":"妥甸社区 1 号网格"},"geometry":`+sq(0.005)+`}]}`)
	importChecked(admin, base+"/admin/grids", "#grids-file", `#upload button[value="check"]`, grids)
	admin.shot("grids")

	standards := filepath.Join(dir, "立结案标准.csv")
	writeFile(t, standards, "类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件\n部件,0101,井盖缺失或破损、存在安全隐患,CG,2,紧急工作时,井盖补齐或更换完好\n")
	importChecked(admin, base+"/admin/catalog", "#standards-file", `#standards button[value="check"]`, standards)
	admin.shot("standards")

	// The other posts, as the admin would invite them.
	county, err := f.app.store.FindTenantBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	sctx := tenants.WithScope(ctx, tenants.SystemScope(county))
	depts, err := f.app.platform.org.FindDepartments(sctx)
	if err != nil || len(depts) != 1 {
		t.Fatalf("departments: %v %v", depts, err)
	}
	for _, p := range []struct {
		who  string
		role tenants.Role
		post org.Post
	}{{"acceptor", tenants.Acceptor, "acceptor"}, {"shiftlead", tenants.ShiftLead, "shift_lead"}, {"dispatcher", tenants.Dispatcher, "dispatcher"}, {"handler", tenants.Handler, "handler"}} {
		id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: p.who + "@shuangbai.cn", Name: p.who, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.store.Grant(ctx, county, id.ID, p.role); err != nil {
			t.Fatal(err)
		}
		ident := id.ID.String()
		in := org.StaffInput{IdentityID: &ident, Name: p.who, Posts: []org.Post{p.post}}
		if p.post == "handler" {
			in.DepartmentID = &depts[0].ID
		}
		if _, err := f.app.platform.org.CreateStaff(sctx, in); err != nil {
			t.Fatal(err)
		}
	}

	// 3. The case loop.
	photo := writePNG(t, filepath.Join(dir, "cover.png"), 96, 64)

	inspector.login("zhang@shuangbai.cn", "inspector pw 2026")
	inspector.visit(base + "/report")
	inspector.fill("#r-class", "component/0101")
	inspector.fill("#r-description", "妥甸路井盖缺失")
	inspector.fill("#r-address", "妥甸镇妥甸路 3 号")
	inspector.fill("#r-lat", fmt.Sprintf("%.6f", lat))
	inspector.fill("#r-lon", fmt.Sprintf("%.6f", lon))
	inspector.upload("#r-photo", photo)
	inspector.shot("report")
	inspector.click("#report button[type=submit]")
	inspector.waitText("main", "已上报。")
	casePath := strings.Split(inspector.location(), "?")[0]
	if !strings.HasPrefix(casePath, base+"/cases/") {
		t.Fatalf("after the report the inspector is at %s", casePath)
	}
	as := b.cast("shuangbai.cn", testPassword, map[string]*session{"inspector": inspector})
	for _, st := range caseLoopSteps(photo) {
		s := as(st.who)
		s.visit(casePath)
		if st.fill != nil {
			st.fill(s)
		}
		s.click(`form[data-action="` + string(st.action) + `"] button[type=submit]`)
		s.waitText("#case-state", console.Translate("zh-CN", "cases.state."+string(st.to)))
		s.shot(string(st.to))
	}

	// 4. The prefecture sees it, read-only all the way down.
	viewer := b.user("prefecture")
	viewer.login("viewer@test.cn", testPassword)
	viewer.visit("/t/chuxiong-zhou/overview")
	viewer.waitText("main", "双柏县")
	viewer.shot("overview")
	viewer.visit(base + "/cases")
	viewer.click(`a[href="` + casePath + `"]`)
	viewer.waitText("#case-state", console.Translate("zh-CN", "cases.state.closed"))
	viewer.shot("case")
	if n := eval[int](viewer, `document.querySelectorAll('main form[method="post"], main form[method="POST"]').length`); n != 0 {
		t.Fatalf("the prefecture viewer is offered %d forms on the case page", n)
	}
	// Even a hand-made request is refused, and the case does not move.
	status := eval[int](viewer, `(function(){var x=new XMLHttpRequest();x.open("POST",location.pathname+"/actions/reopen",false);`+
		`x.setRequestHeader("Content-Type","application/x-www-form-urlencoded");x.send("_csrf="+encodeURIComponent(document.querySelector('input[name=_csrf]').value)+"&version=99");return x.status})()`)
	if status != 403 {
		t.Fatalf("the viewer's POST got %d, want 403", status)
	}
	viewer.visit(casePath)
	viewer.waitText("#case-state", console.Translate("zh-CN", "cases.state.closed"))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// caseLoopStep is one step of the case loop as the browser tests walk it: who takes which action
// on the case page, what they fill in first, and the state it leads to.
type caseLoopStep struct {
	who    string
	action cases.Action
	to     cases.State
	fill   func(s *session)
}

// caseLoopSteps walks a reported case to closed; photo is the handler's after-photo.
func caseLoopSteps(photo string) []caseLoopStep {
	return []caseLoopStep{
		{"acceptor", cases.Accept, cases.Accepted, nil},
		{"shiftlead", cases.File, cases.Filed, nil},
		{"dispatcher", cases.Dispatch, cases.Dispatched, nil},
		{"handler", cases.Take, cases.Handling, nil},
		{"handler", cases.Feedback, cases.FedBack, func(s *session) {
			s.upload("#photo-feedback", photo)
			s.fill("#reason-feedback", "已更换新井盖")
		}},
		{"acceptor", cases.SendCheck, cases.Checking, nil},
		{"inspector", cases.Check, cases.Checked, func(s *session) { s.click("#passed-yes") }},
		{"shiftlead", cases.Close, cases.Closed, nil},
	}
}

// importChecked uploads file on an admin page, checks it, and imports the checked file.
func importChecked(s *session, page, input, check, file string) {
	s.b.t.Helper()
	s.visit(page)
	s.upload(input, file)
	s.click(check)
	s.waitText("section.report", "检查通过")
	s.click("#import-confirm")
	s.waitText(".flash", "导入完成")
}

// writePNG writes a w×h gradient PNG (a stand-in for a phone's photo) to path and returns path.
func writePNG(t *testing.T, path string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(60 + x), G: uint8(90 + y), B: 140, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
	return path
}
