package tenants

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
)

// fileSource is an ExportFiles with fixed files; a nil body is a file that cannot be read.
type fileSource struct {
	files  []ExportFile
	bodies []*string
	tenant *Tenant // the tenant it was asked for
}

func (f *fileSource) Files(_ context.Context, t *Tenant, _ bun.IDB, add func(ExportFile, io.Reader) error) error {
	f.tenant = t
	for i, ef := range f.files {
		var r io.Reader
		if f.bodies[i] != nil {
			r = strings.NewReader(*f.bodies[i])
		}
		if err := add(ef, r); err != nil {
			return err
		}
	}
	return nil
}

// TestExportFiles: the files of an export source are in the archive at their path, stored as
// given, and listed in the manifest with size, SHA-256 and metadata; an unreadable one is listed
// as missing; a path that could escape the archive or clash fails the export.
func TestExportFiles(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		body := "\x89PNG photo bytes"
		src := &fileSource{
			files: []ExportFile{
				{Path: "case_photos/532301-2026-000001/p1.png", MediaType: "image/png", Meta: map[string]any{"case_id": "c1"}},
				{Path: "case_photos/532301-2026-000001/p2.jpg", MediaType: "image/jpeg"},
			},
			bodies: []*string{&body, nil},
		}
		s.AddExportFiles(src)
		var buf bytes.Buffer
		if err := s.Export(ctx, a, &buf); err != nil {
			t.Fatal(err)
		}
		if src.tenant == nil || src.tenant.ID != a.ID {
			t.Fatalf("source asked for tenant %v, want %s", src.tenant, a.Slug)
		}
		files := unzip(t, buf.Bytes())
		if files["case_photos/532301-2026-000001/p1.png"] != body {
			t.Fatalf("photo in the archive: %q; files %v", files["case_photos/532301-2026-000001/p1.png"], keys(files))
		}
		if _, ok := files["case_photos/532301-2026-000001/p2.jpg"]; ok {
			t.Fatal("a missing file is in the archive")
		}
		var man ExportManifest
		if err := json.Unmarshal([]byte(files["manifest.json"]), &man); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		if len(man.Files) != 2 {
			t.Fatalf("manifest files: %+v", man.Files)
		}
		got, miss := man.Files[0], man.Files[1]
		if got.Size != int64(len(body)) || got.SHA256 != hex.EncodeToString(sum[:]) || got.MediaType != "image/png" || got.Meta["case_id"] != "c1" || got.Missing {
			t.Fatalf("manifest entry: %+v", got)
		}
		if !miss.Missing || miss.Size != 0 {
			t.Fatalf("missing entry: %+v", miss)
		}
		for _, bad := range []string{"../escape/x.png", "/abs/x.png", "case_photos/../../x.png", "flat.png", "case_photos/532301-2026-000001/p1.png"} {
			s.exportFiles = []ExportFiles{&fileSource{files: []ExportFile{{Path: "case_photos/532301-2026-000001/p1.png"}, {Path: bad}}, bodies: []*string{&body, &body}}}
			if err := s.Export(ctx, a, io.Discard); err == nil {
				t.Errorf("path %q: exported", bad)
			}
		}
	})
}

// sealedPeople is an ExportSealed over the test table people (see mustPeople), whose name_enc
// and phone_enc hold "enc:" and the plaintext.
type sealedPeople struct {
	calls int
	fail  error
}

func (*sealedPeople) SealedColumns() []SealedColumn {
	return []SealedColumn{{Table: "people", Column: "name_enc", Clear: "name"}, {Table: "people", Column: "phone_enc", Clear: "phone"}}
}

func (f *sealedPeople) Open(_ context.Context, _ *Tenant, cts []string) ([]string, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([]string, len(cts))
	for i, ct := range cts {
		p, ok := strings.CutPrefix(ct, "enc:")
		if !ok {
			return nil, fmt.Errorf("%q is not a ciphertext", ct)
		}
		out[i] = p
	}
	return out, nil
}

