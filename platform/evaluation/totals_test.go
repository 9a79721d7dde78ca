package evaluation

import (
	"context"
	"fmt"
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
	return happened(ctx, db, id, 1, "file", at)
}

// happened appends event version of action to case id's history at at.
func happened(ctx context.Context, db bun.IDB, id string, version int, action string, at time.Time) error {
	_, err := db.NewRaw(`INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, detail, at)
		VALUES (?, ?, ?, ?, 'x', 'x', 'x', 'shift_lead', '{}', ?)`, fmt.Sprintf("%s-%d", id, version), id, version, action, at).Exec(ctx)
	return err
}

// writeA runs fn in a write transaction of tenant A, failing the test on an error.
func writeA(t *testing.T, e *platformtest.Env, fn func(ctx context.Context, db bun.IDB) error) {
	t.Helper()
	if err := e.Store.Tx(e.A, tenants.Write, fn); err != nil {
		t.Fatal(err)
	}
}

// summarize is s's Summarize of p in ctx, failing the test on an error.
func summarize(t *testing.T, s *Service, ctx context.Context, p Period) Summary {
	t.Helper()
	got, err := s.Summarize(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStoredTotals: an ended period's totals are stored once and read back by any process while
// they hold — under the prefecture's read-only scope too, which cannot store them; an event that
// lands before the period's end (a backdated import) makes them counted and stored again; a
// writer of past history drops them; a period to come is not stored.
func TestStoredTotals(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
		clk := func() time.Time { return now }
		april := Month(2026, 4)
		write := func(fn func(ctx context.Context, db bun.IDB) error) { t.Helper(); writeA(t, e, fn) }
		sum := func(s *Service, ctx context.Context) Summary { t.Helper(); return summarize(t, s, ctx, april) }
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
		if _, err := s.StoreTotals(e.A, Month(2026, 6)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a month to come stored: %v", err)
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

// TestStoreEnded: a pass of the loop stores every ended and running period of every county (not
// the prefecture's), and a second pass counts nothing again.
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
		s.storeTotals(context.Background(), k)
		if a, b, p := count(e.A), count(e.B), count(e.Pref); a != 23 || b != 23 || p != 0 {
			t.Fatalf("stored: A %d, B %d, the prefecture %d", a, b, p)
		}
		for _, q := range append(endedPeriods(now), runningPeriods(now)...) {
			if stored, err := s.StoreTotals(e.A, q); err != nil || stored {
				t.Fatalf("%s counted again: %v %v", q.Name, stored, err)
			}
		}
	}, Module(nil, nil, nil))
}

// TestRunningTotals: the totals of the month still running are stored as of settle before now;
// a process that has counted nothing reads them and adds what the events since changed (a
// filing, and the closing of a case filed before); an event landing behind the stored instant
// makes them counted again; the loop carries them forward within a day and counts them afresh
// the next.
func TestRunningTotals(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
		clk := func() time.Time { return now }
		may := Month(2026, 5)
		at := func(h, m int) time.Time { return time.Date(2026, 5, 20, h, m, 0, 0, clock.China) }
		write := func(fn func(ctx context.Context, db bun.IDB) error) { t.Helper(); writeA(t, e, fn) }
		sum := func(ctx context.Context) Summary { t.Helper(); return summarize(t, NewService(e.Store, clk), ctx, may) }
		stored := func() (r totalsRow) {
			t.Helper()
			write(func(ctx context.Context, db bun.IDB) error {
				return db.NewSelect().Model(&r).Where("period_from = ?", may.From.UTC()).Scan(ctx)
			})
			return r
		}
		write(func(ctx context.Context, db bun.IDB) error {
			return filed(ctx, db, "m1", time.Date(2026, 5, 10, 9, 0, 0, 0, clock.China))
		})
		s := NewService(e.Store, clk)
		if ok, err := s.StoreTotals(e.A, may); err != nil || !ok {
			t.Fatalf("store: %v %v", ok, err)
		}
		if r := stored(); !r.AsOf.Equal(now.Add(-settle)) || r.Filed != 1 || r.Closed != 0 || r.Reported != 1 {
			t.Fatalf("stored %+v", r)
		}
		// Since: m1 closed, m2 filed. The row is made to say 98 filed to show it is what is read.
		write(func(ctx context.Context, db bun.IDB) error {
			if err := happened(ctx, db, "m1", 2, "close", at(11, 57)); err != nil {
				return err
			}
			if err := filed(ctx, db, "m2", at(11, 58)); err != nil {
				return err
			}
			_, err := db.NewRaw("UPDATE evaluation_totals SET filed = 98").Exec(ctx)
			return err
		})
		for _, ctx := range []context.Context{e.A, e.View} {
			if got := sum(ctx); got.Filed != 99 || got.Closed != 1 || got.ClosedOnTime != 1 || got.Reported != 2 {
				t.Fatalf("the stored totals and what changed since: %+v", got)
			}
		}
		// The loop within the day carries the row forward.
		now = at(12, 15)
		if ok, err := s.StoreTotals(e.A, may); err != nil || !ok {
			t.Fatalf("store: %v %v", ok, err)
		}
		if r := stored(); !r.AsOf.Equal(now.Add(-settle)) || r.Filed != 99 || r.Closed != 1 || r.Reported != 2 {
			t.Fatalf("carried forward %+v", r)
		}
		if ok, err := s.StoreTotals(e.A, may); err != nil || ok {
			t.Fatalf("stored again with nothing new: %v %v", ok, err)
		}
		// An event that lands behind the stored instant: counted from the history.
		write(func(ctx context.Context, db bun.IDB) error { return filed(ctx, db, "m3", at(12, 5)) })
		if got := sum(e.A); got.Filed != 3 || got.Closed != 1 || got.Reported != 3 {
			t.Fatalf("after an event behind the stored instant: %+v", got)
		}
		// The next day the loop counts the whole month again.
		write(func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE evaluation_totals SET filed = 98").Exec(ctx)
			return err
		})
		now = time.Date(2026, 5, 21, 0, 20, 0, 0, clock.China)
		if ok, err := s.StoreTotals(e.A, may); err != nil || !ok {
			t.Fatalf("store: %v %v", ok, err)
		}
		if r := stored(); r.Filed != 3 || r.Closed != 1 {
			t.Fatalf("counted afresh the next day: %+v", r)
		}
		// Once the month has ended the row is its final totals.
		now = time.Date(2026, 6, 1, 0, 30, 0, 0, clock.China)
		if ok, err := s.StoreTotals(e.A, may); err != nil || !ok {
			t.Fatalf("store: %v %v", ok, err)
		}
		if r := stored(); !r.AsOf.Equal(may.To) || r.Filed != 3 {
			t.Fatalf("the ended month: %+v", r)
		}
		if got := sum(e.View); got.Filed != 3 {
			t.Fatalf("the ended month read: %+v", got)
		}
	}, Module(nil, nil, nil))
}
