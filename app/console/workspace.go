package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/msg"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// The case workspace of county staff: an inbox per post, the case list and map, the case page
// with the actions the caller's posts may take now, and the inspectors' report form. Which post
// may do what is the case service's (cases.Machine, read through ActionsFor and WaitingStates);
// these pages only offer what it allows and show what it refuses. Read-only scopes are refused
// every POST by tenantScope before any handler here runs.
func MountWorkspace(r fiber.Router, d WorkspaceDeps) {
	w := &workspace{d}
	r.Get("/inbox", w.inbox)
	r.Get("/cases", w.caseList)
	r.Get("/map", w.caseMap)
	r.Get("/report", w.reportForm)
	r.Post("/report", w.report)
	r.Get("/cases/:id", w.casePage)
	r.Post("/cases/:id/actions/:action", w.caseAction)
	r.Post("/cases/:id/photos", w.casePhoto)
}

// dueSoon is how close to its stage deadline a case shows as about to be overdue.
const dueSoon = time.Hour

// WorkspaceDeps are what the case workspace uses: the case service and the names of classes and
// departments.
type WorkspaceDeps struct {
	UI      *UI
	Store   *tenants.Store
	Log     *slog.Logger
	Cases   *cases.Service
	Catalog *catalog.Service
	Org     *org.Service
	// Surveys reads a case's citizen survey (回访) for its page ((*open311.Service) satisfies it).
	Surveys interface {
		FindCaseSurvey(ctx context.Context, id string) (*open311.CaseSurvey, error)
	}
}

type workspace struct{ d WorkspaceDeps }

func tenantBase(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug }

// CaseRow is a case as a list shows it.
type CaseRow struct {
	cases.Case
	ClassName, DeptName string
	Late, DueSoon       bool
}

// caseNames names classes and departments for the rows of a page.
type caseNames struct {
	classes map[string]string // kind/code → name
	depts   map[string]string // id → name
}

