package exchange

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ImporterConfig is what an Importer is built from.
type ImporterConfig struct {
	Gate Gate
	// Cipher encrypts the reporters' names and phones with the tenant's key, as the case loop
	// does (tenants/secrets satisfies it).
	Cipher cases.Cipher
	// Usage records one cases_created usage event per import run (optional).
	Usage cases.Usage
	// Classes looks our classes up (catalog.Entries).
	Classes cases.Classes
	// Grids, Components and Org take the rows of the other entities' imports (ImportEntity;
	// grids.Service, catalog.Service and org.Service; optional: without one, its entity is not
	// imported).
	Grids      GridImporter
	Components ComponentImporter
	Org        OrgImporter
	// Chunk is how many records one transaction writes (DefaultChunk when zero).
	Chunk int
	// HistoryChanged is told when an import wrote events, which may lie in the past of figures
	// already computed (evaluation.Service.Forget; optional).
	HistoryChanged func(ctx context.Context, tenant uuid.UUID)
	// Credentials reads the vendors' API credentials for pulls, vendor_<vendor> (optional: a
	// pull whose mapping names a credential then fails).
	Credentials VendorCredentials
	// Pull tunes the API pulls' HTTP client (zero: the defaults).
	Pull PullConfig
	Now  func() time.Time
	Log  *slog.Logger
}

// DefaultChunk is how many records an import commits at a time.
const DefaultChunk = 1000

// Importer imports the history of the systems a county ran before: cases with their whole
// history from a vendor's CSV, XLSX or JSON export, mapped by the tenant's Mapping, idempotent by
// the vendor's record id (docs/exchange.md, "Vendor import").
type Importer struct {
	gate    Gate
	cipher  cases.Cipher
	usage   cases.Usage
	classes cases.Classes
	chunk   int
	entities
	changed func(ctx context.Context, tenant uuid.UUID)
	creds   VendorCredentials
	pull    PullConfig
	now     func() time.Time
	log     *slog.Logger
	// jobs are the imports the console started in the background (vendor_jobs.go).
	jobs importJobs
}

// NewImporter returns an Importer built from cfg.
func NewImporter(cfg ImporterConfig) *Importer {
	im := &Importer{gate: cfg.Gate, cipher: cfg.Cipher, usage: cfg.Usage, classes: cfg.Classes, chunk: cfg.Chunk, changed: cfg.HistoryChanged,
		creds: cfg.Credentials, pull: cfg.Pull.withDefaults(), entities: entities{grids: cfg.Grids, components: cfg.Components, org: cfg.Org},
		now: cfg.Now, log: cfg.Log}
	if im.chunk <= 0 {
		im.chunk = DefaultChunk
	}
	if im.now == nil {
		im.now = clock.Now
	}
	if im.log == nil {
		im.log = slog.New(slog.DiscardHandler)
	}
	if im.classes == nil {
		im.classes = catalog.NewEntries()
	}
	im.log = im.log.With("component", "exchange.import")
	return im
}

// VendorFile is a vendor's export: its name (whose extension names the format unless Format
// does) and how to open it; an import reads it twice (check, then write).
type VendorFile struct {
	Name   string
	Format VendorFormat
	Open   func() (io.ReadCloser, error)
}

// ImportOptions say how to import.
type ImportOptions struct {
	// Vendor names the mapping; MappingVersion picks a version of it (0: the newest).
	Vendor         string
	MappingVersion int
	// DryRun maps every record and reports, without writing anything.
	DryRun bool
	// Progress is called after each chunk of records, while checking and while writing.
	Progress func(p ImportProgress)
}

// ImportProgress is how far an import got: Phase "check" or "write", records done so far.
type ImportProgress struct {
	Phase   string
	Records int
}

// Unmapped is a value of the file that no code table knows, with how often and where first.
type Unmapped struct {
	Column   string `json:"column"`
	Value    string `json:"value"`
	Count    int    `json:"count"`
	FirstRow int    `json:"first_row"`
	// FirstSheet is the worksheet of FirstRow when not the first (vendor_sheet.go).
	FirstSheet string `json:"first_sheet,omitempty"`
}

// ImportReport is what an import did (or, dry, would do): records read, what was (or would be)
// created, updated, left unchanged or kept (a case the case loop has taken on since its import),
// and every value it could not map. Nothing is written unless no record has a problem.
type ImportReport struct {
	RunID string `json:"run_id,omitempty"`
	// Entity is what the file held: cases, or grids, components, departments or staff
	// (ImportEntities; these have no kept records nor events).
	Entity         Entity `json:"entity"`
	Vendor         string `json:"vendor"`
	MappingVersion int    `json:"mapping_version"`
	File           string `json:"file"`
	SHA256         string `json:"sha256"`
	Records        int    `json:"records"`
	Rows           int    `json:"rows"`
	Created        int    `json:"created"`
	Updated        int    `json:"updated"`
	Unchanged      int    `json:"unchanged"`
	Kept           int    `json:"kept"`
	Events         int    `json:"events"`
	// Resumed is how many records an earlier run of the same file had committed: they were
	// skipped this time.
	Resumed int `json:"resumed"`
	// Problems are the first MaxProblems problems; ProblemCount counts them all.
	Problems     []tabular.Problem `json:"problems"`
	ProblemCount int               `json:"problem_count"`
	Unmapped     []Unmapped        `json:"unmapped"`
	DryRun       bool              `json:"dry_run"`
	Applied      bool              `json:"applied"`
}

