package org_test

import (
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestDepartmentsAndStaff(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := org.NewService(e.Store, nil)
		top, err := s.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"})
		if err != nil || top.Level != 1 {
			t.Fatalf("create: %+v %v", top, err)
		}
		mid, _ := s.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ-1", Name: "市政维护所", ParentID: &top.ID})
		low, err := s.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ-1-1", Name: "一班", ParentID: &mid.ID})
		if err != nil || low.Level != 3 {
			t.Fatalf("level 3: %+v %v", low, err)
		}
		if _, err := s.CreateDepartment(e.A, org.DepartmentInput{Code: "X", Name: "四级", ParentID: &low.ID}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("fourth level: %v", err)
		}
		if _, err := s.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "重复"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate code: %v", err)
		}
		if _, err := s.UpdateDepartment(e.A, top.ID, org.DepartmentInput{Code: "SZJ", Name: "市政局", ParentID: &low.ID}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("cycle: %v", err)
		}
		if _, err := s.CreateStaff(e.A, org.StaffInput{Name: "张三", Posts: []org.Post{org.Handler}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("handler without department: %v", err)
		}
		h, err := s.CreateStaff(e.A, org.StaffInput{Name: "张三", Posts: []org.Post{org.Handler, org.Handler}, DepartmentID: &mid.ID})
		if err != nil || len(h.Posts) != 1 || !h.Active {
			t.Fatalf("handler: %+v %v", h, err)
		}
		if _, err := s.CreateStaff(e.A, org.StaffInput{Name: "李四", Posts: []org.Post{org.Inspector, org.Acceptor}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateStaff(e.A, org.StaffInput{Name: "王五", Posts: []org.Post{"boss"}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad post: %v", err)
		}
		if got, _ := s.FindStaff(e.A, org.StaffFilter{Post: org.Inspector}); len(got) != 1 || got[0].Name != "李四" {
			t.Fatalf("inspectors: %+v", got)
		}
		if err := s.DeleteDepartment(e.A, mid.ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("delete a department with staff: %v", err)
		}
		keys, _ := s.DepartmentKeys(e.A)
		if keys["市政局"] != top.ID || keys["SZJ-1"] != mid.ID {
			t.Fatalf("keys: %v", keys)
		}
		// Isolation: B sees none of it; the viewer reads but cannot write.
		if ds, _ := s.FindDepartments(e.B); len(ds) != 0 {
			t.Fatalf("B sees A's departments: %+v", ds)
		}
		if _, err := s.FindDepartmentByID(e.B, top.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B finds A's department: %v", err)
		}
		if ds, err := s.FindDepartments(e.View); err != nil || len(ds) != 3 {
			t.Fatalf("viewer reads: %d %v", len(ds), err)
		}
		if _, err := s.CreateDepartment(e.View, org.DepartmentInput{Code: "V", Name: "V"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer writes: %v", err)
		}
	})
}
