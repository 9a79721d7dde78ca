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

// Stored totals (evaluation_totals, tenant migrations evaluation.0003 and 0005): a period's
// totals as Summarize counts them, kept in the tenant's own store so that a prefecture's
// comparison — every replica's, after any restart — reads a row per county and period instead of
// counting the county's history again. The loop "totals" stores each month, quarter and year once
// it has ended, and keeps the month, quarter and year still running as they go: their row counts
// up to shortly before it was stored (as of), and Summarize adds to it what the events since
// changed (advance). Summarize only reads them (a prefecture's reading stays read-only).

// settle is how long after an instant every event stamped before it is taken to be in the store.
// A case's event is stamped with its writer's clock when the action starts and becomes visible
// when its transaction commits, so one stamped just before a count can land just after it: the
// totals of a period still running are stored as of settle before they are counted.
const settle = 5 * time.Minute

// totalsRow is a period's stored totals, as of AsOf: the period's end once it has ended.
type totalsRow struct {
	bun.BaseModel     `bun:"table:evaluation_totals"`
	From              time.Time `bun:"period_from,pk"`
	To                time.Time `bun:"period_to,pk"`
	AsOf              time.Time `bun:"as_of"`
	Newest            time.Time `bun:"newest"` // the newest event before AsOf when counted
	Reported          int64     `bun:"reported"`
	Filed             int64     `bun:"filed"`
	Closed            int64     `bun:"closed"`
	ClosedOnTime      int64     `bun:"closed_on_time"`
	InspectorReported int64     `bun:"inspector_reported"`
	ComputedAt        time.Time `bun:"computed_at"`
}

func (r *totalsRow) figures(f *Figures) {
	f.Reported, f.Filed, f.Closed, f.ClosedOnTime, f.InspectorReported = r.Reported, r.Filed, r.Closed, r.ClosedOnTime, r.InspectorReported
}

// storedRow is p's stored row, nil when none.
func storedRow(ctx context.Context, db bun.IDB, p Period) (*totalsRow, error) {
	var r totalsRow
	err := db.NewSelect().Model(&r).Where("period_from = ? AND period_to = ?", p.From.UTC(), p.To.UTC()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbx.Translate(err)
	}
	return &r, nil
}

// final tells whether r is p's totals and still holds: counted as of p's end once it had ended,
// with newest still the newest event before its end.
func (r *totalsRow) final(p Period, newest time.Time) bool {
	return r.AsOf.Equal(p.To) && !r.ComputedAt.Before(p.To) && r.Newest.Equal(newest)
}

// partial tells whether r is totals of p as of an instant within it that still hold: no event
// has landed before that instant since (the newest before it is the one counted with). Events
// after it are added by advance.
func (r *totalsRow) partial(ctx context.Context, db bun.IDB, p Period) (bool, error) {
	if !r.AsOf.After(p.From) || !r.AsOf.Before(p.To) {
		return false, nil
	}
	newest, err := newestBefore(ctx, db, r.AsOf)
	return err == nil && r.Newest.Equal(newest), err
}

// changes reads the cases whose regions' counts events in [?0, ?1) may have changed: a case's
// counts in a period (filed in it, closed, closed on time, reported by an inspector) change only
// with its filings, closings and feedback.
var changes = reading{drivers: filings.actions, actions: filings.actions, specs: []spec{regions}}

// advance is p's totals as of end, from r, p's totals as of r.AsOf (before end): r's, plus what
// the events in [r.AsOf, end) changed. The cases with such an event (changes) are counted as of
// end and as of r.AsOf and the difference added; every other case counts the same at both. The
// cases reported in [r.AsOf, end) are added to the reported.
func advance(ctx context.Context, db bun.IDB, p Period, r *totalsRow, end time.Time) (*totalsRow, error) {
	from, since, end := p.From.UTC(), r.AsOf.UTC(), end.UTC()
	next := *r
	add := func(sign int64) emit {
		return func(_, _ string, n ...int64) {
			next.Filed += sign * n[0]
			next.Closed += sign * n[1]
			next.ClosedOnTime += sign * n[2]
			next.InspectorReported += sign * n[3]
		}
	}
	plus, minus := add(1), add(-1)
	var before history
	err := read(ctx, db, changes, since, end, func(h *history) {
		regions.fold(h, from, end, plus)
		before, before.events = *h, before.events[:0]
		for _, e := range h.events {
			if e.at.Before(since) {
				before.events = append(before.events, e)
			}
		}
		regions.fold(&before, from, since, minus)
	})
	if err != nil {
		return nil, err
	}
	var reported int64
	if err := db.NewRaw("SELECT count(*) FROM cases WHERE created_at >= ? AND created_at < ?", since, end).Scan(ctx, &reported); err != nil {
		return nil, err
	}
	next.Reported += reported
	next.AsOf = end
	return &next, nil
}

