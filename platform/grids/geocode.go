package grids

import (
	"context"
	"sort"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/uptrace/bun"
)

// Place is where an address was placed by Geocode: a point inside the grid whose name the
// address mentions.
type Place struct {
	Lon, Lat float64
	Grid     Grid // without geometry
}

// levelRank orders the levels from the most precise.
var levelRank = map[Level]int{Unit: 0, Community: 1, Street: 2}

// Geocode places a free-text address (a citizen's or a hotline operator's "北浦社区菜市场旁") by
// the tenant's own gazetteer, its grid names: of the grids whose name the address contains, the
// most precise level wins (unit, then community, then street), then the longest name. The point
// is the grid's centroid when that lies inside it, else a point on its surface. ok is false
// when no grid name occurs in the address. This is a coarse placement — a grid, not a door —
// and callers say so where the case is shown.
func (s *Service) Geocode(ctx context.Context, address string) (p Place, ok bool, err error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return Place{}, false, nil
	}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var gs []Grid
		if err := db.NewSelect().Model(&gs).Column("code", "level", "name", "parent_code").Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		var best *Grid
		for i := range gs {
			g := &gs[i]
			if len([]rune(g.Name)) < 2 || !strings.Contains(address, g.Name) {
				continue
			}
			if best == nil || levelRank[g.Level] < levelRank[best.Level] ||
				(levelRank[g.Level] == levelRank[best.Level] && len(g.Name) > len(best.Name)) {
				best = g
			}
		}
		if best == nil {
			return nil
		}
		var full Grid
		if err := db.NewSelect().Model(&full).Where("code = ?", best.Code).Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		geom, err := geojson.UnmarshalGeometry([]byte(full.Geometry))
		if err != nil {
			return err
		}
		pt := interiorPoint(geom.Geometry())
		full.Geometry = ""
		p, ok = Place{Lon: pt[0], Lat: pt[1], Grid: full}, true
		return nil
	})
	return p, ok, err
}

// interiorPoint is the centroid of g when it lies inside g, else the middle of the first span of
// g on the horizontal line through its bound's centre (inside any simple polygon, U-shapes
// too), else g's bound centre.
func interiorPoint(g orb.Geometry) orb.Point {
	if c, _ := planar.CentroidArea(g); contains(g, c) {
		return c
	}
	b := g.Bound()
	y := b.Center()[1]
	var xs []float64
	var rings []orb.Ring
	switch v := g.(type) {
	case orb.Polygon:
		rings = v
	case orb.MultiPolygon:
		for _, p := range v {
			rings = append(rings, p...)
		}
	}
	for _, r := range rings {
		for i := 0; i+1 < len(r); i++ {
			a, c := r[i], r[i+1]
			if (a[1] <= y) != (c[1] <= y) { // the edge crosses the line (half-open: no double count)
				xs = append(xs, a[0]+(y-a[1])*(c[0]-a[0])/(c[1]-a[1]))
			}
		}
	}
	sort.Float64s(xs)
	for i := 0; i+1 < len(xs); i += 2 {
		if p := (orb.Point{(xs[i] + xs[i+1]) / 2, y}); xs[i+1] > xs[i] && contains(g, p) {
			return p
		}
	}
	return b.Center()
}
