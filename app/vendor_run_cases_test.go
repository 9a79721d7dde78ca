package app

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/exchange"
)

// TestCasesByImportRun: the case list's filter import_run lists the cases a vendor import run
// created or updated — not the cases the loop made, not those a re-run left unchanged — in the API
// and on the console (where a finished run links to it); another county's list with the same run
// is empty; a run id that is not a UUID, or holds a NUL byte, is a 400.
func TestCasesByImportRun(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			mapping := strings.NewReplacer(`"szgy"`, `"SZJ"`, `"cgj"`, `"HBJ"`, `"szcg"`, `"HBJ"`).Replace(vendorSample(t, "szcg-b.mapping.json"))
			f.mustDo(t, "adminA", "PUT", vendorsA+"/szcg-b/mapping", mapping, 200)
			ours := f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"self_handled":true}`)
			imp := func(data string) exchange.ImportReport {
				t.Helper()
				ct, body := multipartFile(t, "szcg-b.json", data)
				res := f.sendBody(t, "adminA", "POST", vendorsA+"/szcg-b/imports", ct, body)
				var rep exchange.ImportReport
				if err := json.Unmarshal([]byte(res.body), &rep); err != nil || res.status != 200 || rep.RunID == "" {
					t.Fatalf("import: %d %s", res.status, res.body)
				}
				return rep
			}
			listed := func(who, path string) []string {
				t.Helper()
				var page struct {
					Cases []caseView `json:"cases"`
				}
				json.Unmarshal([]byte(f.mustDo(t, who, "GET", path, "", 200).body), &page)
				var ids []string
				for _, c := range page.Cases {
					ids = append(ids, c.ID)
				}
				return ids
			}
			data := vendorSample(t, "szcg-b.json")
			first := imp(data)
			byFirst := listed("acceptorA", casesA+"?import_run="+first.RunID)
			if len(byFirst) != 2 || first.Created != 2 {
				t.Fatalf("run 1 created %d, the filter lists %v", first.Created, byFirst)
			}
			for _, id := range byFirst {
				if id == ours.ID {
					t.Fatalf("the loop's own case is listed under the import run")
				}
			}
			if all := listed("acceptorA", casesA); len(all) != 3 {
				t.Fatalf("the unfiltered list: %v", all)
			}
			// A corrected record: the run that updates it lists it, the first still lists both.
			second := imp(strings.Replace(data, "工地扬尘严重", "工地扬尘严重（已更正）", 1))
			bySecond := listed("acceptorA", casesA+"?import_run="+second.RunID)
			if second.Updated != 1 || second.Unchanged != 1 || len(bySecond) != 1 {
				t.Fatalf("run 2 updated %d, unchanged %d; the filter lists %v", second.Updated, second.Unchanged, bySecond)
			}
			if again := listed("acceptorA", casesA+"?import_run="+first.RunID); len(again) != 2 {
				t.Fatalf("run 1 after run 2: %v", again)
			}
			// With another filter too, and in upper case.
			if closed := listed("viewer", casesA+"?state=closed&import_run="+strings.ToUpper(first.RunID)); len(closed) != 1 {
				t.Fatalf("run 1's closed cases: %v", closed)
			}
			// Another county's list knows nothing of A's run.
			if b := listed("adminB", "/api/v1/t/wuding/cases?import_run="+first.RunID); len(b) != 0 {
				t.Fatalf("B's list under A's run: %v", b)
			}
			runScenarios(t, f.fixture, []scenario{
				{"B asks A's list", "adminB", "GET", casesA + "?import_run=" + first.RunID, "", 404, "", "b-77001"},
				{"not a UUID", "acceptorA", "GET", casesA + "?import_run=x", "", 400, `"field":"import_run"`, ""},
				{"a UUID with more", "acceptorA", "GET", casesA + "?import_run=" + url.QueryEscape("{"+first.RunID+"}"), "", 400, `"field":"import_run"`, ""},
				{"NUL", "acceptorA", "GET", casesA + "?import_run=%00" + first.RunID, "", 400, "", ""},
				{"GeoJSON too", "acceptorA", "GET", "/api/v1/t/chuxiong/cases.geojson?bbox=100,24,103,27&import_run=" + second.RunID, "", 200, `"number"`, ""},
			})

			// The console: the finished run links to its cases; the list keeps the filter.
			admin, _ := webLogin(t, f.fixture, "adminA")
			res := webPage(t, f.fixture, admin, "", "GET", vendorPagesA, nil)
			link := `href="/t/chuxiong/cases?import_run=` + second.RunID + `"`
			if res.status != 200 || !strings.Contains(res.body, link) {
				t.Fatalf("the runs lack %s", link)
			}
			for _, lang := range []string{"", "&lang=en"} {
				res = webPage(t, f.fixture, admin, "", "GET", "/t/chuxiong/cases?import_run="+second.RunID+lang, nil)
				if res.status != 200 || strings.Count(res.body, `<a href="/t/chuxiong/cases/`) != 1 ||
					!strings.Contains(res.body, `<input type="hidden" name="import_run" value="`+second.RunID+`">`) {
					t.Fatalf("the console's list of run 2 (%q): %d\n%s", lang, res.status, res.body)
				}
			}
			if !strings.Contains(res.body, "Only the cases import run "+second.RunID+" created or updated") {
				t.Fatalf("the English list does not say its filter")
			}
			res = webPage(t, f.fixture, admin, "", "GET", "/t/chuxiong/cases?import_run=nope", nil)
			if res.status != 400 || !strings.Contains(res.body, "import_run 必须是导入记录的编号") {
				t.Fatalf("the console's list with a bad run: %d", res.status)
			}
		})
	}
}