// StoreTotals counts and stores the totals of p in the tenant of ctx (a scope that may write: the
// system's, or a tenant admin's): as of its end once it has ended, unless totals that still hold
// are stored already; while it runs, as of settle before now, from its stored totals where they
// hold and were counted the same day (advance), else from its whole history. It reports whether
// it counted.
func (s *Service) StoreTotals(ctx context.Context, p Period) (bool, error) {
	now := s.now()
	asOf := p.To
	if running := now.Add(-settle); running.Before(p.To) {
		if !running.After(p.From) {
			return false, errs.Field("from", msgPeriodNotBegun)
		}
		asOf = running
	}
	var row *totalsRow
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		newest, err := newestBefore(ctx, db, asOf)
		if err != nil {
			return err
		}
		old, err := storedRow(ctx, db, p)
		if err != nil {
			return err
		}
		if old != nil && old.final(p, newest) {
			return nil
		}
		if old != nil && asOf.Before(p.To) && !asOf.Before(old.AsOf) && sameDay(old.ComputedAt, now) {
			ok, err := old.partial(ctx, db, p)
			if err != nil {
				return err
			}
			if ok && old.Newest.Equal(newest) {
				return nil // no event since
			}
			if ok {
				if row, err = advance(ctx, db, p, old, asOf); err != nil {
					return err
				}
				row.Newest, row.ComputedAt = newest, now.UTC()
				return nil
			}
		}
		c, err := countOf(ctx, db, filings, p.From, asOf)
		if err != nil {
			return err
		}
		f := &Figures{}
		f.totals(c)
		row = &totalsRow{From: p.From.UTC(), To: p.To.UTC(), AsOf: asOf.UTC(), Newest: newest, Reported: f.Reported, Filed: f.Filed, Closed: f.Closed,
			ClosedOnTime: f.ClosedOnTime, InspectorReported: f.InspectorReported, ComputedAt: now.UTC()}
		return nil
	})
	if err != nil || row == nil {
		return false, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(row).On("CONFLICT (period_from, period_to) DO UPDATE").
			Set("as_of = EXCLUDED.as_of, newest = EXCLUDED.newest, reported = EXCLUDED.reported, filed = EXCLUDED.filed, closed = EXCLUDED.closed").
			Set("closed_on_time = EXCLUDED.closed_on_time, inspector_reported = EXCLUDED.inspector_reported, computed_at = EXCLUDED.computed_at").
			Exec(ctx)
		return dbx.Translate(err)
	})
	return err == nil, err
}

// sameDay tells whether a and b fall on the same day in China: a running period's totals carried
// forward by advance are counted afresh from the whole history once a day.
func sameDay(a, b time.Time) bool {
	return clock.StartOfDay(a).Equal(clock.StartOfDay(b))
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
	var out []Period
	m, q, y := Containing(now)
	for range 13 {
		m = m.Previous()
		out = append(out, m)
	}
	for range 5 {
		q = q.Previous()
		out = append(out, q)
	}
	for range 2 {
		y = y.Previous()
		out = append(out, y)
	}
	return out
}

// runningPeriods are the month, quarter and year running at now whose totals the loop keeps as
// they go: those that began at least settle before now.
func runningPeriods(now time.Time) []Period {
	var out []Period
	m, q, y := Containing(now)
	for _, p := range []Period{m, q, y} {
		if p.From.Before(now.Add(-settle)) {
			out = append(out, p)
		}
	}
	return out
}

// runTotals stores, every totalsInterval, the totals of every ended period (endedPeriods) of
// every active county whose plan has the evaluation, where none that still hold are stored, and
// of the periods still running (runningPeriods), from what their last pass stored. A tenant that
// fails is logged and tried again at the next pass; several replicas may count the same period
// (the row is the same).
func (s *Service) runTotals(ctx context.Context, k module.Kit) {
	tasks.Every(ctx, totalsInterval, func(ctx context.Context) { s.storeTotals(ctx, k) })
}

func (s *Service) storeTotals(ctx context.Context, k module.Kit) {
	now := s.now()
	periods := append(endedPeriods(now), runningPeriods(now)...)
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
