package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// Entity is what a vendor's file holds.
type Entity string

// The entities a vendor import takes. A county imports them in the order of Entities — its
// departments before the staff and the components that name them, its grids before the
// components that lie in them — and its cases last.
const (
	EntityCases       Entity = "cases"
	EntityDepartments Entity = "departments"
	EntityGrids       Entity = "grids"
	EntityComponents  Entity = "components"
	EntityStaff       Entity = "staff"
)

// Entities are the entities besides cases, in the order a county imports them.
var Entities = []Entity{EntityDepartments, EntityGrids, EntityComponents, EntityStaff}

// EntityMapping maps one entity's export: the entity's field (EntityFields) → the vendor's
// column header or JSON member. Every row of the file (every object of a JSON array) is one
// record, identified by the field record_id (by default the code).
type EntityMapping struct {
	Fields map[string]string `json:"fields"`
}

// EntityFields are each entity's fields, the required ones first (entityRequired of them).
//
//   - grids: the 14-digit grid code (GB/T 30428; it says the level and the parent) and the name;
//     geometry, a Polygon or MultiPolygon as GeoJSON or WKT, or one ring as "lon,lat;lon,lat;…".
//   - components: the 16-digit component code, lon and lat; class_code, the vendor's class,
//     mapped through codes.class onto one of our component minor classes and written into the
//     code's class digits; and the inventory's texts and the unit grid.
//   - departments: our code (also the vendor's id unless record_id names another column), name,
//     and the parent's code.
//   - staff: the vendor's employee number or login (record_id), name, phone, department (through
//     codes.department, or our code), and posts (the vendor's role names, separated by commas,
//     、 or semicolons, through codes.post, or our post names).
var EntityFields = map[Entity][]string{
	EntityGrids:       {"code", "name", "geometry", "record_id"},
	EntityComponents:  {"code", "lon", "lat", "record_id", "class_code", "name", "department", "owner_unit", "maintenance_unit", "status", "grid_code"},
	EntityDepartments: {"code", "name", "record_id", "parent", "phone"},
	EntityStaff:       {"record_id", "name", "phone", "department", "posts"},
}

// maxGeometryCell bounds a grid's geometry cell: a street's boundary runs to thousands of
// positions.
const maxGeometryCell = 1 << 20

var entityRequired = map[Entity]int{EntityGrids: 3, EntityComponents: 3, EntityDepartments: 2, EntityStaff: 2}

// GridImporter takes mapped grids (grids.Service satisfies it).
type GridImporter interface {
	ImportGrids(ctx context.Context, in []grids.GridInput, rep *tabular.Report, also func(ctx context.Context, db bun.IDB) error) error
}

// ComponentImporter takes mapped components (catalog.Service satisfies it).
type ComponentImporter interface {
	ImportComponentRows(ctx context.Context, in []catalog.ComponentInput, rep *tabular.Report, also func(ctx context.Context, db bun.IDB) error) error
}

// OrgImporter takes mapped departments and staff (org.Service satisfies it).
type OrgImporter interface {
	ImportDepartments(ctx context.Context, in []org.DepartmentImport, rep *tabular.Report, also func(ctx context.Context, db bun.IDB, saved []org.Department) error) error
	ImportStaff(ctx context.Context, in []org.StaffImport, rep *tabular.Report, also func(ctx context.Context, db bun.IDB, saved []org.Staff) error) error
}

type entities struct {
	grids      GridImporter
	components ComponentImporter
	org        OrgImporter
}

// ParseEntity reads an entity's name; an unknown one is NotFound (it is part of an address).
func ParseEntity(s string) (Entity, error) {
	e := Entity(s)
	if !slices.Contains(Entities, e) {
		return "", errs.E(errs.NotFound, msgVendorEntity, textutil.Truncate(s, 20), entityList())
	}
	return e, nil
}

