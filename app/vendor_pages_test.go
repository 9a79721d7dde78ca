package app

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
)

// The vendor import's console pages (platform/exchange vendor_pages.go). They are tested here,
// not in platform/exchange: the console's session, CSRF check and tenant resolution that decide
// who gets a page (another county's admin a 404, the prefecture's viewer a 403 on writes) are the
// app's.

const vendorPagesA = "/t/chuxiong/exchange/vendors"

// uploadSample posts a vendor's file to the editor's upload as a logged-in user.
func uploadSample(t *testing.T, f *fixture, cookie, csrf, vendor, name, data string) *response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", csrf)
	w.WriteField("vendor", vendor)
	if name != "" {
		p, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		p.Write([]byte(data))
	}
	w.Close()
	req := httptest.NewRequest("POST", vendorPagesA+"/sample", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "text/html")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// szcgAForm is the editor's form for the szcg-a sample as an admin fills it: every column, the
// state table without 核查 (left unmapped), and the departments onto this fixture's SZJ and HBJ.
func szcgAForm(token, op string) url.Values {
	form := url.Values{"sample": {token}, "op": {op}}
	for f, col := range map[string]string{"record_id": "案件编号", "number": "案件编号", "reported_at": "上报时间", "source": "问题来源",
		"kind": "案件类型", "class_code": "小类", "description": "问题描述", "address": "地址", "lon": "经度", "lat": "纬度",
		"grid_code": "所属网格", "department": "处置部门", "reporter_name": "举报人", "reporter_phone": "联系电话"} {
		form.Set("f."+f, col)
	}
	for f, col := range map[string]string{"state": "环节", "at": "操作时间", "actor": "操作人", "department": "操作部门", "remark": "意见"} {
		form.Set("h."+f, col)
	}
	pairs := func(table string, kv ...string) {
		for i := 0; i < len(kv); i += 2 {
			form.Add(table+".v", kv[i])
			form.Add(table+".t", kv[i+1])
		}
	}
	pairs("kind", "部件", "component", "事件", "event")
	pairs("state", "上报", "report", "受理", "accept", "立案", "file", "派遣", "dispatch", "处置反馈", "feedback", "核实派遣", "send_verify",
		"核实", "verify", "处置", "take", "核查派遣", "send_check", "核查", "", "结案", "close", "不予立案", "void")
	pairs("source", "监督员上报", "inspector", "公众举报", "citizen", "视频监控", "video")
	pairs("department", "市政公用局", "SZJ", "城市管理局", "HBJ", "数字城管中心", "SZJ")
	return form
}

