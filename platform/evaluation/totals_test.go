package evaluation

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// filed inserts a case filed at at: one event, file.
func filed(ctx context.Context, db bun.IDB, id string, at time.Time) error {
	var seq int64
	if err := db.NewRaw("SELECT COALESCE(max(seq), 0) + 1 FROM cases").Scan(ctx, &seq); err != nil {
		return err
	}
	if _, err := db.NewRaw(`INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, lon, lat, reported_by, created_at, updated_at)
		VALUES (?, ?, ?, 'filed', 1, 'inspector', 'event', '01', 101.5, 25.0, 'x', ?, ?)`, id, id, seq, at, at).Exec(ctx); err != nil {
		return err
	}
	_, err := db.NewRaw(`INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, detail, at)
		VALUES (?, ?, 1, 'file', 'accepted', 'filed', 'x', 'shift_lead', '{}', ?)`, id+"-1", id, at).Exec(ctx)
	return err
}

// TestStoredTotals: an ended period's totals are stored once and read back by any process while
// they hold — under the prefecture's read-only scope too, which cannot store them; an event that
// lands before the period's end (a backdated import) makes them counted and stored again; a
// writer of past history drops them; a running period is not stored.
func TestStoredTotals(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
		clk := func() time.Time { return now }
		april := Month(2026, 4)
		write := func(fn func(ctx context.Context, db bun.IDB) error) {
			t.Helper()
			if err := e.Store.Tx(e.A, tenants.Write, fn); err != nil {
				t.Fatal(err)
			}
		}
		sum := func(s *Service, ctx context.Context) Summary {
			t.Helper()
			got, err := s.Summarize(ctx, april)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		rows := func() (n int) {
			t.Helper()
			write(func(ctx context.Context, db bun.IDB) error {
				return db.NewRaw("SELECT count(*) FROM evaluation_totals").Scan(ctx, &n)
			})
			return n
		}
		write(func(ctx context.Context, db bun.IDB) error {
			return filed(ctx, db, "a1", time.Date(2026, 4, 10, 9, 0, 0, 0, clock.China))
		})
		write(func(ctx context.Context, db bun.IDB) error {
			return filed(ctx, db, "m1", time.Date(2026, 5, 10, 9, 0, 0, 0, clock.China))
		})

		s := NewService(e.Store, clk)
		if got := sum(s, e.A); got.Filed != 1 {
			t.Fatalf("April counted: %+v", got)
		}
		if stored, err := s.StoreTotals(e.A, april); err != nil || !stored {
			t.Fatalf("store: %v %v", stored, err)
		}
		if stored, err := s.StoreTotals(e.A, april); err != nil || stored {
			t.Fatalf("stored again while they hold: %v %v", stored, err)
		}
		if _, err := s.StoreTotals(e.A, Month(2026, 5)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a running month stored: %v", err)
		}
		if _, err := s.StoreTotals(e.View, Month(2026, 3)); err == nil {
			t.Fatal("the prefecture's read-only scope stored totals")
		}
		// Another process reads the row, not the history: a row made to say 99 is what it gives.
		write(func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE evaluation_totals SET filed = 99").Exec(ctx)
			return err
		})
		if got := sum(NewService(e.Store, clk), e.A); got.Filed != 99 {
			t.Fatalf("a new process counted instead of reading the stored totals: %+v", got)
		}
		if got := sum(NewService(e.Store, clk), e.View); got.Filed != 99 {
			t.Fatalf("the prefecture's reading: %+v", got)
		}
		// A backdated event within April: the stored totals no longer hold.
		write(func(ctx context.Context, db bun.IDB) error {
			return filed(ctx, db, "a2", time.Date(2026, 4, 11, 9, 0, 0, 0, clock.China))
		})
		if got := sum(NewService(e.Store, clk), e.A); got.Filed != 2 {
			t.Fatalf("after an event within April: %+v", got)
		}
		if stored, err := s.StoreTotals(e.A, april); err != nil || !stored {
			t.Fatalf("store again: %v %v", stored, err)
		}
		if got := sum(NewService(e.Store, clk), e.A); got.Filed != 2 {
			t.Fatalf("stored anew: %+v", got)
		}
		s.HistoryChanged(e.A, e.TenantA.ID)
		if n := rows(); n != 0 {
			t.Fatalf("%d stored totals left after a change of past history", n)
		}
	}, Module(nil, nil, nil))
}

// TestEndedPeriods: the loop keeps the 13 months, 5 quarters and 2 years that ended last.
func TestEndedPeriods(t *testing.T) {
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
	ps := endedPeriods(now)
	if len(ps) != 20 || ps[0].Name != "2026-04" || ps[12].Name != "2025-04" || ps[13].Name != "2026-Q1" || ps[17].Name != "2025-Q1" ||
		ps[18].Name != "2025" || ps[19].Name != "2024" {
		names := []string{}
		for _, p := range ps {
			names = append(names, p.Name)
		}
		t.Fatalf("periods %v", names)
	}
	for _, p := range ps {
		if p.To.After(now) {
			t.Fatalf("%s has not ended", p.Name)
		}
	}
}

// TestStoreEnded: a pass of the loop stores every ended period of every county (not the
// prefecture's), and a second pass counts nothing again.
func TestStoreEnded(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
		s := NewService(e.Store, func() time.Time { return now })
		k := module.Kit{Store: e.Store, Log: slog.New(slog.DiscardHandler)}
		count := func(ctx context.Context) (n int) {
			t.Helper()
			if err := e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
				return db.NewRaw("SELECT count(*) FROM evaluation_totals").Scan(ctx, &n)
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		s.storeEnded(context.Background(), k)
		if a, b, p := count(e.A), count(e.B), count(e.Pref); a != 20 || b != 20 || p != 0 {
			t.Fatalf("stored: A %d, B %d, the prefecture %d", a, b, p)
		}
		for _, q := range endedPeriods(now) {
			if stored, err := s.StoreTotals(e.A, q); err != nil || stored {
				t.Fatalf("%s counted again: %v %v", q.Name, stored, err)
			}
		}
	}, Module(nil, nil, nil))
}
