package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/cityops/cityops/platform/cases"

	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
)

// demoPosts are the case-loop accounts of the demo county 楚雄市: one per post, so the whole loop
// can be tried (report, accept, file, dispatch, handle, feed back, check, close).
var demoPosts = []struct {
	who  string
	name string
	role tenants.Role
	post org.Post
}{
	{"inspector", "监督员 张巡", tenants.Inspector, "inspector"},
	{"acceptor", "受理员 李受", tenants.Acceptor, "acceptor"},
	{"shiftlead", "值班长 王值", tenants.ShiftLead, "shift_lead"},
	{"dispatcher", "派遣员 赵派", tenants.Dispatcher, "dispatcher"},
	{"handler", "处置员 钱处", tenants.Handler, "handler"},
	{"leader", "领导 孙领", tenants.Leader, "leader"},
}

// seedDemoLoop gives 楚雄市 what the case loop needs: a department, staff with every post (each
// with a login), a street, community and unit grid around the city centre inside a boundary of
// the city, the time-limit standard of missing manhole covers, and that class open to citizens
// over Open311.
func (a demo) seedDemoLoop(ctx context.Context, t *tenants.Tenant) error {
	sctx := tenants.WithScope(ctx, tenants.SystemScope(t))
	szj, err := a.platform.org.CreateDepartment(sctx, org.DepartmentInput{Code: "SZJ", Name: "市政设施管理局", Phone: "0878-0000000"})
	if err != nil {
		return fmt.Errorf("demo department: %w", err)
	}
	for _, p := range demoPosts {
		dept := ""
		if p.post == "handler" {
			dept = szj.ID
		}
		if _, _, err := a.seedDemoStaff(ctx, t, p.who, p.name, p.role, p.post, dept); err != nil {
			return err
		}
	}
	square := func(lon, lat, h float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}`, lon-h, lat-h, lon+h, lat+h)
	}
	const lon, lat = 101.5460, 25.0330 // 楚雄市 鹿城镇
	grids := `{"type":"FeatureCollection","features":[` +
		`{"type":"Feature","properties":{"code":"53230100100000","name":"鹿城街道"},"geometry":` + square(lon, lat, 0.03) + `},` +
		`{"type":"Feature","properties":{"code":"53230100100100","name":"北浦社区"},"geometry":` + square(lon, lat, 0.015) + `},` +
		`{"type":"Feature","properties":{"code":"53230100100101","name":"北浦社区 1 号网格"},"geometry":` + square(lon, lat, 0.005) + `}]}`
	if _, err := a.platform.grids.Import(sctx, []byte(grids), false); err != nil {
		return fmt.Errorf("demo grids: %w", err)
	}
	// A rough octagon around the city (about 4,800 km²; the real 楚雄市 has some 4,400), not
	// surveyed data: the grids and the demo's cases lie well inside it.
	if _, err := a.platform.grids.PutBoundary(sctx, []byte(demoBoundary)); err != nil {
		return fmt.Errorf("demo boundary: %w", err)
	}
	std := "类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件\n部件,0101,井盖缺失或破损、存在安全隐患,SZJ,2,紧急工作时,井盖补齐或更换完好\n"
	if _, err := a.platform.catalog.ImportStandards(sctx, []byte(std), tabular.CSV, false); err != nil {
		return fmt.Errorf("demo standard: %w", err)
	}
	return a.open311.AddServiceCode(ctx, t, "component-0101")
}

// seedDemoStaff gives t a demo account who@<slug>.demo holding role, and a staff member of that
// name with post (in the department dept, if any), returning the account and the staff id.
func (a demo) seedDemoStaff(ctx context.Context, t *tenants.Tenant, who, name string, role tenants.Role, post org.Post, dept string) (*tenants.Identity, string, error) {
	id, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: who + "@" + t.Slug + ".demo", Name: name, Password: DemoPassword})
	if err != nil {
		return nil, "", err
	}
	if err := a.store.Grant(ctx, t, id.ID, role); err != nil {
		return nil, "", err
	}
	ident := id.ID.String()
	in := org.StaffInput{IdentityID: &ident, Name: name, Posts: []org.Post{post}}
	if dept != "" {
		in.DepartmentID = &dept
	}
	st, err := a.platform.org.CreateStaff(tenants.WithScope(ctx, tenants.SystemScope(t)), in)
	if err != nil {
		return nil, "", fmt.Errorf("demo staff %s: %w", who, err)
	}
	return id, st.ID, nil
}

// demoBoundary is the demo's boundary of 楚雄市.
const demoBoundary = `{"type":"Polygon","coordinates":[[[101.20,24.65],[101.60,24.65],[101.80,24.85],[101.80,25.10],[101.60,25.30],[101.20,25.30],[101.00,25.10],[101.00,24.85],[101.20,24.65]]]}`

// demoCases are the demo's cases in 楚雄市, each walked by the posts' accounts as far as its
// last action, so the inbox, the lists, the map and the prefecture's overview have something to
// show.
var demoCases = []struct {
	desc, addr string
	dlon, dlat float64
	upTo       cases.Action // the last action taken; "" leaves it reported
}{
	{"北浦路井盖缺失，有安全隐患", "鹿城镇北浦路 12 号", -0.003, 0.002, ""},
	{"人行道井盖破损下陷", "鹿城镇北浦社区 3 组", 0.002, 0.003, ""},
	{"雨水井盖丢失", "北浦路与阳光大道交叉口", 0.001, -0.003, ""},
	{"井盖松动，车辆经过有响声", "鹿城镇北浦路 48 号", -0.002, -0.001, cases.Accept},
	{"小区门口井盖缺失", "北浦社区阳光小区东门", 0.003, -0.002, cases.Accept},
	{"污水井盖破裂", "北浦路 66 号门前", -0.001, 0.001, cases.File},
	{"井盖高出路面", "北浦社区菜市场旁", 0.0035, 0.0005, cases.File},
	{"检查井盖缺失，已设置临时围挡", "鹿城镇北浦路 90 号", -0.0035, 0.0035, cases.Dispatch},
	{"电力井盖破损", "北浦社区幼儿园门口", 0.0005, 0.0035, cases.Take},
	{"通信井盖移位", "北浦路公交站旁", -0.0025, -0.0035, cases.Take},
	{"井盖缺失已修复", "北浦社区 5 组", 0.0025, 0.001, cases.Close},
	{"破损井盖已更换", "北浦路 20 号", -0.0005, -0.0025, cases.Close},
	{"路口井盖已补齐", "北浦路与龙川街交叉口", 0.0015, -0.001, cases.Close},
}

// demoLoopSteps is the order of the loop and the post that takes each step.
var demoLoopSteps = []struct {
	action cases.Action
	who    string
}{
	{cases.Accept, "acceptor"}, {cases.File, "shiftlead"}, {cases.Dispatch, "dispatcher"}, {cases.Take, "handler"},
	{cases.Feedback, "handler"}, {cases.SendCheck, "acceptor"}, {cases.Check, "inspector"}, {cases.Close, "shiftlead"},
}

func (a demo) seedDemoCases(ctx context.Context, t *tenants.Tenant) error {
	as := map[string]context.Context{}
	for _, p := range demoPosts {
		id, err := a.store.FindIdentityByEmail(ctx, p.who+"@"+t.Slug+".demo")
		if err != nil {
			return err
		}
		pctx := tenants.WithPrincipal(ctx, &tenants.Principal{Identity: id})
		as[p.who] = tenants.WithScope(pctx, &tenants.Scope{Tenant: t, Roles: []tenants.Role{p.role}})
	}
	img, err := demoPhoto()
	if err != nil {
		return err
	}
	const lon, lat = 101.5460, 25.0330
	yes := true
	for _, dc := range demoCases {
		c, err := a.cases.Report(as["inspector"], cases.ReportInput{Kind: "component", ClassCode: "0101",
			Description: dc.desc, Address: dc.addr, Lon: lon + dc.dlon, Lat: lat + dc.dlat})
		if err != nil {
			return fmt.Errorf("demo case: %w", err)
		}
		for _, st := range demoLoopSteps {
			if dc.upTo == "" {
				break
			}
			in := cases.ActionInput{Version: c.Version}
			switch st.action {
			case cases.Feedback:
				ph, err := a.cases.AddPhoto(as["handler"], c.ID, img)
				if err != nil {
					return fmt.Errorf("demo photo: %w", err)
				}
				in.Attachments, in.Reason = []string{ph.ID}, "已更换新井盖"
			case cases.Check:
				in.Passed = &yes
			}
			next, err := a.cases.Act(as[st.who], c.ID, st.action, in)
			if err != nil {
				return fmt.Errorf("demo case %s, %s: %w", c.Number, st.action, err)
			}
			c = next
			if st.action == dc.upTo {
				break
			}
		}
	}
	return a.seedDemoHistory(ctx, t, img)
}

// demoPhoto is the demo's after-photo: a small gradient, as a PNG.
func demoPhoto() ([]byte, error) {
	var img bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			m.Set(x, y, color.RGBA{R: uint8(90 + 4*x), G: uint8(110 + 3*y), B: 120, A: 255})
		}
	}
	err := png.Encode(&img, m)
	return img.Bytes(), err
}
