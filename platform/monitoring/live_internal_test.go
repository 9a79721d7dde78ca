package monitoring

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// liveCounty fills county A (PostgreSQL) with 10,000 devices, 9,000 of them seen in the last
// minutes, and 100 open alarms: the size of the largest county the issue names.
func liveCounty(b *testing.B) (*platformtest.Env, *Service, time.Time) {
	e := platformtest.MustEnv(b, "postgres", Module(nil))
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := NewService(Config{Gate: e.Store, Now: func() time.Time { return now }})
	ms := now.UnixMilli()
	if err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.ExecContext(ctx, `INSERT INTO monitoring_devices (code, name, type, lon, lat, token_hash, token_prefix, last_seen, created_at, updated_at)
			SELECT 'D-' || i, 'device ' || i, 'waterlog', 101.5 + i * 0.00001, 25.0, 'h' || i, 'cod_', CASE WHEN i % 10 = 0 THEN NULL ELSE ? - (i % 600) * 1000 END, ?, ?
			FROM generate_series(1, 10000) AS i`, ms, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `INSERT INTO monitoring_alarms (id, device_id, open_key, source, kind, severity, state, raised_at, last_at, hits, case_status, updated_at)
			SELECT 'al-' || i, i * 100, 'k' || i, 'rule', 'above', 'warning', 'raised', ? - i * 60000, ?, 1, 'none', ? - i * 60000 FROM generate_series(1, 100) AS i`, ms, ms, ms)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return e, s, now
}

// BenchmarkLivePoll is one poll of a live stream in a county of 10,000 devices: the devices seen,
// changed or gone offline since the last poll (a second ago) and the alarms changed since.
func BenchmarkLivePoll(b *testing.B) {
	e, s, now := liveCounty(b)
	b.ResetTimer()
	for range b.N {
		r, err := s.readLive(e.A, now.Add(-time.Second).UnixMilli())
		if err != nil || len(r.devices) == 0 {
			b.Fatalf("%v %v", r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/poll")
}

// BenchmarkLiveSnapshot is the snapshot of the same county (what the map page and a stream
// without a cursor read first).
func BenchmarkLiveSnapshot(b *testing.B) {
	e, s, _ := liveCounty(b)
	b.ResetTimer()
	for range b.N {
		r, err := s.readLive(e.A, 0)
		if err != nil || len(r.devices) != 10000 || len(r.alarms) != 100 {
			b.Fatalf("%d %d %v", len(r.devices), len(r.alarms), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/snapshot")
}
