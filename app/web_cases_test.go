package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

func init() {
	later := sampleNow.Add(2 * time.Hour)
	dept, grid := "d1", "53230100100101"
	limit := &calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}
	sampleCase := cases.Case{ID: "c1", Number: "532301-2026-000001", State: cases.Handling, Version: 5, Source: cases.FromHotline,
		Kind: catalog.Component, ClassCode: "0101", Description: "<script>井盖缺失</script>", Address: "鹿城镇 <b>北浦路</b>",
		Lon: 101.546, Lat: 25.033, GridCode: &grid, DepartmentID: &dept, Limit: limit, Extensions: []calendar.Limit{{Amount: 1, Unit: calendar.UrgentHours}},
		Reporter: &cases.Reporter{Name: "张三", Phone: "13800138000", Visibility: "clear"}, ReportedBy: "acceptor@test.cn",
		ClockStart: &sampleNow, DeadlineAt: &later, Overdue: true, OvertimeMultiple: 1.25, Stage: cases.StageHandle,
		StageStartedAt: &sampleNow, StageLimit: limit, StageDeadlineAt: &later, StageOverdue: true, StageOvertimeMultiple: 1.25,
		Supervised: true, CreatedAt: sampleNow, UpdatedAt: sampleNow,
		Photos: []cases.Photo{{ID: "p1", CaseID: "c1", MediaType: "image/png", CreatedAt: sampleNow}},
	}
	row := console.CaseRow{Case: sampleCase, ClassName: "上水井盖", DeptName: "市政设施管理局", Late: true}
	soon := console.CaseRow{Case: sampleCase, ClassName: "上水井盖", DueSoon: true}
	soon.Overdue, soon.StageOverdue, soon.Supervised = false, false, false
	closed := console.CaseRow{Case: sampleCase}
	closed.State = cases.Closed
	classes := []catalog.Class{{Kind: catalog.Component, Code: "0101", Level: "minor", NameZH: "上水井盖", NameEN: "Water manhole cover"},
		{Kind: catalog.Event, Code: "0101", Level: "minor", NameZH: "私搭乱建", NameEN: "Illegal structure"}}
	depts := []org.Department{{ID: "d1", Code: "SZJ", Name: "市政设施管理局"}, {ID: "d2", Code: "HBJ", Name: "环保局 <x>"}}
	q := map[string]string{"state": "handling", "kind": "component", "class": "component/0101", "department": "d1", "source": "hotline", "overdue": "true", "from": "2026-05-01", "to": "2026-05-14"}

	samplePage("case_inbox", fiber.Map{},
		fiber.Map{"Base": "/t/chuxiong", "CanReport": true, "Sections": []console.InboxSection{
			{Post: tenants.ShiftLead, Waiting: 3, DueSoon: 1, Overdue: 1, Rows: []console.CaseRow{row, soon}},
			{Post: tenants.Handler},
		}})
	samplePage("case_list", fiber.Map{"Q": map[string]string{}},
		fiber.Map{"Base": "/t/chuxiong", "Q": q, "Classes": classes, "Departments": depts, "States": console.CaseStates(), "Sources": cases.Sources,
			"Rows": []console.CaseRow{row, soon, closed}, "Next": "/t/chuxiong/cases?cursor=abc&state=handling", "Error": "输入有误：from is a date"})
	samplePage("case_map", fiber.Map{"Q": map[string]string{}, "Map": sampleMap},
		fiber.Map{"Base": "/t/chuxiong", "Q": q, "States": console.CaseStates(), "Map": sampleMap, "Error": "输入有误",
			"Layers": []map[string]any{{"url": "/api/v1/t/chuxiong/grids.geojson", "kind": "grids", "fit": true},
				{"url": "/api/v1/t/chuxiong/cases.geojson?state=handling", "kind": "cases", "cluster": true, "bbox": true, "link": "/t/chuxiong/cases/{id}"}}})
	passed := true
	events := []console.EventRow{
		{Event: cases.Event{Action: cases.Report, To: cases.Reported, ActorEmail: "inspector@test.cn", Post: tenants.Inspector, At: sampleNow}},
		{Event: cases.Event{Action: cases.Dispatch, From: "filed", To: cases.Dispatched, ActorEmail: "d@test.cn", Post: tenants.Dispatcher, At: sampleNow, Reason: "<b>快</b>"}, Department: "市政设施管理局"},
		{Event: cases.Event{Action: cases.File, From: "accepted", To: cases.Filed, ActorEmail: "s@test.cn", Post: tenants.ShiftLead, At: sampleNow}, Limit: limit},
		{Event: cases.Event{Action: cases.RequestExtension, From: "handling", To: cases.ExtensionRequested, ActorID: "h", Post: tenants.Handler, At: sampleNow, Reason: "雨"}, Extension: limit},
		{Event: cases.Event{Action: cases.Check, From: "checking", To: cases.Checked, ActorEmail: "i@test.cn", Post: tenants.Inspector, At: sampleNow, Attachments: []string{"p1", "p2"}}, Passed: &passed},
	}
	var forms []console.ActionForm
	for _, a := range []cases.Action{cases.File, cases.Dispatch, cases.RequestExtension, cases.Check, cases.Feedback, cases.Void, cases.Supervise, cases.Accept} {
		forms = append(forms, console.ActionForm{Action: a, NeedsReason: cases.NeedsReason(a), Danger: a == cases.Void})
	}
	stages := []console.StageRow{{Stage: cases.StageAccept, Limit: limit, StartedAt: &sampleNow, Deadline: &later, Overdue: true, OvertimeMultiple: 1.5},
		{Stage: cases.StageHandle, Limit: limit, StartedAt: &sampleNow, Deadline: &later, Current: true}}
	samplePage("case_page", fiber.Map{"Case": console.CaseRow{}, "Map": sampleMap},
		fiber.Map{"Base": "/t/chuxiong", "Case": row, "Actions": forms, "Departments": depts, "Stages": stages, "Events": events,
			"Standards": []catalog.Standard{{ID: "s1", FilingCondition: "井盖缺失", Limit: *limit}, {ID: "s2", FilingCondition: "破损", Limit: *limit}},
			"Units":     []calendar.Unit{calendar.UrgentHours, calendar.WorkingHours, calendar.WorkingDays}, "CurrentDept": "d1", "LimitUnit": "urgent_hours",
			"PhotoBase": "/api/v1/t/chuxiong/cases/c1/photos/", "CanPhoto": true, "Error": "与当前状态冲突：<stale>", "Map": sampleMap,
			"Layers": []map[string]any{{"data": map[string]any{"type": "FeatureCollection", "features": []any{}}, "kind": "points", "fit": true}}})
	samplePage("case_report", fiber.Map{"Map": sampleMap},
		fiber.Map{"Base": "/t/chuxiong", "Classes": classes, "Map": sampleMap, "Inspector": true, "Acceptor": true, "Sources": cases.Sources,
			"Form":  console.ReportForm{Class: "component/0101", Description: "<b>x</b>", Address: "北浦路", Lat: "25.03", Lon: "101.54", Source: "hotline", ReporterName: "李四", ReporterPhone: "139", SelfHandled: true},
			"Error": "输入有误：choose a class", "Layers": []map[string]any{{"url": "/api/v1/t/chuxiong/grids.geojson?level=unit", "kind": "grids", "fit": true}}})
}