func (w *workspace) caseNames(c *fiber.Ctx) (*caseNames, []catalog.Class, []org.Department, error) {
	ctx := c.UserContext()
	cls, err := w.d.Catalog.FindClasses(ctx, catalog.ClassFilter{})
	if err != nil {
		return nil, nil, nil, err
	}
	ds, err := w.d.Org.FindDepartments(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	n := &caseNames{classes: map[string]string{}, depts: map[string]string{}}
	l := Lang(c)
	var minor []catalog.Class
	for _, cl := range cls {
		name := cl.NameZH
		if l == "en" && cl.NameEN != "" {
			name = cl.NameEN
		}
		n.classes[string(cl.Kind)+"/"+cl.Code] = name
		if cl.Level == "minor" {
			minor = append(minor, cl)
		}
	}
	for _, d := range ds {
		n.depts[d.ID] = d.Name
	}
	return n, minor, ds, nil
}

func (n *caseNames) row(cs cases.Case, now time.Time) CaseRow {
	r := CaseRow{Case: cs, ClassName: n.classes[string(cs.Kind)+"/"+cs.ClassCode]}
	if cs.DepartmentID != nil {
		r.DeptName = n.depts[*cs.DepartmentID]
	}
	dl := cs.StageDeadlineAt
	r.Late = cs.Overdue || cs.StageOverdue || (dl != nil && !dl.After(now))
	r.DueSoon = !r.Late && dl != nil && dl.Before(now.Add(dueSoon))
	return r
}

// InboxSection is what waits for one of the caller's posts.
type InboxSection struct {
	Post                      tenants.Role
	Waiting, DueSoon, Overdue int64
	Rows                      []CaseRow
}

// inbox shows, for each post the caller holds, the cases waiting for it (overdue first, then
// by stage deadline): the states in which the machine lets that post act; for a handler only the
// cases of its department; for a leader the open cases running late that are not yet supervised
// (督办).
func (w *workspace) inbox(c *fiber.Ctx) error {
	sc := module.Scope(c)
	names, _, _, err := w.caseNames(c)
	if err != nil {
		return err
	}
	now := w.d.Store.Now()
	var sections []InboxSection
	for _, post := range StaffPosts {
		if !slices.Contains(sc.Roles, post) {
			continue
		}
		q := cases.Queue{States: cases.WaitingStates(post), Soon: dueSoon}
		switch post {
		case tenants.Handler:
			if p := module.Principal(c); p != nil && p.Identity != nil {
				q.Handler = p.Identity.ID.String()
			}
		case tenants.Leader:
			no := false
			q.States, q.Supervised, q.Late = cases.OpenStates(), &no, true
		}
		page, err := w.d.Cases.FindQueue(c.UserContext(), q)
		if err != nil {
			return err
		}
		s := InboxSection{Post: post, Waiting: page.Waiting, DueSoon: page.DueSoon, Overdue: page.Overdue}
		for _, cs := range page.Cases {
			s.Rows = append(s.Rows, names.row(cs, now))
		}
		sections = append(sections, s)
	}
	return w.d.UI.Render(c, "case_inbox", fiber.Map{"Sections": sections, "Base": tenantBase(c),
		"CanReport": !sc.ReadOnly && sc.Has(cases.ReportPosts...)})
}

// caseList is the case list with the API's filters (cases.QueryFilter) and cursor pages.
func (w *workspace) caseList(c *fiber.Ctx) error {
	names, classes, depts, err := w.caseNames(c)
	if err != nil {
		return err
	}
	data := fiber.Map{"Base": tenantBase(c), "Q": c.Queries(), "Classes": classes, "Departments": depts, "States": CaseStates(), "Sources": cases.Sources,
		"Surveys": cases.SurveyFilters}
	// The class select sends kind/code (codes repeat between components and events).
	if kind, code, ok := strings.Cut(c.Query("class"), "/"); ok {
		c.Request().URI().QueryArgs().Set("kind", kind)
		c.Request().URI().QueryArgs().Set("class_code", code)
	}
	f, err := cases.QueryFilter(c)
	if err == nil {
		f.BBox = nil
		var page *cases.Page
		if page, err = w.d.Cases.FindCases(c.UserContext(), f); err == nil {
			now := w.d.Store.Now()
			rows := make([]CaseRow, 0, len(page.Cases))
			for _, cs := range page.Cases {
				rows = append(rows, names.row(cs, now))
			}
			data["Rows"] = rows
			if page.Next != "" {
				q := url.Values{}
				for k, v := range c.Queries() {
					q.Set(k, v)
				}
				q.Del("done")
				q.Set("cursor", page.Next)
				data["Next"] = tenantBase(c) + "/cases?" + q.Encode()
			}
		}
	}
	if err != nil {
		msg, err := FormError(c, err)
		if err != nil {
			return err
		}
		data["Error"] = msg
	}
	return w.d.UI.Render(c, "case_list", data)
}

// CaseStates lists every state, in the loop's order, for the filter.
func CaseStates() []cases.State {
	return append(cases.OpenStates(), cases.Closed, cases.Voided)
}

// caseMap draws the cases of the visible window (clustered, with the list's filters) over the
// tenant's grids.
func (w *workspace) caseMap(c *fiber.Ctx) error {
	api := "/api/v1" + tenantBase(c)
	q := url.Values{}
	for k, v := range c.Queries() {
		if k != "bbox" && k != "cursor" && k != "done" && k != "lang" && v != "" {
			q.Set(k, v)
		}
	}
	data := fiber.Map{"Base": tenantBase(c), "Q": c.Queries(), "States": CaseStates(), "Map": w.d.UI.MapConfig(c)}
	if _, err := cases.QueryFilter(c); err != nil {
		msg, err := FormError(c, err)
		if err != nil {
			return err
		}
		data["Error"] = msg
		q = url.Values{}
	}
	casesURL := api + "/cases.geojson"
	if len(q) > 0 {
		casesURL += "?" + q.Encode()
	}
	data["Layers"] = []map[string]any{
		{"url": api + "/grids.geojson", "kind": "grids", "fit": true},
		{"url": casesURL, "kind": "cases", "cluster": true, "bbox": true, "link": tenantBase(c) + "/cases/{id}", "states": StateLabels(Lang(c))},
	}
	return w.d.UI.Render(c, "case_map", data)
}

// ActionForm is one action the caller may take, as a form on the case page.
type ActionForm struct {
	Action      cases.Action
	NeedsReason bool
	Danger      bool
}

// StageRow is how one stage of a case went (or is going).
type StageRow struct {
	Stage            cases.Stage
	Limit            *calendar.Limit
	StartedAt        *time.Time
	Deadline         *time.Time
	Overdue          bool
	OvertimeMultiple float64
	Current          bool
}

// EventRow is one entry of the timeline.
type EventRow struct {
	cases.Event
	Department string
	Passed     *bool
	Extension  *calendar.Limit
	Limit      *calendar.Limit
}

type eventDetail struct {
	Stage        *cases.StageStatus `json:"stage"`
	DepartmentID string             `json:"department_id"`
	Passed       *bool              `json:"passed"`
	Extension    *calendar.Limit    `json:"extension"`
	Limit        *calendar.Limit    `json:"limit"`
}

// casePage is the case page.
func (w *workspace) casePage(c *fiber.Ctx) error { return w.renderCase(c, "") }

// renderCase renders the case page with an error message from a failed form (the status is
// already set).
func (w *workspace) renderCase(c *fiber.Ctx, errMsg string) error {
	ctx := c.UserContext()
	cs, err := w.d.Cases.FindCaseByID(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	names, _, depts, err := w.caseNames(c)
	if err != nil {
		return err
	}
	acts, err := w.d.Cases.ActionsFor(ctx, cs)
	if err != nil {
		return err
	}
	forms := make([]ActionForm, 0, len(acts))
	for _, act := range acts {
		forms = append(forms, ActionForm{Action: act, NeedsReason: cases.NeedsReason(act),
			Danger: act == cases.Void || act == cases.Rework || strings.HasPrefix(string(act), "reject_")})
	}
	var standards []catalog.Standard
	if slices.Contains(acts, cases.File) {
		if standards, err = w.d.Catalog.FindStandards(ctx, catalog.StandardFilter{Kind: cs.Kind, ClassCode: cs.ClassCode}); err != nil {
			return err
		}
	}
	var stages []StageRow
	events := make([]EventRow, 0, len(cs.Events))
	for _, e := range cs.Events {
		var d eventDetail
		_ = json.Unmarshal(e.Detail, &d)
		row := EventRow{Event: e, Passed: d.Passed, Extension: d.Extension, Limit: d.Limit}
		if d.DepartmentID != "" {
			row.Department = names.depts[d.DepartmentID]
		}
		events = append(events, row)
		if d.Stage != nil && d.Stage.Stage != "" {
			stages = append(stages, StageRow{Stage: d.Stage.Stage, Limit: d.Stage.Limit, StartedAt: d.Stage.StartedAt,
				Deadline: d.Stage.Deadline, Overdue: d.Stage.Overdue, OvertimeMultiple: d.Stage.OvertimeMultiple})
		}
	}
	if cs.Stage != "" {
		stages = append(stages, StageRow{Stage: cs.Stage, Limit: cs.StageLimit, StartedAt: cs.StageStartedAt, Deadline: cs.StageDeadlineAt,
			Overdue:          cs.StageOverdue || (cs.StageDeadlineAt != nil && !cs.StageDeadlineAt.After(w.d.Store.Now())),
			OvertimeMultiple: cs.StageOvertimeMultiple, Current: true})
	}
	point := map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{
		"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []float64{cs.Lon, cs.Lat}},
		"properties": map[string]any{"number": cs.Number, "state": cs.State, "overdue": cs.Overdue}}}}
	row := names.row(*cs, w.d.Store.Now())
	reportedBy := cs.ReportedBy
	if len(cs.Events) > 0 && cs.Events[0].ActorEmail != "" {
		reportedBy = cs.Events[0].ActorEmail
	}
	dept, unit := "", ""
	if cs.DepartmentID != nil {
		dept = *cs.DepartmentID
	}
	if cs.Limit != nil {
		unit = string(cs.Limit.Unit)
	}
	survey, err := w.d.Surveys.FindCaseSurvey(ctx, cs.ID)
	if err != nil {
		return err
	}
	return w.d.UI.Render(c, "case_page", fiber.Map{
		"Survey": survey, "Case": row, "Actions": forms, "Standards": standards, "Departments": depts, "Stages": stages, "Events": events,
		"PhotoBase": "/api/v1" + tenantBase(c) + "/cases/" + cs.ID + "/photos/", "CanPhoto": w.d.Cases.CanAddPhoto(ctx, cs),
		"Units": []calendar.Unit{calendar.UrgentHours, calendar.WorkingHours, calendar.WorkingDays},
		"Error": errMsg, "Map": w.d.UI.MapConfig(c), "CurrentDept": dept, "LimitUnit": unit, "ReportedBy": reportedBy, "Base": tenantBase(c),
		"Layers": []map[string]any{{"url": "/api/v1" + tenantBase(c) + "/grids.geojson?level=unit", "kind": "grids"}, {"data": point, "kind": "points", "fit": true}},
	})
}

