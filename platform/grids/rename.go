package grids

import (
	"context"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// RenameGrid changes the name of one grid, leaving its code, level and geometry as imported. It
// is audited as grid.rename, with the new name.
func (s *Service) RenameGrid(ctx context.Context, code, name string) (*Grid, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return nil, errs.Field("name", msgEachGridNeedsNameMost)
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r, err := db.NewUpdate().Table("grids").Set("name = ?", name).Set("updated_at = ?", s.now().UTC()).Where("code = ?", code).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoGrid, textutil.Truncate(code, 20))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g, err := s.FindGridByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "grid.rename", g.Code, map[string]string{"name": g.Name}); err != nil {
		return nil, err
	}
	return g, nil
}
