package exchange_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
)

// BenchmarkVendorImport imports CITYOPS_BENCH_VENDOR_RECORDS records (default 5000) of five
// history rows each from a CSV file shaped like the szcg-a sample — five years of reports, three
// classes, four sources, every reporter's name and phone to encrypt — on SQLite and PostgreSQL:
// both passes (check, then write), reported as records/s. On PostgreSQL the floor follows in the
// same run: the rows the import wrote (cases, case_events, vendor_records) loaded by psql's
// \copy into empty copies of those tables with the same indexes; floor-records/s and
// x-floor (the import's time over the floor's) are reported beside. The goal, 1,000,000
// records in under five minutes, is 3,333 records/s (docs/benchmarks.md, "Vendor import").
func BenchmarkVendorImport(b *testing.B) {
	n := envInt("CITYOPS_BENCH_VENDOR_RECORDS", 5000)
	path := filepath.Join(b.TempDir(), "bench.csv")
	writeVendorBenchFile(b, path, n)
	file := exchange.VendorFile{Name: "bench.csv", Open: func() (io.ReadCloser, error) { return os.Open(path) }}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var floor time.Duration
			for range b.N {
				b.StopTimer()
				e := platformtest.MustEnv(b, dialect, exchange.Module(nil, nil, nil))
				vw := newVendorWorld(b, e, 0)
				vw.mustMapping(e.A, "szcg-a.mapping.json")
				b.StartTimer()
				rep, err := vw.im.Import(e.A, file, exchange.ImportOptions{Vendor: "szcg-a"})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if !rep.OK() || rep.Created != n || rep.Events != 5*n {
					b.Fatalf("%d created, %d events, %d problems, first %v", rep.Created, rep.Events, rep.ProblemCount, rep.Problems[:min(1, len(rep.Problems))])
				}
				if dialect == "postgres" {
					floor += copyFloor(b, e)
				}
				b.StartTimer()
			}
			el := b.Elapsed().Seconds()
			b.ReportMetric(float64(n*b.N)/el, "records/s")
			if floor > 0 {
				b.ReportMetric(float64(n*b.N)/floor.Seconds(), "floor-records/s")
				b.ReportMetric(el/floor.Seconds(), "x-floor")
			}
		})
	}
}

// writeVendorBenchFile writes n records of the szcg-a shape to path: reports spread over
// 2020–2024, half of them closed, the rest waiting for the department's feedback to be checked.
func writeVendorBenchFile(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("\ufeff案件编号,案件类型,大类,小类,问题来源,上报时间,问题描述,地址,经度,纬度,所属网格,处置部门,举报人,联系电话,环节,操作时间,操作人,操作部门,意见\n")
	classes := [][3]string{{"部件", "01", "0101"}, {"事件", "01", "0102"}, {"事件", "02", "0201"}}
	sources := []string{"监督员上报", "公众举报", "12345热线", "视频监控"}
	depts := []string{"市政公用局", "城市管理局"}
	open := []string{"上报", "受理", "立案", "派遣", "处置反馈"}
	closed := []string{"上报", "立案", "派遣", "处置反馈", "结案"}
	start := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		at := start.Add(time.Duration(i%1827)*24*time.Hour + time.Duration(i*7919%36000)*time.Second)
		cl, src, dept := classes[i%3], sources[i%4], depts[i%2]
		steps := open
		if i%2 == 0 {
			steps = closed
		}
		lon, lat := 101.50+float64(i%100)/1000, 25.00+float64(i/100%100)/1000
		for j, st := range steps {
			fmt.Fprintf(w, "B%08d,%s,%s,%s,%s,%s,问题描述%d,鹿城镇南路%d号,%.3f,%.3f,53230100100101,%s,张三%d,138%08d,%s,%s,操作员%d,数字城管中心,意见%d\n",
				i, cl[0], cl[1], cl[2], src, at.Format(time.DateTime), i, i%500, lon, lat, dept, i%97, i, st,
				at.Add(time.Duration(j)*47*time.Minute).Format(time.DateTime), j, j)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

var copyTimingRe = regexp.MustCompile(`Time: ([0-9.]+) ms`)

// copyFloor dumps the tenant's cases, case_events and vendor_records (untimed) and loads them with
// psql's \copy into empty tables made LIKE them (INCLUDING ALL: the same indexes and checks, no
// triggers or foreign keys) in a scratch schema, in one transaction; it returns the load's time as
// psql measured it.
func copyFloor(b *testing.B, e *platformtest.Env) time.Duration {
	b.Helper()
	dir := b.TempDir()
	src := e.TenantA.SchemaName
	tables := []string{"cases", "case_events", "vendor_records"}
	var dump, load strings.Builder
	load.WriteString("\\set ON_ERROR_STOP 1\nDROP SCHEMA IF EXISTS import_floor CASCADE;\nCREATE SCHEMA import_floor;\n")
	for _, t := range tables {
		file := filepath.Join(dir, t+".copy")
		fmt.Fprintf(&dump, "\\copy %s.%s TO '%s'\n", src, t, file)
		fmt.Fprintf(&load, "CREATE TABLE import_floor.%s (LIKE %s.%s INCLUDING ALL);\n", t, src, t)
	}
	load.WriteString("\\timing on\nBEGIN;\n")
	for _, t := range tables {
		fmt.Fprintf(&load, "\\copy import_floor.%s FROM '%s'\n", t, filepath.Join(dir, t+".copy"))
	}
	load.WriteString("COMMIT;\n\\timing off\nDROP SCHEMA import_floor CASCADE;\n")
	psql(b, e.PostgresDSN, dump.String())
	out := psql(b, e.PostgresDSN, load.String())
	ms := copyTimingRe.FindAllStringSubmatch(out, -1)
	if len(ms) != len(tables)+2 {
		b.Fatalf("psql: %d timings in %q", len(ms), out)
	}
	var sum float64
	for _, m := range ms {
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
	}
	return time.Duration(sum * float64(time.Millisecond))
}

func psql(b *testing.B, dsn, script string) string {
	cmd := exec.Command("psql", "-X", "-q", "-d", dsn)
	cmd.Stdin = strings.NewReader(script)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("psql: %v\n%s", err, errOut.String())
	}
	return out.String()
}
