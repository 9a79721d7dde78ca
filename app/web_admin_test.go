package app

import (
	"encoding/json"
	"time"

	"github.com/cityops/cityops/billing"
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
)

func init() {
	evil := "<script>x</script>"
	parent := "d1"
	sampleMember := adminMember{Member: &tenants.Member{Identity: &tenants.Identity{ID: uuid.New(), Email: "a@b.cn", Name: evil}, Roles: []tenants.Role{tenants.TenantAdmin, tenants.Inspector}}}
	sampleMember.ID = sampleMember.Identity.ID.String()
	dept := org.Department{ID: "d1", Code: "SZJ", Name: "市政设施管理局" + evil, Level: 1, Phone: "0878"}
	sub := org.Department{ID: "d2", Code: "SZJ-1", Name: "道路科", Level: 2, ParentID: &parent}
	tree, opts, names := adminDepartmentTree([]org.Department{dept, sub}, []org.Staff{{ID: "s1", DepartmentID: &parent}})
	staffView := adminStaffView{ID: "s1", Name: "张巡" + evil, Phone: "139", DepartmentID: "d1", IdentityID: sampleMember.ID, Posts: []org.Post{org.Inspector, org.Handler}, Active: true}
	report := &tabular.Report{Rows: 3, Accepted: 2, Problems: []tabular.Problem{{Row: 3, Column: "class_code", Key: "9999", Message: "\"9999\" is not a known event minor class " + evil}}}
	geo := json.RawMessage(`{"type":"FeatureCollection","features":[]}`)

	samplePage("admin_home", fiber.Map{}, fiber.Map{"Rows": []adminCount{
		{Key: "admin.home.departments", Href: "/t/chuxiong/admin/org", Count: 3},
		{Key: "admin.home.calendar", Href: "/t/chuxiong/admin/calendar", Count: 0, Detail: "2026 年尚未导入节假日" + evil, Warn: true},
	}})
	samplePage("admin_org", fiber.Map{"StaffForm": adminStaffView{Active: true}}, fiber.Map{
		"Error": "输入有误：" + evil, "Tree": tree, "Departments": opts, "DeptNames": names,
		"Staff":   []adminStaffView{staffView, {ID: "s2", Name: "钱处"}},
		"Members": []*tenants.Member{sampleMember.Member}, "Emails": map[string]string{sampleMember.ID: "a@b.cn"}, "Posts": org.Posts,
		"StaffForm": staffView, "DeptForm": org.DepartmentInput{Code: "X", Name: evil},
	})
	samplePage("admin_users", fiber.Map{}, fiber.Map{
		"Members": []adminMember{sampleMember}, "Self": sampleMember.ID, "Linked": map[string]bool{sampleMember.ID: true},
		"Roles":       adminTenantRoles(sampleTenant),
		"Invitations": []*tenants.Invitation{{Email: "new@b.cn", Name: evil, Role: tenants.Inspector, CreatedAt: sampleNow, ExpiresAt: sampleNow.Add(14 * 24 * time.Hour)}},
		"Invited":     &tenants.Invitation{Email: "new@b.cn", Role: tenants.Inspector, ExpiresAt: sampleNow}, "InviteURL": "https://x.cn/invite/inv_abc",
		"InviteForm": fiber.Map{"Email": "x@y.cn", "Name": evil, "Role": "inspector"}, "Error": evil,
	})
	samplePage("admin_grids", fiber.Map{"Map": sampleMap}, fiber.Map{
		"Map": sampleMap, "Layers": []map[string]any{{"url": "/api/v1/t/chuxiong/grids.geojson", "kind": "grids", "fit": true}},
		"PreviewLayers": []map[string]any{{"data": geo, "kind": "grids", "fit": true}},
		"Grids":         []grids.Grid{{Code: "53230100100000", Name: "鹿城街道", Level: grids.Street, AreaM2: 1234}, {Code: "53230100100101", Name: evil, Level: grids.Unit}},
		"Units":         []grids.Grid{{Code: "53230100100101"}}, "Level": "unit", "Parent": "53230100100100", "Truncated": 1200,
		"Resp":       []adminResp{{ResponsibilityGrid: grids.ResponsibilityGrid{Code: "R1", Name: "一号责任网格", Units: []string{"53230100100101"}}, Inspector: "s1"}, {ResponsibilityGrid: grids.ResponsibilityGrid{Code: "R2", Name: evil}}},
		"Inspectors": []org.Staff{{ID: "s1", Name: "张巡"}}, "StaffNames": map[string]string{"s1": "张巡"},
		"RespForm": fiber.Map{"Code": "R3", "Name": evil, "Units": []string{"1", "2"}},
		"Import":   &adminImportView{Action: "/grids/import", Report: report, Checked: true, Data: "eyJ9", Format: "geojson", Filename: evil},
		"Error":    evil,
	})
	samplePage("admin_catalog", fiber.Map{}, fiber.Map{
		"Extensions": []catalog.Class{{Kind: catalog.Event, Code: "91", Level: "major", NameZH: "扩展事件", Origin: catalog.Own}, {Kind: catalog.Component, Code: "9101", Level: "minor", NameZH: evil, Origin: catalog.Prefecture}},
		"Components": []adminClassGroup{{Major: catalog.Class{Kind: catalog.Component, Code: "01", NameZH: "公用设施", Origin: catalog.National}, Minors: []catalog.Class{{Code: "0101", NameZH: "上水井盖", Origin: catalog.National, CodeStatus: "provisional"}, {Code: "0199", NameZH: evil, Origin: catalog.Own}}}},
		"Events":     []adminClassGroup{},
		"Standards": []adminStandard{{Standard: catalog.Standard{Kind: catalog.Component, ClassCode: "0101", FilingCondition: evil, DepartmentID: &parent,
			Limit: calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}, ClosingCondition: "补齐", LegalBasis: "《城市道路管理条例》"}, ClassName: "上水井盖", Department: "市政设施管理局"}},
		"HasParent": true, "ClassForm": catalog.ClassInput{Kind: catalog.Event, Code: "9", NameZH: evil},
		"Import": &adminImportView{Action: "/standards/import", Report: report}, "Error": "文件有 1 处问题",
	})
	samplePage("admin_calendar", fiber.Map{"Settings": calendar.DefaultSettings(), "Year": 2026}, fiber.Map{
		"Settings": calendar.Settings{TimeZone: "Asia/Shanghai", WorkingHours: "08:30-12:00", Weekend: []time.Weekday{0, 6}, UpdatedAt: sampleNow, UpdatedBy: "a@b.cn"},
		"Weekend":  map[int]bool{0: true, 6: true}, "Weekdays": []int{1, 2, 3, 4, 5, 6, 0}, "Year": 2026,
		"Days":     []adminDay{{Day: calendar.Day{Date: "2026-01-01", Kind: calendar.Holiday, Name: "元旦" + evil}, Weekday: time.Thursday}, {Day: calendar.Day{Date: "2026-01-04", Kind: calendar.Workday}, Weekday: time.Sunday}},
		"Holidays": 1, "Workdays": 1,
		"Import": &adminImportView{Action: "/calendar/import", Report: &tabular.Report{Rows: 2, Accepted: 2}, Checked: true, Data: "YQ==", Format: "csv", Year: "2026"},
	})
	now := sampleNow
	samplePage("admin_stages", fiber.Map{}, fiber.Map{
		"Stages": append(cases.DefaultStageLimits(), cases.StageLimit{Stage: cases.StageClose, Limit: calendar.Limit{Amount: 1, Unit: calendar.WorkingDays}, Urgent: calendar.Limit{Amount: 0.5, Unit: calendar.UrgentHours}, UpdatedAt: &now, UpdatedBy: evil}),
		"Units":  []calendar.Unit{calendar.WorkingHours, calendar.WorkingDays, calendar.UrgentHours}, "Error": evil,
	})
	samplePage("admin_integrations", fiber.Map{}, fiber.Map{
		"Credentials": []secrets.Credential{{Name: "tianditu", Last4: "cdef", SetAt: sampleNow, SetBy: evil}, {Name: "sms_gateway", SetAt: sampleNow}},
		"Known":       adminKnownCredentials, "Tiles": "tianditu", "CredName": evil, "Unavailable": evil, "Error": evil,
	})
	samplePage("admin_modules", fiber.Map{}, fiber.Map{
		"Plan":    &billing.Plan{Code: "starter", NameZH: "共享入门" + evil, NameEN: "Starter", Shared: true},
		"Modules": []adminModule{{Name: "cases", On: true}, {Name: "evaluation", On: false, Override: true}},
	})
}
