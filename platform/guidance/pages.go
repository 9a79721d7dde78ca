package guidance

import (
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// pages adds the console pages: /guidance (a prefecture's publishing and supervision desk, or a
// county's incoming notices, tasks, reports and spot checks) and one page per item.
func (h *handlers) pages(r module.Router) {
	r.Get("/guidance", h.pageIndex)
	r.Post("/guidance/notices", h.form("publish-form", h.formPublish, h.pageIndex))
	r.Get("/guidance/notices/:id", h.pageNotice)
	r.Post("/guidance/notices/:id/ack", h.form("ack-form", h.formAck, h.pageNotice))
	r.Get("/guidance/notices/:id/files/:file", h.pageNoticeFile)
	r.Post("/guidance/tasks", h.form("task-form", h.formOpenTask, h.pageIndex))
	r.Get("/guidance/tasks/:id", h.pageTask)
	r.Post("/guidance/tasks/:id/review", h.form("review-form", h.formReview, h.pageTask))
	r.Post("/guidance/tasks/:id/respond", h.form("respond-form", h.formRespond, h.pageTask))
	r.Get("/guidance/tasks/:id/responses/:response/photos/:file", h.pagePhoto)
	r.Post("/guidance/templates", h.form("template-form", h.formCreateTemplate, h.pageIndex))
	r.Get("/guidance/templates/:id", h.pageTemplate)
	r.Post("/guidance/templates/:id/submit", h.form("report-form", h.formSubmit, h.pageTemplate))
	r.Post("/guidance/spotchecks", h.form("spot-form", h.formDrawSpotCheck, h.pageIndex))
	r.Get("/guidance/spotchecks/:id", h.pageSpotCheck)
	r.Post("/guidance/upward", h.form("upward-form", h.formReportUp, h.pageIndex))
	r.Post("/guidance/spotchecks/:id/recheck", h.form("recheck-form", h.formRecheck, h.pageSpotCheck))
}

// refusal is a form's refused input, for the page shown again: which form, why, and what was
// typed (by "<form>.<field>").
type refusal struct {
	form, message string
	typed         map[string]string
}

type refusalKey struct{}

// form runs the form handler fn; when it refuses the input (a 4xx), the page the form is on is
// shown again with that status, the reason above it, the form open and what was typed in it. An
// internal error or an unavailable database goes to the error page as before.
func (h *handlers) form(name string, fn, page fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := fn(c)
		if err == nil {
			return nil
		}
		if code := errs.CodeOf(err); code == errs.Internal || code == errs.Unavailable {
			return err
		}
		typed := map[string]string{}
		keep := func(k, v string) {
			if !strings.HasPrefix(k, "_") && len(v) <= 20000 {
				typed[name+"."+k] = strings.Clone(v)
			}
		}
		if isMultipart(c) {
			if mf, ferr := c.MultipartForm(); ferr == nil {
				for k, vs := range mf.Value {
					if len(vs) > 0 {
						keep(k, vs[0])
					}
				}
			}
		} else {
			c.Request().PostArgs().VisitAll(func(k, v []byte) { keep(string(k), string(v)) })
		}
		c.Status(module.Status(errs.CodeOf(err)))
		c.Locals(refusalKey{}, &refusal{form: name, message: errs.MessageIn(err, h.k.Pages.Lang(c)), typed: typed})
		return page(c)
	}
}

func base(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug + "/guidance" }

func isPrefecture(c *fiber.Ctx) bool { return module.Scope(c).Tenant.Kind == tenants.Prefecture }

// canAct reports whether the caller may act for the tenant in these flows.
func canAct(c *fiber.Ctx) bool {
	sc := module.Scope(c)
	return !sc.ReadOnly && sc.Has(actingRoles...)
}

