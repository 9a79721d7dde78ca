package billing

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// BenchmarkIngest measures sustained usage ingestion into the control database through Record
// (buffered, batched, idempotent, rolled up in the same transaction), from 8 concurrent producers
// over 20 tenants, with 1 in 10 events a repeat. It checks that nothing was lost or counted twice.
//
//	go test -run '^$' -bench Ingest -benchtime 200000x ./billing/
func BenchmarkIngest(b *testing.B) {
	for _, d := range []dbx.Dialect{dbx.SQLite, dbx.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, d, nil)
			ts := make([]uuid.UUID, 20)
			for i := range ts {
				ts[i] = mustTenant(b, e, fmt.Sprintf("b%d", i), fmt.Sprintf("53%04d", i+1)).ID
			}
			svc := NewService(Deps{Store: e.store, Now: e.clock.Now, BatchSize: 5000, FlushInterval: 100 * time.Millisecond})
			ctx := context.Background()
			const producers = 8
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func(p int) {
					defer wg.Done()
					for i := p; i < b.N; i += producers {
						key := i
						if i%10 == 9 {
							key = i - 1 // a repeat of an event already sent
						}
						if err := svc.Record(ctx, ts[key%len(ts)], MeterAPIRequests, 1, fmt.Sprintf("bench:%d", key)); err != nil {
							b.Error(err)
							return
						}
					}
				}(p)
			}
			wg.Wait()
			if err := svc.Close(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			want := int64(b.N - b.N/10)
			var rows, rolled int64
			err := e.store.ControlTx(ctx, 0, func(ctx context.Context, tx bun.Tx) error {
				if err := tx.NewSelect().Table("control.usage_events").ColumnExpr("count(*)").Scan(ctx, &rows); err != nil {
					return err
				}
				return tx.NewSelect().Table("control.usage_rollups").ColumnExpr("coalesce(sum(quantity), 0)").Where("period = 'month'").Scan(ctx, &rolled)
			})
			if err != nil {
				b.Fatal(err)
			}
			if rows != want || rolled != want {
				b.Fatalf("stored %d events and rolled up %d, want %d of each", rows, rolled, want)
			}
		})
	}
}