// caseFormError re-renders the case page for a refused form: an action refused because the page
// was stale says so plainly (409); any other refusal shows the service's message with its
// status. sawVersion is the version the page showed, -1 for forms that are not actions.
func (w *workspace) caseFormError(c *fiber.Ctx, err error, sawVersion int) error {
	msg, ierr := FormError(c, err)
	if ierr != nil {
		return ierr
	}
	if errs.Is(err, errs.Conflict) && sawVersion >= 0 {
		if cur, ferr := w.d.Cases.FindCaseByID(c.UserContext(), c.Params("id")); ferr == nil && cur.Version != sawVersion {
			msg = Translate(Lang(c), "cases.stale")
		}
	}
	return w.renderCase(c, msg)
}

// formValues returns every value of a form field, url-encoded or multipart.
func formValues(c *fiber.Ctx, name string) []string {
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		return mf.Value[name]
	}
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// formLimit reads an amount and a unit (e.g. extension_amount, extension_unit); nil when the
// amount is empty.
func formLimit(c *fiber.Ctx, prefix string) (*calendar.Limit, error) {
	s := strings.TrimSpace(c.FormValue(prefix + "_amount"))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errs.Field(prefix, msgAmountTimeNumberEG)
	}
	return &calendar.Limit{Amount: n, Unit: calendar.Unit(c.FormValue(prefix + "_unit"))}, nil
}

