package app

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/app/console"
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

// adminImport is one of the console's import forms: the API's accepted media types, the page it
// belongs to, and the service call (the same as the API's).
type adminImport struct {
	accept []string
	page   func(a *App) adminPage
	back   string
	run    func(a *App) module.Importer
}

var (
	adminGridsImport = adminImport{accept: []string{"application/geo+json", "application/json"},
		page: func(a *App) adminPage { return a.adminGridsPage }, back: "/grids",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, _ string, dry bool) (*tabular.Report, error) {
				return a.platform.grids.Import(c.UserContext(), data, dry)
			}
		}}
	adminStandardsImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(a *App) adminPage { return a.adminCatalogPage }, back: "/catalog#standards",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				return a.platform.catalog.ImportStandards(c.UserContext(), data, tabular.Format(format), dry)
			}
		}}
	adminCalendarImport = adminImport{accept: []string{"text/csv", module.XLSXType},
		page: func(a *App) adminPage { return a.adminCalendarPage }, back: "/calendar",
		run: func(a *App) module.Importer {
			return func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
				year, err := strconv.Atoi(c.FormValue("year"))
				if err != nil {
					return nil, errs.Field("year", msgGiveYearBeingImportedSuch)
				}
				return a.platform.calendar.ImportYear(c.UserContext(), year, data, format, dry)
			}
		}}
)

// adminImportView is what an import form shows after a check or a rejected import.
type adminImportView struct {
	Action   string // the form's path below /admin
	Report   *tabular.Report
	Checked  bool   // a dry run passed: offer to import the same file
	Data     string // the checked file, base64, sent back with the import
	Format   string
	Filename string
	Year     string
}