// MaxProblems bounds the problems a report lists.
const MaxProblems = 1000

// OK reports whether no record had a problem.
func (r *ImportReport) OK() bool { return r.ProblemCount == 0 }

func (r *ImportReport) add(row int, column, key string, m *msg.Message, args ...any) {
	r.addOn("", row, column, key, m, args...)
}

// addOn is add for a row of the worksheet sheet ("": the first).
func (r *ImportReport) addOn(sheet string, row int, column, key string, m *msg.Message, args ...any) {
	r.ProblemCount++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, tabular.Problem{Sheet: sheet, Row: row, Column: column, Key: key,
			Message: m.In(msg.EN, args...), MessageZH: m.In(msg.ZH, args...)})
	}
}

// Summary says in a sentence what the import did or would do, in lang.
func (r *ImportReport) Summary(lang string) string {
	switch {
	case !r.OK():
		return msgVendorSummaryRejected.In(lang, r.Records, r.ProblemCount, len(r.Unmapped))
	case r.Entity != "" && r.Entity != EntityCases:
		return r.entitySummary(lang)
	case r.DryRun:
		return msgVendorSummaryDry.In(lang, r.Records, r.Created, r.Updated, r.Unchanged, r.Kept)
	}
	return msgVendorSummary.In(lang, r.Records, r.Created, r.Updated, r.Unchanged, r.Kept, r.Events)
}

// mappedCase is a record mapped onto a case.
type mappedCase struct {
	row                         int
	recordID, number            string
	kind                        catalog.Kind
	class                       string
	source                      cases.Source
	description, address        string
	lon, lat                    float64
	grid, dept                  *string
	reporterName, reporterPhone string
	reportedAt                  time.Time
	history                     []mappedEvent
	hashes                      []string // one per history row
	digest                      string   // of the whole record
}

type mappedEvent struct {
	row                          int
	action                       cases.Action
	to                           cases.State
	post                         tenants.Role
	at                           time.Time
	vendorState, actor, deptName string
	dept                         *string
	remark                       string
	// overdue is the vendor's flag that the stage this row ended ran over its limit (the
	// history field overdue), and overdueRaw its value as written.
	overdue    bool
	overdueRaw string
}

// mapper maps records with a mapping and what the tenant knows.
type mapper struct {
	im       *Importer
	m        *Mapping
	depts    departments
	classes  map[ClassTarget]bool
	layouts  []string
	unmapped map[[2]string]*Unmapped
	order    [][2]string
}

func (p *mapper) col(f string) string { return p.m.Fields[f] }

func (p *mapper) miss(rep *ImportReport, row int, column, value string) {
	p.missOn(rep, "", row, column, value)
}

// missOn is miss for a row of the worksheet sheet ("": the first).
func (p *mapper) missOn(rep *ImportReport, sheet string, row int, column, value string) {
	k := [2]string{column, value}
	u := p.unmapped[k]
	if u == nil {
		u = &Unmapped{Column: column, Value: value, FirstRow: row, FirstSheet: sheet}
		p.unmapped[k], p.order = u, append(p.order, k)
	}
	u.Count++
	rep.addOn(sheet, row, column, "", msgVendorUnmapped, textutil.Truncate(value, 60), column)
}

