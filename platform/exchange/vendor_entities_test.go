package exchange_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
)

// csvToXLSX is a CSV file (UTF-8) as an XLSX workbook of one sheet.
func csvToXLSX(t testing.TB, data []byte) []byte {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	x := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		row := make([]any, len(r))
		for j := range r {
			row[j] = r[j]
		}
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entityWorld is tenant A's world (its four grids imported) with no departments yet, and an
// importer that takes every entity.
type entityWorld struct {
	*vendorWorld
	org *org.Service
}

func newEntityWorld(t testing.TB, e *platformtest.Env) *entityWorld {
	t.Helper()
	w := newWorld(t, e, exchange.Config{})
	o := org.NewService(e.Store, nil, w.grids.Index())
	cat := catalog.NewService(e.Store, o, w.grids, nil)
	vw := &vendorWorld{world: w, usage: &usageLog{}, depts: map[string]string{}}
	vw.im = exchange.NewImporter(exchange.ImporterConfig{Gate: e.Store, Cipher: w.keys, Usage: vw.usage, Classes: catalog.NewEntries(),
		Grids: w.grids, Components: cat, Org: o})
	return &entityWorld{vendorWorld: vw, org: o}
}

func (ew *entityWorld) importEntity(ctx context.Context, ent exchange.Entity, name string, data []byte, dry bool) *exchange.ImportReport {
	ew.t.Helper()
	rep, err := ew.im.ImportEntity(ctx, memFile(name, data), exchange.EntityOptions{Vendor: "szcg-a", Entity: ent, DryRun: dry})
	if err != nil {
		ew.t.Fatalf("%s: %v", ent, err)
	}
	return rep
}

func (ew *entityWorld) mustImportEntity(ctx context.Context, ent exchange.Entity, name string, data []byte, dry bool) *exchange.ImportReport {
	ew.t.Helper()
	rep := ew.importEntity(ctx, ent, name, data, dry)
	if !rep.OK() {
		ew.t.Fatalf("%s: problems %+v unmapped %+v", ent, rep.Problems, rep.Unmapped)
	}
	return rep
}

func (ew *entityWorld) text(ctx context.Context, query string, args ...any) string {
	ew.t.Helper()
	var s string
	if err := ew.e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw(query, args...).Scan(ctx, &s)
	}); err != nil {
		ew.t.Fatalf("%s: %v", query, err)
	}
	return s
}