// caseWeb is a browser-like client of the case workspace: a session per account (made with the
// store directly, not through the rate-limited login endpoint).
type caseWeb struct {
	*caseFixture
	sessions map[string]string // who → session token
}

func newCaseWeb(t *testing.T, dialect string) *caseWeb {
	t.Helper()
	return &caseWeb{caseFixture: newCaseFixture(t, dialect), sessions: map[string]string{}}
}

func (w *caseWeb) session(t *testing.T, who string) string {
	t.Helper()
	if tok, ok := w.sessions[who]; ok {
		return tok
	}
	tok, _, err := w.app.store.Login(context.Background(), strings.ToLower(who)+"@test.cn", testPassword, "test", "127.0.0.1")
	if err != nil {
		t.Fatalf("login %s: %v", who, err)
	}
	w.sessions[who] = tok
	return tok
}

// page sends a request as who, as a browser would (session cookie, Accept: text/html, the CSRF
// field in forms).
func (w *caseWeb) page(t *testing.T, who, method, path, contentType string, body io.Reader) *response {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Accept", "text/html")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if who != "" {
		req.Header.Set("Cookie", sessionCookie+"="+w.session(t, who))
	}
	res, err := w.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (w *caseWeb) get(t *testing.T, who, path string) *response {
	t.Helper()
	return w.page(t, who, "GET", path, "", nil)
}

// post sends a url-encoded form with the session's CSRF field.
func (w *caseWeb) post(t *testing.T, who, path string, form url.Values) *response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if who != "" {
		form.Set("_csrf", api.CSRFToken(w.session(t, who)))
	}
	return w.page(t, who, "POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// postMultipart sends a multipart form with one file field (skipped when name is "").
func (w *caseWeb) postMultipart(t *testing.T, who, path string, form url.Values, field, name string, file []byte) *response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if who != "" {
		mw.WriteField("_csrf", api.CSRFToken(w.session(t, who)))
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := mw.CreateFormFile(field, name)
		fw.Write(file)
	}
	mw.Close()
	return w.page(t, who, "POST", path, mw.FormDataContentType(), &buf)
}

