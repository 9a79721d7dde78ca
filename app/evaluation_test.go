package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/tenants"
)

const evalA = "/api/v1/t/chuxiong/evaluation"

// evalPlan puts the tenant slug on the standard plan, which sells the evaluation.
func evalPlan(t *testing.T, f *fixture, slug string) {
	t.Helper()
	if _, err := f.app.billing.SetPlan(context.Background(), mustTenant(t, f, slug), "standard", nil); err != nil {
		t.Fatal(err)
	}
}

// evalGet sends a GET as who with Accept-Language lang ("" for none).
func evalGet(t *testing.T, f *fixture, who, path, lang string) *response {
	t.Helper()
	h := map[string]string{}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	res, err := f.send(t, withHeaders(t, "GET", path, "", f.tokens[who], h))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// evalPost sends a JSON POST as who with Accept-Language lang.
func evalPost(t *testing.T, f *fixture, who, path, body, lang string) *response {
	t.Helper()
	h := map[string]string{}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	res, err := f.send(t, withHeaders(t, "POST", path, body, f.tokens[who], h))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// evalLoop walks three cases of A through the loop: one closed (reported, accepted, filed,
// dispatched, handled, checked, closed), one dispatched and left open, one filed only. It returns
// them in that order.
func evalLoop(t *testing.T, f *caseFixture) []caseView {
	t.Helper()
	closed := f.act(t, "shiftA", f.drive(t, cases.Checked), cases.Close, 200)
	if closed.State != string(cases.Closed) {
		t.Fatalf("closing: %s", closed.State)
	}
	return []caseView{closed, f.drive(t, cases.Dispatched), f.drive(t, cases.Filed)}
}

// evalRow is a ranking's row of the API's report.
type evalRow struct {
	Key    string
	Name   string
	Counts map[string]int64
	Score  *float64
}

type evalReport struct {
	Period   struct{ Name string }
	Scheme   struct{ ID, EffectiveFrom string } `json:"scheme"`
	Filed    int64
	Closed   int64
	Rankings map[string]struct {
		Weights map[string]float64
		Rows    []evalRow
	}
}

func (r evalReport) row(t *testing.T, object, key string) evalRow {
	t.Helper()
	for _, row := range r.Rankings[object].Rows {
		if row.Key == key {
			return row
		}
	}
	t.Fatalf("no row %s of %s in %+v", key, object, r.Rankings[object])
	return evalRow{}
}

func evalRead(t *testing.T, f *fixture, who, query string) evalReport {
	t.Helper()
	res := evalGet(t, f, who, evalA+query, "")
	if res.status != 200 {
		t.Fatalf("GET %s: %d %s", evalA+query, res.status, res.body)
	}
	var r evalReport
	if err := json.Unmarshal([]byte(res.body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// behindIDs lists the ids of the cases behind one count.
func behindIDs(t *testing.T, f *fixture, object, key, count string) (total int, ids []string) {
	t.Helper()
	q := url.Values{"object": {object}, "key": {key}, "count": {count}}
	res := evalGet(t, f, "adminA", evalA+"/cases?"+q.Encode(), "")
	if res.status != 200 {
		t.Fatalf("cases behind %s/%s/%s: %d %s", object, key, count, res.status, res.body)
	}
	var b struct {
		Total int
		Cases []struct{ ID string }
	}
	json.Unmarshal([]byte(res.body), &b)
	for _, c := range b.Cases {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return b.Total, ids
}

func sortedIDs(cs ...caseView) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// TestEvaluationAccess: the evaluation's routes for its tenant's members, another county (404 on
// every route), the prefecture viewer (reads, may not write), a member who is not an admin (may
// not set a scheme), and a tenant whose plan lacks the module (403 naming plan and module, and no
// link in the console's navigation).
func TestEvaluationAccess(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			scheme := `{"effective_from":"2026-12-01","weights":{"departments":{"handle_rate":50}},"note":"EVAL-NOTE"}`

			// Starter plan: refused with the plan and the module named, in the caller's language.
			runScenarios(t, f, []scenario{
				{"starter refused", "adminA", "GET", evalA, "", 403, "Shared starter", ""},
				{"starter names module", "adminA", "GET", evalA + "/cases?object=grids&key=x&count=filed", "", 403, "Evaluation", ""},
				{"starter refuses scheme", "adminA", "POST", evalA + "/schemes", scheme, 403, "Shared starter", ""},
			})
			if res := evalGet(t, f, "adminA", evalA, "zh-CN"); res.status != 403 || !strings.Contains(res.body, "综合评价") || !strings.Contains(res.body, "共享入门版") {
				t.Fatalf("refusal in Chinese: %d %s", res.status, res.body)
			}
			adminA, csrfA := webLogin(t, f, "adminA")
			if res := webPage(t, f, adminA, csrfA, "GET", "/t/chuxiong/evaluation", nil); res.status != 403 || !strings.Contains(res.body, "共享入门版") {
				t.Fatalf("console page on the starter plan: %d\n%s", res.status, res.body)
			}
			if strings.Contains(webPage(t, f, adminA, "", "GET", "/t/chuxiong/cases", nil).body, `href="/t/chuxiong/evaluation"`) {
				t.Fatal("the nav links to the evaluation on the starter plan")
			}

			evalPlan(t, f, "chuxiong")
			page := webPage(t, f, adminA, "", "GET", "/t/chuxiong/cases", nil)
			if !strings.Contains(page.body, `href="/t/chuxiong/evaluation"`) || !strings.Contains(page.body, "综合评价") {
				t.Fatal("the nav lacks the evaluation on the standard plan")
			}
			// wuding stays on the starter plan.
			adminB, _ := webLogin(t, f, "adminB")
			if strings.Contains(webPage(t, f, adminB, "", "GET", "/t/wuding/cases", nil).body, `href="/t/wuding/evaluation"`) {
				t.Fatal("wuding's nav links to the evaluation its plan lacks")
			}

			gets := []string{evalA, evalA + "?period=2026-12", evalA + "?format=csv&object=grids",
				evalA + "/cases?object=grids&key=53230100100101&count=filed", evalA + "/schemes"}
			var sc []scenario
			for _, p := range gets {
				sc = append(sc,
					scenario{"owner " + p, "adminA", "GET", p, "", 200, "", ""},
					scenario{"member " + p, "inspectorA", "GET", p, "", 200, "", ""},
					scenario{"B " + p, "adminB", "GET", p, "", 404, "", "EVAL-NOTE"},
					scenario{"nobody " + p, "nobody", "GET", p, "", 404, "", ""},
					scenario{"anonymous " + p, "", "GET", p, "", 401, "", ""},
					scenario{"viewer " + p, "viewer", "GET", p, "", 200, "", ""},
				)
			}
			sc = append(sc,
				scenario{"B posts scheme", "adminB", "POST", evalA + "/schemes", scheme, 404, "", ""},
				scenario{"viewer posts scheme", "viewer", "POST", evalA + "/schemes", scheme, 403, "", ""},
				scenario{"member posts scheme", "inspectorA", "POST", evalA + "/schemes", scheme, 403, "", ""},
				scenario{"B's own lacks it", "adminB", "GET", "/api/v1/t/wuding/evaluation", "", 403, "Shared starter", ""},
				scenario{"admin posts scheme", "adminA", "POST", evalA + "/schemes", scheme, 201, "EVAL-NOTE", ""},
				scenario{"B reads schemes", "adminB", "GET", evalA + "/schemes", "", 404, "", "EVAL-NOTE"},
				scenario{"viewer reads schemes", "viewer", "GET", evalA + "/schemes", "", 200, "EVAL-NOTE", ""},
			)
			runScenarios(t, f, sc)

			// The console: the viewer reads the county's page, with no scheme form; B gets 404;
			// POSTs by the viewer, a member and B are refused.
			viewer, csrfV := webLogin(t, f, "viewer")
			if res := webPage(t, f, viewer, csrfV, "GET", "/t/chuxiong/evaluation", nil); res.status != 200 || strings.Contains(res.body, `action="/t/chuxiong/evaluation/schemes"`) {
				t.Fatalf("viewer's page: %d, offers the scheme form: %v", res.status, strings.Contains(res.body, "evaluation/schemes"))
			}
			if res := webPage(t, f, adminA, csrfA, "GET", "/t/chuxiong/evaluation", nil); res.status != 200 || !strings.Contains(res.body, `action="/t/chuxiong/evaluation/schemes"`) {
				t.Fatalf("admin's page: %d, offers no scheme form", res.status)
			}
			inspector, csrfI := webLogin(t, f, "inspectorA")
			if res := webPage(t, f, inspector, csrfI, "GET", "/t/chuxiong/evaluation", nil); res.status != 200 || strings.Contains(res.body, `action="/t/chuxiong/evaluation/schemes"`) {
				t.Fatalf("member's page: %d", res.status)
			}
			adminB, csrfB := webLogin(t, f, "adminB")
			form := url.Values{"effective_from": {"2027-01-01"}, "w.departments.handle_rate": {"60"}}
			for who, try := range map[string]struct {
				cookie, csrf, path string
				status             int
			}{
				"viewer":     {viewer, csrfV, "/t/chuxiong/evaluation/schemes", 403},
				"inspectorA": {inspector, csrfI, "/t/chuxiong/evaluation/schemes", 403},
				"adminB":     {adminB, csrfB, "/t/chuxiong/evaluation/schemes", 404},
				"adminB own": {adminB, csrfB, "/t/wuding/evaluation/schemes", 403},
			} {
				if res := webPage(t, f, try.cookie, try.csrf, "POST", try.path, url.Values{"effective_from": form["effective_from"], "w.departments.handle_rate": {"60"}}); res.status != try.status {
					t.Errorf("%s POST %s: %d, want %d", who, try.path, res.status, try.status)
				}
			}
			for _, p := range []string{"/t/chuxiong/evaluation", "/t/chuxiong/evaluation/cases?object=grids&key=x&count=filed"} {
				if res := webPage(t, f, adminB, "", "GET", p, nil); res.status != 404 || strings.Contains(res.body, "EVAL-NOTE") {
					t.Errorf("B GET %s: %d, want 404", p, res.status)
				}
			}
			res := evalGet(t, f, "adminA", evalA+"/schemes", "")
			if strings.Contains(res.body, "2027-01-01") {
				t.Fatalf("a refused scheme form was stored: %s", res.body)
			}

			// The prefecture's page: its viewer compares the counties; its admin, who holds no
			// prefecture viewer role, reads none of them and is told why.
			evalPlan(t, f, "chuxiong-zhou")
			ctx := context.Background()
			zhou, err := f.app.store.FindTenantBySlug(ctx, "chuxiong-zhou")
			if err != nil {
				t.Fatal(err)
			}
			id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "zhouadmin@test.cn", Password: testPassword})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.app.store.Grant(ctx, zhou, id.ID, tenants.TenantAdmin); err != nil {
				t.Fatal(err)
			}
			if res := webPage(t, f, viewer, "", "GET", "/t/chuxiong-zhou/evaluation", nil); res.status != 200 || !strings.Contains(res.body, `data-key="chuxiong"`) || strings.Contains(res.body, "州级查看") {
				t.Fatalf("the prefecture viewer's comparison: %d\n%s", res.status, res.body)
			}
			zhouAdmin, _ := webLogin(t, f, "zhouadmin")
			if res := webPage(t, f, zhouAdmin, "", "GET", "/t/chuxiong-zhou/evaluation", nil); res.status != 200 || strings.Contains(res.body, `data-key="chuxiong"`) || !strings.Contains(res.body, "州级查看") {
				t.Fatalf("the prefecture admin's comparison: %d\n%s", res.status, res.body)
			}
		})
	}
}

// TestEvaluationFigures walks cases through the loop and reads the evaluation: the counts of the
// department, the grid and the posts, the cases behind each, the CSV, and a weighting scheme that
// counts from its day on.
func TestEvaluationFigures(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			evalPlan(t, f.fixture, "chuxiong")
			cs := evalLoop(t, f)
			closed, open, filed := cs[0], cs[1], cs[2]
			const grid = "53230100100101"

			r := evalRead(t, f.fixture, "adminA", "")
			if r.Filed != 3 || r.Closed != 1 {
				t.Errorf("totals: filed %d closed %d, want 3 and 1", r.Filed, r.Closed)
			}
			for _, c := range []struct {
				object, key string
				want        map[string]int64
			}{
				{"departments", f.dept, map[string]int64{"dispatched": 2, "due": 2, "handled": 1, "returned": 0}},
				{"grids", grid, map[string]int64{"filed": 3, "closed": 1}},
				{"communities", "53230100100100", map[string]int64{"filed": 3, "closed": 1}},
				{"streets", "53230100100000", map[string]int64{"filed": 3, "closed": 1}},
				{"shift_leads", f.ids["shiftA"], map[string]int64{"filed": 3, "closed": 1}},
				{"dispatchers", f.ids["dispatcherA"], map[string]int64{"dispatched": 2}},
				{"acceptors", f.ids["acceptorA"], map[string]int64{"accepted": 3}},
			} {
				row := r.row(t, c.object, c.key)
				for n, want := range c.want {
					if row.Counts[n] != want {
						t.Errorf("%s %s: %s = %d, want %d (%v)", c.object, c.key, n, row.Counts[n], want, row.Counts)
					}
				}
			}
			if row := r.row(t, "departments", f.dept); row.Name != "市政局A-SECRET" {
				t.Errorf("department's name: %q", row.Name)
			}

			// The cases behind a count are exactly those it counts.
			for _, c := range []struct {
				object, key, count string
				want               []string
			}{
				{"departments", f.dept, "dispatched", sortedIDs(closed, open)},
				{"departments", f.dept, "handled", sortedIDs(closed)},
				{"grids", grid, "filed", sortedIDs(closed, open, filed)},
				{"streets", "53230100100000", "closed", sortedIDs(closed)},
				{"shift_leads", f.ids["shiftA"], "closed", sortedIDs(closed)},
				{"dispatchers", f.ids["dispatcherA"], "dispatched", sortedIDs(closed, open)},
				{"departments", "no-such-department", "dispatched", nil},
			} {
				total, ids := behindIDs(t, f.fixture, c.object, c.key, c.count)
				if total != len(c.want) || !slices.Equal(ids, c.want) {
					t.Errorf("behind %s %s %s: %d %v, want %v", c.object, c.key, c.count, total, ids, c.want)
				}
			}

			// CSV: UTF-8 with a byte order mark, headed in the caller's language, one row per key.
			res := evalGet(t, f.fixture, "adminA", evalA+"?format=csv&object=departments", "zh-CN")
			if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || !strings.Contains(res.header.Get("Content-Disposition"), "evaluation-departments-") {
				t.Fatalf("csv: %d %s %s", res.status, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
			}
			body, ok := strings.CutPrefix(res.body, "\ufeff")
			if !ok {
				t.Fatalf("csv without a byte order mark: %q", res.body[:min(20, len(res.body))])
			}
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0][0] != "排名" || !slices.Contains(rows[0], "综合得分") || !slices.Contains(rows[0], "处置率 (%)") || !slices.Contains(rows[0], "派遣数") {
				t.Fatalf("csv in Chinese: %q", rows)
			}
			if rows[1][1] != f.dept || rows[1][2] != "市政局A-SECRET" || rows[1][slices.Index(rows[0], "派遣数")] != "2" {
				t.Fatalf("csv row: %q", rows[1])
			}
			res = evalGet(t, f.fixture, "adminA", evalA+"?format=csv&object=grids", "en")
			if rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll(); err != nil || rows[0][0] != "Rank" || len(rows) != 2 || rows[1][1] != grid {
				t.Fatalf("csv in English: %q %v", rows, err)
			}
			res = evalGet(t, f.fixture, "adminA", evalA+"/cases?format=csv&object=grids&key="+grid+"&count=filed", "")
			if rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll(); err != nil || len(rows) != 4 || !strings.HasPrefix(res.body, "\ufeff") {
				t.Fatalf("cases as csv: %q %v", rows, err)
			}

			// A scheme from the first of this month: this month counts under it, the month
			// before keeps the default weights.
			month := r.Period.Name
			first := month + "-01"
			res = evalPost(t, f.fixture, "adminA", evalA+"/schemes", `{"effective_from":"`+first+`","weights":{"departments":{"handle_rate":100,"on_time_handle_rate":0,"rework_rate":0,"overdue_pending_rate":0,"extension_rate":0}},"note":"只看处置率"}`, "")
			if res.status != 201 {
				t.Fatalf("scheme: %d %s", res.status, res.body)
			}
			var sc evaluation.Scheme
			json.Unmarshal([]byte(res.body), &sc)
			if sc.ID == "" || sc.EffectiveFrom != first || sc.CreatedBy != "admina@test.cn" {
				t.Fatalf("scheme set: %+v", sc)
			}
			res = evalGet(t, f.fixture, "adminA", evalA+"/schemes", "")
			if res.status != 200 || !strings.Contains(res.body, sc.ID) || !strings.Contains(res.body, "只看处置率") {
				t.Fatalf("schemes: %s", res.body)
			}
			var list struct {
				Current  evaluation.Scheme
				Schemes  []evaluation.Scheme
				Defaults map[string]map[string]float64
			}
			json.Unmarshal([]byte(res.body), &list)
			if list.Current.ID != sc.ID || len(list.Schemes) != 1 || list.Defaults["departments"]["handle_rate"] != 30 {
				t.Fatalf("schemes: %+v", list)
			}
			audit, err := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &mustTenant(t, f.fixture, "chuxiong").ID, Action: "evaluation.scheme"})
			if err != nil || len(audit) != 1 || audit[0].Target != first || !strings.Contains(audit[0].Detail, "只看处置率") {
				t.Fatalf("audit of the scheme: %+v %v", audit, err)
			}
			now := evalRead(t, f.fixture, "adminA", "?period="+month)
			if now.Scheme.ID != sc.ID || now.Rankings["departments"].Weights["handle_rate"] != 100 {
				t.Fatalf("this month's scheme: %+v weights %v", now.Scheme, now.Rankings["departments"].Weights)
			}
			// Under it the department's score is its handling rate alone: 1 of 2.
			if s := now.row(t, "departments", f.dept).Score; s == nil || *s != 50 {
				t.Fatalf("score under the scheme: %v, want 50", s)
			}
			if s := r.row(t, "departments", f.dept).Score; s == nil || *s == 50 {
				t.Fatalf("score under the default: %v", s)
			}
			prevMonth := evalRead(t, f.fixture, "adminA", "?from="+prevDay(t, first)+"&to="+prevDay(t, first))
			if prevMonth.Scheme.ID != "" || prevMonth.Rankings["departments"].Weights["handle_rate"] != 30 {
				t.Fatalf("the day before the scheme: %+v weights %v", prevMonth.Scheme, prevMonth.Rankings["departments"].Weights)
			}

			// The grid's inspector (监督员甲, staff without an account) is named, and counts the
			// cases filed in the grid; once linked to inspectorA's account, its reports and its
			// grid's cases are one row.
			inspectors := func() []evalRow { return evalRead(t, f.fixture, "adminA", "").Rankings["inspectors"].Rows }
			var staffID string
			for _, row := range inspectors() {
				if row.Name == "监督员甲" {
					staffID = row.Key
					if row.Counts["filed_in_area"] != 3 || row.Counts["missed"] != 3 {
						t.Errorf("监督员甲's area: %v", row.Counts)
					}
				}
			}
			if staffID == "" {
				t.Fatalf("no row names the grid's inspector: %+v", inspectors())
			}
			f.mustDo(t, "adminA", "PUT", "/api/v1/t/chuxiong/staff/"+staffID, `{"name":"监督员甲","identity_id":"`+f.ids["inspectorA"]+`","posts":["inspector"]}`, 200)
			f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","description":"井盖破损","lon":101.505,"lat":25.005}`)
			var mine []evalRow
			for _, row := range inspectors() {
				if row.Key == staffID || row.Key == f.ids["inspectorA"] {
					mine = append(mine, row)
				}
			}
			if len(mine) != 1 || mine[0].Key != f.ids["inspectorA"] || mine[0].Name != "监督员甲" || mine[0].Counts["reports"] != 1 || mine[0].Counts["filed_in_area"] != 3 {
				t.Fatalf("the linked inspector's rows: %+v", mine)
			}
			if total, _ := behindIDs(t, f.fixture, "inspectors", f.ids["inspectorA"], "missed"); total != 3 {
				t.Fatalf("cases behind the linked inspector's misses: %d, want 3", total)
			}
		})
	}
}

