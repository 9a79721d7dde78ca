package evaluation

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Stored totals (evaluation_totals, tenant migration evaluation.0003): a finished period's totals
// as Summarize counts them, kept in the tenant's own store so that a prefecture's comparison of
// finished periods — every replica's, after any restart — reads a row per county and period
// instead of counting the county's history again. The loop "totals" stores each month, quarter
// and year once it has ended; Summarize only reads them (a prefecture's reading stays read-only).

// totalsRow is a period's stored totals.
type totalsRow struct {
	bun.BaseModel     `bun:"table:evaluation_totals"`
	From              time.Time `bun:"period_from,pk"`
	To                time.Time `bun:"period_to,pk"`
	Newest            time.Time `bun:"newest"`
	Reported          int64     `bun:"reported"`
	Filed             int64     `bun:"filed"`
	Closed            int64     `bun:"closed"`
	ClosedOnTime      int64     `bun:"closed_on_time"`
	InspectorReported int64     `bun:"inspector_reported"`
	ComputedAt        time.Time `bun:"computed_at"`
}

// storedTotals returns p's stored totals when they still hold: counted once p had ended, with
// newest still the newest event before its end.
func storedTotals(ctx context.Context, db bun.IDB, p Period, newest time.Time) (*Figures, bool, error) {
	var r totalsRow
	err := db.NewSelect().Model(&r).Where("period_from = ? AND period_to = ?", p.From.UTC(), p.To.UTC()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbx.Translate(err)
	}
	if !r.Newest.Equal(newest) || r.ComputedAt.Before(p.To) {
		return nil, false, nil
	}
	f := &Figures{Period: p, ComputedAt: r.ComputedAt, newest: newest}
	f.Reported, f.Filed, f.Closed, f.ClosedOnTime, f.InspectorReported = r.Reported, r.Filed, r.Closed, r.ClosedOnTime, r.InspectorReported
	return f, true, nil
}

// StoreTotals counts and stores the totals of p, which must have ended, in the tenant of ctx
// (a scope that may write: the system's, or a tenant admin's), unless totals that still hold
// are stored already. It reports whether it counted.
func (s *Service) StoreTotals(ctx context.Context, p Period) (bool, error) {
	now := s.now()
	if p.To.After(now) {
		return false, errs.Field("to", msgPeriodNotEnded)
	}
	var row *totalsRow
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		newest, err := newestBefore(ctx, db, p.To)
		if err != nil {
			return err
		}
		if _, ok, err := storedTotals(ctx, db, p, newest); err != nil || ok {
			return err
		}
		c, err := countOf(ctx, db, filings, p.From, p.To)
		if err != nil {
			return err
		}
		f := &Figures{}
		f.totals(c)
		row = &totalsRow{From: p.From.UTC(), To: p.To.UTC(), Newest: newest, Reported: f.Reported, Filed: f.Filed, Closed: f.Closed,
			ClosedOnTime: f.ClosedOnTime, InspectorReported: f.InspectorReported, ComputedAt: now.UTC()}
		return nil
	})
	if err != nil || row == nil {
		return false, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(row).On("CONFLICT (period_from, period_to) DO UPDATE").
			Set("newest = EXCLUDED.newest, reported = EXCLUDED.reported, filed = EXCLUDED.filed, closed = EXCLUDED.closed").
			Set("closed_on_time = EXCLUDED.closed_on_time, inspector_reported = EXCLUDED.inspector_reported, computed_at = EXCLUDED.computed_at").
			Exec(ctx)
		return dbx.Translate(err)
	})
	return err == nil, err
}

// HistoryChanged is told by a writer of past history (the vendor import) that the tenant's
// events changed behind periods already counted: it drops the figures this process keeps
// (Forget) and the tenant's stored totals, which the loop then counts again. ctx is the
// writer's, in the tenant's scope.
func (s *Service) HistoryChanged(ctx context.Context, tenant uuid.UUID) {
	s.Forget(tenant)
	if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewDelete().Model((*totalsRow)(nil)).Where("true").Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		s.log.Error("evaluation: stored totals not dropped after a change of past history; they are counted again when newer events come",
			"tenant", tenant, "err", err)
	}
}

// totalsInterval is how often the loop looks for ended periods to store.
const totalsInterval = 15 * time.Minute

// endedPeriods are the periods whose totals the loop keeps at now: the last 13 months (a month's
// comparison reads the month before and the same month a year before), the last 5 quarters and
// the last 2 years that have ended.
func endedPeriods(now time.Time) []Period {
	n := now.In(clock.China)
	var out []Period
	m := Month(n.Year(), n.Month())
	for range 13 {
		m = m.Previous()
		out = append(out, m)
	}
	q := Quarter(n.Year(), int(n.Month()-1)/3+1)
	for range 5 {
		q = q.Previous()
		out = append(out, q)
	}
	y := Year(n.Year())
	for range 2 {
		y = y.Previous()
		out = append(out, y)
	}
	return out
}

// runTotals stores, every totalsInterval, the totals of every ended period (endedPeriods) of
// every active county whose plan has the evaluation, where none that still hold are stored. A
// tenant that fails is logged and tried again at the next pass; several replicas may count the
// same period (the row is the same).
func (s *Service) runTotals(ctx context.Context, k module.Kit) {
	tasks.Every(ctx, totalsInterval, func(ctx context.Context) { s.storeEnded(ctx, k) })
}

func (s *Service) storeEnded(ctx context.Context, k module.Kit) {
	periods := endedPeriods(s.now())
	eachEntitled(ctx, k, "evaluation totals", func(tctx context.Context, t *tenants.Tenant) {
		if t.Kind == tenants.Prefecture {
			return // its comparison reads its counties' totals
		}
		for _, p := range periods {
			if _, err := s.StoreTotals(tctx, p); err != nil {
				k.Log.Error("evaluation totals: storing", "tenant", t.Slug, "period", p.Name, "err", err)
				return
			}
		}
	})
}