// formPhoto reads the optional photo of a form, "" when none was chosen.
func formPhoto(c *fiber.Ctx, field string) ([]byte, error) {
	fh, err := c.FormFile(field)
	if err != nil || fh == nil || fh.Size == 0 && fh.Filename == "" {
		return nil, nil
	}
	return cases.ReadPhoto(fh, "photo")
}

// caseAction takes one action from the case page's forms. Feedback may carry a new
// after-photo: it is checked and stored only once the page's version is known to be current, and
// then attached to the action.
func (w *workspace) caseAction(c *fiber.Ctx) error {
	ctx, id := c.UserContext(), c.Params("id")
	action := cases.Action(c.Params("action"))
	version, _ := strconv.Atoi(c.FormValue("version"))
	in := cases.ActionInput{Version: version, Reason: c.FormValue("reason"), StandardID: c.FormValue("standard_id"),
		DepartmentID: c.FormValue("department_id"), Attachments: formValues(c, "attachments")}
	var err error
	if in.Limit, err = formLimit(c, "limit"); err != nil {
		return w.caseFormError(c, err, version)
	}
	if in.Extension, err = formLimit(c, "extension"); err != nil {
		return w.caseFormError(c, err, version)
	}
	switch c.FormValue("passed") {
	case "true":
		yes := true
		in.Passed = &yes
	case "false":
		no := false
		in.Passed = &no
	}
	photo, err := formPhoto(c, "photo")
	if err != nil {
		return w.caseFormError(c, err, version)
	}
	if photo != nil {
		cur, err := w.d.Cases.FindCaseByID(ctx, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return w.caseFormError(c, errs.E(errs.Conflict, msgStale), version)
		}
		allowed, err := w.d.Cases.ActionsFor(ctx, cur)
		if err != nil {
			return err
		}
		if !slices.Contains(allowed, action) {
			// Let Act say why (wrong post, wrong state) before anything is stored.
			if _, err := w.d.Cases.Act(ctx, id, action, in); err != nil {
				return w.caseFormError(c, err, version)
			}
			return Done(c, tenantBase(c)+"/cases/"+id, "cases.done")
		}
		if err := w.d.Cases.CheckPhoto(photo); err != nil {
			return w.caseFormError(c, err, version)
		}
		p, err := w.d.Cases.AddPhoto(ctx, id, photo)
		if err != nil {
			return w.caseFormError(c, err, version)
		}
		in.Attachments = append(in.Attachments, p.ID)
	}
	if _, err := w.d.Cases.Act(ctx, id, action, in); err != nil {
		return w.caseFormError(c, err, version)
	}
	return Done(c, tenantBase(c)+"/cases/"+id, "cases.done")
}

// casePhoto adds a photo to a case from its page.
func (w *workspace) casePhoto(c *fiber.Ctx) error {
	id := c.Params("id")
	photo, err := formPhoto(c, "photo")
	if err == nil && photo == nil {
		err = errs.Field("photo", msgChoosePhotoUpload)
	}
	if err == nil {
		_, err = w.d.Cases.AddPhoto(c.UserContext(), id, photo)
	}
	if err != nil {
		return w.caseFormError(c, err, -1)
	}
	return Done(c, tenantBase(c)+"/cases/"+id, "cases.photo.added")
}

// ReportForm is what the report form was filled with, to show it again after a refusal.
type ReportForm struct {
	Class, Description, Address, Lat, Lon, Source, ReporterName, ReporterPhone string
	SelfHandled                                                                bool
}

