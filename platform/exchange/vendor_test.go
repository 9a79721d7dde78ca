package exchange_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// usageLog records what an import meters.
type usageLog struct {
	mu   sync.Mutex
	keys map[string]int64
}

func (u *usageLog) Record(_ context.Context, _ uuid.UUID, meter string, q int64, key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.keys == nil {
		u.keys = map[string]int64{}
	}
	u.keys[meter+" "+key] = q
	return nil
}

// failingCipher fails every encryption after the first ok ones.
type failingCipher struct {
	cases.Cipher
	mu sync.Mutex
	ok int
}

func (f *failingCipher) EncryptBatch(ctx context.Context, t uuid.UUID, p [][]byte) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ok <= 0 {
		return nil, &errs.Error{Code: errs.Unavailable, Message: "the key store is down"}
	}
	f.ok--
	return f.Cipher.EncryptBatch(ctx, t, p)
}

// vendorWorld is tenant A's world with the departments the sample mappings name.
type vendorWorld struct {
	*world
	usage *usageLog
	im    *exchange.Importer
	// changed counts the imports that told the evaluation its history changed.
	changed int
	depts   map[string]string // code → id
}

func newVendorWorld(t testing.TB, e *platformtest.Env, chunk int) *vendorWorld {
	t.Helper()
	w := newWorld(t, e, exchange.Config{})
	o := org.NewService(e.Store, nil, w.grids.Index())
	vw := &vendorWorld{world: w, usage: &usageLog{}, depts: map[string]string{}}
	for code, name := range map[string]string{"szgy": "市政公用局", "cgj": "城市管理局", "szcg": "数字城管中心"} {
		d, err := o.CreateDepartment(e.A, org.DepartmentInput{Code: code, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		vw.depts[code] = d.ID
	}
	vw.im = exchange.NewImporter(exchange.ImporterConfig{Gate: e.Store, Cipher: w.keys, Usage: vw.usage, Classes: catalog.NewEntries(), Chunk: chunk,
		HistoryChanged: func(_ context.Context, t uuid.UUID) { vw.changed++ }})
	return vw
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vendors", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (vw *vendorWorld) mustMapping(ctx context.Context, name string) *exchange.Mapping {
	vw.t.Helper()
	m, err := exchange.ParseMapping(mustRead(vw.t, name))
	if err != nil {
		vw.t.Fatal(err)
	}
	if m, err = vw.im.EnsureMapping(ctx, m); err != nil {
		vw.t.Fatal(err)
	}
	return m
}

func memFile(name string, data []byte) exchange.VendorFile {
	return exchange.VendorFile{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func (vw *vendorWorld) mustImport(ctx context.Context, vendor string, f exchange.VendorFile, dry bool) *exchange.ImportReport {
	vw.t.Helper()
	rep, err := vw.im.Import(ctx, f, exchange.ImportOptions{Vendor: vendor, DryRun: dry})
	if err != nil {
		vw.t.Fatal(err)
	}
	if !rep.OK() {
		vw.t.Fatalf("problems: %+v", rep.Problems)
	}
	return rep
}

func (vw *vendorWorld) count(ctx context.Context, query string, args ...any) int {
	vw.t.Helper()
	var n int
	if err := vw.e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw(query, args...).Scan(ctx, &n)
	}); err != nil {
		vw.t.Fatal(err)
	}
	return n
}

func (vw *vendorWorld) caseOf(ctx context.Context, vendor, record string) *cases.Case {
	vw.t.Helper()
	var id string
	if err := vw.e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT case_id FROM vendor_records WHERE vendor = ? AND record_id = ?", vendor, record).Scan(ctx, &id)
	}); err != nil {
		vw.t.Fatal(err)
	}
	// As the tenant's admin sees it: the reporter in clear.
	admin := tenants.WithScope(ctx, &tenants.Scope{Tenant: vw.e.TenantA, Roles: []tenants.Role{tenants.TenantAdmin}})
	c, err := vw.cs.FindCaseByID(admin, id)
	if err != nil {
		vw.t.Fatal(err)
	}
	return c
}

