package org

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/msg"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it). Every change the
// service makes is audited on the tenant of ctx, right after it commits.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Service keeps tenants' departments and staff.
type Service struct {
	gate     Gate
	now      func() time.Time
	watchers []StaffWatcher
}

// StaffWatcher keeps something derived from a tenant's staff and is told to drop it when a staff
// member is deleted (grids.Index: the responsibility grids they inspected lose their inspector).
type StaffWatcher interface {
	Forget(tenant uuid.UUID)
}

// NewService returns a Service over gate that tells watchers of deleted staff.
func NewService(gate Gate, now func() time.Time, watchers ...StaffWatcher) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{gate: gate, now: now, watchers: watchers}
}

// Department is a unit that handles cases, at level 1 to 3.
type Department struct {
	bun.BaseModel `bun:"table:departments"`
	ID            string    `bun:"id,pk" json:"id"`
	Code          string    `bun:"code" json:"code"`
	Name          string    `bun:"name" json:"name"`
	ParentID      *string   `bun:"parent_id" json:"parent_id"`
	Level         int       `bun:"level" json:"level"`
	Phone         string    `bun:"phone" json:"phone"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updated_at"`
}

// Post is a post in the case loop.
type Post string

// The posts of the case loop (GB/T 30428.8).
const (
	Inspector  Post = "inspector"  // 监督员
	Acceptor   Post = "acceptor"   // 受理员
	ShiftLead  Post = "shift_lead" // 值班长
	Dispatcher Post = "dispatcher" // 派遣员
	Handler    Post = "handler"    // 处置人员
	Leader     Post = "leader"     // 领导
)

// Posts lists every post.
var Posts = []Post{Inspector, Acceptor, ShiftLead, Dispatcher, Handler, Leader}

// Staff is a person working in the tenant's case loop.
type Staff struct {
	bun.BaseModel `bun:"table:staff"`
	ID            string    `bun:"id,pk" json:"id"`
	IdentityID    *string   `bun:"identity_id" json:"identity_id"`
	Name          string    `bun:"name" json:"name"`
	Phone         string    `bun:"phone" json:"phone"`
	DepartmentID  *string   `bun:"department_id" json:"department_id"`
	PostsText     string    `bun:"posts" json:"-"`
	Posts         []Post    `bun:"-" json:"posts"`
	Active        bool      `bun:"active" json:"active"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updated_at"`
}

// Holds reports whether the staff member holds post p.
func (s *Staff) Holds(p Post) bool { return slices.Contains(s.Posts, p) }

func (s *Staff) decode() {
	s.Posts = []Post{}
	for _, p := range strings.Split(s.PostsText, ",") {
		if p != "" {
			s.Posts = append(s.Posts, Post(p))
		}
	}
}

func newID() string { return uuid.NewString() }

func validCode(s string) bool {
	return s != "" && len(s) <= 32 && strings.Trim(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.") == ""
}

// DepartmentInput creates or changes a department.
type DepartmentInput struct {
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	ParentID *string `json:"parent_id"`
	Phone    string  `json:"phone"`
}

func (in *DepartmentInput) check() error {
	in.Code, in.Name, in.Phone = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone)
	if !validCode(in.Code) {
		return errs.Field("code", msgDepartmentCodeLettersDigitsDots)
	}
	if in.Name == "" || len([]rune(in.Name)) > 100 {
		return errs.Field("name", msgDepartmentNeedsNameMostCharacters)
	}
	if len(in.Phone) > 32 {
		return errs.Field("phone", msgPhoneNumberMostCharacters)
	}
	if in.ParentID != nil && *in.ParentID == "" {
		in.ParentID = nil
	}
	return nil
}

// levelUnder returns the level of a department under parent, refusing a fourth level and cycles.
func levelUnder(ctx context.Context, db bun.IDB, parent *string, self string) (int, error) {
	if parent == nil {
		return 1, nil
	}
	var p Department
	if err := db.NewSelect().Model(&p).Where("id = ?", *parent).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return 0, errs.Field("parent_id", msgNoDepartment, textutil.Truncate(*parent, 40))
		}
		return 0, err
	}
	for a := &p; ; {
		if a.ID == self {
			return 0, errs.Field("parent_id", msgDepartmentCannotPlacedUnderItself)
		}
		if a.ParentID == nil {
			break
		}
		var next Department
		if err := db.NewSelect().Model(&next).Where("id = ?", *a.ParentID).Scan(ctx); err != nil {
			return 0, err
		}
		a = &next
	}
	if p.Level >= 3 {
		return 0, errs.Field("parent_id", msgDepartmentsHaveMostThreeLevels, p.Name)
	}
	return p.Level + 1, nil
}

