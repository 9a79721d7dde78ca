package cases

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Patrol tracks (巡查轨迹): while an inspector is on duty, 城管通 records the phone's positions
// (thinned on the phone: a point every 30 s or 20 m) and uploads them in batches, each under a
// key of its own, queued while there is no signal. The shift lead sees each inspector's track
// of a day on a map, with its time and length.

// MaxTrackBatch bounds the points of one uploaded batch.
const MaxTrackBatch = 500

// TrackPostsView may see every inspector's tracks: the shift lead (值班长), the dispatcher, the
// leader and the tenant admin. An inspector sees their own only. The prefecture does not see
// them: where a county's staff walked is the county's to supervise.
var TrackPostsView = []tenants.Role{tenants.ShiftLead, tenants.Dispatcher, tenants.Leader, tenants.TenantAdmin}

// TrackPoint is one recorded position.
type TrackPoint struct {
	At       time.Time `json:"at"`
	Lon      float64   `json:"lon"`
	Lat      float64   `json:"lat"`
	Accuracy float64   `json:"accuracy"`
}

// TrackBatchInput is a batch of positions from the phone.
type TrackBatchInput struct {
	Points []TrackPoint `json:"points"`
}

// TrackBatch is a stored batch: Created is false when the key had been seen (a retry).
type TrackBatch struct {
	bun.BaseModel  `bun:"table:patrol_batches"`
	Key            string    `bun:"key,pk" json:"key"`
	InspectorID    string    `bun:"inspector_id" json:"inspector_id"`
	InspectorEmail string    `bun:"inspector_email" json:"inspector_email"`
	Points         int       `bun:"points" json:"points"`
	CreatedAt      time.Time `bun:"created_at" json:"created_at"`
	Created        bool      `bun:"-" json:"created"`
}

type patrolPoint struct {
	bun.BaseModel `bun:"table:patrol_points"`
	ID            string    `bun:"id,pk"`
	BatchKey      string    `bun:"batch_key"`
	InspectorID   string    `bun:"inspector_id"`
	At            time.Time `bun:"at"`
	Lon           float64   `bun:"lon"`
	Lat           float64   `bun:"lat"`
	Accuracy      float64   `bun:"accuracy"`
}

// RecordTrack stores a batch of the caller's positions under key; the same key again stores
// nothing and answers the first batch. Only an inspector records a track. Points must lie in
// China, be no later than a few minutes from now and no older than seven days.
func (s *Service) RecordTrack(ctx context.Context, key string, in TrackBatchInput) (*TrackBatch, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.scope.ReadOnly {
		return nil, errs.E(errs.Forbidden, msgYourAccessReadOnly)
	}
	if !a.scope.Has(tenants.Inspector) || a.client != nil || a.id == "system" {
		return nil, errs.E(errs.Forbidden, msgTrackInspectorOnly)
	}
	if key, err = CheckKey(key, "Idempotency-Key"); err != nil {
		return nil, err
	}
	if len(in.Points) == 0 || len(in.Points) > MaxTrackBatch {
		return nil, errs.Field("points", msgTrackBatchSize, MaxTrackBatch)
	}
	now := s.clock()
	pts := make([]*patrolPoint, len(in.Points))
	for i, p := range in.Points {
		if math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || !grids.InChina(p.Lon, p.Lat) {
			return nil, errs.Field("points", msgTrackPointOutside, i+1)
		}
		if p.At.IsZero() || p.At.After(now.Add(5*time.Minute)) || p.At.Before(now.AddDate(0, 0, -7)) {
			return nil, errs.Field("points", msgTrackPointTime, i+1)
		}
		if p.Accuracy < 0 || p.Accuracy > 100_000 || math.IsNaN(p.Accuracy) {
			return nil, errs.Field("points", msgTrackPointAccuracy, i+1)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		pts[i] = &patrolPoint{ID: id.String(), BatchKey: key, InspectorID: a.id, At: p.At.UTC().Truncate(time.Microsecond), Lon: p.Lon, Lat: p.Lat, Accuracy: p.Accuracy}
	}
	b := &TrackBatch{Key: key, InspectorID: a.id, InspectorEmail: a.email, Points: len(pts), CreatedAt: now}
	find := func() (*TrackBatch, error) {
		old := &TrackBatch{}
		err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().Model(old).Where("key = ?", key).Scan(ctx)
		})
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, dbx.Translate(err)
		}
		if old.InspectorID != a.id {
			return nil, errs.Field("Idempotency-Key", msgKeyUsedByOther)
		}
		return old, nil
	}
	if old, err := find(); err != nil || old != nil {
		return old, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewInsert().Model(b).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		_, err := db.NewInsert().Model(&pts).Exec(ctx)
		return dbx.Translate(err)
	})
	if errs.Is(err, errs.Conflict) {
		// A retry racing this one stored the batch first.
		if old, ferr := find(); ferr == nil && old != nil {
			return old, nil
		}
	}
	if err != nil {
		return nil, err
	}
	b.Created = true
	return b, nil
}

