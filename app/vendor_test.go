package app

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
)

const vendorsA = exA + "/vendors"

// vendorSample is a sample vendor file of platform/exchange's tests.
func vendorSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../platform/exchange/testdata/vendors/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// multipartFile is a form with the part "file" named name holding data.
func multipartFile(t *testing.T, name, data string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	p, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte(data))
	w.Close()
	return w.FormDataContentType(), buf.String()
}

// TestVendorImportAPI: the tenant's admin saves a mapping, dry-runs and imports a vendor's JSON
// export; the prefecture reads the mapping and the runs and changes nothing; another county gets
// 404 everywhere; bad input is a 4xx problem; the imported cases come back through the cases API
// with their history as the file had it.
func TestVendorImportAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			mapping := vendorSample(t, "szcg-b.mapping.json")
			// This fixture's departments are SZJ and HBJ.
			mapping = strings.NewReplacer(`"szgy"`, `"SZJ"`, `"cgj"`, `"HBJ"`, `"szcg"`, `"HBJ"`).Replace(mapping)
			put := vendorsA + "/szcg-b/mapping"
			runScenarios(t, f.fixture, []scenario{
				{"admin saves", "adminA", "PUT", put, mapping, 200, `"version":1`, ""},
				{"admin saves again", "adminA", "PUT", put, mapping, 200, `"version":2`, ""},
				{"admin reads", "adminA", "GET", put, "", 200, `"version":2`, ""},
				{"admin reads v1", "adminA", "GET", put + "?version=1", "", 200, `"version":1`, ""},
				{"bad version", "adminA", "GET", put + "?version=x", "", 400, `"field":"version"`, ""},
				{"viewer reads", "viewer", "GET", put, "", 200, `"vendor":"szcg-b"`, ""},
				{"viewer saves", "viewer", "PUT", put, mapping, 403, "", ""},
				{"inspector saves", "inspectorA", "PUT", put, mapping, 403, "", ""},
				{"B reads A's", "adminB", "GET", put, "", 404, "", "城管"},
				{"B saves A's", "adminB", "PUT", put, mapping, 404, "", ""},
				{"B has none", "adminB", "GET", "/api/v1/t/wuding/exchange/vendors/szcg-b/mapping", "", 404, "szcg-b", ""},
				{"other vendor's address", "adminA", "PUT", vendorsA + "/szcg-c/mapping", mapping, 400, `"field":"vendor"`, ""},
				{"unknown member", "adminA", "PUT", put, strings.Replace(mapping, `"vendor"`, `"colour": 1, "vendor"`, 1), 400, `"field":"colour"`, ""},
				{"unknown department", "adminA", "PUT", put, strings.Replace(mapping, `"SZJ"`, `"NOPE"`, 1), 400, `"field":"codes.department"`, ""},
				{"unknown class", "adminA", "PUT", put, strings.Replace(mapping, `"code": "0302"`, `"code": "9902"`, 1), 400, `"field":"codes.class"`, ""},
				{"not an action", "adminA", "PUT", put, strings.Replace(mapping, `"结案": "close"`, `"结案": "closed"`, 1), 400, `"field":"codes.state"`, ""},
				{"NUL", "adminA", "PUT", put, strings.Replace(mapping, `"问题描述"`, `"问题\u0000描述"`, 1), 400, `"field":"fields.description"`, ""},
				{"no runs yet", "adminA", "GET", exA + "/imports", "", 200, "[]", ""},
			})
			data := vendorSample(t, "szcg-b.json")
			imports := vendorsA + "/szcg-b/imports"
			ct, body := multipartFile(t, "szcg-b.json", data)
			for _, tc := range []struct {
				who, path string
				status    int
				want      string
			}{
				{"viewer", imports + "?dry_run=true", 403, ""},
				{"inspectorA", imports, 403, ""},
				{"adminB", imports, 404, ""},
				{"adminA", imports + "?dry_run=true", 200, `"created":2`},
				{"adminA", vendorsA + "/nobody/imports", 404, "nobody"},
			} {
				if res := f.sendBody(t, tc.who, "POST", tc.path, ct, body); res.status != tc.status || !strings.Contains(res.body, tc.want) {
					t.Fatalf("%s POST %s: %d %s", tc.who, tc.path, res.status, res.body)
				}
			}
			if res := f.sendBody(t, "adminA", "POST", imports, "application/json", data); res.status != 400 || !strings.Contains(res.body, `"field":"file"`) {
				t.Fatalf("not multipart: %d %s", res.status, res.body)
			}
			tct, tbody := multipartFile(t, "szcg-b.txt", data)
			if res := f.sendBody(t, "adminA", "POST", imports, tct, tbody); res.status != 415 {
				t.Fatalf("a .txt: %d %s", res.status, res.body)
			}
			bct, bbody := multipartFile(t, "bad.json", strings.Replace(data, `"案件受理"`, `"受理了"`, 1))
			res := f.sendBody(t, "adminA", "POST", imports, bct, bbody)
			if res.status != 422 || !strings.Contains(res.body, `"value":"受理了"`) || !strings.Contains(res.body, `"applied":false`) {
				t.Fatalf("unmapped: %d %s", res.status, res.body)
			}
			res = f.sendBody(t, "adminA", "POST", imports, ct, body)
			var rep exchange.ImportReport
			json.Unmarshal([]byte(res.body), &rep)
			if res.status != 200 || rep.Created != 2 || rep.Events != 15 || !rep.Applied {
				t.Fatalf("import: %d %s", res.status, res.body)
			}
			runScenarios(t, f.fixture, []scenario{
				{"admin lists runs", "adminA", "GET", exA + "/imports", "", 200, `"created":2`, ""},
				{"viewer lists runs", "viewer", "GET", exA + "/imports", "", 200, `"state":"done"`, ""},
				{"B lists A's runs", "adminB", "GET", exA + "/imports", "", 404, "", "sha256"},
				{"B's runs are B's", "adminB", "GET", "/api/v1/t/wuding/exchange/imports", "", 200, "[]", ""},
			})
			if again := f.sendBody(t, "adminA", "POST", imports, ct, body); again.status != 200 || !strings.Contains(again.body, `"unchanged":2`) {
				t.Fatalf("again: %d %s", again.status, again.body)
			}

			// Round trip: the cases API gives back what the file said.
			var src []map[string]any
			json.Unmarshal([]byte(data), &src)
			var list struct {
				Items []caseView `json:"cases"`
			}
			json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", casesA+"?limit=10", "", 200).body), &list)
			if len(list.Items) != 2 {
				t.Fatalf("cases: %+v", list.Items)
			}
			found := 0
			for _, item := range list.Items {
				var c caseView
				json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", casesA+"/"+item.ID, "", 200).body), &c)
				for _, rec := range src {
					hist := rec["流转记录"].([]any)
					if len(c.Events) == 0 || !strings.Contains(string(c.Events[0].Detail), `"record":"`+rec["案卷标识"].(string)+`"`) {
						continue
					}
					found++
					if len(c.Events) != len(hist) || c.Version != len(hist) {
						t.Fatalf("%s: %d events, want %d", rec["案卷标识"], len(c.Events), len(hist))
					}
					for i, h := range hist {
						hm := h.(map[string]any)
						at, err := time.ParseInLocation("2006-01-02T15:04:05", hm["处理时间"].(string), time.FixedZone("CST", 8*3600))
						if err != nil {
							at, _ = time.ParseInLocation("2006-01-02 15:04:05", hm["处理时间"].(string), time.FixedZone("CST", 8*3600))
						}
						e := c.Events[i]
						if !e.At.Equal(at) || e.ActorID != "import:szcg-b" || !strings.Contains(string(e.Detail), `"actor":"`+hm["处理人"].(string)+`"`) {
							t.Fatalf("%s event %d: %+v, want at %s", rec["案卷标识"], i, e, at)
						}
					}
					want := map[string]string{"b-77001": string(cases.ExtensionRequested), "b-77002": string(cases.Closed)}[rec["案卷标识"].(string)]
					if c.State != want {
						t.Fatalf("%s state %s, want %s", rec["案卷标识"], c.State, want)
					}
					if rec["案卷标识"] == "b-77001" && (c.Reporter == nil || c.Reporter.Name != "李四") {
						t.Fatalf("reporter: %+v", c.Reporter)
					}
				}
			}
			if found != 2 {
				t.Fatalf("%d of 2 records found back", found)
			}

			// The way back: the cases in the vendor's shape.
			exports := vendorsA + "/szcg-b/exports"
			runScenarios(t, f.fixture, []scenario{
				{"viewer exports", "viewer", "POST", exports, `{"format":"json"}`, 403, "", ""},
				{"inspector exports", "inspectorA", "POST", exports, `{"format":"json"}`, 403, "", ""},
				{"B exports A's", "adminB", "POST", exports, `{"format":"json"}`, 404, "", "李四"},
				{"B has no such mapping", "adminB", "POST", "/api/v1/t/wuding/exchange/vendors/szcg-b/exports", `{"format":"json"}`, 404, "szcg-b", ""},
				{"no format", "adminA", "POST", exports, `{}`, 400, `"field":"format"`, ""},
				{"wrong type", "adminA", "POST", exports, `{"format":"json","imported":"yes"}`, 400, "", ""},
				{"clear without reason", "adminA", "POST", exports, `{"format":"json","personal_data":"clear"}`, 400, `"field":"reason"`, ""},
				{"other personal data", "adminA", "POST", exports, `{"format":"json","personal_data":"plain"}`, 400, `"field":"personal_data"`, ""},
				{"as stored", "adminA", "POST", exports, `{"format":"json","imported":true}`, 200, `"案卷标识":"b-77001"`, "李四"},
				{"in clear", "adminA", "POST", exports, `{"format":"json","imported":true,"personal_data":"clear","reason":"核对"}`, 200, `"举报人姓名":"李四"`, ""},
			})
			res = f.mustDo(t, "adminA", "POST", exports, `{"format":"csv"}`, 200)
			if !strings.HasPrefix(res.body, "\ufeff案卷标识,") || !strings.Contains(res.body, "b-77002") {
				t.Fatalf("CSV export: %.300s", res.body)
			}
		})
	}
}
