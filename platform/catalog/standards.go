package catalog

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/cache"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Standard is one row of the 立结案标准: for a minor class and a filing condition, the
// responsible department, the time limit and the closing condition.
type Standard struct {
	bun.BaseModel    `bun:"table:standards"`
	ID               string         `bun:"id,pk" json:"id"`
	Kind             Kind           `bun:"kind" json:"kind"`
	ClassCode        string         `bun:"class_code" json:"class_code"`
	FilingCondition  string         `bun:"filing_condition" json:"filing_condition"`
	DepartmentID     *string        `bun:"department_id" json:"department_id"`
	LimitAmount      float64        `bun:"limit_amount" json:"-"`
	LimitUnit        calendar.Unit  `bun:"limit_unit" json:"-"`
	Limit            calendar.Limit `bun:"-" json:"limit"`
	ClosingCondition string         `bun:"closing_condition" json:"closing_condition"`
	LegalBasis       string         `bun:"legal_basis" json:"legal_basis,omitempty"`
	UpdatedAt        time.Time      `bun:"updated_at" json:"updated_at"`
}

func (s *Standard) decode() { s.Limit = calendar.Limit{Amount: s.LimitAmount, Unit: s.LimitUnit} }

// StandardFilter selects standards; empty fields match all.
type StandardFilter struct {
	Kind      Kind
	ClassCode string
}

// FindStandards returns the standards matching f, by kind, class and condition.
func (s *Service) FindStandards(ctx context.Context, f StandardFilter) ([]Standard, error) {
	out := []Standard{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&out).Order("kind", "class_code", "filing_condition")
		if f.Kind != "" {
			q = q.Where("kind = ?", f.Kind)
		}
		if f.ClassCode != "" {
			q = q.Where("class_code = ?", f.ClassCode)
		}
		return q.Scan(ctx)
	})
	for i := range out {
		out[i].decode()
	}
	return out, err
}

// Entry is a minor class with its standards: what the case module needs to file a case.
type Entry struct {
	Class     Class      `json:"class"`
	Standards []Standard `json:"standards"`
}

// Lookup returns a minor class and its standards (one per filing condition). A class with no
// standard is returned with none: filing it needs a limit set by hand.
func (s *Service) Lookup(ctx context.Context, kind Kind, code string) (*Entry, error) {
	var e *Entry
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		e, err = s.entries.LookupIn(ctx, db, kind, code)
		return err
	})
	return e, err
}

// EntryTTL is how long a class and its standards, once looked up, are reused for reports before
// they are read again. Writes through a catalog.Service drop every cached entry when they finish
// (a prefecture's classes reach its counties); writes by another replica are seen within EntryTTL.
const EntryTTL = 5 * time.Second

type entryKey struct {
	tenant uuid.UUID
	kind   Kind
	code   string
}

// Entries holds recently looked-up entries of every tenant. The Service that writes classes and
// standards owns one (Service.Entries) and drops them all after each write.
type Entries struct {
	c *cache.Cache[entryKey, *Entry]
}

// NewEntries returns an empty Entries.
func NewEntries() *Entries { return &Entries{c: cache.New[entryKey, *Entry](4096, EntryTTL)} }

// LookupIn is Lookup inside a transaction the caller already holds through the gate. Entries are
// reused for EntryTTL; the caller gets its own copy.
func (x *Entries) LookupIn(ctx context.Context, db bun.IDB, kind Kind, code string) (*Entry, error) {
	load := func(ctx context.Context) (*Entry, error) { return lookupIn(ctx, db, kind, code) }
	var e *Entry
	var err error
	if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
		e, err = x.c.Get(ctx, entryKey{sc.Tenant.ID, kind, code}, load)
	} else {
		e, err = load(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &Entry{Class: e.Class, Standards: slices.Clone(e.Standards)}, nil
}

func lookupIn(ctx context.Context, db bun.IDB, kind Kind, code string) (*Entry, error) {
	c, ok, err := classIn(ctx, db, kind, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.E(errs.NotFound, msgNoClass, kind, textutil.Truncate(code, 10))
	}
	if c.Level != "minor" {
		return nil, errs.Field("code", msgMajorClassCasesFiledUnder, code)
	}
	st := []Standard{}
	if err := db.NewSelect().Model(&st).Where("kind = ? AND class_code = ?", kind, code).Order("filing_condition").Scan(ctx); err != nil {
		return nil, err
	}
	for i := range st {
		st[i].decode()
	}
	return &Entry{Class: c, Standards: st}, nil
}

// FindStandardByID returns one standard.
func (s *Service) FindStandardByID(ctx context.Context, id string) (*Standard, error) {
	var st Standard
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&st).Where("id = ?", id).Scan(ctx)
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoStandard, textutil.Truncate(id, 40))
	}
	if err != nil {
		return nil, err
	}
	st.decode()
	return &st, nil
}

var standardColumns = []tabular.Column{
	{Name: "kind", Aliases: []string{"类型", "类别", "部件/事件", "案件类型"}, Required: true},
	{Name: "class_code", Aliases: []string{"小类代码", "小类编码", "小类编号", "代码", "编码"}, Required: true},
	// A class name column (小类名称) may be present; the code decides, since names differ
	// between editions of the standard.
	{Name: "filing_condition", Aliases: []string{"立案条件", "立案标准"}, Required: true},
	{Name: "department", Aliases: []string{"责任部门", "处置部门", "责任单位", "主管部门"}},
	{Name: "time_limit", Aliases: []string{"处置时限", "时限", "结案时限"}, Required: true},
	{Name: "unit", Aliases: []string{"时限单位", "单位", "时限类型"}},
	{Name: "closing_condition", Aliases: []string{"结案条件", "结案标准"}, Required: true},
	{Name: "legal_basis", Aliases: []string{"法律依据", "依据"}},
}

