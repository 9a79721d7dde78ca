package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type env struct {
	*platformtest.Env
	cat   *catalog.Service
	org   *org.Service
	grids *grids.Service
}

func newEnv(t *testing.T, e *platformtest.Env) *env {
	o := org.NewService(e.Store, nil)
	g := grids.NewService(e.Store, nil)
	return &env{Env: e, cat: catalog.NewService(e.Store, o, g, nil), org: o, grids: g}
}

const standardsCSV = `类型,小类代码,小类名称,立案条件,责任部门,处置时限,时限单位,结案条件,法律依据
部件,0101,上水井盖,井盖丢失或破损存在安全隐患,市政局,2,紧急工作时,井盖已补齐或更换,
部件,0101,上水井盖,井盖破损面积大于25平方厘米,市政局,4,工作时,井盖已更换,
事件,0102,暴露垃圾,暴露垃圾,环卫站,1,工作日,垃圾已清除,
事件,0101,私搭乱建,违法建设,SZJ,15工作日,,已拆除,城乡规划法
`

func TestClassesAndStandards(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := newEnv(t, pe)
		// The national classes come from ref, with their certainty.
		c, err := e.cat.FindClass(e.A, catalog.Component, "0101")
		if err != nil || c.NameZH != "上水井盖" || c.CodeStatus != "confirmed" || c.Origin != catalog.National {
			t.Fatalf("0101: %+v %v", c, err)
		}
		if c, _ := e.cat.FindClass(e.A, catalog.Event, "0102"); c == nil || c.CodeStatus != "provisional" {
			t.Fatalf("event 0102: %+v", c)
		}
		majors, _ := e.cat.FindClasses(e.View, catalog.ClassFilter{Kind: catalog.Component, Level: "major"})
		if len(majors) < 6 {
			t.Fatalf("majors: %+v", majors)
		}
		// The prefecture adds an extension major and minor; A syncs them; B has not.
		if _, err := e.cat.CreateClass(e.Pref, catalog.ClassInput{Kind: catalog.Event, Code: "0101", NameZH: "重复"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("national code reused: %v", err)
		}
		if _, err := e.cat.CreateClass(e.Pref, catalog.ClassInput{Kind: catalog.Event, Code: "5099", NameZH: "无上级"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("minor without major: %v", err)
		}
		for _, in := range []catalog.ClassInput{{Kind: catalog.Event, Code: "50", NameZH: "服务事项"}, {Kind: catalog.Event, Code: "5001", NameZH: "群众求助"}} {
			if _, err := e.cat.CreateClass(e.Pref, in); err != nil {
				t.Fatal(err)
			}
		}
		if p, n, err := e.cat.SyncFromPrefecture(e.A); err != nil || n != 2 || p.ID != e.Prefecture.ID {
			t.Fatalf("sync: %v %d %v", p, n, err)
		}
		if es := e.MustAudit(t, e.TenantA, "catalog.sync"); len(es) != 1 || es[0].Target != "chuxiong-zhou" || es[0].Detail != `{"classes":2}` {
			t.Fatalf("catalog.sync audit: %+v", es)
		}
		if _, _, err := e.cat.SyncFromPrefecture(e.Pref); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a prefecture syncing from its parent: %v", err)
		}
		if c, err := e.cat.FindClass(e.A, catalog.Event, "5001"); err != nil || c.Origin != catalog.Prefecture {
			t.Fatalf("synced class: %+v %v", c, err)
		}
		if _, err := e.cat.FindClass(e.B, catalog.Event, "5001"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B sees A's synced class: %v", err)
		}
		if _, err := e.cat.CreateClass(e.View, catalog.ClassInput{Kind: catalog.Event, Code: "60", NameZH: "x"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer creates class: %v", err)
		}
		// Standards, with departments by name or code.
		if _, err := e.org.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.org.CreateDepartment(e.A, org.DepartmentInput{Code: "HWZ", Name: "环卫站"}); err != nil {
			t.Fatal(err)
		}
		rep, err := e.cat.ImportStandards(e.A, []byte(standardsCSV), tabular.CSV, false)
		if err != nil || rep.Accepted != 4 || !rep.Applied {
			t.Fatalf("import: %+v %v", rep, err)
		}
		entry, err := e.cat.Lookup(e.A, catalog.Component, "0101")
		if err != nil || len(entry.Standards) != 2 {
			t.Fatalf("lookup: %+v %v", entry, err)
		}
		var urgent catalog.Standard
		for _, s := range entry.Standards {
			if s.Limit.Unit == calendar.UrgentHours {
				urgent = s
			}
		}
		if urgent.Limit.Amount != 2 || urgent.DepartmentID == nil || urgent.ClosingCondition != "井盖已补齐或更换" {
			t.Fatalf("urgent standard: %+v", urgent)
		}
		if st, _ := e.cat.FindStandards(e.A, catalog.StandardFilter{Kind: catalog.Event, ClassCode: "0101"}); len(st) != 1 || st[0].Limit != (calendar.Limit{Amount: 15, Unit: calendar.WorkingDays}) {
			t.Fatalf("limit in one cell: %+v", st)
		}
		if st, _ := e.cat.FindStandards(e.B, catalog.StandardFilter{}); len(st) != 0 {
			t.Fatalf("B sees A's standards: %d", len(st))
		}
		if _, err := e.cat.ImportStandards(e.View, []byte(standardsCSV), tabular.CSV, false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer imports: %v", err)
		}
		// The same table as XLSX, and as GBK CSV.
		if rep, err := e.cat.ImportStandards(e.A, xlsxOf(t, standardsCSV), tabular.XLSX, false); err != nil || rep.Accepted != 4 {
			t.Fatalf("xlsx: %+v %v", rep, err)
		}
		gbk, _ := simplifiedchinese.GBK.NewEncoder().String(standardsCSV)
		if rep, err := e.cat.ImportStandards(e.A, []byte(gbk), tabular.CSV, true); err != nil || rep.Accepted != 4 || rep.Applied {
			t.Fatalf("gbk dry run: %+v %v", rep, err)
		}
		// The two applied imports are audited, the dry run is not.
		if es := e.MustAudit(t, e.TenantA, "standards.import"); len(es) != 2 || es[0].Detail != `{"accepted":4,"rows":4}` {
			t.Fatalf("standards.import audit: %+v", es)
		}
	})
}

