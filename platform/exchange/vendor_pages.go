package exchange

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// vendorPages are the console's pages of the vendor import (docs/exchange.md, "Vendor import"):
// the vendors' mappings and the import runs, for every member and the prefecture (read-only);
// and, for the tenant's admins, the mapping editor on an uploaded sample with its preview, the
// dry run and the import in the background.
type vendorPages struct {
	im      *Importer
	k       module.Kit
	samples *samples
}

// VendorSummary is a vendor's saved mapping versions, newest first, and its newest mapping.
type VendorSummary struct {
	Vendor   string
	Versions []MappingVersion
	Newest   *Mapping
}

// MappingVersion is one saved version of a mapping.
type MappingVersion struct {
	Version   int       `bun:"version"`
	CreatedBy string    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// FindVendors returns the vendors the tenant of ctx has mappings for, by name.
func (im *Importer) FindVendors(ctx context.Context) ([]VendorSummary, error) {
	if _, err := scope(ctx); err != nil {
		return nil, err
	}
	var out []VendorSummary
	err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []mappingRow
		if err := db.NewSelect().Model(&rows).Column("vendor", "version", "created_by", "created_at").Order("vendor", "version DESC").
			Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		for _, r := range rows {
			if len(out) == 0 || out[len(out)-1].Vendor != r.Vendor {
				m, err := findMapping(ctx, db, r.Vendor, 0)
				if err != nil {
					return err
				}
				out = append(out, VendorSummary{Vendor: r.Vendor, Newest: m})
			}
			v := &out[len(out)-1]
			v.Versions = append(v.Versions, MappingVersion{Version: r.Version, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt})
		}
		return nil
	})
	return out, err
}

// ourDepartment is one of the tenant's departments, for the department table's choices.
type ourDepartment struct {
	Code string `bun:"code"`
	Name string `bun:"name"`
}

func (vp *vendorPages) departments(ctx context.Context) ([]ourDepartment, error) {
	var ds []ourDepartment
	err := vp.im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return dbx.Translate(db.NewRaw("SELECT code, name FROM departments ORDER BY code").Scan(ctx, &ds))
	})
	return ds, err
}

// sampleKeyOf is the request's user's key to their sample.
func sampleKeyOf(c *fiber.Ctx) sampleKey {
	k := sampleKey{}
	if sc := module.Scope(c); sc != nil && sc.Tenant != nil {
		k.tenant = sc.Tenant.ID
	}
	if p := module.Principal(c); p != nil && p.Identity != nil {
		k.identity = p.Identity.ID
	}
	return k
}

// list is GET /exchange/vendors: the vendors with their mapping versions, the import runs with
// their progress, and for the tenant's admins the upload of a sample.
func (vp *vendorPages) list(c *fiber.Ctx) error { return vp.renderList(c, fiber.Map{}, fiber.StatusOK) }

func (vp *vendorPages) renderList(c *fiber.Ctx, data fiber.Map, status int) error {
	ctx := c.UserContext()
	vendors, err := vp.im.FindVendors(ctx)
	if err != nil {
		return err
	}
	if err := vp.addRuns(c, data); err != nil {
		return err
	}
	data["Vendors"] = vendors
	data["Base"] = base(c)
	data["CanAdmin"] = canAdmin(c)
	data["CaseFields"], data["HistoryFields"] = CaseFields, HistoryFields
	data["Entities"] = Entities
	c.Status(status)
	return vp.k.Pages.Render(c, "exchange/vendors", data)
}

// runView is a run of vendor_runs with what the page shows of it.
type runView struct {
	Run
	Percent int
}

// jobView is a background import of this process that has no run yet, or ended without one.
type jobView struct {
	*ImportJob
	S       ImportJobStatus
	Message string
}

