package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
)

// TestVendorPullAPI: 武定县 pulls the requests of 楚雄市's Open311 server (ours, served on a
// port) into cases: its admin dry-runs and pulls, a re-pull changes nothing, and the cases API
// gives back what the Open311 server said; the prefecture's viewer and the county's inspector
// may not pull, 楚雄市's admin does not see 武定县's vendors; a vendor's server failing is a 502
// naming the page.
func TestVendorPullAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newO311Fixture(t, dialect)
			// 楚雄市 takes three requests through Open311 and voids the second.
			var ids []string
			for _, d := range []string{"井盖缺失一", "井盖缺失二", "井盖缺失三"} {
				var got []struct {
					ID string `json:"service_request_id"`
				}
				res := f.post(t, o311+"/requests.json", o311Form(f.keyA, "description", d), 200)
				if err := json.Unmarshal([]byte(res.body), &got); err != nil || len(got) != 1 {
					t.Fatalf("request: %v %s", err, res.body)
				}
				ids = append(ids, got[0].ID)
			}
			var c caseView
			json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", casesA+"/"+ids[1], "", 200).body), &c)
			f.act(t, "acceptorA", c, cases.Void, 200)
			addr := f.listen(t)

			const vendorsB = "/api/v1/t/wuding/exchange/vendors"
			mapping := `{"pull":{"kind":"open311","base_url":"http://` + addr + `/open311/v2","jurisdiction_id":"chuxiong"},
				"codes":{"class":{"component-0101":{"kind":"component","code":"0101"}}}}`
			day := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
			pulls := vendorsB + "/city311/pulls?from=" + day + "&to=" + day
			runScenarios(t, f.fixture, []scenario{
				{"admin saves", "adminB", "PUT", vendorsB + "/city311/mapping", mapping, 200, `"record_id":"service_request_id"`, ""},
				{"ftp", "adminB", "PUT", vendorsB + "/city311/mapping", strings.Replace(mapping, "http://", "ftp://", 1), 400, `"field":"pull.base_url"`, ""},
				{"user in the address", "adminB", "PUT", vendorsB + "/city311/mapping", strings.Replace(mapping, "http://", "http://u:p@", 1), 400, `"field":"pull.base_url"`, ""},
				{"viewer pulls", "viewer", "POST", pulls, "", 403, "", ""},
				{"another county's admin", "adminA", "POST", pulls, "", 404, "", ""},
				{"B's own vendor from A", "adminA", "POST", "/api/v1/t/chuxiong/exchange/vendors/city311/pulls", "", 404, "city311", ""},
				{"bad from", "adminB", "POST", vendorsB + "/city311/pulls?from=yesterday", "", 400, `"field":"from"`, ""},
				{"to before from", "adminB", "POST", vendorsB + "/city311/pulls?from=2024-05-01&to=2024-04-01", "", 400, `"field":"to"`, ""},
				{"dry run", "adminB", "POST", pulls + "&dry_run=true", "", 200, `"created":3`, ""},
			})
			var rep exchange.PullReport
			res := f.mustDo(t, "adminB", "POST", pulls, "", 200)
			if err := json.Unmarshal([]byte(res.body), &rep); err != nil || rep.ImportReport == nil || rep.Created != 3 || rep.Events != 4 || !rep.Applied ||
				rep.Pull.Kind != exchange.PullOpen311 || rep.Pull.Source != "http://"+addr+"/open311/v2/requests.json" {
				t.Fatalf("pull: %v %s", err, res.body)
			}
			// Our Open311 server has no paging: page 2 is page 1 again, and the pull stops there.
			if rep.Pull.Pages != 2 || rep.Pull.Pulled != 6 || rep.Pull.Duplicates != 3 {
				t.Fatalf("pages: %+v", rep.Pull)
			}
			runScenarios(t, f.fixture, []scenario{
				{"again", "adminB", "POST", pulls, "", 200, `"unchanged":3`, ""},
				{"runs", "adminB", "GET", "/api/v1/t/wuding/exchange/imports", "", 200, `"file_name":"pull http://` + addr + `/open311/v2/requests.json`, ""},
			})

			// Round trip: 武定县's cases say what 楚雄市's requests said.
			var list struct {
				Items []caseView `json:"cases"`
			}
			json.Unmarshal([]byte(f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/cases?limit=10", "", 200).body), &list)
			if len(list.Items) != 3 {
				t.Fatalf("cases: %+v", list.Items)
			}
			states := map[string]string{}
			for _, item := range list.Items {
				var c struct {
					caseView
					Description string
					ClassCode   string `json:"class_code"`
					Lon, Lat    float64
				}
				json.Unmarshal([]byte(f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/cases/"+item.ID, "", 200).body), &c)
				if c.ClassCode != "0101" || c.Lon != 101.505 || c.Lat != 25.005 || len(c.Events) != c.Version {
					t.Fatalf("case: %+v", c)
				}
				states[c.Description] = c.State
			}
			if states["井盖缺失一"] != string(cases.Reported) || states["井盖缺失二"] != string(cases.Closed) || states["井盖缺失三"] != string(cases.Reported) {
				t.Fatalf("states: %v", states)
			}

			// A status the state table lacks refuses the pull, as a file's value would.
			openOnly := strings.Replace(mapping, `"codes":{`, `"codes":{"state":{"open":"report"},`, 1)
			f.mustDo(t, "adminB", "PUT", vendorsB+"/city311/mapping", openOnly, 200)
			res = f.mustDo(t, "adminB", "POST", pulls, "", 422)
			if !strings.Contains(res.body, `"value":"closed"`) || !strings.Contains(res.body, `"applied":false`) || !strings.Contains(res.body, `"pulled":6`) {
				t.Fatalf("unmapped: %s", res.body)
			}

			// A vendor's server that answers 404 is the vendor's failing, not ours.
			f.mustDo(t, "adminB", "PUT", vendorsB+"/city311/mapping", strings.Replace(mapping, "/open311/v2", "/nowhere", 1), 200)
			res = f.mustDo(t, "adminB", "POST", pulls, "", 502)
			if !strings.Contains(res.body, `"code":"upstream"`) || !strings.Contains(res.body, "Page 1 of http://"+addr+"/nowhere/requests.json") ||
				!strings.Contains(res.body, "404 Not Found") {
				t.Fatalf("vendor 404: %s", res.body)
			}
		})
	}
}