func (p *mapper) time(s string) (time.Time, bool) {
	for _, l := range p.layouts {
		if t, err := time.ParseInLocation(l, s, clock.China); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

// class is our class of a record: through the class table, or the value itself as our code.
func (p *mapper) class(ctx context.Context, db bun.IDB, kind catalog.Kind, value string) (ClassTarget, bool, error) {
	if t, ok := p.m.Codes.Class[value]; ok {
		return t, true, nil
	}
	if kind == "" {
		return ClassTarget{}, false, nil
	}
	t := ClassTarget{Kind: kind, Code: value}
	if ok, seen := p.classes[t]; seen {
		return t, ok, nil
	}
	_, err := p.im.classes.LookupIn(ctx, db, kind, value)
	switch {
	case err == nil:
		p.classes[t] = true
	case errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid):
		p.classes[t] = false
	default:
		return t, false, err
	}
	return t, p.classes[t], nil
}

// mapRecord maps rec, adding what it cannot map to rep; nil when it could not.
func (p *mapper) mapRecord(ctx context.Context, db bun.IDB, rec *vendorRecord, rep *ImportReport) (*mappedCase, error) {
	mc, ok, err := p.mapAll(ctx, db, rec, rep)
	if !ok {
		return nil, err
	}
	return mc, nil
}

// mapAll maps rec as far as it can, adding what it cannot map to rep; ok is false when rec had a
// problem (mc then holds what could be mapped, for the console's preview, and is not sealed).
func (p *mapper) mapAll(ctx context.Context, db bun.IDB, rec *vendorRecord, rep *ImportReport) (mc *mappedCase, ok bool, err error) {
	before := rep.ProblemCount
	v := func(f string) string { return rec.values[p.col(f)] }
	for c, s := range rec.values {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) || len(s) > maxCell {
			rep.add(rec.row, c, "", msgVendorBadText, c)
			rec.values[c] = ""
		}
	}
	mc = &mappedCase{row: rec.row, recordID: v(FieldRecordID), number: v(FieldNumber), description: v(FieldDescription), address: v(FieldAddress),
		reporterName: v(FieldReporterName), reporterPhone: v(FieldReporterPhone)}
	switch {
	case mc.recordID == "":
		rep.add(rec.row, p.col(FieldRecordID), "", msgVendorNoRecordID, p.col(FieldRecordID))
	case len(mc.recordID) > 100:
		rep.add(rec.row, p.col(FieldRecordID), "", msgTooLong, p.col(FieldRecordID), 100)
	case rec.again > 0:
		rep.add(rec.row, p.col(FieldRecordID), mc.recordID, msgVendorAgain, textutil.Truncate(mc.recordID, 60), rec.again)
	}
	// Kind and class.
	var kind catalog.Kind
	if col := p.col(FieldKind); col != "" {
		kv := v(FieldKind)
		if k, ok := p.m.Codes.Kind[kv]; ok {
			kind = k
		} else if k, ok := catalog.ParseKind(kv); ok {
			kind = k
		} else if _, inTable := p.m.Codes.Class[v(FieldClassCode)]; !inTable {
			p.miss(rep, rec.row, col, kv)
		}
	}
	cv := v(FieldClassCode)
	t, ok, err := p.class(ctx, db, kind, cv)
	if err != nil {
		return nil, false, err
	}
	if ok {
		mc.kind, mc.class = t.Kind, t.Code
	} else if kind != "" || p.col(FieldKind) == "" {
		p.miss(rep, rec.row, p.col(FieldClassCode), cv)
	}
	// Source.
	mc.source = cases.FromCitizen
	if sv := v(FieldSource); sv != "" {
		if s, ok := p.m.Codes.Source[sv]; ok {
			mc.source = s
		} else if slices.Contains(cases.Sources, cases.Source(sv)) {
			mc.source = cases.Source(sv)
		} else {
			p.miss(rep, rec.row, p.col(FieldSource), sv)
		}
	}
	// Place.
	lon, errLon := strconv.ParseFloat(v(FieldLon), 64)
	lat, errLat := strconv.ParseFloat(v(FieldLat), 64)
	if errLon != nil || errLat != nil || !grids.InChina(lon, lat) {
		rep.add(rec.row, p.col(FieldLon), "", msgVendorPoint, textutil.Truncate(v(FieldLon), 20), textutil.Truncate(v(FieldLat), 20))
	}
	mc.lon, mc.lat = lon, lat
	if g := v(FieldGridCode); g != "" {
		if len(g) != 14 || strings.Trim(g, "0123456789") != "" {
			rep.add(rec.row, p.col(FieldGridCode), "", msgVendorGrid, textutil.Truncate(g, 30))
		}
		mc.grid = &g
	}
	if dv := v(FieldDepartment); dv != "" {
		mc.dept = p.department(rep, "", rec.row, p.col(FieldDepartment), dv, true)
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{FieldDescription, mc.description, 2000}, {FieldAddress, mc.address, 200}, {FieldReporterName, mc.reporterName, 50}, {FieldReporterPhone, mc.reporterPhone, 30}} {
		if utf8.RuneCountInString(f.value) > f.max {
			rep.add(rec.row, p.col(f.field), "", msgTooLong, p.col(f.field), f.max)
		}
	}
	if rv := v(FieldReportedAt); rv != "" {
		if mc.reportedAt, ok = p.time(rv); !ok {
			rep.add(rec.row, p.col(FieldReportedAt), "", msgVendorTime, textutil.Truncate(rv, 40))
		}
	}
	// History.
	hf := p.m.History.Fields
	if len(rec.history) == 0 {
		rep.add(rec.row, "", mc.recordID, msgVendorNoHistory, textutil.Truncate(mc.recordID, 60))
	}
	var state cases.State
	for i, h := range rec.history {
		for c, s := range h.values {
			if strings.ContainsRune(s, 0) || !utf8.ValidString(s) || len(s) > maxCell {
				rep.addOn(h.sheet, h.row, c, "", msgVendorBadText, c)
				h.values[c] = ""
			}
		}
		e := mappedEvent{row: h.row, vendorState: h.values[hf[HistoryState]], actor: textutil.Truncate(h.values[hf[HistoryActor]], 100),
			deptName: textutil.Truncate(h.values[hf[HistoryDepartment]], 100), remark: textutil.Truncate(h.values[hf[HistoryRemark]], 2000)}
		a, ok := p.m.Codes.State[e.vendorState]
		if !ok {
			p.missOn(rep, h.sheet, h.row, hf[HistoryState], e.vendorState)
		} else {
			e.action = a
			e.to, e.post, _ = cases.ActionResult(a)
			if e.to == "" {
				e.to = state
			}
			if a == cases.Report && mc.source == cases.FromInspector {
				e.post = tenants.Inspector
			}
			if i == 0 && a != cases.Report && a != cases.SelfHandle {
				rep.addOn(h.sheet, h.row, hf[HistoryState], mc.recordID, msgVendorFirstReport, textutil.Truncate(e.vendorState, 40))
			}
			if i > 0 && (a == cases.Report || a == cases.SelfHandle) {
				rep.addOn(h.sheet, h.row, hf[HistoryState], mc.recordID, msgVendorReportAgain, textutil.Truncate(e.vendorState, 40))
			}
			state = e.to
		}
		if e.at, ok = p.time(h.values[hf[HistoryAt]]); !ok {
			rep.addOn(h.sheet, h.row, hf[HistoryAt], "", msgVendorTime, textutil.Truncate(h.values[hf[HistoryAt]], 40))
		} else if i > 0 && e.at.Before(mc.history[i-1].at) {
			rep.addOn(h.sheet, h.row, hf[HistoryAt], mc.recordID, msgVendorTimeOrder, textutil.Truncate(h.values[hf[HistoryAt]], 40))
		}
		if col := hf[HistoryOverdue]; col != "" {
			if e.overdueRaw = h.values[col]; e.overdueRaw != "" {
				var known bool
				if e.overdue, known = p.overdue(e.overdueRaw); !known {
					p.miss(rep, h.row, col, e.overdueRaw)
				}
			}
		}
		if e.deptName != "" && len(p.m.Codes.Department) > 0 {
			e.dept = p.department(rep, h.sheet, h.row, hf[HistoryDepartment], e.deptName, false)
		}
		mc.history = append(mc.history, e)
	}
	if mc.reportedAt.IsZero() && len(mc.history) > 0 {
		mc.reportedAt = mc.history[0].at
	}
	if rep.ProblemCount > before {
		return mc, false, nil
	}
	mc.seal()
	return mc, true, nil
}