// CreateDepartment adds a department (audited as department.create, with the input as given).
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (*Department, error) {
	given := in
	if err := in.check(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	d := &Department{ID: newID(), Code: in.Code, Name: in.Name, ParentID: in.ParentID, Phone: in.Phone, CreatedAt: now, UpdatedAt: now}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var err error
		if d.Level, err = levelUnder(ctx, db, d.ParentID, d.ID); err != nil {
			return err
		}
		_, err = db.NewInsert().Model(d).Exec(ctx)
		return err
	})
	if errs.Is(err, errs.Conflict) {
		return nil, errs.Wrap(err, errs.Conflict, msgDepartmentCodeNameAlreadyExists, in.Code, in.Name)
	}
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "department.create", d.ID, given); err != nil {
		return nil, err
	}
	return d, nil
}

// UpdateDepartment changes a department (audited as department.update, with the input as
// given). Moving it must keep its sub-departments within three levels.
func (s *Service) UpdateDepartment(ctx context.Context, id string, in DepartmentInput) (*Department, error) {
	given := in
	if err := in.check(); err != nil {
		return nil, err
	}
	var d Department
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&d).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, msgNoDepartment, id)
		}
		level, err := levelUnder(ctx, db, in.ParentID, d.ID)
		if err != nil {
			return err
		}
		var depth int
		if depth, err = subtreeDepth(ctx, db, d.ID); err != nil {
			return err
		}
		if level+depth > 3 {
			return errs.Field("parent_id", msgMovingThereWouldPutSub, d.Name)
		}
		d.Code, d.Name, d.ParentID, d.Phone, d.Level, d.UpdatedAt = in.Code, in.Name, in.ParentID, in.Phone, level, s.now().UTC()
		if _, err := db.NewUpdate().Model(&d).WherePK().Exec(ctx); err != nil {
			return err
		}
		return relevel(ctx, db, d.ID, level)
	})
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "department.update", d.ID, given); err != nil {
		return nil, err
	}
	return &d, nil
}

// subtreeDepth is how many levels hang below id (0 for a leaf).
func subtreeDepth(ctx context.Context, db bun.IDB, id string) (int, error) {
	var kids []string
	if err := db.NewSelect().Table("departments").Column("id").Where("parent_id = ?", id).Scan(ctx, &kids); err != nil {
		return 0, err
	}
	max := 0
	for _, k := range kids {
		d, err := subtreeDepth(ctx, db, k)
		if err != nil {
			return 0, err
		}
		if d+1 > max {
			max = d + 1
		}
	}
	return max, nil
}

func relevel(ctx context.Context, db bun.IDB, id string, level int) error {
	var kids []string
	if err := db.NewSelect().Table("departments").Column("id").Where("parent_id = ?", id).Scan(ctx, &kids); err != nil {
		return err
	}
	for _, k := range kids {
		if _, err := db.NewUpdate().Table("departments").Set("level = ?", level+1).Where("id = ?", k).Exec(ctx); err != nil {
			return err
		}
		if err := relevel(ctx, db, k, level+1); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDepartment removes a department without sub-departments, staff or standards (audited as
// department.delete).
func (s *Service) DeleteDepartment(ctx context.Context, id string) error {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r, err := db.NewDelete().TableExpr("departments").Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoDepartment, textutil.Truncate(id, 40))
		}
		return nil
	})
	if errs.Is(err, errs.Invalid) {
		return errs.Wrap(err, errs.Conflict, msgDepartmentStillHasSubDepartments)
	}
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "department.delete", id, nil)
}

// FindDepartments returns every department, by level and code.
func (s *Service) FindDepartments(ctx context.Context) ([]Department, error) {
	out := []Department{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&out).Order("level", "code").Scan(ctx)
	})
	return out, err
}

// FindDepartmentByID returns one department.
func (s *Service) FindDepartmentByID(ctx context.Context, id string) (*Department, error) {
	var d Department
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return notFound(db.NewSelect().Model(&d).Where("id = ?", id).Scan(ctx), msgNoDepartment, id)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// DepartmentKeys maps each department's code and name to its id, for imports that name
// departments (the 立结案标准 table).
func (s *Service) DepartmentKeys(ctx context.Context) (map[string]string, error) {
	ds, err := s.FindDepartments(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, 2*len(ds))
	for _, d := range ds {
		out[d.Code] = d.ID
		out[d.Name] = d.ID
	}
	return out, nil
}

// StaffInput creates or changes a staff member.
type StaffInput struct {
	IdentityID   *string `json:"identity_id"`
	Name         string  `json:"name"`
	Phone        string  `json:"phone"`
	DepartmentID *string `json:"department_id"`
	Posts        []Post  `json:"posts"`
	Active       *bool   `json:"active"`
}

func (in *StaffInput) check() (string, error) {
	in.Name, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone)
	if in.Name == "" || len([]rune(in.Name)) > 100 {
		return "", errs.Field("name", msgStaffMemberNeedsNameMost)
	}
	if len(in.Phone) > 32 {
		return "", errs.Field("phone", msgPhoneNumberMostCharacters)
	}
	if in.IdentityID != nil {
		if *in.IdentityID == "" {
			in.IdentityID = nil
		} else if _, err := uuid.Parse(*in.IdentityID); err != nil {
			return "", errs.Field("identity_id", msgIdentityIdUuid)
		}
	}
	if in.DepartmentID != nil && *in.DepartmentID == "" {
		in.DepartmentID = nil
	}
	var posts []string
	for _, p := range in.Posts {
		if !slices.Contains(Posts, p) {
			return "", errs.Field("posts", msgPostNotOneInspectorAcceptor, textutil.Truncate(string(p), 20))
		}
		if !slices.Contains(posts, string(p)) {
			posts = append(posts, string(p))
		}
	}
	if slices.Contains(in.Posts, Handler) && in.DepartmentID == nil {
		return "", errs.Field("department_id", msgHandlerBelongsDepartment)
	}
	slices.Sort(posts)
	return strings.Join(posts, ","), nil
}

