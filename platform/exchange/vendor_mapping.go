package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Mapping is a tenant's mapping of one vendor's exports onto cases: which of the vendor's
// columns (or JSON members) hold which field of a case and of its history rows, and the code
// tables from the vendor's values to ours. It is kept in the tenant's own store, every saved
// version (vendor_mappings); an import names the version it ran with.
type Mapping struct {
	// Vendor names the system the records come from (2 to 32 lower-case letters, digits, - and
	// _): the vendor's record ids are unique within it.
	Vendor  string `json:"vendor"`
	Version int    `json:"version,omitempty"` // set when saved
	// Fields maps a case field (CaseFields) to the vendor's column header or JSON member.
	Fields map[string]string `json:"fields"`
	// History maps the fields of a history row (HistoryFields). In CSV and XLSX files every row
	// is one history row and a record's rows follow each other (the case columns repeat); in
	// JSON a record holds its rows in the array named Key.
	History HistoryMapping `json:"history"`
	Codes   CodeTables     `json:"codes"`
	// TimeLayouts are Go time layouts the vendor's times are written in, in China time unless
	// they carry a zone (default DefaultTimeLayouts).
	TimeLayouts []string `json:"time_layouts,omitempty"`
	// Pull, when set, is where an API pull reads the vendor's records (vendor_pull.go).
	Pull *PullSource `json:"pull,omitempty"`
	// Grids, Components, Departments and Staff map the vendor's exports of them (EntityFields;
	// vendor_entities.go). A mapping may hold only these, and no case fields.
	Grids       *EntityMapping `json:"grids,omitempty"`
	Components  *EntityMapping `json:"components,omitempty"`
	Departments *EntityMapping `json:"departments,omitempty"`
	Staff       *EntityMapping `json:"staff,omitempty"`
	CreatedBy   string         `json:"created_by,omitempty"`
	CreatedAt   time.Time      `json:"created_at,omitzero"`
}

// HistoryMapping maps a history row's fields.
type HistoryMapping struct {
	Key    string            `json:"key,omitempty"`
	Fields map[string]string `json:"fields"`
	// Sheet, for XLSX files only, names the worksheet the history rows are on (its name, or its
	// position from 1), when they are not on the first sheet with the cases: the first sheet then
	// has one row per record, and the history sheet one row per history row, each naming its
	// record in the column RecordID (default: the record id's column, fields.record_id).
	Sheet    string `json:"sheet,omitempty"`
	RecordID string `json:"record_id,omitempty"`
}

// CodeTables turn the vendor's codes into ours. An empty table takes the vendor's value as
// ours (it must then be one of ours).
type CodeTables struct {
	// Kind: the vendor's 案件类型 (部件/事件) → component or event.
	Kind map[string]catalog.Kind `json:"kind,omitempty"`
	// Class: the vendor's class code → our kind and minor class code. A value not in the table
	// is taken as our code of the record's kind (mapped through Kind) when it is one.
	Class map[string]ClassTarget `json:"class,omitempty"`
	// State: the vendor's state or step (环节) → the action of our case loop that leads there.
	State map[string]cases.Action `json:"state"`
	// Source: the vendor's 问题来源 → ours (inspector, citizen, hotline, …).
	Source map[string]cases.Source `json:"source,omitempty"`
	// Department: the vendor's department name → the code of one of our departments.
	Department map[string]string `json:"department,omitempty"`
	// Overdue: the vendor's value of a history row's overdue flag (超时, history field
	// overdue) → whether the stage that row ended ran over its limit. Without an entry the usual
	// values are understood (是/否, 超时/未超时/正常, Y/N, 1/0, true/false).
	Overdue map[string]bool `json:"overdue,omitempty"`
	// Post: the vendor's role name of a staff member → our post (inspector, acceptor, …).
	Post map[string]org.Post `json:"post,omitempty"`
}

// ClassTarget is one of our minor classes.
type ClassTarget struct {
	Kind catalog.Kind `json:"kind"`
	Code string       `json:"code"`
}

// The case fields a mapping may fill.
const (
	FieldRecordID      = "record_id"
	FieldNumber        = "number"
	FieldReportedAt    = "reported_at"
	FieldSource        = "source"
	FieldKind          = "kind"
	FieldClassCode     = "class_code"
	FieldDescription   = "description"
	FieldAddress       = "address"
	FieldLon           = "lon"
	FieldLat           = "lat"
	FieldGridCode      = "grid_code"
	FieldDepartment    = "department"
	FieldReporterName  = "reporter_name"
	FieldReporterPhone = "reporter_phone"
)

// The history row fields a mapping may fill.
const (
	HistoryState      = "state"
	HistoryAt         = "at"
	HistoryActor      = "actor"
	HistoryDepartment = "department"
	HistoryRemark     = "remark"
	HistoryOverdue    = "overdue"
)

