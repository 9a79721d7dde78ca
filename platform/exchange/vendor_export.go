package exchange

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
)

// VendorExportOptions say how to write the tenant's cases in a vendor's shape.
type VendorExportOptions struct {
	// Vendor names the mapping; MappingVersion picks a version of it (0: the newest).
	Vendor         string
	MappingVersion int
	// Format is csv (UTF-8 with a byte order mark), xlsx or json: the shapes the import reads.
	Format VendorFormat
	// PersonalData clear writes the reporters' names and phones decrypted (a reason is then
	// required, and the export is audited with it); encrypted (the default) leaves those columns
	// empty: the vendor's system could not read our ciphertext.
	PersonalData tenants.PersonalData
	Reason       string
	// Imported limits the export to the cases imported from this vendor (its records, for the
	// vendor's own system to read back); otherwise every case of the tenant goes out.
	Imported bool
}

// VendorExportReport is what an export wrote: records and rows, and the values of ours the
// mapping has no vendor code for (written as ours), by column.
type VendorExportReport struct {
	Vendor         string     `json:"vendor"`
	MappingVersion int        `json:"mapping_version"`
	Format         string     `json:"format"`
	Records        int        `json:"records"`
	Rows           int        `json:"rows"`
	Unmapped       []Unmapped `json:"unmapped"`
}

// exportPage is how many cases an export reads at a time.
const exportPage = 1000

// Export writes every case of the tenant, with its whole history, in the vendor's shape: the
// mapping read backwards (the columns it names, our codes turned into the vendor's through its
// code tables). A case imported from this vendor goes out under the vendor's record id and
// number with its history rows as the vendor wrote them (state, actor, department: kept when it
// was imported); any other case under our number. Importing the file again with the same mapping
// changes nothing (the round trip). It reads in one read-only transaction, a page of cases at a
// time. Tenant admins and the system scope; audited as exchange.vendor_export (with the reason
// when personal data is written in clear).
func (im *Importer) Export(ctx context.Context, w io.Writer, opts VendorExportOptions) (*VendorExportReport, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	if opts.PersonalData == "" {
		opts.PersonalData = tenants.PersonalDataEncrypted
	}
	if err := opts.PersonalData.Check(); err != nil {
		return nil, err
	}
	reason, err := tenants.CheckReason(opts.Reason, opts.PersonalData == tenants.PersonalDataClear)
	if err != nil {
		return nil, err
	}
	var out vendorWriter
	switch opts.Format {
	case VendorCSV:
		out = newCSVWriter(w)
	case VendorXLSX:
		out = newXLSXWriterFor(w)
	case VendorJSON:
		out = newJSONWriter(w)
	default:
		return nil, errs.E(errs.Unsupported, msgVendorFormat)
	}
	x := &exporter{im: im, tenant: sc.Tenant, imported: opts.Imported, clear: opts.PersonalData == tenants.PersonalDataClear, unmapped: map[[2]string]*Unmapped{}}
	err = im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if x.m, err = findMapping(ctx, db, opts.Vendor, opts.MappingVersion); err != nil {
			return err
		}
		depts, err := loadDepartments(ctx, db)
		if err != nil {
			return err
		}
		x.prepare(depts)
		if err := out.header(x.m, x.caseCols, x.histCols); err != nil {
			return err
		}
		return x.each(ctx, db, out)
	})
	if err != nil {
		return nil, err
	}
	if err := out.close(); err != nil {
		return nil, err
	}
	rep := &VendorExportReport{Vendor: x.m.Vendor, MappingVersion: x.m.Version, Format: string(opts.Format), Records: x.records, Rows: x.rows, Unmapped: []Unmapped{}}
	for _, k := range x.order {
		rep.Unmapped = append(rep.Unmapped, *x.unmapped[k])
	}
	detail := map[string]any{"format": opts.Format, "mapping_version": x.m.Version, "records": x.records, "personal_data": opts.PersonalData}
	if reason != "" {
		detail["reason"] = reason
	}
	if opts.Imported {
		detail["imported"] = true
	}
	if err := im.gate.AuditTenant(ctx, "exchange.vendor_export", x.m.Vendor, detail); err != nil {
		return nil, err
	}
	return rep, nil
}

