package app

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/console"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

func init() {
	period := cases.Period{From: sampleNow.AddDate(0, 0, -13), To: sampleNow, Bucket: cases.ByDay}
	empty := []*console.CountyFigures{}
	periods := []string{"month", "30d", "year"}
	trend, onTime, rank := console.OverviewCharts("zh-CN", empty, period)
	samplePage("pref_overview", fiber.Map{"Totals": console.OverviewTotals(empty), "Periods": periods, "Period": "month", "Map": sampleMap,
		"Trend": trend, "OnTime": onTime, "Rank": rank},
		func() fiber.Map {
			ind := &cases.Indicators{Reported: 12, Closed: 8, ClosedOnTime: 6, AvgHandling: 5 * time.Hour, OpenNow: 4, OverdueNow: 1, ActiveStaff: 3,
				Series: map[string]int{sampleNow.In(clock.China).Format(time.DateOnly): 3}, Lat: 25.03, Lon: 101.55}
			fs := []*console.CountyFigures{{Tenant: sampleTenant, Ind: ind, Rate: 75, HasRate: true, AvgHours: 5,
				Overdue: []cases.Case{{ID: "c1", Number: "532301-2026-000001", Address: "<b>鹿城镇</b>", CreatedAt: sampleNow}}},
				{Tenant: &tenants.Tenant{Slug: "wuding", NameZH: "武定县<script>", Kind: tenants.County, AdminCode: "532329", Status: tenants.StatusSuspended}, Unavailable: true}}
			trend, onTime, rank := console.OverviewCharts("zh-CN", fs, period)
			return fiber.Map{"Counties": fs, "Totals": console.OverviewTotals(fs), "Periods": periods, "Period": "30d", "From": period.From, "To": period.To,
				"Map": sampleMap, "Trend": trend, "OnTime": onTime, "Rank": rank, "Tenant": samplePrefecture,
				"Scope":   &tenants.Scope{Tenant: samplePrefecture, Roles: []tenants.Role{tenants.PrefectureViewer}, ReadOnly: true},
				"Layers":  []map[string]any{{"url": "/api/v1/t/chuxiong/cases.geojson", "kind": "cases", "bbox": true, "link": "/t/chuxiong/cases/{id}"}},
				"Overdue": []console.OverdueLink{{Tenant: sampleTenant, Case: fs[0].Overdue[0]}}}
		}())
}

