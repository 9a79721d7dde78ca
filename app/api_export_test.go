package app

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cityops/cityops/tenants"
	"github.com/xuri/excelize/v2"
)

// mustArchive reads an export archive's files and its manifest.
func mustArchive(t *testing.T, body string) (map[string]string, tenants.ExportManifest) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip (%d bytes): %v\n%.300s", len(body), err, body)
	}
	files := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[zf.Name] = string(b)
	}
	var man tenants.ExportManifest
	if err := json.Unmarshal([]byte(files["manifest.json"]), &man); err != nil {
		t.Fatal(err)
	}
	return files, man
}

// mustSheetHas opens a workbook of the archive and reports whether its first sheet has a cell
// with text.
func mustSheetHas(t *testing.T, files map[string]string, workbook, text string) bool {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(files[workbook]))
	if err != nil {
		t.Fatalf("%s does not open: %v", workbook, err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, c := range r {
			if c == text {
				return true
			}
		}
	}
	return false
}

// TestExportPersonalDataAPI: the tenant admin downloads the export with the reporters' names and
// phones decrypted when asking with a reason (audited with it), and as ciphertext otherwise;
// every CSV has a BOM and the cases' workbook shows the Chinese name. Another tenant's admin gets
// 404, the prefecture viewer, a member who is not admin and operator support are refused, and
// bad input is a 4xx problem.
func TestExportPersonalDataAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			f.report(t, "acceptorA", reportA)
			const A = "/api/v1/t/chuxiong"
			clear := `{"personal_data":"clear","reason":"移交县档案馆"}`
			runScenarios(t, f.fixture, []scenario{
				{"B asks for A in clear", "adminB", "POST", A + "/export", clear, 404, "", "张三PII"},
				{"B reads A's handover", "adminB", "GET", A + "/export/handover", "", 404, "", ""},
				{"B waives for A", "adminB", "POST", A + "/export/waiver", `{"reason":"x"}`, 404, "", ""},
				{"viewer asks in clear", "viewer", "POST", A + "/export", clear, 403, "", "张三PII"},
				{"viewer reads the handover", "viewer", "GET", A + "/export/handover", "", 403, "", ""},
				{"viewer waives", "viewer", "POST", A + "/export/waiver", `{"reason":"x"}`, 403, "", ""},
				{"inspector asks in clear", "inspectorA", "POST", A + "/export", clear, 403, "tenant_admin", "张三PII"},
				{"acceptor asks in clear", "acceptorA", "POST", A + "/export", clear, 403, "tenant_admin", "张三PII"},
				{"inspector waives", "inspectorA", "POST", A + "/export/waiver", `{"reason":"x"}`, 403, "", ""},
				{"support asks in clear", "support", "POST", "/api/v1/tenants/chuxiong/export", clear, 403, "", "张三PII"},
				{"support waives", "support", "POST", "/api/v1/tenants/chuxiong/export/waiver", `{"reason":"x"}`, 403, "", ""},
				{"admin of B asks the operator's door", "adminB", "POST", "/api/v1/tenants/chuxiong/export", clear, 403, "", "张三PII"},
				{"no reason", "adminA", "POST", A + "/export", `{"personal_data":"clear"}`, 400, "reason", ""},
				{"blank reason", "adminA", "POST", A + "/export", `{"personal_data":"clear","reason":"  "}`, 400, "reason", ""},
				{"NUL in the reason", "adminA", "POST", A + "/export", `{"personal_data":"clear","reason":"a\u0000b"}`, 400, "reason", ""},
				{"reason too long", "adminA", "POST", A + "/export", `{"personal_data":"clear","reason":"` + strings.Repeat("长", 501) + `"}`, 400, "500", ""},
				{"no kind", "adminA", "POST", A + "/export", `{"reason":"x"}`, 400, "personal_data", ""},
				{"unknown kind", "adminA", "POST", A + "/export", `{"personal_data":"plain","reason":"x"}`, 400, "personal_data", ""},
				{"unknown member", "adminA", "POST", A + "/export", `{"personal_data":"clear","reason":"x","decrypt":true}`, 400, "decrypt", ""},
				{"not JSON", "adminA", "POST", A + "/export", `personal_data=clear`, 400, "", ""},
				{"waiver without a reason", "adminA", "POST", A + "/export/waiver", `{"reason":""}`, 400, "reason", ""},
				{"operator's door, unknown tenant", "operator", "POST", "/api/v1/tenants/nowhere/export", clear, 404, "", ""},
				{"handover", "adminA", "GET", A + "/export/handover", "", 200, `"records":1`, "exported"},
			})
			res, _ := f.do(t, "adminA", "GET", A+"/audit?action="+tenants.AuditExportPersonalData, "")
			if res.status != 200 || strings.Contains(res.body, tenants.AuditExportPersonalData) {
				t.Fatalf("refused exports were audited: %s", res.body)
			}

			// As stored: the name is ciphertext, and listed as such.
			res = f.mustDo(t, "adminA", "GET", A+"/export", "", 200)
			files, man := mustArchive(t, res.body)
			if man.PersonalData != tenants.PersonalDataEncrypted || strings.Contains(files["cases.json"], "张三PII") || !strings.Contains(files["cases.json"], `"reporter_name_enc":"kr:v1:`) {
				t.Fatalf("the export as stored: %s\n%s", man.PersonalData, files["cases.json"])
			}
			if mustSheetHas(t, files, "xlsx/cases.xlsx", "张三PII") {
				t.Fatal("the workbook of the export as stored has the name in clear")
			}
			if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "chuxiong-") || strings.Contains(cd, "personal") {
				t.Fatalf("Content-Disposition %q", cd)
			}

			// In clear, with the reason.
			res = f.mustDo(t, "adminA", "POST", A+"/export", clear, 200)
			if ct, cd := res.header.Get("Content-Type"), res.header.Get("Content-Disposition"); ct != "application/zip" || !strings.Contains(cd, "personal-data.zip") {
				t.Fatalf("%s, %s", ct, cd)
			}
			files, man = mustArchive(t, res.body)
			if man.PersonalData != tenants.PersonalDataClear || man.Reason != "移交县档案馆" || man.ExportedBy != "admina@test.cn" {
				t.Fatalf("manifest: %s %q %q", man.PersonalData, man.Reason, man.ExportedBy)
			}
			j := files["cases.json"]
			if !strings.Contains(j, `"reporter_name":"张三PII"`) || !strings.Contains(j, `"reporter_phone":"13800138000"`) || strings.Contains(j, "reporter_name_enc") {
				t.Fatalf("cases.json in clear:\n%s", j)
			}
			for _, et := range man.Tables {
				if !strings.HasPrefix(files[et.Name+".csv"], "\uFEFF") {
					t.Errorf("%s.csv has no BOM", et.Name)
				}
				if et.Name == "cases" && strings.Join(et.ClearColumns, ",") != "reporter_name,reporter_phone" {
					t.Errorf("cases: clear columns %v", et.ClearColumns)
				}
			}
			if !strings.Contains(files["cases.csv"], "张三PII") || !mustSheetHas(t, files, "xlsx/cases.xlsx", "张三PII") || !mustSheetHas(t, files, "xlsx/cases.xlsx", "井盖缺失") {
				t.Fatal("the CSV or the workbook lacks the Chinese text in clear")
			}
			res = f.mustDo(t, "adminA", "GET", A+"/audit?action="+tenants.AuditExportPersonalData, "", 200)
			if !strings.Contains(res.body, "移交县档案馆") || !strings.Contains(res.body, "admina@test.cn") {
				t.Fatalf("audit: %s", res.body)
			}
			res = f.mustDo(t, "adminA", "GET", A+"/export/handover", "", 200)
			var h tenants.Handover
			if json.Unmarshal([]byte(res.body), &h) != nil || h.Exported == nil || h.Exported.Reason != "移交县档案馆" || h.Needed() {
				t.Fatalf("handover: %s", res.body)
			}
			// B's own handover is B's.
			res = f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/export/handover", "", 200)
			if strings.Contains(res.body, "exported") || !strings.Contains(res.body, `"records":0`) {
				t.Fatalf("B's handover: %s", res.body)
			}
		})
	}
}

