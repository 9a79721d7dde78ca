package grids

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/uptrace/bun"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it). Every change the
// service makes is audited on the tenant of ctx, right after it commits.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Service keeps tenants' grids.
type Service struct {
	gate  Gate
	idx   *Index
	now   func() time.Time
	atlas *Atlas // the shipped boundaries (UseAtlas); nil: none
}

// NewService returns a Service over gate.
func NewService(gate Gate, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	idx := NewIndex()
	return &Service{gate: forgetting{gate, idx}, idx: idx, now: now}
}

// Index is the grid index this Service keeps fresh: share it with whoever places points in a
// transaction of its own (the case loop), so that they see this Service's writes at once.
func (s *Service) Index() *Index { return s.idx }

// Level is the level of a grid.
type Level string

// The three levels below the county.
const (
	Street    Level = "street"
	Community Level = "community"
	Unit      Level = "unit"
)

// Grid is one grid polygon.
type Grid struct {
	bun.BaseModel `bun:"table:grids"`
	Code          string  `bun:"code,pk" json:"code"`
	Level         Level   `bun:"level" json:"level"`
	Name          string  `bun:"name" json:"name"`
	ParentCode    *string `bun:"parent_code" json:"parent_code"`
	Shape
	Geo json.RawMessage `bun:"-" json:"geometry,omitempty"`
}

// Shape is a polygon as grids and the boundary store it: the GeoJSON geometry, its bounding box
// (which the index and the map views read without parsing the geometry) and its area.
type Shape struct {
	Geometry  string     `bun:"geometry" json:"-"`
	MinLon    float64    `bun:"min_lon" json:"-"`
	MinLat    float64    `bun:"min_lat" json:"-"`
	MaxLon    float64    `bun:"max_lon" json:"-"`
	MaxLat    float64    `bun:"max_lat" json:"-"`
	AreaM2    float64    `bun:"area_m2" json:"area_m2"`
	UpdatedAt time.Time  `bun:"updated_at" json:"updated_at"`
	BBox      [4]float64 `bun:"-" json:"bbox"`
}

// newShape is the Shape of g, whose GeoJSON is geom.
func newShape(geom []byte, g orb.Geometry, now time.Time) Shape {
	b := g.Bound()
	return Shape{Geometry: string(geom), MinLon: b.Min[0], MinLat: b.Min[1], MaxLon: b.Max[0], MaxLat: b.Max[1],
		AreaM2: math.Round(geo.Area(g)), UpdatedAt: now}
}

// fillBBox sets BBox from the stored bounds, after a read.
func (s *Shape) fillBBox() { s.BBox = [4]float64{s.MinLon, s.MinLat, s.MaxLon, s.MaxLat} }

// China's extent in longitude and latitude; coordinates outside are refused on import.
const (
	MinLon, MaxLon = 73.0, 136.0
	MinLat, MaxLat = 3.0, 54.0
)

// InChina reports whether a point lies within China's longitude and latitude range.
func InChina(lon, lat float64) bool {
	return !math.IsNaN(lon) && !math.IsNaN(lat) && lon >= MinLon && lon <= MaxLon && lat >= MinLat && lat <= MaxLat
}

// LevelOf checks a 14-digit grid code against the tenant's admin code and returns its level:
// 6 admin + 3 street + 3 community + 2 sequence; a community ends in 00, a street in 00000. A
// bad code is an Invalid error saying why.
func LevelOf(code, adminCode string) (Level, string, error) {
	if len(code) != 14 || strings.Trim(code, "0123456789") != "" {
		return "", "", errs.E(errs.Invalid, msgGridCodeDigits, textutil.Truncate(code, 20))
	}
	if code[:6] != adminCode {
		return "", "", errs.E(errs.Invalid, msgCodeNotTenantAdminCode, code, adminCode)
	}
	street, community, seq := code[6:9], code[9:12], code[12:14]
	switch {
	case street == "000":
		return "", "", errs.E(errs.Invalid, msgStreetPartZero, code)
	case community == "000" && seq == "00":
		return Street, "", nil
	case community == "000":
		return "", "", errs.E(errs.Invalid, msgUnitGridNoCommunity, code)
	case seq == "00":
		return Community, code[:9] + "00000", nil
	}
	return Unit, code[:12] + "00", nil
}

func adminCode(ctx context.Context) string {
	if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
		return sc.Tenant.AdminCode
	}
	return ""
}

// asPolygons is g as polygons, if it is a Polygon or a MultiPolygon.
func asPolygons(g orb.Geometry) (orb.MultiPolygon, bool) {
	switch v := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{v}, true
	case orb.MultiPolygon:
		return v, true
	}
	return nil, false
}