// CaseFields and HistoryFields list the fields, the required ones first.
var (
	CaseFields = []string{FieldRecordID, FieldClassCode, FieldLon, FieldLat, FieldNumber, FieldReportedAt, FieldSource, FieldKind,
		FieldDescription, FieldAddress, FieldGridCode, FieldDepartment, FieldReporterName, FieldReporterPhone}
	requiredCaseFields = CaseFields[:4]
	HistoryFields      = []string{HistoryState, HistoryAt, HistoryActor, HistoryDepartment, HistoryRemark, HistoryOverdue}
	requiredHistory    = HistoryFields[:2]
)

// DefaultTimeLayouts are the layouts tried when a mapping names none.
var DefaultTimeLayouts = []string{"2006-01-02 15:04:05", "2006/01/02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04",
	"2006/1/2 15:04:05", "2006/1/2 15:04", time.RFC3339, "2006-01-02T15:04:05"}

var vendorRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// mappingLimit bounds a mapping's JSON and its tables.
const (
	mappingLimit = 1 << 20
	codesLimit   = 5000
)

// departments are the tenant's departments by code → id.
type departments map[string]string

// check validates m against the tenant's catalog and departments (db) and says, field by field,
// what is wrong: an unknown field, a required one missing, a class or department we do not
// have, an action that is not one.
func (m *Mapping) check(ctx context.Context, db bun.IDB, classes cases.Classes) error {
	if !vendorRe.MatchString(m.Vendor) {
		return errs.Field("vendor", msgVendorName, textutil.Truncate(m.Vendor, 40))
	}
	m.pullDefaults()
	if err := m.Pull.check(); err != nil {
		return err
	}
	checkCols := func(where string, cols map[string]string, known, required []string) error {
		for _, f := range slices.Sorted(maps.Keys(cols)) {
			if !slices.Contains(known, f) {
				return errs.Field(where+"."+textutil.Truncate(f, 40), msgVendorUnknownField, textutil.Truncate(f, 40), strings.Join(known, ", "))
			}
			if err := checkText(where+"."+f, cols[f], 200); err != nil {
				return err
			}
			if strings.TrimSpace(cols[f]) == "" {
				return errs.Field(where+"."+f, msgVendorEmptyColumn, f)
			}
		}
		for _, f := range required {
			if cols[f] == "" {
				return errs.Field(where+"."+f, msgVendorRequiredField, f)
			}
		}
		return nil
	}
	if m.mapsCases() {
		if err := checkCols("fields", m.Fields, CaseFields, requiredCaseFields); err != nil {
			return err
		}
		if err := checkCols("history.fields", m.History.Fields, HistoryFields, requiredHistory); err != nil {
			return err
		}
	}
	if err := m.checkEntities(checkCols); err != nil {
		return err
	}
	if err := checkText("history.key", m.History.Key, 200); err != nil {
		return err
	}
	// Excel's sheet names are at most 31 characters.
	if err := checkText("history.sheet", m.History.Sheet, 31); err != nil {
		return err
	}
	if err := checkText("history.record_id", m.History.RecordID, 200); err != nil {
		return err
	}
	if m.History.RecordID != "" && m.History.Sheet == "" {
		return errs.Field("history.record_id", msgVendorSheetOnly)
	}
	if m.History.Sheet != "" && m.Pull != nil { // a pull reads JSON records, with their history nested
		return errs.Field("history.sheet", msgVendorSheetPull)
	}
	for i, l := range m.TimeLayouts {
		if err := checkText("time_layouts", l, 60); err != nil || strings.TrimSpace(l) == "" {
			return errs.Field("time_layouts", msgVendorLayout, i+1)
		}
	}
	c := &m.Codes
	if len(c.Kind)+len(c.Class)+len(c.State)+len(c.Source)+len(c.Department)+len(c.Post)+len(c.Overdue) > codesLimit {
		return errs.Field("codes", msgVendorTooManyCodes, codesLimit)
	}
	for v, k := range c.Kind {
		if _, ok := catalog.ParseKind(string(k)); !ok {
			return errs.Field("codes.kind", msgVendorKind, textutil.Truncate(v, 40), textutil.Truncate(string(k), 20))
		}
	}
	for _, v := range slices.Sorted(maps.Keys(c.Class)) {
		t := c.Class[v]
		if _, ok := catalog.ParseKind(string(t.Kind)); !ok {
			return errs.Field("codes.class", msgVendorKind, textutil.Truncate(v, 40), textutil.Truncate(string(t.Kind), 20))
		}
		if _, err := classes.LookupIn(ctx, db, t.Kind, t.Code); err != nil {
			if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
				return errs.Field("codes.class", msgVendorClass, textutil.Truncate(v, 40), t.Kind, textutil.Truncate(t.Code, 10))
			}
			return err
		}
	}
	if len(c.State) == 0 && m.mapsCases() {
		return errs.Field("codes.state", msgVendorNoStates)
	}
	for v, a := range c.State {
		if _, _, ok := cases.ActionResult(a); !ok {
			return errs.Field("codes.state", msgVendorAction, textutil.Truncate(v, 40), textutil.Truncate(string(a), 30))
		}
	}
	for v := range c.Overdue {
		if err := checkText("codes.overdue", v, 100); err != nil {
			return err
		}
	}
	for v, s := range c.Source {
		if !slices.Contains(cases.Sources, s) {
			return errs.Field("codes.source", msgVendorSource, textutil.Truncate(v, 40), textutil.Truncate(string(s), 20))
		}
	}
	// A mapping that imports departments may name those it has yet to import: the case import
	// reports a department still missing then as a value it cannot map.
	if len(c.Department) > 0 && m.Departments == nil {
		depts, err := loadDepartments(ctx, db)
		if err != nil {
			return err
		}
		for _, v := range slices.Sorted(maps.Keys(c.Department)) {
			if _, ok := depts[c.Department[v]]; !ok {
				return errs.Field("codes.department", msgVendorDepartment, textutil.Truncate(v, 40), textutil.Truncate(c.Department[v], 40))
			}
		}
	}
	return nil
}

