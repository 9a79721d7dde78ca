package billing

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
)

// TestRateAll: the month is checked before anything is charged (a month is rated only once it
// has ended, China time), and an ended month is rated for every active and suspended tenant,
// once however often it runs.
func TestRateAll(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		active := mustTenant(t, e, "chuxiong", "532301")
		suspended := mustTenant(t, e, "wuding", "532329")
		gone := mustTenant(t, e, "yaoan", "532325")
		for tn, st := range map[*tenants.Tenant]tenants.Status{suspended: tenants.StatusSuspended, gone: tenants.StatusDeleted} {
			if _, err := e.store.DB().NewUpdate().Model(tn).Set("status = ?", st).WherePK().Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, tn := range []*tenants.Tenant{active, suspended, gone} {
			if _, err := e.svc.SetPlan(ctx, tn, "standard", nil); err != nil {
				t.Fatal(err)
			}
		}

		// The clock is 2026-05-14 China time: May is running, June has not started.
		for _, tc := range []struct{ name, month string }{
			{"running month", "2026-05"},
			{"future month", "2026-06"},
			{"not a month", "May"},
			{"before 2000", "1999-12"},
		} {
			rs, err := e.svc.RateAll(ctx, tc.month)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "month" || rs != nil {
				t.Errorf("%s %s: got %v, %v, want an invalid month", tc.name, tc.month, rs, err)
			}
		}
		if b, _ := e.svc.FindBalance(ctx, active.ID, time.Time{}); b.Charged != 0 {
			t.Fatalf("a refused month charged %d", b.Charged)
		}

		// On 31 May at 23:59 China time May is still running; at midnight China time (still 31 May
		// in UTC) it has ended.
		e.clock.Set(time.Date(2026, 5, 31, 23, 59, 59, 0, clock.China))
		if _, err := e.svc.RateAll(ctx, "2026-05"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("May rated a second before it ended: %v", err)
		}
		e.clock.Set(time.Date(2026, 6, 1, 0, 0, 0, 0, clock.China))
		for i := 0; i < 2; i++ {
			rs, err := e.svc.RateAll(ctx, "2026-05")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range rs {
				got[r.Tenant] = r.Month
			}
			if len(rs) != 2 || got["chuxiong"] != "2026-05" || got["wuding"] != "2026-05" {
				t.Fatalf("run %d rated %v, want chuxiong and wuding for 2026-05", i+1, got)
			}
		}
		for _, tc := range []struct {
			t    *tenants.Tenant
			want int64
		}{{active, 1_500_000}, {suspended, 1_500_000}, {gone, 0}} {
			if b, _ := e.svc.FindBalance(ctx, tc.t.ID, time.Time{}); b.Charged != tc.want {
				t.Errorf("%s charged %d, want %d", tc.t.Slug, b.Charged, tc.want)
			}
		}
	})
}