// TestVendorEntities: a county's whole set — departments, grids, components, staff, then its
// cases — imports in order from the szcg-a sample; the dry run writes nothing; a re-run changes
// nothing; a corrected row updates its record in place; the staff get no login.
func TestVendorEntities(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ew := newEntityWorld(t, e)
		// The mapping names departments yet to be imported: it imports them.
		ew.mustMapping(e.A, "szcg-a.mapping.json")
		depts := mustRead(t, "szcg-a-departments.csv")

		dry := ew.mustImportEntity(e.A, exchange.EntityDepartments, "d.csv", depts, true)
		if dry.Records != 4 || dry.Created != 4 || dry.Applied || dry.RunID != "" || dry.Entity != exchange.EntityDepartments {
			t.Fatalf("dry run: %+v", dry)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM departments"); n != 0 {
			t.Fatalf("the dry run wrote %d departments", n)
		}
		if s := dry.Summary(msg.EN); !strings.Contains(s, "Dry run of 4 records of departments: 4 would be created") {
			t.Fatalf("summary: %s", s)
		}
		rep := ew.mustImportEntity(e.A, exchange.EntityDepartments, "d.csv", depts, false)
		if rep.Created != 4 || !rep.Applied || rep.RunID == "" {
			t.Fatalf("departments: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT p.code FROM departments d JOIN departments p ON p.id = d.parent_id WHERE d.code = 'szgy-ps' AND d.level = 2"); got != "szgy" {
			t.Fatalf("排水管理所's parent: %q", got)
		}

		// The grid index is warm before the grids come: the import refreshes it.
		pt := []orb.Point{{101.505, 25.015}}
		if codes, err := ew.grids.LocateUnits(e.A, pt); err != nil || codes[0] != "" {
			t.Fatalf("before: %q %v", codes, err)
		}
		gridsCSV := mustRead(t, "szcg-a-grids.csv")
		if rep := ew.mustImportEntity(e.A, exchange.EntityGrids, "g.csv", gridsCSV, false); rep.Created != 5 {
			t.Fatalf("grids: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT name FROM grids WHERE code = '53230100100103' AND parent_code = '53230100100100' AND level = 'unit'"); got != "鹿城三号网格" {
			t.Fatalf("new grid: %q", got)
		}
		if codes, err := ew.grids.LocateUnits(e.A, pt); err != nil || codes[0] != "53230100100103" {
			t.Fatalf("after: %q %v", codes, err)
		}

		comps := mustRead(t, "szcg-a-components.csv")
		if rep := ew.mustImportEntity(e.A, exchange.EntityComponents, "c.csv", comps, false); rep.Created != 4 {
			t.Fatalf("components: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT grid_code || ' ' || status || ' ' || source FROM components WHERE code = '5323010101000002'"); got != "53230100100103 完好 import:szcg-a" {
			t.Fatalf("located component: %q", got)
		}

		staff := mustRead(t, "szcg-a-staff.csv")
		if rep := ew.mustImportEntity(e.A, exchange.EntityStaff, "s.csv", staff, false); rep.Created != 6 {
			t.Fatalf("staff: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT s.posts || ' ' || s.phone || ' ' || d.code FROM staff s JOIN departments d ON d.id = s.department_id WHERE s.name = '王受理' AND s.identity_id IS NULL"); got != "acceptor,shift_lead 13800000002 szcg" {
			t.Fatalf("王受理: %q", got)
		}
		if got := ew.text(e.A, "SELECT d.code FROM staff s JOIN departments d ON d.id = s.department_id WHERE s.name = '孙处置' AND s.posts = 'handler'"); got != "szgy" {
			t.Fatalf("孙处置: %q", got)
		}

		// The cases last: their departments resolve.
		cs := ew.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", mustRead(t, "szcg-a.csv")), false)
		if cs.Created != 3 {
			t.Fatalf("cases: %+v", cs)
		}

		// Every file again: nothing changes.
		stamp := ew.text(e.A, "SELECT max(updated_at) FROM departments")
		for _, f := range []struct {
			ent  exchange.Entity
			data []byte
			n    int
		}{{exchange.EntityDepartments, depts, 4}, {exchange.EntityGrids, gridsCSV, 5}, {exchange.EntityComponents, comps, 4}, {exchange.EntityStaff, staff, 6}} {
			if rep := ew.mustImportEntity(e.A, f.ent, "again.csv", f.data, false); rep.Unchanged != f.n || rep.Created+rep.Updated != 0 || !rep.Applied {
				t.Fatalf("%s again: %+v", f.ent, rep)
			}
		}
		if again := ew.text(e.A, "SELECT max(updated_at) FROM departments"); again != stamp {
			t.Fatalf("a re-run touched the departments: %s, was %s", again, stamp)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM staff"); n != 6 {
			t.Fatalf("%d staff after a re-run", n)
		}

		// Corrected rows update their records in place.
		id := ew.text(e.A, "SELECT id FROM staff WHERE name = '张值班长'")
		fixed := strings.Replace(string(staff), "13800000003", "13900000003", 1)
		if rep := ew.mustImportEntity(e.A, exchange.EntityStaff, "s.csv", []byte(fixed), false); rep.Updated != 1 || rep.Unchanged != 5 {
			t.Fatalf("corrected staff: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT phone FROM staff WHERE id = ?", id); got != "13900000003" {
			t.Fatalf("phone: %q", got)
		}
		renamed := strings.Replace(string(depts), "排水管理所", "排水管理处", 1)
		if rep := ew.mustImportEntity(e.A, exchange.EntityDepartments, "d.csv", []byte(renamed), false); rep.Updated != 1 || rep.Unchanged != 3 {
			t.Fatalf("corrected department: %+v", rep)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM departments WHERE code = 'szgy-ps' AND name = '排水管理处'"); n != 1 {
			t.Fatal("the department was not renamed in place")
		}
		broken := strings.Replace(string(comps), "污水井盖,市政公用局,排水管理所,排水管理所,完好", "污水井盖,市政公用局,排水管理所,排水管理所,破损", 1)
		if rep := ew.mustImportEntity(e.A, exchange.EntityComponents, "c.csv", []byte(broken), false); rep.Updated != 1 || rep.Unchanged != 3 {
			t.Fatalf("corrected component: %+v", rep)
		}
		if got := ew.text(e.A, "SELECT status FROM components WHERE code = '5323010102000002'"); got != "破损" {
			t.Fatalf("component status: %q", got)
		}
		regrid := strings.Replace(string(gridsCSV), "鹿城三号网格", "鹿城第三网格", 1)
		if rep := ew.mustImportEntity(e.A, exchange.EntityGrids, "g.csv", []byte(regrid), false); rep.Updated != 1 || rep.Unchanged != 4 {
			t.Fatalf("corrected grid: %+v", rep)
		}

		runs, err := ew.im.FindRuns(e.View)
		if err != nil || len(runs) != 13 || runs[0].Entity != exchange.EntityGrids {
			t.Fatalf("runs: %d %v", len(runs), err)
		}
	})
}

// TestVendorEntityProblems: a bad row refuses the whole file; the dry run names every value it
// could not map with its column, count and first row, and the services' problems by the vendor's
// columns; only tenant A's admin imports.
func TestVendorEntityProblems(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ew := newEntityWorld(t, e)
		ew.mustMapping(e.A, "szcg-a.mapping.json")
		ew.mustImportEntity(e.A, exchange.EntityDepartments, "d.csv", mustRead(t, "szcg-a-departments.csv"), false)

		staff := string(mustRead(t, "szcg-a-staff.csv")) +
			"A0007,钱网格,13800000007,数字城管中心,网格员\n" +
			"A0008,吴网格,13800000008,环保局,网格员、监督员\n"
		rep := ew.importEntity(e.A, exchange.EntityStaff, "s.csv", []byte(staff), true)
		if rep.OK() || len(rep.Unmapped) != 2 {
			t.Fatalf("unmapped: %+v", rep)
		}
		if u := rep.Unmapped[0]; u.Column != "角色" || u.Value != "网格员" || u.Count != 2 || u.FirstRow != 8 {
			t.Fatalf("first unmapped: %+v", u)
		}
		if u := rep.Unmapped[1]; u.Column != "所属部门" || u.Value != "环保局" || u.Count != 1 || u.FirstRow != 9 {
			t.Fatalf("second unmapped: %+v", u)
		}
		// Rejected, even without a dry run: nothing written.
		if rep := ew.importEntity(e.A, exchange.EntityStaff, "s.csv", []byte(staff), false); rep.OK() || rep.Applied {
			t.Fatalf("applied: %+v", rep)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM staff"); n != 0 {
			t.Fatalf("%d staff written from a refused file", n)
		}

		// A handler without a department, a duplicate id: the service's problem by the vendor's column.
		bad := string(mustRead(t, "szcg-a-staff.csv")) + "A0009,郑处置,13800000009,,处置人员\nA0001,李监督二,13800000010,数字城管中心,监督员\n"
		rep = ew.importEntity(e.A, exchange.EntityStaff, "s.csv", []byte(bad), false)
		if rep.OK() || rep.ProblemCount != 2 || rep.Problems[0].Row != 8 || rep.Problems[0].Column != "所属部门" || rep.Problems[1].Row != 9 || rep.Problems[1].Column != "工号" {
			t.Fatalf("bad staff: %+v", rep.Problems)
		}

		// One component off the map refuses the file; the good rows are not written either.
		comps := strings.Replace(string(mustRead(t, "szcg-a-components.csv")), "101.515,25.005", "1.515,25.005", 1)
		rep = ew.importEntity(e.A, exchange.EntityComponents, "c.csv", []byte(comps), false)
		if rep.OK() || rep.Applied || rep.Problems[0].Row != 4 || rep.Problems[0].Column != "经度" {
			t.Fatalf("bad component: %+v", rep.Problems)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM components"); n != 0 {
			t.Fatalf("%d components written from a refused file", n)
		}
		// An unknown class, and a grid that is not a polygon.
		comps = strings.Replace(string(mustRead(t, "szcg-a-components.csv")), ",0102,污水井盖,市政公用局,排水管理所,排水管理所,完好", ",9902,污水井盖,市政公用局,排水管理所,排水管理所,完好", 1)
		if rep := ew.importEntity(e.A, exchange.EntityComponents, "c.csv", []byte(comps), true); len(rep.Unmapped) != 1 || rep.Unmapped[0].Value != "9902" || rep.Unmapped[0].Column != "部件小类" {
			t.Fatalf("unknown class: %+v", rep)
		}
		gridsCSV := strings.Replace(string(mustRead(t, "szcg-a-grids.csv")), "POLYGON((101.5 25.01", "LINESTRING((101.5 25.01", 1)
		if rep := ew.importEntity(e.A, exchange.EntityGrids, "g.csv", []byte(gridsCSV), false); rep.OK() || rep.Problems[0].Row != 6 || rep.Problems[0].Column != "边界" {
			t.Fatalf("bad geometry: %+v", rep.Problems)
		}
		// A boundary of thousands of positions is read (more than a cell of text may hold).
		var ring []string
		for i := 0; i <= 2000; i++ {
			ring = append(ring, fmt.Sprintf("%.6f,25.01", 101.5+0.01*float64(i)/2000))
		}
		ring = append(ring, "101.51,25.02", "101.5,25.02")
		big := "网格编码,网格名称,边界\n53230100100103,鹿城三号网格,\"" + strings.Join(ring, ";") + "\"\n"
		if len(big) < 20_000 {
			t.Fatalf("the boundary is only %d bytes", len(big))
		}
		if rep := ew.importEntity(e.A, exchange.EntityGrids, "g.csv", []byte(big), true); !rep.OK() || rep.Created != 1 {
			t.Fatalf("a long boundary: %+v", rep.Problems)
		}
		// A department whose parent is in neither the file nor the tenant.
		depts := string(mustRead(t, "szcg-a-departments.csv")) + "wt,文体局,nope,\n"
		if rep := ew.importEntity(e.A, exchange.EntityDepartments, "d.csv", []byte(depts), false); rep.OK() || rep.Problems[0].Row != 6 || rep.Problems[0].Column != "上级部门编码" {
			t.Fatalf("bad parent: %+v", rep.Problems)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM departments WHERE code = 'wt'"); n != 0 {
			t.Fatal("a refused department was written")
		}

		// Isolation and rights.
		if _, err := ew.im.ImportEntity(e.B, memFile("d.csv", mustRead(t, "szcg-a-departments.csv")), exchange.EntityOptions{Vendor: "szcg-a", Entity: exchange.EntityDepartments}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("tenant B with A's mapping: %v", err)
		}
		if _, err := ew.im.ImportEntity(e.View, memFile("d.csv", mustRead(t, "szcg-a-departments.csv")), exchange.EntityOptions{Vendor: "szcg-a", Entity: exchange.EntityDepartments, DryRun: true}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("prefecture viewer: %v", err)
		}
		if _, err := ew.im.ImportEntity(e.A, memFile("d.csv", nil), exchange.EntityOptions{Vendor: "szcg-a", Entity: "roads"}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown entity: %v", err)
		}
	})
}

// TestVendorEntityFormats: the same grids and staff as JSON and XLSX, with the geometry as a
// GeoJSON member; a mapping without an entity's section refuses its file.
func TestVendorEntityFormats(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ew := newEntityWorld(t, e)
		ew.mustMapping(e.A, "szcg-a.mapping.json")
		gridsJSON := `[{"网格编码": "53230100100103", "网格名称": "鹿城三号网格",
			"边界": {"type": "Polygon", "coordinates": [[[101.5, 25.01], [101.51, 25.01], [101.51, 25.02], [101.5, 25.02], [101.5, 25.01]]]}}]`
		if rep := ew.mustImportEntity(e.A, exchange.EntityGrids, "g.json", []byte(gridsJSON), false); rep.Created != 1 || rep.Rows != 1 {
			t.Fatalf("JSON grids: %+v", rep)
		}
		ew.mustImportEntity(e.A, exchange.EntityDepartments, "d.csv", mustRead(t, "szcg-a-departments.csv"), false)
		x := csvToXLSX(t, mustRead(t, "szcg-a-staff.csv"))
		if rep := ew.mustImportEntity(e.A, exchange.EntityStaff, "s.xlsx", x, false); rep.Created != 6 {
			t.Fatalf("XLSX staff: %+v", rep)
		}
		m := ew.mustMapping(e.A, "szcg-a.mapping.json")
		// A vendor class through codes.class is written into the code's class digits.
		m.Codes.Class = map[string]exchange.ClassTarget{"SS-01": {Kind: catalog.Component, Code: "0101"}}
		if _, err := ew.im.PutMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		comps := "部件标识码,部件小类,部件名称,主管部门,权属单位,养护单位,部件状态,经度,纬度,所属网格\n" +
			"5323019999000003,SS-01,上水井盖,市政公用局,鹿城供水公司,鹿城供水公司,完好,101.505,25.005,53230100100101\n"
		if rep := ew.mustImportEntity(e.A, exchange.EntityComponents, "c.csv", []byte(comps), false); rep.Created != 1 {
			t.Fatalf("class through the table: %+v", rep)
		}
		if n := ew.count(e.A, "SELECT count(*) FROM components WHERE code = '5323010101000003' AND class_code = '0101'"); n != 1 {
			t.Fatal("the code's class digits were not mapped")
		}
		// The table changes: the record would become another component, which is refused.
		m.Codes.Class["SS-01"] = exchange.ClassTarget{Kind: catalog.Component, Code: "0102"}
		if _, err := ew.im.PutMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		if rep := ew.importEntity(e.A, exchange.EntityComponents, "c.csv", []byte(comps), false); rep.OK() || rep.Problems[0].Column != "部件标识码" {
			t.Fatalf("moved component: %+v", rep)
		}
		m.Staff = nil
		if _, err := ew.im.PutMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		if _, err := ew.im.ImportEntity(e.A, memFile("s.xlsx", x), exchange.EntityOptions{Vendor: "szcg-a", Entity: exchange.EntityStaff}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("no staff section: %v", err)
		}
	})
}

