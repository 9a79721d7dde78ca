package app

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// postEntityFile posts a vendor's file of one entity to the console's entity import as a
// logged-in user; fields are the form's other fields (vendor, entity, op).
func postEntityFile(t *testing.T, f *fixture, cookie, csrf, path, name, data string, fields map[string]string) *response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", csrf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if name != "" {
		p, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		p.Write([]byte(data))
	}
	w.Close()
	req := httptest.NewRequest("POST", path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "text/html")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestVendorEntityPages: on the vendor page the county's admin picks a vendor and an entity,
// uploads its file, dry-runs it (the report: counts, nothing written), imports it (the result,
// and a run naming the entity), and a file with an unmapped role is refused with the row and the
// value (422, nothing written); members and the prefecture's viewer get no form and 403 on the
// write, another county's admin 404; bad uploads are 400/415 on the page; in English no message
// id is left untranslated.
func TestVendorEntityPages(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			admin, adminCSRF := webLogin(t, f.fixture, "adminA")
			other, otherCSRF := webLogin(t, f.fixture, "adminB")
			viewer, viewerCSRF := webLogin(t, f.fixture, "viewer")
			leader, leaderCSRF := webLogin(t, f.fixture, "leadera")
			post := vendorPagesA + "/entities"

			// Without a mapping the admin is told to save one first.
			res := webPage(t, f.fixture, admin, "", "GET", vendorPagesA, nil)
			if res.status != 200 || !strings.Contains(res.body, `id="entities"`) || strings.Contains(res.body, `id="entity-import"`) {
				t.Fatalf("admin's page without a mapping: %d", res.status)
			}
			f.mustDo(t, "adminA", "PUT", "/api/v1/t/chuxiong/exchange/vendors/szcg-a/mapping", vendorSample(t, "szcg-a.mapping.json"), 200)
			res = webPage(t, f.fixture, admin, "", "GET", vendorPagesA, nil)
			for _, want := range []string{`id="entity-import"`, `<option value="szcg-a">szcg-a</option>`, `<option value="departments">部门</option>`, `<option value="staff">人员</option>`} {
				if !strings.Contains(res.body, want) {
					t.Fatalf("the admin's page lacks %s", want)
				}
			}
			for who, c := range map[string]string{"viewer": viewer, "leader": leader} {
				res := webPage(t, f.fixture, c, "", "GET", vendorPagesA, nil)
				if res.status != 200 || strings.Contains(res.body, `id="entities"`) {
					t.Fatalf("%s's page: %d (the entity form: %t)", who, res.status, strings.Contains(res.body, `id="entities"`))
				}
			}

			depts := vendorSample(t, "szcg-a-departments.csv")
			form := func(entity, op string) map[string]string {
				return map[string]string{"vendor": "szcg-a", "entity": entity, "op": op}
			}
			for _, tc := range []struct {
				who, cookie, csrf string
				status            int
			}{{"another county's admin", other, otherCSRF, 404}, {"the prefecture's viewer", viewer, viewerCSRF, 403}, {"a leader", leader, leaderCSRF, 403}} {
				if res := postEntityFile(t, f.fixture, tc.cookie, tc.csrf, post, "d.csv", depts, form("departments", "import")); res.status != tc.status {
					t.Fatalf("%s imports departments: %d, want %d", tc.who, res.status, tc.status)
				}
			}
			// On its own page, B has no mapping of that vendor: nothing of A's is found.
			if res := postEntityFile(t, f.fixture, other, otherCSRF, "/t/wuding/exchange/vendors/entities", "d.csv", depts, form("departments", "import")); res.status != 404 {
				t.Fatalf("another county's admin on its own page with A's vendor: %d", res.status)
			}

			// Bad uploads: on the page, beside the form.
			for _, bad := range []struct {
				name, file, data string
				fields           map[string]string
				status           int
				want             string
			}{
				{"no file", "", "", form("departments", "dry_run"), 400, "multipart"},
				{"empty", "d.csv", "", form("departments", "dry_run"), 400, "文件为空"},
				{"a .txt file", "d.txt", depts, form("departments", "dry_run"), 415, "CSV"},
				{"unknown entity", "d.csv", depts, form("roads", "dry_run"), 400, "roads"},
				{"bad vendor", "d.csv", depts, map[string]string{"vendor": "SZCG A", "entity": "departments"}, 400, "不是有效的厂商名"},
				{"vendor without mapping", "d.csv", depts, map[string]string{"vendor": "szcg-z", "entity": "departments"}, 404, "szcg-z"},
				{"NUL in the vendor", "d.csv", depts, map[string]string{"vendor": "szcg\x00a", "entity": "departments"}, 400, ""},
			} {
				res := postEntityFile(t, f.fixture, admin, adminCSRF, post, bad.file, bad.data, bad.fields)
				if res.status != bad.status || !strings.Contains(res.body, bad.want) {
					t.Errorf("%s: %d, want %d with %q\n%.1500s", bad.name, res.status, bad.status, bad.want, res.body)
				}
				if bad.status != 415 && bad.name != "NUL in the vendor" && !strings.Contains(res.body, `id="entities"`) {
					t.Errorf("%s: the page lacks the form", bad.name)
				}
			}

			// Dry run: the report, nothing written.
			res = postEntityFile(t, f.fixture, admin, adminCSRF, post, "szcg-a-departments.csv", depts, form("departments", "dry_run"))
			if res.status != 200 || !strings.Contains(res.body, `id="entity-report"`) || !strings.Contains(res.body, "部门：试运行报告（映射版本 1）") {
				t.Fatalf("dry run: %d\n%s", res.status, res.body)
			}
			if m := regexp.MustCompile(`<strong>(\d+)</strong>新建`).FindStringSubmatch(res.body); m == nil || m[1] != "4" {
				t.Fatalf("the dry run would create %v, want 4", m)
			}
			if strings.Contains(res.body, "exchange.vendors.kept") || strings.Contains(res.body, ">保留<") {
				t.Fatalf("an entity's report shows kept cases")
			}
			if res := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/exchange/imports", "", 200); res.body != "[]" {
				t.Fatalf("the dry run wrote a run: %s", res.body)
			}

			// Import, in order; again: unchanged.
			for _, fl := range []struct{ entity, file, created string }{{"departments", "szcg-a-departments.csv", "4"}, {"grids", "szcg-a-grids.csv", "5"},
				{"components", "szcg-a-components.csv", "4"}, {"staff", "szcg-a-staff.csv", "6"}} {
				res := postEntityFile(t, f.fixture, admin, adminCSRF, post, fl.file, vendorSample(t, fl.file), form(fl.entity, "import"))
				if m := regexp.MustCompile(`<strong>(\d+)</strong>新建`).FindStringSubmatch(res.body); res.status != 200 || m == nil || m[1] != fl.created ||
					!strings.Contains(res.body, "导入结果") {
					t.Fatalf("import %s: %d, created %v, want %s\n%s", fl.entity, res.status, m, fl.created, res.body)
				}
				res = postEntityFile(t, f.fixture, admin, adminCSRF, post, fl.file, vendorSample(t, fl.file), form(fl.entity, "import"))
				if m := regexp.MustCompile(`<strong>(\d+)</strong>未变`).FindStringSubmatch(res.body); res.status != 200 || m == nil || m[1] != fl.created {
					t.Fatalf("import %s again: %d, unchanged %v", fl.entity, res.status, m)
				}
			}
			runScenarios(t, f.fixture, []scenario{
				{"the departments are there", "adminA", "GET", "/api/v1/t/chuxiong/departments", "", 200, "市政公用局", ""},
				{"the runs name their entity", "viewer", "GET", "/api/v1/t/chuxiong/exchange/imports", "", 200, `"entity":"staff"`, ""},
			})
			// An entity's run does not link to the case list.
			res = webPage(t, f.fixture, viewer, "", "GET", vendorPagesA, nil)
			if res.status != 200 || strings.Contains(res.body, `class="open-cases"`) {
				t.Fatalf("the viewer's runs: %d (a link to the cases: %t)", res.status, strings.Contains(res.body, `class="open-cases"`))
			}

			// A role no table knows: 422 with its row and value, nothing written.
			staff := vendorSample(t, "szcg-a-staff.csv") + "A0007,钱网格,13800000007,数字城管中心,网格员\n"
			res = postEntityFile(t, f.fixture, admin, adminCSRF, post+"?lang=en", "s.csv", staff, form("staff", "import"))
			if res.status != 422 || !strings.Contains(res.body, `<mark class="unmapped">网格员</mark>`) || !strings.Contains(res.body, `<td class="num">8</td>`) ||
				!strings.Contains(res.body, "Staff: import result") {
				t.Fatalf("unmapped role: %d\n%s", res.status, res.body)
			}
			if m := regexp.MustCompile(`>[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*<|(title|aria-label|placeholder)="[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*"`).FindString(res.body); m != "" {
				t.Errorf("the page in English: untranslated %s", m)
			}
			if res := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/staff", "", 200); strings.Contains(res.body, "钱网格") {
				t.Fatalf("the refused file wrote a staff member")
			}
			f.mustAudit(t, "exchange.vendor_import")
		})
	}
}

