package org

import (
	"context"
	"errors"
	"slices"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// errRolledBack ends an import's transaction without writing: a dry run, or a problem found
// while writing (the writes before it are undone).
var errRolledBack = errors.New("org: import rolled back")

// DepartmentImport is one department of an import: its row in the file (for the report), the
// department it updates (ID; "" updates the department of the same code, or creates one), and
// its parent by code, in the same import or kept already ("" for none; ParentID is not read).
type DepartmentImport struct {
	Row        int
	ID         string
	ParentCode string
	DepartmentInput
}

// ImportDepartments creates and updates departments as CreateDepartment and UpdateDepartment
// do — the same checks, three levels at most, no cycle — parents before their children, all in
// one transaction, adding every problem to rep. Nothing is written when a department has a
// problem, nor on a dry run (rep.DryRun: the writes are made and rolled back, so that the dry run
// finds what the import would). also, when given, runs in the transaction with the saved
// departments in the order of in. Audited as department.import.
func (s *Service) ImportDepartments(ctx context.Context, in []DepartmentImport, rep *tabular.Report, also func(ctx context.Context, db bun.IDB, saved []Department) error) error {
	rep.Rows += len(in)
	byCode, byName := map[string]int{}, map[string]int{}
	ok := make([]bool, len(in))
	for i := range in {
		d := &in[i]
		if err := d.check(); err != nil {
			rep.AddErr(d.Row, fieldOf(err), d.Code, err)
			continue
		}
		if j, dup := byCode[d.Code]; dup {
			rep.Add(d.Row, "code", d.Code, msgDepartmentCodeNameAlreadyExists, d.Code, in[j].Name)
			continue
		}
		if j, dup := byName[d.Name]; dup {
			rep.Add(d.Row, "name", d.Code, msgDepartmentCodeNameAlreadyExists, in[j].Code, d.Name)
			continue
		}
		byCode[d.Code], byName[d.Name], ok[i] = i, i, true
	}
	// Parents first; a cycle within the file is a problem of each of its departments.
	var order []int
	state := make([]int, len(in)) // 0 new, 1 visiting, 2 placed
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		if p, inFile := byCode[in[i].ParentCode]; inFile && in[i].ParentCode != "" && !visit(p) {
			rep.Add(in[i].Row, "parent", in[i].Code, msgDepartmentCannotPlacedUnderItself)
			ok[i] = false
		}
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range in {
		if ok[i] {
			visit(i)
		}
	}
	saved := make([]Department, len(in))
	now := s.now().UTC()
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		ids := map[string]string{} // code → id of the departments written so far
		for _, i := range order {
			if !ok[i] {
				continue
			}
			d := &in[i]
			var cur Department
			var err error
			switch {
			case d.ID != "":
				err = db.NewSelect().Model(&cur).Where("id = ?", d.ID).Scan(ctx)
			default:
				err = db.NewSelect().Model(&cur).Where("code = ?", d.Code).Scan(ctx)
			}
			if err != nil && !errs.Is(notFound(err, msgNoDepartment, d.ID), errs.NotFound) {
				return err
			}
			creating := err != nil
			if creating {
				cur = Department{ID: newID(), CreatedAt: now}
			}
			// The code and the name are unique among the tenant's departments.
			n, err := db.NewSelect().Table("departments").Where("(code = ? OR name = ?) AND id <> ?", d.Code, d.Name, cur.ID).Count(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				rep.Add(d.Row, "code", d.Code, msgDepartmentCodeNameAlreadyExists, d.Code, d.Name)
				continue
			}
			var parent *string
			if d.ParentCode != "" {
				id, done := ids[d.ParentCode]
				if !done {
					if _, inFile := byCode[d.ParentCode]; inFile { // the parent had a problem
						rep.Add(d.Row, "parent", d.Code, msgNoDepartment, textutil.Truncate(d.ParentCode, 40))
						continue
					}
					var found []string
					if err := db.NewSelect().Table("departments").Column("id").Where("code = ?", d.ParentCode).Scan(ctx, &found); err != nil {
						return err
					}
					if len(found) == 0 {
						rep.Add(d.Row, "parent", d.Code, msgNoDepartment, textutil.Truncate(d.ParentCode, 40))
						continue
					}
					id = found[0]
				}
				parent = &id
			}
			level, err := levelUnder(ctx, db, parent, cur.ID)
			if err == nil && !creating {
				var depth int
				if depth, err = subtreeDepth(ctx, db, cur.ID); err == nil && level+depth > 3 {
					err = errs.Field("parent_id", msgMovingThereWouldPutSub, d.Name)
				}
			}
			if errs.Is(err, errs.Invalid) {
				rep.AddErr(d.Row, "parent", d.Code, err)
				continue
			}
			if err != nil {
				return err
			}
			cur.Code, cur.Name, cur.ParentID, cur.Phone, cur.Level, cur.UpdatedAt = d.Code, d.Name, parent, d.Phone, level, now
			if creating {
				_, err = db.NewInsert().Model(&cur).Exec(ctx)
			} else if _, err = db.NewUpdate().Model(&cur).WherePK().Exec(ctx); err == nil {
				err = relevel(ctx, db, cur.ID, level)
			}
			if err != nil {
				return err
			}
			ids[cur.Code], saved[i] = cur.ID, cur
		}
		if !rep.OK() || rep.DryRun {
			return errRolledBack
		}
		if also != nil {
			return also(ctx, db, saved)
		}
		return nil
	})
	return s.finishImport(ctx, "department.import", rep, len(in), err)
}

