package evaluation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
				id := fmt.Sprintf("case-%02d", i)
				at := from.Add(time.Duration(i) * time.Hour)
				if _, err := db.NewRaw(`INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, lon, lat, reported_by, deadline_at, created_at, updated_at)
					VALUES (?, ?, ?, 'dispatched', 1, 'inspector', 'event', '01', 101.5, 25.0, 'x', ?, ?, ?)`,
					id, id, 1000+i, tc.deadlineAt, at, at).Exec(ctx); err != nil {
					return err
				}
				dept := fmt.Sprintf("dept-%02d", i)
				d := `{"department_id":"` + dept + `"}`
				if tc.detail != "{}" {
					d = `{"department_id":"` + dept + `",` + strings.TrimPrefix(tc.detail, "{")
				}
				if _, err := db.NewRaw(`INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, detail, at)
					VALUES (?, ?, 1, 'dispatch', 'filed', 'dispatched', 'x', 'dispatcher', ?, ?)`, id+"-1", id, d, at).Exec(ctx); err != nil {
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