func (vp *vendorPages) addRuns(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	runs, err := vp.im.FindRuns(ctx)
	if err != nil {
		return err
	}
	jobs, err := vp.im.Jobs(ctx)
	if err != nil {
		return err
	}
	lang := vp.k.Pages.Lang(c)
	running := false
	views := make([]runView, len(runs))
	for i, r := range runs {
		views[i] = runView{Run: r}
		if r.RecordsTotal > 0 {
			views[i].Percent = min(100, r.RecordsDone*100/r.RecordsTotal)
		}
		if r.State == "running" {
			running = true
		}
	}
	var jvs []jobView
	for _, j := range jobs {
		s := j.Status()
		jv := jobView{ImportJob: j, S: s}
		switch {
		case s.Phase == "check":
			running = true
		case s.Phase == "write":
			running = true
			continue // its run shows it
		case s.Err != nil:
			jv.Message = errs.MessageIn(s.Err, lang)
		case s.Report != nil && !s.Report.OK():
			jv.Message = s.Report.Summary(lang)
		default:
			continue // done: its run shows it
		}
		jvs = append(jvs, jv)
	}
	data["Runs"], data["Jobs"], data["Running"] = views, jvs, running
	return nil
}

// upload is POST /exchange/vendors/sample (tenant admin): the sample file (multipart part "file")
// and the vendor's name; it shows the editor on the sample.
func (vp *vendorPages) upload(c *fiber.Ctx) error {
	v := form(c, "vendor")
	values := fiber.Map{"vendor": v}
	s, err := readSampleUpload(c)
	if err == nil && !vendorRe.MatchString(v) {
		err = errs.Field("vendor", msgVendorName, textutil.Truncate(v, 40))
	}
	if err != nil {
		return vp.refusedList(c, values, err)
	}
	tok := vp.samples.put(sampleKeyOf(c), s)
	return c.Redirect(base(c)+"/exchange/vendors/"+v+"/edit?sample="+tok, fiber.StatusSeeOther)
}

// readSampleUpload reads the multipart part "file" as a sample.
func readSampleUpload(c *fiber.Ctx) (*VendorSample, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, errs.Field("file", msgVendorUpload)
	}
	name := strings.Clone(fh.Filename)
	if strings.ContainsRune(name, 0) || len(name) > 200 {
		return nil, errs.Field("file", msgVendorUpload)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, errs.Field("file", msgVendorUpload)
	}
	data, err := io.ReadAll(io.LimitReader(f, module.MaxUpload+1))
	f.Close()
	if err != nil {
		return nil, errs.Field("file", msgVendorUpload)
	}
	if err := module.CheckUploadSize(data); err != nil {
		return nil, err
	}
	return ReadSample(name, data)
}

// importEntity is POST /exchange/vendors/entities (tenant admin): a vendor's file of one entity
// (departments, grids, components or staff; multipart part "file"), dry-run (op dry_run) or
// imported (op import) with the section of the vendor's newest mapping. It runs within the
// request (Importer.ImportEntity: one transaction a file, at most tabular.MaxRows records) and
// shows the list again with the report: 200, or 422 when a row has a problem (nothing written).
func (vp *vendorPages) importEntity(c *fiber.Ctx) error {
	v, ent := form(c, "vendor"), form(c, "entity")
	values := fiber.Map{"vendor": v, "entity": ent}
	var err error
	switch {
	case !vendorRe.MatchString(v):
		err = errs.Field("vendor", msgVendorName, textutil.Truncate(v, 40))
	case !slices.Contains(Entities, Entity(ent)):
		err = errs.Field("entity", msgVendorEntity, textutil.Truncate(ent, 20), entityList())
	}
	var file VendorFile
	if err == nil {
		file, err = uploadedFile(c)
	}
	var rep *ImportReport
	if err == nil {
		rep, err = vp.im.ImportEntity(c.UserContext(), file, EntityOptions{Vendor: v, Entity: Entity(ent), DryRun: form(c, "op") != "import"})
	}
	if err != nil {
		switch errs.CodeOf(err) {
		case errs.Invalid, errs.NotFound, errs.Conflict, errs.TooLarge, errs.Unsupported:
		default:
			return err
		}
		data := fiber.Map{"EntityError": errs.MessageIn(err, vp.k.Pages.Lang(c)), "EntityField": errs.FieldOf(err), "EntityValues": values}
		return vp.renderList(c, data, module.Status(errs.CodeOf(err)))
	}
	status := fiber.StatusOK
	if !rep.OK() {
		status = fiber.StatusUnprocessableEntity
	}
	data := fiber.Map{"EntityReport": rep, "EntityReportSummary": rep.Summary(vp.k.Pages.Lang(c)), "EntityValues": values}
	return vp.renderList(c, data, status)
}

