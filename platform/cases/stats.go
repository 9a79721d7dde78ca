package cases

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Bucket is the width of a period's time series: a day or a month, in Beijing time.
type Bucket string

// The buckets.
const (
	ByDay   Bucket = "day"
	ByMonth Bucket = "month"
)

// Period is the window [From, To) a tenant's indicators are counted over.
type Period struct {
	From, To time.Time
	Bucket   Bucket
}

// Indicators are a tenant's key figures for a period, what a prefecture compares its counties
// by. Closed counts the cases closed (结案) in the period; ClosedOnTime those of them whose
// disposal clock was not overdue (a self-handled case, which had no clock, is on time);
// AvgHandling is the mean time from report to closing of the cases closed in the period.
// OpenNow and OverdueNow are counted at the time of the query (any clock overdue, as the list's
// overdue=true). ActiveStaff is how many people acted on a case in the period (client apps and
// the system not counted). Series counts the cases reported per bucket, keyed "2026-05-14" by
// day or "2026-05" by month; empty buckets are absent. Lat and Lon are the mean position of the
// period's reported cases (0 when there are none), where a map of several tenants marks this one.
type Indicators struct {
	Reported     int            `json:"reported"`
	Closed       int            `json:"closed"`
	ClosedOnTime int            `json:"closed_on_time"`
	AvgHandling  time.Duration  `json:"avg_handling_ns"`
	OpenNow      int            `json:"open_now"`
	OverdueNow   int            `json:"overdue_now"`
	ActiveStaff  int            `json:"active_staff"`
	Series       map[string]int `json:"series"`
	Lat          float64        `json:"lat"`
	Lon          float64        `json:"lon"`
}

// OnTimeRate is ClosedOnTime/Closed; ok is false when nothing was closed.
func (in *Indicators) OnTimeRate() (rate float64, ok bool) {
	if in.Closed == 0 {
		return 0, false
	}
	return float64(in.ClosedOnTime) / float64(in.Closed), true
}

// CountIndicators counts the indicators of the tenant in ctx over p, in one read transaction
// (one snapshot on PostgreSQL). Five aggregate queries, each on an index or one pass over the
// period's rows; no personal data is read.
func (s *Service) CountIndicators(ctx context.Context, p Period) (*Indicators, error) {
	if !p.From.Before(p.To) {
		return nil, errs.Field("period", msgPeriodStartBeforeEnd)
	}
	if p.Bucket != ByDay && p.Bucket != ByMonth {
		return nil, errs.Field("bucket", msgBucketDayMonth)
	}
	from, to := p.From.UTC(), p.To.UTC()
	out := &Indicators{Series: map[string]int{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		pg := db.Dialect().Name() == dialect.PG
		if err := db.NewRaw("SELECT count(*), COALESCE(AVG(lat), 0.0), COALESCE(AVG(lon), 0.0) FROM cases WHERE created_at >= ? AND created_at < ?",
			from, to).Scan(ctx, &out.Reported, &out.Lat, &out.Lon); err != nil {
			return err
		}
		// Seconds from report to closing, in each dialect's date arithmetic.
		avgSpan := "COALESCE(AVG((julianday(closed_at) - julianday(created_at)) * 86400.0), 0.0)"
		if pg {
			avgSpan = "COALESCE(AVG(EXTRACT(EPOCH FROM closed_at - created_at)), 0)::float8"
		}
		var avg float64
		if err := db.NewRaw("SELECT count(*), COALESCE(SUM(CASE WHEN overdue THEN 0 ELSE 1 END), 0), "+avgSpan+" "+
			"FROM cases WHERE state = ? AND closed_at >= ? AND closed_at < ?", Closed, from, to).Scan(ctx, &out.Closed, &out.ClosedOnTime, &avg); err != nil {
			return err
		}
		out.AvgHandling = time.Duration(avg * float64(time.Second)).Round(time.Second)
		if err := db.NewRaw("SELECT count(*), COALESCE(SUM(CASE WHEN overdue OR stage_overdue THEN 1 ELSE 0 END), 0) FROM cases WHERE state NOT IN (?)",
			bun.List([]State{Closed, Voided})).Scan(ctx, &out.OpenNow, &out.OverdueNow); err != nil {
			return err
		}
		if err := db.NewRaw("SELECT count(DISTINCT actor_id) FROM case_events WHERE at >= ? AND at < ? AND actor_id <> 'system' AND actor_id NOT LIKE '%:%'",
			from, to).Scan(ctx, &out.ActiveStaff); err != nil {
			return err
		}
		// The bucket of a time in China time (clock.China: UTC+8 all year, no daylight saving).
		key := "strftime('%Y-%m-%d', created_at, '+8 hours')"
		switch {
		case pg && p.Bucket == ByDay:
			key = "to_char(created_at AT TIME ZONE '" + clock.ChinaZoneName + "', 'YYYY-MM-DD')"
		case pg:
			key = "to_char(created_at AT TIME ZONE '" + clock.ChinaZoneName + "', 'YYYY-MM')"
		case p.Bucket == ByMonth:
			key = "strftime('%Y-%m', created_at, '+8 hours')"
		}
		var rows []struct {
			Bucket string `bun:"bucket"`
			N      int    `bun:"n"`
		}
		if err := db.NewRaw("SELECT "+key+" AS bucket, count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? GROUP BY 1",
			from, to).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			out.Series[r.Bucket] = r.N
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Buckets lists the labels of p's buckets in order, as Indicators.Series keys them.
func (p Period) Buckets() []string {
	var out []string
	if p.Bucket == ByMonth {
		for m := clock.StartOfMonth(p.From); m.Before(p.To); m = m.AddDate(0, 1, 0) {
			out = append(out, m.Format("2006-01"))
		}
		return out
	}
	for d := clock.StartOfDay(p.From); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}