// overdueWords are the overdue flags understood without a code table.
var overdueWords = map[string]bool{"是": true, "否": false, "超时": true, "超期": true, "未超时": false, "未超期": false, "正常": false,
	"Y": true, "N": false, "y": true, "n": false, "1": true, "0": false, "true": true, "false": false, "TRUE": true, "FALSE": false}

// overdue reads a history row's overdue flag: through the table, or one of the usual words.
func (p *mapper) overdue(v string) (late, known bool) {
	if late, known = p.m.Codes.Overdue[v]; known {
		return late, true
	}
	late, known = overdueWords[strings.TrimSpace(v)]
	return late, known
}

// department maps a vendor's department: through the table, or (for the case's own, with no
// table) as our department code.
func (p *mapper) department(rep *ImportReport, sheet string, row int, column, value string, own bool) *string {
	code, ok := p.m.Codes.Department[value]
	if !ok && own && len(p.m.Codes.Department) == 0 {
		code, ok = value, true
	}
	if id, known := p.depts[code]; ok && known {
		return &id
	}
	p.missOn(rep, sheet, row, column, value)
	return nil
}

// seal computes the digests: one per history row, and one of the whole record.
func (mc *mappedCase) seal() {
	sum := func(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)[:16]) }
	all := sha256.New()
	for _, s := range []string{mc.recordID, mc.number, string(mc.kind), mc.class, string(mc.source), mc.description, mc.address,
		strconv.FormatFloat(mc.lon, 'g', -1, 64), strconv.FormatFloat(mc.lat, 'g', -1, 64), deref(mc.grid), deref(mc.dept),
		mc.reporterName, mc.reporterPhone, mc.reportedAt.Format(time.RFC3339Nano)} {
		fmt.Fprintf(all, "%d:%s;", len(s), s)
	}
	mc.hashes = make([]string, len(mc.history))
	for i, e := range mc.history {
		h := sha256.New()
		for _, s := range []string{string(e.action), e.at.Format(time.RFC3339Nano), e.vendorState, e.actor, e.deptName, e.remark} {
			fmt.Fprintf(h, "%d:%s;", len(s), s)
		}
		if e.overdueRaw != "" { // only then: the digests of rows imported before the flag existed stay
			fmt.Fprintf(h, "overdue%d:%s;", len(e.overdueRaw), e.overdueRaw)
		}
		mc.hashes[i] = sum(h)
		fmt.Fprintf(all, "%s;", mc.hashes[i])
	}
	mc.digest = sum(all)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// recordRow is the ledger's row of one imported record.
type recordRow struct {
	bun.BaseModel `bun:"table:vendor_records,alias:r"`
	Vendor        string    `bun:"vendor,pk"`
	RecordID      string    `bun:"record_id,pk"`
	CaseID        string    `bun:"case_id"`
	Digest        string    `bun:"digest"`
	Events        int       `bun:"events"`
	History       string    `bun:"history"`
	RunID         string    `bun:"run_id"`
	UpdatedAt     time.Time `bun:"updated_at"`
	// caseVersion is the case's version now (joined, not stored).
	CaseVersion int `bun:"case_version,scanonly"`
}

