package cases

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// Filter selects cases; empty fields match all.
type Filter struct {
	States    []State
	Kind      string
	ClassCode string
	// GridCode matches a unit grid, or every unit grid of a community (code ending in 00) or a
	// street (ending in 00000).
	GridCode     string
	DepartmentID string
	Source       Source
	Overdue      *bool
	Supervised   *bool
	From, To     *time.Time
	// BBox is minLon, minLat, maxLon, maxLat (GeoJSON only).
	BBox *[4]float64
	// Cursor is the Next of the previous page; Limit is the page size (default 50, at most 500).
	Cursor string
	Limit  int
}

// Page is one page of cases, newest first; Next is the cursor of the following page, "" at the
// end.
type Page struct {
	Cases []Case `json:"cases"`
	Next  string `json:"next,omitempty"`
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && strings.HasPrefix(string(b), "c1:") {
		if n, err := strconv.ParseInt(string(b[3:]), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errs.Field("cursor", "The cursor is not one this API gave out.")
}

func (f *Filter) apply(q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if len(f.States) > 0 {
		q = q.Where("state IN (?)", bun.List(f.States))
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.ClassCode != "" {
		q = q.Where("class_code = ?", f.ClassCode)
	}
	if g := f.GridCode; g != "" {
		switch {
		case len(g) == 14 && strings.HasSuffix(g, "00000"):
			q = q.Where("grid_code >= ? AND grid_code < ?", g[:9], g[:9]+":")
		case len(g) == 14 && strings.HasSuffix(g, "00"):
			q = q.Where("grid_code >= ? AND grid_code < ?", g[:12], g[:12]+":")
		default:
			q = q.Where("grid_code = ?", g)
		}
	}
	if f.DepartmentID != "" {
		q = q.Where("department_id = ?", f.DepartmentID)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	if f.Overdue != nil {
		if *f.Overdue {
			q = q.Where("overdue")
		} else {
			q = q.Where("NOT overdue")
		}
	}
	if f.Supervised != nil {
		q = q.Where("supervised = ?", *f.Supervised)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	if b := f.BBox; b != nil {
		q = q.Where("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?", b[1], b[3], b[0], b[2])
	}
	if f.Cursor != "" {
		seq, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("seq < ?", seq)
	}
	return q, nil
}

// FindCases returns a page of the cases matching f, newest first. The cursor is the position in
// creation order (seq, which grows with created_at and breaks its ties), so pages stay stable
// while new cases arrive. Personal data is never listed.
func (s *Service) FindCases(ctx context.Context, f Filter) (*Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	page := &Page{Cases: []Case{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q, err := f.apply(db.NewSelect().Model(&page.Cases).ExcludeColumn("reporter_name_enc", "reporter_phone_enc"))
		if err != nil {
			return err
		}
		return q.OrderExpr("seq DESC").Limit(int64(f.Limit + 1)).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(page.Cases) > f.Limit {
		page.Cases = page.Cases[:f.Limit]
		page.Next = encodeCursor(page.Cases[f.Limit-1].Seq)
	}
	for i := range page.Cases {
		if err := page.Cases[i].decode(); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// MaxFeatures bounds the cases of one map window.
const MaxFeatures = 5000

// GeoJSON returns the cases matching f (with f.BBox the map window) as a FeatureCollection of
// points, newest first, at most MaxFeatures.
func (s *Service) GeoJSON(ctx context.Context, f Filter) (*geojson.FeatureCollection, error) {
	if f.BBox == nil {
		return nil, errs.Field("bbox", "Give the map window as bbox=minLon,minLat,maxLon,maxLat.")
	}
	if b := f.BBox; b[0] > b[2] || b[1] > b[3] {
		return nil, errs.Field("bbox", "The bbox is minLon,minLat,maxLon,maxLat with min ≤ max.")
	}
	f.Cursor = ""
	var cs []Case
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q, err := f.apply(db.NewSelect().Model(&cs).Column("id", "number", "state", "kind", "class_code", "lon", "lat", "overdue", "supervised", "created_at"))
		if err != nil {
			return err
		}
		return q.OrderExpr("seq DESC").Limit(MaxFeatures).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	fc := geojson.NewFeatureCollection()
	for _, c := range cs {
		ft := geojson.NewFeature(orb.Point{c.Lon, c.Lat})
		ft.ID = c.ID
		ft.Properties = geojson.Properties{"number": c.Number, "state": c.State, "kind": c.Kind, "class_code": c.ClassCode,
			"overdue": c.Overdue, "supervised": c.Supervised, "created_at": c.CreatedAt}
		fc.Append(ft)
	}
	return fc, nil
}

// MarkOverdue recomputes the clock of every case whose disposal clock runs and whose stored
// deadline has passed, in the tenant of ctx, and marks the overdue ones with their overtime
// multiple. It works from the database alone, so a run after a restart catches up on
// everything; it does not change a case's version (no one acted on it). It returns how many
// cases are overdue now.
func (s *Service) MarkOverdue(ctx context.Context) (int, error) {
	n := 0
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		now := s.clock()
		var cs []Case
		if err := db.NewSelect().Model(&cs).ExcludeColumn("reporter_name_enc", "reporter_phone_enc").
			Where("clock_start IS NOT NULL AND clock_stopped_at IS NULL AND deadline_at <= ?", now).Scan(ctx); err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		cal, err := calendar.CalendarIn(ctx, db)
		if err != nil {
			return err
		}
		for i := range cs {
			c := &cs[i]
			if err := c.decode(); err != nil {
				return err
			}
			if err := c.refreshClock(cal, now); err != nil {
				return err
			}
			if _, err := db.NewUpdate().Table("cases").Set("overdue = ?, overtime_multiple = ?, deadline_at = ?", c.Overdue, c.OvertimeMultiple, c.DeadlineAt).
				Where("id = ?", c.ID).Exec(ctx); err != nil {
				return err
			}
			if c.Overdue {
				n++
			}
		}
		return nil
	})
	return n, err
}
