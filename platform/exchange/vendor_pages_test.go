package exchange_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/xuri/excelize/v2"
)

// The services behind the console's vendor pages: reading a sample, the preview, the background
// import. The pages themselves (who may open them, the forms) are tested in app/vendor_pages_test.go
// and app/browser_vendor_test.go, where the console's session and tenant resolution are.

// TestVendorSample: a sample is read with the import's readers — CSV (with its BOM) and XLSX by
// their header row, JSON by its records' and history entries' members — with the distinct values
// of each column; files that are not readable are refused with a 4xx error.
func TestVendorSample(t *testing.T) {
	csvData := mustRead(t, "szcg-a.csv")
	s, err := exchange.ReadSample("szcg-a.csv", csvData)
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != exchange.VendorCSV || s.Records != 17 || len(s.First) != 17 || s.Columns[0] != "案件编号" || !slices.Contains(s.Columns, "环节") {
		t.Fatalf("CSV sample: %s %d records, columns %v", s.Format, s.Records, s.Columns)
	}
	steps, more := s.Values("环节", true)
	if more || !slices.Equal(steps[:3], []string{"上报", "受理", "立案"}) || !slices.Contains(steps, "不予立案") {
		t.Fatalf("the steps: %v", steps)
	}
	if ids, _ := s.Values("案件编号", false); len(ids) != 3 {
		t.Fatalf("the record ids: %v", ids)
	}

	// The same rows as a workbook.
	x := excelize.NewFile()
	for i, line := range strings.Split(strings.TrimPrefix(string(csvData), "\uFEFF"), "\n") {
		if line == "" {
			continue
		}
		cells := strings.Split(line, ",")
		row := make([]any, len(cells))
		for j, c := range cells {
			row[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sx, err := exchange.ReadSample("szcg-a.xlsx", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sx.Columns, s.Columns) || sx.Records != s.Records {
		t.Fatalf("XLSX sample: %v %d", sx.Columns, sx.Records)
	}

	sj, err := exchange.ReadSample("szcg-b.json", mustRead(t, "szcg-b.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sj.HistoryKeys, []string{"流转记录"}) || !slices.Contains(sj.Columns, "案卷标识") || slices.Contains(sj.Columns, "流转记录") ||
		!slices.Contains(sj.HistoryColumns, "环节名称") {
		t.Fatalf("JSON sample: columns %v, history %v %v", sj.Columns, sj.HistoryKeys, sj.HistoryColumns)
	}
	if steps, _ := sj.Values("环节名称", true); !slices.Contains(steps, "案件上报") {
		t.Fatalf("JSON steps: %v", steps)
	}
	if got, _ := sj.Values("环节名称", false); len(got) != 0 {
		t.Fatalf("a history member read as a record's: %v", got)
	}

	for _, bad := range []struct{ name, data string }{
		{"a.csv", ""}, {"a.csv", "\n \n"}, {"a.json", `{"a":1}`}, {"a.json", `[{"a":1},2]`}, {"a.json", `[{"a":1}`},
		{"a.xlsx", "not a workbook"}, {"a.txt", "x"}, {"a.csv", "\xff\xfeUTF-16"},
	} {
		if _, err := exchange.ReadSample(bad.name, []byte(bad.data)); err == nil || errs.CodeOf(err) == errs.Internal {
			t.Errorf("%s %q: %v, want a 4xx error", bad.name, bad.data, err)
		}
	}
}

// TestVendorPreview: the preview maps the first records with a mapping that is not saved, with the
// dry run's checks: each record's fields and history, its problems, and the values no table knows.
// A mapping that would not be saved is refused as saving refuses it; only admins preview.
func TestVendorPreview(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		m, err := exchange.ParseMapping(mustRead(t, "szcg-a.mapping.json"))
		if err != nil {
			t.Fatal(err)
		}
		delete(m.Codes.State, "核查")
		file := memFile("szcg-a.csv", mustRead(t, "szcg-a.csv"))
		pv, err := vw.im.Preview(e.A, file, m, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(pv.Records) != 2 || pv.Records[0].RecordID != "A2024000101" || !pv.Records[0].OK() || pv.Records[1].OK() {
			t.Fatalf("preview: %+v", pv.Records)
		}
		ours := map[string]string{}
		for _, f := range pv.Records[0].Fields {
			ours[f.Field] = f.Ours
		}
		if ours["kind"] != "component" || ours["class_code"] != "0101" || ours["source"] != "inspector" || ours["department"] != "szgy" ||
			ours["reported_at"] != "2024-03-01 08:30:00" {
			t.Fatalf("the first record: %v", ours)
		}
		h := pv.Records[0].History
		if len(h) != 5 || h[2].Action != cases.File || h[2].To != cases.Filed || h[4].To != cases.FedBack || h[0].At == nil {
			t.Fatalf("the first record's history: %+v", h)
		}
		second := pv.Records[1]
		var unmapped []string
		for _, ev := range second.History {
			if ev.Unmapped {
				unmapped = append(unmapped, ev.VendorState)
			}
		}
		if !slices.Equal(unmapped, []string{"核查"}) || len(pv.Unmapped) != 1 || pv.Unmapped[0].Value != "核查" || pv.Unmapped[0].FirstRow != 15 {
			t.Fatalf("unmapped: %v %+v", unmapped, pv.Unmapped)
		}
		if pv.Problems != 1 || second.Problems[0].Row != 15 || !strings.Contains(second.Problems[0].MessageZH, "核查") {
			t.Fatalf("problems: %d %+v", pv.Problems, second.Problems)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM vendor_mappings"); n != 0 {
			t.Fatalf("the preview saved %d mappings", n)
		}

		m.Codes.State["核查"] = "leap"
		if _, err := vw.im.Preview(e.A, file, m, 2); errs.FieldOf(err) != "codes.state" {
			t.Fatalf("a state mapped to no action: %v", err)
		}
		m.Codes.State["核查"] = cases.Check
		if _, err := vw.im.Preview(e.View, file, m, 2); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture previews: %v", err)
		}
	})
}

// TestVendorBackgroundImport: an import started in the background runs detached from the context
// that started it, reports its run's progress as records done of the total, refuses a second
// import of the same vendor while it runs, and is listed for its tenant only.
func TestVendorBackgroundImport(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 1)
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		ctx, cancel := context.WithCancel(e.A)
		file := memFile("szcg-a.csv", mustRead(t, "szcg-a.csv"))
		release := make(chan struct{})
		var phases []string
		job, err := vw.im.Start(ctx, file, exchange.ImportOptions{Vendor: "szcg-a", Progress: func(p exchange.ImportProgress) {
			if len(phases) == 0 {
				<-release // hold the first chunk until the checks below are done
			}
			phases = append(phases, p.Phase)
		}})
		if err != nil {
			t.Fatal(err)
		}
		cancel() // the request that started it ends
		if _, err := vw.im.Start(e.A, file, exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second import while one runs: %v", err)
		}
		if jobs, _ := vw.im.Jobs(e.B); len(jobs) != 0 {
			t.Fatalf("tenant B sees %d of A's imports", len(jobs))
		}
		if _, err := vw.im.Start(e.View, file, exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture starts an import: %v", err)
		}
		close(release)
		for deadline := time.Now().Add(20 * time.Second); job.Running(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the import did not end")
			}
		}
		st := job.Status()
		if st.Phase != "done" || st.Err != nil || st.Records != 3 || st.Total != 3 || st.RunID == "" {
			t.Fatalf("the job: %+v", st)
		}
		if !slices.Contains(phases, "check") || phases[len(phases)-1] != "write" {
			t.Fatalf("the phases: %v", phases)
		}
		runs, err := vw.im.FindRuns(e.A)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].State != "done" || runs[0].RecordsDone != 3 || runs[0].RecordsTotal != 3 || runs[0].Created != 3 {
			t.Fatalf("the run: %+v", runs)
		}
		if jobs, _ := vw.im.Jobs(e.A); len(jobs) != 1 || jobs[0] != job {
			t.Fatalf("A's jobs: %v", jobs)
		}
		if !vw.im.Stop(context.Background()) {
			t.Fatal("stop")
		}
		if _, err := vw.im.Start(e.A, file, exchange.ImportOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("an import after the stop: %v", err)
		}
	})
}