// Run is one import run of a vendor's file, as the ledger keeps it.
type Run struct {
	bun.BaseModel  `bun:"table:vendor_runs"`
	ID             string `bun:"id,pk" json:"id"`
	Vendor         string `bun:"vendor" json:"vendor"`
	MappingVersion int    `bun:"mapping_version" json:"mapping_version"`
	FileSHA256     string `bun:"file_sha256" json:"file_sha256"`
	FileName       string `bun:"file_name" json:"file_name"`
	Entity         Entity `bun:"entity" json:"entity"`
	State          string `bun:"state" json:"state"` // running | done
	RecordsDone    int    `bun:"records_done" json:"records_done"`
	// RecordsTotal is how many records the file holds (tenant migration exchange.0004; 0 for
	// runs from before it).
	RecordsTotal int        `bun:"records_total" json:"records_total"`
	Created      int        `bun:"created" json:"created"`
	Updated      int        `bun:"updated" json:"updated"`
	Unchanged    int        `bun:"unchanged" json:"unchanged"`
	Kept         int        `bun:"kept" json:"kept"`
	Events       int        `bun:"events" json:"events"`
	StartedBy    string     `bun:"started_by" json:"started_by"`
	StartedAt    time.Time  `bun:"started_at" json:"started_at"`
	FinishedAt   *time.Time `bun:"finished_at" json:"finished_at"`
}

// plan is what an import does with one mapped record.
type plan int

const (
	planCreate plan = iota + 1
	planUpdate
	planUnchanged
	planKept
)

// ledgerOf returns the ledger rows of the chunk's record ids, with their cases' versions.
func ledgerOf(ctx context.Context, db bun.IDB, vendor string, mcs []*mappedCase) (map[string]*recordRow, error) {
	ids := make([]string, 0, len(mcs))
	for _, mc := range mcs {
		ids = append(ids, mc.recordID)
	}
	out := map[string]*recordRow{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		var rows []*recordRow
		q := db.NewSelect().Model(&rows).ColumnExpr("r.*").ColumnExpr("c.version AS case_version")
		if db.Dialect().Name() == dialect.PG {
			// One primary-key lookup per id, fenced (OFFSET 0) so that the planner cannot turn it
			// into a scan of the vendor's whole ledger: during a large import the ledger grows far
			// faster than autovacuum analyses it, and with stale statistics an IN list was planned
			// as such a scan (0.2 s a chunk at 400,000 records, 2.7 ms fenced).
			q = q.ModelTableExpr("unnest(?::text[]) AS k(id)", pgdialect.Array(part)).
				Join("CROSS JOIN LATERAL (SELECT * FROM vendor_records AS r WHERE r.vendor = ? AND r.record_id = k.id OFFSET 0) AS r", vendor)
		} else {
			q = q.ModelTableExpr("vendor_records AS r").Where("r.vendor = ?", vendor).Where("r.record_id IN (?)", bun.List(part))
		}
		if err := q.Join("JOIN cases AS c ON c.id = r.case_id").Scan(ctx); err != nil {
			return nil, dbx.Translate(err)
		}
		for _, r := range rows {
			out[r.RecordID] = r
		}
	}
	return out, nil
}

// planOf decides what to do with mc given its ledger row (nil: never imported); a corrected
// record whose history does not continue what was imported is a problem (history is append-only).
func planOf(mc *mappedCase, r *recordRow, rep *ImportReport) plan {
	switch {
	case r == nil:
		return planCreate
	case r.Digest == mc.digest:
		return planUnchanged
	case r.CaseVersion != r.Events:
		return planKept
	}
	var old []string
	_ = json.Unmarshal([]byte(r.History), &old)
	if len(mc.hashes) < len(old) || !slices.Equal(old, mc.hashes[:len(old)]) {
		n := 0
		for n < len(old) && n < len(mc.hashes) && old[n] == mc.hashes[n] {
			n++
		}
		row := mc.row
		if n < len(mc.history) {
			row = mc.history[n].row
		}
		rep.add(row, "", mc.recordID, msgVendorHistoryChanged, textutil.Truncate(mc.recordID, 60), n+1)
		return 0
	}
	return planUpdate
}

func (rep *ImportReport) count(p plan, events int) {
	switch p {
	case planCreate:
		rep.Created++
		rep.Events += events
	case planUpdate:
		rep.Updated++
		rep.Events += events
	case planUnchanged:
		rep.Unchanged++
	case planKept:
		rep.Kept++
	}
}

