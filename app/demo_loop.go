package app

import (
	"context"
	"fmt"

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
// with a login), a street, community and unit grid around the city centre, the time-limit
// standard of missing manhole covers, and that class open to citizens over Open311.
func (a *App) seedDemoLoop(ctx context.Context, t *tenants.Tenant) error {
	sctx := tenants.WithScope(ctx, tenants.SystemScope(t))
	dept, err := a.platform.org.CreateDepartment(sctx, org.DepartmentInput{Code: "SZJ", Name: "市政设施管理局", Phone: "0878-0000000"})
	if err != nil {
		return fmt.Errorf("demo department: %w", err)
	}
	for _, p := range demoPosts {
		id, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: p.who + "@" + t.Slug + ".demo", Name: p.name, Password: DemoPassword})
		if err != nil {
			return err
		}
		if err := a.store.Grant(ctx, t, id.ID, p.role); err != nil {
			return err
		}
		ident := id.ID.String()
		in := org.StaffInput{IdentityID: &ident, Name: p.name, Posts: []org.Post{p.post}}
		if p.post == "handler" {
			in.DepartmentID = &dept.ID
		}
		if _, err := a.platform.org.CreateStaff(sctx, in); err != nil {
			return fmt.Errorf("demo staff %s: %w", p.who, err)
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
	std := "类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件\n部件,0101,井盖缺失或破损、存在安全隐患,SZJ,2,紧急工作时,井盖补齐或更换完好\n"
	if _, err := a.platform.catalog.ImportStandards(sctx, []byte(std), tabular.CSV, false); err != nil {
		return fmt.Errorf("demo standard: %w", err)
	}
	return a.open311.AddServiceCode(ctx, t, "component-0101")
}