func (w *workspace) reportPage(c *fiber.Ctx, form ReportForm, errMsg string) error {
	_, classes, _, err := w.caseNames(c)
	if err != nil {
		return err
	}
	sc := module.Scope(c)
	return w.d.UI.Render(c, "case_report", fiber.Map{"Base": tenantBase(c), "Classes": classes, "Form": form, "Error": errMsg, "Map": w.d.UI.MapConfig(c),
		"Inspector": sc.Has(tenants.Inspector), "Acceptor": sc.Has(tenants.Acceptor), "Sources": cases.Sources,
		"Layers": []map[string]any{{"url": "/api/v1" + tenantBase(c) + "/grids.geojson?level=unit", "kind": "grids", "fit": true, "interactive": false}}})
}

// reportForm is the report form (inspectors on patrol; acceptors entering other sources).
func (w *workspace) reportForm(c *fiber.Ctx) error {
	if !module.Scope(c).Has(cases.ReportPosts...) {
		return errs.E(errs.Forbidden, msgCasesReportedInspectorEnteredAcceptor)
	}
	return w.reportPage(c, ReportForm{}, "")
}

// report creates a case from the report form, with its photo. The photo is checked (size,
// JPEG/PNG/WebP) before the case is created, so a rejected photo leaves nothing behind; only a
// failure to store an accepted photo (the disk) leaves the case without it, and the case page
// then says so and offers the upload again.
func (w *workspace) report(c *fiber.Ctx) error {
	form := ReportForm{Class: c.FormValue("class"), Description: c.FormValue("description"), Address: c.FormValue("address"),
		Lat: strings.TrimSpace(c.FormValue("lat")), Lon: strings.TrimSpace(c.FormValue("lon")), Source: c.FormValue("source"),
		ReporterName: c.FormValue("reporter_name"), ReporterPhone: c.FormValue("reporter_phone"), SelfHandled: c.FormValue("self_handled") == "on"}
	fail := func(err error) error {
		msg, err := FormError(c, err)
		if err != nil {
			return err
		}
		return w.reportPage(c, form, msg)
	}
	if !module.Scope(c).Has(cases.ReportPosts...) {
		return errs.E(errs.Forbidden, msgCasesReportedInspectorEnteredAcceptor)
	}
	kind, code, ok := strings.Cut(form.Class, "/")
	if !ok || code == "" {
		return fail(errs.Field("class", msgChooseCategoryClassProblem))
	}
	lat, lon, err := parseLatLon(form.Lat, form.Lon)
	if err != nil {
		return fail(err)
	}
	photo, err := formPhoto(c, "photo")
	if err != nil {
		return fail(err)
	}
	if photo != nil {
		if err := w.d.Cases.CheckPhoto(photo); err != nil {
			return fail(err)
		}
	}
	in := cases.ReportInput{Kind: catalog.Kind(kind), ClassCode: code, Description: form.Description, Address: form.Address,
		Lat: lat, Lon: lon, Source: cases.Source(form.Source), ReporterName: form.ReporterName, ReporterPhone: form.ReporterPhone,
		SelfHandled: form.SelfHandled}
	cs, err := w.d.Cases.Report(c.UserContext(), in)
	if err != nil {
		return fail(err)
	}
	target := tenantBase(c) + "/cases/" + cs.ID
	if photo != nil {
		if _, err := w.d.Cases.AddPhoto(c.UserContext(), cs.ID, photo); err != nil {
			w.d.Log.Error("report: photo not stored; the case is created", "case", cs.ID, "err", err)
			return Done(c, target, "cases.report.nophoto")
		}
	}
	return Done(c, target, "cases.report.done")
}

// parseLatLon reads a WGS 84 position inside China's extent (the platform serves China only).
func parseLatLon(latS, lonS string) (lat, lon float64, err error) {
	if latS == "" || lonS == "" {
		return 0, 0, errs.Field("lat", msgGiveLocationUseDevicePosition)
	}
	lat, err1 := strconv.ParseFloat(latS, 64)
	lon, err2 := strconv.ParseFloat(lonS, 64)
	if err1 != nil || err2 != nil || lat < 3 || lat > 54 || lon < 73 || lon > 136 {
		return 0, 0, errs.Field("lat", msgLocationMustLatitudeLongitudeChina)
	}
	return lat, lon, nil
}

// StateLabels maps every case state to its name in lang, for map popups.
func StateLabels(lang string) map[string]string {
	out := map[string]string{}
	for _, key := range msg.IDs() {
		if st, ok := strings.CutPrefix(key, "cases.state."); ok {
			out[st] = Translate(lang, key)
		}
	}
	return out
}