// TestVendorMappingCheck: a mapping is checked on save, field by field; versions are kept; only
// the tenant's admins save; another tenant does not see it.
func TestVendorMappingCheck(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		// Without its departments section: a mapping that imports departments may name those it
		// has yet to import (TestVendorEntities).
		good := strings.Replace(string(mustRead(t, "szcg-a.mapping.json")),
			`"departments": {"fields": {"code": "部门编码", "name": "部门名称", "parent": "上级部门编码", "phone": "联系电话"}},`, "", 1)
		for _, tc := range []struct {
			name, from, to, field string
		}{
			{"vendor", `"vendor": "szcg-a"`, `"vendor": "SZCG A"`, "vendor"},
			{"unknown field", `"record_id": "案件编号"`, `"record_id": "案件编号", "colour": "颜色"`, "fields.colour"},
			{"required field", `"lon": "经度",`, ``, "fields.lon"},
			{"history at", `"at": "操作时间",`, ``, "history.fields.at"},
			{"action", `"上报": "report"`, `"上报": "shout"`, "codes.state"},
			{"source", `"视频监控": "video"`, `"视频监控": "tv"`, "codes.source"},
			{"department", `"市政公用局": "szgy"`, `"市政公用局": "nope"`, "codes.department"},
			{"kind", `"部件": "component"`, `"部件": "building"`, "codes.kind"},
			{"class", `"kind": {`, `"class": {"X": {"kind": "event", "code": "9999"}}, "kind": {`, "codes.class"},
			{"NUL", `"address": "地址"`, `"address": "地\u0000址"`, "fields.address"},
		} {
			m, err := exchange.ParseMapping([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatalf("%s: parse: %v", tc.name, err)
			}
			_, err = vw.im.PutMapping(e.A, m)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (field %q), want invalid %s", tc.name, err, errs.FieldOf(err), tc.field)
			}
		}
		if _, err := exchange.ParseMapping([]byte(strings.Replace(good, `"vendor"`, `"vendor": "x", "extra"`, 1))); !errs.Is(err, errs.Invalid) {
			t.Errorf("unknown member: %v", err)
		}
		m := vw.mustMapping(e.A, "szcg-a.mapping.json")
		if m.Version != 1 {
			t.Fatalf("version %d", m.Version)
		}
		if again := vw.mustMapping(e.A, "szcg-a.mapping.json"); again.Version != 1 {
			t.Fatalf("the same mapping again made version %d", again.Version)
		}
		m.Codes.Source["城管通"] = cases.FromInspector
		if m2, err := vw.im.PutMapping(e.A, m); err != nil || m2.Version != 2 {
			t.Fatalf("second version: %+v %v", m2, err)
		}
		if old, err := vw.im.FindMapping(e.A, "szcg-a", 1); err != nil || old.Version != 1 || old.Codes.Source["城管通"] != "" {
			t.Fatalf("version 1: %+v %v", old, err)
		}
		if _, err := vw.im.PutMapping(e.View, m); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("prefecture viewer saved: %v", err)
		}
		if got, err := vw.im.FindMapping(e.View, "szcg-a", 0); err != nil || got.Version != 2 {
			t.Fatalf("prefecture viewer reads: %+v %v", got, err)
		}
		if _, err := vw.im.FindMapping(e.B, "szcg-a", 0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("tenant B sees A's mapping: %v", err)
		}
		if _, err := vw.im.Import(e.View, memFile("a.csv", mustRead(t, "szcg-a.csv")), exchange.ImportOptions{Vendor: "szcg-a", DryRun: true}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("prefecture viewer imported: %v", err)
		}
		if _, err := vw.im.Import(e.B, memFile("a.csv", mustRead(t, "szcg-a.csv")), exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("tenant B imports with A's mapping: %v", err)
		}
	})
}