// TestVendorEntityMappingCheck: the entity sections are checked like the case fields; a mapping
// of entities only saves, and refuses a case file.
func TestVendorEntityMappingCheck(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ew := newEntityWorld(t, e)
		good := string(mustRead(t, "szcg-a.mapping.json"))
		for _, tc := range []struct{ name, from, to, field string }{
			{"unknown field", `"name": "网格名称"`, `"name": "网格名称", "colour": "颜色"`, "grids.fields.colour"},
			{"required", `"geometry": "边界"`, `"parent": "边界"`, "grids.fields.parent"},
			{"staff id", `"record_id": "工号", `, ``, "staff.fields.record_id"},
			{"empty column", `"phone": "联系电话"`, `"phone": " "`, "departments.fields.phone"},
			{"post", `"领导": "leader"`, `"领导": "boss"`, "codes.post"},
		} {
			m, err := exchange.ParseMapping([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if _, err := ew.im.PutMapping(e.A, m); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (field %q), want %s", tc.name, err, errs.FieldOf(err), tc.field)
			}
		}
		only := `{"vendor": "szcg-x", "fields": {}, "history": {"fields": {}}, "codes": {"state": {}},
			"departments": {"fields": {"code": "编码", "name": "名称"}}}`
		m, err := exchange.ParseMapping([]byte(only))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ew.im.PutMapping(e.A, m); err != nil {
			t.Fatalf("entities only: %v", err)
		}
		if _, err := ew.im.Import(e.A, memFile("a.csv", mustRead(t, "szcg-a.csv")), exchange.ImportOptions{Vendor: "szcg-x"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a case file with a mapping of entities: %v", err)
		}
		rep, err := ew.im.ImportEntity(e.A, memFile("d.csv", []byte("编码,名称\nx1,一科\n")), exchange.EntityOptions{Vendor: "szcg-x", Entity: exchange.EntityDepartments})
		if err != nil || rep.Created != 1 || !rep.Applied {
			t.Fatalf("entities only: %+v %v", rep, err)
		}
	})
}