// refusedList shows the list again with the upload's error (a person's mistake), or returns err.
func (vp *vendorPages) refusedList(c *fiber.Ctx, values fiber.Map, err error) error {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.NotFound, errs.Conflict, errs.TooLarge, errs.Unsupported:
	default:
		return err
	}
	data := fiber.Map{"FormError": errs.MessageIn(err, vp.k.Pages.Lang(c)), "FormField": errs.FieldOf(err), "Values": values}
	return vp.renderList(c, data, module.Status(errs.CodeOf(err)))
}

// sampleOf is the user's sample named by the request's "sample" (query or form).
func (vp *vendorPages) sampleOf(c *fiber.Ctx) (*VendorSample, string, error) {
	tok := strings.Clone(c.Query("sample"))
	if tok == "" {
		tok = form(c, "sample")
	}
	s := vp.samples.get(sampleKeyOf(c), tok)
	if s == nil {
		return nil, "", errs.Field("sample", msgVendorSampleGone)
	}
	return s, tok, nil
}

// edit is GET /exchange/vendors/:vendor/edit?sample= (tenant admin): the editor on the user's
// sample, filled from the vendor's newest mapping or, without one, from the usual headers.
func (vp *vendorPages) edit(c *fiber.Ctx) error {
	v := vendor(c)
	if !vendorRe.MatchString(v) {
		return errs.E(errs.NotFound, msgVendorNoMapping, textutil.Truncate(v, 40))
	}
	s, tok, err := vp.sampleOf(c)
	if err != nil {
		return vp.refusedList(c, fiber.Map{"vendor": v}, err)
	}
	cur, err := vp.current(c.UserContext(), v)
	if err != nil {
		return err
	}
	m := &Mapping{Vendor: v, Fields: map[string]string{}, History: HistoryMapping{Fields: map[string]string{}}}
	if cur != nil {
		m.Fields, m.History, m.Codes, m.TimeLayouts = cur.Fields, cur.History, cur.Codes, cur.TimeLayouts
	}
	depts, err := vp.departments(c.UserContext())
	if err != nil {
		return err
	}
	s, m.History.Sheet = withSheet(s, m.History.Sheet)
	ed := newEditor(s, tok, m, cur, nil, depts)
	return vp.renderEditor(c, ed, fiber.Map{}, fiber.StatusOK)
}

// withSheet is s with its history read from the mapping's history sheet, and that sheet; a
// sheet this sample lacks is left out (the editor then shows the first sheet's columns).
func withSheet(s *VendorSample, sheet string) (*VendorSample, string) {
	hs, err := s.WithHistorySheet(sheet)
	if err != nil {
		return s, ""
	}
	return hs, sheet
}

// current is the vendor's newest mapping, nil when it has none.
func (vp *vendorPages) current(ctx context.Context, v string) (*Mapping, error) {
	cur, err := vp.im.FindMapping(ctx, v, 0)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	return cur, err
}