func (h *handlers) render(c *fiber.Ctx, page string, data fiber.Map) error {
	data["Base"], data["Act"], data["Kinds"] = base(c), canAct(c), NoticeKinds
	data["Typed"] = map[string]string{}
	if r, ok := c.Locals(refusalKey{}).(*refusal); ok {
		data["Error"], data["Open"], data["Typed"] = r.message, r.form, r.typed
	}
	data["Indicators"] = IndicatorNames
	return h.k.Pages.Render(c, "guidance/"+page, data)
}

func (h *handlers) pageIndex(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if isPrefecture(c) {
		notices, err := h.s.Notices(ctx)
		if err != nil {
			return err
		}
		tasks, err := h.s.Tasks(ctx)
		if err != nil {
			return err
		}
		templates, err := h.s.Templates(ctx)
		if err != nil {
			return err
		}
		spots, err := h.s.SpotChecks(ctx)
		if err != nil {
			return err
		}
		counties, err := h.s.Channel.Counties(ctx, module.Scope(c).Tenant)
		if err != nil {
			return err
		}
		upward, err := h.s.UpwardReports(ctx)
		if err != nil {
			return err
		}
		return h.render(c, "prefecture", fiber.Map{"Notices": notices, "Tasks": tasks, "Templates": templates, "SpotChecks": spots,
			"Counties": counties, "Period": LastPeriod(h.s.now()), "Upward": upward, "Streams": UpwardStreams})
	}
	inbox, err := h.s.Inbox(ctx)
	if err != nil {
		return err
	}
	tasks, err := h.s.MyTasks(ctx)
	if err != nil {
		return err
	}
	reports, err := h.s.MyReports(ctx)
	if err != nil {
		return err
	}
	spots, err := h.s.MySpotChecks(ctx)
	if err != nil {
		return err
	}
	unacked := 0
	for _, n := range inbox {
		if n.Receipt == nil || n.Receipt.AckedAt == nil {
			unacked++
		}
	}
	return h.render(c, "county", fiber.Map{"Inbox": inbox, "Unacked": unacked, "Tasks": tasks, "Reports": reports, "SpotChecks": spots})
}

func formValue(c *fiber.Ctx, name string) string { return strings.Clone(c.FormValue(name)) }

func (h *handlers) formPublish(c *fiber.Ctx) error {
	in := NoticeInput{Kind: formValue(c, "kind"), Title: formValue(c, "title"), Body: formValue(c, "body"), AckDue: formValue(c, "ack_due"),
		All: c.FormValue("all") == "on", Counties: formList(c, "counties")}
	if c.FormValue("from_province") == "on" {
		in.Origin = OriginProvince
	}
	var files []Upload
	if isMultipart(c) {
		var err error
		if files, err = formFiles(c, "files"); err != nil {
			return err
		}
	}
	n, err := h.s.PublishNotice(c.UserContext(), in, files)
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/notices/"+n.ID, fiber.StatusSeeOther)
}