// exporter reads the mapping backwards.
type exporter struct {
	im                 *Importer
	tenant             *tenants.Tenant
	m                  *Mapping
	clear, imported    bool
	caseCols, histCols []string // our fields that have a column, in CaseFields and HistoryFields order
	kind               map[catalog.Kind]string
	class              map[ClassTarget]string
	state              map[cases.Action]string
	source             map[cases.Source]string
	dept               map[string]string // our department id → the vendor's name (or our code)
	layout             string
	records, rows      int
	unmapped           map[[2]string]*Unmapped
	order              [][2]string
}

// invert turns a code table around; where several vendor values map to one of ours, the
// smallest goes out.
func invert[K comparable, V comparable](t map[K]V, key func(K) string) map[V]K {
	out := map[V]K{}
	for _, k := range slices.SortedFunc(maps.Keys(t), func(a, b K) int { return cmp.Compare(key(a), key(b)) }) {
		if _, ok := out[t[k]]; !ok {
			out[t[k]] = k
		}
	}
	return out
}

func (x *exporter) prepare(depts departments) {
	m := x.m
	// One column per vendor column: where two fields share one (the record id and the number
	// often do), the first in CaseFields' order fills it.
	seen := map[string]bool{}
	for _, f := range CaseFields {
		if c := m.Fields[f]; c != "" && !seen[c] {
			seen[c], x.caseCols = true, append(x.caseCols, f)
		}
	}
	for _, f := range HistoryFields {
		if c := m.History.Fields[f]; c != "" && !seen[c] {
			seen[c], x.histCols = true, append(x.histCols, f)
		}
	}
	id := func(s string) string { return s }
	x.kind = invert(m.Codes.Kind, id)
	x.class = invert(m.Codes.Class, id)
	x.state = invert(m.Codes.State, id)
	x.source = invert(m.Codes.Source, id)
	x.dept = map[string]string{}
	byCode := invert(m.Codes.Department, id)
	for code, deptID := range depts {
		switch name, ok := byCode[code]; {
		case ok:
			x.dept[deptID] = name
		case len(m.Codes.Department) == 0:
			x.dept[deptID] = code
		}
	}
	x.layout = DefaultTimeLayouts[0]
	if len(m.TimeLayouts) > 0 {
		x.layout = m.TimeLayouts[0]
	}
}

// miss counts a value of ours the mapping has no vendor code for.
func (x *exporter) miss(column, value string, row int) {
	k := [2]string{column, value}
	u := x.unmapped[k]
	if u == nil {
		u = &Unmapped{Column: column, Value: value, FirstRow: row}
		x.unmapped[k], x.order = u, append(x.order, k)
	}
	u.Count++
}

// backCode writes ours through a backwards table: the vendor's code, or ours when the table has
// none for it (counted, unless the table is empty: the import then takes ours as they are).
func backCode[K ~string](x *exporter, t map[K]string, ours K, column string, size int) string {
	if v, ok := t[ours]; ok {
		return v
	}
	if size > 0 && column != "" && ours != "" {
		x.miss(column, string(ours), x.rows+2)
	}
	return string(ours)
}

// overdueWord writes a stage's outcome as the vendor's overdue flag: its code for it, else 是/否.
func (x *exporter) overdueWord(late bool) string {
	for _, v := range slices.Sorted(maps.Keys(x.m.Codes.Overdue)) {
		if x.m.Codes.Overdue[v] == late {
			return v
		}
	}
	if late {
		return "是"
	}
	return "否"
}

// exportCase is one case with its history, ready to write.
type exportCase struct {
	values  map[string]string // by our field
	history []map[string]string
}

// importedDetail is what an imported event keeps of the vendor's row.
type importedDetail struct {
	Imported *struct {
		Vendor     string `json:"vendor"`
		Record     string `json:"record"`
		State      string `json:"state"`
		Actor      string `json:"actor"`
		Department string `json:"department"`
		Number     string `json:"number"`
		Overdue    string `json:"overdue"`
	} `json:"imported"`
	Stage *struct {
		Overdue bool `json:"overdue"`
	} `json:"stage"`
}

