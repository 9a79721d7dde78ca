package monitoring

import (
	"context"
	"log/slog"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// RetentionBatch is how many rows one retention transaction deletes at most, so that a tenant
// with a long backlog of old rows never holds a long lock.
const RetentionBatch = 10_000

// Removed counts what a retention pass deleted, per table.
type Removed struct {
	Raw, Minute, Hour, Day, Batches int64
}

// Total is the number of rows removed.
func (r Removed) Total() int64 { return r.Raw + r.Minute + r.Hour + r.Day + r.Batches }

// Expire deletes the tenant's readings and rollups older than its retention (Settings), in
// transactions of at most batch rows (RetentionBatch when 0), and the ingest batches older than
// the raw retention (a batch that old cannot be sent again: its readings would be too old).
func (s *Service) Expire(ctx context.Context, batch int) (Removed, error) {
	if batch <= 0 {
		batch = RetentionBatch
	}
	st, err := s.FindSettings(ctx)
	if err != nil {
		return Removed{}, err
	}
	now := s.now()
	var r Removed
	for _, x := range []struct {
		table, col string
		days       int
		n          *int64
	}{
		{"monitoring_readings", "at", st.RawDays, &r.Raw},
		{Minute.table, "bucket", st.MinuteDays, &r.Minute},
		{Hour.table, "bucket", st.HourDays, &r.Hour},
		{Day.table, "bucket", st.DayDays, &r.Day},
		{"monitoring_batches", "received_at", st.RawDays, &r.Batches},
	} {
		if x.days <= 0 {
			continue
		}
		cut := now.Add(-time.Duration(x.days) * 24 * time.Hour).UnixMilli()
		for ctx.Err() == nil {
			n, err := s.expireSome(ctx, x.table, x.col, cut, batch)
			if err != nil {
				return r, err
			}
			*x.n += n
			if n < int64(batch) {
				break
			}
		}
	}
	return r, ctx.Err()
}

// expireSome deletes at most about batch rows of table older than cut, the oldest first, in
// one transaction: everything up to the batch-th oldest time (rows sharing that time go too, so
// a batch may exceed the bound by the readings of one millisecond).
func (s *Service) expireSome(ctx context.Context, table, col string, cut int64, batch int) (int64, error) {
	var n int64
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		upto := cut
		var edge []int64
		if err := db.NewSelect().TableExpr(table).Column(col).Where("? < ?", bun.Ident(col), cut).
			OrderExpr("? ", bun.Ident(col)).Offset(int64(batch-1)).Limit(1).Scan(ctx, &edge); err != nil {
			return err
		}
		if len(edge) == 1 {
			upto = edge[0] + 1
		}
		res, err := db.NewDelete().TableExpr(table).Where("? < ?", bun.Ident(col), upto).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// RetentionEvery is how often the retention loop passes over the tenants.
const RetentionEvery = time.Hour

// runRetention is the module's retention loop: every interval, Expire for every active tenant
// whose plan has monitoring. Each pass recomputes from the database what is old, so a pass cut
// anywhere loses nothing and two replicas only repeat each other's deletes.
func (s *Service) runRetention(ctx context.Context, k module.Kit, interval time.Duration, log *slog.Logger) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("monitoring retention: listing tenants", "err", err)
			}
			return
		}
		for _, t := range ts {
			if ctx.Err() != nil {
				return
			}
			if on, err := k.Entitled(ctx, t, Entitlement); err != nil || !on {
				continue
			}
			r, err := s.Expire(tenants.WithScope(ctx, tenants.SystemScope(t)), 0)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("monitoring retention", "tenant", t.Slug, "err", err)
				}
				continue
			}
			if r.Total() > 0 {
				log.Info("monitoring retention", "tenant", t.Slug, "raw", r.Raw, "minute", r.Minute, "hour", r.Hour, "day", r.Day, "batches", r.Batches)
			}
		}
	})
}