func (h *handlers) pageNotice(c *fiber.Ctx) error {
	id := param(c, "id")
	if isPrefecture(c) {
		st, err := h.s.NoticeStatus(c.UserContext(), id)
		if err != nil {
			return err
		}
		return h.render(c, "notice", fiber.Map{"Status": st, "Notice": st.Notice, "Pref": true})
	}
	n, err := h.s.ReadNotice(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.render(c, "notice", fiber.Map{"Notice": n})
}

func (h *handlers) formAck(c *fiber.Ctx) error {
	n, err := h.s.Acknowledge(c.UserContext(), param(c, "id"), formValue(c, "note"))
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/notices/"+n.ID, fiber.StatusSeeOther)
}

func (h *handlers) pageNoticeFile(c *fiber.Ctx) error {
	if isPrefecture(c) {
		return h.apiNoticeFile(c)
	}
	return h.apiInboxFile(c)
}

// parsePoints reads the task form's points, one a line: "latitude, longitude, label".
func parsePoints(lines []string) ([]Point, error) {
	var out []Point
	for _, l := range lines {
		parts := strings.SplitN(strings.ReplaceAll(l, "，", ","), ",", 3)
		if len(parts) != 3 {
			return nil, errs.Field("points", msgBadPoint)
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
		lng, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		if err1 != nil || err2 != nil {
			return nil, errs.Field("points", msgBadPoint)
		}
		out = append(out, Point{Lat: lat, Lng: lng, Label: strings.TrimSpace(parts[2])})
	}
	return out, nil
}

func (h *handlers) formOpenTask(c *fiber.Ctx) error {
	points, err := parsePoints(formList(c, "points"))
	if err != nil {
		return err
	}
	in := TaskInput{Title: formValue(c, "title"), Body: formValue(c, "body"), Checklist: formList(c, "checklist"), Points: points,
		Due: formValue(c, "due"), All: c.FormValue("all") == "on", Counties: formList(c, "counties")}
	t, err := h.s.OpenTask(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/tasks/"+t.ID, fiber.StatusSeeOther)
}

// pointLayer is the task's points as a map layer.
func pointLayer(ps []Point) []map[string]any {
	feats := []map[string]any{}
	for _, p := range ps {
		feats = append(feats, map[string]any{"type": "Feature", "properties": map[string]any{"name": p.Label},
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{p.Lng, p.Lat}}})
	}
	return []map[string]any{{"data": map[string]any{"type": "FeatureCollection", "features": feats}, "kind": "points", "fit": len(ps) > 0}}
}

func (h *handlers) pageTask(c *fiber.Ctx) error {
	id := param(c, "id")
	if isPrefecture(c) {
		st, err := h.s.TaskStatus(c.UserContext(), id)
		if err != nil {
			return err
		}
		return h.render(c, "task", fiber.Map{"Task": st.Task, "Progress": st.Progress, "Pref": true, "Layers": pointLayer(st.Points)})
	}
	t, err := h.s.MyTask(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.render(c, "task", fiber.Map{"Task": t, "Mine": t.Progress, "Layers": pointLayer(t.Points)})
}

func (h *handlers) formReview(c *fiber.Ctx) error {
	in := ReviewInput{Verdict: formValue(c, "verdict"), Comment: formValue(c, "comment")}
	if v := strings.TrimSpace(c.FormValue("score")); v != "" && in.Verdict == StateScored {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errs.Field("score", msgBadVerdict)
		}
		in.Score = &n
	}
	id := param(c, "id")
	if _, err := h.s.ReviewTask(c.UserContext(), id, formValue(c, "county"), in); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/tasks/"+id, fiber.StatusSeeOther)
}

func (h *handlers) formRespond(c *fiber.Ctx) error {
	id := param(c, "id")
	t, err := h.s.MyTask(c.UserContext(), id)
	if err != nil {
		return err
	}
	in := ResponseInput{Findings: formValue(c, "findings"), CaseIDs: formList(c, "cases"), Checks: make([]Check, len(t.Checklist))}
	for i := range t.Checklist {
		k := strconv.Itoa(i)
		in.Checks[i] = Check{OK: c.FormValue("check_"+k) == "ok", Note: formValue(c, "note_"+k)}
	}
	var photos []Upload
	if isMultipart(c) {
		if photos, err = formFiles(c, "photos"); err != nil {
			return err
		}
	}
	if _, err := h.s.Respond(c.UserContext(), id, in, photos); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/tasks/"+id, fiber.StatusSeeOther)
}

func (h *handlers) pagePhoto(c *fiber.Ctx) error {
	county := ""
	if isPrefecture(c) {
		if county = query(c, "county"); county == "" {
			return errs.E(errs.NotFound, msgNoCounty, "")
		}
	}
	f, r, err := h.s.ResponseFile(c.UserContext(), param(c, "id"), county, param(c, "response"), param(c, "file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, r)
}

// parseFields reads the template form's fields, one a line: "key, label, type[, indicator]".
func parseFields(lines []string) ([]Field, error) {
	var out []Field
	for _, l := range lines {
		parts := strings.Split(strings.ReplaceAll(l, "，", ","), ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 3 || len(parts) > 4 {
			return nil, errs.Field("fields", msgBadField)
		}
		f := Field{Key: parts[0], Label: parts[1], Type: parts[2]}
		if len(parts) == 4 {
			f.Indicator = parts[3]
		}
		out = append(out, f)
	}
	return out, nil
}

func (h *handlers) formCreateTemplate(c *fiber.Ctx) error {
	fields, err := parseFields(formList(c, "fields"))
	if err != nil {
		return err
	}
	in := TemplateInput{Title: formValue(c, "title"), Fields: fields, DueDay: atoiOr(c.FormValue("due_day"), 0),
		All: c.FormValue("all") == "on", Counties: formList(c, "counties")}
	t, err := h.s.CreateTemplate(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/templates/"+t.ID, fiber.StatusSeeOther)
}

func (h *handlers) pageTemplate(c *fiber.Ctx) error {
	id, period := param(c, "id"), query(c, "period")
	if isPrefecture(c) {
		st, err := h.s.ReportStatus(c.UserContext(), id, period)
		if err != nil {
			return err
		}
		return h.render(c, "template", fiber.Map{"Template": st.Template, "Status": st, "Pref": true, "Period": st.Period})
	}
	f, err := h.s.ReportForm(c.UserContext(), id, period)
	if err != nil {
		return err
	}
	return h.render(c, "template", fiber.Map{"Template": f.Template, "Form": f, "Period": f.Period})
}

func (h *handlers) formSubmit(c *fiber.Ctx) error {
	id := param(c, "id")
	f, err := h.s.ReportForm(c.UserContext(), id, formValue(c, "period"))
	if err != nil {
		return err
	}
	values := map[string]string{}
	for _, fl := range f.Fields {
		values[fl.Key] = formValue(c, "v_"+fl.Key)
	}
	if _, err := h.s.SubmitReport(c.UserContext(), id, f.Period, values); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/templates/"+id+"?period="+f.Period, fiber.StatusSeeOther)
}

func (h *handlers) formDrawSpotCheck(c *fiber.Ctx) error {
	in := SpotInput{County: formValue(c, "county"), Size: atoiOr(c.FormValue("size"), 0), From: formValue(c, "from"), To: formValue(c, "to"),
		Due: formValue(c, "due")}
	if v := strings.TrimSpace(c.FormValue("seed")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errs.Field("seed", msgBadSample)
		}
		in.Seed = &n
	}
	sp, err := h.s.DrawSpotCheck(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/spotchecks/"+sp.ID, fiber.StatusSeeOther)
}

func (h *handlers) pageSpotCheck(c *fiber.Ctx) error {
	id := param(c, "id")
	if isPrefecture(c) {
		sp, err := h.s.SpotCheckStatus(c.UserContext(), id)
		if err != nil {
			return err
		}
		return h.render(c, "spotcheck", fiber.Map{"Spot": sp, "Pref": true})
	}
	if _, err := checkID("id", id); err != nil {
		return err
	}
	sps, err := h.s.mySpotChecks(c.UserContext(), id)
	if err != nil {
		return err
	}
	if len(sps) == 0 {
		return errs.E(errs.NotFound, msgNoSpotCheck)
	}
	return h.render(c, "spotcheck", fiber.Map{"Spot": sps[0]})
}

func (h *handlers) formRecheck(c *fiber.Ctx) error {
	id := param(c, "id")
	in := RecheckInput{CaseID: formValue(c, "case_id"), Passed: c.FormValue("passed") == "yes", Note: formValue(c, "note")}
	if _, err := h.s.Recheck(c.UserContext(), id, in); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/spotchecks/"+id, fiber.StatusSeeOther)
}

func (h *handlers) formReportUp(c *fiber.Ctx) error {
	if _, err := h.s.ReportUp(c.UserContext(), UpwardInput{Stream: formValue(c, "stream"), Title: formValue(c, "title"), Body: formValue(c, "body")}); err != nil {
		return err
	}
	return c.Redirect(base(c)+"#upward", fiber.StatusSeeOther)
}