func (x *exporter) each(ctx context.Context, db bun.IDB, out vendorWriter) error {
	var after struct {
		at time.Time
		id string
	}
	for {
		var page []*cases.Case
		q := db.NewSelect().Model(&page).OrderExpr("created_at, id").Limit(exportPage)
		if after.id != "" {
			q = q.Where("created_at > ? OR (created_at = ? AND id > ?)", after.at, after.at, after.id)
		}
		if x.imported {
			q = q.Where("id IN (SELECT case_id FROM vendor_records WHERE vendor = ?)", x.m.Vendor)
		}
		if err := q.Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		if len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		after.at, after.id = last.CreatedAt, last.ID
		ids := make([]string, len(page))
		for i, c := range page {
			ids[i] = c.ID
		}
		var events []*cases.Event
		if err := db.NewSelect().Model(&events).Where("case_id IN (?)", bun.List(ids)).Order("case_id", "version").Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		byCase := map[string][]*cases.Event{}
		for _, e := range events {
			byCase[e.CaseID] = append(byCase[e.CaseID], e)
		}
		var ledger []recordRow
		if err := db.NewSelect().Model(&ledger).Where("vendor = ?", x.m.Vendor).Where("case_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		recordOf := map[string]string{}
		for _, r := range ledger {
			recordOf[r.CaseID] = r.RecordID
		}
		names, phones, err := x.personal(ctx, page)
		if err != nil {
			return err
		}
		for i, c := range page {
			ec := x.exportCase(c, byCase[c.ID], recordOf[c.ID], names[i], phones[i])
			if err := out.record(ec); err != nil {
				return err
			}
			x.records++
			x.rows += len(ec.history)
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

// personal decrypts the page's reporters when the export is in clear.
func (x *exporter) personal(ctx context.Context, page []*cases.Case) (names, phones []string, err error) {
	names, phones = make([]string, len(page)), make([]string, len(page))
	if !x.clear || x.m.Fields[FieldReporterName] == "" && x.m.Fields[FieldReporterPhone] == "" {
		return names, phones, nil
	}
	var sealed []string
	var into []*string
	for i, c := range page {
		for _, p := range []struct {
			enc *string
			to  *string
		}{{c.ReporterNameEnc, &names[i]}, {c.ReporterPhoneEnc, &phones[i]}} {
			if p.enc != nil && *p.enc != "" {
				sealed, into = append(sealed, *p.enc), append(into, p.to)
			}
		}
	}
	if len(sealed) == 0 {
		return names, phones, nil
	}
	plain, err := x.im.cipher.DecryptBatch(ctx, x.tenant.ID, sealed)
	if err != nil {
		return nil, nil, err
	}
	for i, p := range plain {
		*into[i] = string(p)
	}
	return names, phones, nil
}

func (x *exporter) exportCase(c *cases.Case, events []*cases.Event, record, name, phone string) exportCase {
	ec := exportCase{values: map[string]string{}}
	var first importedDetail
	if len(events) > 0 {
		_ = json.Unmarshal(events[0].Detail, &first)
	}
	number := c.Number
	if record == "" {
		record = c.Number
	} else if first.Imported != nil && first.Imported.Vendor == x.m.Vendor {
		number = first.Imported.Number
	}
	row := x.rows + 2
	v := ec.values
	v[FieldRecordID], v[FieldNumber] = record, number
	v[FieldReportedAt] = c.CreatedAt.In(clock.China).Format(x.layout)
	v[FieldSource] = backCode(x, x.source, c.Source, x.m.Fields[FieldSource], len(x.m.Codes.Source))
	v[FieldKind] = backCode(x, x.kind, c.Kind, x.m.Fields[FieldKind], len(x.m.Codes.Kind))
	if t, ok := x.class[ClassTarget{Kind: c.Kind, Code: c.ClassCode}]; ok {
		v[FieldClassCode] = t
	} else {
		v[FieldClassCode] = c.ClassCode
	}
	v[FieldDescription], v[FieldAddress] = c.Description, c.Address
	v[FieldLon], v[FieldLat] = strconv.FormatFloat(c.Lon, 'f', -1, 64), strconv.FormatFloat(c.Lat, 'f', -1, 64)
	v[FieldGridCode] = deref(c.GridCode)
	if c.DepartmentID != nil {
		d, ok := x.dept[*c.DepartmentID]
		if !ok && x.m.Fields[FieldDepartment] != "" {
			x.miss(x.m.Fields[FieldDepartment], *c.DepartmentID, row)
		}
		v[FieldDepartment] = d
	}
	v[FieldReporterName], v[FieldReporterPhone] = name, phone
	for _, e := range events {
		h := map[string]string{HistoryAt: e.At.In(clock.China).Format(x.layout), HistoryRemark: e.Reason}
		var d importedDetail
		if json.Unmarshal(e.Detail, &d) == nil && d.Imported != nil && d.Imported.Vendor == x.m.Vendor {
			h[HistoryState], h[HistoryActor], h[HistoryDepartment] = d.Imported.State, d.Imported.Actor, d.Imported.Department
			h[HistoryOverdue] = d.Imported.Overdue
		} else {
			if d.Stage != nil {
				h[HistoryOverdue] = x.overdueWord(d.Stage.Overdue)
			}
			h[HistoryState] = backCode(x, x.state, e.Action, x.m.History.Fields[HistoryState], 1)
			h[HistoryActor] = textutil.Truncate(cmp.Or(e.ActorEmail, e.ActorID), 100)
		}
		ec.history = append(ec.history, h)
	}
	return ec
}

// vendorWriter writes records in one of the shapes the import reads.
type vendorWriter interface {
	header(m *Mapping, caseCols, histCols []string) error
	record(ec exportCase) error
	close() error
}

// tableWriter writes CSV or XLSX: a header of the vendor's columns, then one row per history row
// with the case's columns repeated (the shape the import reads from tables).
type tableWriter struct {
	m                  *Mapping
	caseCols, histCols []string
	write              func(cells []string) error
	flush              func() error
}

func (t *tableWriter) header(m *Mapping, caseCols, histCols []string) error {
	t.m, t.caseCols, t.histCols = m, caseCols, histCols
	var cells []string
	for _, f := range caseCols {
		cells = append(cells, m.Fields[f])
	}
	for _, f := range histCols {
		cells = append(cells, m.History.Fields[f])
	}
	return t.write(cells)
}

func (t *tableWriter) record(ec exportCase) error {
	for _, h := range ec.history {
		cells := make([]string, 0, len(t.caseCols)+len(t.histCols))
		for _, f := range t.caseCols {
			cells = append(cells, ec.values[f])
		}
		for _, f := range t.histCols {
			cells = append(cells, h[f])
		}
		if err := t.write(cells); err != nil {
			return err
		}
	}
	return nil
}

func (t *tableWriter) close() error { return t.flush() }

func newCSVWriter(w io.Writer) vendorWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	bom := false
	return &tableWriter{
		write: func(cells []string) error {
			if !bom {
				bom = true
				if _, err := bw.WriteString("\ufeff"); err != nil {
					return err
				}
			}
			return cw.Write(cells)
		},
		flush: func() error {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			return bw.Flush()
		},
	}
}

func newXLSXWriter(w io.Writer) vendorWriter {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	sw, err := f.NewStreamWriter(sheet)
	row := 1
	return &tableWriter{
		write: func(cells []string) error {
			if err != nil {
				return err
			}
			vals := make([]any, len(cells))
			for i, c := range cells {
				vals[i] = excelize.Cell{Value: c} // text, never a formula or a number
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			return sw.SetRow(cell, vals)
		},
		flush: func() error {
			if err != nil {
				return err
			}
			if err := sw.Flush(); err != nil {
				return err
			}
			if _, err := f.WriteTo(w); err != nil {
				return err
			}
			return f.Close()
		},
	}
}

// jsonWriter writes an array of records, each with its history under the mapping's key.
type jsonWriter struct {
	w                  *bufio.Writer
	m                  *Mapping
	caseCols, histCols []string
	n                  int
}

func newJSONWriter(w io.Writer) vendorWriter { return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)} }

func (j *jsonWriter) header(m *Mapping, caseCols, histCols []string) error {
	j.m, j.caseCols, j.histCols = m, caseCols, histCols
	_, err := j.w.WriteString("[")
	return err
}

func (j *jsonWriter) record(ec exportCase) error {
	rec := map[string]any{}
	for _, f := range j.caseCols {
		rec[j.m.Fields[f]] = ec.values[f]
	}
	hist := make([]map[string]string, len(ec.history))
	for i, h := range ec.history {
		hist[i] = map[string]string{}
		for _, f := range j.histCols {
			hist[i][j.m.History.Fields[f]] = h[f]
		}
	}
	rec[cmp.Or(j.m.History.Key, "history")] = hist
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.w.WriteString(",")
	}
	j.n++
	j.w.WriteString("\n")
	_, err = j.w.Write(b)
	return err
}

func (j *jsonWriter) close() error {
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// VendorExportRequest asks for an export in a vendor's shape (POST …/vendors/{vendor}/exports).
type VendorExportRequest struct {
	Format         VendorFormat         `json:"format"`
	MappingVersion int                  `json:"mapping_version,omitempty"`
	PersonalData   tenants.PersonalData `json:"personal_data,omitempty"`
	Reason         string               `json:"reason,omitempty"`
	Imported       bool                 `json:"imported,omitempty"`
}

// vendorMediaTypes are the files' media types by format.
var vendorMediaTypes = map[VendorFormat]string{
	VendorCSV:  "text/csv; charset=utf-8",
	VendorXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	VendorJSON: "application/json",
}

// apiExport is POST /exchange/vendors/:vendor/exports (tenant admin): the tenant's cases in the
// vendor's shape. The file is spooled to an unlinked temporary file first (a failure is still a
// problem, the tenant's snapshot is not held open while a slow client downloads, and nothing
// holding personal data stays behind if the process dies), then streamed from it.
func (h *handlers) apiExport(c *fiber.Ctx) error {
	var in VendorExportRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if _, ok := vendorMediaTypes[in.Format]; !ok {
		return errs.Field("format", msgVendorFormat)
	}
	if in.PersonalData != "" {
		if err := in.PersonalData.Check(); err != nil {
			return err
		}
	}
	sp, err := module.NewSpool("")
	if err != nil {
		return err
	}
	v := vendor(c)
	rep, err := h.im.Export(c.UserContext(), sp, VendorExportOptions{Vendor: v, MappingVersion: in.MappingVersion, Format: in.Format,
		PersonalData: in.PersonalData, Reason: strings.Clone(in.Reason), Imported: in.Imported})
	if err != nil {
		sp.Close()
		return err
	}
	c.Set("X-Records", strconv.Itoa(rep.Records))
	c.Set("X-Unmapped-Values", strconv.Itoa(len(rep.Unmapped)))
	name := fmt.Sprintf("%s-%s-%s.%s", module.Scope(c).Tenant.Slug, v, time.Now().In(clock.China).Format("20060102"), in.Format)
	return sp.Send(c, name, vendorMediaTypes[in.Format])
}

// exportCommand is "cityops exchange export <tenant> <vendor> <file>" and "export-clear … <reason>":
// every case of the tenant in the vendor's shape, the format from the file's extension; with a
// reason, the reporters' personal data in clear (audited with it).
func exportCommand(ctx context.Context, im *Importer, vendor, path, reason string, out io.Writer) error {
	if im == nil {
		return errors.New("exchange: no importer")
	}
	format, err := VendorFormatOf(path)
	if err != nil {
		return err
	}
	opts := VendorExportOptions{Vendor: vendor, Format: format}
	if reason != "" {
		opts.PersonalData, opts.Reason = tenants.PersonalDataClear, reason
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	rep, err := im.Export(ctx, f, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Fprintf(out, "%d records, %d rows written to %s (mapping %s version %d)\n", rep.Records, rep.Rows, path, rep.Vendor, rep.MappingVersion)
	if len(rep.Unmapped) > 0 {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "OUR VALUE WRITTEN AS IS\tCOLUMN\tCOUNT\tFIRST ROW")
		for _, u := range rep.Unmapped {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", u.Value, u.Column, u.Count, u.FirstRow)
		}
		return tw.Flush()
	}
	return nil
}
