package evaluation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// TestOverduePendingLegacy: a history recorded before the case loop recorded deadlines (a
// dispatch without detail.deadline) counts overdue pending by the case's current deadline.
func TestOverduePendingLegacy(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, time.Date(2026, 4, 1, 9, 0, 0, 0, clock.China))
		hwz := w.depts[1]
		china := func(m time.Month, day, hh int) time.Time {
			return time.Date(2026, m, day, hh, 0, 0, 0, clock.China).UTC()
		}
		// legacy files a case and dispatches it to 环卫站 as the case loop did before: the
		// dispatch records no deadline; the case keeps deadline.
		legacy := func(deadline time.Time) *cases.Case {
			t.Helper()
			c := w.report(w.acc[0], cases.FromCitizen, "event", "0102", g101, false)
			c = w.act(w.acc[0], c, cases.Accept, cases.ActionInput{})
			c = w.act(w.sl[0], c, cases.File, cases.ActionInput{})
			at := china(4, 2, 10)
			detail, _ := json.Marshal(map[string]string{"department_id": hwz})
			ev := &cases.Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: c.ID, Version: c.Version + 1, Action: cases.Dispatch,
				From: string(cases.Filed), To: cases.Dispatched, ActorID: w.dis[0].id, ActorEmail: w.dis[0].email, Post: tenants.Dispatcher,
				AttachmentsText: "[]", Detail: detail, At: at}
			err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				if _, err := db.NewUpdate().Table("cases").
					Set("state = ?, version = ?, department_id = ?, clock_start = ?, deadline_at = ?", cases.Dispatched, ev.Version, hwz, at, deadline).
					Where("id = ?", c.ID).Exec(ctx); err != nil {
					return err
				}
				_, err := db.NewInsert().Model(ev).Exec(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		late := legacy(china(4, 3, 10))  // its deadline passed in April
		later := legacy(china(5, 6, 10)) // its deadline is after April
		w.clk.set(china(5, 20, 9))
		p := evaluation.Month(2026, 4)
		f, err := w.ev.Evaluate(e.A, p)
		if err != nil {
			t.Fatal(err)
		}
		var row *evaluation.Row
		for i, r := range f.Rankings[evaluation.Departments].Rows {
			if r.Key == hwz {
				row = &f.Rankings[evaluation.Departments].Rows[i]
			}
		}
		if row == nil || row.Counts["dispatched"] != 2 || row.Counts["due"] != 2 || row.Counts["handled"] != 0 || row.Counts["overdue_pending"] != 1 {
			t.Fatalf("环卫站: %+v", row)
		}
		b, err := w.ev.CasesBehind(e.A, p, evaluation.Departments, hwz, "overdue_pending")
		if err != nil {
			t.Fatal(err)
		}
		if b.Total != 1 || b.Cases[0].ID != late.ID {
			t.Fatalf("cases behind overdue_pending: %d %+v, want %s (not %s)", b.Total, b.Cases, late.Number, later.Number)
		}
	})
}
