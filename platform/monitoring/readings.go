package monitoring

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// MaxPoints bounds the points of one series read: a longer answer asks for a coarser resolution
// or a shorter period.
const MaxPoints = 50_000

// Latest is a metric's latest reading.
type Latest struct {
	Metric string    `json:"metric"`
	Unit   string    `json:"unit"`
	Value  float64   `json:"value"`
	At     time.Time `json:"at"`
}

// FindLatest returns the latest reading of each of d's metrics that has one (from the day
// rollups, which are kept longest).
func (s *Service) FindLatest(ctx context.Context, d *Device) ([]Latest, error) {
	typ, ok := FindType(d.Type)
	if !ok {
		return nil, errs.E(errs.Internal, msgUnknownType, d.Type, typeCodes())
	}
	out := []Latest{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for _, m := range typ.Metrics {
			var rs []Rollup
			if err := db.NewSelect().TableExpr(Day.table).Column("last_at", "last").Where("device_id = ? AND metric = ?", d.ID, m.Code).
				OrderExpr("bucket DESC").Limit(1).Scan(ctx, &rs); err != nil {
				return err
			}
			if len(rs) == 1 {
				out = append(out, Latest{Metric: m.Code, Unit: m.Unit, Value: rs[0].Last, At: time.UnixMilli(rs[0].LastAt).UTC()})
			}
		}
		return nil
	})
	return out, err
}

// Point is one point of a series: a raw reading (N 1, Min = Max = Avg = Last = the value) or a
// rollup bucket starting at At.
type Point struct {
	At   time.Time `json:"at"`
	N    int64     `json:"count"`
	Min  float64   `json:"min"`
	Max  float64   `json:"max"`
	Avg  float64   `json:"avg"`
	Last float64   `json:"last"`
}

// Series is a device's metric over a period at a resolution.
type Series struct {
	Device     string    `json:"device"`
	Metric     string    `json:"metric"`
	Unit       string    `json:"unit"`
	Resolution string    `json:"resolution"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Points     []Point   `json:"points"`
}

// Resolutions are the resolutions a series may be read at.
var Resolutions = []string{"raw", "minute", "hour", "day"}

// ResolutionFor is the resolution chosen for a period of length d: raw up to 6 hours, minutes
// up to 3 days, hours up to 180 days, days beyond.
func ResolutionFor(d time.Duration) string {
	switch {
	case d <= 6*time.Hour:
		return "raw"
	case d <= 72*time.Hour:
		return "minute"
	case d <= 180*24*time.Hour:
		return "hour"
	}
	return "day"
}

// FindSeries returns d's metric from from (included) to to (excluded) at resolution ("" or
// "auto": ResolutionFor the period). Buckets are those starting in the period.
func (s *Service) FindSeries(ctx context.Context, d *Device, metric string, from, to time.Time, resolution string) (*Series, error) {
	typ, _ := FindType(d.Type)
	m, ok := typ.Metric(metric)
	if !ok {
		return nil, errs.Field("metric", msgMetricNotOfType, metric, d.Type)
	}
	if !to.After(from) {
		return nil, errs.Field("to", msgPeriodEmpty)
	}
	if resolution == "" || resolution == "auto" {
		resolution = ResolutionFor(to.Sub(from))
	}
	out := &Series{Device: d.Code, Metric: m.Code, Unit: m.Unit, Resolution: resolution, From: from.UTC(), To: to.UTC(), Points: []Point{}}
	f, t := from.UnixMilli(), to.UnixMilli()
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if resolution == "raw" {
			var rs []reading
			if err := db.NewSelect().Model(&rs).Column("at", "value").Where("device_id = ? AND metric = ? AND at >= ? AND at < ?", d.ID, m.Code, f, t).
				OrderExpr("at").Limit(MaxPoints + 1).Scan(ctx); err != nil {
				return err
			}
			if len(rs) > MaxPoints {
				return errs.E(errs.Invalid, msgTooManyPoints, MaxPoints)
			}
			for _, r := range rs {
				out.Points = append(out.Points, Point{At: time.UnixMilli(r.At).UTC(), N: 1, Min: r.Value, Max: r.Value, Avg: r.Value, Last: r.Value})
			}
			return nil
		}
		var l Level
		switch resolution {
		case "minute":
			l = Minute
		case "hour":
			l = Hour
		case "day":
			l = Day
		default:
			return errs.Field("resolution", msgResolution)
		}
		var rs []Rollup
		if err := db.NewSelect().TableExpr(l.table).Column("bucket", "n", "vmin", "vmax", "vsum", "last").
			Where("device_id = ? AND metric = ? AND bucket >= ? AND bucket < ?", d.ID, m.Code, f, t).
			OrderExpr("bucket").Limit(MaxPoints+1).Scan(ctx, &rs); err != nil {
			return err
		}
		if len(rs) > MaxPoints {
			return errs.E(errs.Invalid, msgTooManyPoints, MaxPoints)
		}
		for _, r := range rs {
			out.Points = append(out.Points, Point{At: time.UnixMilli(r.Bucket).UTC(), N: r.N, Min: r.Min, Max: r.Max, Avg: r.Sum / float64(r.N), Last: r.Last})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