// editorForm is POST /exchange/vendors/:vendor/edit (tenant admin): the editor's form with op
// refresh (the code tables from the columns picked), preview (the first records mapped with the
// form, nothing saved) or save (the next version, audited).
func (vp *vendorPages) editorForm(c *fiber.Ctx) error {
	v := vendor(c)
	if !vendorRe.MatchString(v) {
		return errs.E(errs.NotFound, msgVendorNoMapping, textutil.Truncate(v, 40))
	}
	s, tok, err := vp.sampleOf(c)
	if err != nil {
		return vp.refusedList(c, fiber.Map{"vendor": v}, err)
	}
	ctx := c.UserContext()
	cur, err := vp.current(ctx, v)
	if err != nil {
		return err
	}
	depts, err := vp.departments(ctx)
	if err != nil {
		return err
	}
	m, posted, err := mappingFromForm(c, v)
	if err == nil {
		var hs *VendorSample
		if hs, err = s.WithHistorySheet(m.History.Sheet); err == nil {
			s = hs
		} else {
			m.History.Sheet, m.History.RecordID = "", ""
		}
	}
	ed := newEditor(s, tok, m, cur, posted, depts)
	if err != nil {
		return vp.refusedEditor(c, ed, err)
	}
	switch form(c, "op") {
	case "save":
		saved, err := vp.im.PutMapping(ctx, m)
		if err != nil {
			return vp.refusedEditor(c, ed, err)
		}
		return c.Redirect(base(c)+"/exchange/vendors/"+v+"/edit?sample="+tok+"&saved="+strconv.Itoa(saved.Version)+"&done=exchange.vendors.done.saved", fiber.StatusSeeOther)
	case "preview":
		pv, err := vp.im.Preview(ctx, s.File(), m, PreviewRecords)
		if err != nil {
			return vp.refusedEditor(c, ed, err)
		}
		return vp.renderEditor(c, ed, fiber.Map{"Preview": pv}, fiber.StatusOK)
	}
	return vp.renderEditor(c, ed, fiber.Map{}, fiber.StatusOK)
}

// run is POST /exchange/vendors/:vendor/run (tenant admin): op dry_run maps the whole sample with
// the newest saved mapping and shows the report; op import starts its import in the background
// and goes to the runs.
func (vp *vendorPages) run(c *fiber.Ctx) error {
	v := vendor(c)
	if !vendorRe.MatchString(v) {
		return errs.E(errs.NotFound, msgVendorNoMapping, textutil.Truncate(v, 40))
	}
	s, tok, err := vp.sampleOf(c)
	if err != nil {
		return vp.refusedList(c, fiber.Map{"vendor": v}, err)
	}
	ctx := c.UserContext()
	if form(c, "op") == "import" {
		if _, err := vp.im.Start(ctx, s.File(), ImportOptions{Vendor: v}); err != nil {
			return vp.refusedList(c, fiber.Map{"vendor": v}, err)
		}
		return c.Redirect(base(c)+"/exchange/vendors?done=exchange.vendors.done.started#runs", fiber.StatusSeeOther)
	}
	cur, err := vp.current(ctx, v)
	if err != nil {
		return err
	}
	m := &Mapping{Vendor: v}
	if cur != nil {
		m = cur
	}
	depts, err := vp.departments(ctx)
	if err != nil {
		return err
	}
	s, m.History.Sheet = withSheet(s, m.History.Sheet)
	ed := newEditor(s, tok, m, cur, nil, depts)
	rep, err := vp.im.Import(ctx, s.File(), ImportOptions{Vendor: v, DryRun: true})
	if err != nil {
		return vp.refusedEditor(c, ed, err)
	}
	return vp.renderEditor(c, ed, fiber.Map{"Report": rep, "ReportSummary": rep.Summary(vp.k.Pages.Lang(c))}, fiber.StatusOK)
}

// refusedEditor shows the editor again with err beside the field it names (a person's mistake),
// or returns err.
func (vp *vendorPages) refusedEditor(c *fiber.Ctx, ed *editor, err error) error {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.NotFound, errs.Conflict, errs.TooLarge, errs.Unsupported:
	default:
		return err
	}
	data := fiber.Map{"FormError": errs.MessageIn(err, vp.k.Pages.Lang(c)), "FormField": errs.FieldOf(err)}
	return vp.renderEditor(c, ed, data, module.Status(errs.CodeOf(err)))
}

func (vp *vendorPages) renderEditor(c *fiber.Ctx, ed *editor, data fiber.Map, status int) error {
	data["Ed"] = ed
	data["Base"] = base(c)
	data["Departments"] = ed.Departments
	data["Actions"] = stateActions()
	data["Sources"] = cases.Sources
	data["Kinds"] = []catalog.Kind{catalog.Component, catalog.Event}
	data["PreviewN"] = PreviewRecords
	data["MaxDistinct"] = maxDistinct
	data["MaxProblems"] = MaxProblems
	if saved := c.Query("saved"); saved != "" {
		data["Saved"] = saved
	}
	c.Status(status)
	return vp.k.Pages.Render(c, "exchange/vendor_edit", data)
}

