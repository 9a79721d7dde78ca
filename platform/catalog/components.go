package catalog

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// ComponentRecord is one public facility of the inventory, coded in 16 digits: 6 admin code +
// 2 major + 2 minor + 6 serial.
type ComponentRecord struct {
	bun.BaseModel   `bun:"table:components"`
	Code            string    `bun:"code,pk" json:"code"`
	ClassCode       string    `bun:"class_code" json:"class_code"`
	Name            string    `bun:"name" json:"name"`
	Department      string    `bun:"department" json:"department"`
	OwnerUnit       string    `bun:"owner_unit" json:"owner_unit"`
	MaintenanceUnit string    `bun:"maintenance_unit" json:"maintenance_unit"`
	GridCode        *string   `bun:"grid_code" json:"grid_code"`
	Status          string    `bun:"status" json:"status"`
	Lon             float64   `bun:"lon" json:"lon"`
	Lat             float64   `bun:"lat" json:"lat"`
	Source          string    `bun:"source" json:"source"`
	UpdatedAt       time.Time `bun:"updated_at" json:"updated_at"`
}

// ComponentFilter selects components; Limit defaults to 100, at most 1000.
type ComponentFilter struct {
	ClassCode string
	GridCode  string
	After     string // code to continue after
	Limit     int
}

// FindComponents returns components in code order.
func (s *Service) FindComponents(ctx context.Context, f ComponentFilter) ([]ComponentRecord, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	out := []ComponentRecord{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&out).Order("code").Limit(int64(f.Limit))
		if f.ClassCode != "" {
			q = q.Where("class_code = ?", f.ClassCode)
		}
		if f.GridCode != "" {
			q = q.Where("grid_code = ?", f.GridCode)
		}
		if f.After != "" {
			q = q.Where("code > ?", f.After)
		}
		return q.Scan(ctx)
	})
	return out, err
}

// FindComponentByCode returns one component.
func (s *Service) FindComponentByCode(ctx context.Context, code string) (*ComponentRecord, error) {
	var c ComponentRecord
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&c).Where("code = ?", code).Scan(ctx)
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoComponent, textutil.Truncate(code, 20))
	}
	return &c, err
}

var componentColumns = []tabular.Column{
	{Name: "code", Aliases: []string{"部件编码", "部件编号", "编码", "标识码"}, Required: true},
	{Name: "name", Aliases: []string{"名称", "部件名称"}},
	{Name: "department", Aliases: []string{"主管部门"}},
	{Name: "owner_unit", Aliases: []string{"权属单位"}},
	{Name: "maintenance_unit", Aliases: []string{"养护单位"}},
	{Name: "status", Aliases: []string{"状态", "部件状态"}},
	{Name: "lon", Aliases: []string{"经度", "longitude", "x"}, Required: true},
	{Name: "lat", Aliases: []string{"纬度", "latitude", "y"}, Required: true},
	{Name: "grid_code", Aliases: []string{"网格编码", "所在网格", "单元网格"}},
	{Name: "source", Aliases: []string{"数据来源", "来源"}},
}