func loadDepartments(ctx context.Context, db bun.IDB) (departments, error) {
	var rows []struct {
		ID   string `bun:"id"`
		Code string `bun:"code"`
	}
	if err := db.NewRaw("SELECT id, code FROM departments").Scan(ctx, &rows); err != nil {
		return nil, dbx.Translate(err)
	}
	d := departments{}
	for _, r := range rows {
		d[r.Code] = r.ID
	}
	return d, nil
}

// mappingRow is a stored version of a mapping.
type mappingRow struct {
	bun.BaseModel `bun:"table:vendor_mappings"`
	Vendor        string    `bun:"vendor,pk"`
	Version       int       `bun:"version,pk"`
	Body          string    `bun:"body"`
	CreatedBy     string    `bun:"created_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

// ParseMapping decodes a mapping strictly (no unknown member, names matched exactly), without
// checking it against the tenant.
func ParseMapping(body []byte) (*Mapping, error) {
	if len(body) > mappingLimit {
		return nil, errs.E(errs.TooLarge, msgVendorMappingSize, mappingLimit>>10)
	}
	m := &Mapping{}
	if err := module.UnmarshalJSON(body, m); err != nil {
		return nil, err
	}
	m.pullDefaults()
	return m, nil
}

// PutMapping checks m against the tenant of ctx and saves it as the vendor's next version
// (audited as exchange.vendor_mapping). Tenant admins and the system scope only.
func (im *Importer) PutMapping(ctx context.Context, m *Mapping) (*Mapping, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	m.CreatedBy, m.CreatedAt = actorOf(ctx), im.now().UTC().Truncate(time.Microsecond)
	err = im.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := m.check(ctx, db, im.classes); err != nil {
			return err
		}
		var last sql.NullInt64
		if err := db.NewRaw("SELECT max(version) FROM vendor_mappings WHERE vendor = ?", m.Vendor).Scan(ctx, &last); err != nil {
			return dbx.Translate(err)
		}
		m.Version = int(last.Int64) + 1
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = db.NewInsert().Model(&mappingRow{Vendor: m.Vendor, Version: m.Version, Body: string(body), CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt}).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	if err := im.gate.AuditTenant(ctx, "exchange.vendor_mapping", m.Vendor, map[string]any{"version": m.Version}); err != nil {
		im.log.Error("audit not written", "action", "exchange.vendor_mapping", "err", err)
	}
	return m, nil
}

// FindMapping returns the vendor's newest mapping (version 0) or the version asked for.
func (im *Importer) FindMapping(ctx context.Context, vendor string, version int) (*Mapping, error) {
	if _, err := scope(ctx); err != nil {
		return nil, err
	}
	var m *Mapping
	err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		m, err = findMapping(ctx, db, vendor, version)
		return err
	})
	return m, err
}

func findMapping(ctx context.Context, db bun.IDB, vendor string, version int) (*Mapping, error) {
	if !vendorRe.MatchString(vendor) {
		return nil, errs.E(errs.NotFound, msgVendorNoMapping, textutil.Truncate(vendor, 40))
	}
	q := db.NewSelect().Model((*mappingRow)(nil)).Column("body").Where("vendor = ?", vendor).Order("version DESC").Limit(1)
	if version > 0 {
		q = q.Where("version = ?", version)
	}
	var body string
	if err := q.Scan(ctx, &body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.E(errs.NotFound, msgVendorNoMapping, textutil.Truncate(vendor, 40))
		}
		return nil, dbx.Translate(err)
	}
	m := &Mapping{}
	return m, json.Unmarshal([]byte(body), m)
}

// same reports whether a and b map alike (their versions and authors aside).
func (m *Mapping) same(o *Mapping) bool {
	a, b := *m, *o
	a.Version, a.CreatedBy, a.CreatedAt = 0, "", time.Time{}
	b.Version, b.CreatedBy, b.CreatedAt = 0, "", time.Time{}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// EnsureMapping returns the vendor's newest mapping when it maps as m does, and saves m as the
// next version otherwise (the command line's import takes a mapping file each time).
func (im *Importer) EnsureMapping(ctx context.Context, m *Mapping) (*Mapping, error) {
	cur, err := im.FindMapping(ctx, m.Vendor, 0)
	switch {
	case err == nil && cur.same(m):
		return cur, nil
	case err != nil && !errs.Is(err, errs.NotFound):
		return nil, err
	}
	return im.PutMapping(ctx, m)
}