// Import imports file with the tenant's mapping for opts.Vendor: first it maps every record and
// checks it against what was imported before; with a problem anywhere, or DryRun, it stops there
// and reports. Otherwise it writes, opts.Chunk records a transaction, each with its progress, so
// that a run cut short continues where it stopped when the same file is imported again. Tenant
// admins and the system scope only; audited as exchange.vendor_import.
func (im *Importer) Import(ctx context.Context, file VendorFile, opts ImportOptions) (*ImportReport, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	format := file.Format
	if format == "" {
		if format, err = VendorFormatOf(file.Name); err != nil {
			return nil, err
		}
	}
	p := &mapper{im: im, classes: map[ClassTarget]bool{}, unmapped: map[[2]string]*Unmapped{}}
	if err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if p.m, err = findMapping(ctx, db, opts.Vendor, opts.MappingVersion); err != nil {
			return err
		}
		p.depts, err = loadDepartments(ctx, db)
		return err
	}); err != nil {
		return nil, err
	}
	if !p.m.mapsCases() {
		return nil, errs.E(errs.Invalid, msgVendorNoCaseFields, p.m.Vendor)
	}
	p.layouts = p.m.TimeLayouts
	if len(p.layouts) == 0 {
		p.layouts = DefaultTimeLayouts
	}
	rep := &ImportReport{Entity: EntityCases, Vendor: p.m.Vendor, MappingVersion: p.m.Version, File: file.Name, DryRun: opts.DryRun, Problems: []tabular.Problem{}, Unmapped: []Unmapped{}}

	// Check: map every record, and plan it against the ledger.
	h := sha256.New()
	err = im.each(ctx, file, format, p, h, 0, rep, func(ctx context.Context, mcs []*mappedCase) error {
		return im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			ledger, err := ledgerOf(ctx, db, p.m.Vendor, mcs)
			if err != nil {
				return err
			}
			for _, mc := range mcs {
				pl := planOf(mc, ledger[mc.recordID], rep)
				rep.count(pl, newEvents(mc, ledger[mc.recordID]))
			}
			return nil
		})
	}, func(n int) {
		if opts.Progress != nil {
			opts.Progress(ImportProgress{Phase: "check", Records: n})
		}
	})
	if err != nil {
		return nil, err
	}
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	for _, k := range p.order {
		rep.Unmapped = append(rep.Unmapped, *p.unmapped[k])
	}
	if !rep.OK() || opts.DryRun {
		return rep, nil
	}

	// Write, continuing a run of the same file that was cut short.
	run, err := im.startRun(ctx, p.m, file.Name, rep.SHA256, rep.Records)
	if err != nil {
		return nil, err
	}
	rep.RunID, rep.Resumed = run.ID, run.RecordsDone
	rep.Created, rep.Updated, rep.Unchanged, rep.Kept, rep.Events = 0, 0, 0, 0, 0
	done := run.RecordsDone
	err = im.each(ctx, file, format, p, nil, run.RecordsDone, rep, func(ctx context.Context, mcs []*mappedCase) error {
		done += len(mcs)
		return im.write(ctx, sc.Tenant, p.m, run, mcs, done)
	}, func(n int) {
		if opts.Progress != nil {
			opts.Progress(ImportProgress{Phase: "write", Records: n})
		}
	})
	if err != nil {
		return nil, err
	}
	if !rep.OK() { // the file changed between the passes
		return rep, nil
	}
	now := im.now().UTC().Truncate(time.Microsecond)
	if err := im.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewUpdate().Model(run).Set("state = 'done'").Set("finished_at = ?", now).WherePK().Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return nil, err
	}
	rep.Created, rep.Updated, rep.Unchanged, rep.Kept, rep.Events = run.Created, run.Updated, run.Unchanged, run.Kept, run.Events
	rep.Applied = true
	if im.changed != nil && (run.Events > 0 || run.Updated > 0) {
		im.changed(ctx, sc.Tenant.ID)
	}
	if im.usage != nil && run.Created > 0 {
		if err := im.usage.Record(context.WithoutCancel(ctx), sc.Tenant.ID, cases.MeterCasesCreated, int64(run.Created), "vendor-import:"+run.ID); err != nil {
			im.log.Error("usage not recorded; the import is done", "tenant", sc.Tenant.Slug, "run", run.ID, "err", err)
		}
	}
	if err := im.gate.AuditTenant(ctx, "exchange.vendor_import", p.m.Vendor, map[string]any{"run": run.ID, "file": file.Name, "sha256": rep.SHA256,
		"mapping_version": p.m.Version, "records": rep.Records, "created": run.Created, "updated": run.Updated, "unchanged": run.Unchanged,
		"kept": run.Kept, "events": run.Events, "resumed": rep.Resumed}); err != nil {
		im.log.Error("audit not written", "action", "exchange.vendor_import", "err", err)
	}
	return rep, nil
}

// newEvents is how many history rows of mc are not in the ledger yet.
func newEvents(mc *mappedCase, r *recordRow) int {
	if r == nil {
		return len(mc.history)
	}
	return max(0, len(mc.history)-r.Events)
}

// each reads file, maps its records in chunks and hands each chunk of mapped records to fn;
// records up to skip are read (and hashed) but not mapped. h, when given, hashes the whole file.
func (im *Importer) each(ctx context.Context, file VendorFile, format VendorFormat, p *mapper, h hash.Hash, skip int, rep *ImportReport,
	fn func(ctx context.Context, mcs []*mappedCase) error, progress func(n int)) error {
	rc, err := file.Open()
	if err != nil {
		return errs.Wrap(err, errs.Invalid, msgVendorOpen, textutil.Truncate(file.Name, 80))
	}
	defer rc.Close()
	var r io.Reader = rc
	if h != nil {
		r = io.TeeReader(rc, h)
	}
	rr, closer, err := newRecordReader(r, format, p.m)
	if err != nil {
		return err
	}
	defer closer.Close()
	n := 0
	var recs []*vendorRecord
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		var mcs []*mappedCase
		err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			for _, rec := range recs {
				mc, err := p.mapRecord(ctx, db, rec, rep)
				if err != nil {
					return err
				}
				if mc != nil {
					mcs = append(mcs, mc)
				}
			}
			return nil
		})
		recs = recs[:0]
		if err != nil {
			return err
		}
		if len(mcs) > 0 && rep.OK() {
			if err := fn(ctx, mcs); err != nil {
				return err
			}
		}
		progress(n)
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rr.next()
		if errors.Is(err, io.EOF) {
			// History rows no record took (a history sheet's rows of records not on the first).
			if lr, ok := rr.(interface{ leftovers() []orphanRow }); ok {
				for _, o := range lr.leftovers() {
					if o.id == "" {
						rep.addOn(o.sheet, o.row, o.column, "", msgVendorRowNoID, o.column)
					} else {
						rep.addOn(o.sheet, o.row, o.column, o.id, msgVendorOrphanRow, textutil.Truncate(o.id, 60), o.first)
					}
				}
			}
			break
		}
		if err != nil {
			return err
		}
		n++
		if h != nil {
			rep.Records, rep.Rows = n, rr.rows()
		}
		if n <= skip {
			continue
		}
		recs = append(recs, rec)
		if len(recs) >= im.chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if h != nil {
		_, _ = io.Copy(io.Discard, r) // the rest of the file, for its hash
	}
	return nil
}

