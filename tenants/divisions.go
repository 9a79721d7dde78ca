package tenants

import (
	"context"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
)

// Level is where a division sits in GB/T 2260. A county-level division is told apart as a
// district (市辖区), a city (县级市) or a county (县, 自治县, 旗, 自治旗 and the few other
// county-level units), because those are the tenant kinds; tools/divisions tells them from the
// name when it converts the list.
//
// How levels and tenant kinds meet: a prefecture tenant has a prefecture-level code (a 地级市,
// 自治州, 地区 or 盟, or the 市辖区 110100/120100/310100/500100 or 县 500200 of a municipality);
// a county, city or district tenant has a county-level code of any of the three levels (the
// wizard proposes the kind of the same name). A province is never a tenant.
type Level string

// The levels of ref.admin_divisions.
const (
	LevelProvince   Level = "province"
	LevelPrefecture Level = "prefecture"
	LevelDistrict   Level = "district"
	LevelCity       Level = "city"
	LevelCounty     Level = "county"
)

// CountyLevel reports whether l is one of the county-level levels.
func (l Level) CountyLevel() bool {
	return l == LevelDistrict || l == LevelCity || l == LevelCounty
}

// Division is one GB/T 2260 administrative division of the reference data (ref.admin_divisions):
// what a tenant's admin code is checked against, and what the operator's onboarding wizard offers
// to fill in a new tenant's name, code, kind and parent.
//
// ParentCode is the prefecture of a county-level division, or its province for a
// province-administered one (济源 419001, 仙桃 429004, the 4690xx of 海南, the 6590xx of 新疆),
// and the province of a prefecture; a province has none.
type Division struct {
	Code       string `bun:"code"`
	NameZH     string `bun:"name_zh"`
	NameEN     string `bun:"name_en"`
	Level      Level  `bun:"level"`
	ParentCode string `bun:"parent_code"`
}

// Kind is the tenant kind the division's level stands for ("" for a province).
func (d Division) Kind() Kind {
	switch d.Level {
	case LevelPrefecture:
		return Prefecture
	case LevelCity:
		return City
	case LevelCounty:
		return County
	case LevelDistrict:
		return District
	}
	return ""
}

// Name returns the division's name in the given locale ("en" or anything else for Chinese); most
// divisions have only a Chinese name.
func (d Division) Name(locale string) string {
	if strings.HasPrefix(locale, "en") && d.NameEN != "" {
		return d.NameEN
	}
	return d.NameZH
}

// DivisionFilter narrows FindDivisions. The zero value lists every division below province level,
// some 3,200 of them.
type DivisionFilter struct {
	// Province, the two first digits of a code, keeps the divisions of one province.
	Province string
	// Parent keeps the children of one division.
	Parent string
	// Level keeps one level; empty keeps every level below province.
	Level Level
}

// FindDivisions lists divisions by code.
func (s *Store) FindDivisions(ctx context.Context, f DivisionFilter) ([]Division, error) {
	var out []Division
	q := s.reader.NewSelect().TableExpr("ref.admin_divisions").Column("code", "name_zh", "name_en", "level").
		ColumnExpr("COALESCE(parent_code, '') AS parent_code").OrderExpr("code")
	if f.Level != "" {
		q = q.Where("level = ?", f.Level)
	} else {
		q = q.Where("level <> ?", LevelProvince)
	}
	if f.Province != "" {
		q = q.Where("substr(code, 1, 2) = ?", f.Province)
	}
	if f.Parent != "" {
		q = q.Where("parent_code = ?", f.Parent)
	}
	err := q.Scan(ctx, &out)
	return out, dbx.Translate(err)
}

// FindDivisionByCode returns the division with code.
func (s *Store) FindDivisionByCode(ctx context.Context, code string) (*Division, error) {
	return findDivision(ctx, s.reader, code)
}

func findDivision(ctx context.Context, db bun.IDB, code string) (*Division, error) {
	d := new(Division)
	err := db.NewSelect().TableExpr("ref.admin_divisions").Column("code", "name_zh", "name_en", "level").
		ColumnExpr("COALESCE(parent_code, '') AS parent_code").Where("code = ?", code).Scan(ctx, d)
	if errs.Is(dbx.Translate(err), errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoAdministrativeDivision, code)
	}
	if err != nil {
		return nil, dbx.Translate(err)
	}
	return d, nil
}

// checkDivision checks a new tenant's admin code (of the right form already) against the
// reference divisions: the code must be a division, of a level that fits kind, and a county-level
// tenant with a parent must sit under it — the parent tenant's code is the division's prefecture.
// A county-level tenant may still be onboarded without a parent (its prefecture not yet a tenant).
func checkDivision(ctx context.Context, db bun.IDB, code string, kind Kind, parent *Tenant) error {
	d, err := findDivision(ctx, db, code)
	if errs.Is(err, errs.NotFound) {
		return errs.Field("admin_code", msgAdministrativeCodeNotGbT, code, DivisionsDate)
	}
	if err != nil {
		return err
	}
	switch {
	case d.Level == LevelProvince:
		return errs.Field("admin_code", msgProvinceTenantPrefectureLevelCounty, d.NameZH, code)
	case kind == Prefecture && d.Level != LevelPrefecture:
		return errs.Field("admin_code", msgCountyLevelDivisionPrefectureTenant, d.NameZH, code)
	case kind != Prefecture && !d.Level.CountyLevel():
		return errs.Field("admin_code", msgPrefectureLevelDivisionCountyCity, d.NameZH, code)
	}
	if kind == Prefecture || parent == nil || d.ParentCode == parent.AdminCode {
		return nil
	}
	up, err := findDivision(ctx, db, d.ParentCode)
	if err != nil {
		return err
	}
	if up.Level == LevelProvince {
		return errs.Field("parent", msgAdministeredDirectlyNotPrefectureLeave, d.NameZH, code, up.NameZH)
	}
	return errs.Field("admin_code", msgBelongsNotParentTenant, d.NameZH, code, up.NameZH, up.Code, parent.NameZH, parent.AdminCode)
}