// TestVendorImportCSV: the dry run writes nothing; the import makes the cases as their last
// history row left them, with the history as recorded (original times, marked imported); a
// re-run changes nothing; a corrected file updates; a changed past is refused; a case the loop
// took on is kept.
func TestVendorImportCSV(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 2)
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		data := mustRead(t, "szcg-a.csv")

		dry := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", data), true)
		if dry.Records != 3 || dry.Rows != 18 || dry.Created != 3 || dry.Events != 17 || dry.Applied || dry.RunID != "" {
			t.Fatalf("dry run: %+v", dry)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 0 {
			t.Fatalf("the dry run wrote %d cases", n)
		}
		if !strings.Contains(dry.Summary(msg.ZH), "试运行 3 条记录") {
			t.Fatalf("summary: %s", dry.Summary(msg.ZH))
		}

		rep := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", data), false)
		if rep.Created != 3 || rep.Events != 17 || !rep.Applied || rep.RunID == "" {
			t.Fatalf("import: %+v", rep)
		}
		if vw.changed != 1 {
			t.Fatalf("the evaluation was told %d times", vw.changed)
		}
		if q := vw.usage.keys["cases_created vendor-import:"+rep.RunID]; q != 3 || len(vw.usage.keys) != 1 {
			t.Fatalf("usage: %v", vw.usage.keys)
		}
		c := vw.caseOf(e.A, "szcg-a", "A2024000102")
		if c.State != cases.Closed || c.Version != 10 || c.Kind != catalog.Event || c.ClassCode != "0102" || c.Source != cases.FromCitizen ||
			c.Description != "路边暴露垃圾" || c.GridCode == nil || *c.GridCode != "53230100100102" || c.DepartmentID == nil || *c.DepartmentID != vw.depts["cgj"] ||
			c.ClosedAt == nil || !strings.HasPrefix(c.Number, "532301-2024-") || c.Reporter == nil || c.Reporter.Name != "张三" || c.Reporter.Phone != "13800000000" {
			t.Fatalf("case: %+v reporter %+v", c, c.Reporter)
		}
		if c.ReporterPhoneEnc == nil || strings.Contains(*c.ReporterPhoneEnc, "13800000000") {
			t.Fatalf("phone not sealed: %v", c.ReporterPhoneEnc)
		}
		first, last := c.Events[0], c.Events[len(c.Events)-1]
		want := time.Date(2024, 3, 2, 2, 5, 0, 0, time.UTC) // 10:05 China time
		if first.Action != cases.Report || !first.At.Equal(want) || first.ActorID != "import:szcg-a" || first.From != "" || first.To != cases.Reported ||
			last.Action != cases.Close || last.From != string(cases.Checked) || last.Version != 10 || !c.CreatedAt.Equal(want) {
			t.Fatalf("events: %+v … %+v", first, last)
		}
		var d struct {
			Imported map[string]string `json:"imported"`
		}
		if err := json.Unmarshal(c.Events[2].Detail, &d); err != nil || d.Imported["actor"] != "李监督" || d.Imported["state"] != "核实" ||
			d.Imported["run"] != rep.RunID || c.Events[2].Reason != "情况属实" {
			t.Fatalf("detail: %s %v", c.Events[2].Detail, err)
		}
		if v := vw.caseOf(e.A, "szcg-a", "A2024000103"); v.State != cases.Voided || v.Stage != "" || v.DepartmentID != nil {
			t.Fatalf("voided: %+v", v)
		}
		open := vw.caseOf(e.A, "szcg-a", "A2024000101")
		if open.State != cases.FedBack || open.Stage != cases.StageSendCheck || open.Source != cases.FromInspector || open.Events[0].Post != tenants.Inspector {
			t.Fatalf("open case: %+v", open)
		}

		// The same file again changes nothing.
		again := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", data), false)
		if again.Unchanged != 3 || again.Created+again.Updated+again.Events != 0 || vw.changed != 1 {
			t.Fatalf("again: %+v", again)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM case_events"); n != 17 {
			t.Fatalf("%d events after a re-run", n)
		}

		// A corrected file: a description fixed and the open case's history went on.
		fixed := strings.ReplaceAll(string(data), "上水井盖缺失", "上水井盖缺失（已核）")
		fixed = afterLine(fixed, "已更换井盖", "A2024000101,部件,01,0101,监督员上报,2024-03-01 08:30:00,上水井盖缺失（已核）,鹿城镇南路12号,101.505,25.005,53230100100101,市政公用局,,,核查派遣,2024-03-01 16:00:00,王受理,数字城管中心,")
		up := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", []byte(fixed)), false)
		if up.Updated != 1 || up.Unchanged != 2 || up.Events != 1 {
			t.Fatalf("corrected: %+v", up)
		}
		open = vw.caseOf(e.A, "szcg-a", "A2024000101")
		if open.State != cases.Checking || open.Version != 6 || open.Description != "上水井盖缺失（已核）" || open.Number != c.Number[:12]+open.Number[12:] {
			t.Fatalf("updated: %+v", open)
		}

		// A past history row changed: refused as a whole.
		past := strings.Replace(fixed, "已更换井盖", "更换了井盖", 1)
		rej, err := vw.im.Import(e.A, memFile("szcg-a.csv", []byte(past)), exchange.ImportOptions{Vendor: "szcg-a"})
		if err != nil || rej.OK() || rej.Applied || rej.Problems[0].Key != "A2024000101" || rej.Problems[0].Row != 6 {
			t.Fatalf("changed past: %+v %v", rej, err)
		}

		// The case loop takes an imported case on: its record is kept as the loop left it.
		acceptor := tenants.WithScope(vw.staff, &tenants.Scope{Tenant: e.TenantA, Roles: []tenants.Role{tenants.Acceptor, tenants.Inspector}})
		if _, err := vw.cs.Act(acceptor, open.ID, cases.Check, cases.ActionInput{Version: open.Version, Passed: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		more := afterLine(fixed, "2024-03-01 16:00:00", "A2024000101,部件,01,0101,监督员上报,2024-03-01 08:30:00,上水井盖缺失（已核）,鹿城镇南路12号,101.505,25.005,53230100100101,市政公用局,,,核查,2024-03-01 17:00:00,李监督,数字城管中心,")
		kept := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", []byte(more)), false)
		if kept.Kept != 1 || kept.Updated != 0 {
			t.Fatalf("kept: %+v", kept)
		}
		if got := vw.caseOf(e.A, "szcg-a", "A2024000101"); got.Version != 7 || got.Events[6].ActorID == "import:szcg-a" {
			t.Fatalf("the loop's event was touched: %+v", got.Events[6])
		}
		runs, err := vw.im.FindRuns(e.View)
		if err != nil || len(runs) != 4 || runs[0].State != "done" {
			t.Fatalf("runs: %+v %v", runs, err)
		}
		if runs, err := vw.im.FindRuns(e.B); err != nil || len(runs) != 0 {
			t.Fatalf("tenant B sees runs: %+v %v", runs, err)
		}
	})
}

