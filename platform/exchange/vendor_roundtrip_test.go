package exchange_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/xuri/excelize/v2"
)

// TestVendorRoundTrip imports each sample vendor file, exports the tenant's cases in the same
// vendor's shape (personal data in clear, with a reason) and compares: every column the mapping
// names holds, row by row, what the vendor's file held; importing the export again changes
// nothing. The CSV sample also goes out as XLSX and comes back the same.
func TestVendorRoundTrip(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		for _, tc := range []struct {
			vendor, file string
			formats      []exchange.VendorFormat
		}{
			{"szcg-a", "szcg-a.csv", []exchange.VendorFormat{exchange.VendorCSV, exchange.VendorXLSX}},
			{"szcg-b", "szcg-b.json", []exchange.VendorFormat{exchange.VendorJSON}},
		} {
			m := vw.mustMapping(e.A, tc.vendor+".mapping.json")
			orig := mustRead(t, tc.file)
			first := vw.mustImport(e.A, tc.vendor, memFile(tc.file, orig), false)
			for _, f := range tc.formats {
				t.Run(tc.vendor+"/"+string(f), func(t *testing.T) {
					// Every case of the tenant: szcg-b's mapping has no code for some of the
					// states and classes of szcg-a's cases, which go out as ours and are listed.
					all, err := vw.im.Export(e.A, io.Discard, exchange.VendorExportOptions{Vendor: tc.vendor, Format: f})
					if err != nil {
						t.Fatal(err)
					}
					if tc.vendor == "szcg-b" && (all.Records <= first.Records || len(all.Unmapped) == 0) {
						t.Fatalf("the whole export of szcg-b: %d records, unmapped %v; want szcg-a's too, with unmapped values", all.Records, all.Unmapped)
					}
					// The vendor's own records, for its system to read back.
					var out bytes.Buffer
					rep, err := vw.im.Export(e.A, &out, exchange.VendorExportOptions{Vendor: tc.vendor, Format: f, Imported: true,
						PersonalData: tenants.PersonalDataClear, Reason: "迁移回原厂商系统核对"})
					if err != nil {
						t.Fatal(err)
					}
					if rep.Records != first.Records || len(rep.Unmapped) != 0 {
						t.Fatalf("exported %d records (unmapped %v), imported %d", rep.Records, rep.Unmapped, first.Records)
					}
					if f == exchange.VendorJSON {
						compareJSON(t, m, orig, out.Bytes())
					} else {
						compareTable(t, orig, tableOf(t, f, out.Bytes()))
					}
					again := vw.mustImport(e.A, tc.vendor, memFile("export."+string(f), out.Bytes()), true)
					if again.Updated != 0 || again.Unchanged != first.Records {
						t.Fatalf("importing the export again: %d unchanged, %d updated, %d created; want %d unchanged",
							again.Unchanged, again.Updated, again.Created, first.Records)
					}
				})
			}
		}
		// The export's audit entry carries the reason.
		got := e.MustAudit(t, e.TenantA, "exchange.vendor_export")
		if len(got) != 6 {
			t.Fatalf("%d exchange.vendor_export entries, want 6", len(got))
		}
		if d := fmt.Sprint(got[0].Detail); !strings.Contains(d, "迁移回原厂商系统核对") || !strings.Contains(d, "clear") {
			t.Fatalf("the export in clear is audited without its reason: %s", d)
		}
	}, exchange.Module(nil, nil, nil))
}

