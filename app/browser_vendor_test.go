package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// TestBrowserVendor: the county's admin imports a vendor's history in the console. She opens the
// history import page, uploads the szcg-a sample (CSV), keeps the columns the editor guessed from
// the Chinese headers, maps the vendor's departments onto the county's, previews (a record mapped
// onto our fields and loop), saves the mapping, dry-runs and imports the file, waits for the run
// to finish on the page (which follows a run's progress without reloading), and opens the case
// list, where the imported cases are.
func TestBrowserVendor(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	sample, err := filepath.Abs("../platform/exchange/testdata/vendors/szcg-a.csv")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.listen(t))
	s := b.user("adminA")
	s.login("adminA@test.cn", testPassword)
	s.visit("/t/chuxiong")
	s.clickTo(`nav.sections a[href="/t/chuxiong/exchange/vendors"]`, "/t/chuxiong/exchange/vendors")
	s.waitText("h1", "历史数据导入")
	s.shot("vendors-empty")

	s.fill("#vendor-name", "szcg-a")
	s.upload("#vendor-file", sample)
	s.clickTo("#vendor-upload", "/t/chuxiong/exchange/vendors/szcg-a/edit?sample=")
	s.waitText("#sample-info", "szcg-a.csv")
	for sel, want := range map[string]string{"#f-record_id": "案件编号", "#f-class_code": "小类", "#f-lon": "经度", "#f-lat": "纬度",
		"#f-reported_at": "上报时间", "#h-state": "环节", "#h-at": "操作时间"} {
		if got := eval[string](s, `document.querySelector(`+jsQuote(sel)+`).value`); got != want {
			t.Errorf("%s preselects %q, want %q", sel, got, want)
		}
	}
	// The steps were recognised; the departments are the county's to choose.
	if got := eval[string](s, `(function(){var r=[...document.querySelectorAll('#code-state tr')].find(function(tr){return tr.querySelector('input[value="核查"]')});return r?r.querySelector('select').value:''})()`); got != "check" {
		t.Fatalf("核查 maps to %q, want check", got)
	}
	s.shot("editor")
	picked := eval[int](s, `(function(){var ours={"市政公用局":"SZJ","城市管理局":"HBJ","数字城管中心":"SZJ"},n=0;
		document.querySelectorAll('#code-department tr').forEach(function(tr){var v=tr.querySelector('input[name="department.v"]');
		if(v&&ours[v.value]){tr.querySelector('select').value=ours[v.value];n++}});return n})()`)
	if picked != 3 {
		t.Fatalf("the department table offered %d of the sample's 3 departments", picked)
	}

	s.click("#preview")
	s.waitText("#preview-result", "A2024000101")
	rec := `#preview-result section[data-record="A2024000101"]`
	if got := s.text(rec + ` tr[data-field="class_code"] td.ours`); got != "0101" {
		t.Fatalf("the previewed record's class is %q", got)
	}
	if got := s.text(rec + ` tr[data-field="kind"] td.ours`); got != "component" {
		t.Fatalf("the previewed record's kind is %q", got)
	}
	if hist := s.text(rec + ` table.preview-history`); !strings.Contains(hist, "立案") || !strings.Contains(hist, "处置反馈") {
		t.Fatalf("the previewed history: %q", hist)
	}
	if n := eval[int](s, `document.querySelectorAll('#preview-result section.record.bad').length`); n != 0 {
		t.Fatalf("%d previewed records have problems: %s", n, s.text("#preview-result"))
	}
	s.shot("preview")

	s.click("#save")
	s.waitLocation("/t/chuxiong/exchange/vendors/szcg-a/edit?sample=")
	s.waitText("#current-version", "1")
	s.click("#dry-run")
	s.waitText("#report-summary", "3")
	s.shot("dry-run")

	s.clickTo("#import", "/t/chuxiong/exchange/vendors?done=")
	eval[bool](s, `window.__vendorPage = true`)
	s.waitText(`#vendor-runs tr[data-state="done"]`, "3 / 3")
	if !eval[bool](s, `window.__vendorPage === true`) {
		t.Fatal("the page reloaded while following the import")
	}
	s.shot("imported")

	// The page follows a run's progress without reloading: a run going at 1 of 3, then done.
	tn := mustTenant(t, f.fixture, "chuxiong")
	setRun := func(state string, done int) {
		t.Helper()
		if err := f.app.store.Tx(tenants.WithScope(context.Background(), tenants.SystemScope(tn)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE vendor_runs SET state = ?, records_done = ?", state, done).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	setRun("running", 1)
	s.visit("/t/chuxiong/exchange/vendors")
	s.waitText(`#vendor-runs tr[data-state="running"]`, "1 / 3")
	eval[bool](s, `window.__vendorPage = true`)
	s.shot("progress")
	setRun("done", 3)
	s.waitText(`#vendor-runs tr[data-state="done"]`, "3 / 3")
	if !eval[bool](s, `window.__vendorPage === true && document.getElementById('vendor-runs').dataset.running === 'false'`) {
		t.Fatal("the progress did not update in place")
	}

	s.clickTo(`#vendor-runs a.open-cases`, "/t/chuxiong/cases")
	main := s.text("main")
	if n := strings.Count(main, "532301-2024-"); n != 3 {
		t.Fatalf("the case list shows %d imported cases, want 3:\n%s", n, main)
	}
	for _, when := range []string{"2024-03-01 08:30", "2024-03-02 10:05", "2024-03-05 21:15"} {
		if !strings.Contains(main, when) {
			t.Errorf("no case reported at %s in the list", when)
		}
	}
	s.shot("cases")
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
