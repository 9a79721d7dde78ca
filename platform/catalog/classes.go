package catalog

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/uptrace/bun"
)

// Gate is what the catalog needs of the control plane (tenants.Store satisfies it): the tenant
// gate, the audit log (every change the service makes is audited on the tenant of ctx, right
// after it commits), and the registry, to find a county's prefecture.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
	FindTenantByID(ctx context.Context, id uuid.UUID) (*tenants.Tenant, error)
}

// Directory names the tenant's departments: code and name → id (org.Service satisfies it).
type Directory interface {
	DepartmentKeys(ctx context.Context) (map[string]string, error)
}

// Locator finds the unit grid of each point, "" for none (grids.Service satisfies it).
type Locator interface {
	LocateUnits(ctx context.Context, pts []orb.Point) ([]string, error)
}

// Service keeps the catalog, the standards and the component inventory of tenants.
type Service struct {
	gate    Gate
	entries *Entries
	dirs    Directory
	grids   Locator
	now     func() time.Time
}

// NewService returns a Service. dirs and grids are consulted by imports before their write
// transaction (each in its own read transaction; the database's foreign keys still guard the
// write).
func NewService(gate Gate, dirs Directory, grids Locator, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	es := NewEntries()
	return &Service{gate: forgetting{gate, es}, entries: es, dirs: dirs, grids: grids, now: now}
}

// Entries is the cache of looked-up classes this Service keeps fresh: share it with whoever
// looks classes up in a transaction of its own (the case loop), so that they see this Service's
// writes at once.
func (s *Service) Entries() *Entries { return s.entries }

// Kind is components (部件) or events (事件).
type Kind string

// The two kinds of class.
const (
	Component Kind = "component" // 部件
	Event     Kind = "event"     // 事件
)

// ParseKind reads a kind in English or Chinese.
func ParseKind(s string) (Kind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "component", "部件", "部件类":
		return Component, true
	case "event", "事件", "事件类":
		return Event, true
	}
	return "", false
}

// Origin says where a class comes from.
type Origin string

// The origins of a class.
const (
	National   Origin = "national"   // ref.catalog_classes, GB/T 30428.2
	Prefecture Origin = "prefecture" // the prefecture's extensions, copied in by a sync
	Own        Origin = "own"        // the tenant's own extension
)

// Class is a major (2-digit code) or minor (4-digit code: major + minor) class.
type Class struct {
	Kind      Kind   `bun:"kind" json:"kind"`
	Code      string `bun:"code" json:"code"`
	MajorCode string `bun:"major_code" json:"major_code"`
	Level     string `bun:"level" json:"level"`
	NameZH    string `bun:"name_zh" json:"name_zh"`
	NameEN    string `bun:"name_en" json:"name_en,omitempty"`
	// CodeStatus is "confirmed" when a cited source (Source) gives the code, "provisional"
	// otherwise; extension classes are the tenant's own and always "local".
	CodeStatus string    `bun:"code_status" json:"code_status"`
	Source     string    `bun:"source" json:"source,omitempty"`
	Origin     Origin    `bun:"origin" json:"origin"`
	UpdatedAt  time.Time `bun:"updated_at" json:"-"`
}

