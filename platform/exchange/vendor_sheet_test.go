package exchange_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/xuri/excelize/v2"
)

// editWorkbook opens the szcg-c sample, lets edit change it, and returns the workbook's bytes.
func editWorkbook(t *testing.T, edit func(x *excelize.File)) []byte {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(mustRead(t, "szcg-c.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	edit(x)
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestVendorImportHistorySheet: an XLSX export with the cases on its first sheet and their
// history on the sheet 流转记录, the rows of the records interleaved, imports as the one-sheet
// shapes do (the history in each record's order, with its times); a re-run changes nothing; the
// dry run reports the problems of either sheet with the sheet and the row — a history row of a
// record not on the first sheet, one naming no record, an unmapped step, a record without
// history; a sheet that is not there, the first sheet, or a CSV file are refused.
func TestVendorImportHistorySheet(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 2)
		vw.mustMapping(e.A, "szcg-c.mapping.json")
		data := mustRead(t, "szcg-c.xlsx")

		dry := vw.mustImport(e.A, "szcg-c", memFile("szcg-c.xlsx", data), true)
		if dry.Records != 3 || dry.Rows != 22 || dry.Created != 3 || dry.Events != 17 || dry.Applied {
			t.Fatalf("dry run: %+v", dry)
		}
		rep := vw.mustImport(e.A, "szcg-c", memFile("szcg-c.xlsx", data), false)
		if rep.Created != 3 || rep.Events != 17 || !rep.Applied {
			t.Fatalf("import: %+v", rep)
		}
		closed := vw.caseOf(e.A, "szcg-c", "C2024000202")
		if closed.State != cases.Closed || closed.Version != 10 || closed.Reporter == nil || closed.Reporter.Name != "王五" || closed.DepartmentID == nil ||
			*closed.DepartmentID != vw.depts["cgj"] {
			t.Fatalf("C2024000202: %+v", closed)
		}
		wantSteps := []cases.Action{cases.Report, cases.SendVerify, cases.Verify, cases.File, cases.Dispatch, cases.Take, cases.Feedback, cases.SendCheck, cases.Check, cases.Close}
		for i, ev := range closed.Events {
			if ev.Action != wantSteps[i] || (i > 0 && ev.At.Before(closed.Events[i-1].At)) {
				t.Fatalf("C2024000202 event %d: %s at %s, want %s", i, ev.Action, ev.At, wantSteps[i])
			}
		}
		if open := vw.caseOf(e.A, "szcg-c", "C2024000201"); open.State != cases.FedBack || open.Version != 5 || open.Source != cases.FromInspector {
			t.Fatalf("C2024000201: %+v", open)
		}
		if v := vw.caseOf(e.A, "szcg-c", "C2024000203"); v.State != cases.Voided || v.Version != 2 {
			t.Fatalf("C2024000203: %+v", v)
		}
		again := vw.mustImport(e.A, "szcg-c", memFile("szcg-c.xlsx", data), false)
		if again.Unchanged != 3 || again.Created+again.Updated+again.Events != 0 {
			t.Fatalf("again: %+v", again)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM case_events"); n != 17 {
			t.Fatalf("%d events after a re-run", n)
		}

		// The way back: the export in the two-sheet shape, which imports again unchanged.
		var out bytes.Buffer
		if _, err := vw.im.Export(e.A, &out, exchange.VendorExportOptions{Vendor: "szcg-c", Format: exchange.VendorXLSX, Imported: true,
			PersonalData: tenants.PersonalDataClear, Reason: "核对导出"}); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		caseRows, _ := x.GetRows(x.GetSheetName(0))
		histRows, _ := x.GetRows("流转记录")
		x.Close()
		if len(caseRows) != 4 || len(histRows) != 18 || histRows[0][0] != "所属案件" || caseRows[0][0] != "案件编号" {
			t.Fatalf("the export: %d rows of cases, %d of history (%v)", len(caseRows), len(histRows), histRows[0])
		}
		if back := vw.mustImport(e.A, "szcg-c", memFile("back.xlsx", out.Bytes()), true); back.Unchanged != 3 || back.Records != 3 {
			t.Fatalf("the export imported again: %+v\n%q\n%q", back, caseRows, histRows)
		}

		// Problems on both sheets, with their sheet and row.
		bad := editWorkbook(t, func(x *excelize.File) {
			x.SetSheetRow("流转记录", "A19", &[]any{"18", "C2024000999", "上报", "2024-05-08 08:00:00"}) // a record not on the first sheet
			x.SetSheetRow("流转记录", "A20", &[]any{"19", "", "上报", "2024-05-08 08:10:00"})            // no record named
			x.SetCellValue("流转记录", "C12", "处理完毕")                                                  // row 12: a step no table knows
			x.SetSheetRow("案件信息", "A5", &[]any{"C2024000204", "事件", "0102", "公众举报", "2024-05-08 09:00:00", "无流转记录", "鹿城镇", "101.51", "25.0", "", "", "", ""})
		})
		rep, err = vw.im.Import(e.A, memFile("bad.xlsx", bad), exchange.ImportOptions{Vendor: "szcg-c", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, p := range rep.Problems {
			switch {
			case p.Sheet == "流转记录" && p.Row == 19 && p.Column == "所属案件" && p.Key == "C2024000999" && strings.Contains(p.MessageZH, "案件信息"):
				found["orphan"] = true
			case p.Sheet == "流转记录" && p.Row == 20 && p.Column == "所属案件" && p.Key == "":
				found["no id"] = true
			case p.Sheet == "流转记录" && p.Row == 12 && p.Column == "环节" && strings.Contains(p.MessageZH, "处理完毕"):
				found["unmapped"] = true
			case p.Sheet == "" && p.Row == 5 && p.Key == "C2024000204":
				found["no history"] = true
			}
		}
		if len(found) != 4 || rep.OK() {
			t.Fatalf("problems found %v of 4: %+v", found, rep.Problems)
		}
		if len(rep.Unmapped) != 1 || rep.Unmapped[0].FirstSheet != "流转记录" || rep.Unmapped[0].FirstRow != 12 {
			t.Fatalf("unmapped: %+v", rep.Unmapped)
		}

		// The sheet by its position works as by its name; what is not a history sheet is refused.
		byPos := func(sheet string) *exchange.Mapping {
			m, err := exchange.ParseMapping([]byte(strings.Replace(string(mustRead(t, "szcg-c.mapping.json")), `"sheet": "流转记录"`, `"sheet": "`+sheet+`"`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if m, err = vw.im.PutMapping(e.A, m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		byPos("2")
		if rep := vw.mustImport(e.A, "szcg-c", memFile("szcg-c.xlsx", data), true); rep.Unchanged != 3 {
			t.Fatalf("the sheet by position: %+v", rep)
		}
		for _, tc := range []struct{ sheet, file, want string }{
			{"第三页", "szcg-c.xlsx", "案件信息, 流转记录"},
			{"3", "szcg-c.xlsx", "案件信息, 流转记录"},
			{"1", "szcg-c.xlsx", "第一个工作表"},
			{"案件信息", "szcg-c.xlsx", "第一个工作表"},
			{"流转记录", "szcg-c.csv", "CSV"},
		} {
			byPos(tc.sheet)
			_, err := vw.im.Import(e.A, memFile(tc.file, data), exchange.ImportOptions{Vendor: "szcg-c", DryRun: true})
			if !errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageIn(err, "zh-CN"), tc.want) {
				t.Errorf("sheet %q of %s: %v, want invalid with %q", tc.sheet, tc.file, err, tc.want)
			}
		}
		byPos("流转记录")
		missing := editWorkbook(t, func(x *excelize.File) { x.SetCellValue("流转记录", "B1", "案件") })
		if _, err := vw.im.Import(e.A, memFile("m.xlsx", missing), exchange.ImportOptions{Vendor: "szcg-c", DryRun: true}); !errs.Is(err, errs.Invalid) ||
			!strings.Contains(errs.MessageIn(err, "zh-CN"), "工作表 \"流转记录\" 缺少映射中指定的列：所属案件") {
			t.Fatalf("a history sheet without its id column: %v", err)
		}

		// The mapping: the id column of the history sheet needs the sheet; a sheet's name is short.
		for _, tc := range []struct{ from, to, field string }{
			{`"sheet": "流转记录",`, ``, "history.record_id"},
			{`"sheet": "流转记录"`, `"sheet": "` + strings.Repeat("页", 32) + `"`, "history.sheet"},
			{`"sheet": "流转记录"`, `"sheet": "流转\u0000记录"`, "history.sheet"},
			{`"time_layouts"`, `"pull": {"kind": "json_pages", "base_url": "https://szcg.example.cn/api/cases", "records": "data"}, "time_layouts"`, "history.sheet"},
		} {
			m, err := exchange.ParseMapping([]byte(strings.Replace(string(mustRead(t, "szcg-c.mapping.json")), tc.from, tc.to, 1)))
			if err == nil {
				_, err = vw.im.PutMapping(e.A, m)
			}
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s → %s: %v (field %q), want %s", tc.from, tc.to, err, errs.FieldOf(err), tc.field)
			}
		}
	})
}