func (w *caseWeb) caseNow(t *testing.T, id string) caseView {
	t.Helper()
	var c caseView
	json.Unmarshal([]byte(w.mustDo(t, "adminA", "GET", casesA+"/"+id, "", 200).body), &c)
	return c
}

const webA = "/t/chuxiong"

// webActionForm is a valid form of the case page for action at version v.
func webActionForm(action cases.Action, v int, dept string) url.Values {
	f := url.Values{"version": {strconv.Itoa(v)}, "reason": {"因为 " + string(action)}}
	switch action {
	case cases.RequestExtension:
		f.Set("extension_amount", "2")
		f.Set("extension_unit", "urgent_hours")
	case cases.Check:
		f.Set("passed", "true")
	case cases.Dispatch:
		if dept != "" {
			f.Set("department_id", dept)
		}
	}
	return f
}

// webAct takes action through the case page's form as who (feedback with an after-photo in the
// same form, as the page sends it).
func (w *caseWeb) webAct(t *testing.T, who string, c caseView, action cases.Action) *response {
	t.Helper()
	path := webA + "/cases/" + c.ID + "/actions/" + string(action)
	form := webActionForm(action, c.Version, w.dept)
	if action == cases.Feedback {
		return w.postMultipart(t, who, path, form, "photo", "after.png", []byte(pngBytes))
	}
	return w.post(t, who, path, form)
}

// TestWebCaseActionsEveryPost takes every transition of the machine through the case page's
// forms: the page of the post it is for offers the form and the POST moves the case; every other
// post is offered no such form and its POST is refused with 403 and changes nothing; a stale
// version gets the 409 page.
func TestWebCaseActionsEveryPost(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	for _, tr := range cases.Machine {
		t.Run(string(tr.From)+"/"+string(tr.Action), func(t *testing.T) {
			c := w.drive(t, tr.From)
			photos := len(w.caseNow(t, c.ID).Photos)
			marker := `data-action="` + string(tr.Action) + `"`
			for role, who := range casePosts {
				if role == tr.Posts[0] {
					continue
				}
				if res := w.get(t, who, webA+"/cases/"+c.ID); res.status != 200 || strings.Contains(res.body, marker) {
					t.Fatalf("%s's case page: %d, offers %s: %v", who, res.status, tr.Action, strings.Contains(res.body, marker))
				}
				if res := w.webAct(t, who, c, tr.Action); res.status != 403 || !strings.Contains(res.body, "没有权限") {
					t.Fatalf("%s by %s: %d, want 403\n%s", tr.Action, who, res.status, res.body)
				}
			}
			if tr.Posts[0] == tenants.Handler {
				if res := w.webAct(t, "handlerX", c, tr.Action); res.status != 403 {
					t.Fatalf("%s by another department's handler: %d", tr.Action, res.status)
				}
			}
			if got := w.caseNow(t, c.ID); got.Version != c.Version || got.State != c.State || len(got.Photos) != photos {
				t.Fatalf("refused actions changed the case: %s v%d, %d photos", got.State, got.Version, len(got.Photos))
			}
			who := casePosts[tr.Posts[0]]
			if res := w.get(t, who, webA+"/cases/"+c.ID); !strings.Contains(res.body, marker) {
				t.Fatalf("%s's page does not offer %s", who, tr.Action)
			}
			// A stale page: someone acted since (the version moved on).
			stale := c
			stale.Version--
			if res := w.webAct(t, who, stale, tr.Action); res.status != 409 || !strings.Contains(res.body, "其他人已先处理了这个案件") {
				t.Fatalf("stale %s: %d\n%s", tr.Action, res.status, res.body)
			}
			res := w.webAct(t, who, c, tr.Action)
			if res.status != 303 || res.header.Get("Location") != webA+"/cases/"+c.ID+"?done=cases.done" {
				t.Fatalf("%s by %s: %d %s\n%s", tr.Action, who, res.status, res.header.Get("Location"), res.body)
			}
			got := w.caseNow(t, c.ID)
			if got.State != string(tr.To) || got.Version != c.Version+1 {
				t.Fatalf("after %s: %s v%d", tr.Action, got.State, got.Version)
			}
			last := got.Events[len(got.Events)-1]
			if last.Action != tr.Action || last.ActorID != w.ids[who] || !strings.Contains(last.Reason, string(tr.Action)) {
				t.Fatalf("timeline: %+v", last)
			}
			if tr.Action == cases.Feedback && (len(last.Attachments) != 1 || len(got.Photos) != photos+1) {
				t.Fatalf("feedback's after-photo: %+v, photos %d", last.Attachments, len(got.Photos))
			}
			if page := w.get(t, who, webA+"/cases/"+c.ID+"?done=cases.done"); !strings.Contains(page.body, "已办理，案件已更新。") ||
				!strings.Contains(page.body, `id="case-state">`+console.Translate("zh-CN", "cases.state."+string(tr.To))) {
				t.Fatalf("the page after %s does not show the flash and the new state", tr.Action)
			}
		})
	}
	t.Run("supervise", func(t *testing.T) {
		c := w.drive(t, cases.Dispatched)
		if res := w.webAct(t, "dispatcherA", c, cases.Supervise); res.status != 403 {
			t.Fatalf("a dispatcher supervises: %d", res.status)
		}
		if res := w.webAct(t, "leaderA", c, cases.Supervise); res.status != 303 {
			t.Fatalf("leader supervises: %d %s", res.status, res.body)
		}
		if got := w.caseNow(t, c.ID); !got.Supervised || got.State != "dispatched" {
			t.Fatalf("supervised: %+v", got)
		}
		if res := w.get(t, "leaderA", webA+"/cases/"+c.ID); strings.Contains(res.body, `data-action="supervise"`) {
			t.Fatal("a supervised case offers supervision again")
		}
	})
	t.Run("a missing reason is a 400 on the page", func(t *testing.T) {
		c := w.drive(t, cases.Reported)
		form := webActionForm(cases.Void, c.Version, "")
		form.Del("reason")
		if res := w.post(t, "acceptorA", webA+"/cases/"+c.ID+"/actions/void", form); res.status != 400 || !strings.Contains(res.body, "reason") {
			t.Fatalf("void without a reason: %d", res.status)
		}
		if got := w.caseNow(t, c.ID); got.Version != c.Version {
			t.Fatal("changed")
		}
	})
}