// prevDay is the day before the date day (YYYY-MM-DD).
func prevDay(t *testing.T, day string) string {
	t.Helper()
	p, err := evaluation.Days(day, day)
	if err != nil {
		t.Fatal(err)
	}
	return p.From.AddDate(0, 0, -1).Format("2006-01-02")
}

// TestEvaluationBadInput: every bad value of the evaluation's routes is a 400 problem naming the
// field, in Chinese for a Chinese caller, and a refused scheme stores nothing.
func TestEvaluationBadInput(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			evalPlan(t, f, "chuxiong")
			behind := evalA + "/cases?object=grids&key=53230100100101&count=filed"
			for _, c := range []struct {
				path, field, zh string
			}{
				{evalA + "?period=2026-13", "period", "统计周期"},
				{evalA + "?period=abc", "period", "统计周期"},
				{evalA + "?period=2026-Q5", "period", "统计周期"},
				{evalA + "?period=1999", "period", "统计周期"},
				{evalA + "?from=2026-05-02&to=2026-05-01", "from", "开始须早于结束"},
				{evalA + "?from=2025-01-01&to=2026-01-02", "to", "366"},
				{evalA + "?from=2026-05-01", "to", "不是日期"},
				{evalA + "?from=2026-02-30&to=2026-03-01", "from", "不是日期"},
				{evalA + "?from=0001-01-01&to=0001-01-02", "from", "超出评价可统计的年份"},
				{evalA + "?from=2026-01-01&to=9999-12-31", "to", "超出评价可统计的年份"},
				{evalA + "?from=9999-12-30&to=9999-12-31", "from", "超出评价可统计的年份"},
				{evalA + "?format=xml", "format", "格式"},
				{evalA + "?format=csv&object=planets", "object", "不是评价对象"},
				{behind + "&period=2026-13", "period", "统计周期"},
				{evalA + "/cases?object=planets&key=x&count=filed", "object", "不是评价对象"},
				{evalA + "/cases?key=x&count=filed", "object", "不是评价对象"},
				{evalA + "/cases?object=grids&key=x&count=dispatched", "count", "统计项"},
				{evalA + "/cases?object=grids&key=x", "count", "统计项"},
				{behind + "&format=pdf", "format", "格式"},
			} {
				res := evalGet(t, f, "adminA", c.path, "zh-CN")
				var p Problem
				json.Unmarshal([]byte(res.body), &p)
				if res.status != 400 || res.header.Get("Content-Type") != "application/problem+json" || p.Field != c.field || !strings.Contains(p.Detail, c.zh) {
					t.Errorf("GET %s: %d field %q detail %q, want 400 naming %s with %q", c.path, res.status, p.Field, p.Detail, c.field, c.zh)
				}
			}

			const ok = `"effective_from":"2026-12-01"`
			for _, c := range []struct {
				name, body, field, zh string
			}{
				{"unknown object", `{` + ok + `,"weights":{"planets":{"close_rate":10}}}`, "weights", "不是评价对象"},
				{"unknown indicator", `{` + ok + `,"weights":{"departments":{"close_rate":10}}}`, "weights.departments", "不是 departments 的评价指标"},
				{"negative weight", `{` + ok + `,"weights":{"departments":{"handle_rate":-1}}}`, "weights.departments.handle_rate", "0 到 100"},
				{"weight over 100", `{` + ok + `,"weights":{"departments":{"handle_rate":101}}}`, "weights.departments.handle_rate", "0 到 100"},
				{"weight as text", `{` + ok + `,"weights":{"departments":{"handle_rate":"50"}}}`, "weights.departments.handle_rate", ""},
				{"all zero", `{` + ok + `,"weights":{"grids":{"close_rate":0,"on_time_close_rate":0,"inspector_report_rate":0}}}`, "weights.grids", "全为 0"},
				{"bad date", `{"effective_from":"2026-02-30","weights":{}}`, "effective_from", "不是日期"},
				{"no date", `{"weights":{}}`, "effective_from", "不是日期"},
				{"unknown member", `{` + ok + `,"weight":{}}`, "weight", ""},
				{"long note", `{` + ok + `,"note":"` + strings.Repeat("长", 501) + `"}`, "note", "500"},
			} {
				res := evalPost(t, f, "adminA", evalA+"/schemes", c.body, "zh-CN")
				var p Problem
				json.Unmarshal([]byte(res.body), &p)
				if res.status != 400 || res.header.Get("Content-Type") != "application/problem+json" || p.Field != c.field || !strings.Contains(p.Detail, c.zh) {
					t.Errorf("%s: %d field %q detail %q, want 400 naming %s with %q", c.name, res.status, p.Field, p.Detail, c.field, c.zh)
				}
			}
			res := evalGet(t, f, "adminA", evalA+"/schemes", "")
			if res.status != 200 || !strings.Contains(res.body, `"schemes":[]`) {
				t.Fatalf("schemes after refusals: %s", res.body)
			}
			if audit, _ := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{Action: "evaluation.scheme"}); len(audit) != 0 {
				t.Fatalf("refused schemes audited: %d", len(audit))
			}

			// The console: a bad period is shown on the page, in Chinese, with the form to fix it.
			cookie, csrf := webLogin(t, f, "adminA")
			for q, zh := range map[string]string{"period=2026-13": "统计周期 &#34;2026-13&#34; 不是月", "from=2026-05-02&to=2026-05-01": "统计周期的开始须早于结束",
				"from=2025-01-01&to=2026-06-01": "自定义统计周期最长 366 天", "from=0001-01-01&to=0001-01-01": "超出评价可统计的年份"} {
				page := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong/evaluation?"+q, nil)
				if page.status != 400 || !strings.Contains(page.body, `role="alert"`) || !strings.Contains(page.body, zh) || !strings.Contains(page.body, `name="period"`) {
					t.Errorf("page with %s: %d\n%.2000s", q, page.status, page.body)
				}
			}
			for _, q := range []string{"period=abc&object=grids&key=x&count=filed", "object=planets&key=x&count=filed", "object=grids&key=x&count=nope"} {
				if page := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong/evaluation/cases?"+q, nil); page.status != 400 {
					t.Errorf("cases page with %s: %d", q, page.status)
				}
			}
			for _, form := range []url.Values{
				{"effective_from": {"x"}},
				{"effective_from": {"2026-12-01"}, "w.departments.handle_rate": {"abc"}},
				{"effective_from": {"2026-12-01"}, "w.departments.handle_rate": {"101"}},
				{"effective_from": {"2026-12-01"}, "w.departments.handle_rate": {"NaN"}},
			} {
				if page := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/evaluation/schemes", form); page.status != 400 {
					t.Errorf("scheme form %v: %d", form, page.status)
				}
			}
			if res := evalGet(t, f, "adminA", evalA+"/schemes", ""); !strings.Contains(res.body, `"schemes":[]`) {
				t.Fatalf("schemes after refused forms: %s", res.body)
			}
		})
	}
}

