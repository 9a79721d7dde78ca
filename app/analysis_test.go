package app

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/tenants"
)

// testClock is a clock a test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

const analysisA = "/api/v1/t/chuxiong/analysis"

// TestAnalysis reads the analysis of a history built on a moved clock: a class rising in A's grid
// against its baseline is a hot spot, six reports at one place recur, and seasonal patterns are
// too early to tell; each finding is a sentence in the caller's language with the case list
// behind it. The plan, the tenant and the prefecture's read-only access hold as for every module;
// thresholds are checked and audited.
func TestAnalysis(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			clk := &testClock{t: clock.Now().Add(-130 * 24 * time.Hour)}
			f := newCaseFixtureWith(t, dialect, Options{Now: clk.now})
			runScenarios(t, f.fixture, []scenario{{"starter refused", "adminA", "GET", analysisA, "", 403, "Shared starter", ""}})
			evalPlan(t, f.fixture, "chuxiong")

			// Nothing yet: the history is too short for hot spots and seasons, and it says so.
			res := evalGet(t, f.fixture, "adminA", analysisA, "zh-CN")
			if res.status != 200 || !strings.Contains(res.body, "案件历史尚不足以分析") || !strings.Contains(res.body, `"findings":[]`) {
				t.Fatalf("empty analysis: %d %s", res.status, res.body)
			}
			// 130 and 70 days ago one case each; in the last ten days six, all at the same place.
			f.report(t, "acceptorA", reportA)
			clk.add(60 * 24 * time.Hour)
			f.report(t, "acceptorA", reportA)
			clk.add(60 * 24 * time.Hour)
			for range 6 {
				f.report(t, "acceptorA", reportA)
				clk.add(time.Hour)
			}
			clk.add(24 * time.Hour)

			var got struct {
				Findings []struct {
					Kind, Text, Href string
					Numbers          []struct{ Number string }
				}
				Short map[string]string
			}
			res = evalGet(t, f.fixture, "inspectorA", analysisA, "zh-CN")
			if err := json.Unmarshal([]byte(res.body), &got); err != nil || res.status != 200 {
				t.Fatalf("analysis: %d %s", res.status, res.body)
			}
			kinds := map[string]string{}
			for _, fd := range got.Findings {
				kinds[fd.Kind] = fd.Text
				if !strings.HasPrefix(fd.Href, "/t/chuxiong/cases?") || !strings.Contains(fd.Href, "class_code=0101") {
					t.Errorf("%s links to %s", fd.Kind, fd.Href)
				}
				if fd.Kind == "recurring" && len(fd.Numbers) != 7 {
					t.Errorf("recurring names %d cases, want 7 (the last 90 days')", len(fd.Numbers))
				}
			}
			if !strings.Contains(kinds["hot_spot"], "近 30 天 6 件") || !strings.Contains(kinds["recurring"], "7 件") {
				t.Fatalf("findings: %v", kinds)
			}
			if _, ok := got.Short["seasonal_peak"]; !ok {
				t.Fatalf("the seasons need a year of history: %v", got.Short)
			}
			if _, ok := got.Short["hot_spot"]; ok {
				t.Fatalf("hot spots have their baseline now: %v", got.Short)
			}
			// The case list behind the hot spot holds the six recent cases.
			var page struct{ Cases []json.RawMessage }
			for _, fd := range got.Findings {
				if fd.Kind == "hot_spot" {
					list := evalGet(t, f.fixture, "adminA", "/api/v1"+fd.Href, "")
					json.Unmarshal([]byte(list.body), &page)
					if list.status != 200 || len(page.Cases) != 6 {
						t.Fatalf("cases behind the hot spot: %d, %d cases", list.status, len(page.Cases))
					}
				}
			}
			// In English too.
			if res := evalGet(t, f.fixture, "adminA", analysisA, "en"); !strings.Contains(res.body, "is rising: 6 cases in the last 30 days") {
				t.Fatalf("English: %s", res.body)
			}

			good := `{"window_days":14,"baseline_windows":3,"hot_min_cases":3,"hot_ratio":2,"recur_days":60,"recur_min_cases":3,"recur_meters":30,"overdue_months":3,"overdue_share":0.25,"overdue_min_handled":5,"season_ratio":1.5,"season_min_cases":5}`
			runScenarios(t, f.fixture, []scenario{
				{"B reads", "adminB", "GET", analysisA, "", 404, "", ""},
				{"B sets", "adminB", "PUT", analysisA + "/settings", good, 404, "", ""},
				{"viewer reads", "viewer", "GET", analysisA, "", 200, "hot_spot", ""},
				{"viewer sets", "viewer", "PUT", analysisA + "/settings", good, 403, "", ""},
				{"member sets", "inspectorA", "PUT", analysisA + "/settings", good, 403, "", ""},
				{"out of range", "adminA", "PUT", analysisA + "/settings", strings.Replace(good, `"window_days":14`, `"window_days":3`, 1), 400, "window_days", ""},
				{"wrong type", "adminA", "PUT", analysisA + "/settings", strings.Replace(good, `"hot_ratio":2`, `"hot_ratio":"x"`, 1), 400, "hot_ratio", ""},
				{"unknown member", "adminA", "PUT", analysisA + "/settings", strings.Replace(good, `{`, `{"x":1,`, 1), 400, "", ""},
				{"not yet stored", "adminA", "GET", analysisA + "/settings", "", 200, `"window_days":30`, ""},
				{"admin sets", "adminA", "PUT", analysisA + "/settings", good, 200, `"window_days":14`, ""},
				{"stored", "viewer", "GET", analysisA + "/settings", "", 200, `"window_days":14`, ""},
			})
			if res := evalGet(t, f.fixture, "adminA", analysisA+"/settings", "zh-CN"); !strings.Contains(res.body, `"recur_meters":30`) {
				t.Fatalf("settings: %s", res.body)
			}
			audit, err := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &mustTenant(t, f.fixture, "chuxiong").ID, Action: "analysis.settings"})
			if err != nil || len(audit) != 1 {
				t.Fatalf("%d audit entries for the thresholds, want 1 (%v)", len(audit), err)
			}
			// The page: the sentences, each with its link; the form for the admin only.
			adminA, _ := webLogin(t, f.fixture, "adminA")
			page1 := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/analysis", nil)
			if page1.status != 200 || !strings.Contains(page1.body, "新出现「上水井盖」问题") || !strings.Contains(page1.body, `action="/t/chuxiong/analysis/settings"`) {
				t.Fatalf("analysis page: %d", page1.status)
			}
			viewer, _ := webLogin(t, f.fixture, "viewer")
			if p := webPage(t, f.fixture, viewer, "", "GET", "/t/chuxiong/analysis", nil); p.status != 200 || strings.Contains(p.body, "analysis/settings") {
				t.Fatalf("viewer's analysis page: %d", p.status)
			}
		})
	}
}