// ImportStandards replaces the tenant's whole 立结案标准 with the table in data (CSV or XLSX;
// headers in Chinese or English: 类型, 小类代码, 立案条件, 责任部门, 处置时限, 时限单位,
// 结案条件, 法律依据). The time limit is a number with the unit in its own column, or both in one
// cell ("2紧急工作时"). Every row is checked — kind, known minor class, department, limit,
// conditions, duplicates — and the table is replaced in one transaction only if all pass; a dry
// run only checks. An applied import is audited as standards.import.
func (s *Service) ImportStandards(ctx context.Context, data []byte, format tabular.Format, dryRun bool) (*tabular.Report, error) {
	t, err := tabular.Read(data, format)
	if err != nil {
		return nil, err
	}
	idx, err := t.Index(standardColumns)
	if err != nil {
		return nil, err
	}
	depts := map[string]string{}
	if s.dirs != nil {
		if depts, err = s.dirs.DepartmentKeys(ctx); err != nil {
			return nil, err
		}
	}
	rep := &tabular.Report{DryRun: dryRun}
	var rows []Standard
	now := s.now().UTC()
	mode := tenants.Write
	if dryRun {
		mode = tenants.Read
	}
	err = s.gate.Tx(ctx, mode, func(ctx context.Context, db bun.IDB) error {
		all, err := classesIn(ctx, db)
		if err != nil {
			return err
		}
		classes := classIndex(all)
		seen := map[string]int{}
		for i, r := range t.Rows {
			n := i + 2
			if tabular.Blank(r) {
				continue
			}
			rep.Rows++
			cell := func(c string) string { return tabular.Cell(r, idx, c) }
			code := cell("class_code")
			kind, ok := ParseKind(cell("kind"))
			if !ok {
				rep.Add(n, "kind", code, msgKindComponentEventNot, textutil.Truncate(cell("kind"), 20))
				continue
			}
			c, ok := classes[kind][code]
			if !ok || c.Level != "minor" {
				kindZH := map[Kind]string{Component: "部件", Event: "事件"}[kind]
				rep.Add(n, "class_code", code, msgNotKnownMinorClassCode, textutil.Truncate(code, 20), kind, kindZH)
				continue
			}
			st := Standard{ID: uuid.NewString(), Kind: kind, ClassCode: code, FilingCondition: cell("filing_condition"),
				ClosingCondition: cell("closing_condition"), LegalBasis: cell("legal_basis"), UpdatedAt: now}
			if st.FilingCondition == "" || len([]rune(st.FilingCondition)) > 500 {
				rep.Add(n, "filing_condition", code, msgFilingConditionRequired)
				continue
			}
			if st.ClosingCondition == "" || len([]rune(st.ClosingCondition)) > 500 {
				rep.Add(n, "closing_condition", code, msgClosingConditionRequired)
				continue
			}
			if len([]rune(st.LegalBasis)) > 1000 {
				rep.Add(n, "legal_basis", code, msgLegalBasisTooLong)
				continue
			}
			lim, col, err := parseLimit(cell("time_limit"), cell("unit"))
			if err != nil {
				rep.AddErr(n, col, code, err)
				continue
			}
			st.LimitAmount, st.LimitUnit = lim.Amount, lim.Unit
			if d := cell("department"); d != "" {
				id, ok := depts[d]
				if !ok {
					rep.Add(n, "department", code, msgNoDepartmentCodeOrName, textutil.Truncate(d, 40))
					continue
				}
				st.DepartmentID = &id
			}
			key := string(kind) + "/" + code + "/" + st.FilingCondition
			if prev, dup := seen[key]; dup {
				rep.Add(n, "filing_condition", code, msgFilingConditionAlreadyGiven, prev, code)
				continue
			}
			seen[key] = n
			rows = append(rows, st)
		}
		if !rep.OK() || dryRun {
			return nil
		}
		if _, err := db.NewDelete().TableExpr("standards").Where("1 = 1").Exec(ctx); err != nil {
			return err
		}
		for i := 0; i < len(rows); i += 200 {
			chunk := rows[i:min(i+200, len(rows))]
			if _, err := db.NewInsert().Model(&chunk).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, rep.Reject()
	}
	rep.Accepted = len(rows)
	rep.Applied = !dryRun
	if rep.Applied {
		if err := s.gate.AuditTenant(ctx, "standards.import", "", rep.AuditDetail()); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// parseLimit reads a limit from its amount cell and unit cell, or from the amount cell alone.
func parseLimit(amount, unit string) (calendar.Limit, string, error) {
	if amount == "" {
		return calendar.Limit{}, "time_limit", errs.Field("time_limit", msgTimeLimitRequired)
	}
	if unit == "" {
		l, err := calendar.ParseLimit(amount)
		return l, "time_limit", err
	}
	a, err := strconv.ParseFloat(strings.TrimSpace(amount), 64)
	if err != nil {
		return calendar.Limit{}, "time_limit", errs.Field("time_limit", msgTimeLimitNotNumber, textutil.Truncate(amount, 20))
	}
	u, err := calendar.ParseUnit(unit)
	if err != nil {
		return calendar.Limit{}, "unit", err
	}
	l := calendar.Limit{Amount: a, Unit: u}
	return l, "time_limit", l.Validate()
}
