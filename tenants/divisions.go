package tenants

import (
	"context"

	"github.com/cityops/cityops/internal/dbx"
)

// Division is one GB/T 2260 administrative division of the reference data (ref.admin_divisions):
// what the operator's onboarding wizard offers to fill in a new tenant's name, code, kind and
// parent.
type Division struct {
	Code       string `bun:"code"`
	NameZH     string `bun:"name_zh"`
	NameEN     string `bun:"name_en"`
	Level      string `bun:"level"`
	ParentCode string `bun:"parent_code"`
}

// Kind is the tenant kind the division's level stands for ("" for a province).
func (d Division) Kind() Kind {
	switch d.Level {
	case "prefecture":
		return Prefecture
	case "city":
		return City
	case "county":
		return County
	case "district":
		return District
	}
	return ""
}

// FindDivisions lists the divisions below province level, by code.
func (s *Store) FindDivisions(ctx context.Context) ([]Division, error) {
	var out []Division
	err := s.reader.NewSelect().TableExpr("ref.admin_divisions").Column("code", "name_zh", "name_en", "level").
		ColumnExpr("COALESCE(parent_code, '') AS parent_code").Where("level <> 'province'").OrderExpr("code").Scan(ctx, &out)
	return out, dbx.Translate(err)
}