// TestVendorExportRefusals: personal data in clear needs a reason; only the tenant's admins
// export; the prefecture reads but does not export; an unknown vendor is 404.
func TestVendorExportRefusals(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		for _, tc := range []struct {
			name string
			opts exchange.VendorExportOptions
			want errs.Code
		}{
			{"no reason", exchange.VendorExportOptions{Vendor: "szcg-a", Format: exchange.VendorCSV, PersonalData: tenants.PersonalDataClear}, errs.Invalid},
			{"bad format", exchange.VendorExportOptions{Vendor: "szcg-a", Format: "pdf"}, errs.Unsupported},
			{"unknown vendor", exchange.VendorExportOptions{Vendor: "szcg-z", Format: exchange.VendorCSV}, errs.NotFound},
		} {
			_, err := vw.im.Export(e.A, io.Discard, tc.opts)
			if !errs.Is(err, tc.want) {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
			}
		}
		if _, err := vw.im.Export(e.View, io.Discard, exchange.VendorExportOptions{Vendor: "szcg-a", Format: exchange.VendorCSV}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("prefecture viewer: %v, want forbidden", err)
		}
		// County B has no such mapping: its own export of szcg-a is not found, not A's.
		if _, err := vw.im.Export(e.B, io.Discard, exchange.VendorExportOptions{Vendor: "szcg-a", Format: exchange.VendorCSV}); !errs.Is(err, errs.NotFound) {
			t.Errorf("county B: %v, want not found", err)
		}
	}, exchange.Module(nil, nil, nil))
}