func entityList() string {
	var names []string
	for _, e := range Entities {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// mapsCases reports whether m maps cases: it does unless it holds only entity sections.
func (m *Mapping) mapsCases() bool {
	return len(m.Fields) > 0 || len(m.History.Fields) > 0 || len(m.Codes.State) > 0 ||
		m.Grids == nil && m.Components == nil && m.Departments == nil && m.Staff == nil
}

// section is m's mapping of e, nil when it has none.
func (m *Mapping) section(e Entity) *EntityMapping {
	switch e {
	case EntityGrids:
		return m.Grids
	case EntityComponents:
		return m.Components
	case EntityDepartments:
		return m.Departments
	case EntityStaff:
		return m.Staff
	}
	return nil
}

// checkEntities checks m's entity sections with the check of the case fields, and the post table.
func (m *Mapping) checkEntities(checkCols func(where string, cols map[string]string, known, required []string) error) error {
	for _, e := range Entities {
		em := m.section(e)
		if em == nil {
			continue
		}
		known := EntityFields[e]
		if err := checkCols(string(e)+".fields", em.Fields, known, known[:entityRequired[e]]); err != nil {
			return err
		}
	}
	for _, v := range slices.Sorted(maps.Keys(m.Codes.Post)) {
		if err := checkText("codes.post", v, 100); err != nil {
			return err
		}
		if !slices.Contains(org.Posts, m.Codes.Post[v]) {
			return errs.Field("codes.post", msgVendorPost, textutil.Truncate(v, 40), textutil.Truncate(string(m.Codes.Post[v]), 20))
		}
	}
	return nil
}

// EntityOptions say how to import an entity's file.
type EntityOptions struct {
	Vendor         string
	MappingVersion int
	Entity         Entity
	DryRun         bool
}

// entityRow is a mapped record of an entity file: the vendor's id, the row, the digest of what
// it maps to, and the input its service takes.
type entityRow struct {
	row      int
	recordID string
	target   string // a grid's or a component's code (departments and staff: known once saved)
	digest   string
	plan     plan
	grid     grids.GridInput
	comp     catalog.ComponentInput
	dept     org.DepartmentImport
	staff    org.StaffImport
}

// entityLedger is the ledger's row of one imported record of an entity.
type entityLedger struct {
	bun.BaseModel `bun:"table:vendor_entities"`
	Vendor        string    `bun:"vendor,pk"`
	Entity        Entity    `bun:"entity,pk"`
	RecordID      string    `bun:"record_id,pk"`
	Target        string    `bun:"target"`
	Digest        string    `bun:"digest"`
	RunID         string    `bun:"run_id"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// ImportEntity imports a vendor's file of grids, components, departments or staff with the
// section of the tenant's mapping for opts.Entity: it maps every row, leaves the records whose
// mapping did not change since they were imported alone (a re-run changes nothing), and hands the
// new and corrected ones to their service (grids, catalog, org), which checks them as its own
// imports do and writes them, with the ledger and the run, all in one transaction — or nothing,
// when a row has a problem or on a dry run. Tenant admins and the system scope only; audited as
// exchange.vendor_import.
func (im *Importer) ImportEntity(ctx context.Context, file VendorFile, opts EntityOptions) (*ImportReport, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	if _, err := ParseEntity(string(opts.Entity)); err != nil {
		return nil, err
	}
	if im.grids == nil && opts.Entity == EntityGrids || im.components == nil && opts.Entity == EntityComponents ||
		im.org == nil && (opts.Entity == EntityDepartments || opts.Entity == EntityStaff) {
		return nil, errs.E(errs.Unsupported, msgVendorEntityOff, opts.Entity)
	}
	format := file.Format
	if format == "" {
		if format, err = VendorFormatOf(file.Name); err != nil {
			return nil, err
		}
	}
	p := &mapper{im: im, classes: map[ClassTarget]bool{}, unmapped: map[[2]string]*Unmapped{}}
	ledger := map[string]*entityLedger{}
	if err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if p.m, err = findMapping(ctx, db, opts.Vendor, opts.MappingVersion); err != nil {
			return err
		}
		if p.m.section(opts.Entity) == nil {
			return errs.E(errs.Invalid, msgVendorNoSection, p.m.Vendor, opts.Entity)
		}
		if p.depts, err = loadDepartments(ctx, db); err != nil {
			return err
		}
		var rows []*entityLedger
		if err := db.NewSelect().Model(&rows).Where("vendor = ? AND entity = ?", p.m.Vendor, opts.Entity).Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		for _, r := range rows {
			ledger[r.RecordID] = r
		}
		return nil
	}); err != nil {
		return nil, err
	}
	em := p.m.section(opts.Entity)
	rep := &ImportReport{Entity: opts.Entity, Vendor: p.m.Vendor, MappingVersion: p.m.Version, File: file.Name, DryRun: opts.DryRun,
		Problems: []tabular.Problem{}, Unmapped: []Unmapped{}}

	// Read and map every row.
	rc, err := file.Open()
	if err != nil {
		return nil, errs.Wrap(err, errs.Invalid, msgVendorOpen, textutil.Truncate(file.Name, 80))
	}
	defer rc.Close()
	h := sha256.New()
	fields := maps.Clone(em.Fields)
	if fields[FieldRecordID] == "" {
		fields[FieldRecordID] = fields["code"]
	}
	rr, closer, err := newRecordReader(io.TeeReader(rc, h), format, &Mapping{Fields: fields, History: HistoryMapping{Key: "\x00"}})
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	var rows []*entityRow
	err = im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := rr.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			rep.Records++
			if rep.Records > tabular.MaxRows {
				return errs.E(errs.TooLarge, msgVendorEntityRows, tabular.MaxRows)
			}
			r, err := p.mapEntity(ctx, db, opts.Entity, fields, rec, rep)
			if err != nil {
				return err
			}
			if r != nil {
				rows = append(rows, r)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	rep.Rows = rr.rows()
	if format == VendorJSON {
		rep.Rows = rep.Records
	}
	_, _ = io.Copy(io.Discard, io.TeeReader(rc, h)) // the rest of the file, for its hash
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	for _, k := range p.order {
		rep.Unmapped = append(rep.Unmapped, *p.unmapped[k])
	}

	// Plan against the ledger: only new and corrected records go to the service.
	var changed []*entityRow
	for _, r := range rows {
		l := ledger[r.recordID]
		switch {
		case l == nil:
			r.plan = planCreate
		case l.Digest == r.digest:
			r.plan = planUnchanged
		default:
			r.plan = planUpdate
		}
		if l != nil && r.target != "" && l.Target != r.target {
			rep.add(r.row, em.Fields["code"], r.recordID, msgVendorEntityMoved, textutil.Truncate(r.recordID, 60), l.Target, r.target)
		}
		rep.count(r.plan, 0)
		if r.plan != planUnchanged {
			if l != nil {
				r.dept.ID, r.staff.ID = l.Target, l.Target
			}
			changed = append(changed, r)
		}
	}

	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := im.now().UTC().Truncate(time.Microsecond)
	run := &Run{ID: id.String(), Vendor: p.m.Vendor, MappingVersion: p.m.Version, FileSHA256: rep.SHA256, FileName: textutil.Truncate(file.Name, 200),
		Entity: opts.Entity, State: "done", RecordsDone: rep.Records, Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged,
		StartedBy: actorOf(ctx), StartedAt: now, FinishedAt: &now}
	// record writes the ledger rows of the changed records, targets[i] being changed[i]'s, and the run.
	record := func(ctx context.Context, db bun.IDB, targets []string) error {
		ls := make([]*entityLedger, 0, len(changed))
		for i, r := range changed {
			ls = append(ls, &entityLedger{Vendor: p.m.Vendor, Entity: opts.Entity, RecordID: r.recordID, Target: targets[i], Digest: r.digest,
				RunID: run.ID, UpdatedAt: now})
		}
		for len(ls) > 0 {
			part := ls[:min(len(ls), 500)]
			ls = ls[len(part):]
			if _, err := db.NewInsert().Model(&part).On("CONFLICT (vendor, entity, record_id) DO UPDATE").
				Set("target = EXCLUDED.target, digest = EXCLUDED.digest, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		_, err := db.NewInsert().Model(run).Exec(ctx)
		return dbx.Translate(err)
	}
	srep := &tabular.Report{DryRun: opts.DryRun || !rep.OK()}
	if len(changed) == 0 {
		if rep.OK() && !opts.DryRun {
			err = im.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error { return record(ctx, db, nil) })
		}
	} else {
		err = im.apply(ctx, opts.Entity, changed, srep, record)
	}
	if err != nil {
		return nil, err
	}
	// The services' problems, by the vendor's columns.
	column := func(f string) string {
		f = strings.TrimSuffix(strings.TrimSuffix(f, "_id"), "_code")
		if c := em.Fields[f]; c != "" {
			return c
		}
		if c := em.Fields[f+"_code"]; c != "" {
			return c
		}
		return f
	}
	for _, pr := range srep.Problems {
		pr.Column = column(pr.Column)
		rep.ProblemCount++
		if len(rep.Problems) < MaxProblems {
			rep.Problems = append(rep.Problems, pr)
		}
	}
	slices.SortStableFunc(rep.Problems, func(a, b tabular.Problem) int { return a.Row - b.Row })
	if !rep.OK() || opts.DryRun {
		return rep, nil
	}
	rep.RunID, rep.Applied = run.ID, true
	if err := im.gate.AuditTenant(ctx, "exchange.vendor_import", p.m.Vendor, map[string]any{"run": run.ID, "entity": opts.Entity, "file": file.Name,
		"sha256": rep.SHA256, "mapping_version": p.m.Version, "records": rep.Records, "created": rep.Created, "updated": rep.Updated,
		"unchanged": rep.Unchanged}); err != nil {
		im.log.Error("audit not written", "action", "exchange.vendor_import", "err", err)
	}
	return rep, nil
}

// apply hands the changed records to their service; record runs in its transaction.
func (im *Importer) apply(ctx context.Context, e Entity, changed []*entityRow, srep *tabular.Report,
	record func(ctx context.Context, db bun.IDB, targets []string) error) error {
	targets := make([]string, len(changed))
	for i, r := range changed {
		targets[i] = r.target
	}
	fixed := func(ctx context.Context, db bun.IDB) error { return record(ctx, db, targets) }
	switch e {
	case EntityGrids:
		in := make([]grids.GridInput, len(changed))
		for i, r := range changed {
			in[i] = r.grid
		}
		srep.Rows = len(in) // grids.Service.Import counts its features itself
		return im.grids.ImportGrids(ctx, in, srep, fixed)
	case EntityComponents:
		in := make([]catalog.ComponentInput, len(changed))
		for i, r := range changed {
			in[i] = r.comp
		}
		return im.components.ImportComponentRows(ctx, in, srep, fixed)
	case EntityDepartments:
		in := make([]org.DepartmentImport, len(changed))
		for i, r := range changed {
			in[i] = r.dept
		}
		return im.org.ImportDepartments(ctx, in, srep, func(ctx context.Context, db bun.IDB, saved []org.Department) error {
			for i := range saved {
				targets[i] = saved[i].ID
			}
			return fixed(ctx, db)
		})
	default:
		in := make([]org.StaffImport, len(changed))
		for i, r := range changed {
			in[i] = r.staff
		}
		return im.org.ImportStaff(ctx, in, srep, func(ctx context.Context, db bun.IDB, saved []org.Staff) error {
			for i := range saved {
				targets[i] = saved[i].ID
			}
			return fixed(ctx, db)
		})
	}
}

// mapEntity maps one record of an entity file, adding what it cannot map to rep; nil when it
// could not. The rows' texts are checked here; what they mean is the service's to check.
func (p *mapper) mapEntity(ctx context.Context, db bun.IDB, e Entity, fields map[string]string, rec *vendorRecord, rep *ImportReport) (*entityRow, error) {
	before := rep.ProblemCount
	for _, c := range slices.Sorted(maps.Keys(rec.values)) {
		limit := maxCell
		if e == EntityGrids && c == fields["geometry"] {
			limit = maxGeometryCell
		}
		if s := rec.values[c]; strings.ContainsRune(s, 0) || !utf8.ValidString(s) || len(s) > limit {
			rep.add(rec.row, c, "", msgVendorBadText, c)
			rec.values[c] = ""
		}
	}
	v := func(f string) string { return rec.values[fields[f]] }
	r := &entityRow{row: rec.row, recordID: v(FieldRecordID)}
	switch {
	case r.recordID == "":
		rep.add(rec.row, fields[FieldRecordID], "", msgVendorNoRecordID, fields[FieldRecordID])
	case len(r.recordID) > 100:
		rep.add(rec.row, fields[FieldRecordID], "", msgTooLong, fields[FieldRecordID], 100)
	case rec.again > 0:
		rep.add(rec.row, fields[FieldRecordID], r.recordID, msgVendorAgain, textutil.Truncate(r.recordID, 60), rec.again)
	case len(rec.history) > 1: // the same id on the next row
		rep.add(rec.history[1].row, fields[FieldRecordID], r.recordID, msgVendorAgain, textutil.Truncate(r.recordID, 60), rec.row)
	}
	var digest []string
	switch e {
	case EntityGrids:
		r.grid = grids.GridInput{Row: rec.row, Code: v("code"), Name: v("name")}
		g, ok := parseGeometry(v("geometry"))
		if !ok {
			rep.add(rec.row, fields["geometry"], r.recordID, msgVendorGeometry, fields["geometry"])
		}
		r.grid.Geometry, r.target = g, r.grid.Code
		geom := ""
		if g != nil {
			b, _ := geojson.NewGeometry(g).MarshalJSON()
			geom = string(b)
		}
		digest = []string{r.grid.Code, r.grid.Name, geom}
	case EntityComponents:
		c := catalog.ComponentInput{Row: rec.row, Code: v("code"), Name: v("name"), Department: v("department"), OwnerUnit: v("owner_unit"),
			MaintenanceUnit: v("maintenance_unit"), Status: v("status"), Lon: v("lon"), Lat: v("lat"), GridCode: v("grid_code"),
			Source: textutil.Truncate("import:"+p.m.Vendor, 200)}
		if cv := v("class_code"); cv != "" {
			t, ok, err := p.class(ctx, db, catalog.Component, cv)
			if err != nil {
				return nil, err
			}
			switch {
			case !ok || t.Kind != catalog.Component:
				p.miss(rep, rec.row, fields["class_code"], cv)
			case len(c.Code) == 16:
				c.Code = c.Code[:6] + t.Code + c.Code[10:]
			}
		}
		r.comp, r.target = c, c.Code
		digest = []string{c.Code, c.Name, c.Department, c.OwnerUnit, c.MaintenanceUnit, c.Status, c.Lon, c.Lat, c.GridCode}
	case EntityDepartments:
		r.dept = org.DepartmentImport{Row: rec.row, ParentCode: v("parent"), DepartmentInput: org.DepartmentInput{Code: v("code"), Name: v("name"), Phone: v("phone")}}
		digest = []string{r.dept.Code, r.dept.Name, r.dept.ParentCode, r.dept.Phone}
	case EntityStaff:
		s := org.StaffImport{Row: rec.row, StaffInput: org.StaffInput{Name: v("name"), Phone: v("phone")}}
		if dv := v("department"); dv != "" {
			code, ok := p.m.Codes.Department[dv]
			if !ok {
				code = dv
			}
			if id, known := p.depts[code]; known {
				s.DepartmentID = &id
			} else {
				p.miss(rep, rec.row, fields["department"], dv)
			}
		}
		var posts []string
		for _, pv := range strings.FieldsFunc(v("posts"), func(r rune) bool { return strings.ContainsRune(",，、;；/|", r) }) {
			pv = strings.TrimSpace(pv)
			if pv == "" {
				continue
			}
			post, ok := p.m.Codes.Post[pv]
			if !ok && slices.Contains(org.Posts, org.Post(pv)) {
				post, ok = org.Post(pv), true
			}
			if !ok {
				p.miss(rep, rec.row, fields["posts"], pv)
				continue
			}
			if !slices.Contains(s.Posts, post) {
				s.Posts = append(s.Posts, post)
				posts = append(posts, string(post))
			}
		}
		slices.Sort(posts)
		r.staff = s
		digest = []string{s.Name, s.Phone, deref(s.DepartmentID), strings.Join(posts, ",")}
	}
	if rep.ProblemCount > before {
		return nil, nil
	}
	h := sha256.New()
	for _, s := range digest {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	r.digest = hex.EncodeToString(h.Sum(nil)[:16])
	return r, nil
}

// parseGeometry reads a grid's polygon: GeoJSON (a geometry, or a Feature's), WKT (POLYGON or
// MULTIPOLYGON), or one ring of "lon,lat" pairs separated by semicolons (closed if it is not).
func parseGeometry(s string) (orb.Geometry, bool) {
	s = strings.TrimSpace(s)
	up := strings.ToUpper(s)
	switch {
	case s == "":
		return nil, false
	case strings.HasPrefix(s, "{"):
		if f, err := geojson.UnmarshalFeature([]byte(s)); err == nil && f.Geometry != nil {
			return f.Geometry, true
		}
		g, err := geojson.UnmarshalGeometry([]byte(s))
		if err != nil || g.Geometry() == nil {
			return nil, false
		}
		return g.Geometry(), true
	case strings.HasPrefix(up, "POLYGON"), strings.HasPrefix(up, "MULTIPOLYGON"):
		g, err := wkt.Unmarshal(s)
		return g, err == nil
	}
	var ring orb.Ring
	for _, pair := range strings.Split(s, ";") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		xy := strings.FieldsFunc(pair, func(r rune) bool { return r == ',' || r == ' ' })
		if len(xy) != 2 {
			return nil, false
		}
		lon, err1 := strconv.ParseFloat(xy[0], 64)
		lat, err2 := strconv.ParseFloat(xy[1], 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		ring = append(ring, orb.Point{lon, lat})
	}
	if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
	}
	return orb.Polygon{ring}, len(ring) > 0
}

// entitySummary is Summary for an entity's import.
func (r *ImportReport) entitySummary(lang string) string {
	if r.DryRun {
		return msgVendorEntitySummaryDry.In(lang, r.Records, r.Entity, r.Created, r.Updated, r.Unchanged)
	}
	return msgVendorEntitySummary.In(lang, r.Records, r.Entity, r.Created, r.Updated, r.Unchanged)
}