// stateActions are the actions a vendor's state may map to, in the loop's order.
func stateActions() []cases.Action {
	out := []cases.Action{cases.Report, cases.SelfHandle}
	for _, t := range cases.Machine {
		if !slices.Contains(out, t.Action) {
			out = append(out, t.Action)
		}
	}
	if !slices.Contains(out, cases.Supervise) {
		out = append(out, cases.Supervise)
	}
	return out
}

// The editor's model: the sample's columns, our fields with the column each takes, and the code
// tables with a row for every distinct value of the mapped column.

type editor struct {
	Vendor     string
	Token      string
	Sample     *VendorSample
	JSON       bool
	Current    *Mapping
	Fields     []fieldRow
	History    []fieldRow
	HistoryKey string
	// HistorySheet and HistoryRecordID are the mapping's history.sheet and history.record_id
	// (an XLSX file with the history on a sheet of its own).
	HistorySheet, HistoryRecordID string
	Layouts                       string
	Kind                          codeTable
	State                         codeTable
	Source                        codeTable
	Department                    codeTable
	Class                         classTable
	// Departments are ours, for the department table's choices.
	Departments []ourDepartment
}

type fieldRow struct {
	Field    string
	Required bool
	Column   string
	Columns  []string
}

type codeTable struct {
	Name    string
	Columns []string // the mapped columns it is filled from
	Rows    []codeRow
	More    bool
}

type codeRow struct {
	Value, Ours string
	InSample    bool
}

type classTable struct {
	Column string
	Rows   []classRow
	More   bool
}

type classRow struct {
	Value    string
	Kind     catalog.Kind
	Code     string
	InSample bool
}

// postedCodes are the code tables as the form sent them (nil: the form did not send them).
type postedCodes struct {
	kind, state, source, department map[string]string
	order                           map[string][]string // table → values in the form's order
	class                           map[string]ClassTarget
}

