package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

// testPDFFont is the font the tests' App sets PDFs in: Debian's fonts-droid-fallback, which
// scripts/test.sh installs.
const testPDFFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// mustPDFText is the text of a PDF, by pdftotext (poppler-utils).
func mustPDFText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is missing: install poppler-utils (apt-get install -y poppler-utils) to read the bulletins' PDFs")
	}
	in := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestEvaluationBulletin: a tenant admin publishes the month's bulletin through the API (twice:
// versions 1 and 2, both readable) and downloads its XLSX and PDF; the prefecture's viewer reads
// and downloads but may not publish; tenant B sees none of it; a bad period names the field; a
// prefecture's bulletin ranks its counties; the console lists the bulletins; the schedule
// publishes last month's and last quarter's for the tenants whose plan has the evaluation.
func TestEvaluationBulletin(t *testing.T) {
	if _, err := os.Stat(testPDFFont); err != nil {
		t.Fatalf("the PDF font %s is missing: install fonts-droid-fallback", testPDFFont)
	}
	f := newCaseFixture(t, "sqlite")
	ctx := context.Background()
	for _, slug := range []string{"chuxiong", "chuxiong-zhou"} {
		if _, err := f.app.billing.SetPlan(ctx, mustTenant(t, f.fixture, slug), "", map[string]bool{evaluation.Entitlement: true}); err != nil {
			t.Fatal(err)
		}
	}
	pref := mustTenant(t, f.fixture, "chuxiong-zhou")
	f.tokens["adminPref"], f.ids["adminPref"] = mustAccount(t, f.app.store, "adminpref@test.cn", "", pref, tenants.TenantAdmin)
	// A prefecture's admin reads the counties only as a prefecture viewer too.
	if err := f.app.store.Grant(ctx, pref, uuid.MustParse(f.ids["adminPref"]), tenants.PrefectureViewer); err != nil {
		t.Fatal(err)
	}
	f.report(t, "acceptorA", reportA)
	now := time.Now().In(clock.China)
	month := evaluation.Month(now.Year(), now.Month()).Name
	list := "/api/v1/t/chuxiong/evaluation/bulletins"

	f.mustDo(t, "adminA", "POST", list, `{"period":"2026-13"}`, 400)
	if res := f.mustDo(t, "adminA", "POST", list, `{"period":"2026"}`, 400); !strings.Contains(res.body, `"period"`) {
		t.Fatalf("bad period: %s", res.body)
	}
	var v1, v2 evaluation.Bulletin
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "POST", list, `{"period":"`+month+`"}`, 201).body), &v1)
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "POST", list, `{"period":"`+month+`"}`, 201).body), &v2)
	if v1.Version != 1 || v2.Version != 2 || v1.PublishedBy != "admina@test.cn" {
		t.Fatalf("versions: %+v %+v", v1, v2)
	}
	for _, b := range []evaluation.Bulletin{v1, v2} {
		res := f.mustDo(t, "viewer", "GET", list+"/"+b.ID+".xlsx", "", 200)
		if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="evaluation-bulletin-chuxiong-`+month) || !strings.HasSuffix(cd, `.xlsx"`) {
			t.Fatalf("xlsx disposition: %s", cd)
		}
		x, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows("总体情况")
		if rows[0][0] != "楚雄市 "+month+" 综合评价通报" {
			t.Fatalf("xlsx title: %v", rows[0])
		}
		for i, r := range rows {
			if len(r) > 1 && r[0] == "上报数" && (len(rows) <= i+1 || rows[i+1][0] != "1") {
				t.Fatalf("xlsx reported: %v", rows[i+1])
			}
		}
		x.Close()
		res = f.mustDo(t, "viewer", "GET", list+"/"+b.ID+".pdf", "", 200)
		if res.header.Get("Content-Type") != "application/pdf" || !strings.Contains(res.header.Get("Content-Disposition"), ".pdf") {
			t.Fatalf("pdf headers: %v", res.header)
		}
		text := mustPDFText(t, []byte(res.body))
		for _, want := range []string{"楚雄市", "综合评价", month, "上报数", "案件来源"} {
			if !strings.Contains(text, want) {
				t.Errorf("pdf v%d lacks %q:\n%s", b.Version, want, text)
			}
		}
	}
	one := list + "/" + v1.ID
	runScenarios(t, f.fixture, []scenario{
		{"owner lists", "adminA", "GET", list, "", 200, v2.ID, ""},
		{"viewer lists", "viewer", "GET", list, "", 200, v1.ID, ""},
		{"viewer may not publish", "viewer", "POST", list, `{"period":"` + month + `"}`, 403, "", ""},
		{"inspector may not publish", "inspectorA", "POST", list, `{"period":"` + month + `"}`, 403, "", ""},
		{"B lists A", "adminB", "GET", list, "", 404, "", v1.ID},
		{"B reads A's xlsx", "adminB", "GET", one + ".xlsx", "", 404, "", ""},
		{"B reads A's pdf", "adminB", "GET", one + ".pdf", "", 404, "", ""},
		{"B publishes in A", "adminB", "POST", list, `{"period":"` + month + `"}`, 404, "", ""},
		{"A's bulletin in B", "adminB", "GET", "/api/v1/t/wuding/evaluation/bulletins/" + v1.ID + ".pdf", "", 403, "", ""},
		{"unknown bulletin", "adminA", "GET", list + "/nope.pdf", "", 404, "", ""},
	})

	// A supervision task of the prefecture, answered by chuxiong and scored: its score is in the
	// prefecture's bulletin and comparison (platform/guidance).
	var task struct{ ID string }
	json.Unmarshal([]byte(f.mustDo(t, "adminPref", "POST", "/api/v1/t/chuxiong-zhou/guidance/tasks", `{"title":"井盖专项检查","due":"2099-12-31","counties":["chuxiong"]}`, 201).body), &task)
	f.mustDo(t, "adminA", "POST", "/api/v1/t/chuxiong/guidance/assigned/"+task.ID+"/responses", `{"findings":"已检查"}`, 201)
	f.mustDo(t, "adminPref", "POST", "/api/v1/t/chuxiong-zhou/guidance/tasks/"+task.ID+"/counties/chuxiong/review", `{"verdict":"scored","score":85}`, 201)
	if res := f.mustDo(t, "adminPref", "GET", "/api/v1/t/chuxiong-zhou/evaluation/units?period="+month, "", 200); !strings.Contains(res.body, `"supervision":{"scored":1,"sum":85,"average":85}`) {
		t.Fatalf("units without the supervision score: %s", res.body)
	}
	// Weighed by the prefecture's scheme, the supervision score is the counties' composite: 85 for
	// chuxiong; wuding, given no task, has no score.
	f.mustDo(t, "adminPref", "POST", "/api/v1/t/chuxiong-zhou/evaluation/schemes",
		`{"effective_from":"2000-01-01","weights":{"counties":{"close_rate":0,"on_time_close_rate":0,"inspector_report_rate":0,"supervision_score":100}}}`, 201)
	var cmp evaluation.Comparison
	json.Unmarshal([]byte(f.mustDo(t, "adminPref", "GET", "/api/v1/t/chuxiong-zhou/evaluation/units?period="+month, "", 200).body), &cmp)
	for _, u := range cmp.Units {
		switch u.Key {
		case "chuxiong":
			if u.Score == nil || *u.Score != 85 || u.Values["supervision_score"] == nil || *u.Values["supervision_score"] != 0.85 || u.Rank != 1 {
				t.Fatalf("chuxiong under the supervision scheme: %+v", u)
			}
		case "wuding":
			if u.Score != nil {
				t.Fatalf("wuding scored without a task: %v", *u.Score)
			}
		}
	}

	// The prefecture's bulletin ranks its counties.
	var pb evaluation.Bulletin
	json.Unmarshal([]byte(f.mustDo(t, "adminPref", "POST", "/api/v1/t/chuxiong-zhou/evaluation/bulletins", `{"period":"`+month+`"}`, 201).body), &pb)
	x, err := excelize.OpenReader(bytes.NewReader([]byte(f.mustDo(t, "adminPref", "GET", "/api/v1/t/chuxiong-zhou/evaluation/bulletins/"+pb.ID+".xlsx", "", 200).body)))
	if err != nil {
		t.Fatal(err)
	}
	counties, _ := x.GetRows("县（市）")
	if len(counties) < 3 || !strings.Contains(joinCells(counties), "楚雄市") || !strings.Contains(joinCells(counties), "武定县") {
		t.Fatalf("counties sheet: %v", counties)
	}
	sup, _ := x.GetRows("监督检查评分与公众满意度")
	if len(sup) < 3 || !strings.Contains(joinCells(sup), "楚雄市") || !strings.Contains(joinCells(sup), "85") {
		t.Fatalf("supervision sheet: %v", sup)
	}
	x.Close()

	// The console lists them with their downloads and offers the form to the admin.
	cookie, csrf := webLogin(t, f.fixture, "adminA")
	page := webPage(t, f.fixture, cookie, csrf, "GET", "/t/chuxiong/evaluation", nil)
	if page.status != 200 || !strings.Contains(page.body, "评价通报") || !strings.Contains(page.body, v2.ID+".pdf") || !strings.Contains(page.body, `action="/t/chuxiong/evaluation/bulletins"`) {
		t.Fatalf("console: %d\n%s", page.status, page.body)
	}
	if res := webPage(t, f.fixture, cookie, csrf, "POST", "/t/chuxiong/evaluation/bulletins", map[string][]string{"period": {month}}); res.status != 303 {
		t.Fatalf("console publish: %d %s", res.status, res.body)
	}
	// A refused period comes back beside the form, as typed, with the page around it.
	for _, bad := range []string{"2026-13", "next month", "2999-01"} {
		res := webPage(t, f.fixture, cookie, csrf, "POST", "/t/chuxiong/evaluation/bulletins", map[string][]string{"period": {bad}})
		if res.status != 400 || !strings.Contains(res.body, `id="bulletin-error"`) || !strings.Contains(res.body, `value="`+bad+`"`) || !strings.Contains(res.body, "评价通报") {
			t.Fatalf("console publish of %q: %d\n%s", bad, res.status, res.body)
		}
	}

	// The schedule: last month's and last quarter's, for chuxiong and the prefecture, not wuding
	// (its plan lacks the evaluation), once however many passes run.
	var run func(ctx context.Context) error
	for _, l := range f.app.loops {
		if l.name == "evaluation bulletins" {
			run = l.run
		}
	}
	if run == nil {
		t.Fatal("no evaluation bulletins loop")
	}
	for range 2 {
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { run(lctx); close(done) }()
		time.Sleep(3 * time.Second)
		cancel()
		<-done
	}
	lastMonth := evaluation.Month(now.Year(), now.Month()).Previous().Name
	lastQuarter := evaluation.Quarter(now.Year(), int(now.Month()-1)/3+1).Previous().Name
	for who, path := range map[string]string{"adminA": list, "adminPref": "/api/v1/t/chuxiong-zhou/evaluation/bulletins"} {
		var got struct{ Bulletins []evaluation.Bulletin }
		json.Unmarshal([]byte(f.mustDo(t, who, "GET", path, "", 200).body), &got)
		n := map[string]int{}
		for _, b := range got.Bulletins {
			n[b.Period]++
			if b.Period != month && b.PublishedBy != "system" {
				t.Errorf("%s: %+v not by the schedule", path, b)
			}
		}
		if n[lastMonth] != 1 || n[lastQuarter] != 1 {
			t.Errorf("%s: scheduled %v, want one of %s and %s", path, n, lastMonth, lastQuarter)
		}
	}
	if _, err := f.app.billing.SetPlan(ctx, mustTenant(t, f.fixture, "wuding"), "", map[string]bool{evaluation.Entitlement: true}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Bulletins []evaluation.Bulletin }
	json.Unmarshal([]byte(f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/evaluation/bulletins", "", 200).body), &got)
	if len(got.Bulletins) != 0 {
		t.Errorf("wuding without the module got bulletins: %+v", got.Bulletins)
	}
}

func joinCells(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.String()
}
