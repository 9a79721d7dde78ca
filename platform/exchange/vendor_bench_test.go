package exchange_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
)

// BenchmarkVendorImport imports CITYOPS_BENCH_VENDOR_RECORDS records (default 5000) of five
// history rows each from a CSV shaped like the szcg-a sample, on SQLite and PostgreSQL: the check
// pass and the write pass, reported as records/s. (The goal, 1,000,000 records in under
// five minutes, is 3,333 records/s.)
func BenchmarkVendorImport(b *testing.B) {
	n := envInt("CITYOPS_BENCH_VENDOR_RECORDS", 5000)
	var sb strings.Builder
	sb.WriteString("案件编号,案件类型,大类,小类,问题来源,上报时间,问题描述,地址,经度,纬度,所属网格,处置部门,举报人,联系电话,环节,操作时间,操作人,操作部门,意见\n")
	steps := []string{"上报", "受理", "立案", "派遣", "处置反馈"}
	for i := range n {
		day := 1 + i%28
		for j, st := range steps {
			fmt.Fprintf(&sb, "B%08d,部件,01,0101,公众举报,2024-03-%02d 08:00:00,井盖缺失,鹿城镇南路%d号,101.505,25.005,53230100100101,市政公用局,张三,13800000000,%s,2024-03-%02d %02d:30:00,王受理,数字城管中心,\n",
				i, day, i, st, day, 8+j)
		}
	}
	data := []byte(sb.String())
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				e := platformtest.MustEnv(b, dialect, exchange.Module(nil, nil, nil))
				vw := newVendorWorld(b, e, 0)
				vw.mustMapping(e.A, "szcg-a.mapping.json")
				b.StartTimer()
				rep, err := vw.im.Import(e.A, memFile("bench.csv", data), exchange.ImportOptions{Vendor: "szcg-a"})
				if err != nil {
					b.Fatal(err)
				}
				if !rep.OK() || rep.Created != n {
					b.Fatalf("%d created, %d problems, first %v", rep.Created, rep.ProblemCount, rep.Problems[:min(1, len(rep.Problems))])
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
