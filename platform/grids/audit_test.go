package grids_test

import (
	"testing"

	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/platformtest"
)

// TestGridsAudit: the boundary, responsibility grids and grid names audit their changes on the
// tenant with the targets and details the API and the console always recorded; a refused change
// records nothing.
func TestGridsAudit(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := grids.NewService(e.Store, nil)
		one := func(action, target, detail string) { t.Helper(); e.MustAuditedOnce(t, action, target, detail) }

		if _, err := s.Import(e.A, []byte(SampleGrids()), true); err != nil {
			t.Fatal(err)
		}
		if es := e.MustAudit(t, e.TenantA, "grids.import"); len(es) != 0 {
			t.Fatalf("a dry run was audited: %+v", es)
		}
		if _, err := s.Import(e.A, []byte(SampleGrids()), false); err != nil {
			t.Fatal(err)
		}
		one("grids.import", "", `{"accepted":4,"rows":4}`)
		if _, err := s.RenameGrid(e.A, "53230100100101", " 鹿城甲网格 "); err != nil {
			t.Fatal(err)
		}
		one("grid.rename", "53230100100101", `{"name":"鹿城甲网格"}`)

		if _, err := s.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: " R1 ", Name: "一", Units: []string{"53230100100101", "53230100100101"}}); err != nil {
			t.Fatal(err)
		}
		one("responsibility_grid.put", "R1", `{"name":"一","inspector_id":null,"units":["53230100100101","53230100100101"]}`)
		if err := s.DeleteResponsibility(e.A, "R2"); err == nil {
			t.Fatal("deleted a responsibility grid that does not exist")
		}
		if err := s.DeleteResponsibility(e.A, "R1"); err != nil {
			t.Fatal(err)
		}
		one("responsibility_grid.delete", "R1", `{}`)

		if err := s.DeleteBoundary(e.A); err == nil {
			t.Fatal("deleted a boundary that was never set")
		}
		if len(e.MustAudit(t, e.TenantA, "boundary.delete")) != 0 {
			t.Fatal("a refused delete was audited")
		}
		b, err := s.PutBoundary(e.A, []byte(square(101.5, 25, 0.1)))
		if err != nil {
			t.Fatal(err)
		}
		if es := e.MustAudit(t, e.TenantA, "boundary.put"); len(es) != 1 || es[0].Detail == "{}" || b.AreaM2 <= 0 {
			t.Fatalf("boundary.put: %+v", es)
		}
		if err := s.DeleteBoundary(e.A); err != nil {
			t.Fatal(err)
		}
		one("boundary.delete", "", `{}`)
	})
}