// mustPeople gives tn the table people (id, name_enc, phone_enc, note) with rows of name and
// phone ciphertexts ("" for NULL).
func mustPeople(t *testing.T, s *Store, tn *Tenant, rows ...[2]string) {
	t.Helper()
	err := s.tenantTx(context.Background(), tn, Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.ExecContext(ctx, "CREATE TABLE people (id integer PRIMARY KEY, name_enc text, phone_enc text, note text)"); err != nil {
			return err
		}
		for i, r := range rows {
			var name, phone *string
			if r[0] != "" {
				name = &r[0]
			}
			if r[1] != "" {
				phone = &r[1]
			}
			if _, err := db.NewRaw("INSERT INTO people VALUES (?, ?, ?, ?)", i+1, name, phone, "=1+2").Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustManifest(t *testing.T, files map[string]string) ExportManifest {
	t.Helper()
	var man ExportManifest
	if err := json.Unmarshal([]byte(files["manifest.json"]), &man); err != nil {
		t.Fatal(err)
	}
	return man
}

func tableOf(t *testing.T, man ExportManifest, name string) ExportTable {
	t.Helper()
	for _, et := range man.Tables {
		if et.Name == name {
			return et
		}
	}
	t.Fatalf("manifest has no table %s", name)
	return ExportTable{}
}

// mustWorkbook opens a workbook of the archive with excelize.
func mustWorkbook(t *testing.T, files map[string]string, name string) *excelize.File {
	t.Helper()
	body, ok := files[name]
	if !ok {
		t.Fatalf("archive lacks %s; has %v", name, keys(files))
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s does not open: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestExportFormats: every CSV starts with a byte order mark and escapes what Excel would run as
// a formula; every table has a workbook that opens and shows the Chinese text (text as text,
// never a number or a formula); the manifest and README say what the archive holds; without
// asking, personal data stays ciphertext and is listed as such.
func TestExportFormats(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		src := &sealedPeople{}
		s.AddExportSealed(src)
		mustPeople(t, s, a, [2]string{"enc:张三", "enc:13800000000"})
		for k, v := range map[string]string{"name": "张三", "formula": `=HYPERLINK("http://x","y")`, "minus": "-5", "code": "0532301"} {
			if err := putSetting(ctx, s, SystemScope(a), k, v); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := s.Export(ctx, a, &buf); err != nil {
			t.Fatal(err)
		}
		if src.calls != 0 {
			t.Fatalf("an export without personal data in clear decrypted %d times", src.calls)
		}
		files := unzip(t, buf.Bytes())
		man := mustManifest(t, files)
		if man.Format != ExportFormat || man.PersonalData != PersonalDataEncrypted || man.Reason != "" || man.ExportedBy != "" ||
			!strings.Contains(man.Notice["zh-CN"], "密文") || !strings.Contains(man.Notice["en"], "ciphertext") || !man.CSV.BOM {
			t.Fatalf("manifest: %+v", man)
		}
		if !strings.HasPrefix(files["README.txt"], "\uFEFF") || !strings.Contains(files["README.txt"], "楚雄市") || !strings.Contains(files["README.txt"], "\r\n") {
			t.Fatalf("README.txt: %q", files["README.txt"])
		}
		for _, et := range man.Tables {
			csvFile := files[et.Name+".csv"]
			if !strings.HasPrefix(csvFile, "\uFEFF") {
				t.Errorf("%s.csv has no byte order mark: %q", et.Name, csvFile[:min(len(csvFile), 20)])
			}
			wb := mustWorkbook(t, files, et.Workbook)
			if got := wb.GetSheetList(); len(et.Sheets) != 1 || len(got) != 1 || got[0] != et.Sheets[0] {
				t.Errorf("%s: sheets %v, manifest %v", et.Workbook, got, et.Sheets)
			}
		}
		people := tableOf(t, man, "people")
		if !slices.Equal(people.EncryptedColumns, []string{"name_enc", "phone_enc"}) || len(people.ClearColumns) != 0 || !slices.Contains(people.Columns, "name_enc") {
			t.Fatalf("people in the manifest: %+v", people)
		}
		if !strings.Contains(files["people.json"], `"name_enc":"enc:张三"`) {
			t.Fatalf("people.json:\n%s", files["people.json"])
		}
		csvFile := files["settings.csv"]
		for _, want := range []string{"\nname,张三,", `"'=HYPERLINK(""http://x"",""y"")"`, "\nminus,-5,", "\ncode,0532301,"} {
			if !strings.Contains(csvFile, want) {
				t.Errorf("settings.csv lacks %s:\n%s", want, csvFile)
			}
		}
		if !strings.Contains(files["settings.json"], `"value":"=HYPERLINK(\"http://x\",\"y\")"`) {
			t.Errorf("settings.json does not hold the formula text exactly:\n%s", files["settings.json"])
		}
		rows, err := mustWorkbook(t, files, "xlsx/settings.xlsx").GetRows("settings")
		if err != nil {
			t.Fatal(err)
		}
		cells := map[string]string{}
		for _, r := range rows[1:] {
			cells[r[0]] = r[1]
		}
		if rows[0][1] != "value" || cells["name"] != "张三" || cells["formula"] != `=HYPERLINK("http://x","y")` || cells["code"] != "0532301" {
			t.Fatalf("settings sheet: %v", rows)
		}
	})
}

// TestExportPersonalDataClear: asked for, with a reason, personal data is decrypted into its
// plain column (in JSON, CSV and the workbook), the manifest says so and why and who, and the
// download is audited with the reason; the reason is checked first, only admins get it, and a
// key that fails fails the export rather than leaving the column out.
func TestExportPersonalDataClear(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		b := mustProvision(t, p, countyB)
		src := &sealedPeople{}
		s.AddExportSealed(src)
		mustPeople(t, s, a, [2]string{"enc:张三", "enc:13800000000"}, [2]string{"", "enc:=1+2"}, [2]string{"", ""})
		mustPeople(t, s, b, [2]string{"enc:李四", ""})
		admin, err := s.CreateIdentity(ctx, NewIdentity{Email: "admin@a.cn", Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Grant(ctx, a, admin.ID, TenantAdmin); err != nil {
			t.Fatal(err)
		}
		adminB, _ := s.CreateIdentity(ctx, NewIdentity{Email: "admin@b.cn", Password: "long enough password"})
		if err := s.Grant(ctx, b, adminB.ID, TenantAdmin); err != nil {
			t.Fatal(err)
		}
		as := func(id *Identity) context.Context {
			pr, err := s.principal(ctx, id.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			return WithPrincipal(ctx, pr)
		}
		clear := func(reason string) ExportOptions {
			return ExportOptions{PersonalData: PersonalDataClear, Reason: reason}
		}

		// Refused before anything is read or written.
		for _, tc := range []struct {
			name string
			ctx  context.Context
			opts ExportOptions
			code errs.Code
		}{
			{"no reason", as(admin), clear("  "), errs.Invalid},
			{"NUL in the reason", as(admin), clear("a\x00b"), errs.Invalid},
			{"control character", as(admin), clear("a\x1bb"), errs.Invalid},
			{"too long", as(admin), clear(strings.Repeat("长", MaxReason+1)), errs.Invalid},
			{"another tenant's admin", as(adminB), clear("handover"), errs.Forbidden},
			{"unknown kind", as(admin), ExportOptions{PersonalData: "plain"}, errs.Invalid},
		} {
			var buf bytes.Buffer
			if err := s.ExportAudited(tc.ctx, a, &buf, tc.opts); !errs.Is(err, tc.code) || buf.Len() != 0 {
				t.Errorf("%s: %v (%d bytes written), want %s", tc.name, err, buf.Len(), tc.code)
			}
		}
		if src.calls != 0 {
			t.Fatal("a refused export decrypted")
		}
		if h, err := s.FindHandover(ctx, a); err != nil || h.Exported != nil || h.Records != 2 || !h.Needed() {
			t.Fatalf("handover after refusals: %+v %v", h, err)
		}

		var buf bytes.Buffer
		if err := s.ExportAudited(as(admin), a, &buf, clear(" 移交给新平台\n")); err != nil {
			t.Fatal(err)
		}
		files := unzip(t, buf.Bytes())
		man := mustManifest(t, files)
		if man.PersonalData != PersonalDataClear || man.Reason != "移交给新平台" || man.ExportedBy != "admin@a.cn" ||
			!strings.Contains(man.Notice["zh-CN"], "移交给新平台") || !strings.Contains(man.Notice["en"], "in clear") {
			t.Fatalf("manifest: %+v", man)
		}
		people := tableOf(t, man, "people")
		if !slices.Equal(people.ClearColumns, []string{"name", "phone"}) || len(people.EncryptedColumns) != 0 ||
			!slices.Equal(people.Columns, []string{"id", "name", "phone", "note"}) || people.Rows != 3 {
			t.Fatalf("people in the manifest: %+v", people)
		}
		j := files["people.json"]
		for _, want := range []string{`"name":"张三"`, `"phone":"13800000000"`, `"name":null`, `"phone":"=1+2"`} {
			if !strings.Contains(j, want) || strings.Contains(j, "enc:") {
				t.Fatalf("people.json lacks %s:\n%s", want, j)
			}
		}
		if c := files["people.csv"]; !strings.HasPrefix(c, "\uFEFFid,name,phone,note\n") || !strings.Contains(c, "1,张三,13800000000,'=1+2\n") ||
			!strings.Contains(c, "2,,'=1+2,'=1+2\n") || strings.Contains(c, "enc:") {
			t.Fatalf("people.csv:\n%s", c)
		}
		rows, err := mustWorkbook(t, files, "xlsx/people.xlsx").GetRows("people")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || !slices.Equal(rows[0], []string{"id", "name", "phone", "note"}) || !slices.Equal(rows[1], []string{"1", "张三", "13800000000", "=1+2"}) {
			t.Fatalf("people sheet: %v", rows)
		}
		es, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: AuditExportPersonalData})
		if err != nil || len(es) != 1 || es[0].ActorEmail != "admin@a.cn" || !strings.Contains(es[0].Detail, "移交给新平台") {
			t.Fatalf("audit: %+v %v", es, err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if !strings.Contains(es[0].Detail, hex.EncodeToString(sum[:])) {
			t.Fatalf("the audit entry does not name the archive: %s", es[0].Detail)
		}
		h, err := s.FindHandover(ctx, a)
		if err != nil || h.Exported == nil || h.Exported.Reason != "移交给新平台" || h.Exported.By != "admin@a.cn" || h.Needed() {
			t.Fatalf("handover: %+v %v", h, err)
		}
		if h, _ := s.FindHandover(ctx, b); h.Exported != nil || !h.Needed() {
			t.Fatalf("A's export counts for B: %+v", h)
		}
		// The command line (no principal) may; a key that fails fails the export, unaudited.
		src.fail = errs.E(errs.Unavailable, msgReasonNotText)
		if err := s.ExportAudited(ctx, a, io.Discard, clear("cli")); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("with the key service down: %v", err)
		}
		if es, _ := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: AuditExportPersonalData}); len(es) != 1 {
			t.Fatalf("a failed export was audited: %+v", es)
		}
	})
}

// TestExportExcelLimits: a table longer than a worksheet continues on the next ones, each with
// the header; a text longer than a cell holds is cut in the workbook, counted in the manifest,
// and whole in the JSON and CSV.
func TestExportExcelLimits(t *testing.T) {
	s := MustOpenSQLite(t)
	ctx := context.Background()
	p := NewProvisioner(s)
	mustProvision(t, p, prefecture)
	a := mustProvision(t, p, countyA)
	long := strings.Repeat("长", xlsxCellChars) + "😀尾"
	for i, v := range []string{"a", "b", "c", "d", long} {
		if err := putSetting(ctx, s, SystemScope(a), fmt.Sprintf("k%d", i), v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := s.ExportAudited(ctx, a, &buf, ExportOptions{sheetRows: 2, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, buf.Bytes())
	set := tableOf(t, mustManifest(t, files), "settings")
	// The three settings of every tenant and these five: eight rows, two to a sheet.
	if want := []string{"settings", "settings (2)", "settings (3)", "settings (4)"}; !slices.Equal(set.Sheets, want) || set.Rows != 8 || set.TruncatedCells != 1 {
		t.Fatalf("settings: sheets %v, rows %d, truncated %d", set.Sheets, set.Rows, set.TruncatedCells)
	}
	wb := mustWorkbook(t, files, set.Workbook)
	total := 0
	for _, sh := range set.Sheets {
		rows, err := wb.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0][0] != "key" {
			t.Fatalf("sheet %s: %d rows, header %v", sh, len(rows), rows[0])
		}
		total += len(rows) - 1
		for _, r := range rows[1:] {
			if r[0] == "k4" && (len([]rune(r[1])) != xlsxCellChars || strings.Contains(r[1], "尾")) {
				t.Fatalf("the long text in the workbook: %d characters", len([]rune(r[1])))
			}
		}
	}
	if total != 8 {
		t.Fatalf("%d rows over the sheets, want 8", total)
	}
	if !strings.Contains(files["settings.json"], "😀尾") || !strings.Contains(files["settings.csv"], "😀尾") {
		t.Fatal("the long text is cut in the JSON or CSV")
	}
	if got := sheetName(strings.Repeat("x", 40), 12); len(got) != 31 || !strings.HasSuffix(got, " (12)") {
		t.Fatalf("sheet name %q", got)
	}
	if got := sheetName("History", 1); got == "History" {
		t.Fatal("a worksheet named History, which Excel reserves")
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "张三": "张三", "=1+2": "'=1+2", "+86 138": "'+86 138", "-5": "-5", "+5.5": "+5.5", "@SUM(A1)": "'@SUM(A1)",
		"\t=1": "'\t=1", "-": "'-", "a=b": "a=b",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOffboardNeedsHandover: a tenant holding personal data is not offboarded — nothing
// changes — until it was exported in clear or the export waived, with a reason, by someone who
// may; a tenant with none needs neither.
func TestOffboardNeedsHandover(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		b := mustProvision(t, p, countyB)
		c := mustProvision(t, p, NewTenant{Slug: "yaoan", NameZH: "姚安县", Kind: County, AdminCode: "532325", ParentSlug: "chuxiong-zhou"})
		s.AddExportSealed(&sealedPeople{})
		mustPeople(t, s, a, [2]string{"enc:李四", ""})
		mustPeople(t, s, b, [2]string{"", "enc:139"})
		mustPeople(t, s, c, [2]string{"", ""})
		var archive bytes.Buffer
		err := p.Offboard(ctx, a, &archive)
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageIn(err, "zh-CN"), "1 条记录含群众个人信息") || !strings.Contains(errs.MessageOf(err), "waive") {
			t.Fatalf("offboarding without a handover: %v", err)
		}
		if got, _ := s.FindTenantBySlug(ctx, "chuxiong"); got == nil || got.Status != StatusActive || archive.Len() != 0 {
			t.Fatalf("a refused offboarding changed something: %+v, %d bytes", got, archive.Len())
		}
		dir := t.TempDir()
		if path, err := p.OffboardTo(ctx, a, "chuxiong", blob.NewLocal(dir)); !errs.Is(err, errs.Conflict) {
			t.Fatalf("OffboardTo without a handover: %q %v", path, err)
		} else if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("a refused offboarding left %v", ents)
		}

		// A waiver needs a reason and an admin; then offboarding goes ahead.
		stranger, _ := s.CreateIdentity(ctx, NewIdentity{Email: "x@b.cn", Password: "long enough password"})
		if _, err := s.WaiveHandover(WithPrincipal(ctx, &Principal{Identity: stranger}), a, "no need"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a stranger's waiver: %v", err)
		}
		if _, err := s.WaiveHandover(ctx, a, " \x00"); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "reason" {
			t.Fatalf("a waiver with a NUL reason: %v", err)
		}
		if _, err := s.WaiveHandover(ctx, a, " "); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "reason" {
			t.Fatalf("a waiver without a reason: %v", err)
		}
		op, _ := s.CreateIdentity(ctx, NewIdentity{Email: "op@x.cn", Password: "long enough password", OperatorRole: OperatorAdmin})
		h, err := s.WaiveHandover(WithPrincipal(ctx, &Principal{Identity: op}), a, "县里确认不需要")
		if err != nil || h.Waived == nil || h.Waived.By != "op@x.cn" || h.Waived.Reason != "县里确认不需要" || h.Needed() {
			t.Fatalf("waiver: %+v %v", h, err)
		}
		if err := p.Offboard(ctx, a, &archive); err != nil {
			t.Fatalf("offboarding after a waiver: %v", err)
		}
		es, _ := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: "tenant.offboard.start"})
		if len(es) != 1 || !strings.Contains(es[0].Detail, `"waived":`) {
			t.Fatalf("the offboarding's start does not name the waiver: %+v", es)
		}
		if _, err := s.WaiveHandover(ctx, a, "again"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a waiver for an offboarded tenant: %v", err)
		}
		if err := s.ExportAudited(ctx, a, io.Discard, ExportOptions{}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("an export of an offboarded tenant: %v", err)
		}

		// B: an export in clear is a handover too, as long as it holds every record: one
		// reported after it is not handed over, and offboarding says so.
		if err := s.ExportAudited(ctx, b, io.Discard, ExportOptions{PersonalData: PersonalDataClear, Reason: "迁移"}); err != nil {
			t.Fatal(err)
		}
		if h, err := s.FindHandover(ctx, b); err != nil || h.Exported == nil || h.Exported.Records != 1 || h.Stale() || h.Needed() {
			t.Fatalf("B's handover after the export: %+v %v", h, err)
		}
		if err := s.tenantTx(ctx, b, Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.ExecContext(ctx, "INSERT INTO people (id, name_enc) VALUES (9, 'enc:王五')")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.FindHandover(ctx, b); !h.Stale() || !h.Needed() || h.Records != 2 {
			t.Fatalf("B's handover after a new record: %+v", h)
		}
		if err := p.Offboard(ctx, b, io.Discard); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err), "held 1") {
			t.Fatalf("offboarding after a stale export: %v", err)
		}
		if err := s.ExportAudited(ctx, b, io.Discard, ExportOptions{PersonalData: PersonalDataClear, Reason: "迁移，补导"}); err != nil {
			t.Fatal(err)
		}
		if err := p.Offboard(ctx, b, io.Discard); err != nil {
			t.Fatalf("offboarding after an export in clear: %v", err)
		}
		// C holds no personal data: nothing to hand over.
		if h, err := s.FindHandover(ctx, c); err != nil || h.Records != 0 || h.Needed() {
			t.Fatalf("C's handover: %+v %v", h, err)
		}
		if err := p.Offboard(ctx, c, io.Discard); err != nil {
			t.Fatalf("offboarding a tenant without personal data: %v", err)
		}
	})
}
