package exchange

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Preview is the first records of a file mapped with a mapping that need not be saved yet: what
// each becomes, its problems and the values no code table knows — the dry run's own mapping and
// checks (mapper.mapAll), record by record.
type Preview struct {
	Records []PreviewRecord
	// Unmapped are the values of the previewed records no code table knows.
	Unmapped []Unmapped
	// Problems counts the previewed records' problems.
	Problems int
}

// PreviewRecord is one record as the import would map it.
type PreviewRecord struct {
	Row      int
	RecordID string
	Fields   []PreviewValue
	History  []PreviewEvent
	Problems []tabular.Problem
}

// OK reports whether the record maps without a problem.
func (r PreviewRecord) OK() bool { return len(r.Problems) == 0 }

// PreviewValue is one of our fields of a record: the vendor's column and value, and ours. Problem
// is set when a problem names the column.
type PreviewValue struct {
	Field, Column, Value, Ours string
	Problem                    bool
}

// PreviewEvent is one history row: the vendor's state and time, and the action and state of our
// loop they become (empty when the state is not in the table).
type PreviewEvent struct {
	Row                       int
	VendorState, VendorAt     string
	Action                    cases.Action
	To                        cases.State
	At                        *time.Time
	Actor, Department, Remark string
	Unmapped, BadTime         bool
}

// PreviewRecords is how many records a preview maps by default.
const PreviewRecords = 20

// Preview checks m against the tenant of ctx (as saving it would) and maps the first n records
// of file with it, writing nothing. Tenant admins only: it is a step of changing a mapping.
func (im *Importer) Preview(ctx context.Context, file VendorFile, m *Mapping, n int) (*Preview, error) {
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
	p := &mapper{im: im, m: m, classes: map[ClassTarget]bool{}, unmapped: map[[2]string]*Unmapped{}, layouts: m.TimeLayouts}
	if len(p.layouts) == 0 {
		p.layouts = DefaultTimeLayouts
	}
	out := &Preview{Unmapped: []Unmapped{}}
	err = im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if err := m.check(ctx, db, im.classes); err != nil {
			return err
		}
		var err error
		if p.depts, err = loadDepartments(ctx, db); err != nil {
			return err
		}
		rc, err := file.Open()
		if err != nil {
			return errs.Wrap(err, errs.Invalid, msgVendorOpen, file.Name)
		}
		defer rc.Close()
		rr, closer, err := newRecordReader(rc, format, m)
		if err != nil {
			return err
		}
		defer closer.Close()
		for len(out.Records) < n {
			rec, err := rr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			rep := &ImportReport{}
			mc, _, err := p.mapAll(ctx, db, rec, rep)
			if err != nil {
				return err
			}
			out.Records = append(out.Records, p.previewOf(rec, mc, rep))
			out.Problems += rep.ProblemCount
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range p.order {
		out.Unmapped = append(out.Unmapped, *p.unmapped[k])
	}
	return out, nil
}

// previewOf is rec mapped as mc, with rep's problems.
func (p *mapper) previewOf(rec *vendorRecord, mc *mappedCase, rep *ImportReport) PreviewRecord {
	r := PreviewRecord{Row: rec.row, RecordID: mc.recordID, Problems: rep.Problems}
	bad := map[string]bool{}
	for _, pr := range rep.Problems {
		bad[pr.Column] = true
	}
	deptCode := map[string]string{}
	for code, id := range p.depts {
		deptCode[id] = code
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(clock.China).Format(time.DateTime)
	}
	ours := map[string]string{
		FieldRecordID: mc.recordID, FieldNumber: mc.number, FieldReportedAt: at(mc.reportedAt), FieldSource: string(mc.source),
		FieldKind: string(mc.kind), FieldClassCode: mc.class, FieldDescription: mc.description, FieldAddress: mc.address,
		FieldLon: num(mc.lon), FieldLat: num(mc.lat), FieldGridCode: deref(mc.grid), FieldReporterName: mc.reporterName,
		FieldReporterPhone: mc.reporterPhone,
	}
	if mc.dept != nil {
		ours[FieldDepartment] = deptCode[*mc.dept]
	}
	for _, f := range CaseFields {
		col := p.m.Fields[f]
		if col == "" {
			continue
		}
		r.Fields = append(r.Fields, PreviewValue{Field: f, Column: col, Value: rec.values[col], Ours: ours[f], Problem: bad[col]})
	}
	hf := p.m.History.Fields
	for i, h := range rec.history {
		e := PreviewEvent{Row: h.row, VendorState: h.values[hf[HistoryState]], VendorAt: h.values[hf[HistoryAt]],
			Actor: h.values[hf[HistoryActor]], Department: h.values[hf[HistoryDepartment]], Remark: h.values[hf[HistoryRemark]]}
		if i < len(mc.history) {
			m := mc.history[i]
			e.Action, e.To = m.action, m.to
			if !m.at.IsZero() {
				t := m.at
				e.At = &t
			}
		}
		_, known := p.m.Codes.State[e.VendorState]
		e.Unmapped = !known
		e.BadTime = e.At == nil
		r.History = append(r.History, e)
	}
	slices.SortStableFunc(r.Problems, func(a, b tabular.Problem) int { return a.Row - b.Row })
	return r
}