// TestVendorPagesHistorySheet: the mapping editor on an XLSX sample with the history on a sheet
// of its own: the admin picks the sheet, the history's columns and code tables come from it, the
// preview maps the records with their rows from it, the saved mapping names the sheet and its
// record id column, and the dry run reads the two sheets; a sheet the file lacks is refused beside
// its field.
func TestVendorPagesHistorySheet(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			admin, csrf := webLogin(t, f.fixture, "adminA")
			res := uploadSample(t, f.fixture, admin, csrf, "szcg-c", "szcg-c.xlsx", vendorSample(t, "szcg-c.xlsx"))
			loc := res.header.Get("Location")
			if res.status != 303 {
				t.Fatalf("upload: %d\n%s", res.status, res.body)
			}
			token := strings.TrimPrefix(loc, vendorPagesA+"/szcg-c/edit?sample=")
			res = webPage(t, f.fixture, admin, "", "GET", loc, nil)
			if res.status != 200 || !strings.Contains(res.body, `<option value="流转记录">流转记录</option>`) || strings.Contains(res.body, `id="history-record-id"`) {
				t.Fatalf("the editor on the first sheet: %d", res.status)
			}
			edit := vendorPagesA + "/szcg-c/edit"
			form := szcgAForm(token, "refresh")
			form.Set("history_sheet", "流转记录")
			res = webPage(t, f.fixture, admin, csrf, "POST", edit, form)
			for _, want := range []string{`<option value="流转记录" selected>`, `id="history-record-id"`, `<option value="所属案件">所属案件</option>`,
				`<input type="hidden" name="state.v" value="核实派遣">`} {
				if res.status != 200 || !strings.Contains(res.body, want) {
					t.Fatalf("the editor on the history sheet lacks %s (%d)", want, res.status)
				}
			}
			bad := szcgAForm(token, "preview")
			bad.Set("history_sheet", "第九页")
			if res := webPage(t, f.fixture, admin, csrf, "POST", edit, bad); res.status != 400 || !strings.Contains(res.body, "第九页") {
				t.Fatalf("a sheet the file lacks: %d", res.status)
			}
			full := func(op string) url.Values {
				form := szcgAForm(token, op)
				form.Set("history_sheet", "流转记录")
				form.Set("history_record_id", "所属案件")
				for i, v := range form["state.v"] {
					if v == "核查" {
						form["state.t"][i] = "check"
					}
				}
				return form
			}
			res = webPage(t, f.fixture, admin, csrf, "POST", edit, full("preview"))
			if res.status != 200 || !strings.Contains(res.body, `data-record="C2024000202"`) || strings.Contains(res.body, `<mark class="unmapped">`) {
				t.Fatalf("preview: %d\n%s", res.status, res.body)
			}
			res = webPage(t, f.fixture, admin, csrf, "POST", edit, full("save"))
			if res.status != 303 {
				t.Fatalf("save: %d\n%s", res.status, res.body)
			}
			if m := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/exchange/vendors/szcg-c/mapping", "", 200).body; !strings.Contains(m, `"sheet":"流转记录"`) ||
				!strings.Contains(m, `"record_id":"所属案件"`) {
				t.Fatalf("the saved mapping: %s", m)
			}
			res = webPage(t, f.fixture, admin, csrf, "POST", vendorPagesA+"/szcg-c/run", url.Values{"sample": {token}, "op": {"dry_run"}})
			if m := regexp.MustCompile(`<strong>(\d+)</strong>新建`).FindStringSubmatch(res.body); res.status != 200 || m == nil || m[1] != "3" {
				t.Fatalf("dry run: %d %v\n%s", res.status, m, res.body)
			}
			// The editor opened again reads the saved mapping's sheet.
			res = webPage(t, f.fixture, admin, "", "GET", loc+"&lang=en", nil)
			if res.status != 200 || !strings.Contains(res.body, `<option value="所属案件" selected>`) || !strings.Contains(res.body, "The worksheet of the history") {
				t.Fatalf("the editor again: %d", res.status)
			}
			if m := regexp.MustCompile(`>[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*<|(title|aria-label|placeholder)="[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*"`).FindString(res.body); m != "" {
				t.Errorf("the editor in English: untranslated %s", m)
			}
		})
	}
}