// seedOverview reports cases in 楚雄市 and 武定县 and sets their times and states directly, so
// that the last 30 days' figures are known exactly:
//
//	楚雄市: 3 reported; 2 closed (one on time after 2 h, one overdue after 4 h); 1 open with its
//	        stage overdue.
//	武定县: 2 reported; 1 closed on time after 1 h; 1 voided.
//
// It returns the ids of 楚雄市's cases, the open one last.
func seedOverview(t testing.TB, a *App) []string {
	ctx := context.Background()
	now := a.store.Now()
	var ids []string
	for _, s := range []struct {
		slug string
		rows []string // SQL SET clauses, with ? for now
	}{
		{"chuxiong", []string{
			"state = 'closed', overdue = false, created_at = ?, closed_at = ?",
			"state = 'closed', overdue = true, created_at = ?, closed_at = ?",
			"stage_overdue = true, created_at = ?"}},
		{"wuding", []string{
			"state = 'closed', overdue = false, created_at = ?, closed_at = ?",
			"state = 'voided', overdue = true, created_at = ?"}},
	} {
		tn, err := a.store.FindTenantBySlug(ctx, s.slug)
		if err != nil {
			t.Fatal(err)
		}
		sctx := tenants.WithScope(ctx, &tenants.Scope{Tenant: tn, Roles: []tenants.Role{tenants.Acceptor}})
		times := map[string][][]any{
			"chuxiong": {{now.Add(-5 * time.Hour), now.Add(-3 * time.Hour)}, {now.Add(-6 * time.Hour), now.Add(-2 * time.Hour)}, {now.Add(-time.Hour)}},
			"wuding":   {{now.Add(-2 * time.Hour), now.Add(-time.Hour)}, {now.Add(-time.Hour)}},
		}[s.slug]
		for i, set := range s.rows {
			c, err := a.cases.Report(sctx, cases.ReportInput{Source: cases.FromHotline, Kind: "component", ClassCode: "0101", Lon: 101.54 + float64(i)/100, Lat: 25.03,
				Address: "鹿城镇" + fmt.Sprint(i), ReporterName: "王五PII", ReporterPhone: "13800138000"})
			if err != nil {
				t.Fatal(err)
			}
			if s.slug == "chuxiong" {
				ids = append(ids, c.ID)
			}
			if err := a.store.Tx(tenants.WithScope(ctx, tenants.SystemScope(tn)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.NewRaw("UPDATE cases SET "+set+" WHERE id = ?", append(times[i], c.ID)...).Exec(ctx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// rowCells returns the numeric cells of the overview table's row that links to slug's cases.
func rowCells(t *testing.T, html, slug string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"><a href="/t/` + slug + `/cases">.*?</tr>`).FindString(html)
	if m == "" {
		t.Fatalf("no row for %s in:\n%s", slug, html)
	}
	var out []string
	for _, c := range regexp.MustCompile(`(?s)<td class="num">(.*?)</td>`).FindAllStringSubmatch(m, -1) {
		out = append(out, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(c[1], ""))
	}
	return out
}

func countCrossReads(t *testing.T, a *App) int {
	t.Helper()
	es, err := a.store.FindAudit(context.Background(), tenants.AuditFilter{Action: "tenant.cross_read", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestWebOverview: the prefecture viewer reads its prefecture's overview with exact figures for
// the seeded cases of two counties, on both dialects, each county read audited once; nobody
// else sees it; nothing on it writes.
func TestWebOverview(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			ids := seedOverview(t, f.app)
			cookie, csrf := webLogin(t, f, "viewer")
			before := countCrossReads(t, f.app)
			res := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong-zhou/overview?period=30d", nil)
			if res.status != 200 {
				t.Fatalf("overview: %d\n%s", res.status, res.body)
			}
			if got := countCrossReads(t, f.app) - before; got != 2 {
				t.Fatalf("%d cross-tenant audit records for one overview of 2 counties, want 2", got)
			}
			// reported, closed, on-time rate, overdue now, open now, mean hours, active staff
			for slug, want := range map[string][]string{
				"chuxiong": {"3", "2", "50.0%", "1", "1", "3.0", "0"},
				"wuding":   {"2", "1", "100.0%", "0", "0", "1.0", "0"},
			} {
				if got := rowCells(t, res.body, slug); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s: got %v, want %v", slug, got, want)
				}
			}
			for _, want := range []string{"<td class=\"num\">5</td>", "66.7%", "2.3", `id="pref-trend"`, `id="pref-map"`,
				"/api/v1/t/wuding/cases.geojson", "/t/chuxiong/cases/" + ids[2]} {
				if !strings.Contains(res.body, want) {
					t.Errorf("overview lacks %q", want)
				}
			}
			if strings.Contains(res.body, "王五PII") || strings.Contains(res.body, "13800138000") {
				t.Error("the overview shows a reporter's personal data")
			}
			if n := strings.Count(res.body, `method="post"`); n != 1 {
				t.Errorf("%d POST forms on the overview, want only the logout form", n)
			}
			// Every POST under the overview is refused, and changes nothing.
			for _, path := range []string{"/t/chuxiong-zhou/overview", "/t/chuxiong-zhou/overview/anything", "/t/chuxiong-zhou/overview?period=year"} {
				if res := webPage(t, f, cookie, csrf, "POST", path, url.Values{"state": {"closed"}}); res.status != 403 {
					t.Errorf("viewer POST %s: %d, want 403", path, res.status)
				}
			}
			opCookie, opCSRF := webLogin(t, f, "operator")
			if res := webPage(t, f, opCookie, opCSRF, "POST", "/t/chuxiong-zhou/overview", nil); res.status != 403 {
				t.Errorf("operator POST: %d, want 403", res.status)
			}
			if res := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong-zhou/overview?period=30d", nil); rowCells(t, res.body, "chuxiong")[0] != "3" {
				t.Error("a refused POST changed the figures")
			}
		})
	}
}

func TestWebOverviewAccess(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	if _, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: tenants.Prefecture, AdminCode: "532900"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who, path string
		status    int
	}{
		{"viewer", "/t/chuxiong-zhou/overview", 200},
		{"viewer", "/t/chuxiong-zhou/overview?period=year", 200},
		{"viewer", "/t/chuxiong-zhou/overview?period=month", 200},
		{"viewer", "/t/dali-zhou/overview", 404}, // another prefecture
		{"viewer", "/t/chuxiong/overview", 404},  // a county has no overview
		{"adminA", "/t/chuxiong-zhou/overview", 404},
		{"adminA", "/t/chuxiong/overview", 404},
		{"inspectorA", "/t/chuxiong-zhou/overview", 404},
		{"nobody", "/t/chuxiong-zhou/overview", 404},
		{"operator", "/t/chuxiong-zhou/overview", 200},
	} {
		cookie, csrf := webLogin(t, f, tc.who)
		if res := webPage(t, f, cookie, csrf, "GET", tc.path, nil); res.status != tc.status {
			t.Errorf("%s GET %s: %d, want %d\n%.3000s", tc.who, tc.path, res.status, tc.status, res.body)
		}
	}
	res := webPage(t, f, "", "", "GET", "/t/chuxiong-zhou/overview", nil)
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Errorf("anonymous: %d %s, want a redirect to the login", res.status, res.header.Get("Location"))
	}
}

// BenchmarkOverviewIndicators counts the overview's figures for a prefecture of 10 counties
// with 100 cases each (SQLite).
func BenchmarkOverviewIndicators(b *testing.B) {
	a, pref, _ := MustBootApp(b, "sqlite")
	ctx := context.Background()
	// The other nine county-level divisions of 楚雄州 (MustBootApp made 532301).
	for i, code := range []string{"532302", "532322", "532323", "532324", "532325", "532326", "532327", "532328", "532329"} {
		if _, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: fmt.Sprintf("county%d", i+2), NameZH: fmt.Sprintf("县%d", i+2), Kind: tenants.County,
			AdminCode: code, ParentSlug: pref.Slug}); err != nil {
			b.Fatal(err)
		}
	}
	kids, err := a.store.Children(ctx, pref)
	if err != nil || len(kids) != 10 {
		b.Fatalf("%d counties: %v", len(kids), err)
	}
	for _, k := range kids {
		sctx := tenants.WithScope(ctx, &tenants.Scope{Tenant: k, Roles: []tenants.Role{tenants.Acceptor}})
		for i := 0; i < 100; i++ {
			if _, err := a.cases.Report(sctx, cases.ReportInput{Source: cases.FromHotline, Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25}); err != nil {
				b.Fatal(err)
			}
		}
	}
	p := &tenants.Principal{Identity: &tenants.Identity{ID: uuid.New(), Email: "viewer@test.cn"},
		Memberships: []tenants.Membership{{TenantID: pref.ID, Role: tenants.PrefectureViewer}}}
	pctx := tenants.WithPrincipal(ctx, p)
	_, period := console.OverviewPeriod("year", a.store.Now())
	b.ResetTimer()
	for b.Loop() {
		fs, err := console.PrefectureFigures(pctx, console.PrefectureDeps{UI: a.web, Store: a.store, Cases: a.cases, Log: a.log, AuditCrossRead: a.store.AuditCrossRead}, p, pref, period, "/t/"+pref.Slug+"/overview")
		if err != nil || len(fs) != 10 || fs[0].Ind.Reported != 100 {
			b.Fatalf("figures: %v", err)
		}
	}
}