// checkGeometry validates a grid polygon: a Polygon or MultiPolygon of closed rings of at least
// four positions, every coordinate within China. A bad one is an Invalid error about the field
// geometry, worded for the import report and the boundary upload alike.
func checkGeometry(g orb.Geometry) error {
	polys, ok := asPolygons(g)
	switch {
	case g == nil:
		return errs.Field("geometry", msgFeatureHasNoGeometry)
	case !ok:
		return errs.Field("geometry", msgGeometryNotPolygon, g.GeoJSONType())
	}
	if len(polys) == 0 {
		return errs.Field("geometry", msgGeometryEmpty)
	}
	for _, p := range polys {
		if len(p) == 0 {
			return errs.Field("geometry", msgPolygonHasNoRing)
		}
		for ri, r := range p {
			if len(r) < 4 {
				return errs.Field("geometry", msgRingTooFewPositions, ri+1, len(r))
			}
			if r[0] != r[len(r)-1] {
				return errs.Field("geometry", msgRingNotClosed, ri+1)
			}
			for _, pt := range r {
				if !InChina(pt[0], pt[1]) {
					return errs.Field("geometry", msgPositionOutsideChina, pt[0], pt[1], MinLon, MaxLon, MinLat, MaxLat)
				}
			}
		}
		if geo.Area(p) < 1 {
			return errs.Field("geometry", msgPolygonHasNoArea)
		}
	}
	return nil
}

func contains(g orb.Geometry, pt orb.Point) bool {
	switch v := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(v, pt)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(v, pt)
	}
	return false
}

// Import reads a GeoJSON FeatureCollection of grids (properties code and name; 编码/名称 also
// accepted) and upserts them through ImportGrids. An unreadable feature is a problem of its row.
func (s *Service) Import(ctx context.Context, data []byte, dryRun bool) (*tabular.Report, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		return nil, errs.E(errs.Invalid, msgFileNotGeojsonFeaturecollection)
	}
	rep := &tabular.Report{DryRun: dryRun, Rows: len(fc.Features)}
	var in []GridInput
	for i, raw := range fc.Features {
		f, err := geojson.UnmarshalFeature(raw)
		if err != nil {
			rep.Add(i+1, "geometry", "", msgFeatureCannotReadGeojson, cleanErr(err))
			continue
		}
		in = append(in, GridInput{Row: i + 1, Code: propString(f.Properties, "code", "grid_code", "编码", "网格编码"),
			Name: propString(f.Properties, "name", "名称", "网格名称"), Geometry: f.Geometry})
	}
	if err := s.ImportGrids(ctx, in, rep, nil); err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, rep.Reject()
	}
	return rep, nil
}

// GridInput is one grid of an import: its row in the file (for the report), code, name and
// polygon. The code says the level and the parent.
type GridInput struct {
	Row      int
	Code     string
	Name     string
	Geometry orb.Geometry
}

