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
// transactions of at most about batch rows (RetentionBatch when 0), and the ingest batches older
// than the raw retention (a batch that old cannot be sent again: its readings would be too old).
// Readings and rollups are deleted series by series (a device's metric), oldest first, through
// the tables' (device, metric, time) keys: no index on time alone slows the ingest down.
func (s *Service) Expire(ctx context.Context, batch int) (Removed, error) {
	if batch <= 0 {
		batch = RetentionBatch
	}
	var st Settings
	var series []seriesKey
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		if st, err = settingsIn(ctx, db); err != nil {
			return err
		}
		var ds []Device
		if err := db.NewSelect().Model(&ds).Column("id", "type").Order("id").Scan(ctx); err != nil {
			return err
		}
		for _, d := range ds {
			if t, ok := FindType(d.Type); ok {
				for _, m := range t.Metrics {
					series = append(series, seriesKey{d.ID, m.Code})
				}
			}
		}
		return nil
	})
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
		keys := series
		if x.table == "monitoring_batches" {
			keys = []seriesKey{{}} // one series: the whole table, through its index on received_at
		}
		n, err := s.expireTable(ctx, x.table, x.col, cut, keys, batch)
		*x.n += n
		if err != nil {
			return r, err
		}
	}
	return r, ctx.Err()
}

// seriesKey is one device's metric; the zero key stands for a whole table.
type seriesKey struct {
	device int64
	metric string
}

// expireTable deletes the rows of table older than cut, series after series, each
// transaction deleting about batch rows at most: a series with more old rows than a
// transaction's budget loses its oldest ones up to the budget-th oldest time (rows sharing that
// time go too), and goes on in the next transaction.
func (s *Service) expireTable(ctx context.Context, table, col string, cut int64, keys []seriesKey, batch int) (int64, error) {
	var total int64
	for i := 0; i < len(keys) && ctx.Err() == nil; {
		next, n := i, int64(0)
		err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			next, n = i, 0
			for next < len(keys) && n < int64(batch) {
				k := keys[next]
				upto, done := cut, true
				var edge []int64
				sel := db.NewSelect().TableExpr(table).Column(col).Where("? < ?", bun.Ident(col), cut)
				del := db.NewDelete().TableExpr(table)
				if k.metric != "" {
					sel = sel.Where("device_id = ? AND metric = ?", k.device, k.metric)
					del = del.Where("device_id = ? AND metric = ?", k.device, k.metric)
				}
				if err := sel.OrderExpr("?", bun.Ident(col)).Offset(int64(batch)-n-1).Limit(1).Scan(ctx, &edge); err != nil {
					return err
				}
				if len(edge) == 1 {
					upto, done = edge[0]+1, false
				}
				del = del.Where("? < ?", bun.Ident(col), upto)
				res, err := del.Exec(ctx)
				if err != nil {
					return err
				}
				m, _ := res.RowsAffected()
				n += m
				if done {
					next++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		i = next
	}
	return total, nil
}

// RetentionEvery is how often the retention loop passes over the tenants.
const RetentionEvery = time.Hour

// runRetention is the module's retention loop: every interval, Expire for every active tenant
// whose plan has monitoring. Each pass recomputes from the database what is old, so a pass cut
// anywhere loses nothing and two replicas only repeat each other's deletes.
func (s *Service) runRetention(ctx context.Context, k module.Kit, interval time.Duration, log *slog.Logger) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		s.eachTenant(ctx, k, log, "retention", func(ctx context.Context) error {
			r, err := s.Expire(ctx, 0)
			if err == nil && r.Total() > 0 {
				log.Info("monitoring retention", "tenant", tenants.ScopeFrom(ctx).Tenant.Slug, "raw", r.Raw, "minute", r.Minute, "hour", r.Hour, "day", r.Day, "batches", r.Batches)
			}
			return err
		})
	})
}