func xlsxOf(t *testing.T, csv string) []byte {
	f := excelize.NewFile()
	for r, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		for c, v := range strings.Split(line, ",") {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			f.SetCellValue("Sheet1", cell, v)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStandardsImportRejectsBrokenFiles(t *testing.T) {
	e := newEnv(t, platformtest.MustEnv(t, "sqlite"))
	if _, err := e.org.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.ImportStandards(e.A, []byte("类型,小类代码,立案条件,处置时限,结案条件\n部件,0101,丢失,2紧急工作时,补齐\n"), tabular.CSV, false); err != nil {
		t.Fatal(err)
	}
	bad := `类型,小类代码,立案条件,责任部门,处置时限,时限单位,结案条件
部件,0101,丢失,市政局,2,紧急工作时,补齐
物件,0101,x,,1,工作日,y
部件,9999,x,,1,工作日,y
部件,01,x,,1,工作日,y
部件,0102,x,规划局,1,工作日,y
部件,0103,x,,两,工作日,y
部件,0104,x,,1,工作周,y
部件,0105,,,1,工作日,y
部件,0101,丢失,,1,工作日,y
`
	rep, err := e.cat.ImportStandards(e.A, []byte(bad), tabular.CSV, false)
	var rej *tabular.Rejected
	if !errors.As(err, &rej) {
		t.Fatalf("accepted: %+v %v", rep, err)
	}
	want := []struct {
		row int
		col string
	}{{3, "kind"}, {4, "class_code"}, {5, "class_code"}, {6, "department"}, {7, "time_limit"}, {8, "unit"}, {9, "filing_condition"}, {10, "filing_condition"}}
	if len(rep.Problems) != len(want) {
		b, _ := json.MarshalIndent(rep.Problems, "", " ")
		t.Fatalf("problems: %s", b)
	}
	for i, w := range want {
		if p := rep.Problems[i]; p.Row != w.row || p.Column != w.col || p.Message == "" {
			t.Errorf("problem %d = %+v, want row %d column %s", i, p, w.row, w.col)
		}
	}
	// Nothing written: the earlier single standard is still the whole table.
	if st, _ := e.cat.FindStandards(e.A, catalog.StandardFilter{}); len(st) != 1 || st[0].FilingCondition != "丢失" {
		t.Fatalf("a rejected import changed the table: %+v", st)
	}
	for name, tc := range map[string]struct {
		data []byte
		f    tabular.Format
		want string
	}{
		"missing columns": {[]byte("类型,小类代码\n部件,0101\n"), tabular.CSV, "filing_condition"},
		"utf16":           {[]byte("\xff\xfe\x31\x00"), tabular.CSV, "UTF-16"},
		"bad gbk":         {[]byte("类型,小类代码,立案条件,处置时限,结案条件\n\x81\x20,0101,x,1工作日,y\n"), tabular.CSV, "neither UTF-8 nor GBK"},
		"not xlsx":        {[]byte("PK\x03\x04garbage"), tabular.XLSX, "XLSX"},
		"empty":           {[]byte(""), tabular.CSV, "header"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.cat.ImportStandards(e.A, tc.data, tc.f, false)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageOf(err), tc.want) {
				t.Fatalf("error %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestComponentsImport(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := newEnv(t, pe)
		sq := func(lon, lat float64) string {
			return fmt.Sprintf(`[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]`, lon, lat, lon+0.01, lat, lon+0.01, lat+0.01, lon, lat+0.01, lon, lat)
		}
		g := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"53230100100000","name":"街道"},"geometry":{"type":"Polygon","coordinates":` + sq(101.5, 25) + `}},
{"type":"Feature","properties":{"code":"53230100100100","name":"社区"},"geometry":{"type":"Polygon","coordinates":` + sq(101.5, 25) + `}},
{"type":"Feature","properties":{"code":"53230100100101","name":"网格"},"geometry":{"type":"Polygon","coordinates":` + sq(101.5, 25) + `}}]}`
		if _, err := e.grids.Import(e.A, []byte(g), false); err != nil {
			t.Fatal(err)
		}
		csv := "部件编码,名称,主管部门,经度,纬度\n5323010101000001,鹿城路上水井盖,自来水公司,101.505,25.005\n5323010116000001,路灯,市政局,101.7,25.3\n"
		rep, err := e.cat.ImportComponents(e.A, []byte(csv), "csv", false)
		if err != nil || rep.Accepted != 2 {
			t.Fatalf("csv: %+v %v", rep, err)
		}
		c, _ := e.cat.FindComponentByCode(e.A, "5323010101000001")
		if c == nil || c.GridCode == nil || *c.GridCode != "53230100100101" || c.ClassCode != "0101" {
			t.Fatalf("component located: %+v", c)
		}
		if c, _ := e.cat.FindComponentByCode(e.A, "5323010116000001"); c.GridCode != nil {
			t.Fatalf("a point outside every grid got a grid: %+v", c)
		}
		gj := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"5323010102000001","name":"污水井盖"},"geometry":{"type":"Point","coordinates":[101.506,25.006]}}]}`
		if rep, err := e.cat.ImportComponents(e.A, []byte(gj), "geojson", false); err != nil || rep.Accepted != 1 {
			t.Fatalf("geojson: %+v %v", rep, err)
		}
		if es := e.MustAudit(t, e.TenantA, "components.import"); len(es) != 2 || es[0].Detail != `{"accepted":1,"rows":1}` || es[1].Detail != `{"accepted":2,"rows":2}` {
			t.Fatalf("components.import audit: %+v", es)
		}
		if cs, _ := e.cat.FindComponents(e.A, catalog.ComponentFilter{GridCode: "53230100100101"}); len(cs) != 2 {
			t.Fatalf("by grid: %+v", cs)
		}
		if cs, _ := e.cat.FindComponents(e.B, catalog.ComponentFilter{}); len(cs) != 0 {
			t.Fatalf("B sees A's components")
		}
		if cs, err := e.cat.FindComponents(e.View, catalog.ComponentFilter{}); err != nil || len(cs) != 3 {
			t.Fatalf("viewer: %d %v", len(cs), err)
		}
		if _, err := e.cat.ImportComponents(e.View, []byte(csv), "csv", false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer import: %v", err)
		}
		// Broken rows: each reported, nothing written.
		bad := "部件编码,经度,纬度,网格编码\n5323290101000001,101.5,25\n5323019999000001,101.5,25\n53230101010000,101.5,25\n5323010101000009,25,101.5\n5323010101000010,101.5,25,53230100100199\n5323010101000011,101.5,25\n"
		rep, err = e.cat.ImportComponents(e.A, []byte(bad), "csv", false)
		if err == nil || len(rep.Problems) != 5 {
			t.Fatalf("bad rows: %+v %v", rep, err)
		}
		cols := []string{}
		for _, p := range rep.Problems {
			cols = append(cols, fmt.Sprintf("%d:%s", p.Row, p.Column))
		}
		if got := strings.Join(cols, " "); got != "2:code 3:code 4:code 5:lon 6:grid_code" {
			t.Fatalf("problems at %s", got)
		}
		if _, err := e.cat.FindComponentByCode(e.A, "5323010101000011"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a rejected import wrote its good row: %v", err)
		}
		badGeo := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"5323010102000002"},"geometry":{"type":"LineString","coordinates":[[101.5,25],[101.6,25]]}}]}`
		if rep, err := e.cat.ImportComponents(e.A, []byte(badGeo), "geojson", false); err == nil || !strings.Contains(rep.Problems[0].Message, "Point") {
			t.Fatalf("line as component: %+v %v", rep, err)
		}
	})
}

func TestSyncRefusesToDropUsedClasses(t *testing.T) {
	e := newEnv(t, platformtest.MustEnv(t, "sqlite"))
	for _, in := range []catalog.ClassInput{{Kind: catalog.Event, Code: "50", NameZH: "服务事项"}, {Kind: catalog.Event, Code: "5001", NameZH: "群众求助"}} {
		if _, err := e.cat.CreateClass(e.Pref, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.cat.SyncFromPrefecture(e.A); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.ImportStandards(e.A, []byte("类型,小类代码,立案条件,处置时限,结案条件\n事件,5001,求助,1工作日,已处理\n"), tabular.CSV, false); err != nil {
		t.Fatal(err)
	}
	// The prefecture drops 5001: A's sync is refused while its standard uses it, and A keeps 5001.
	if err := e.cat.DeleteClass(e.Pref, catalog.Event, "5001"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.cat.SyncFromPrefecture(e.A); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err), "5001") {
		t.Fatalf("sync dropping a used class: %v", err)
	}
	if _, err := e.cat.FindClass(e.A, catalog.Event, "5001"); err != nil {
		t.Fatalf("5001 lost after a refused sync: %v", err)
	}
}

// TestLookupSeesWritesAtOnce checks the cached entries: a standards import through the Service
// that owns them (the one the composition root shares with the API, the console and the case
// loop) is seen by the next lookup.
func TestLookupSeesWritesAtOnce(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		// One Service per process writes and looks up (the composition root shares its Entries).
		writer := newEnv(t, pe)
		reader := writer
		entry, err := reader.cat.Lookup(pe.A, catalog.Component, "0101")
		if err != nil || len(entry.Standards) != 0 {
			t.Fatalf("before: %+v %v", entry, err)
		}
		if _, err := writer.org.CreateDepartment(pe.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"}); err != nil {
			t.Fatal(err)
		}
		if _, err := writer.cat.ImportStandards(pe.A, []byte("类型,小类代码,立案条件,责任部门,处置时限,结案条件\n部件,0101,丢失,市政局,2紧急工作时,补齐\n"), tabular.CSV, false); err != nil {
			t.Fatal(err)
		}
		entry, err = reader.cat.Lookup(pe.A, catalog.Component, "0101")
		if err != nil || len(entry.Standards) != 1 {
			t.Fatalf("after the import: %+v %v", entry, err)
		}
		entry.Standards[0].FilingCondition = "changed by the caller"
		if again, _ := reader.cat.Lookup(pe.A, catalog.Component, "0101"); again.Standards[0].FilingCondition != "丢失" {
			t.Fatalf("the caller changed the cached entry: %q", again.Standards[0].FilingCondition)
		}
		// Another tenant's lookup is its own.
		if other, err := reader.cat.Lookup(pe.B, catalog.Component, "0101"); err != nil || len(other.Standards) != 0 {
			t.Fatalf("B: %+v %v", other, err)
		}
	})
}
