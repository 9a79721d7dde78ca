package cases_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// TestCountIndicators seeds cases in two counties at known times and states and checks every
// indicator exactly, read through the prefecture viewer's read-only scope.
func TestCountIndicators(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		// 2026-03-01 23:30 UTC is 2026-03-02 07:30 in Beijing.
		clk := &clock{t: time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now})
		acc1, acc2 := as(e.TenantA, uuid.New(), tenants.Acceptor), as(e.TenantA, uuid.New(), tenants.Acceptor)
		report := func(ctx context.Context) *cases.Case {
			t.Helper()
			c, err := s.Report(ctx, cases.ReportInput{Source: cases.FromCitizen, Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		set := func(ctx context.Context, id, sql string, args ...any) {
			t.Helper()
			if err := e.Store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.NewRaw("UPDATE cases SET "+sql+" WHERE id = ?", append(args, id)...).Exec(ctx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		before := report(acc1) // 2026-03-02 07:30 Beijing, before the period
		clk.add(2 * time.Hour)
		periodStart := clk.now() // 2026-03-02 09:30 Beijing
		c1 := report(acc1)
		c2 := report(acc2)
		clk.add(24 * time.Hour) // 2026-03-03
		c3 := report(acc1)
		c4 := report(acc1)
		// In B, one case: B's figures stay B's.
		cb := report(as(e.TenantB, uuid.New(), tenants.Acceptor))
		set(e.A, c1.ID, "state = ?, closed_at = ?, overdue = ?", cases.Closed, c1.CreatedAt.Add(2*time.Hour), false)
		set(e.A, c2.ID, "state = ?, closed_at = ?, overdue = ?", cases.Closed, c2.CreatedAt.Add(4*time.Hour), true)
		set(e.A, c3.ID, "stage_overdue = ?", true)
		set(e.A, c4.ID, "state = ?, overdue = ?", cases.Voided, true)
		set(e.A, before.ID, "overdue = ?", true) // open and overdue, reported before the period
		set(e.B, cb.ID, "state = ?, closed_at = ?", cases.Closed, cb.CreatedAt.Add(time.Hour))

		p := cases.Period{From: periodStart, To: periodStart.Add(7 * 24 * time.Hour), Bucket: cases.ByDay}
		got, err := s.CountIndicators(e.View, p)
		if err != nil {
			t.Fatal(err)
		}
		want := &cases.Indicators{Reported: 4, Closed: 2, ClosedOnTime: 1, AvgHandling: 3 * time.Hour, OpenNow: 2, OverdueNow: 2, ActiveStaff: 2,
			Series: map[string]int{"2026-03-02": 2, "2026-03-03": 2}, Lat: 25, Lon: 101.5}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("indicators of A:\n got %+v\nwant %+v", got, want)
		}
		if r, ok := got.OnTimeRate(); !ok || r != 0.5 {
			t.Fatalf("on-time rate %v %v", r, ok)
		}
		p.Bucket = cases.ByMonth
		p.From = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		gotB, err := s.CountIndicators(e.B, p)
		if err != nil {
			t.Fatal(err)
		}
		wantB := &cases.Indicators{Reported: 1, Closed: 1, ClosedOnTime: 1, AvgHandling: time.Hour, ActiveStaff: 1, Series: map[string]int{"2026-03": 1}, Lat: 25, Lon: 101.5}
		if !reflect.DeepEqual(gotB, wantB) {
			t.Fatalf("indicators of B:\n got %+v\nwant %+v", gotB, wantB)
		}
		empty := cases.Period{From: p.From.AddDate(-1, 0, 0), To: p.From, Bucket: cases.ByMonth}
		if got, err := s.CountIndicators(e.View, empty); err != nil || !reflect.DeepEqual(got, &cases.Indicators{OpenNow: 2, OverdueNow: 2, Series: map[string]int{}}) {
			t.Fatalf("a period without cases: %+v %v", got, err)
		}
		if bs := p.Buckets(); !reflect.DeepEqual(bs, []string{"2026-01", "2026-02", "2026-03"}) {
			t.Fatalf("month buckets %v", bs)
		}
		if _, err := s.CountIndicators(e.View, cases.Period{From: p.To, To: p.From, Bucket: cases.ByDay}); err == nil {
			t.Fatal("a period ending before it starts was taken")
		}
	})
}

func TestPeriodDayBuckets(t *testing.T) {
	// 2026-05-13 17:00 UTC is already 2026-05-14 in Beijing.
	p := cases.Period{From: time.Date(2026, 5, 13, 17, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 16, 1, 0, 0, 0, time.UTC), Bucket: cases.ByDay}
	if got, want := p.Buckets(), []string{"2026-05-14", "2026-05-15", "2026-05-16"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
