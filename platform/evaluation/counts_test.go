package evaluation

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// TestDeadlinePassed: the dialects read a recorded deadline (RFC 3339 UTC, as the case loop
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
