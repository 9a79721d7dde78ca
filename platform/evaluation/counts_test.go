package evaluation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// TestDeadlinePassed: the SQL aggregates (floor_sql_test.go) read, in both dialects, a recorded deadline (RFC 3339 UTC, as the case loop
// writes it, with or without a fraction) against the bound end of a period, whole or fractional
// (a running period ends now), and tell a null deadline and a missing one apart.
func TestDeadlinePassed(t *testing.T) {
	end := time.Date(2026, 4, 30, 16, 0, 0, 0, time.UTC) // 1 May 00:00 China time
	now := time.Date(2026, 5, 20, 12, 1, 0, 500_000_000, time.UTC)
	tests := []struct {
		detail   string
		end      time.Time
		records  int
		deadline int
	}{
		{`{"deadline":"2026-04-30T15:59:59Z"}`, end, 1, 1},
		{`{"deadline":"2026-04-30T16:00:00Z"}`, end, 1, 0},
		{`{"deadline":"2026-04-30T16:00:01Z"}`, end, 1, 0},
		{`{"deadline":"2026-04-30T15:59:59.998765Z"}`, end, 1, 1},
		{`{"deadline":"2026-04-30T16:00:00.001234Z"}`, end, 1, 0},
		{`{"deadline":"2026-04-09T01:00:00Z","department_id":"x"}`, end, 1, 1},
		{`{"deadline":"2026-05-01T01:00:00Z"}`, end, 1, 0},
		{`{"deadline":"2026-05-20T12:01:00.25Z"}`, now, 1, 1},
		{`{"deadline":"2026-05-20T12:01:00.75Z"}`, now, 1, 0},
		{`{"deadline":"2026-05-20T12:01:00Z"}`, now, 1, 1},
		{`{"deadline":null}`, end, 1, 0},
		{`{"department_id":"x"}`, end, 0, 0},
		{`{}`, end, 0, 0},
	}
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			d := sqlDialect{pg: db.Dialect().Name() == dialect.PG}
			q := "SELECT CASE WHEN " + d.recordsDeadline("x") + " THEN 1 ELSE 0 END AS records, " + d.deadlinePassed("x") +
				" AS deadline FROM (SELECT CAST(?0 AS text) AS detail) x"
			for _, tc := range tests {
				var got struct {
					Records  int `bun:"records"`
					Deadline int `bun:"deadline"`
				}
				if err := db.NewRaw(q, tc.detail, tc.end).Scan(ctx, &got); err != nil {
					return err
				}
				if got.Records != tc.records || got.Deadline != tc.deadline {
					t.Errorf("%s before %s: records %d passed %d, want %d %d", tc.detail, tc.end.Format(time.RFC3339Nano), got.Records, got.Deadline, tc.records, tc.deadline)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestFoldReadsDeadline: the fold reads a recorded deadline (RFC 3339 UTC, with or without a
// fraction) against the period's end, whole or fractional, counts a null one (clock stopped) as
// not passed, and falls back to the case's current deadline when the history records none.
func TestFoldReadsDeadline(t *testing.T) {
	end := time.Date(2026, 4, 30, 16, 0, 0, 0, time.UTC) // 1 May 00:00 China time
	now := time.Date(2026, 5, 20, 12, 1, 0, 500_000_000, time.UTC)
	from := time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)
	before := end.Add(-time.Hour)
	tests := []struct {
		detail     string
		end        time.Time
		deadlineAt *time.Time // the case's current deadline
		pending    int64
	}{
		{`{"deadline":"2026-04-30T15:59:59Z"}`, end, nil, 1},
		{`{"deadline":"2026-04-30T16:00:00Z"}`, end, nil, 0},
		{`{"deadline":"2026-04-30T15:59:59.998765Z"}`, end, nil, 1},
		{`{"deadline":"2026-04-30T16:00:00.001234Z"}`, end, nil, 0},
		{`{"deadline":"2026-05-20T12:01:00.25Z"}`, now, nil, 1},
		{`{"deadline":"2026-05-20T12:01:00.75Z"}`, now, nil, 0},
		{`{"deadline":null}`, end, &before, 0},
		{`{}`, end, &before, 1},
		{`{}`, end, nil, 0},
	}
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		for i, tc := range tests {
			err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				dept := fmt.Sprintf("dept-%02d", i)
				d := `{"department_id":"` + dept + `"}`
				if tc.detail != "{}" {
					d = `{"department_id":"` + dept + `",` + strings.TrimPrefix(tc.detail, "{")
				}
				if err := dispatched(ctx, db, fmt.Sprintf("case-%02d", i), from.Add(time.Duration(i)*time.Hour), tc.deadlineAt, d); err != nil {
					return err
				}
				c, err := count(ctx, db, from, tc.end)
				if err != nil {
					return err
				}
				got := c.Rows[Departments][dept]
				if got["dispatched"] != 1 || got["overdue_pending"] != tc.pending {
					t.Errorf("%s (case deadline %v) before %s: %v, want overdue pending %d", d, tc.deadlineAt, tc.end.Format(time.RFC3339Nano), got, tc.pending)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// dispatched writes, straight into the history, a case reported at at and dispatched at once with
// the dispatch's detail (its deadline now deadlineAt, which may be nil).
func dispatched(ctx context.Context, db bun.IDB, id string, at time.Time, deadlineAt *time.Time, detail string) error {
	var seq int64
	if err := db.NewRaw("SELECT COALESCE(max(seq), 0) + 1 FROM cases").Scan(ctx, &seq); err != nil {
		return err
	}
	if _, err := db.NewRaw(`INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, lon, lat, reported_by, deadline_at, created_at, updated_at)
		VALUES (?, ?, ?, 'dispatched', 1, 'inspector', 'event', '01', 101.5, 25.0, 'x', ?, ?, ?)`,
		id, id, seq, deadlineAt, at, at).Exec(ctx); err != nil {
		return err
	}
	_, err := db.NewRaw(`INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, detail, at)
		VALUES (?, ?, 1, 'dispatch', 'filed', 'dispatched', 'x', 'dispatcher', ?, ?)`, id+"-1", id, detail, at).Exec(ctx)
	return err
}

// TestEvaluateCache: figures are computed again only when the history within the period changed:
// an event after a past period's end leaves its figures cached, one within it does not; a period
// still running is computed again after runningTTL even with nothing new.
func TestEvaluateCache(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, clock.China)
		s := NewService(e.Store, func() time.Time { return now })
		april, may := Month(2026, 4), Month(2026, 5)
		add := func(id string, at time.Time) {
			t.Helper()
			err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				return dispatched(ctx, db, id, at, nil, `{"department_id":"d1","deadline":null}`)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		eval := func(p Period) *Figures {
			t.Helper()
			f, err := s.Evaluate(e.A, p)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		dispatchedIn := func(f *Figures) int64 {
			for _, r := range f.Rankings[Departments].Rows {
				if r.Key == "d1" {
					return r.Counts["dispatched"]
				}
			}
			return 0
		}
		add("a1", time.Date(2026, 4, 10, 9, 0, 0, 0, clock.China))
		a, m := eval(april), eval(may)
		if dispatchedIn(a) != 1 || dispatchedIn(m) != 0 {
			t.Fatalf("April %d, May %d dispatched", dispatchedIn(a), dispatchedIn(m))
		}
		if eval(april) != a || eval(may) != m {
			t.Fatal("nothing changed, the figures were computed again")
		}
		add("m1", time.Date(2026, 5, 20, 11, 0, 0, 0, clock.China))
		if eval(april) != a {
			t.Fatal("an event after April's end made April's figures be computed again")
		}
		m2 := eval(may)
		if m2 == m || dispatchedIn(m2) != 1 {
			t.Fatalf("May after an event within it: recomputed %v, dispatched %d", m2 != m, dispatchedIn(m2))
		}
		now = now.Add(runningTTL - time.Second)
		if eval(may) != m2 {
			t.Fatal("a running period was computed again within runningTTL")
		}
		now = now.Add(2 * time.Second)
		if eval(may) == m2 {
			t.Fatal("a running period stayed cached past runningTTL")
		}
		// An event written late into April (an import of past events) is seen once it is the
		// newest before April's end.
		add("a2", time.Date(2026, 4, 30, 23, 0, 0, 0, clock.China))
		a2 := eval(april)
		if a2 == a || dispatchedIn(a2) != 2 {
			t.Fatalf("April after a late event: recomputed %v, dispatched %d", a2 != a, dispatchedIn(a2))
		}
		// One written behind the newest is not, until the writer says so (Forget).
		add("a3", time.Date(2026, 4, 20, 9, 0, 0, 0, clock.China))
		if eval(april) != a2 {
			t.Fatal("an event behind the newest was noticed without Forget")
		}
		s.Forget(e.TenantB.ID)
		if eval(april) != a2 {
			t.Fatal("forgetting tenant B dropped A's figures")
		}
		s.Forget(e.TenantA.ID)
		if a3 := eval(april); a3 == a2 || dispatchedIn(a3) != 3 {
			t.Fatalf("April after Forget: recomputed %v, dispatched %d", a3 != a2, dispatchedIn(a3))
		}
	}, Module(nil, nil, nil))
}
