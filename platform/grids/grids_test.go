package grids_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/paulmach/orb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func square(lon0, lat0, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon0, lat0, lon0+d, lat0, lon0+d, lat0+d, lon0, lat0+d, lon0, lat0)
}

func feature(code, name, geom string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, code, name, geom)
}

// SampleGrids is a street, a community and two unit grids of 楚雄市 (532301) near 25.0°N 101.5°E.
func SampleGrids() string {
	return `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		feature("53230100100101", "鹿城一号网格", square(101.50, 25.00, 0.01)),
		feature("53230100100102", "鹿城二号网格", square(101.51, 25.00, 0.01)),
		feature("53230100100100", "鹿城社区", `{"type":"Polygon","coordinates":[[[101.5,25],[101.52,25],[101.52,25.01],[101.5,25.01],[101.5,25]]]}`),
		feature("53230100100000", "鹿城街道", square(101.49, 24.99, 0.04)),
	}, ",") + `]}`
}

func TestImportResolveExport(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := grids.NewService(e.Store, nil)
		rep, err := s.Import(e.A, []byte(SampleGrids()), false)
		if err != nil || rep.Accepted != 4 || !rep.Applied {
			t.Fatalf("import: %+v %v", rep, err)
		}
		res, err := s.Resolve(e.A, 101.515, 25.005)
		if err != nil || res.Unit.Code != "53230100100102" || res.Community.Code != "53230100100100" || res.Street.Code != "53230100100000" {
			t.Fatalf("resolve: %+v %v", res, err)
		}
		if _, err := s.Resolve(e.A, 101.6, 25.5); !errs.Is(err, errs.NotFound) {
			t.Fatalf("point outside: %v", err)
		}
		if _, err := s.Resolve(e.A, 0, 0); !errs.Is(err, errs.Invalid) {
			t.Fatalf("point outside China: %v", err)
		}
		// B has no grids and cannot see A's; the viewer reads A's but cannot import.
		if _, err := s.Resolve(e.B, 101.515, 25.005); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B resolves A's point: %v", err)
		}
		if _, err := s.Resolve(e.View, 101.515, 25.005); err != nil {
			t.Fatalf("viewer resolve: %v", err)
		}
		if _, err := s.Import(e.View, []byte(SampleGrids()), false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer import: %v", err)
		}
		// B cannot import A's codes: the admin code prefix is B's own.
		rep, err = s.Import(e.B, []byte(SampleGrids()), false)
		if err == nil || len(rep.Problems) != 4 || !strings.Contains(rep.Problems[0].Message, "532329") {
			t.Fatalf("B imports A's codes: %+v %v", rep, err)
		}
		// Export and import round trip.
		out, err := s.Export(e.A, "")
		if err != nil || !strings.Contains(string(out), `"53230100100101"`) {
			t.Fatalf("export: %s %v", out, err)
		}
		if rep, err := s.Import(e.A, out, false); err != nil || rep.Accepted != 4 {
			t.Fatalf("re-import export: %+v %v", rep, err)
		}
		units, _ := s.FindGrids(e.A, grids.Filter{Level: grids.Unit})
		if len(units) != 2 || units[0].AreaM2 < 1e6 {
			t.Fatalf("units: %+v", units)
		}
		// A responsibility grid: the resolution names its inspector.
		if _, err := s.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R1", Name: "一责任网格", Units: []string{"53230100100101", "53230100100102"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R2", Name: "二", Units: []string{"53230100100100"}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("community as unit: %v", err)
		}
		res, _ = s.Resolve(e.A, 101.505, 25.005)
		if res.Responsibility == nil || res.Responsibility.Code != "R1" {
			t.Fatalf("responsibility: %+v", res)
		}
		pts, _ := s.LocateUnits(e.A, []orb.Point{{101.505, 25.005}, {101.515, 25.005}, {100, 30}})
		if pts[0] != "53230100100101" || pts[1] != "53230100100102" || pts[2] != "" {
			t.Fatalf("locate: %v", pts)
		}
	})
}

func TestImportRejectsBadGeometry(t *testing.T) {
	e := platformtest.MustEnv(t, "sqlite")
	s := grids.NewService(e.Store, nil)
	bad := `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		feature("53230100100101", "未闭合", `{"type":"Polygon","coordinates":[[[101.5,25],[101.51,25],[101.51,25.01],[101.5,25.01]]]}`),
		feature("53230100100102", "纬经颠倒", square(25.0, 101.5, 0.01)),
		feature("53230100100103", "点", `{"type":"Point","coordinates":[101.5,25]}`),
		feature("5323010010010", "短码", square(101.5, 25, 0.01)),
		feature("53230100100104", "无上级", square(101.5, 25, 0.01)),
		`{"type":"Feature","properties":{"code":"53230100100105","name":"x"},"geometry":{"type":"Polygon","coordinates":"oops"}}`,
	}, ",") + `]}`
	rep, err := s.Import(e.A, []byte(bad), false)
	var rej *tabular.Rejected
	if !asRejected(err, &rej) {
		t.Fatalf("accepted: %v", err)
	}
	b, _ := json.Marshal(rep.Problems)
	for _, want := range []string{"not closed", "outside China", "Polygon or MultiPolygon", "14 digits", "parent grid 53230100100100", `"row":6`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q: %s", want, b)
		}
	}
	if g, _ := s.FindGrids(e.A, grids.Filter{}); len(g) != 0 {
		t.Fatalf("a rejected import wrote %d grids", len(g))
	}
	if _, err := s.Import(e.A, []byte(`{"type":"Feature"}`), false); !errs.Is(err, errs.Invalid) {
		t.Fatalf("not a collection: %v", err)
	}
}