func checkDepartment(ctx context.Context, db bun.IDB, id *string) error {
	if id == nil {
		return nil
	}
	n, err := db.NewSelect().Table("departments").Where("id = ?", *id).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("department_id", msgNoDepartment, textutil.Truncate(*id, 40))
	}
	return nil
}

// CreateStaff adds a staff member (audited as staff.create, with their name and posts).
func (s *Service) CreateStaff(ctx context.Context, in StaffInput) (*Staff, error) {
	posts, err := in.check()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	st := &Staff{ID: newID(), IdentityID: in.IdentityID, Name: in.Name, Phone: in.Phone, DepartmentID: in.DepartmentID, PostsText: posts, Active: in.Active == nil || *in.Active, CreatedAt: now, UpdatedAt: now}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := checkDepartment(ctx, db, in.DepartmentID); err != nil {
			return err
		}
		_, err := db.NewInsert().Model(st).Exec(ctx)
		return err
	})
	if errs.Is(err, errs.Conflict) {
		return nil, errs.Wrap(err, errs.Conflict, msgIdentityAlreadyStaffMemberHere)
	}
	if err != nil {
		return nil, err
	}
	st.decode()
	if err := s.auditStaff(ctx, "staff.create", st); err != nil {
		return nil, err
	}
	return st, nil
}

// UpdateStaff changes a staff member (audited as staff.update, with their name and posts).
func (s *Service) UpdateStaff(ctx context.Context, id string, in StaffInput) (*Staff, error) {
	posts, err := in.check()
	if err != nil {
		return nil, err
	}
	var st Staff
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&st).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, msgNoStaffMember, id)
		}
		if err := checkDepartment(ctx, db, in.DepartmentID); err != nil {
			return err
		}
		st.IdentityID, st.Name, st.Phone, st.DepartmentID, st.PostsText, st.UpdatedAt = in.IdentityID, in.Name, in.Phone, in.DepartmentID, posts, s.now().UTC()
		if in.Active != nil {
			st.Active = *in.Active
		}
		_, err := db.NewUpdate().Model(&st).WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	st.decode()
	if err := s.auditStaff(ctx, "staff.update", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (s *Service) auditStaff(ctx context.Context, action string, st *Staff) error {
	return s.gate.AuditTenant(ctx, action, st.ID, map[string]any{"name": st.Name, "posts": st.Posts})
}

// DeleteStaff removes a staff member (responsibility grids they covered lose their inspector,
// so the watchers, the grid index among them, forget the tenant); audited as staff.delete.
func (s *Service) DeleteStaff(ctx context.Context, id string) error {
	if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
		for _, w := range s.watchers {
			defer w.Forget(sc.Tenant.ID)
		}
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r, err := db.NewDelete().TableExpr("staff").Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoStaffMember, textutil.Truncate(id, 40))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "staff.delete", id, nil)
}

// StaffFilter selects staff.
type StaffFilter struct {
	Post         Post
	DepartmentID string
}

// FindStaff returns the staff matching f, by name.
func (s *Service) FindStaff(ctx context.Context, f StaffFilter) ([]Staff, error) {
	out := []Staff{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&out).Order("name", "id")
		if f.DepartmentID != "" {
			q = q.Where("department_id = ?", f.DepartmentID)
		}
		return q.Scan(ctx)
	})
	kept := out[:0]
	for i := range out {
		out[i].decode()
		if f.Post == "" || out[i].Holds(f.Post) {
			kept = append(kept, out[i])
		}
	}
	return kept, err
}

// FindStaffByID returns one staff member.
func (s *Service) FindStaffByID(ctx context.Context, id string) (*Staff, error) {
	var st Staff
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return notFound(db.NewSelect().Model(&st).Where("id = ?", id).Scan(ctx), msgNoStaffMember, id)
	})
	if err != nil {
		return nil, err
	}
	st.decode()
	return &st, nil
}

func notFound(err error, what *msg.Message, id string) error {
	if errs.Is(dbx.Translate(err), errs.NotFound) {
		return errs.E(errs.NotFound, what, textutil.Truncate(id, 40))
	}
	return err
}