// TestCLIVendorPull: the operator pulls a county's vendor records from the command line, with
// the credential set by cityops credentials and a window; the dry run prints what would happen,
// the pull what it did, a re-pull changes nothing.
func TestCLIVendorPull(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	if out, e, code := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s %s", out, e)
	}
	if out, e, code := runCLI(t, "", "tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329"); code != 0 {
		t.Fatalf("create: %s %s", out, e)
	}
	var mu sync.Mutex
	var seen []string
	records := vendorSample(t, "szcg-b.json")
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Api-Key")+" "+r.URL.RawQuery)
		mu.Unlock()
		if r.Header.Get("X-Api-Key") != "tok-1" {
			http.Error(w, `{"message":"bad key"}`, http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"result":{"rows":` + records + `}}`))
	}))
	defer vendor.Close()
	var m map[string]any
	if err := json.Unmarshal([]byte(vendorSample(t, "szcg-b.mapping.json")), &m); err != nil {
		t.Fatal(err)
	}
	delete(m["fields"].(map[string]any), "department")
	delete(m["codes"].(map[string]any), "department")
	m["pull"] = map[string]any{"kind": "json_pages", "base_url": vendor.URL + "/cases", "records": "result.rows",
		"window": map[string]string{"from": "start", "to": "end", "layout": time.DateOnly}, "auth": map[string]string{"header": "X-Api-Key"}}
	b, _ := json.Marshal(m)
	mapping := filepath.Join(dir, "szcg-b.mapping.json")
	if err := os.WriteFile(mapping, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, e, code := runCLI(t, "", "exchange", "pull", "wuding", mapping); code == 0 || !strings.Contains(e, "cityops credentials set wuding vendor_szcg-b") {
		t.Fatalf("no credential: %d %s %s", code, out, e)
	}
	if out, e, code := runCLI(t, "tok-1\n", "credentials", "set", "wuding", "vendor_szcg-b"); code != 0 {
		t.Fatalf("credential: %s %s", out, e)
	}
	for _, tc := range []struct {
		args []string
		ok   bool
		want string
	}{
		{[]string{"--from", "2024-04-01", "--to", "2024-04-30", "--dry-run"}, true, "Dry run of 2 records: 2 cases would be created"},
		{[]string{"--from", "2024-04-01", "--to", "2024-04-30"}, true, "2 records imported: 2 cases created"},
		{[]string{"--from", "2024-04-01", "--to", "2024-04-30"}, true, "0 cases created, 0 updated, 2 unchanged"},
		{[]string{"--from", "April"}, false, "from"},
	} {
		out, e, code := runCLI(t, "", append([]string{"exchange", "pull", "wuding", mapping}, tc.args...)...)
		if (code == 0) != tc.ok || !strings.Contains(out+e, tc.want) || (tc.ok && !strings.Contains(out, "pulled 2 records (1 pages")) {
			t.Fatalf("%v: %d\n%s\n%s", tc.args, code, out, e)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[0] != "tok-1 end=2024-05-01&start=2024-04-01" {
		t.Fatalf("the vendor saw %q", seen)
	}
}
