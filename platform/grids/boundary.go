package grids

import (
	"context"
	"encoding/json"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// MaxBoundaryPositions bounds the positions of a boundary. Every report is checked against the
// boundary, which the grid index keeps parsed (16 bytes a position), so a surveyed boundary of
// several hundred thousand points is to be simplified (to some 20 m) before it is uploaded.
const MaxBoundaryPositions = 50_000

// maxBoundaryPolygons bounds the parts of a MultiPolygon boundary (a county with enclaves has a
// handful).
const maxBoundaryPolygons = 1_000

// Boundary is a tenant's administrative boundary (行政区划边界): the whole county, where the
// grids cover only its managed urban area. Reports whose point lies outside it are refused.
type Boundary struct {
	bun.BaseModel `bun:"table:boundary"`
	ID            int `bun:"id,pk" json:"-"` // always 1: one boundary per tenant
	Shape
}

// Feature returns the boundary as a GeoJSON Feature with its bbox, and its area and time of
// change as properties; PutBoundary reads it back.
func (b *Boundary) Feature() ([]byte, error) {
	return json.Marshal(struct {
		Type       string          `json:"type"`
		BBox       [4]float64      `json:"bbox"`
		Properties any             `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}{"Feature", b.BBox, map[string]any{"area_m2": b.AreaM2, "updated_at": b.UpdatedAt}, json.RawMessage(b.Geometry)})
}

// PutBoundary sets the tenant's boundary from GeoJSON: a Polygon or MultiPolygon, a Feature
// holding one, or a FeatureCollection of exactly one such Feature, in WGS 84/CGCS2000 degrees.
// It is checked as grid polygons are (closed rings, every position within China) and bounded
// in size; it replaces any boundary set before. It is audited as boundary.put, with its bounding
// box and area.
func (s *Service) PutBoundary(ctx context.Context, data []byte) (*Boundary, error) {
	g, err := parseBoundary(data)
	if err != nil {
		return nil, err
	}
	geom, err := geojson.NewGeometry(g).MarshalJSON()
	if err != nil {
		return nil, err
	}
	b := &Boundary{ID: 1, Shape: newShape(geom, g, s.now().UTC())}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(b).On("CONFLICT (id) DO UPDATE").
			Set("geometry = EXCLUDED.geometry, min_lon = EXCLUDED.min_lon, min_lat = EXCLUDED.min_lat, max_lon = EXCLUDED.max_lon, max_lat = EXCLUDED.max_lat, area_m2 = EXCLUDED.area_m2, updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	b.fillBBox()
	if err := s.gate.AuditTenant(ctx, "boundary.put", "", map[string]any{"bbox": b.BBox, "area_m2": b.AreaM2}); err != nil {
		return nil, err
	}
	return b, nil
}

// FindBoundary returns the tenant's boundary; NotFound when none is set.
func (s *Service) FindBoundary(ctx context.Context) (*Boundary, error) {
	var bs []Boundary
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&bs).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, errs.E(errs.NotFound, msgTenantHasNoBoundaryYet)
	}
	b := &bs[0]
	b.fillBBox()
	return b, nil
}

// DeleteBoundary removes the tenant's boundary; reports are then taken anywhere in China.
// It is audited as boundary.delete.
func (s *Service) DeleteBoundary(ctx context.Context) error {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r, err := db.NewDelete().TableExpr("boundary").Where("id = 1").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgTenantHasNoBoundaryYet)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "boundary.delete", "", nil)
}

// WithinBoundaryIn reports whether the point (lon, lat in WGS 84/CGCS2000 degrees) lies within
// the tenant's boundary, inside a transaction the caller already holds through the gate (as
// ResolveIn; the case module checks a report in the transaction that files it). A tenant without
// a boundary takes any point within China's extent; a point outside it is never within. A point
// on the boundary line is within, one in a hole is not. The boundary comes from the cached grid
// index.
func (x *Index) WithinBoundaryIn(ctx context.Context, db bun.IDB, lon, lat float64) (bool, error) {
	if !InChina(lon, lat) {
		return false, nil
	}
	idx, err := x.tenant(ctx, db)
	if err != nil {
		return false, err
	}
	return idx.within(orb.Point{lon, lat}), nil
}

// parseBoundary reads and checks a boundary's GeoJSON.
func parseBoundary(data []byte) (orb.Geometry, error) {
	var head struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, errs.Field("geometry", msgBoundaryNotGeojsonSendPolygon)
	}
	var g orb.Geometry
	switch head.Type {
	case "Polygon", "MultiPolygon":
		gg, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, errs.Field("geometry", msgBoundaryCannotReadGeojson, cleanErr(err))
		}
		g = gg.Geometry()
	case "Feature", "FeatureCollection":
		raw := json.RawMessage(data)
		if head.Type == "FeatureCollection" {
			if len(head.Features) != 1 {
				return nil, errs.Field("geometry", msgBoundaryOnePolygonMultipolygonFeaturecollection, len(head.Features))
			}
			raw = head.Features[0]
		}
		f, err := geojson.UnmarshalFeature(raw)
		if err != nil {
			return nil, errs.Field("geometry", msgBoundaryCannotReadGeojson, cleanErr(err))
		}
		g = f.Geometry
	case "":
		return nil, errs.Field("geometry", msgBoundaryNotGeojsonSendPolygon)
	default:
		return nil, errs.Field("geometry", msgBoundaryMustPolygonMultipolygon, textutil.Truncate(head.Type, 30))
	}
	polys, ok := asPolygons(g)
	switch {
	case g == nil:
		return nil, errs.Field("geometry", msgBoundaryFeatureHasNoGeometry)
	case !ok:
		return nil, errs.Field("geometry", msgBoundaryMustPolygonMultipolygon, g.GeoJSONType())
	}
	if len(polys) > maxBoundaryPolygons {
		return nil, errs.E(errs.TooLarge, msgBoundaryHasPolygonsMostTaken, len(polys), maxBoundaryPolygons)
	}
	n := 0
	for _, p := range polys {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > MaxBoundaryPositions {
		return nil, errs.E(errs.TooLarge, msgBoundaryHasPositionsMostTaken, n, MaxBoundaryPositions)
	}
	if err := checkGeometry(g); err != nil {
		return nil, err
	}
	return g, nil
}