// tableOf reads an exported CSV or XLSX into rows, the header first.
func tableOf(t *testing.T, f exchange.VendorFormat, data []byte) [][]string {
	t.Helper()
	if f == exchange.VendorXLSX {
		x, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if !bytes.HasPrefix(data, []byte("\ufeff")) {
		t.Fatal("the CSV export has no byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// compareTable checks that every row of the vendor's file appears in the export with the same
// value in every column the export has (all of them the vendor's own columns).
func compareTable(t *testing.T, origData []byte, got [][]string) {
	t.Helper()
	orig, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(origData, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, h := range orig[0] {
		at[h] = i
	}
	for _, h := range got[0] {
		if _, ok := at[h]; !ok {
			t.Fatalf("the export has a column %q the vendor's file has not", h)
		}
	}
	key := func(cells []string) string { return strings.Join(cells, "\x1f") }
	exported := map[string]int{}
	for _, r := range got[1:] {
		exported[key(pad(r, len(got[0])))]++
	}
	for n, r := range orig[1:] {
		cells := make([]string, len(got[0]))
		for i, h := range got[0] {
			cells[i] = r[at[h]]
		}
		k := key(cells)
		if exported[k] == 0 {
			t.Fatalf("row %d of the vendor's file is not in the export: %q", n+2, cells)
		}
		exported[k]--
	}
}

// pad fills a row short of its trailing empty cells (excelize leaves them out).
func pad(r []string, n int) []string {
	for len(r) < n {
		r = append(r, "")
	}
	return r
}

// compareJSON checks that every record of the vendor's JSON file is in the export with the same
// value (as text) in every member the mapping names, and the same history.
func compareJSON(t *testing.T, m *exchange.Mapping, origData, gotData []byte) {
	t.Helper()
	var orig, got []map[string]any
	if err := json.Unmarshal(origData, &orig); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gotData, &got); err != nil {
		t.Fatalf("the export is not JSON: %v", err)
	}
	idCol, histKey := m.Fields[exchange.FieldRecordID], m.History.Key
	byID := map[string]map[string]any{}
	for _, r := range got {
		byID[text(r[idCol])] = r
	}
	for _, o := range orig {
		g := byID[text(o[idCol])]
		if g == nil {
			t.Fatalf("record %v is not in the export", o[idCol])
		}
		for _, f := range exchange.CaseFields {
			if c := m.Fields[f]; c != "" && norm(m, f, text(o[c])) != norm(m, f, text(g[c])) {
				t.Errorf("record %v, %s: exported %q, the vendor's %q", o[idCol], c, text(g[c]), text(o[c]))
			}
		}
		oh, gh := o[histKey].([]any), g[histKey].([]any)
		if len(oh) != len(gh) {
			t.Fatalf("record %v: %d history rows exported, %d in the vendor's file", o[idCol], len(gh), len(oh))
		}
		for i := range oh {
			for _, f := range exchange.HistoryFields {
				c := m.History.Fields[f]
				ov, gv := norm(m, f, text(oh[i].(map[string]any)[c])), norm(m, f, text(gh[i].(map[string]any)[c]))
				if c != "" && ov != gv {
					t.Errorf("record %v, history row %d, %s: exported %q, the vendor's %q", o[idCol], i+1, c, gv, ov)
				}
			}
		}
	}
}

// norm reads a time in any of the mapping's layouts (a vendor's file may mix them; the export
// writes the first), and leaves other values as they are.
func norm(m *exchange.Mapping, field, v string) string {
	if field != exchange.FieldReportedAt && field != exchange.HistoryAt {
		return v
	}
	for _, l := range m.TimeLayouts {
		if at, err := time.Parse(l, v); err == nil {
			return at.Format(time.DateTime)
		}
	}
	return v
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// TestVendorOverdueFlag: a vendor's 是否超时 column marks the stage a history row ended as over
// its limit (detail.stage.overdue, which the evaluation's on-time indicators read); a value it
// does not know is listed as unmapped; the flag goes back out as written.
func TestVendorOverdueFlag(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		m, err := exchange.ParseMapping(mustRead(t, "szcg-a.mapping.json"))
		if err != nil {
			t.Fatal(err)
		}
		m.History.Fields[exchange.HistoryOverdue] = "是否超时"
		if _, err := vw.im.EnsureMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		// The column added: 是 on A2024000102's 处置反馈 row, 否 on its 结案 row, empty elsewhere.
		lines := strings.Split(strings.TrimSuffix(string(mustRead(t, "szcg-a.csv")), "\n"), "\n")
		for i := range lines {
			switch {
			case i == 0:
				lines[i] += ",是否超时"
			case strings.HasPrefix(lines[i], "A2024000102,") && strings.Contains(lines[i], ",处置反馈,"):
				lines[i] += ",是"
			case strings.HasPrefix(lines[i], "A2024000102,") && strings.Contains(lines[i], ",结案,"):
				lines[i] += ",否"
			default:
				lines[i] += ","
			}
		}
		flagged := []byte(strings.Join(lines, "\n") + "\n")

		bad := []byte(strings.Replace(string(flagged), ",是\n", ",也许\n", 1))
		dry, err := vw.im.Import(e.A, memFile("bad.csv", bad), exchange.ImportOptions{Vendor: "szcg-a", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(dry.Unmapped) != 1 || dry.Unmapped[0].Value != "也许" || dry.Unmapped[0].Column != "是否超时" {
			t.Fatalf("unmapped: %+v", dry.Unmapped)
		}

		vw.mustImport(e.A, "szcg-a", memFile("flagged.csv", flagged), false)
		c := vw.caseOf(e.A, "szcg-a", "A2024000102")
		late := 0
		for _, ev := range c.Events {
			var d struct {
				Imported map[string]string `json:"imported"`
				Stage    *struct {
					Overdue bool `json:"overdue"`
				} `json:"stage"`
			}
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			switch {
			case ev.Action == cases.Feedback:
				if d.Stage == nil || !d.Stage.Overdue || d.Imported["overdue"] != "是" {
					t.Fatalf("the overdue feedback: %s", ev.Detail)
				}
				late++
			case ev.Action == cases.Close:
				if d.Stage != nil || d.Imported["overdue"] != "否" {
					t.Fatalf("the close on time: %s", ev.Detail)
				}
			case d.Stage != nil || d.Imported["overdue"] != "":
				t.Fatalf("%s: %s", ev.Action, ev.Detail)
			}
		}
		if late == 0 {
			t.Fatal("no feedback row was flagged")
		}
		if again := vw.mustImport(e.A, "szcg-a", memFile("flagged.csv", flagged), false); again.Unchanged != 3 {
			t.Fatalf("again: %+v", again)
		}
		var out bytes.Buffer
		if _, err := vw.im.Export(e.A, &out, exchange.VendorExportOptions{Vendor: "szcg-a", Format: exchange.VendorCSV, Imported: true,
			PersonalData: tenants.PersonalDataClear, Reason: "核对超时标志"}); err != nil {
			t.Fatal(err)
		}
		compareTable(t, flagged, tableOf(t, exchange.VendorCSV, out.Bytes()))
	}, exchange.Module(nil, nil, nil))
}