// newEditor builds the editor on s for m (the mapping as loaded or posted): our fields with their
// columns (m's when the file has them, else guessed), and the code tables from the distinct
// values of the mapped columns, each with our value from m, else from the usual names. With
// posted, the form's rows are kept too (values not in the sample: entries of the mapping).
func newEditor(s *VendorSample, tok string, m *Mapping, cur *Mapping, posted *postedCodes, depts []ourDepartment) *editor {
	ed := &editor{Vendor: m.Vendor, Token: tok, Sample: s, JSON: s.Format == VendorJSON, Current: cur, HistoryKey: m.History.Key,
		Layouts: strings.Join(m.TimeLayouts, "\n"), Departments: depts}
	if s.HistorySheet != "" {
		ed.HistorySheet = m.History.Sheet
		if slices.Contains(s.HistoryColumns, m.History.RecordID) {
			ed.HistoryRecordID = m.History.RecordID
		}
	}
	m.History.Sheet, m.History.RecordID = ed.HistorySheet, ed.HistoryRecordID
	pick := func(cols []string, have string, guesses []string) string {
		switch {
		case have != "" && slices.Contains(cols, have):
			return have
		case posted != nil: // the form's choice, "" for none
			return ""
		}
		return guessColumn(cols, guesses)
	}
	for i, f := range CaseFields {
		col := pick(s.Columns, m.Fields[f], headerGuesses[f])
		m.Fields[f] = col
		ed.Fields = append(ed.Fields, fieldRow{Field: f, Required: i < len(requiredCaseFields), Column: col, Columns: s.Columns})
	}
	for i, f := range HistoryFields {
		col := pick(s.HistoryColumns, m.History.Fields[f], historyGuesses[f])
		m.History.Fields[f] = col
		ed.History = append(ed.History, fieldRow{Field: f, Required: i < len(requiredHistory), Column: col, Columns: s.HistoryColumns})
	}
	for f, col := range m.Fields {
		if col == "" {
			delete(m.Fields, f)
		}
	}
	for f, col := range m.History.Fields {
		if col == "" {
			delete(m.History.Fields, f)
		}
	}
	if ed.JSON && ed.HistoryKey == "" && posted == nil {
		ed.HistoryKey = guessColumn(s.HistoryKeys, append(slices.Clone(historyKeyGuesses), s.HistoryKeys...))
		m.History.Key = ed.HistoryKey
	}
	table := func(name string, cols []struct {
		col     string
		history bool
	}, have map[string]string, guesses map[string]string) codeTable {
		t := codeTable{Name: name}
		seen := map[string]bool{}
		for _, c := range cols {
			if c.col == "" {
				continue
			}
			t.Columns = append(t.Columns, c.col)
			vals, more := s.Values(c.col, c.history)
			t.More = t.More || more
			for _, v := range vals {
				if seen[v] {
					continue
				}
				seen[v] = true
				ours, ok := have[v]
				if !ok {
					ours = guesses[v]
				}
				t.Rows = append(t.Rows, codeRow{Value: v, Ours: ours, InSample: true})
			}
		}
		// Entries of the mapping for values this sample does not hold stay in it.
		var rest []string
		if posted != nil {
			rest = posted.order[name]
		} else {
			rest = sortedKeys(have)
		}
		for _, v := range rest {
			if !seen[v] && have[v] != "" {
				seen[v] = true
				t.Rows = append(t.Rows, codeRow{Value: v, Ours: have[v]})
			}
		}
		return t
	}
	type colRef = struct {
		col     string
		history bool
	}
	kinds, states, sources, deptCodes := map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	if posted != nil {
		kinds, states, sources, deptCodes = posted.kind, posted.state, posted.source, posted.department
	} else {
		for k, v := range m.Codes.Kind {
			kinds[k] = string(v)
		}
		for k, v := range m.Codes.State {
			states[k] = string(v)
		}
		for k, v := range m.Codes.Source {
			sources[k] = string(v)
		}
		for k, v := range m.Codes.Department {
			deptCodes[k] = v
		}
	}
	ed.Kind = table("kind", []colRef{{m.Fields[FieldKind], false}}, kinds, kindGuesses)
	ed.State = table("state", []colRef{{m.History.Fields[HistoryState], true}}, states, stateGuesses)
	ed.Source = table("source", []colRef{{m.Fields[FieldSource], false}}, sources, sourceGuesses)
	byName := map[string]string{}
	for _, d := range depts {
		byName[d.Name], byName[d.Code] = d.Code, d.Code
	}
	ed.Department = table("department", []colRef{{m.Fields[FieldDepartment], false}, {m.History.Fields[HistoryDepartment], true}}, deptCodes, byName)
	classes := m.Codes.Class
	if posted != nil {
		classes = posted.class
	}
	ed.Class.Column = m.Fields[FieldClassCode]
	seen := map[string]bool{}
	if ed.Class.Column != "" {
		vals, more := s.Values(ed.Class.Column, false)
		ed.Class.More = more
		for _, v := range vals {
			seen[v] = true
			t := classes[v]
			ed.Class.Rows = append(ed.Class.Rows, classRow{Value: v, Kind: t.Kind, Code: t.Code, InSample: true})
		}
	}
	for _, v := range sortedKeys(classes) {
		if !seen[v] {
			t := classes[v]
			ed.Class.Rows = append(ed.Class.Rows, classRow{Value: v, Kind: t.Kind, Code: t.Code})
		}
	}
	// The mapping is what the editor shows.
	m.Codes = CodeTables{State: map[string]cases.Action{}}
	for _, r := range ed.Kind.Rows {
		if r.Ours != "" {
			if m.Codes.Kind == nil {
				m.Codes.Kind = map[string]catalog.Kind{}
			}
			m.Codes.Kind[r.Value] = catalog.Kind(r.Ours)
		}
	}
	for _, r := range ed.State.Rows {
		if r.Ours != "" {
			m.Codes.State[r.Value] = cases.Action(r.Ours)
		}
	}
	for _, r := range ed.Source.Rows {
		if r.Ours != "" {
			if m.Codes.Source == nil {
				m.Codes.Source = map[string]cases.Source{}
			}
			m.Codes.Source[r.Value] = cases.Source(r.Ours)
		}
	}
	for _, r := range ed.Department.Rows {
		if r.Ours != "" {
			if m.Codes.Department == nil {
				m.Codes.Department = map[string]string{}
			}
			m.Codes.Department[r.Value] = r.Ours
		}
	}
	for _, r := range ed.Class.Rows {
		if r.Kind != "" || r.Code != "" {
			if m.Codes.Class == nil {
				m.Codes.Class = map[string]ClassTarget{}
			}
			m.Codes.Class[r.Value] = ClassTarget{Kind: r.Kind, Code: r.Code}
		}
	}
	return ed
}