// startRun returns the unfinished run of this file and mapping version, or a new one, of total
// records.
func (im *Importer) startRun(ctx context.Context, m *Mapping, name, sum string, total int) (*Run, error) {
	run := &Run{}
	err := im.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		err := db.NewSelect().Model(run).Where("vendor = ? AND file_sha256 = ? AND mapping_version = ? AND state = 'running'", m.Vendor, sum, m.Version).
			Order("started_at DESC").Limit(1).Scan(ctx)
		if err == nil {
			run.RecordsTotal = total
			_, err = db.NewUpdate().Model(run).Column("records_total").WherePK().Exec(ctx)
			return dbx.Translate(err)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbx.Translate(err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		*run = Run{ID: id.String(), Entity: EntityCases, Vendor: m.Vendor, MappingVersion: m.Version, FileSHA256: sum, FileName: textutil.Truncate(name, 200),
			State: "running", RecordsTotal: total, StartedBy: actorOf(ctx), StartedAt: im.now().UTC().Truncate(time.Microsecond)}
		_, err = db.NewInsert().Model(run).Exec(ctx)
		return dbx.Translate(err)
	})
	return run, err
}

// write commits one chunk: its new cases with their history, the corrected ones, the ledger and
// the run's progress, all or nothing.
func (im *Importer) write(ctx context.Context, t *tenants.Tenant, m *Mapping, run *Run, mcs []*mappedCase, done int) error {
	// The reporters' personal data is encrypted before the transaction, as the case loop does:
	// a key store that is down fails the chunk and writes nothing.
	// Only the records to be written need it: a re-run of a file imported before needs no key.
	var before map[string]*recordRow
	if err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		before, err = ledgerOf(ctx, db, m.Vendor, mcs)
		return err
	}); err != nil {
		return err
	}
	var plain [][]byte
	slot := map[int]int{} // 2·record (+1 for the phone) → its ciphertext
	sealedFor := map[string]bool{}
	for i, mc := range mcs {
		if pl := planOf(mc, before[mc.recordID], &ImportReport{}); pl != planCreate && pl != planUpdate {
			continue
		}
		sealedFor[mc.recordID] = true
		for j, v := range []string{mc.reporterName, mc.reporterPhone} {
			if v != "" {
				slot[2*i+j] = len(plain)
				plain = append(plain, []byte(v))
			}
		}
	}
	var sealed []string
	if len(plain) > 0 {
		var err error
		if sealed, err = im.cipher.EncryptBatch(ctx, t.ID, plain); err != nil {
			return err
		}
	}
	enc := func(k int) *string {
		if i, ok := slot[k]; ok {
			return &sealed[i]
		}
		return nil
	}
	now := im.now().UTC().Truncate(time.Microsecond)
	next := *run
	err := im.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		ledger, err := ledgerOf(ctx, db, m.Vendor, mcs)
		if err != nil {
			return err
		}
		var newCases []*cases.Case
		var events []*cases.Event
		var records, fresh []*recordRow
		var written []string // the cases created or updated, for the case list's filter import_run
		for i, mc := range mcs {
			r := ledger[mc.recordID]
			rep := &ImportReport{}
			pl := planOf(mc, r, rep)
			if !rep.OK() { // checked before: another import of the vendor wrote it meanwhile
				return errs.E(errs.Conflict, msgVendorBusy, m.Vendor)
			}
			switch pl {
			case planUnchanged:
				next.Unchanged++
				continue
			case planKept:
				next.Kept++
				continue
			}
			if !sealedFor[mc.recordID] { // another import of the vendor wrote it meanwhile
				return errs.E(errs.Conflict, msgVendorBusy, m.Vendor)
			}
			c := &cases.Case{Version: 0}
			from := 0
			if pl == planUpdate {
				if c, err = findCaseIn(ctx, db, r.CaseID); err != nil {
					return err
				}
				from = r.Events
			} else {
				id, err := uuid.NewV7()
				if err != nil {
					return err
				}
				c.ID, c.ExtensionsText, c.PausesText, c.CreatedAt = id.String(), "[]", "[]", mc.reportedAt
				c.ReportedBy = textutil.Truncate("import:"+m.Vendor, 120)
			}
			mc.fill(c, enc(2*i), enc(2*i+1))
			written = append(written, c.ID)
			evs, err := mc.events(c, from, m.Vendor, run.ID)
			if err != nil {
				return err
			}
			events = append(events, evs...)
			hist, _ := json.Marshal(mc.hashes)
			rr := &recordRow{Vendor: m.Vendor, RecordID: mc.recordID, CaseID: c.ID, Digest: mc.digest, Events: len(mc.history),
				History: string(hist), RunID: run.ID, UpdatedAt: now}
			if pl == planCreate {
				fresh = append(fresh, rr)
			} else {
				records = append(records, rr)
			}
			if pl == planCreate {
				newCases = append(newCases, c)
				next.Created++
			} else {
				if _, err := db.NewUpdate().Model(c).Column("state", "version", "source", "kind", "class_code", "description", "address", "lon", "lat",
					"grid_code", "department_id", "reporter_name_enc", "reporter_phone_enc", "stage", "stage_started_at", "supervised", "self_handled",
					"updated_at", "closed_at").WherePK().Exec(ctx); err != nil {
					return dbx.Translate(err)
				}
				next.Updated++
			}
			next.Events += len(evs)
		}
		if err := cases.InsertImportedIn(ctx, db, t, newCases, events); err != nil {
			return err
		}
		if err := cases.MarkImportedIn(ctx, db, run.ID, written); err != nil {
			return err
		}
		// The ledger rows of new records are loaded (COPY on PostgreSQL); a corrected record's is
		// replaced.
		if err := tenants.CopyFrom(ctx, db, fresh, 500); err != nil {
			return err
		}
		for len(records) > 0 {
			part := records[:min(len(records), 500)]
			records = records[len(part):]
			if _, err := db.NewInsert().Model(&part).On("CONFLICT (vendor, record_id) DO UPDATE").
				Set("case_id = EXCLUDED.case_id, digest = EXCLUDED.digest, events = EXCLUDED.events, history = EXCLUDED.history, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at").
				Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		next.RecordsDone = done
		_, err = db.NewUpdate().Model(&next).Column("records_done", "created", "updated", "unchanged", "kept", "events").WherePK().Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return err
	}
	*run = next
	return nil
}