// countCases is how many cases A has, read through the API.
func (w *caseWeb) countCases(t *testing.T) int {
	t.Helper()
	var p struct{ Cases []json.RawMessage }
	json.Unmarshal([]byte(w.mustDo(t, "adminA", "GET", casesA+"?limit=500", "", 200).body), &p)
	return len(p.Cases)
}

// TestWebCaseAccess: every route of the workspace for its users, for another tenant's user (404
// on every route, GET and POST, and none of A's data) and for the prefecture viewer (reads
// everything, is offered no control, and every POST is refused with no change).
func TestWebCaseAccess(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	c := w.drive(t, cases.Dispatched)
	photo := w.photo(t, "handlerA", c.ID)
	c = w.caseNow(t, c.ID)
	gets := []string{"/inbox", "/cases", "/cases?state=dispatched", "/map", "/report", "/cases/" + c.ID}
	posts := map[string]func(who string) *response{
		"report": func(who string) *response {
			return w.postMultipart(t, who, webA+"/report", url.Values{"class": {"component/0101"}, "lat": {"25.005"}, "lon": {"101.505"}}, "photo", "a.png", []byte(pngBytes))
		},
		"take": func(who string) *response { return w.webAct(t, who, c, cases.Take) },
		"supervise": func(who string) *response {
			return w.post(t, who, webA+"/cases/"+c.ID+"/actions/supervise", url.Values{"version": {strconv.Itoa(c.Version)}, "reason": {"督办"}})
		},
		"photo": func(who string) *response {
			return w.postMultipart(t, who, webA+"/cases/"+c.ID+"/photos", nil, "photo", "b.png", []byte(pngBytes+"b"))
		},
	}
	t.Run("owner", func(t *testing.T) {
		for _, p := range gets {
			if res := w.get(t, "dispatcherA", webA+p); res.status != 200 && !(p == "/report" && res.status == 403) {
				t.Errorf("GET %s: %d", p, res.status)
			}
		}
		res := w.get(t, "acceptorA", webA+"/cases/"+c.ID)
		if !strings.Contains(res.body, "张三PII") || !strings.Contains(res.body, c.Number) {
			t.Fatal("the acceptor does not see the reporter in clear")
		}
		res = w.get(t, "handlerA", webA+"/cases/"+c.ID)
		if strings.Contains(res.body, "张三PII") || !strings.Contains(res.body, "已脱敏") {
			t.Fatal("a handler sees the reporter")
		}
		if !strings.Contains(res.body, `src="/api/v1/t/chuxiong/cases/`+c.ID+`/photos/`+photo+`"`) {
			t.Fatal("no photo on the case page")
		}
		// The photo route works with the page's session.
		img := w.get(t, "handlerA", "/api/v1/t/chuxiong/cases/"+c.ID+"/photos/"+photo)
		if img.status != 200 || img.header.Get("Content-Type") != "image/png" {
			t.Fatalf("photo with a session: %d %s", img.status, img.header.Get("Content-Type"))
		}
		if res := w.get(t, "dispatcherA", webA+"/report"); res.status != 403 {
			t.Fatalf("a dispatcher's report form: %d", res.status)
		}
		if res := posts["photo"]("handlerA"); res.status != 303 {
			t.Fatalf("photo upload from the page: %d %s", res.status, res.body)
		}
	})
	t.Run("another tenant", func(t *testing.T) {
		for _, p := range gets {
			if res := w.get(t, "adminB", webA+p); res.status != 404 || strings.Contains(res.body, c.Number) {
				t.Errorf("B GET %s: %d", p, res.status)
			}
		}
		n := w.countCases(t)
		for name, post := range posts {
			if res := post("adminB"); res.status != 404 {
				t.Errorf("B POST %s: %d", name, res.status)
			}
		}
		if got := w.caseNow(t, c.ID); got.Version != c.Version || w.countCases(t) != n {
			t.Fatal("B changed A's cases")
		}
	})
	t.Run("prefecture viewer", func(t *testing.T) {
		for _, p := range []string{"/cases", "/map", "/cases/" + c.ID} {
			res := w.get(t, "viewer", webA+p)
			if res.status != 200 {
				t.Fatalf("viewer GET %s: %d", p, res.status)
			}
			if strings.Contains(res.body, `method="post"`) && !strings.Contains(res.body, `action="/logout"`) || strings.Count(res.body, `method="post"`) > 1 {
				t.Fatalf("viewer is offered a form on %s", p)
			}
		}
		res := w.get(t, "viewer", webA+"/cases/"+c.ID)
		if !strings.Contains(res.body, c.Number) || !strings.Contains(res.body, "只读访问") || strings.Contains(res.body, "张三PII") {
			t.Fatal("viewer's case page")
		}
		if res := w.get(t, "viewer", webA+"/cases"); !strings.Contains(res.body, c.Number) {
			t.Fatal("viewer's list lacks the case")
		}
		n := w.countCases(t)
		for name, post := range posts {
			if res := post("viewer"); res.status != 403 || !strings.Contains(res.body, "只读") {
				t.Errorf("viewer POST %s: %d", name, res.status)
			}
		}
		if got := w.caseNow(t, c.ID); got.Version != c.Version || len(got.Photos) != len(c.Photos)+1 || w.countCases(t) != n {
			t.Fatal("the viewer changed A's cases")
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		if res := w.get(t, "", webA+"/inbox"); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Fatalf("anonymous inbox: %d", res.status)
		}
	})
}

