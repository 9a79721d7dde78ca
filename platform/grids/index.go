package grids

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/cache"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// IndexTTL is how long a tenant's grid index (its grids with their parsed polygons, its
// responsibility grids and its boundary) is reused to place points before it is read again. Writes through a
// grids.Service drop the tenant's index when they finish; writes by another replica are seen
// within IndexTTL.
const IndexTTL = 5 * time.Second

// Index holds the grid index of recently used tenants. The Service that writes grids owns one
// (Service.Index) and drops a tenant's entry after every write, so the next resolution reads the
// grids again; the composition root hands the same Index to whoever places points inside a
// transaction of its own (the case loop) and to whoever changes what the index holds without a
// grids.Service (org, whose staff are responsibility grids' inspectors). An index holds a tenant's
// parsed unit-grid polygons (about 1 MB for 2,000 unit grids) and its boundary (at most
// MaxBoundaryPositions, 800 KB); at most indexTenants are kept.
type Index struct {
	c *cache.Cache[uuid.UUID, *index]
}

// NewIndex returns an empty Index.
func NewIndex() *Index { return &Index{c: cache.New[uuid.UUID, *index](indexTenants, IndexTTL)} }

const indexTenants = 128

// index is one tenant's grids, ready to place points without reading the database.
type index struct {
	units []indexedUnit          // the unit grids, smallest first (then by code)
	grids map[string]*Grid       // every grid by code, for the street and community above a unit
	resp  map[string]*respOfUnit // the responsibility grid of a unit grid, by unit code
	// boundary is the tenant's boundary, nil when none is set (then any point in China is within).
	boundary *indexedBoundary
}

type indexedBoundary struct {
	bound orb.Bound
	geom  orb.Geometry
}

type indexedUnit struct {
	code  string
	bound orb.Bound
	geom  orb.Geometry
}

type respOfUnit struct {
	grid      ResponsibilityGrid
	inspector string
}

// tenant returns the tenant's index, reading it through db when it is not cached.
func (x *Index) tenant(ctx context.Context, db bun.IDB) (*index, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return loadIndex(ctx, db)
	}
	return x.c.Get(ctx, sc.Tenant.ID, func(ctx context.Context) (*index, error) { return loadIndex(ctx, db) })
}

func loadIndex(ctx context.Context, db bun.IDB) (*index, error) {
	var all []Grid
	if err := db.NewSelect().Model(&all).Order("area_m2", "code").Scan(ctx); err != nil {
		return nil, err
	}
	idx := &index{grids: make(map[string]*Grid, len(all)), resp: map[string]*respOfUnit{}}
	for i := range all {
		g := &all[i]
		g.fillBBox()
		idx.grids[g.Code] = g
		if g.Level != Unit {
			continue
		}
		gg, err := geojson.UnmarshalGeometry([]byte(g.Geometry))
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, msgUnitGridHasStoredGeometry, g.Code)
		}
		geom := gg.Geometry()
		idx.units = append(idx.units, indexedUnit{code: g.Code, bound: geom.Bound(), geom: geom})
	}
	for _, g := range idx.grids {
		g.Geometry = "" // parsed above where needed; resolutions do not carry it
	}
	var rgs []ResponsibilityGrid
	if err := db.NewSelect().Model(&rgs).Scan(ctx); err != nil {
		return nil, err
	}
	byCode := make(map[string]*ResponsibilityGrid, len(rgs))
	for i := range rgs {
		byCode[rgs[i].Code] = &rgs[i]
	}
	var units []respUnit
	if err := db.NewSelect().Model(&units).Scan(ctx); err != nil {
		return nil, err
	}
	for _, u := range units {
		if rg, ok := byCode[u.RespCode]; ok {
			r := &respOfUnit{grid: *rg}
			if rg.InspectorID != nil {
				r.inspector = *rg.InspectorID
			}
			idx.resp[u.UnitCode] = r
		}
	}
	var bs []Boundary
	if err := db.NewSelect().Model(&bs).Scan(ctx); err != nil {
		return nil, err
	}
	if len(bs) > 0 {
		gg, err := geojson.UnmarshalGeometry([]byte(bs[0].Geometry))
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, msgStoredBoundaryCannotRead)
		}
		geom := gg.Geometry()
		idx.boundary = &indexedBoundary{bound: geom.Bound(), geom: geom}
	}
	return idx, nil
}

// within reports whether p lies within the boundary; without one, every point does (the caller
// has checked that p is in China).
func (idx *index) within(p orb.Point) bool {
	b := idx.boundary
	return b == nil || b.bound.Contains(p) && contains(b.geom, p)
}

// locate returns the code of the unit grid containing p, "" for none. Where unit grids overlap
// (they should not), the smallest wins.
func (idx *index) locate(p orb.Point) string {
	for i := range idx.units {
		u := &idx.units[i]
		if u.bound.Contains(p) && contains(u.geom, p) {
			return u.code
		}
	}
	return ""
}

// resolve places p: its unit grid, the grids above it and its responsibility grid. The grids
// are copies, which the caller may change.
func (idx *index) resolve(p orb.Point) *Resolution {
	code := idx.locate(p)
	if code == "" {
		return nil
	}
	res := &Resolution{}
	for _, c := range []string{code, code[:12] + "00", code[:9] + "00000"} {
		g, ok := idx.grids[c]
		if !ok {
			continue
		}
		cp := *g
		switch g.Level {
		case Unit:
			res.Unit = &cp
		case Community:
			res.Community = &cp
		case Street:
			res.Street = &cp
		}
	}
	if r, ok := idx.resp[code]; ok {
		rg := r.grid
		rg.Units = []string{}
		res.Responsibility, res.InspectorID = &rg, r.inspector
	}
	return res
}

// forgetting is the gate as a Service uses it: a write transaction drops the tenant's index
// when it ends, committed or not, so the next resolution reads the grids again.
type forgetting struct {
	Gate
	idx *Index
}

func (f forgetting) Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error {
	if mode == tenants.Write {
		if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
			defer f.idx.Forget(sc.Tenant.ID)
		}
	}
	return f.Gate.Tx(ctx, mode, fn)
}

// Forget drops a tenant's cached grid index; code that changes grids or responsibility grids
// without the grids.Service owning x (org.DeleteStaff, whose foreign key clears an inspector)
// calls it.
func (x *Index) Forget(tenant uuid.UUID) { x.c.Forget(tenant) }
