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

// SilenceEvery is how often the no_data loop looks for silent devices.
const SilenceEvery = time.Minute

// CheckSilence raises the no_data alarms of the tenant of ctx: for each enabled no_data rule,
// every device it watches whose last reading (of the rule's metric, from the day rollups; of
// any metric, the device's last seen) is older than the rule's minutes, and that has no such
// alarm open. A device that never sent anything is not silent: it is not installed yet. The
// ingest clears the alarm when a reading comes. It returns how many alarms it raised.
func (s *Service) CheckSilence(ctx context.Context) (int, error) {
	nowMS := s.now().UnixMilli()
	raised := 0
	kick := false
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		raised, kick = 0, false
		var rules []*evalRule
		if err := db.NewSelect().Model(&rules).ModelTableExpr("monitoring_rules AS r").ColumnExpr("r.*").
			Where("r.enabled AND r.kind = ?", RuleNoData).OrderExpr("r.id").Scan(ctx); err != nil {
			return err
		}
		for _, r := range rules {
			cut := nowMS - int64(r.Threshold)*60_000
			var silent []struct {
				ID   int64 `bun:"id"`
				Last int64 `bun:"last"`
			}
			q := db.NewSelect().TableExpr("monitoring_devices AS d").
				Where("NOT EXISTS (SELECT 1 FROM monitoring_alarms AS a WHERE a.open_key = ? || d.id)", r.ID+":").OrderExpr("d.id")
			if r.DeviceID != nil {
				q = q.Where("d.id = ?", *r.DeviceID)
			} else {
				q = q.Where("d.type = ?", r.DeviceType)
			}
			if r.Metric == "" {
				q = q.ColumnExpr("d.id, d.last_seen AS last").Where("d.last_seen < ?", cut)
			} else {
				q = q.ColumnExpr("d.id, max(x.last_at) AS last").Join("JOIN monitoring_day AS x ON x.device_id = d.id AND x.metric = ?", r.Metric).
					GroupExpr("d.id").Having("max(x.last_at) < ?", cut)
			}
			if err := q.Scan(ctx, &silent); err != nil {
				return err
			}
			for _, d := range silent {
				r.Dev = d.ID
				e := &judge{s: s, db: db, r: r, nowMS: nowMS, key: openKey(r.ID, d.ID)}
				if err := e.raise(ctx, nowMS, float64((nowMS-d.Last)/60_000)); err != nil {
					return err
				}
				raised++
				kick = kick || e.pending
			}
		}
		return nil
	})
	if err == nil && kick {
		if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
			s.kickCases(sc.Tenant)
		}
	}
	return raised, err
}

// runSilence is the no_data loop: every interval, CheckSilence for every active tenant with
// monitoring. Each pass recomputes from the database who is silent, and the open alarm's
// unique key keeps two replicas from raising one alarm twice.
func (s *Service) runSilence(ctx context.Context, k module.Kit, interval time.Duration, log *slog.Logger) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		s.eachTenant(ctx, k, log, "no data", func(ctx context.Context) error {
			_, err := s.CheckSilence(ctx)
			return err
		})
	})
}
