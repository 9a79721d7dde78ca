package org_test

import (
	"testing"

	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
)

// TestOrgAudit: each change is audited on its tenant with the target and detail the API and the
// console always recorded (a department's input as given, a staff member's name and posts); a
// refused change records nothing.
func TestOrgAudit(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := org.NewService(e.Store, nil)
		one := func(action, target, detail string) { t.Helper(); e.MustAuditedOnce(t, action, target, detail) }

		d, err := s.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: " 市政局 "})
		if err != nil {
			t.Fatal(err)
		}
		one("department.create", d.ID, `{"code":"SZJ","name":" 市政局 ","parent_id":null,"phone":""}`)
		if _, err := s.UpdateDepartment(e.A, d.ID, org.DepartmentInput{Code: "SZJ", Name: "城管局", Phone: "0878"}); err != nil {
			t.Fatal(err)
		}
		one("department.update", d.ID, `{"code":"SZJ","name":"城管局","parent_id":null,"phone":"0878"}`)
		st, err := s.CreateStaff(e.A, org.StaffInput{Name: "张三", Posts: []org.Post{org.Handler}, DepartmentID: &d.ID})
		if err != nil {
			t.Fatal(err)
		}
		one("staff.create", st.ID, `{"name":"张三","posts":["handler"]}`)
		if _, err := s.UpdateStaff(e.A, st.ID, org.StaffInput{Name: "张三丰", Posts: []org.Post{org.Inspector}}); err != nil {
			t.Fatal(err)
		}
		one("staff.update", st.ID, `{"name":"张三丰","posts":["inspector"]}`)
		if err := s.DeleteStaff(e.A, "no-such-id"); err == nil {
			t.Fatal("deleted a staff member that does not exist")
		}
		if len(e.MustAudit(t, e.TenantA, "staff.delete")) != 0 {
			t.Fatal("a refused delete was audited")
		}
		if err := s.DeleteStaff(e.A, st.ID); err != nil {
			t.Fatal(err)
		}
		one("staff.delete", st.ID, `{}`)
		if err := s.DeleteDepartment(e.A, d.ID); err != nil {
			t.Fatal(err)
		}
		one("department.delete", d.ID, `{}`)
	})
}
