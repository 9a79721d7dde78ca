package monitoring_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
)

// BenchmarkIngestHTTP posts batches of 1,000 readings (10 devices in turn, a reading every
// 100 ms of each) through the HTTP handler into PostgreSQL: JSON decoding, the checks, COPY of
// the raw rows, the three rollup upserts and the batch row, one tenant transaction per batch.
// It reports readings/s.
func BenchmarkIngestHTTP(b *testing.B) {
	e := platformtest.MustEnv(b, "postgres", monitoring.Module(nil))
	w := newWorld(b, e)
	f := w.server(b, &usage{}, true)
	var toks []string
	for i := range 10 {
		toks = append(toks, w.mustDevice(b, e.A, fmt.Sprintf("BR-%02d", i), "bridge"))
	}
	start := w.clk.Now().Add(-20 * 24 * time.Hour)
	bodies := make([]string, 0, b.N)
	for n := range b.N {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"batch":"b%d","readings":[`, n)
		base := start.Add(time.Duration(n/10) * 100 * time.Second)
		for j := range 1000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			m := "strain"
			if j%2 == 1 {
				m = "tilt"
			}
			fmt.Fprintf(&sb, `{"metric":%q,"value":%d.25,"at":%q}`, m, j%40, base.Add(time.Duration(j)*100*time.Millisecond).UTC().Format(time.RFC3339Nano))
		}
		sb.WriteString("]}")
		bodies = append(bodies, sb.String())
	}
	b.ResetTimer()
	for n := range b.N {
		if r := result(b, post(b, f, "/api/v1/ingest/chuxiong/readings", toks[n%10], bodies[n])); r.Accepted != 1000 {
			b.Fatalf("accepted %d", r.Accepted)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "readings/s")
}
