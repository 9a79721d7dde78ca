package console

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/gofiber/fiber/v2"
)

// adminDataPages are the grids, the catalog and its standards, the work calendar and the stage
// time limits, with their import forms.
type adminDataPages struct{ AdminDeps }

// adminImport is one of the console's import forms: the API's accepted media types, the page it
// belongs to, and the service call (the same as the API's).
type adminImport struct {
	accept []string
	page   func(p *adminDataPages) adminPage
	back   string
	run    func(p *adminDataPages) module.Importer
}

var (
	adminGridsImport = adminImport{accept: []string{"application/geo+json", "application/json"},
		page: func(p *adminDataPages) adminPage { return p.gridsPage }, back: "/grids",
		run: func(p *adminDataPages) module.Importer {
			return func(c *fiber.Ctx, data []byte, _ string, dry bool) (*tabular.Report, error) {
				return p.Grids.Import(c.UserContext(), data, dry)
			}
		}}
	adminStandardsImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(p *adminDataPages) adminPage { return p.catalogPage }, back: "/catalog#standards",
		run: func(p *adminDataPages) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				return p.Catalog.ImportStandards(c.UserContext(), data, tabular.Format(format), dry)
			}
		}}
	adminCalendarImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(p *adminDataPages) adminPage { return p.calendarPage }, back: "/calendar",
		run: func(p *adminDataPages) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				year, err := strconv.Atoi(c.FormValue("year"))
				if err != nil {
					return nil, errs.Field("year", msgImportYear)
				}
				return p.Calendar.ImportYear(c.UserContext(), year, data, format, dry)
			}
		}}
)

// AdminImportView is what an import form shows after a check or a rejected import.
type AdminImportView struct {
	Action   string // the form's path below /admin
	Report   *tabular.Report
	Checked  bool   // a dry run passed: offer to import the same file
	Data     string // the checked file, base64, sent back with the import
	Format   string
	Filename string
	Year     string
}

// importForm serves an import form. The first step checks the file (a dry run: the
// row-by-row report, nothing written); when it passes, the page offers to import the very same
// file, which travels back in a hidden field and is checked again as it is imported, all or
// nothing. "mode=import" with a file imports at once.
func (p *adminDataPages) importForm(imp adminImport) fiber.Handler {
	return func(c *fiber.Ctx) error {
		page := imp.page(p)
		view := &AdminImportView{Action: strings.TrimPrefix(c.Path(), adminBase(c)), Year: c.FormValue("year")}
		data, format, err := p.upload(c, imp.accept, view)
		if err != nil {
			return adminFail(c, err, page, fiber.Map{"Import": view})
		}
		dry := c.FormValue("mode") != "import"
		rep, err := imp.run(p)(c, data, format, dry)
		var rej *tabular.Rejected
		if errors.As(err, &rej) {
			view.Report = rej.Report
			c.Status(fiber.StatusUnprocessableEntity)
			return page(c, fiber.Map{"Import": view, "Error": adminTF(Lang(c), "admin.import.rejected", len(rej.Report.Problems))})
		}
		if err != nil {
			return adminFail(c, err, page, fiber.Map{"Import": view})
		}
		if dry {
			view.Report, view.Checked = rep, true
			view.Data, view.Format = base64.StdEncoding.EncodeToString(data), format
			return page(c, fiber.Map{"Import": view, "Preview": adminPreview(format, data)})
		}
		target := adminBase(c) + imp.back
		if view.Year != "" {
			target = adminBase(c) + imp.back + "?year=" + view.Year
		}
		return adminDone(c, target, "admin.import.done")
	}
}

// upload returns the uploaded file (the form field "file") or, on the second step, the
// checked file sent back in the hidden field "data".
func (p *adminDataPages) upload(c *fiber.Ctx, accept []string, view *AdminImportView) ([]byte, string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		view.Filename = fh.Filename
		return module.ReadUpload(c, accept)
	}
	enc := c.FormValue("data")
	if enc == "" {
		return nil, "", errs.Field("file", msgChooseFile)
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(data) == 0 {
		return nil, "", errs.Field("file", msgCheckedFileLost)
	}
	if err := module.CheckUploadSize(data); err != nil {
		return nil, "", err
	}
	format := c.FormValue("format")
	known := map[string]string{"geojson": "application/geo+json", "csv": "text/csv", "xlsx": module.XLSXType}
	if !slices.Contains(accept, known[format]) {
		return nil, "", errs.E(errs.Unsupported, msgCheckedFileFormat, format)
	}
	view.Filename = c.FormValue("filename")
	return data, format, nil
}

