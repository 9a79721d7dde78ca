package monitoring

import (
	"context"
	"log/slog"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Photos adds a photo to a case (cases.Service.AddPhoto, through a small adapter in app).
type Photos interface {
	AddPhoto(ctx context.Context, caseID string, data []byte) (photoID string, err error)
}

// UsePhotos gives the service the case loop's photos, which exists only after the service
// (the case loop is built later by the composition root). Without it, snapshots stay with their
// alarms.
func (s *Service) UsePhotos(p Photos) { s.photos = p }

// SnapshotsEvery is how often the snapshot loop passes over the tenants.
const SnapshotsEvery = 10 * time.Second

// snapshotWindow: an alarm of a camera raised longer ago than this without a snapshot gets none
// grabbed (the scene has changed).
const snapshotWindow = 10 * time.Minute

// SnapshotReport counts what a snapshot pass did.
type SnapshotReport struct {
	Grabbed, Failed, Attached, Refused int
}

// Snapshots is one pass of the snapshot loop over the tenant of ctx's scope:
//
//   - for each open alarm of a camera raised within the last 10 minutes without a snapshot, it
//     takes one (the camera's HTTP snapshot URL, or one frame of its stream with ffmpeg) and keeps
//     it with the alarm (or why it failed, so that it is not tried again);
//   - for each snapshot whose alarm's case is opened (case_id set) and which is no case photo yet,
//     it adds it to the case as a photo (cases.Service.AddPhoto) and records the photo's id; a case
//     that refuses photos (closed) is recorded too;
//   - at most once an hour, it forgets the taken events older than the raw retention.
//
// Every step is recomputed from the database, so a pass cut anywhere loses and doubles nothing
// (AddPhoto is content-addressed: a photo added twice costs one file, at most one row more).
func (s *Service) Snapshots(ctx context.Context) (SnapshotReport, error) {
	var rep SnapshotReport
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return rep, errs.E(errs.Internal, msgNoScope)
	}
	type need struct {
		AlarmID  string `bun:"id"`
		DeviceID int64  `bun:"device_id"`
		Code     string `bun:"code"`
	}
	var needs []need
	since := s.now().Add(-snapshotWindow).UnixMilli()
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().TableExpr("monitoring_alarms AS a").ColumnExpr("a.id, a.device_id, d.code").
			Join("JOIN monitoring_devices AS d ON d.id = a.device_id").
			Where("d.type = ? AND a.state <> ? AND a.raised_at >= ?", CameraType.Code, AlarmCleared, since).
			Where("NOT EXISTS (SELECT 1 FROM monitoring_snapshots AS s WHERE s.alarm_id = a.id)").
			Where("EXISTS (SELECT 1 FROM monitoring_cameras AS c WHERE c.device_id = a.device_id)").
			OrderExpr("a.raised_at").Limit(20).Scan(ctx, &needs)
	})
	if err != nil {
		return rep, err
	}
	for _, n := range needs {
		c, err := s.FindCamera(ctx, n.Code)
		if err != nil {
			return rep, err
		}
		row := &snapshotRow{AlarmID: n.AlarmID, DeviceID: n.DeviceID, TakenAt: s.now().UnixMilli(), Origin: "camera"}
		data, err := s.Snapshot(ctx, c)
		if err != nil {
			if !errs.Is(err, errs.Upstream) && !errs.Is(err, errs.Unavailable) && !errs.Is(err, errs.Invalid) {
				return rep, err
			}
			e := textutil.Truncate(errs.MessageOf(err), 200)
			row.Error = &e
			rep.Failed++
		} else {
			row.Data = data
			rep.Grabbed++
		}
		if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewInsert().Model(row).On("CONFLICT (alarm_id) DO NOTHING").Exec(ctx)
			return err
		}); err != nil {
			return rep, err
		}
	}
	if err := s.expireEvents(ctx); err != nil {
		return rep, err
	}
	if s.photos == nil {
		return rep, nil
	}
	type pending struct {
		AlarmID string `bun:"alarm_id"`
		CaseID  string `bun:"case_id"`
		Data    []byte `bun:"data"`
	}
	var ps []pending
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().TableExpr("monitoring_snapshots AS s").ColumnExpr("s.alarm_id, a.case_id, s.data").
			Join("JOIN monitoring_alarms AS a ON a.id = s.alarm_id").
			Where("s.photo_id IS NULL AND s.photo_error IS NULL AND s.data IS NOT NULL AND a.case_id IS NOT NULL").
			OrderExpr("s.taken_at").Limit(20).Scan(ctx, &ps)
	})
	if err != nil {
		return rep, err
	}
	for _, p := range ps {
		id, err := s.photos.AddPhoto(ctx, p.CaseID, p.Data)
		set, val := "photo_id = ?", id
		switch {
		case err == nil:
			rep.Attached++
		case errs.Is(err, errs.Conflict) || errs.Is(err, errs.NotFound) || errs.Is(err, errs.TooLarge) || errs.Is(err, errs.Unsupported):
			set, val = "photo_error = ?", textutil.Truncate(errs.MessageOf(err), 200)
			rep.Refused++
		default:
			return rep, err // tried again next pass
		}
		if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewUpdate().Model((*snapshotRow)(nil)).Set(set, val).Where("alarm_id = ?", p.AlarmID).Exec(ctx)
			return err
		}); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Snapshot takes a fresh snapshot of camera c (its HTTP snapshot URL, else a frame of its stream).
func (s *Service) Snapshot(ctx context.Context, c *Camera) ([]byte, error) {
	src, err := s.source(ctx, c, false)
	if err != nil {
		return nil, err
	}
	snap, err := s.source(ctx, c, true)
	if err != nil {
		return nil, err
	}
	return s.gw.grab(ctx, src, snap)
}

// runSnapshots is the module's snapshot loop: every interval, Snapshots for every active tenant
// whose plan has monitoring.
func (s *Service) runSnapshots(ctx context.Context, k module.Kit, interval time.Duration, log *slog.Logger) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		s.eachTenant(ctx, k, log, "snapshots", func(ctx context.Context) error {
			r, err := s.Snapshots(ctx)
			if err == nil && r != (SnapshotReport{}) {
				log.Info("monitoring snapshots", "tenant", tenants.ScopeFrom(ctx).Tenant.Slug, "grabbed", r.Grabbed, "failed", r.Failed, "attached", r.Attached, "refused", r.Refused)
			}
			return err
		})
	})
}

// expireEvents forgets the taken events older than the tenant's raw retention (at least two days:
// an event older than a day is refused anyway, so its id cannot come back), at most once an hour
// per tenant and RetentionBatch rows at a time.
func (s *Service) expireEvents(ctx context.Context) error {
	t := tenants.ScopeFrom(ctx).Tenant.ID
	now := s.now()
	s.expiredMu.Lock()
	if last, ok := s.expired[t]; ok && now.Sub(last) < time.Hour && !now.Before(last) {
		s.expiredMu.Unlock()
		return nil
	}
	if s.expired == nil {
		s.expired = map[uuid.UUID]time.Time{}
	}
	s.expired[t] = now
	s.expiredMu.Unlock()
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		st, err := settingsIn(ctx, db)
		if err != nil {
			return err
		}
		days := max(st.RawDays, 2)
		cut := s.now().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
		_, err = db.NewDelete().Model((*eventRow)(nil)).
			Where("(device_id, event_id) IN (?)", db.NewSelect().Model((*eventRow)(nil)).Column("device_id", "event_id").
				Where("received_at < ?", cut).Limit(RetentionBatch)).Exec(ctx)
		return err
	})
}