// ImportComponents upserts components from a GeoJSON FeatureCollection of Points (properties as
// the CSV columns) or a CSV/XLSX table with code (部件编码), lon (经度), lat (纬度) and optional
// name, department, owner_unit, maintenance_unit, status, grid_code, source. A code must start
// with the tenant's admin code and carry a known component minor class; a point must lie in
// China; a missing grid code is found from the point. Nothing is written unless every row
// passes, nor on a dry run. An applied import is audited as components.import.
func (s *Service) ImportComponents(ctx context.Context, data []byte, format string, dryRun bool) (*tabular.Report, error) {
	var recs []map[string]string
	notPoint := map[int]error{} // GeoJSON features that are not a readable Point, by index
	first := 2
	if format == "geojson" {
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
			return nil, errs.E(errs.Invalid, msgFileNotGeojsonFeaturecollection)
		}
		first = 1
		for i, raw := range fc.Features {
			m := map[string]string{}
			f, err := geojson.UnmarshalFeature(raw)
			if err != nil {
				notPoint[i] = errs.Field("geometry", msgFeatureCannotReadGeojson)
				recs = append(recs, m)
				continue
			}
			for k, v := range f.Properties {
				switch x := v.(type) {
				case string:
					m[k] = strings.TrimSpace(x)
				case float64:
					m[k] = strconv.FormatFloat(x, 'f', -1, 64)
				}
			}
			if m["code"] == "" {
				m["code"] = m["部件编码"]
			}
			p, ok := f.Geometry.(orb.Point)
			switch {
			case f.Geometry == nil:
				notPoint[i] = errs.Field("geometry", msgComponentPointNoGeometry)
			case !ok:
				notPoint[i] = errs.Field("geometry", msgComponentPointNotType, f.Geometry.GeoJSONType())
			default:
				m["lon"], m["lat"] = strconv.FormatFloat(p[0], 'f', -1, 64), strconv.FormatFloat(p[1], 'f', -1, 64)
			}
			recs = append(recs, m)
		}
	} else {
		t, err := tabular.Read(data, tabular.Format(format))
		if err != nil {
			return nil, err
		}
		idx, err := t.Index(componentColumns)
		if err != nil {
			return nil, err
		}
		for _, r := range t.Rows {
			m := map[string]string{}
			if tabular.Blank(r) {
				m["!blank"] = "1"
			}
			for _, c := range componentColumns {
				m[c.Name] = tabular.Cell(r, idx, c.Name)
			}
			recs = append(recs, m)
		}
	}
	var in []ComponentInput
	for i, m := range recs {
		if m["!blank"] != "" {
			continue
		}
		in = append(in, ComponentInput{Row: i + first, Code: m["code"], Name: m["name"], Department: m["department"], OwnerUnit: m["owner_unit"],
			MaintenanceUnit: m["maintenance_unit"], Status: m["status"], Lon: m["lon"], Lat: m["lat"], GridCode: m["grid_code"], Source: m["source"],
			Err: notPoint[i]})
	}
	rep := &tabular.Report{DryRun: dryRun}
	if err := s.ImportComponentRows(ctx, in, rep, nil); err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, rep.Reject()
	}
	return rep, nil
}

// ComponentInput is one component of an import as a row gives it (the columns of
// ImportComponents), with its row in the file for the report. Err, when set, is what made the
// row unreadable (a GeoJSON feature that is not a Point).
type ComponentInput struct {
	Row                                                int
	Code, Name, Department, OwnerUnit, MaintenanceUnit string
	Status, Lon, Lat, GridCode, Source                 string
	Err                                                error
}