// TestWebCaseInbox: each post's inbox lists what waits for it, with counts; a handler sees only
// its department's cases; a leader sees open cases running late.
func TestWebCaseInbox(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	reported := w.drive(t, cases.Reported)
	filed := w.drive(t, cases.Filed)
	dispatched := w.drive(t, cases.Dispatched)
	checking := w.drive(t, cases.Checking)
	for who, want := range map[string][]caseView{
		"acceptorA": {reported}, "shiftA": nil, "dispatcherA": {filed}, "handlerA": {dispatched}, "inspectorA": {checking},
	} {
		res := w.get(t, who, webA+"/inbox")
		if res.status != 200 {
			t.Fatalf("%s's inbox: %d", who, res.status)
		}
		for _, c := range []caseView{reported, filed, dispatched, checking} {
			if got, wanted := strings.Contains(res.body, c.Number), slices.ContainsFunc(want, func(x caseView) bool { return x.ID == c.ID }); got != wanted {
				t.Errorf("%s's inbox lists %s (%s): %v", who, c.Number, c.State, got)
			}
		}
		if !strings.Contains(res.body, fmt.Sprintf("待办 %d 件", len(want))) {
			t.Errorf("%s's inbox count", who)
		}
	}
	if res := w.get(t, "handlerX", webA+"/inbox"); strings.Contains(res.body, dispatched.Number) {
		t.Fatal("another department's handler sees the case")
	}
	// A new case waits half an urgent quarter hour to be accepted: due soon at once.
	if res := w.get(t, "acceptorA", webA+"/inbox"); !strings.Contains(res.body, "即将超时") {
		t.Fatal("no due-soon flag")
	}
	// Running late: the leader's inbox has the open cases that are overdue or due soon.
	if res := w.get(t, "leaderA", webA+"/inbox"); !strings.Contains(res.body, reported.Number) {
		t.Fatal("the leader's inbox lacks a late case")
	}
	if res := w.get(t, "adminA", webA+"/inbox"); res.status != 200 || !strings.Contains(res.body, "没有案件岗位") {
		t.Fatalf("an admin's inbox: %d", res.status)
	}
}