// ImportGrids checks grids — code, level, parent, name, geometry — adding every problem to rep,
// and upserts them in one transaction unless a problem was found (rep's included) or rep is a
// dry run. Parents may come in the same import. also, when given, runs in that transaction after
// the upsert (the vendor import writes its ledger there). Import and the vendor import both come
// through here; an applied import is audited as grids.import.
func (s *Service) ImportGrids(ctx context.Context, in []GridInput, rep *tabular.Report, also func(ctx context.Context, db bun.IDB) error) error {
	admin := adminCode(ctx)
	dryRun := rep.DryRun
	var grids []Grid
	inFile := map[string]int{}
	parents := map[string][]int{} // parent code → rows needing it
	now := s.now().UTC()
	for _, gi := range in {
		n, code, name := gi.Row, gi.Code, gi.Name
		level, parent, err := LevelOf(code, admin)
		if err != nil {
			rep.AddErr(n, "code", code, err)
			continue
		}
		if name == "" || len([]rune(name)) > 100 {
			rep.Add(n, "name", code, msgEachGridNeedsNameMost)
			continue
		}
		if prev, dup := inFile[code]; dup {
			rep.Add(n, "code", code, msgCodeUsedByFeature, code, prev)
			continue
		}
		if err := checkGeometry(gi.Geometry); err != nil {
			rep.AddErr(n, "geometry", code, err)
			continue
		}
		inFile[code] = n
		geom, _ := geojson.NewGeometry(gi.Geometry).MarshalJSON()
		g := Grid{Code: code, Level: level, Name: name, Shape: newShape(geom, gi.Geometry, now)}
		if parent != "" {
			g.ParentCode = &parent
			parents[parent] = append(parents[parent], n)
		}
		grids = append(grids, g)
	}
	apply := func(ctx context.Context, db bun.IDB) error {
		var missing []string
		for p := range parents {
			if _, ok := inFile[p]; !ok {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			var have []string
			if err := db.NewSelect().Table("grids").Column("code").Where("code IN (?)", bun.List(missing)).Scan(ctx, &have); err != nil {
				return err
			}
			known := map[string]bool{}
			for _, c := range have {
				known[c] = true
			}
			sort.Strings(missing)
			for _, p := range missing {
				if !known[p] {
					for _, n := range parents[p] {
						rep.Add(n, "code", "", msgParentGridMissing, p)
					}
				}
			}
		}
		if !rep.OK() || dryRun {
			return nil
		}
		// Parents first, so that the foreign key holds at every row.
		order := map[Level]int{Street: 0, Community: 1, Unit: 2}
		sort.SliceStable(grids, func(i, j int) bool { return order[grids[i].Level] < order[grids[j].Level] })
		for i := 0; i < len(grids); i += 200 {
			chunk := grids[i:min(i+200, len(grids))]
			if _, err := db.NewInsert().Model(&chunk).On("CONFLICT (code) DO UPDATE").
				Set("name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, geometry = EXCLUDED.geometry, min_lon = EXCLUDED.min_lon, min_lat = EXCLUDED.min_lat, max_lon = EXCLUDED.max_lon, max_lat = EXCLUDED.max_lat, area_m2 = EXCLUDED.area_m2, updated_at = EXCLUDED.updated_at").
				Exec(ctx); err != nil {
				return err
			}
		}
		if also != nil {
			return also(ctx, db)
		}
		return nil
	}
	mode := tenants.Write
	if dryRun || !rep.OK() {
		mode = tenants.Read // still check parents, so the report names every problem
	}
	if err := s.gate.Tx(ctx, mode, apply); err != nil {
		return err
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Row < rep.Problems[j].Row })
	if !rep.OK() {
		return nil
	}
	rep.Accepted = len(grids)
	rep.Applied = !dryRun
	if rep.Applied {
		return s.gate.AuditTenant(ctx, "grids.import", "", rep.AuditDetail())
	}
	return nil
}

func cleanErr(err error) string {
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), "geojson: "), ".")
}

func propString(p geojson.Properties, keys ...string) string {
	for _, k := range keys {
		switch v := p[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case float64:
			return fmt.Sprintf("%.0f", v)
		}
	}
	return ""
}

// Filter selects grids.
type Filter struct {
	Level  Level
	Parent string
	// WithGeometry includes each grid's GeoJSON geometry.
	WithGeometry bool
}

// FindGrids returns the grids matching f, in code order.
func (s *Service) FindGrids(ctx context.Context, f Filter) ([]Grid, error) {
	var out []Grid
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&out).Order("code")
		if f.Level != "" {
			q = q.Where("level = ?", f.Level)
		}
		if f.Parent != "" {
			q = q.Where("parent_code = ?", f.Parent)
		}
		return q.Scan(ctx)
	})
	for i := range out {
		g := &out[i]
		g.fillBBox()
		if f.WithGeometry {
			g.Geo = json.RawMessage(g.Geometry)
		}
	}
	if out == nil {
		out = []Grid{}
	}
	return out, err
}

// FindGridByCode returns one grid with its geometry.
func (s *Service) FindGridByCode(ctx context.Context, code string) (*Grid, error) {
	var g Grid
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&g).Where("code = ?", code).Scan(ctx)
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoGrid, textutil.Truncate(code, 20))
	}
	if err != nil {
		return nil, err
	}
	g.fillBBox()
	g.Geo = json.RawMessage(g.Geometry)
	return &g, nil
}

// Export returns the grids of a level (all when empty) as a GeoJSON FeatureCollection whose
// features carry code, name, level, parent_code and area_m2; Import reads it back.
func (s *Service) Export(ctx context.Context, level Level) ([]byte, error) {
	grids, err := s.FindGrids(ctx, Filter{Level: level})
	if err != nil {
		return nil, err
	}
	fc := geojson.NewFeatureCollection()
	for _, g := range grids {
		geom, err := geojson.UnmarshalGeometry([]byte(g.Geometry))
		if err != nil {
			return nil, fmt.Errorf("stored geometry of %s: %w", g.Code, err)
		}
		f := geojson.NewFeature(geom.Geometry())
		f.Properties = geojson.Properties{"code": g.Code, "name": g.Name, "level": string(g.Level), "area_m2": g.AreaM2}
		if g.ParentCode != nil {
			f.Properties["parent_code"] = *g.ParentCode
		}
		fc.Append(f)
	}
	return json.Marshal(fc)
}
