package billing

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
)

func TestRecordCountsEachKeyOnceAndRollsUp(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := mustTenant(t, e, "chuxiong", "532301")
		b := mustTenant(t, e, "wuding", "532329")
		// 50 distinct cases in A, each recorded three times from concurrent goroutines.
		var wg sync.WaitGroup
		for g := 0; g < 3; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if err := e.svc.Record(ctx, a.ID, MeterCasesCreated, 1, fmt.Sprintf("case:%d", i)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if err := e.svc.Record(ctx, b.ID, MeterSMS, 7, "sms:1"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// The same keys again, later and in one batch with repeats inside it.
		e.clock.Add(2 * time.Hour)
		n, err := e.svc.Ingest(ctx, []Event{
			{Tenant: a.ID, Meter: MeterCasesCreated, Quantity: 1, IdempotencyKey: "case:1"},
			{Tenant: a.ID, Meter: MeterCasesCreated, Quantity: 1, IdempotencyKey: "case:new"},
			{Tenant: a.ID, Meter: MeterCasesCreated, Quantity: 1, IdempotencyKey: "case:new"},
		})
		if err != nil || n != 1 {
			t.Fatalf("ingest: %d new, %v; want 1 new", n, err)
		}
		for _, p := range []string{Hour, Day, Month} {
			us, err := e.svc.FindUsage(ctx, UsageFilter{Tenant: a.ID, Period: p, Meter: MeterCasesCreated})
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, u := range us {
				sum += u.Quantity
			}
			if sum != 51 {
				t.Errorf("%s roll-ups of A sum to %d, want 51 (%v)", p, sum, us)
			}
			if p == Hour && len(us) != 2 {
				t.Errorf("hour roll-ups: got %d rows, want 2", len(us))
			}
			if p == Day && len(us) != 1 {
				t.Errorf("day roll-ups: got %d rows, want 1", len(us))
			}
		}
		us, _ := e.svc.FindUsage(ctx, UsageFilter{Tenant: b.ID, Period: Month})
		if len(us) != 1 || us[0].Quantity != 7 || us[0].Meter != MeterSMS {
			t.Fatalf("B's usage: %+v", us)
		}
		// A's usage is not B's.
		us, _ = e.svc.FindUsage(ctx, UsageFilter{Tenant: b.ID, Period: Month, Meter: MeterCasesCreated})
		if len(us) != 0 {
			t.Fatalf("B sees cases: %+v", us)
		}
		// The month boundary is China time: 2026-05-01 00:00 CST.
		us, _ = e.svc.FindUsage(ctx, UsageFilter{Tenant: a.ID, Period: Month})
		if got := us[0].PeriodStart.In(clock.China); got.Day() != 1 || got.Hour() != 0 {
			t.Fatalf("month starts at %v", got)
		}
	})
}

func TestRecordRejectsBadInputAndFlushesOnClose(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	ctx := context.Background()
	a := mustTenant(t, e, "chuxiong", "532301")
	for _, c := range []struct {
		meter string
		qty   int64
		key   string
		field string
	}{
		{"bogus", 1, "k", "meter"}, {MeterSMS, -1, "k", "quantity"}, {MeterSMS, 1, "", "idempotency_key"},
	} {
		err := e.svc.Record(ctx, a.ID, c.meter, c.qty, c.key)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != c.field {
			t.Errorf("Record(%q, %d, %q) = %v, want invalid %s", c.meter, c.qty, c.key, err, c.field)
		}
	}
	svc := NewService(Deps{Store: e.store, Now: e.clock.Now, FlushInterval: time.Hour})
	for i := 0; i < 1000; i++ {
		if err := svc.Record(ctx, a.ID, MeterAPIRequests, 1, fmt.Sprintf("api:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Record(ctx, a.ID, MeterAPIRequests, 1, "late"); err == nil {
		t.Fatal("Record after Close succeeded")
	}
	us, _ := e.svc.FindUsage(ctx, UsageFilter{Tenant: a.ID, Period: Month, Meter: MeterAPIRequests})
	if len(us) != 1 || us[0].Quantity != 1000 {
		t.Fatalf("after Close: %+v, want 1000 API requests", us)
	}
}