// webAdminImport serves an import form. The first step checks the file (a dry run: the
// row-by-row report, nothing written); when it passes, the page offers to import the very same
// file, which travels back in a hidden field and is checked again as it is imported, all or
// nothing. "mode=import" with a file imports at once.
func (a *App) webAdminImport(imp adminImport) fiber.Handler {
	return func(c *fiber.Ctx) error {
		page := imp.page(a)
		view := &adminImportView{Action: strings.TrimPrefix(c.Path(), adminBase(c)), Year: c.FormValue("year")}
		data, format, err := a.adminUpload(c, imp.accept, view)
		if err != nil {
			return adminFail(c, err, page, fiber.Map{"Import": view})
		}
		dry := c.FormValue("mode") != "import"
		rep, err := imp.run(a)(c, data, format, dry)
		var rej *tabular.Rejected
		if errors.As(err, &rej) {
			view.Report = rej.Report
			c.Status(fiber.StatusUnprocessableEntity)
			return page(c, fiber.Map{"Import": view, "Error": adminTF(console.Lang(c), "admin.import.rejected", len(rej.Report.Problems))})
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

// adminUpload returns the uploaded file (the form field "file") or, on the second step, the
// checked file sent back in the hidden field "data".
func (a *App) adminUpload(c *fiber.Ctx, accept []string, view *adminImportView) ([]byte, string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		view.Filename = fh.Filename
		return module.ReadUpload(c, accept)
	}
	enc := c.FormValue("data")
	if enc == "" {
		return nil, "", errs.Field("file", msgChooseFileUpload)
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(data) == 0 {
		return nil, "", errs.Field("file", msgCheckedFileDidNotCome)
	}
	if err := module.CheckUploadSize(data); err != nil {
		return nil, "", err
	}
	format := c.FormValue("format")
	known := map[string]string{"geojson": "application/geo+json", "csv": "text/csv", "xlsx": module.XLSXType}
	if !slices.Contains(accept, known[format]) {
		return nil, "", errs.E(errs.Unsupported, msgCheckedFileFormatNotAccepted, format)
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

// adminResp is a responsibility grid with its inspector's staff id ("" when none).
type adminResp struct {
	grids.ResponsibilityGrid
	Inspector string
}

func (a *App) adminGridsPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	sc := scope(c)
	level := grids.Level(c.Query("level"))
	switch level {
	case "", grids.Street, grids.Community, grids.Unit:
	default:
		level = ""
	}
	gs, err := a.platform.grids.FindGrids(ctx, grids.Filter{Level: level, Parent: c.Query("parent")})
	if err != nil {
		return err
	}
	const maxRows = 1000
	if len(gs) > maxRows {
		data["Truncated"], gs = len(gs), gs[:maxRows]
	}
	units, err := a.platform.grids.FindGrids(ctx, grids.Filter{Level: grids.Unit})
	if err != nil {
		return err
	}
	resp, err := a.platform.grids.FindResponsibilities(ctx)
	if err != nil {
		return err
	}
	inspectors, err := a.platform.org.FindStaff(ctx, org.StaffFilter{Post: org.Inspector})
	if err != nil {
		return err
	}
	staffNames := map[string]string{}
	for _, s := range inspectors {
		staffNames[s.ID] = s.Name
	}
	layers := []map[string]any{}
	b, err := a.platform.grids.FindBoundary(ctx)
	switch {
	case err == nil:
		// Loaded first; the grids, loaded after it, take the map's view when there are any.
		layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/boundary", "kind": "boundary", "fit": true})
		data["Boundary"] = adminBoundaryView{AreaKM2: b.AreaM2 / 1e6, BBox: b.BBox, UpdatedAt: b.UpdatedAt}
	case !errs.Is(err, errs.NotFound):
		return err
	}
	layers = append(layers, map[string]any{"url": "/api/v1/t/" + sc.Tenant.Slug + "/grids.geojson", "kind": "grids", "fit": true})
	var preview []map[string]any
	if p, ok := data["Preview"].(json.RawMessage); ok && p != nil {
		preview = []map[string]any{{"data": p, "kind": "grids", "fit": true}}
	}
	rv := make([]adminResp, len(resp))
	for i, r := range resp {
		rv[i] = adminResp{ResponsibilityGrid: r, Inspector: adminDeref(r.InspectorID)}
	}
	data["Grids"], data["Units"], data["Resp"], data["Inspectors"], data["StaffNames"] = gs, units, rv, inspectors, staffNames
	data["Level"], data["Parent"] = string(level), c.Query("parent")
	data["Map"], data["Layers"], data["PreviewLayers"] = a.web.MapConfig(c), layers, preview
	return a.web.Render(c, "admin_grids", data)
}

func (a *App) webAdminRenameGrid(c *fiber.Ctx) error {
	code := c.Params("code")
	if _, err := a.platform.grids.RenameGrid(c.UserContext(), code, c.FormValue("name")); err != nil {
		return adminFail(c, err, a.adminGridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids", "admin.grids.renamed")
}

// adminBoundaryView is the tenant's boundary as the grids page describes it.
type adminBoundaryView struct {
	AreaKM2   float64
	BBox      [4]float64
	UpdatedAt time.Time
}

func (a *App) webAdminPutBoundary(c *fiber.Ctx) error {
	if _, err := grids.PutUploadedBoundary(c, a.platform.grids); err != nil {
		return adminFail(c, err, a.adminGridsPage, nil)
	}
	return adminDone(c, adminBase(c)+"/grids#boundary", "admin.boundary.saved")
}

func (a *App) webAdminDeleteBoundary(c *fiber.Ctx) error {
	err := a.platform.grids.DeleteBoundary(c.UserContext())
	return adminFinish(c, err, a.adminGridsPage, nil, "/grids#boundary", "admin.boundary.deleted")
}

// adminSplitCodes reads grid codes separated by commas, spaces, semicolons or new lines.
func adminSplitCodes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func (a *App) webAdminPutResponsibility(c *fiber.Ctx) error {
	rg := grids.ResponsibilityGrid{Code: c.FormValue("code"), Name: c.FormValue("name"), InspectorID: adminFormID(c, "inspector_id"), Units: adminSplitCodes(c.FormValue("units"))}
	if _, err := a.platform.grids.PutResponsibility(c.UserContext(), rg); err != nil {
		return adminFail(c, err, a.adminGridsPage, fiber.Map{"RespForm": fiber.Map{"Code": rg.Code, "Name": rg.Name, "Units": rg.Units}})
	}
	return adminDone(c, adminBase(c)+"/grids#responsibility", "admin.grids.assigned")
}

func (a *App) webAdminDeleteResponsibility(c *fiber.Ctx) error {
	err := a.platform.grids.DeleteResponsibility(c.UserContext(), c.Params("code"))
	return adminFinish(c, err, a.adminGridsPage, nil, "/grids#responsibility", "admin.grids.unassigned")
}

// --- categories and standards ---

// adminClassGroup is a major class with its minor classes.
type adminClassGroup struct {
	Major  catalog.Class
	Minors []catalog.Class
}

func adminClassGroups(cs []catalog.Class, kind catalog.Kind) []adminClassGroup {
	var out []adminClassGroup
	idx := map[string]int{}
	for _, c := range cs {
		if c.Kind == kind && c.Level == "major" {
			idx[c.Code] = len(out)
			out = append(out, adminClassGroup{Major: c})
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

// adminStandard is a 立结案标准 with its class's and department's names.
type adminStandard struct {
	catalog.Standard
	ClassName, Department string
}

func (a *App) adminCatalogPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	cs, err := a.platform.catalog.FindClasses(ctx, catalog.ClassFilter{})
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
	standards, err := a.platform.catalog.FindStandards(ctx, catalog.StandardFilter{})
	if err != nil {
		return err
	}
	ds, err := a.platform.org.FindDepartments(ctx)
	if err != nil {
		return err
	}
	depts := map[string]string{}
	for _, d := range ds {
		depts[d.ID] = d.Name
	}
	views := make([]adminStandard, len(standards))
	for i, st := range standards {
		views[i] = adminStandard{Standard: st, ClassName: names[string(st.Kind)+"/"+st.ClassCode], Department: depts[adminDeref(st.DepartmentID)]}
	}
	data["Extensions"], data["Standards"] = ext, views
	data["Components"], data["Events"] = adminClassGroups(cs, catalog.Component), adminClassGroups(cs, catalog.Event)
	data["HasParent"] = scope(c).Tenant.ParentID != nil
	return a.web.Render(c, "admin_catalog", data)
}

func (a *App) webAdminCreateClass(c *fiber.Ctx) error {
	kind, _ := catalog.ParseKind(c.FormValue("kind"))
	in := catalog.ClassInput{Kind: kind, Code: c.FormValue("code"), NameZH: c.FormValue("name_zh"), NameEN: c.FormValue("name_en")}
	if _, err := a.platform.catalog.CreateClass(c.UserContext(), in); err != nil {
		return adminFail(c, err, a.adminCatalogPage, fiber.Map{"ClassForm": in})
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.created")
}

func (a *App) webAdminDeleteClass(c *fiber.Ctx) error {
	k, err := catalog.PathKind(c.Params("kind"))
	if err != nil {
		return err
	}
	err = a.platform.catalog.DeleteClass(c.UserContext(), k, c.Params("code"))
	return adminFinish(c, err, a.adminCatalogPage, nil, "/catalog", "admin.catalog.deleted")
}

func (a *App) webAdminSyncClasses(c *fiber.Ctx) error {
	if _, _, err := a.platform.catalog.SyncFromPrefecture(c.UserContext()); err != nil {
		return adminFail(c, err, a.adminCatalogPage, nil)
	}
	return adminDone(c, adminBase(c)+"/catalog", "admin.catalog.synced")
}

// --- work calendar ---

// adminDay is a special day as the page shows it.
type adminDay struct {
	calendar.Day
	Weekday time.Weekday
}

func (a *App) adminCalendarPage(c *fiber.Ctx, data fiber.Map) error {
	ctx := c.UserContext()
	st, err := a.platform.calendar.FindSettings(ctx)
	if err != nil {
		return err
	}
	year := c.QueryInt("year")
	if imp, ok := data["Import"].(*adminImportView); ok && imp.Year != "" {
		if y, err := strconv.Atoi(imp.Year); err == nil {
			year = y
		}
	}
	if year < 1949 || year > 2200 {
		year = a.store.Now().In(clock.China).Year()
	}
	days, err := a.platform.calendar.FindDays(ctx, year)
	if err != nil {
		return err
	}
	out := make([]adminDay, 0, len(days))
	holidays, workdays := 0, 0
	for _, d := range days {
		cd := adminDay{Day: d}
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
	return a.web.Render(c, "admin_calendar", data)
}

func (a *App) webAdminPutCalendar(c *fiber.Ctx) error {
	in := calendar.Settings{TimeZone: strings.TrimSpace(c.FormValue("time_zone")), WorkingHours: strings.TrimSpace(c.FormValue("working_hours"))}
	for _, w := range adminFormValues(c, "weekend") {
		if n, err := strconv.Atoi(w); err == nil && n >= 0 && n <= 6 {
			in.Weekend = append(in.Weekend, time.Weekday(n))
		}
	}
	if _, err := a.platform.calendar.UpdateSettings(c.UserContext(), in, principal(c).Identity.Email); err != nil {
		return adminFail(c, err, a.adminCalendarPage, fiber.Map{"CalForm": in})
	}
	return adminDone(c, adminBase(c)+"/calendar", "admin.calendar.saved")
}

// --- stage time limits ---

func (a *App) adminStagesPage(c *fiber.Ctx, data fiber.Map) error {
	ls, err := a.cases.FindStageLimits(c.UserContext())
	if err != nil {
		return err
	}
	data["Stages"] = ls
	data["Units"] = []calendar.Unit{calendar.WorkingHours, calendar.WorkingDays, calendar.UrgentHours}
	return a.web.Render(c, "admin_stages", data)
}

func (a *App) webAdminPutStage(c *fiber.Ctx) error {
	var in cases.StageLimitInput
	amount, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue("amount")), 64)
	if err != nil {
		return adminFail(c, errs.Field("amount", msgLimitNotNumber, c.FormValue("amount")), a.adminStagesPage, nil)
	}
	in.Limit = &calendar.Limit{Amount: amount, Unit: calendar.Unit(c.FormValue("unit"))}
	if u := strings.TrimSpace(c.FormValue("urgent")); u != "" {
		v, err := strconv.ParseFloat(u, 64)
		if err != nil {
			return adminFail(c, errs.Field("urgent", msgLimitUrgentCasesNotNumber, u), a.adminStagesPage, nil)
		}
		in.Urgent = &calendar.Limit{Amount: v, Unit: calendar.UrgentHours}
	}
	if _, err := a.cases.PutStageLimit(c.UserContext(), cases.Stage(c.Params("stage")), in); err != nil {
		return adminFail(c, err, a.adminStagesPage, nil)
	}
	return adminDone(c, adminBase(c)+"/stages", "admin.stages.saved")
}

// --- integrations ---