// adminPreview returns a checked GeoJSON file for the map (nil for tables).
func adminPreview(format string, data []byte) json.RawMessage {
	if format != "geojson" || !json.Valid(data) {
		return nil
	}
	return json.RawMessage(data)
}

// --- grids ---

// AdminResponsibility is a responsibility grid with its inspector's staff id ("" when none).
type AdminResponsibility struct {
	grids.ResponsibilityGrid
	Inspector string
}

func (p *adminDataPages) gridsPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	sc := module.Scope(c)
	level := grids.Level(c.Query("level"))
	switch level {
	case "", grids.Street, grids.Community, grids.Unit:
	default:
		level = ""
	}
	gs, err := p.Grids.FindGrids(ctx, grids.Filter{Level: level, Parent: c.Query("parent")})
	if err != nil {
		return err
	}
	const maxRows = 1000
	if len(gs) > maxRows {
		data["Truncated"], gs = len(gs), gs[:maxRows]
	}
	units, err := p.Grids.FindGrids(ctx, grids.Filter{Level: grids.Unit})
	if err != nil {
		return err
	}
	resp, err := p.Grids.FindResponsibilities(ctx)
	if err != nil {
		return err
	}
	inspectors, err := p.Org.FindStaff(ctx, org.StaffFilter{Post: org.Inspector})
	if err != nil {
		return err
	}
	staffNames := map[string]string{}
	for _, s := range inspectors {
		staffNames[s.ID] = s.Name
	}
	layers := []map[string]any{}
	b, err := p.Grids.FindBoundary(ctx)
	switch {
	case err == nil:
		// Loaded first; the grids, loaded after it, take the map's view when there are any.
		layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/boundary", "kind": "boundary", "fit": true})
		data["Boundary"] = AdminBoundaryView{AreaKM2: b.AreaM2 / 1e6, BBox: b.BBox, UpdatedAt: b.UpdatedAt}
	case !errs.Is(err, errs.NotFound):
		return err
	}
	layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/grids.geojson", "kind": "grids", "fit": true})
	var preview []map[string]any
	if p, ok := data["Preview"].(json.RawMessage); ok && p != nil {
		preview = []map[string]any{{"data": p, "kind": "grids", "fit": true}}
	}
	rv := make([]AdminResponsibility, len(resp))
	for i, r := range resp {
		rv[i] = AdminResponsibility{ResponsibilityGrid: r, Inspector: adminDeref(r.InspectorID)}
	}
	data["Grids"], data["Units"], data["Resp"], data["Inspectors"], data["StaffNames"] = gs, units, rv, inspectors, staffNames
	data["Level"], data["Parent"] = string(level), c.Query("parent")
	data["Map"], data["Layers"], data["PreviewLayers"] = p.UI.MapConfig(c), layers, preview
	return p.UI.Render(c, "admin_grids", data)
}