type extRow struct {
	bun.BaseModel `bun:"table:catalog_classes"`
	Kind          Kind      `bun:"kind,pk"`
	Code          string    `bun:"code,pk"`
	MajorCode     string    `bun:"major_code"`
	NameZH        string    `bun:"name_zh"`
	NameEN        string    `bun:"name_en"`
	Origin        Origin    `bun:"origin"`
	Public        bool      `bun:"public"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

func (r extRow) class() Class {
	level := "minor"
	if len(r.Code) == 2 {
		level = "major"
	}
	return Class{Kind: r.Kind, Code: r.Code, MajorCode: r.MajorCode, Level: level, NameZH: r.NameZH, NameEN: r.NameEN, CodeStatus: "local", Origin: r.Origin, UpdatedAt: r.UpdatedAt}
}

// ClassFilter selects classes; empty fields match all.
type ClassFilter struct {
	Kind  Kind
	Level string
	Major string
}

func (f ClassFilter) match(c Class) bool {
	return (f.Kind == "" || c.Kind == f.Kind) && (f.Level == "" || c.Level == f.Level) && (f.Major == "" || c.MajorCode == f.Major)
}

// classesIn returns the national classes and the tenant's extensions, by kind and code.
func classesIn(ctx context.Context, db bun.IDB) ([]Class, error) {
	var out []Class
	if err := db.NewSelect().TableExpr("ref.catalog_classes").
		ColumnExpr("kind, code, major_code, level, name_zh, name_en, code_status, source").
		ColumnExpr("'national' AS origin").Scan(ctx, &out); err != nil {
		return nil, err
	}
	var ext []extRow
	if err := db.NewSelect().Model(&ext).Scan(ctx); err != nil {
		return nil, err
	}
	for _, r := range ext {
		out = append(out, r.class())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// classIn finds one class the way classesIn would list it (a tenant's extension of a code wins
// over the national class), with two indexed lookups instead of reading the whole catalog: it is
// on the path of every case report.
func classIn(ctx context.Context, db bun.IDB, kind Kind, code string) (Class, bool, error) {
	var ext []extRow
	if err := db.NewSelect().Model(&ext).Where("kind = ? AND code = ?", kind, code).Limit(1).Scan(ctx); err != nil {
		return Class{}, false, err
	}
	if len(ext) == 1 {
		return ext[0].class(), true, nil
	}
	var out []Class
	if err := db.NewSelect().TableExpr("ref.catalog_classes").
		ColumnExpr("kind, code, major_code, level, name_zh, name_en, code_status, source").
		ColumnExpr("'national' AS origin").Where("kind = ? AND code = ?", kind, code).Limit(1).Scan(ctx, &out); err != nil {
		return Class{}, false, err
	}
	if len(out) == 0 {
		return Class{}, false, nil
	}
	return out[0], true, nil
}

func classIndex(cs []Class) map[Kind]map[string]Class {
	m := map[Kind]map[string]Class{Component: {}, Event: {}}
	for _, c := range cs {
		m[c.Kind][c.Code] = c
	}
	return m
}

// FindClasses returns the classes a tenant works with: national, prefecture and own.
func (s *Service) FindClasses(ctx context.Context, f ClassFilter) ([]Class, error) {
	var out []Class
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		all, err := classesIn(ctx, db)
		for _, c := range all {
			if f.match(c) {
				out = append(out, c)
			}
		}
		return err
	})
	if out == nil {
		out = []Class{}
	}
	return out, err
}

// FindClass returns one class by kind and code.
func (s *Service) FindClass(ctx context.Context, kind Kind, code string) (*Class, error) {
	cs, err := s.FindClasses(ctx, ClassFilter{Kind: kind})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Code == code {
			return &c, nil
		}
	}
	return nil, errs.E(errs.NotFound, msgNoClass, kind, textutil.Truncate(code, 10))
}

// ClassInput creates a tenant's own extension class.
type ClassInput struct {
	Kind   Kind   `json:"kind"`
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
}

func digits(s string, n int) bool { return len(s) == n && strings.Trim(s, "0123456789") == "" }

// CreateClass adds an extension class: a major (2 digits) or a minor (4 digits, under an
// existing major). Its code must not be taken by a national, prefecture or own class. It is
// audited as catalog.class.create (target kind/code), with the input as given.
func (s *Service) CreateClass(ctx context.Context, in ClassInput) (*Class, error) {
	given := in
	in.Code, in.NameZH, in.NameEN = strings.TrimSpace(in.Code), strings.TrimSpace(in.NameZH), strings.TrimSpace(in.NameEN)
	if in.Kind != Component && in.Kind != Event {
		return nil, errs.Field("kind", msgKindComponentEvent)
	}
	if !digits(in.Code, 2) && !digits(in.Code, 4) {
		return nil, errs.Field("code", msgClassCodeDigitsMajorClass)
	}
	if in.NameZH == "" || len([]rune(in.NameZH)) > 50 || len(in.NameEN) > 100 {
		return nil, errs.Field("name_zh", msgClassNeedsChineseNameMost)
	}
	r := extRow{Kind: in.Kind, Code: in.Code, MajorCode: in.Code[:2], NameZH: in.NameZH, NameEN: in.NameEN, Origin: Own, UpdatedAt: s.now().UTC()}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		all, err := classesIn(ctx, db)
		if err != nil {
			return err
		}
		idx := classIndex(all)
		if c, ok := idx[in.Kind][in.Code]; ok {
			return errs.E(errs.Conflict, msgClassAlready, in.Kind, in.Code, c.NameZH, c.Origin)
		}
		if len(in.Code) == 4 {
			if _, ok := idx[in.Kind][in.Code[:2]]; !ok {
				return errs.Field("code", msgThereNoMajorClassPut, in.Kind, in.Code[:2], in.Code)
			}
		}
		_, err = db.NewInsert().Model(&r).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	c := r.class()
	if err := s.gate.AuditTenant(ctx, "catalog.class.create", string(c.Kind)+"/"+c.Code, given); err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteClass removes one of the tenant's own classes that nothing uses; audited as
// catalog.class.delete (target kind/code).
func (s *Service) DeleteClass(ctx context.Context, kind Kind, code string) error {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var used int64
		for _, q := range []*bun.SelectQuery{
			db.NewSelect().Table("standards").Where("kind = ? AND class_code = ?", kind, code),
			db.NewSelect().Table("catalog_classes").Where("kind = ? AND major_code = ? AND code <> ?", kind, code, code),
		} {
			n, err := q.Count(ctx)
			if err != nil {
				return err
			}
			used += n
		}
		if kind == Component {
			n, err := db.NewSelect().Table("components").Where("class_code = ?", code).Count(ctx)
			if err != nil {
				return err
			}
			used += n
		}
		if used > 0 {
			return errs.E(errs.Conflict, msgClassStillUsedStandardsComponents, textutil.Truncate(code, 10))
		}
		r, err := db.NewDelete().TableExpr("catalog_classes").Where("kind = ? AND code = ? AND origin = 'own'", kind, code).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoOwnClassNationalPrefecture, kind, textutil.Truncate(code, 10))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "catalog.class.delete", string(kind)+"/"+code, nil)
}

// OwnClasses returns the tenant's own extension classes: what a prefecture hands down.
func (s *Service) OwnClasses(ctx context.Context) ([]Class, error) {
	var out []Class
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []extRow
		if err := db.NewSelect().Model(&rows).Where("origin = 'own'").Order("kind", "code").Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.class())
		}
		return nil
	})
	return out, err
}

// SyncFromPrefecture copies the parent prefecture's own extension classes into the tenant of ctx,
// replacing the previous copy, and returns the prefecture and how many classes were copied. The
// prefecture is read with a read-only scope of its own (the county's admin cannot otherwise
// reach it), and only its own extension classes are read. A class whose code the tenant already
// uses for an own class is refused: the county renumbers its own class first. The sync is
// audited on the county as catalog.sync, naming the prefecture.
func (s *Service) SyncFromPrefecture(ctx context.Context) (*tenants.Tenant, int, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, 0, errs.E(errs.Internal, msgCatalogSyncWithoutTenantScope)
	}
	if sc.Tenant.ParentID == nil {
		return nil, 0, errs.E(errs.Invalid, msgHasNoPrefectureTakeClasses, sc.Tenant.NameZH)
	}
	parent, err := s.gate.FindTenantByID(ctx, *sc.Tenant.ParentID)
	if err != nil {
		return nil, 0, err
	}
	pctx := tenants.WithScope(ctx, &tenants.Scope{Tenant: parent, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true})
	classes, err := s.OwnClasses(pctx)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.syncPrefectureClasses(ctx, classes)
	if err != nil {
		return nil, 0, err
	}
	if err := s.gate.AuditTenant(ctx, "catalog.sync", parent.Slug, map[string]int{"classes": n}); err != nil {
		return nil, 0, err
	}
	return parent, n, nil
}

// syncPrefectureClasses replaces the tenant's copy of its prefecture's extension classes with
// classes.
func (s *Service) syncPrefectureClasses(ctx context.Context, classes []Class) (int, error) {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := checkDropped(ctx, db, classes); err != nil {
			return err
		}
		if _, err := db.NewDelete().TableExpr("catalog_classes").Where("origin = 'prefecture'").Exec(ctx); err != nil {
			return err
		}
		all, err := classesIn(ctx, db)
		if err != nil {
			return err
		}
		idx := classIndex(all)
		var clash []string
		rows := make([]extRow, 0, len(classes))
		now := s.now().UTC()
		for _, c := range classes {
			if have, ok := idx[c.Kind][c.Code]; ok {
				clash = append(clash, string(c.Kind)+" "+c.Code+" ("+have.NameZH+")")
				continue
			}
			rows = append(rows, extRow{Kind: c.Kind, Code: c.Code, MajorCode: c.MajorCode, NameZH: c.NameZH, NameEN: c.NameEN, Origin: Prefecture, UpdatedAt: now})
		}
		if len(clash) > 0 {
			slices.Sort(clash)
			return errs.E(errs.Conflict, msgPrefectureClassesClashTenantOwn, strings.Join(clash, ", "))
		}
		if len(rows) == 0 {
			return nil
		}
		_, err = db.NewInsert().Model(&rows).Exec(ctx)
		return err
	})
	return len(classes), err
}

// checkDropped refuses a sync that would drop a prefecture class the tenant's standards or
// components still use.
func checkDropped(ctx context.Context, db bun.IDB, incoming []Class) error {
	var old []extRow
	if err := db.NewSelect().Model(&old).Where("origin = 'prefecture'").Scan(ctx); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, c := range incoming {
		keep[string(c.Kind)+"/"+c.Code] = true
	}
	var used []string
	for _, r := range old {
		if keep[string(r.Kind)+"/"+r.Code] {
			continue
		}
		n, err := db.NewSelect().Table("standards").Where("kind = ? AND class_code = ?", r.Kind, r.Code).Count(ctx)
		if err != nil {
			return err
		}
		if r.Kind == Component {
			m, err := db.NewSelect().Table("components").Where("class_code = ?", r.Code).Count(ctx)
			if err != nil {
				return err
			}
			n += m
		}
		if n > 0 {
			used = append(used, string(r.Kind)+" "+r.Code+" ("+r.NameZH+")")
		}
	}
	if len(used) > 0 {
		return errs.E(errs.Conflict, msgPrefectureNoLongerHasClasses, strings.Join(used, ", "))
	}
	return nil
}

// forgetting is the gate as a Service uses it: a write transaction drops every cached entry when
// it ends, committed or not.
type forgetting struct {
	Gate
	entries *Entries
}

func (f forgetting) Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error {
	if mode == tenants.Write {
		defer f.entries.c.Purge()
	}
	return f.Gate.Tx(ctx, mode, fn)
}