func findCaseIn(ctx context.Context, db bun.IDB, id string) (*cases.Case, error) {
	c := &cases.Case{}
	if err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return c, nil
}

// fill sets c's fields from mc, its state and stage from mc's last history row.
func (mc *mappedCase) fill(c *cases.Case, name, phone *string) {
	last := mc.history[len(mc.history)-1]
	c.Source, c.Kind, c.ClassCode, c.Description, c.Address = mc.source, mc.kind, mc.class, mc.description, mc.address
	c.Lon, c.Lat, c.GridCode, c.DepartmentID = mc.lon, mc.lat, mc.grid, mc.dept
	c.ReporterNameEnc, c.ReporterPhoneEnc = name, phone
	c.State, c.Version, c.UpdatedAt, c.ClosedAt = last.to, len(mc.history), last.at, nil
	if c.State == cases.Closed || c.State == cases.Voided {
		at := last.at
		c.ClosedAt = &at
	}
	c.Stage, c.StageStartedAt = cases.StageOf(c.State), nil
	if c.Stage != "" {
		at := last.at
		c.StageStartedAt = &at
	}
	c.Supervised = slices.ContainsFunc(mc.history, func(e mappedEvent) bool { return e.action == cases.Supervise }) && !c.State.Final()
	c.SelfHandled = mc.history[0].action == cases.SelfHandle
}

// events are mc's history rows from index from on as case events of c, marked as imported.
func (mc *mappedCase) events(c *cases.Case, from int, vendor, run string) ([]*cases.Event, error) {
	var out []*cases.Event
	prev := ""
	if from > 0 {
		prev = string(mc.history[from-1].to)
	}
	for i := from; i < len(mc.history); i++ {
		e := mc.history[i]
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		imported := map[string]any{"vendor": vendor, "record": mc.recordID, "run": run, "state": e.vendorState}
		if i == 0 && mc.number != "" {
			imported["number"] = mc.number
		}
		if e.actor != "" {
			imported["actor"] = e.actor
		}
		if e.deptName != "" {
			imported["department"] = e.deptName
		}
		if e.dept != nil {
			imported["department_id"] = *e.dept
		}
		d := map[string]any{"imported": imported}
		if e.overdueRaw != "" {
			imported["overdue"] = e.overdueRaw
		}
		if e.overdue {
			// As the case loop records a stage that ran over its limit: the evaluation's on-time
			// indicators read it.
			d["stage"] = map[string]any{"overdue": true}
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		out = append(out, &cases.Event{ID: id.String(), CaseID: c.ID, Version: i + 1, Action: e.action, From: prev, To: e.to,
			ActorID: textutil.Truncate("import:"+vendor, 120), Post: e.post, Reason: e.remark, AttachmentsText: "[]", Detail: detail, At: e.at})
		prev = string(e.to)
	}
	return out, nil
}

// FindRuns returns the tenant's import runs, newest first (at most 100).
func (im *Importer) FindRuns(ctx context.Context) ([]Run, error) {
	if _, err := scope(ctx); err != nil {
		return nil, err
	}
	runs := []Run{}
	err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&runs).Order("started_at DESC").Limit(100).Scan(ctx)
	})
	return runs, err
}