// TestOffboardWaitsForHandover: the operator's offboarding of a county holding personal data is
// refused, as a problem in the caller's language saying what to do, and changes nothing; after
// the tenant admin's waiver it goes ahead, and after the operator's own export in clear too.
func TestOffboardWaitsForHandover(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			f.report(t, "acceptorA", reportA)
			// B gets a reporter too.
			ctx := context.Background()
			tb := mustTenant(t, f.fixture, "wuding")
			acc := mustAccountFor(t, f, "acceptorB", tb, tenants.Acceptor)
			f.mustDo(t, acc, "POST", "/api/v1/t/wuding/cases", `{"source":"hotline","kind":"component","class_code":"0101","lon":102.4,"lat":25.5,"reporter_name":"李四PII"}`, 201)

			res := f.mustDo(t, "operator", "POST", "/api/v1/tenants/chuxiong/offboard", `{"confirm":"chuxiong"}`, 409)
			if !strings.Contains(res.body, "personal data in 1 records") || !strings.Contains(res.body, "waive") || res.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("refusal: %s", res.body)
			}
			req := httptest.NewRequest("POST", "/api/v1/tenants/chuxiong/offboard", strings.NewReader(`{"confirm":"chuxiong"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
			req.Header.Set("Accept-Language", "zh-CN")
			if res, _ := f.send(t, req); res.status != 409 || !strings.Contains(res.body, "注销前") && !strings.Contains(res.body, "再办理注销") {
				t.Fatalf("refusal in Chinese: %d %s", res.status, res.body)
			}
			if tn := mustTenant(t, f.fixture, "chuxiong"); tn.Status != tenants.StatusActive {
				t.Fatalf("after the refusal chuxiong is %s", tn.Status)
			}
			if ents, _ := f.app.blobs.List(ctx, "offboarding/"); len(ents) != 0 {
				t.Fatalf("a refused offboarding left %v", ents)
			}
			res = f.mustDo(t, "operator", "GET", "/api/v1/tenants/chuxiong/export/handover", "", 200)
			if !strings.Contains(res.body, `"records":1`) {
				t.Fatalf("handover: %s", res.body)
			}

			// The tenant admin waives; the operator offboards.
			res = f.mustDo(t, "adminA", "POST", "/api/v1/t/chuxiong/export/waiver", `{"reason":"县里已另存纸质台账"}`, 201)
			if !strings.Contains(res.body, "县里已另存纸质台账") || !strings.Contains(res.body, "admina@test.cn") {
				t.Fatalf("waiver: %s", res.body)
			}
			f.mustDo(t, "operator", "POST", "/api/v1/tenants/chuxiong/offboard", `{"confirm":"chuxiong"}`, 200)
			res = f.mustDo(t, "operator", "GET", "/api/v1/audit?action="+tenants.AuditExportWaived, "", 200)
			if !strings.Contains(res.body, "县里已另存纸质台账") {
				t.Fatalf("audit: %s", res.body)
			}

			// B: the operator takes the export in clear, then offboards.
			f.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/offboard", `{"confirm":"wuding"}`, 409)
			res = f.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/export", `{"personal_data":"clear","reason":"迁往新平台"}`, 200)
			files, man := mustArchive(t, res.body)
			if man.ExportedBy != "operator@test.cn" || !strings.Contains(files["cases.json"], "李四PII") {
				t.Fatalf("the operator's export: %q %s", man.ExportedBy, files["cases.json"])
			}
			f.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/offboard", `{"confirm":"wuding"}`, 200)
			if _, err := f.app.store.FindTenantBySlug(ctx, "wuding"); err == nil {
				t.Fatal("wuding is still there")
			}
			// No download left a file behind.
			if ents, _ := os.ReadDir(filepath.Join(f.app.exportDir(), ".spool")); len(ents) != 0 {
				t.Fatalf("spool: %v", ents)
			}
		})
	}
}

// mustAccountFor gives who a role in tn with an API token, in the fixture; it returns who.
func mustAccountFor(t *testing.T, f *caseFixture, who string, tn *tenants.Tenant, role tenants.Role) string {
	t.Helper()
	f.tokens[who], f.ids[who] = mustAccount(t, f.app.store, strings.ToLower(who)+"@test.cn", "", tn, role)
	return who
}

// TestExportConsoles: the county admin's data export page and the operator's tenant page offer
// the same: the export as stored, the export in clear with a reason (refused without one, on the
// page, in Chinese), the waiver, and the state of the handover; others are kept out.
func TestExportConsoles(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	f.report(t, "acceptorA", reportA)
	const page = "/t/chuxiong/admin/export"
	admin := adminLogin(t, f.fixture, "adminA")
	res := webPage(t, f.fixture, admin.cookie[len(sessionCookie)+1:], admin.csrf, "GET", page, nil)
	if res.status != 200 || !strings.Contains(res.body, "1 条记录含群众个人信息") || !strings.Contains(res.body, `action="`+page+`/waiver"`) {
		t.Fatalf("page: %d\n%s", res.status, res.body)
	}
	for _, who := range []string{"inspectorA", "viewer", "adminB"} {
		c, csrf := webLogin(t, f.fixture, who)
		want := 403
		if who == "adminB" {
			want = 404
		}
		for _, r := range []struct {
			method, path string
			form         url.Values
		}{{"GET", page, nil}, {"GET", page + "/download", nil}, {"POST", page, url.Values{"reason": {"x"}}}, {"POST", page + "/waiver", url.Values{"reason": {"x"}}}} {
			if res := webPage(t, f.fixture, c, csrf, r.method, r.path, r.form); res.status != want || strings.Contains(res.body, "张三PII") {
				t.Errorf("%s %s %s: %d, want %d", who, r.method, r.path, res.status, want)
			}
		}
	}
	cookie := admin.cookie[len(sessionCookie)+1:]
	// Without a reason: the page again, saying so.
	res = webPage(t, f.fixture, cookie, admin.csrf, "POST", page, url.Values{"reason": {" "}})
	if res.status != 400 || !strings.Contains(res.body, "请填写原因") || !strings.Contains(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("no reason: %d\n%s", res.status, res.body)
	}
	res = webPage(t, f.fixture, cookie, admin.csrf, "GET", page+"/download", nil)
	if files, man := mustArchive(t, res.body); man.PersonalData != tenants.PersonalDataEncrypted || strings.Contains(files["cases.json"], "张三PII") {
		t.Fatal("the plain download has the name in clear")
	}
	res = webPage(t, f.fixture, cookie, admin.csrf, "POST", page, url.Values{"reason": {"交接给县档案馆"}})
	if res.status != 200 || res.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export in clear: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if files, _ := mustArchive(t, res.body); !strings.Contains(files["cases.csv"], "张三PII") {
		t.Fatal("the console's export in clear lacks the name")
	}
	res = webPage(t, f.fixture, cookie, admin.csrf, "GET", page, nil)
	if !strings.Contains(res.body, "交接给县档案馆") || strings.Contains(res.body, `action="`+page+`/waiver"`) {
		t.Fatalf("page after the export:\n%s", res.body)
	}

	// The operator: offboarding wuding, which holds personal data, is refused on the page until
	// the waiver typed there.
	tb := mustTenant(t, f.fixture, "wuding")
	acc := mustAccountFor(t, f, "acceptorB", tb, tenants.Acceptor)
	f.mustDo(t, acc, "POST", "/api/v1/t/wuding/cases", `{"source":"hotline","kind":"component","class_code":"0101","lon":102.4,"lat":25.5,"reporter_phone":"139"}`, 201)
	oc, ocsrf := webLogin(t, f.fixture, "operator")
	res = webPage(t, f.fixture, oc, ocsrf, "GET", "/ops/tenants/wuding", nil)
	if !strings.Contains(res.body, "1 条记录含群众个人信息") || !strings.Contains(res.body, `action="/ops/tenants/wuding/export/waiver"`) {
		t.Fatalf("operator's page:\n%s", res.body)
	}
	res = webPage(t, f.fixture, oc, ocsrf, "POST", "/ops/tenants/wuding/offboard", url.Values{"confirm": {"wuding"}})
	if res.status != 409 || !strings.Contains(res.body, "声明无需导出") {
		t.Fatalf("offboarding refused: %d\n%s", res.status, res.body)
	}
	res = webPage(t, f.fixture, oc, ocsrf, "POST", "/ops/tenants/wuding/export/waiver", url.Values{"reason": {"a\x00b"}})
	if res.status != 400 {
		t.Fatalf("waiver with a NUL: %d", res.status)
	}
	res = webPage(t, f.fixture, oc, ocsrf, "POST", "/ops/tenants/wuding/export/waiver", url.Values{"reason": {"县里确认不需要"}})
	if res.status != 303 || !strings.Contains(res.header.Get("Location"), "done=export.msg.waived") {
		t.Fatalf("waiver: %d %s", res.status, res.header.Get("Location"))
	}
	if res = webPage(t, f.fixture, oc, ocsrf, "POST", "/ops/tenants/wuding/offboard", url.Values{"confirm": {"wuding"}}); res.status != 303 {
		t.Fatalf("offboarding after the waiver: %d\n%s", res.status, res.body)
	}
	// The operator's own export in clear of chuxiong, from its page.
	res = webPage(t, f.fixture, oc, ocsrf, "POST", "/ops/tenants/chuxiong/export", url.Values{"reason": {"运营方协助移交"}})
	if files, man := mustArchive(t, res.body); man.ExportedBy != "operator@test.cn" || !strings.Contains(files["cases.json"], "张三PII") {
		t.Fatalf("operator's export in clear: %q", man.ExportedBy)
	}
}

// TestCLIExportPersonalData: `tenants export --decrypt` needs a reason and writes the names in
// clear, audited; `tenants offboard` is refused until then, or until `tenants waive-export`.
func TestCLIExportPersonalData(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	f.report(t, "acceptorA", reportA)
	tb := mustTenant(t, f.fixture, "wuding")
	acc := mustAccountFor(t, f, "acceptorB", tb, tenants.Acceptor)
	f.mustDo(t, acc, "POST", "/api/v1/t/wuding/cases", `{"source":"hotline","kind":"component","class_code":"0101","lon":102.4,"lat":25.5,"reporter_name":"李四PII"}`, 201)
	// The command line works on the same data directory, beside the test's App.
	dir := f.app.cfg.DataDir
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	t.Setenv("LANG", "en_US.UTF-8")

	out := filepath.Join(t.TempDir(), "chuxiong.zip")
	if _, e, code := runCLI(t, "", "tenants", "export", "chuxiong", "--decrypt", "-o", out); code == 0 || !strings.Contains(e, "reason") {
		t.Fatalf("--decrypt without a reason: %d %s", code, e)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused export left a file: %v", err)
	}
	if _, e, code := runCLI(t, "", "tenants", "offboard", "chuxiong", "--confirm", "chuxiong"); code == 0 || !strings.Contains(e, "personal data in 1 records") {
		t.Fatalf("offboarding before the handover: %d %s", code, e)
	}
	o, e, code := runCLI(t, "", "tenants", "export", "chuxiong", "--decrypt", "--reason", "county archive", "-o", out)
	if code != 0 || !strings.Contains(o, "in clear") {
		t.Fatalf("export --decrypt: %d %s %s", code, o, e)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the archive in clear is readable by others: %v", fi.Mode())
	}
	files, man := mustArchive(t, string(b))
	if man.PersonalData != tenants.PersonalDataClear || man.Reason != "county archive" || man.ExportedBy != "system" || !strings.Contains(files["cases.json"], "张三PII") {
		t.Fatalf("archive: %+v", man)
	}
	if o, e, code := runCLI(t, "", "tenants", "offboard", "chuxiong", "--confirm", "chuxiong"); code != 0 || !strings.Contains(o, "offboarded") {
		t.Fatalf("offboarding after the export: %d %s %s", code, o, e)
	}
	if _, e, code := runCLI(t, "", "tenants", "waive-export", "wuding"); code == 0 || !strings.Contains(e, "reason") {
		t.Fatalf("waiver without a reason: %d %s", code, e)
	}
	if o, e, code := runCLI(t, "", "tenants", "waive-export", "wuding", "--reason", "not needed"); code != 0 || !strings.Contains(o, "waived") {
		t.Fatalf("waiver: %d %s %s", code, o, e)
	}
	if o, e, code := runCLI(t, "", "tenants", "offboard", "wuding", "--confirm", "wuding"); code != 0 || !strings.Contains(o, "offboarded") {
		t.Fatalf("offboarding after the waiver: %d %s %s", code, o, e)
	}
}

// TestBrowserExport: the county admin finds 数据导出 among the settings, types a reason and
// downloads the export with personal data in clear (the page stays where it is), and the page
// then shows whose export it was and why; the operator's tenant page shows the same.
func TestBrowserExport(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	f.report(t, "acceptorA", reportA)
	b := newBrowser(t, f.listen(t))
	s := b.user("admin")
	s.login("adminA@test.cn", testPassword)
	s.visit("/t/chuxiong/admin")
	s.clickTo(`nav.subnav a[href="/t/chuxiong/admin/export"]`, "/t/chuxiong/admin/export")
	s.waitText("#handover", "1 条记录含群众个人信息")
	s.shot("admin-export")
	s.fill("#export-reason", "移交县档案馆")
	// The answer is a download: the browser stays on the page, so no navigation is awaited.
	s.do(chromedp.Click(chromedp.CSS("#export-clear")))
	ta := mustTenant(t, f.fixture, "chuxiong")
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if h, err := f.app.store.FindHandover(context.Background(), ta); err == nil && h.Exported != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the form did not export: %s", s.text("main"))
		}
	}
	if loc := s.location(); loc != "/t/chuxiong/admin/export" {
		t.Fatalf("after the download the page is %s", loc)
	}
	s.visit("/t/chuxiong/admin/export")
	s.waitText("#handover", "移交县档案馆")
	s.shot("admin-export-done")

	op := b.user("operator")
	op.login("operator@test.cn", testPassword)
	op.visit("/ops/tenants/chuxiong")
	op.waitText("#handover", "移交县档案馆")
	op.shot("ops-tenant-handover")
}

// TestExportHead: a HEAD on the export's address (a link checker, a download manager probing)
// answers what a GET gives without building an archive or auditing a download nobody took.
func TestExportHead(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	const A = "/api/v1/t/chuxiong"
	res := f.mustDo(t, "adminA", "HEAD", A+"/export", "", 200)
	if res.body != "" {
		t.Fatalf("HEAD has a body: %.100s", res.body)
	}
	if audit := f.mustDo(t, "adminA", "GET", A+"/audit?action=tenant.export", "", 200).body; strings.Contains(audit, `"tenant.export"`) {
		t.Fatalf("a HEAD was audited as an export: %s", audit)
	}
	f.mustDo(t, "adminA", "GET", A+"/export", "", 200)
	if audit := f.mustDo(t, "adminA", "GET", A+"/audit?action=tenant.export", "", 200).body; !strings.Contains(audit, `"tenant.export"`) {
		t.Fatalf("the GET was not audited: %s", audit)
	}
}