// TestVendorImportFormats: the JSON profile with nested history, and the CSV profile as XLSX and
// as GB18030 text, import the same cases.
func TestVendorImportFormats(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		vw.mustMapping(e.A, "szcg-b.mapping.json")
		rep := vw.mustImport(e.A, "szcg-b", memFile("szcg-b.json", mustRead(t, "szcg-b.json")), false)
		if rep.Created != 2 || rep.Events != 15 {
			t.Fatalf("json: %+v", rep)
		}
		c := vw.caseOf(e.A, "szcg-b", "b-77001")
		if c.State != cases.ExtensionRequested || c.Source != cases.FromHotline || c.Kind != catalog.Event || c.ClassCode != "0302" ||
			*c.DepartmentID != vw.depts["cgj"] || c.Reporter.Name != "李四" || c.Lon != 101.507 {
			t.Fatalf("json case: %+v", c)
		}
		if c2 := vw.caseOf(e.A, "szcg-b", "b-77002"); c2.State != cases.Closed || c2.Kind != catalog.Component || c2.ClassCode != "0102" || c2.ReporterNameEnc != nil {
			t.Fatalf("json case 2: %+v", c2)
		}

		// The CSV profile's file as an XLSX workbook, and as GB18030 text.
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(mustRead(t, "szcg-a.csv"), []byte("\xEF\xBB\xBF")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		x := excelize.NewFile()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			row := make([]any, len(r))
			for j := range r {
				row[j] = r[j]
			}
			if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		xr := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.xlsx", buf.Bytes()), true)
		if xr.Records != 3 || xr.Created != 3 || xr.Events != 17 {
			t.Fatalf("xlsx: %+v", xr)
		}
		gb, err := gb18030(bytes.TrimPrefix(mustRead(t, "szcg-a.csv"), []byte("\xEF\xBB\xBF")))
		if err != nil {
			t.Fatal(err)
		}
		if gr := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", gb), false); gr.Created != 3 || gr.Events != 17 {
			t.Fatalf("gb18030: %+v", gr)
		}
		if c := vw.caseOf(e.A, "szcg-a", "A2024000102"); c.Description != "路边暴露垃圾" {
			t.Fatalf("gb18030 text: %q", c.Description)
		}
	})
}