// TestEvaluationPages: the county's page shows the figures with every count linking to the cases
// behind it, the list of those cases links to each case, and the scheme form sets a scheme.
func TestEvaluationPages(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	evalPlan(t, w.fixture, "chuxiong")
	cs := evalLoop(t, w.caseFixture)
	page := w.get(t, "adminA", webA+"/evaluation")
	if page.status != 200 || !strings.Contains(page.body, "综合评价") || !strings.Contains(page.body, "市政局A-SECRET") {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}
	q := url.Values{"period": {evalRead(t, w.fixture, "adminA", "").Period.Name}, "object": {"departments"}, "key": {w.dept}, "count": {"dispatched"}}
	link := webA + "/evaluation/cases?" + q.Encode()
	if !strings.Contains(page.body, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Fatalf("the page does not link the department's dispatched count to %s", link)
	}
	list := w.get(t, "adminA", link)
	if list.status != 200 || !strings.Contains(list.body, cs[0].Number) || !strings.Contains(list.body, cs[1].Number) || strings.Contains(list.body, cs[2].Number) ||
		!strings.Contains(list.body, `href="/t/chuxiong/cases/`+cs[0].ID+`"`) || !strings.Contains(list.body, "共 2 件案件") {
		t.Fatalf("cases behind: %d\n%s", list.status, list.body)
	}
	res := w.post(t, "adminA", webA+"/evaluation/schemes", url.Values{"effective_from": {"2027-01-01"}, "w.departments.handle_rate": {"55"}, "note": {"表单方案"}})
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), webA+"/evaluation?done=") {
		t.Fatalf("scheme form: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if page := w.get(t, "adminA", res.header.Get("Location")); !strings.Contains(page.body, "评价方案已保存") {
		t.Fatal("no flash after the scheme form")
	}
	var list2 struct{ Schemes []evaluation.Scheme }
	json.Unmarshal([]byte(w.mustDo(t, "adminA", "GET", evalA+"/schemes", "", 200).body), &list2)
	if len(list2.Schemes) != 1 || list2.Schemes[0].Weights["departments"]["handle_rate"] != 55 || list2.Schemes[0].Note != "表单方案" {
		t.Fatalf("the form's scheme: %+v", list2.Schemes)
	}
	if page := w.get(t, "adminA", webA+"/evaluation?period=2027-01"); !strings.Contains(page.body, "2027-01-01") {
		t.Fatal("January's page does not name its scheme")
	}
}