// TestWebCaseReport: the report form creates a case with its photo and location and goes to it;
// bad input is a 4xx page with a message and creates nothing.
func TestWebCaseReport(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	good := url.Values{"class": {"component/0101"}, "description": {"井盖缺失"}, "address": {"北浦路"}, "lat": {"25.005"}, "lon": {"101.505"}}
	res := w.postMultipart(t, "inspectorA", webA+"/report", good, "photo", "cover.png", []byte(pngBytes))
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), webA+"/cases/") {
		t.Fatalf("report: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	id := strings.TrimPrefix(strings.Split(res.header.Get("Location"), "?")[0], webA+"/cases/")
	c := w.caseNow(t, id)
	if c.State != "reported" || len(c.Photos) != 1 || c.Events[0].Post != tenants.Inspector {
		t.Fatalf("reported case: %+v", c)
	}
	n := w.countCases(t)
	w.app.cases.SetMaxPhoto(int64(len(pngBytes) + 10))
	big := []byte(pngBytes + strings.Repeat("x", 100))
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		file   []byte
		status int
		want   string
	}{
		{"missing class", func(v url.Values) { v.Del("class") }, nil, 400, "请选择问题的类别"},
		{"unknown class", func(v url.Values) { v.Set("class", "component/9999") }, nil, 400, "9999"},
		{"no location", func(v url.Values) { v.Del("lat") }, nil, 400, "location"},
		{"bad coordinates", func(v url.Values) { v.Set("lat", "abc") }, nil, 400, "纬度和经度"},
		{"outside China", func(v url.Values) { v.Set("lat", "-33.9"); v.Set("lon", "18.4") }, nil, 400, "纬度和经度"},
		{"a non-image photo", nil, []byte("%PDF-1.4 not a photo"), 415, "JPEG"},
		{"an oversize photo", nil, big, 413, "不能超过"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = slices.Clone(v)
			}
			if tc.change != nil {
				tc.change(form)
			}
			name := ""
			if tc.file != nil {
				name = "x.png"
			}
			res := w.postMultipart(t, "inspectorA", webA+"/report", form, "photo", name, tc.file)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
				t.Fatalf("%d, want %d with %q\n%s", res.status, tc.status, tc.want, res.body)
			}
			if !strings.Contains(res.body, "北浦路") {
				t.Fatal("the form is not filled in again")
			}
			if got := w.countCases(t); got != n {
				t.Fatalf("%d cases, want %d: something was created", got, n)
			}
		})
	}
	// An acceptor enters a hotline report with the reporter; a dispatcher may not report.
	form := url.Values{"class": {"component/0101"}, "lat": {"25.005"}, "lon": {"101.505"}, "source": {"hotline"}, "reporter_name": {"王五"}, "reporter_phone": {"139"}}
	if res := w.postMultipart(t, "acceptorA", webA+"/report", form, "", "", nil); res.status != 303 {
		t.Fatalf("acceptor's report: %d %s", res.status, res.body)
	}
	if res := w.postMultipart(t, "dispatcherA", webA+"/report", good, "", "", nil); res.status != 403 {
		t.Fatalf("dispatcher's report: %d", res.status)
	}
	if got := w.countCases(t); got != n+1 {
		t.Fatalf("%d cases, want %d", got, n+1)
	}
}

