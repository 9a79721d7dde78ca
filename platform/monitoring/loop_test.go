package monitoring_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants"
)

// TestRetentionLoop: the module's background loop expires the old readings of every tenant
// whose plan has monitoring, and leaves the others alone.
func TestRetentionLoop(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a, b := w.e.A, w.e.B
		toks := map[context.Context]string{a: w.mustDevice(t, a, "GAS-1", "gas"), b: w.mustDevice(t, b, "GAS-1", "gas")}
		t0 := w.clk.Now()
		w.clk.Set(t0.Add(-40 * 24 * time.Hour))
		for ctx, tok := range toks {
			if _, err := w.s.Ingest(ctx, tok, monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "concentration", Value: 3}}}); err != nil {
				t.Fatal(err)
			}
		}
		w.clk.Set(t0)
		k := module.Kit{Store: w.e.Store, Now: w.clk.Now, Log: slog.New(slog.DiscardHandler),
			Entitled: func(_ context.Context, tn *tenants.Tenant, ent string) (bool, error) {
				return ent == monitoring.Entitlement && tn.ID == w.e.TenantA.ID, nil
			}}
		parts, err := monitoring.Module(w.s).Build(k)
		if err != nil || len(parts.Background) == 0 || parts.Background[0].Name != "retention" {
			t.Fatalf("parts: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { parts.Background[0].Run(ctx); close(done) }()
		raw := func(ctx context.Context) int {
			d, err := w.s.FindDeviceByCode(ctx, "GAS-1")
			if err != nil {
				t.Fatal(err)
			}
			ser, err := w.s.FindSeries(ctx, d, "concentration", t0.Add(-50*24*time.Hour), t0, "raw")
			if err != nil {
				t.Fatal(err)
			}
			return len(ser.Points)
		}
		deadline := time.Now().Add(10 * time.Second)
		for raw(a) != 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
		if n := raw(a); n != 0 {
			t.Fatalf("A keeps %d readings older than 30 days", n)
		}
		if n := raw(b); n != 1 {
			t.Fatalf("B, without monitoring, has %d readings, want its 1 untouched", n)
		}
	})
}