// Track is one inspector's track of a day: the positions in time order, the first and last
// time, and the length walked in metres.
type Track struct {
	InspectorID    string       `json:"inspector_id"`
	InspectorEmail string       `json:"inspector_email"`
	From           time.Time    `json:"from"`
	To             time.Time    `json:"to"`
	Meters         float64      `json:"meters"`
	Points         []TrackPoint `json:"points"`
}

// FindTracks returns the tracks of day (a date in China's time zone): every inspector's for
// the posts of TrackPostsView, the caller's own for an inspector, refused to anyone else.
func (s *Service) FindTracks(ctx context.Context, day time.Time) ([]Track, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	own := ""
	switch {
	case !a.scope.ReadOnly && a.scope.Has(TrackPostsView...):
	case !a.scope.ReadOnly && a.scope.Has(tenants.Inspector):
		own = a.id
	default:
		return nil, errs.E(errs.Forbidden, msgTrackViewPosts)
	}
	y, m, d := day.In(clock.China).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, clock.China).UTC()
	to := from.AddDate(0, 0, 1)
	var rows []patrolPoint
	emails := map[string]string{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&rows).Where("at >= ? AND at < ?", from, to)
		if own != "" {
			q = q.Where("inspector_id = ?", own)
		}
		if err := q.Order("inspector_id", "at", "id").Limit(200_000).Scan(ctx); err != nil {
			return err
		}
		var bs []TrackBatch
		bq := db.NewSelect().Model(&bs).Column("inspector_id", "inspector_email").Where("created_at >= ?", from.AddDate(0, 0, -7)).Distinct()
		if own != "" {
			bq = bq.Where("inspector_id = ?", own)
		}
		if err := bq.Scan(ctx); err != nil {
			return err
		}
		for _, b := range bs {
			emails[b.InspectorID] = b.InspectorEmail
		}
		return nil
	})
	if err != nil {
		return nil, dbx.Translate(err)
	}
	byID := map[string]*Track{}
	var order []string
	for _, r := range rows {
		t := byID[r.InspectorID]
		if t == nil {
			t = &Track{InspectorID: r.InspectorID, InspectorEmail: emails[r.InspectorID], From: r.At}
			byID[r.InspectorID] = t
			order = append(order, r.InspectorID)
		}
		// Two batches may carry the same moment (a phone that sent a batch twice under two
		// keys): a point at the time of the last is skipped.
		if n := len(t.Points); n > 0 && t.Points[n-1].At.Equal(r.At) {
			continue
		}
		if n := len(t.Points); n > 0 {
			t.Meters += distance(t.Points[n-1], TrackPoint{Lon: r.Lon, Lat: r.Lat})
		}
		t.Points = append(t.Points, TrackPoint{At: r.At, Lon: r.Lon, Lat: r.Lat, Accuracy: r.Accuracy})
		t.To = r.At
	}
	out := make([]Track, 0, len(order))
	for _, id := range order {
		t := byID[id]
		t.Meters = math.Round(t.Meters)
		out = append(out, *t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].InspectorEmail < out[j].InspectorEmail })
	return out, nil
}

// distance is the great-circle distance between two points in metres.
func distance(p, q TrackPoint) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (q.Lat-p.Lat)*rad, (q.Lon-p.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(p.Lat*rad)*math.Cos(q.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// CanViewTracks reports whether sc may see every inspector's tracks (the console's track map).
func CanViewTracks(sc *tenants.Scope) bool {
	return sc != nil && !sc.ReadOnly && slices.ContainsFunc(TrackPostsView, func(r tenants.Role) bool { return sc.Has(r) })
}
