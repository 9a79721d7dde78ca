package cases

import (
	"context"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// FindCaseByNumber returns the case numbered number (532301-2026-000001) with its timeline and
// photos, as FindCaseByID does; NotFound when there is none.
func (s *Service) FindCaseByNumber(ctx context.Context, number string) (*Case, error) {
	if len(number) > 40 {
		return nil, errs.E(errs.NotFound, msgNoCase, textutil.Truncate(number, 40))
	}
	var ids []string
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Table("cases").Column("id").Where("number = ?", number).Limit(1).Scan(ctx, &ids)
	}); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errs.E(errs.NotFound, msgNoCase, textutil.Truncate(number, 40))
	}
	return s.FindCaseByID(ctx, ids[0])
}