// TestEvaluationLiveScreen opens the big screen's stream and changes the history: the stream
// sends the new figures within two seconds. Without text/event-stream the feed answers JSON once.
func TestEvaluationLiveScreen(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	evalPlan(t, f.fixture, "chuxiong")
	adminA, _ := webLogin(t, f.fixture, "adminA")
	if p := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/evaluation/screen", nil); p.status != 200 || !strings.Contains(p.body, "城市运行指挥大屏") {
		t.Fatalf("screen page: %d", p.status)
	}
	if p := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/evaluation/live", nil); p.status != 200 || !strings.Contains(p.body, `"reported_today":0`) {
		t.Fatalf("live JSON: %d %s", p.status, p.body)
	}
	base := f.listen(t)
	req, _ := http.NewRequest("GET", "http://"+base+"/t/chuxiong/evaluation/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: adminA})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("stream content type %q", ct)
	}
	events := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
		close(events)
	}()
	if first := <-events; !strings.Contains(first, `"reported_today":0`) {
		t.Fatalf("first event: %s", first)
	}
	start := time.Now()
	f.report(t, "acceptorA", reportA)
	select {
	case ev := <-events:
		if !strings.Contains(ev, `"reported_today":1`) {
			t.Fatalf("update: %s", ev)
		}
		t.Logf("the screen's update came %v after the report", time.Since(start).Round(time.Millisecond))
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the update took %v, over 2 s", time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5 s of the report")
	}
	// Another county's admin gets no stream.
	adminB, _ := webLogin(t, f.fixture, "adminB")
	for _, path := range []string{"/t/chuxiong/evaluation/live", "/t/chuxiong/evaluation/screen"} {
		if p := webPage(t, f.fixture, adminB, "", "GET", path, nil); p.status != 404 {
			t.Fatalf("B's %s of A: %d", path, p.status)
		}
	}
	runScenarios(t, f.fixture, []scenario{
		{"B compares A's units", "adminB", "GET", "/api/v1/t/chuxiong/evaluation/units", "", 404, "", ""},
		{"A's units (none below a county)", "adminA", "GET", "/api/v1/t/chuxiong/evaluation/units", "", 200, `"units":[]`, ""},
	})
}