// mappingFromForm reads the editor's form: f.<field> and h.<field> name the columns, history_key
// and time_layouts (one a line), and each code table its rows as pairs <table>.v (the vendor's
// value) and <table>.t (ours; class: class.v, class.kind, class.code).
func mappingFromForm(c *fiber.Ctx, v string) (*Mapping, *postedCodes, error) {
	m := &Mapping{Vendor: v, Fields: map[string]string{}, History: HistoryMapping{Fields: map[string]string{}, Key: form(c, "history_key"),
		Sheet: form(c, "history_sheet"), RecordID: form(c, "history_record_id")}}
	for _, f := range CaseFields {
		m.Fields[f] = form(c, "f."+f)
	}
	for _, f := range HistoryFields {
		m.History.Fields[f] = form(c, "h."+f)
	}
	for _, l := range strings.Split(strings.Clone(c.FormValue("time_layouts")), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m.TimeLayouts = append(m.TimeLayouts, l)
		}
	}
	args := c.Request().PostArgs()
	multi := func(name string) []string {
		var out []string
		for _, b := range args.PeekMulti(name) {
			out = append(out, strings.TrimSpace(string(b)))
		}
		return out
	}
	p := &postedCodes{order: map[string][]string{}, class: map[string]ClassTarget{}}
	var bad error
	pairs := func(name string) map[string]string {
		vs, ts := multi(name+".v"), multi(name+".t")
		out := map[string]string{}
		for i, val := range vs {
			if i >= len(ts) {
				break
			}
			if len(p.order[name]) >= codesLimit {
				bad = errs.Field("codes", msgVendorTooManyCodes, codesLimit)
				break
			}
			for _, x := range []string{val, ts[i]} {
				if err := checkText("codes."+name, x, 200); err != nil && bad == nil {
					bad = err
				}
			}
			p.order[name] = append(p.order[name], val)
			out[val] = ts[i]
		}
		return out
	}
	p.kind, p.state, p.source, p.department = pairs("kind"), pairs("state"), pairs("source"), pairs("department")
	cv, ck, cc := multi("class.v"), multi("class.kind"), multi("class.code")
	for i, val := range cv {
		if i >= len(ck) || i >= len(cc) {
			break
		}
		for _, x := range []string{val, ck[i], cc[i]} {
			if err := checkText("codes.class", x, 200); err != nil && bad == nil {
				bad = err
			}
		}
		if ck[i] == "" && cc[i] == "" {
			continue
		}
		if (ck[i] == "") != (cc[i] == "") && bad == nil {
			bad = errs.Field("codes.class", msgVendorFormNoCode, textutil.Truncate(val, 40))
		}
		p.class[val] = ClassTarget{Kind: catalog.Kind(textutil.Truncate(ck[i], 20)), Code: textutil.Truncate(cc[i], 20)}
	}
	if err := checkText("history.key", m.History.Key, 200); err != nil && bad == nil {
		bad = err
	}
	if err := checkText("history.sheet", m.History.Sheet, 31); err != nil && bad == nil {
		bad = err
	}
	if err := checkText("history.record_id", m.History.RecordID, 200); err != nil && bad == nil {
		bad = err
	}
	for _, l := range m.TimeLayouts {
		if err := checkText("time_layouts", l, 60); err != nil && bad == nil {
			bad = err
		}
	}
	for f, col := range m.Fields {
		if err := checkText("fields."+f, col, 200); err != nil && bad == nil {
			bad = err
		}
	}
	for f, col := range m.History.Fields {
		if err := checkText("history.fields."+f, col, 200); err != nil && bad == nil {
			bad = err
		}
	}
	return m, p, bad
}