// waitJS waits until the JavaScript expression is true in s's page.
func waitJS(s *session, what, expr string) {
	s.b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !eval[bool](s, expr) {
		if time.Now().After(deadline) {
			s.b.t.Fatalf("%s: %s never happened (%s)", s.name, what, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// onlyLogoutPosts is true when the page's only POST form is the logout form and every button
// submits either it or a GET form (a filter, a search).
const onlyLogoutPosts = `(function(){
  var posts = document.querySelectorAll('form[method=post], form[method=POST]');
  if (posts.length !== 1 || posts[0].getAttribute('action') !== '/logout') return false;
  return Array.prototype.every.call(document.querySelectorAll('button, input[type=submit]'), function (b) {
    var f = b.closest('form');
    return f !== null && (f.getAttribute('action') === '/logout' || (f.getAttribute('method') || 'get').toLowerCase() === 'get');
  });
})()`

// TestBrowserPrefectureOverview: the prefecture viewer opens the overview (charts and map
// drawn), follows a county into its cases and an overdue case, and finds nothing that writes.
func TestBrowserPrefectureOverview(t *testing.T) {
	f := newFixture(t, "sqlite")
	ids := seedOverview(t, f.app)
	b := newBrowser(t, f.listen(t))
	s := b.user("viewer")
	s.login("viewer@test.cn", testPassword)
	s.visit("/t/chuxiong-zhou")
	if loc := s.location(); loc != "/t/chuxiong-zhou/overview" {
		t.Fatalf("the prefecture opens on %s", loc)
	}
	s.visit("/t/chuxiong-zhou/overview?period=30d")
	if h := s.text("h1"); !strings.Contains(h, "全州总览") {
		t.Fatalf("h1 %q", h)
	}
	for _, id := range []string{"pref-trend", "pref-ontime", "pref-rank"} {
		waitJS(s, "chart "+id, `document.querySelector('#`+id+` svg') !== null`)
	}
	// The counties' centres (2) and the cases of the window are drawn on the map.
	waitJS(s, "map markers", `document.querySelectorAll('#pref-map .leaflet-interactive, #pref-map .marker-cluster').length >= 3`)
	if !eval[bool](s, onlyLogoutPosts) {
		t.Fatal("the overview has a form or button that could change something")
	}
	s.waitText("table", "50.0%")
	s.shot("overview")
	s.visit("/t/chuxiong-zhou/overview?period=year&lang=en")
	waitJS(s, "chart in English", `document.querySelector('#pref-trend svg') !== null`)
	s.shot("overview-year-en")
	s.visit("/t/chuxiong-zhou/overview?period=30d&lang=zh-CN")

	s.click(`table a[href="/t/chuxiong/cases"]`)
	waitJS(s, "the county's page", `location.pathname === '/t/chuxiong/cases'`)
	if loc := s.location(); loc != "/t/chuxiong/cases" {
		t.Fatalf("drill-down to the county went to %s", loc)
	}
	waitJS(s, "the county's case list", `document.body.innerText.indexOf('532301-') >= 0`)
	if !eval[bool](s, onlyLogoutPosts) {
		t.Error("the county's case list offers the prefecture viewer a change")
	}
	s.shot("county-cases")

	s.visit("/t/chuxiong-zhou/overview?period=30d")
	s.click(`a[href="/t/chuxiong/cases/` + ids[2] + `"]`)
	waitJS(s, "the case's page", `location.pathname === '/t/chuxiong/cases/`+ids[2]+`'`)
	if loc := s.location(); loc != "/t/chuxiong/cases/"+ids[2] {
		t.Fatalf("drill-down to the case went to %s", loc)
	}
	waitJS(s, "the case page", `document.body.innerText.indexOf('532301-') >= 0`)
	if !eval[bool](s, onlyLogoutPosts) {
		t.Error("the case page offers the prefecture viewer a change")
	}
	s.shot("case")
}