// TestVendorPages: the county's admin uploads a sample, gets the editor filled from the Chinese
// headers, previews (the unmapped step is shown), saves, dry-runs and imports in the background
// until the run is done; the prefecture's viewer and a member read the page and change nothing
// (403); another county's admin gets 404 everywhere; a bad upload is a 400 on the page.
func TestVendorPages(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			admin, adminCSRF := webLogin(t, f.fixture, "adminA")
			other, otherCSRF := webLogin(t, f.fixture, "adminB")
			viewer, viewerCSRF := webLogin(t, f.fixture, "viewer")
			leader, leaderCSRF := webLogin(t, f.fixture, "leadera")
			sample := vendorSample(t, "szcg-a.csv")

			// The list: the admin gets the upload, the others read.
			res := webPage(t, f.fixture, admin, "", "GET", vendorPagesA, nil)
			if res.status != 200 || !strings.Contains(res.body, `id="vendor-upload"`) {
				t.Fatalf("admin's page: %d\n%s", res.status, res.body)
			}
			for who, c := range map[string]string{"viewer": viewer, "leader": leader} {
				res := webPage(t, f.fixture, c, "", "GET", vendorPagesA, nil)
				if res.status != 200 || strings.Contains(res.body, `id="vendor-upload"`) {
					t.Fatalf("%s's page: %d (an upload form: %t)", who, res.status, strings.Contains(res.body, `id="vendor-upload"`))
				}
			}
			if res := webPage(t, f.fixture, other, "", "GET", vendorPagesA, nil); res.status != 404 {
				t.Fatalf("another county's admin reads the page: %d", res.status)
			}

			// Uploads: refused for everyone but the admin, and bad files are 400 on the page.
			if res := uploadSample(t, f.fixture, other, otherCSRF, "szcg-a", "szcg-a.csv", sample); res.status != 404 {
				t.Fatalf("another county's admin uploads: %d", res.status)
			}
			if res := uploadSample(t, f.fixture, viewer, viewerCSRF, "szcg-a", "szcg-a.csv", sample); res.status != 403 {
				t.Fatalf("the prefecture's viewer uploads: %d", res.status)
			}
			if res := uploadSample(t, f.fixture, leader, leaderCSRF, "szcg-a", "szcg-a.csv", sample); res.status != 403 {
				t.Fatalf("a leader uploads: %d", res.status)
			}
			for _, bad := range []struct{ name, vendor, file, data, want string }{
				{"no file", "szcg-a", "", "", "multipart"},
				{"empty", "szcg-a", "a.csv", "", "文件为空"},
				{"not an array", "szcg-b", "b.json", `{"a":1}`, "JSON 文件必须是记录数组"},
				{"broken record", "szcg-b", "b.json", `[{"a":1}, 3]`, "第 2 条记录"},
				{"no header", "szcg-a", "a.csv", "\n\n", "没有表头"},
				{"bad vendor", "SZCG A", "a.csv", sample, "不是有效的厂商名"},
			} {
				res := uploadSample(t, f.fixture, admin, adminCSRF, bad.vendor, bad.file, bad.data)
				if res.status != 400 || !strings.Contains(res.body, bad.want) || !strings.Contains(res.body, `id="vendor-upload"`) {
					t.Errorf("%s: %d, want 400 with %q on the page\n%.2000s", bad.name, res.status, bad.want, res.body)
				}
			}
			if res := uploadSample(t, f.fixture, admin, adminCSRF, "szcg-a", "a.txt", sample); res.status != 415 {
				t.Errorf("a .txt file: %d, want 415", res.status)
			}

			// The sample: the editor, filled by guessing from the headers.
			res = uploadSample(t, f.fixture, admin, adminCSRF, "szcg-a", "szcg-a.csv", sample)
			loc := res.header.Get("Location")
			if res.status != 303 || !strings.HasPrefix(loc, vendorPagesA+"/szcg-a/edit?sample=") {
				t.Fatalf("upload: %d %s\n%s", res.status, loc, res.body)
			}
			token := strings.TrimPrefix(loc, vendorPagesA+"/szcg-a/edit?sample=")
			edit := vendorPagesA + "/szcg-a/edit"
			res = webPage(t, f.fixture, admin, "", "GET", loc, nil)
			if res.status != 200 {
				t.Fatalf("editor: %d\n%s", res.status, res.body)
			}
			for _, want := range []string{`<option value="案件编号" selected>`, `name="f.lat"><option value="">`, `<option value="纬度" selected>`,
				`<input type="hidden" name="state.v" value="核查">`, `<option value="check" selected>`, `<input type="hidden" name="kind.v" value="部件">`,
				`<input type="hidden" name="source.v" value="视频监控">`, `<input type="hidden" name="department.v" value="数字城管中心">`,
				`<input type="hidden" name="class.v" value="0201">`} {
				if !strings.Contains(res.body, want) {
					t.Errorf("the editor lacks %s", want)
				}
			}
			// In English too, with no message id left untranslated.
			res = webPage(t, f.fixture, admin, "", "GET", loc+"&lang=en", nil)
			if res.status != 200 || !strings.Contains(res.body, "Edit the mapping") {
				t.Fatalf("the editor in English: %d", res.status)
			}
			if m := regexp.MustCompile(`>[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*<|(title|aria-label|placeholder)="[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*"`).FindString(res.body); m != "" {
				t.Errorf("the editor in English: untranslated %s", m)
			}
			if res := webPage(t, f.fixture, other, "", "GET", loc, nil); res.status != 404 {
				t.Fatalf("another county's admin opens the editor: %d", res.status)
			}
			if res := webPage(t, f.fixture, viewer, "", "GET", "/t/chuxiong/exchange/vendors/szcg-a/edit?sample="+token, nil); res.status != 403 {
				t.Fatalf("the viewer opens the editor: %d", res.status)
			}
			if res := webPage(t, f.fixture, admin, adminCSRF, "POST", edit, szcgAForm("gone", "preview")); res.status != 400 || !strings.Contains(res.body, "请重新上传") {
				t.Fatalf("a sample that is gone: %d", res.status)
			}
			if res := webPage(t, f.fixture, other, otherCSRF, "POST", edit, szcgAForm(token, "preview")); res.status != 404 {
				t.Fatalf("another county's admin previews: %d", res.status)
			}

			// A JSON sample: the history's member and its entries' members are recognised.
			res = uploadSample(t, f.fixture, admin, adminCSRF, "szcg-b", "szcg-b.json", vendorSample(t, "szcg-b.json"))
			if res.status != 303 {
				t.Fatalf("JSON upload: %d\n%s", res.status, res.body)
			}
			res = webPage(t, f.fixture, admin, "", "GET", res.header.Get("Location"), nil)
			for _, want := range []string{`<option value="流转记录" selected>`, `<option value="环节名称" selected>`, `<option value="案卷标识" selected>`,
				`<option value="X坐标" selected>`, `<input type="hidden" name="state.v" value="案件上报">`, `<option value="report" selected>`} {
				if !strings.Contains(res.body, want) {
					t.Errorf("the JSON editor lacks %s", want)
				}
			}
			// The user's sample is one: the JSON upload replaced the CSV's.
			if res := webPage(t, f.fixture, admin, "", "GET", loc, nil); res.status != 400 {
				t.Fatalf("the replaced sample: %d", res.status)
			}
			res = uploadSample(t, f.fixture, admin, adminCSRF, "szcg-a", "szcg-a.csv", sample)
			loc = res.header.Get("Location")
			token = strings.TrimPrefix(loc, vendorPagesA+"/szcg-a/edit?sample=")

			// The preview: record A2024000102 passes 核查 unmapped; nothing is saved.
			res = webPage(t, f.fixture, admin, adminCSRF, "POST", edit, szcgAForm(token, "preview"))
			if res.status != 200 {
				t.Fatalf("preview: %d\n%s", res.status, res.body)
			}
			for _, want := range []string{`id="preview-result"`, `<mark class="unmapped">核查</mark>`, `data-record="A2024000101"`,
				`<td class="value ours">component</td>`, "未能对应的取值", "不在映射的代码对照表中"} {
				if !strings.Contains(res.body, want) {
					t.Errorf("the preview lacks %s\n%.3000s", want, res.body[strings.Index(res.body, "preview-result"):])
				}
			}
			if res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/exchange/vendors/szcg-a/mapping", ""); res.status != 404 {
				t.Fatalf("the preview saved a mapping: %d", res.status)
			}
			// A bad form is refused beside its field.
			bad := szcgAForm(token, "preview")
			bad.Set("f.lat", "")
			if res := webPage(t, f.fixture, admin, adminCSRF, "POST", edit, bad); res.status != 400 || !strings.Contains(res.body, "lat") {
				t.Fatalf("a mapping without lat: %d", res.status)
			}
			bad = szcgAForm(token, "preview")
			bad["state.t"][0] = "jump"
			if res := webPage(t, f.fixture, admin, adminCSRF, "POST", edit, bad); res.status != 400 || !strings.Contains(res.body, "jump") {
				t.Fatalf("a state mapped to no action: %d", res.status)
			}
			if res := webPage(t, f.fixture, viewer, viewerCSRF, "POST", edit, szcgAForm(token, "save")); res.status != 403 {
				t.Fatalf("the viewer saves: %d", res.status)
			}

			// Save (with 核查 mapped), dry run, import.
			full := szcgAForm(token, "save")
			for i, v := range full["state.v"] {
				if v == "核查" {
					full["state.t"][i] = "check"
				}
			}
			res = webPage(t, f.fixture, admin, adminCSRF, "POST", edit, full)
			if res.status != 303 || !strings.Contains(res.header.Get("Location"), "saved=1") {
				t.Fatalf("save: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
			}
			res = webPage(t, f.fixture, admin, "", "GET", res.header.Get("Location"), nil)
			if res.status != 200 || !strings.Contains(res.body, "当前已保存版本：1") || !strings.Contains(res.body, "映射已保存为新版本") {
				t.Fatalf("after saving: %d", res.status)
			}
			run := vendorPagesA + "/szcg-a/run"
			if res := webPage(t, f.fixture, viewer, viewerCSRF, "POST", run, url.Values{"sample": {token}, "op": {"import"}}); res.status != 403 {
				t.Fatalf("the viewer imports: %d", res.status)
			}
			if res := webPage(t, f.fixture, other, otherCSRF, "POST", run, url.Values{"sample": {token}, "op": {"import"}}); res.status != 404 {
				t.Fatalf("another county's admin imports: %d", res.status)
			}
			res = webPage(t, f.fixture, admin, adminCSRF, "POST", run, url.Values{"sample": {token}, "op": {"dry_run"}})
			if res.status != 200 || !strings.Contains(res.body, `id="report"`) || !strings.Contains(res.body, "试运行") {
				t.Fatalf("dry run: %d\n%s", res.status, res.body)
			}
			if m := regexp.MustCompile(`<strong>(\d+)</strong>新建`).FindStringSubmatch(res.body); m == nil || m[1] != "3" {
				t.Fatalf("the dry run would create %v, want 3", m)
			}
			res = webPage(t, f.fixture, admin, adminCSRF, "POST", run, url.Values{"sample": {token}, "op": {"import"}})
			if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), vendorPagesA+"?done=") {
				t.Fatalf("import: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
			}
			var runs []struct {
				State        string
				RecordsDone  int `json:"records_done"`
				RecordsTotal int `json:"records_total"`
				Created      int
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/exchange/imports", "")
				json.Unmarshal([]byte(res.body), &runs)
				if len(runs) == 1 && runs[0].State == "done" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the import did not end: %s", res.body)
				}
			}
			if r := runs[0]; r.RecordsDone != 3 || r.RecordsTotal != 3 || r.Created != 3 {
				t.Fatalf("the run: %+v", r)
			}
			res = webPage(t, f.fixture, viewer, "", "GET", vendorPagesA, nil)
			if res.status != 200 || !strings.Contains(res.body, `data-running="false"`) || !strings.Contains(res.body, "3 / 3 条") ||
				!strings.Contains(res.body, `href="/t/chuxiong/cases?import_run=`) {
				t.Fatalf("the runs as the viewer reads them: %d\n%s", res.status, res.body)
			}
			f.mustAudit(t, "exchange.vendor_import")
			f.mustAudit(t, "exchange.vendor_mapping")
		})
	}
}

// mustAudit fails unless tenant A's audit log holds action.
func (f *caseFixture) mustAudit(t *testing.T, action string) {
	t.Helper()
	entries, err := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &mustTenant(t, f.fixture, "chuxiong").ID, Action: action})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no %s in the audit log (%v)", action, err)
	}
}