func (p *adminDataPages) renameGrid(c *fiber.Ctx) error {
	code := c.Params("code")
	if _, err := p.Grids.RenameGrid(c.UserContext(), code, c.FormValue("name")); err != nil {
		return adminFail(c, err, p.gridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids", "admin.grids.renamed")
}

// AdminBoundaryView is the tenant's boundary as the grids page describes it.
type AdminBoundaryView struct {
	AreaKM2   float64
	BBox      [4]float64
	UpdatedAt time.Time
}

func (p *adminDataPages) putBoundary(c *fiber.Ctx) error {
	if _, err := grids.PutUploadedBoundary(c, p.Grids); err != nil {
		return adminFail(c, err, p.gridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids#boundary", "admin.boundary.saved")
}

func (p *adminDataPages) deleteBoundary(c *fiber.Ctx) error {
	err := p.Grids.DeleteBoundary(c.UserContext())
	return adminFinish(c, err, p.gridsPage, nil, "/grids#boundary", "admin.boundary.deleted")
}

// adminSplitCodes reads grid codes separated by commas, spaces, semicolons or new lines.
func adminSplitCodes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func (p *adminDataPages) putResponsibility(c *fiber.Ctx) error {
	rg := grids.ResponsibilityGrid{Code: c.FormValue("code"), Name: c.FormValue("name"), InspectorID: adminFormID(c, "inspector_id"), Units: adminSplitCodes(c.FormValue("units"))}
	if _, err := p.Grids.PutResponsibility(c.UserContext(), rg); err != nil {
		return adminFail(c, err, p.gridsPage, fiber.Map{"RespForm": fiber.Map{"Code": rg.Code, "Name": rg.Name, "Units": rg.Units}})
	}
	return adminDone(c, adminBase(c)+"/grids#responsibility", "admin.grids.assigned")
}

func (p *adminDataPages) deleteResponsibility(c *fiber.Ctx) error {
	err := p.Grids.DeleteResponsibility(c.UserContext(), c.Params("code"))
	return adminFinish(c, err, p.gridsPage, nil, "/grids#responsibility", "admin.grids.unassigned")
}

// --- categories and standards ---

// AdminClassGroup is a major class with its minor classes.
type AdminClassGroup struct {
	Major  catalog.Class
	Minors []catalog.Class
}

func adminClassGroups(cs []catalog.Class, kind catalog.Kind) []AdminClassGroup {
	var out []AdminClassGroup
	idx := map[string]int{}
	for _, c := range cs {
		if c.Kind == kind && c.Level == "major" {
			idx[c.Code] = len(out)
			out = append(out, AdminClassGroup{Major: c})
		}
	}
	for _, c := range cs {
		if c.Kind == kind && c.Level == "minor" {
			if i, ok := idx[c.MajorCode]; ok {
				out[i].Minors = append(out[i].Minors, c)
			}
		}
	}
	return out
}

// AdminStandard is a 立结案标准 with its class's and department's names.
type AdminStandard struct {
	catalog.Standard
	ClassName, Department string
}

func (p *adminDataPages) catalogPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	cs, err := p.Catalog.FindClasses(ctx, catalog.ClassFilter{})
	if err != nil {
		return err
	}
	var ext []catalog.Class
	names := map[string]string{}
	for _, cl := range cs {
		if cl.Origin != catalog.National {
			ext = append(ext, cl)
		}
		names[string(cl.Kind)+"/"+cl.Code] = cl.NameZH
	}
	standards, err := p.Catalog.FindStandards(ctx, catalog.StandardFilter{})
	if err != nil {
		return err
	}
	ds, err := p.Org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	depts := map[string]string{}
	for _, d := range ds {
		depts[d.ID] = d.Name
	}
	views := make([]AdminStandard, len(standards))
	for i, st := range standards {
		views[i] = AdminStandard{Standard: st, ClassName: names[string(st.Kind)+"/"+st.ClassCode], Department: depts[adminDeref(st.DepartmentID)]}
	}
	data["Extensions"], data["Standards"] = ext, views
	data["Components"], data["Events"] = adminClassGroups(cs, catalog.Component), adminClassGroups(cs, catalog.Event)
	data["HasParent"] = module.Scope(c).Tenant.ParentID != nil
	return p.UI.Render(c, "admin_catalog", data)
}

func (p *adminDataPages) createClass(c *fiber.Ctx) error {
	kind, _ := catalog.ParseKind(c.FormValue("kind"))
	in := catalog.ClassInput{Kind: kind, Code: c.FormValue("code"), NameZH: c.FormValue("name_zh"), NameEN: c.FormValue("name_en")}
	if _, err := p.Catalog.CreateClass(c.UserContext(), in); err != nil {
		return adminFail(c, err, p.catalogPage, fiber.Map{"ClassForm": in})
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.created")
}

func (p *adminDataPages) deleteClass(c *fiber.Ctx) error {
	k, err := catalog.PathKind(c.Params("kind"))
	if err != nil {
		return err
	}
	err = p.Catalog.DeleteClass(c.UserContext(), k, c.Params("code"))
	return adminFinish(c, err, p.catalogPage, nil, "/catalog", "admin.catalog.deleted")
}

func (p *adminDataPages) syncClasses(c *fiber.Ctx) error {
	if _, _, err := p.Catalog.SyncFromPrefecture(c.UserContext()); err != nil {
		return adminFail(c, err, p.catalogPage, nil)
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.synced")
}

// --- work calendar ---

// AdminDay is a special day as the page shows it.
type AdminDay struct {
	calendar.Day
	Weekday time.Weekday
}

func (p *adminDataPages) calendarPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	st, err := p.Calendar.FindSettings(ctx)
	if err != nil {
		return err
	}
	year := c.QueryInt("year")
	if imp, ok := data["Import"].(*AdminImportView); ok && imp.Year != "" {
		if y, err := strconv.Atoi(imp.Year); err == nil {
			year = y
		}
	}
	if year < 1949 || year > 2200 {
		year = p.Store.Now().In(clock.China).Year()
	}
	days, err := p.Calendar.FindDays(ctx, year)
	if err != nil {
		return err
	}
	out := make([]AdminDay, 0, len(days))
	holidays, workdays := 0, 0
	for _, d := range days {
		cd := AdminDay{Day: d}
		if t, err := time.Parse("2006-01-02", d.Date); err == nil {
			cd.Weekday = t.Weekday()
		}
		if d.Kind == calendar.Holiday {
			holidays++
		} else {
			workdays++
		}
		out = append(out, cd)
	}
	weekend := map[int]bool{}
	for _, w := range st.Weekend {
		weekend[int(w)] = true
	}
	if f, ok := data["CalForm"].(calendar.Settings); ok {
		st.TimeZone, st.WorkingHours = f.TimeZone, f.WorkingHours
	}
	data["Settings"], data["Weekend"], data["Year"], data["Days"] = st, weekend, year, out
	data["Holidays"], data["Workdays"] = holidays, workdays
	data["Weekdays"] = []int{1, 2, 3, 4, 5, 6, 0}
	return p.UI.Render(c, "admin_calendar", data)
}

func (p *adminDataPages) putCalendar(c *fiber.Ctx) error {
	in := calendar.Settings{TimeZone: strings.TrimSpace(c.FormValue("time_zone")), WorkingHours: strings.TrimSpace(c.FormValue("working_hours"))}
	for _, w := range adminFormValues(c, "weekend") {
		if n, err := strconv.Atoi(w); err == nil && n >= 0 && n <= 6 {
			in.Weekend = append(in.Weekend, time.Weekday(n))
		}
	}
	if _, err := p.Calendar.UpdateSettings(c.UserContext(), in, module.Principal(c).Identity.Email); err != nil {
		return adminFail(c, err, p.calendarPage, fiber.Map{"CalForm": in})
	}
	return adminDone(c, adminBase(c)+"/calendar", "admin.calendar.saved")
}

// --- stage time limits ---

func (p *adminDataPages) stagesPage(c *fiber.Ctx, data fiber.Map) error {
	ls, err := p.Cases.FindStageLimits(c.UserContext())
	if err != nil {
		return err
	}
	data["Stages"] = ls
	data["Units"] = []calendar.Unit{calendar.WorkingHours, calendar.WorkingDays, calendar.UrgentHours}
	return p.UI.Render(c, "admin_stages", data)
}

func (p *adminDataPages) putStage(c *fiber.Ctx) error {
	var in cases.StageLimitInput
	amount, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue("amount")), 64)
	if err != nil {
		return adminFail(c, errs.Field("amount", msgLimitNotNumber, c.FormValue("amount")), p.stagesPage, nil)
	}
	in.Limit = &calendar.Limit{Amount: amount, Unit: calendar.Unit(c.FormValue("unit"))}
	if u := strings.TrimSpace(c.FormValue("urgent")); u != "" {
		v, err := strconv.ParseFloat(u, 64)
		if err != nil {
			return adminFail(c, errs.Field("urgent", msgUrgentLimitNotNumber, u), p.stagesPage, nil)
		}
		in.Urgent = &calendar.Limit{Amount: v, Unit: calendar.UrgentHours}
	}
	if _, err := p.Cases.PutStageLimit(c.UserContext(), cases.Stage(c.Params("stage")), in); err != nil {
		return adminFail(c, err, p.stagesPage, nil)
	}
	return adminDone(c, adminBase(c)+"/stages", "admin.stages.saved")
}