// TestBrowserCaseLoop runs the loop in Chromium through the pages, with the demo's posts of
// 楚雄市: the inspector reports with a photo and a tap on the map, the acceptor accepts, the shift
// lead files, the dispatcher dispatches, the handler takes it and feeds back with an after-photo,
// the acceptor sends it to check, the inspector checks, the shift lead closes; each step through
// the case page's forms, with a screenshot of every page and of the report form on a phone. The
// prefecture viewer then reads the case with no control offered.
func TestBrowserCaseLoop(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	ta, err := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	if err := (demo{f.app}).seedDemoLoop(ctx, ta); err != nil {
		t.Fatal(err)
	}
	photo := writePNG(t, filepath.Join(t.TempDir(), "cover.png"), 96, 64)
	b := newBrowser(t, f.listen(t))
	as := b.cast("chuxiong.demo", DemoPassword, nil)
	state := func(st cases.State) string { return console.Translate("zh-CN", "cases.state."+string(st)) }

	in := as("inspector")
	in.visit(webA + "/inbox")
	in.waitText("h1", "我的待办")
	in.shot("inbox")
	in.visit(webA + "/report")
	in.waitText("h1", "上报问题")
	// The same form on a phone, 390×844.
	phone := b.user("inspector-phone")
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	phone.login("inspector@chuxiong.demo", DemoPassword)
	phone.visit(webA + "/report")
	phone.waitText("h1", "上报问题")
	phone.shot("report-mobile")
	// "Use my position": the phone's position fills the location (the device's answer is stubbed:
	// headless Chromium has no position to give).
	eval[bool](phone, `(function(){navigator.geolocation.getCurrentPosition=function(ok){ok({coords:{latitude:25.0335,longitude:101.5462,accuracy:8}})};return true})()`)
	phone.click("button[data-locate]")
	if got := eval[string](phone, `document.getElementById('r-lat').value+','+document.getElementById('r-lon').value`); got != "25.033500,101.546200" {
		t.Fatalf("the device's position gave %q", got)
	}
	in.fill("#r-class", "component/0101")
	in.fill("#r-description", "北浦路井盖缺失，有安全隐患")
	in.fill("#r-address", "鹿城镇北浦路 12 号")
	in.do(chromedp.Click(chromedp.CSS("#reportmap"))) // a tap on the map sets the location
	if lat := eval[string](in, `document.getElementById('r-lat').value`); lat == "" {
		in.shot("debug")
		t.Fatalf("a tap on the map did not set the location: %s", eval[string](in, `(function(){var r=document.getElementById('reportmap').getBoundingClientRect();var e=document.elementFromPoint(r.x+r.width/2,r.y+r.height/2);return JSON.stringify([r.x,r.y,r.width,r.height,e&&e.outerHTML.slice(0,200),!!document.getElementById('reportmap').cityopsMap])})()`))
	}
	in.upload("#r-photo", photo)
	in.shot("report-form")
	in.click("#report button[type=submit]")
	in.waitText("main", "已上报。")
	casePath := strings.Split(in.location(), "?")[0]
	if !strings.HasPrefix(casePath, webA+"/cases/") {
		t.Fatalf("after the report: %s", casePath)
	}
	if n := eval[int](in, `document.querySelectorAll('.photos img').length`); n != 1 {
		t.Fatalf("%d photos on the case page", n)
	}
	for i := 0; !eval[bool](in, `(function(){var i=document.querySelector('.photos img');i.loading='eager';return i.complete&&i.naturalWidth===96})()`); i++ {
		if i > 100 {
			t.Fatalf("the photo does not load with the session: %s", eval[string](in, `document.querySelector('.photos img').outerHTML`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.shot("case-reported")

	steps := caseLoopSteps(photo)
	for _, st := range steps {
		s := as(st.who)
		if st.action == cases.File {
			// The shift lead finds it in the inbox, under 待立案, and opens it from there.
			s.visit(webA + "/inbox")
			s.waitText("#post-shift_lead", "待立案")
			s.shot("inbox-shiftlead")
			s.click(`#post-shift_lead a[href="` + casePath + `"]`)
			s.waitText("h1", "案件")
		}
		s.visit(casePath)
		form := `form[data-action="` + string(st.action) + `"]`
		if n := eval[int](s, `document.querySelectorAll('form.case-action').length`); n == 0 {
			t.Fatalf("%s is offered no action on the case", st.who)
		}
		if st.fill != nil {
			st.fill(s)
		}
		s.click(form + ` button[type=submit]`)
		s.waitText("#case-state", state(st.to))
		s.shot("case-" + string(st.to))
	}
	sl := as("shiftlead")
	if n := eval[int](sl, `document.querySelectorAll('.timeline li').length`); n != 9 {
		t.Fatalf("the timeline has %d entries, want 9", n)
	}
	sl.visit(webA + "/cases")
	sl.waitText("main", state(cases.Closed))
	sl.shot("list")
	sl.visit(webA + "/map")
	// The map draws the grids and the case; its popup links to the case page.
	deadline := time.Now().Add(15 * time.Second)
	for !eval[bool](sl, `(function(){var m=document.getElementById('casemap').cityopsMap,ok=false;if(!m)return false;m.eachLayer(function(l){if(l.feature&&l.feature.id){ok=true}});return ok})()`) {
		if time.Now().After(deadline) {
			t.Fatalf("the map shows no case: %s", eval[string](sl, `(function(){var m=document.getElementById('casemap').cityopsMap;var b=m?m.getBounds().toBBoxString():(typeof L)+document.querySelectorAll('.leaflet-container').length+location.href;var x=new XMLHttpRequest();x.open('GET','/api/v1/t/chuxiong/cases.geojson?bbox='+b,false);x.send();return b+' '+x.status+' '+x.responseText.slice(0,300)})()`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	href := eval[string](sl, `(function(){var m=document.getElementById('casemap').cityopsMap,h='';m.eachLayer(function(l){if(l.feature&&l.feature.id&&l.openPopup){l.openPopup();var a=document.querySelector('.leaflet-popup-content a');if(a)h=a.getAttribute('href')}});return h})()`)
	if href != casePath {
		t.Fatalf("the map's popup links to %q, want %q", href, casePath)
	}
	time.Sleep(300 * time.Millisecond) // the popup fades in
	sl.shot("map")

	v := b.user("viewer")
	v.login("viewer@test.cn", testPassword)
	v.visit(casePath)
	v.waitText("#case-state", state(cases.Closed))
	if n := eval[int](v, `document.querySelectorAll('main form').length`); n != 0 {
		t.Fatalf("the prefecture viewer is offered %d forms", n)
	}
	v.waitText("main", "只读访问")
	v.shot("case-viewer")
}

// TestWebCaseList: the list's filters (as the API's) and cursor pages, and the map's filters.
func TestWebCaseList(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	a, b := w.drive(t, cases.Reported), w.drive(t, cases.Reported)
	filed := w.drive(t, cases.Filed)
	res := w.get(t, "shiftA", webA+"/cases?limit=2")
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(res.body)
	if res.status != 200 || next == nil || !strings.Contains(res.body, filed.Number) || !strings.Contains(res.body, b.Number) || strings.Contains(res.body, a.Number) {
		t.Fatalf("first page: %d, next %v", res.status, next)
	}
	res = w.get(t, "shiftA", html.UnescapeString(next[1]))
	if res.status != 200 || !strings.Contains(res.body, a.Number) || strings.Contains(res.body, b.Number) || strings.Contains(res.body, `rel="next"`) {
		t.Fatalf("second page (%s): %d", next[1], res.status)
	}
	for q, want := range map[string][]caseView{
		"state=filed":                   {filed},
		"class=component%2F0101":        {a, b, filed},
		"class=event%2F0101":            nil,
		"department=" + w.dept:          {filed},
		"source=hotline&state=":         {a, b, filed},
		"overdue=false&from=2020-01-01": {a, b, filed},
	} {
		res := w.get(t, "shiftA", webA+"/cases?"+q)
		for _, c := range []caseView{a, b, filed} {
			if got, wanted := strings.Contains(res.body, c.Number), slices.ContainsFunc(want, func(x caseView) bool { return x.ID == c.ID }); got != wanted {
				t.Errorf("%s: lists %s: %v", q, c.Number, got)
			}
		}
	}
	if res := w.get(t, "shiftA", webA+"/cases?from=yesterday"); res.status != 400 || !strings.Contains(res.body, "from 应为日期") {
		t.Fatalf("a bad date: %d", res.status)
	}
	res = w.get(t, "shiftA", webA+"/map?state=filed")
	if res.status != 200 || !strings.Contains(res.body, `cases.geojson?state=filed`) || !strings.Contains(res.body, `grids.geojson`) {
		t.Fatalf("the map's layers: %d", res.status)
	}
	if res := w.get(t, "shiftA", webA+"/map?overdue=maybe"); res.status != 400 || !strings.Contains(res.body, "overdue 应为 true 或 false") {
		t.Fatalf("a bad map filter: %d", res.status)
	}
}

// TestWebCasePhotoForm: the case page's photo form takes a photo, refuses a file that is not one
// (415) and any photo on a closed case (409, saying why), adding nothing.
func TestWebCasePhotoForm(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	c := w.drive(t, cases.Handling)
	path := webA + "/cases/" + c.ID + "/photos"
	if res := w.postMultipart(t, "handlerA", path, nil, "photo", "a.png", []byte(pngBytes)); res.status != 303 || !strings.HasSuffix(res.header.Get("Location"), "done=cases.photo.added") {
		t.Fatalf("photo: %d %s", res.status, res.body)
	}
	if res := w.postMultipart(t, "handlerA", path, nil, "photo", "a.txt", []byte("hello")); res.status != 415 || !strings.Contains(res.body, "JPEG") {
		t.Fatalf("a text file: %d", res.status)
	}
	if res := w.postMultipart(t, "handlerA", path, nil, "", "", nil); res.status != 400 {
		t.Fatalf("no file: %d", res.status)
	}
	closed := w.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"self_handled":true}`)
	if res := w.postMultipart(t, "handlerA", webA+"/cases/"+closed.ID+"/photos", nil, "photo", "a.png", []byte(pngBytes)); res.status != 409 ||
		!strings.Contains(res.body, "不能再添加照片") || strings.Contains(res.body, "其他人已先处理") {
		t.Fatalf("a photo on a closed case: %d", res.status)
	}
	if got := len(w.caseNow(t, c.ID).Photos); got != 1 {
		t.Fatalf("%d photos, want 1", got)
	}
	if got := len(w.caseNow(t, closed.ID).Photos); got != 0 {
		t.Fatalf("the closed case has %d photos", got)
	}
}