// finishImport ends an import whose transaction returned err: the problems in row order, and
// the audit of an applied one.
func (s *Service) finishImport(ctx context.Context, action string, rep *tabular.Report, n int, err error) error {
	if err != nil && !errors.Is(err, errRolledBack) {
		return err
	}
	slices.SortStableFunc(rep.Problems, func(a, b tabular.Problem) int { return a.Row - b.Row })
	if !rep.OK() {
		return nil
	}
	rep.Accepted += n
	rep.Applied = !rep.DryRun
	if rep.Applied {
		return s.gate.AuditTenant(ctx, action, "", rep.AuditDetail())
	}
	return nil
}

// fieldOf is the field a coded error names, "" for none.
func fieldOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// StaffImport is one staff member of an import: its row in the file (for the report) and the
// staff member it updates (ID; "" creates one). An import never links an identity: IdentityID is
// not read, and an updated member keeps theirs.
type StaffImport struct {
	Row int
	ID  string
	StaffInput
}

// ImportStaff creates and updates staff members with the checks of CreateStaff and UpdateStaff,
// all in one transaction, adding every problem to rep; nothing is written when one has a
// problem, nor on a dry run. also, when given, runs in the transaction with the saved members in
// the order of in. Audited as staff.import.
func (s *Service) ImportStaff(ctx context.Context, in []StaffImport, rep *tabular.Report, also func(ctx context.Context, db bun.IDB, saved []Staff) error) error {
	rep.Rows += len(in)
	posts := make([]string, len(in))
	ok := make([]bool, len(in))
	for i := range in {
		in[i].IdentityID = nil
		p, err := in[i].check()
		if err != nil {
			rep.AddErr(in[i].Row, fieldOf(err), "", err)
			continue
		}
		posts[i], ok[i] = p, true
	}
	saved := make([]Staff, len(in))
	now := s.now().UTC()
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		for i := range in {
			if !ok[i] {
				continue
			}
			st, creating := Staff{}, true
			if in[i].ID != "" {
				err := db.NewSelect().Model(&st).Where("id = ?", in[i].ID).Scan(ctx)
				if err != nil && !errs.Is(notFound(err, msgNoStaffMember, in[i].ID), errs.NotFound) {
					return err
				}
				creating = err != nil
			}
			if err := checkDepartment(ctx, db, in[i].DepartmentID); errs.Is(err, errs.Invalid) {
				rep.AddErr(in[i].Row, "department", "", err)
				continue
			} else if err != nil {
				return err
			}
			if creating {
				st = Staff{ID: newID(), Active: true, CreatedAt: now}
			}
			st.Name, st.Phone, st.DepartmentID, st.PostsText, st.UpdatedAt = in[i].Name, in[i].Phone, in[i].DepartmentID, posts[i], now
			if in[i].Active != nil {
				st.Active = *in[i].Active
			}
			var err error
			if creating {
				_, err = db.NewInsert().Model(&st).Exec(ctx)
			} else {
				_, err = db.NewUpdate().Model(&st).WherePK().Exec(ctx)
			}
			if err != nil {
				return err
			}
			st.decode()
			saved[i] = st
		}
		if !rep.OK() || rep.DryRun {
			return errRolledBack
		}
		if also != nil {
			return also(ctx, db, saved)
		}
		return nil
	})
	return s.finishImport(ctx, "staff.import", rep, len(in), err)
}