func TestLevelOf(t *testing.T) {
	for code, want := range map[string]grids.Level{"53230100100000": grids.Street, "53230100100100": grids.Community, "53230100100101": grids.Unit} {
		if got, _, err := grids.LevelOf(code, "532301"); err != nil || got != want {
			t.Errorf("LevelOf(%s) = %s, %v", code, got, err)
		}
	}
	for _, bad := range []string{"53230100000000", "53230100100001", "5323010010010x", "53232900100101"} {
		if _, _, err := grids.LevelOf(bad, "532301"); err == nil {
			t.Errorf("LevelOf(%s) accepted", bad)
		}
	}
}

// TestResolveSeesWritesAtOnce checks the cached grid index: resolutions reuse it, and a write
// through the Service that owns it (the one the composition root shares with the API, the
// console and the case loop) is seen by the next resolution, not IndexTTL later.
func TestResolveSeesWritesAtOnce(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		// One Service per process writes and resolves (the composition root shares its Index).
		writer := grids.NewService(e.Store, nil)
		reader := writer
		if _, err := writer.Import(e.A, []byte(SampleGrids()), false); err != nil {
			t.Fatal(err)
		}
		res, err := reader.Resolve(e.A, 101.505, 25.005)
		if err != nil || res.Responsibility != nil {
			t.Fatalf("before: %+v %v", res, err)
		}
		if _, err := writer.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R1", Name: "一", Units: []string{"53230100100101"}}); err != nil {
			t.Fatal(err)
		}
		if res, _ = reader.Resolve(e.A, 101.505, 25.005); res.Responsibility == nil || res.Responsibility.Code != "R1" {
			t.Fatalf("after assigning R1: %+v", res)
		}
		res.Unit.Name = "changed by the caller" // a copy: the index is not changed
		if res, _ = reader.Resolve(e.A, 101.505, 25.005); res.Unit.Name != "鹿城一号网格" {
			t.Fatalf("the caller changed the cached grid: %q", res.Unit.Name)
		}
		if err := writer.DeleteResponsibility(e.A, "R1"); err != nil {
			t.Fatal(err)
		}
		if res, _ = reader.Resolve(e.A, 101.505, 25.005); res.Responsibility != nil {
			t.Fatalf("after deleting R1: %+v", res.Responsibility)
		}
		// A refused write changes nothing, and the next resolution still answers.
		if _, err := writer.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R2", Name: "二", Units: []string{"53230100100100"}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("community as unit: %v", err)
		}
		if res, err = reader.Resolve(e.A, 101.505, 25.005); err != nil || res.Unit.Code != "53230100100101" || res.Responsibility != nil {
			t.Fatalf("after a refused write: %+v %v", res, err)
		}
	})
}

// TestDeletedInspectorLeavesTheIndex: deleting a staff member clears them as a responsibility
// grid's inspector (a foreign key), and the cached index forgets them at once.
func TestDeletedInspectorLeavesTheIndex(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := grids.NewService(e.Store, nil)
		o := org.NewService(e.Store, nil, s.Index())
		if _, err := s.Import(e.A, []byte(SampleGrids()), false); err != nil {
			t.Fatal(err)
		}
		st, err := o.CreateStaff(e.A, org.StaffInput{Name: "监督员", Posts: []org.Post{"inspector"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R1", Name: "一", InspectorID: &st.ID, Units: []string{"53230100100101"}}); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Resolve(e.A, 101.505, 25.005); res.InspectorID != st.ID {
			t.Fatalf("inspector %q, want %s", res.InspectorID, st.ID)
		}
		if err := o.DeleteStaff(e.A, st.ID); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Resolve(e.A, 101.505, 25.005); res.InspectorID != "" || res.Responsibility == nil {
			t.Fatalf("after deleting the inspector: %+v", res)
		}
	})
}
