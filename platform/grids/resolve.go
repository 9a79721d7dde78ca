package grids

import (
	"context"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/uptrace/bun"
)

// Resolution is where a point lies: its unit grid, the community and street above it, and the
// responsibility grid and inspector covering the unit grid (if one is assigned).
type Resolution struct {
	Unit           *Grid               `json:"unit"`
	Community      *Grid               `json:"community,omitempty"`
	Street         *Grid               `json:"street,omitempty"`
	Responsibility *ResponsibilityGrid `json:"responsibility,omitempty"`
	// InspectorID is the staff id of the responsible inspector, "" when none is assigned.
	InspectorID string `json:"inspector_id,omitempty"`
}

// Resolve finds the unit grid containing the point (lon, lat in WGS-84/CGCS2000 degrees) and
// what stands above it. A point in no unit grid is NotFound. Where unit grids overlap (they
// should not), the smallest wins, so the answer is deterministic.
func (s *Service) Resolve(ctx context.Context, lon, lat float64) (*Resolution, error) {
	var res *Resolution
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		res, err = s.idx.ResolveIn(ctx, db, lon, lat)
		return err
	})
	return res, err
}

// ResolveIn is Resolve inside a transaction the caller already holds through the gate (the case
// module resolves a report's location in the same transaction that files it; on SQLite a second
// gate transaction inside a write transaction would wait for itself).
func (x *Index) ResolveIn(ctx context.Context, db bun.IDB, lon, lat float64) (*Resolution, error) {
	if !InChina(lon, lat) {
		return nil, errs.Field("lon", msgPointGGOutsideChina, lon, lat)
	}
	idx, err := x.tenant(ctx, db)
	if err != nil {
		return nil, err
	}
	res := idx.resolve(orb.Point{lon, lat})
	if res == nil {
		return nil, errs.E(errs.NotFound, msgPointGGNoneTenant, lon, lat)
	}
	return res, nil
}

// LocateUnits returns, for each point, the code of the unit grid containing it ("" for none), in
// one transaction; imports of located things (components) use it.
func (s *Service) LocateUnits(ctx context.Context, pts []orb.Point) ([]string, error) {
	var out []string
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		out, err = s.idx.locate(ctx, db, pts)
		return err
	})
	return out, err
}

func (x *Index) locate(ctx context.Context, db bun.IDB, pts []orb.Point) ([]string, error) {
	out := make([]string, len(pts))
	if len(pts) == 0 {
		return out, nil
	}
	idx, err := x.tenant(ctx, db)
	if err != nil {
		return nil, err
	}
	for i, p := range pts {
		out[i] = idx.locate(p)
	}
	return out, nil
}

// ResponsibilityGrid is a patrol area: unit grids that one inspector covers.
type ResponsibilityGrid struct {
	bun.BaseModel `bun:"table:responsibility_grids"`
	Code          string    `bun:"code,pk" json:"code"`
	Name          string    `bun:"name" json:"name"`
	InspectorID   *string   `bun:"inspector_id" json:"inspector_id"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updated_at"`
	Units         []string  `bun:"-" json:"units"`
}

type respUnit struct {
	bun.BaseModel `bun:"table:responsibility_grid_units"`
	UnitCode      string `bun:"unit_code,pk"`
	RespCode      string `bun:"resp_code"`
}

// PutResponsibility creates or replaces a responsibility grid and its unit grids; a unit grid
// moves from any other responsibility grid to this one. The inspector is a staff id (or nil).
// It is audited as responsibility_grid.put, with the name, inspector and units as given.
func (s *Service) PutResponsibility(ctx context.Context, rg ResponsibilityGrid) (*ResponsibilityGrid, error) {
	given := respAudit{Name: rg.Name, InspectorID: rg.InspectorID, Units: rg.Units}
	rg.Code = strings.TrimSpace(rg.Code)
	rg.Name = strings.TrimSpace(rg.Name)
	if rg.Code == "" || len(rg.Code) > 32 || strings.Trim(rg.Code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != "" {
		return nil, errs.Field("code", msgResponsibilityGridCodeLettersDigits)
	}
	if rg.Name == "" || len([]rune(rg.Name)) > 100 {
		return nil, errs.Field("name", msgResponsibilityGridNeedsNameMost)
	}
	if rg.InspectorID != nil && *rg.InspectorID == "" {
		rg.InspectorID = nil
	}
	rg.UpdatedAt = s.now().UTC()
	if rg.Units == nil {
		rg.Units = []string{}
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if len(rg.Units) > 0 {
			n, err := db.NewSelect().Table("grids").Where("code IN (?) AND level = 'unit'", bun.List(rg.Units)).Count(ctx)
			if err != nil {
				return err
			}
			if n != int64(len(uniq(rg.Units))) {
				return errs.Field("units", msgEveryUnitResponsibilityGridMust)
			}
		}
		if rg.InspectorID != nil {
			n, err := db.NewSelect().Table("staff").Where("id = ?", *rg.InspectorID).Count(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return errs.Field("inspector_id", msgNoStaffMember, textutil.Truncate(*rg.InspectorID, 40))
			}
		}
		if _, err := db.NewInsert().Model(&rg).On("CONFLICT (code) DO UPDATE").
			Set("name = EXCLUDED.name, inspector_id = EXCLUDED.inspector_id, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
		if _, err := db.NewDelete().TableExpr("responsibility_grid_units").Where("resp_code = ? OR unit_code IN (?)", rg.Code, bun.List(append(uniq(rg.Units), ""))).Exec(ctx); err != nil {
			return err
		}
		rows := make([]respUnit, 0, len(rg.Units))
		for _, u := range uniq(rg.Units) {
			rows = append(rows, respUnit{UnitCode: u, RespCode: rg.Code})
		}
		if len(rows) > 0 {
			if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rg.Units = uniq(rg.Units)
	if err := s.gate.AuditTenant(ctx, "responsibility_grid.put", rg.Code, given); err != nil {
		return nil, err
	}
	return &rg, nil
}

// respAudit is the audit detail of responsibility_grid.put: what the API and the console were
// given, in the shape of the API's request.
type respAudit struct {
	Name        string   `json:"name"`
	InspectorID *string  `json:"inspector_id"`
	Units       []string `json:"units"`
}

// FindResponsibilities returns every responsibility grid with its unit grids.
func (s *Service) FindResponsibilities(ctx context.Context) ([]ResponsibilityGrid, error) {
	var out []ResponsibilityGrid
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&out).Order("code").Scan(ctx); err != nil {
			return err
		}
		var units []respUnit
		if err := db.NewSelect().Model(&units).Order("unit_code").Scan(ctx); err != nil {
			return err
		}
		by := map[string][]string{}
		for _, u := range units {
			by[u.RespCode] = append(by[u.RespCode], u.UnitCode)
		}
		for i := range out {
			out[i].Units = by[out[i].Code]
			if out[i].Units == nil {
				out[i].Units = []string{}
			}
		}
		return nil
	})
	if out == nil {
		out = []ResponsibilityGrid{}
	}
	return out, err
}

// DeleteResponsibility removes a responsibility grid (its unit grids stay); audited as
// responsibility_grid.delete.
func (s *Service) DeleteResponsibility(ctx context.Context, code string) error {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r, err := db.NewDelete().TableExpr("responsibility_grids").Where("code = ?", code).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoResponsibilityGrid, textutil.Truncate(code, 40))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "responsibility_grid.delete", code, nil)
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