// ImportComponentRows checks components, adding every problem to rep, and upserts them in one
// transaction unless a problem was found (rep's included) or rep is a dry run; also, when
// given, runs in that transaction after the upsert (the vendor import writes its ledger there).
// ImportComponents and the vendor import both come through here; an applied import is audited
// as components.import.
func (s *Service) ImportComponentRows(ctx context.Context, in []ComponentInput, rep *tabular.Report, also func(ctx context.Context, db bun.IDB) error) error {
	dryRun := rep.DryRun
	admin := ""
	if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
		admin = sc.Tenant.AdminCode
	}
	now := s.now().UTC()
	var comps []ComponentRecord
	var rowOf []int
	var toLocate []int
	var classes map[Kind]map[string]Class
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		all, err := classesIn(ctx, db)
		classes = classIndex(all)
		return err
	}); err != nil {
		return err
	}
	seen := map[string]int{}
	for _, ci := range in {
		n, code := ci.Row, ci.Code
		m := map[string]string{"name": ci.Name, "department": ci.Department, "owner_unit": ci.OwnerUnit, "maintenance_unit": ci.MaintenanceUnit,
			"status": ci.Status, "lon": ci.Lon, "lat": ci.Lat, "grid_code": ci.GridCode, "source": ci.Source}
		rep.Rows++
		if err := ci.Err; err != nil {
			rep.AddErr(n, "geometry", code, err)
			continue
		}
		if !digits(code, 16) {
			rep.Add(n, "code", code, msgComponentCodeDigits, textutil.Truncate(code, 24))
			continue
		}
		if code[:6] != admin {
			rep.Add(n, "code", code, msgCodeNotTenantAdminCode, admin)
			continue
		}
		cls := code[6:10]
		if c, ok := classes[Component][cls]; !ok || c.Level != "minor" {
			rep.Add(n, "code", code, msgNotKnownComponentMinorClass, cls)
			continue
		}
		if prev, dup := seen[code]; dup {
			rep.Add(n, "code", code, msgCodeAlreadyGiven, prev)
			continue
		}
		lon, err1 := strconv.ParseFloat(m["lon"], 64)
		lat, err2 := strconv.ParseFloat(m["lat"], 64)
		if err1 != nil || err2 != nil || math.IsNaN(lon) || math.IsNaN(lat) || lon < 73 || lon > 136 || lat < 3 || lat > 54 {
			rep.Add(n, "lon", code, msgPointNotInChina, textutil.Truncate(m["lon"], 20), textutil.Truncate(m["lat"], 20))
			continue
		}
		c := ComponentRecord{Code: code, ClassCode: cls, Name: m["name"], Department: m["department"], OwnerUnit: m["owner_unit"],
			MaintenanceUnit: m["maintenance_unit"], Status: m["status"], Lon: lon, Lat: lat, Source: m["source"], UpdatedAt: now}
		if c.Status == "" {
			c.Status = "normal"
		}
		long := ""
		for _, f := range []struct{ col, v string }{{"name", c.Name}, {"department", c.Department}, {"owner_unit", c.OwnerUnit}, {"maintenance_unit", c.MaintenanceUnit}, {"status", c.Status}, {"source", c.Source}} {
			if len([]rune(f.v)) > 200 {
				long = f.col
			}
		}
		if long != "" {
			rep.Add(n, long, code, msgColumnTooLong, long)
			continue
		}
		if g := m["grid_code"]; g != "" {
			c.GridCode = &g
		} else {
			toLocate = append(toLocate, len(comps))
		}
		seen[code] = n
		comps = append(comps, c)
		rowOf = append(rowOf, n)
	}
	if len(toLocate) > 0 && s.grids != nil {
		pts := make([]orb.Point, len(toLocate))
		for i, ci := range toLocate {
			pts[i] = orb.Point{comps[ci].Lon, comps[ci].Lat}
		}
		codes, err := s.grids.LocateUnits(ctx, pts)
		if err != nil {
			return err
		}
		for i, ci := range toLocate {
			if codes[i] != "" {
				g := codes[i]
				comps[ci].GridCode = &g
			}
		}
	}
	mode := tenants.Write
	if dryRun || !rep.OK() {
		mode = tenants.Read
	}
	err := s.gate.Tx(ctx, mode, func(ctx context.Context, db bun.IDB) error {
		var named []string
		for _, c := range comps {
			if c.GridCode != nil {
				named = append(named, *c.GridCode)
			}
		}
		known := map[string]bool{}
		for i := 0; i < len(named); i += 500 {
			var have []string
			if err := db.NewSelect().Table("grids").Column("code").Where("code IN (?)", bun.List(named[i:min(i+500, len(named))])).Scan(ctx, &have); err != nil {
				return err
			}
			for _, h := range have {
				known[h] = true
			}
		}
		for i, c := range comps {
			if c.GridCode != nil && !known[*c.GridCode] {
				rep.Add(rowOf[i], "grid_code", c.Code, msgNoGrid, textutil.Truncate(*c.GridCode, 20))
			}
		}
		if !rep.OK() || dryRun {
			return nil
		}
		for i := 0; i < len(comps); i += 200 {
			chunk := comps[i:min(i+200, len(comps))]
			if _, err := db.NewInsert().Model(&chunk).On("CONFLICT (code) DO UPDATE").
				Set("class_code = EXCLUDED.class_code, name = EXCLUDED.name, department = EXCLUDED.department, owner_unit = EXCLUDED.owner_unit, maintenance_unit = EXCLUDED.maintenance_unit, grid_code = EXCLUDED.grid_code, status = EXCLUDED.status, lon = EXCLUDED.lon, lat = EXCLUDED.lat, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at").
				Exec(ctx); err != nil {
				return err
			}
		}
		if also != nil {
			return also(ctx, db)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sortProblems(rep)
	if !rep.OK() {
		return nil
	}
	rep.Accepted = len(comps)
	rep.Applied = !dryRun
	if rep.Applied {
		return s.gate.AuditTenant(ctx, "components.import", "", rep.AuditDetail())
	}
	return nil
}

func sortProblems(r *tabular.Report) {
	ps := r.Problems
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Row < ps[j-1].Row; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