// TestVendorDryRunReport: every value the mapping cannot map is reported with its row and
// column, in English and Chinese, and nothing is written.
func TestVendorDryRunReport(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		bad := string(mustRead(t, "szcg-a.csv"))
		bad = strings.Replace(bad, ",公众举报,", ",微信,", -1)                      // an unknown source, 10 rows of one record
		bad = strings.Replace(bad, ",处置反馈,2024-03-01", ",处理完毕,2024-03-01", 1) // an unknown state, row 6
		bad = strings.Replace(bad, "2024-03-05 21:40:00", "昨天", 1)            // a bad time, row 18
		bad = strings.Replace(bad, ",0201,", ",9999,", -1)                    // an unknown class
		rep, err := vw.im.Import(e.A, memFile("bad.csv", []byte(bad)), exchange.ImportOptions{Vendor: "szcg-a"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.Applied {
			t.Fatalf("bad file applied: %+v", rep)
		}
		got := map[string]exchange.Unmapped{}
		for _, u := range rep.Unmapped {
			got[u.Column+"="+u.Value] = u
		}
		if u := got["问题来源=微信"]; u.Count != 1 || u.FirstRow != 7 {
			t.Errorf("source: %+v", u)
		}
		if u := got["环节=处理完毕"]; u.Count != 1 || u.FirstRow != 6 {
			t.Errorf("state: %+v", u)
		}
		if u := got["小类=9999"]; u.Count != 1 || u.FirstRow != 17 {
			t.Errorf("class: %+v", u)
		}
		var timeProblem bool
		for _, p := range rep.Problems {
			if p.Row == 18 && p.Column == "操作时间" && strings.Contains(p.MessageZH, "昨天") {
				timeProblem = true
			}
		}
		if !timeProblem || len(rep.Unmapped) != 3 {
			t.Errorf("problems: %+v unmapped %+v", rep.Problems, rep.Unmapped)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 0 {
			t.Fatalf("%d cases written", n)
		}
		// A record whose rows are apart, and one whose history does not start with its report.
		lines := strings.Split(strings.TrimSuffix(string(mustRead(t, "szcg-a.csv")), "\n"), "\n")
		split := strings.Join(append(append(append([]string{}, lines[:5]...), lines[6:16]...), lines[5], lines[17]), "\n") + "\n"
		rep, err = vw.im.Import(e.A, memFile("split.csv", []byte(split)), exchange.ImportOptions{Vendor: "szcg-a", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		var apart, noReport bool
		for _, p := range rep.Problems {
			apart = apart || (p.Row == 16 && p.Key == "A2024000101" && strings.Contains(p.Message, "row 2"))
			noReport = noReport || (p.Row == 17 && p.Key == "A2024000103" && strings.Contains(p.MessageZH, "不予立案"))
		}
		if !apart || !noReport || rep.ProblemCount != 3 { // the rows apart also start with 处置反馈
			t.Fatalf("split file: %+v", rep.Problems)
		}
		if _, err := vw.im.Import(e.A, memFile("bad.txt", nil), exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Unsupported) {
			t.Fatalf("a .txt file: %v", err)
		}
		if _, err := vw.im.Import(e.A, memFile("x.csv", []byte("a,b\n1,2\n")), exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("missing columns: %v", err)
		}
		if _, err := vw.im.Import(e.A, memFile("x.json", []byte(`{"a":1}`)), exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("json object: %v", err)
		}
	})
}

// TestVendorImportResumes: an import cut short after a chunk continues where it stopped, and the
// run meters every case it created once.
func TestVendorImportResumes(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 1)
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		fc := &failingCipher{Cipher: vw.keys} // the first record has no reporter; the second fails
		broken := exchange.NewImporter(exchange.ImporterConfig{Gate: e.Store, Cipher: fc, Usage: vw.usage, Chunk: 1})
		data := mustRead(t, "szcg-a.csv")
		if _, err := broken.Import(e.A, memFile("szcg-a.csv", data), exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("cut short: %v", err)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 1 {
			t.Fatalf("%d cases after the first chunk", n)
		}
		if n := vw.count(e.A, "SELECT records_done FROM vendor_runs WHERE state = 'running'"); n != 1 {
			t.Fatalf("progress %d", n)
		}
		rep := vw.mustImport(e.A, "szcg-a", memFile("szcg-a.csv", data), false)
		if rep.Resumed != 1 || rep.Created != 3 || rep.Events != 17 {
			t.Fatalf("resumed: %+v", rep)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 3 {
			t.Fatalf("%d cases", n)
		}
		if len(vw.usage.keys) != 1 || vw.usage.keys["cases_created vendor-import:"+rep.RunID] != 3 {
			t.Fatalf("usage: %v", vw.usage.keys)
		}
		if _, err := broken.Import(e.A, memFile("szcg-a.csv", data), exchange.ImportOptions{Vendor: "szcg-a"}); err != nil {
			t.Fatalf("a finished file again needs no key: %v", err)
		}
	})
}

func gb18030(b []byte) ([]byte, error) {
	return simplifiedchinese.GB18030.NewEncoder().Bytes(b)
}

// afterLine puts line after the line of text holding anchor.
func afterLine(text, anchor, line string) string {
	i := strings.Index(text, anchor)
	j := i + strings.Index(text[i:], "\n") + 1
	return text[:j] + line + "\n" + text[j:]
}
