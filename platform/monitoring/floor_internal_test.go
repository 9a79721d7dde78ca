package monitoring

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// BenchmarkIngestCopyFloor is BenchmarkIngestHTTP's floor: the same rows (batches of 1,000
// readings of one device) written with COPY alone, one tenant transaction per batch: no HTTP, no
// JSON, no checks, no rollups, no batch row.
func BenchmarkIngestCopyFloor(b *testing.B) {
	e := platformtest.MustEnv(b, "postgres", Module(nil))
	start := time.Date(2026, 11, 17, 12, 0, 0, 0, time.UTC)
	batches := make([][]*reading, b.N)
	for n := range b.N {
		base := start.Add(time.Duration(n/10) * 100 * time.Second)
		for j := range 1000 {
			m := "strain"
			if j%2 == 1 {
				m = "tilt"
			}
			batches[n] = append(batches[n], &reading{DeviceID: int64(n%10 + 1), Metric: m, At: base.Add(time.Duration(j) * 100 * time.Millisecond).UnixMilli(), Value: float64(j%40) + 0.25})
		}
	}
	b.ResetTimer()
	for n := range b.N {
		if err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			return tenants.CopyFrom(ctx, db, batches[n], 500)
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "readings/s")
}
