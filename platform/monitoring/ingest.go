package monitoring

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Ingest limits: readings per batch, and how far ahead of the server's clock a reading may be.
const (
	MaxBatch   = 5000
	MaxSkew    = 5 * time.Minute
	chinaShift = 8 * 60 * 60 * 1000 // ms: day rollups are China days (UTC+8 all year)
)

// The reasons a reading is rejected.
const (
	RejectUnknownDevice = "unknown_device" // the tenant has no device of that code
	RejectForeignDevice = "foreign_device" // a device of the tenant, but not the token's
	RejectUnknownMetric = "unknown_metric" // the device's type does not measure that metric
	RejectBadUnit       = "bad_unit"       // a unit was sent and it is not the metric's
	RejectOutOfRange    = "out_of_range"   // the value is outside the metric's valid range
	RejectFuture        = "future"         // more than MaxSkew ahead of the server's clock
	RejectTooOld        = "too_old"        // older than the tenant's raw retention
)

// Reasons are the rejection reasons, in the order answers list them.
var Reasons = []string{RejectUnknownDevice, RejectForeignDevice, RejectUnknownMetric, RejectBadUnit, RejectOutOfRange, RejectFuture, RejectTooOld}

// Batch is what a device posts: its readings and, optionally, an id of the batch of its own
// choosing, so that a batch sent again (after a lost answer) is taken once.
type Batch struct {
	Batch    string         `json:"batch"`
	Readings []ReadingInput `json:"readings"`
}

// ReadingInput is one reading of a batch. Device defaults to the token's device, Unit to the
// metric's, At to the time the batch arrives.
type ReadingInput struct {
	Device string    `json:"device"`
	Metric string    `json:"metric"`
	Value  float64   `json:"value"`
	Unit   *string   `json:"unit"`
	At     time.Time `json:"at"`
}

// Result is the answer to a batch.
type Result struct {
	Batch    string         `json:"batch"`
	Device   string         `json:"device"`
	Accepted int            `json:"accepted"`
	Rejected map[string]int `json:"rejected"`
	// Rows are the first rejected readings (at most 20): their index in the batch and reason.
	Rows []RejectedRow `json:"rows"`
	// Duplicate is set when the batch was taken before: nothing was written again.
	Duplicate bool `json:"duplicate"`
}

// RejectedRow is one rejected reading of a batch.
type RejectedRow struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

type reading struct {
	bun.BaseModel `bun:"table:monitoring_readings"`
	DeviceID      int64   `bun:"device_id"`
	Metric        string  `bun:"metric"`
	At            int64   `bun:"at"`
	Value         float64 `bun:"value"`
}

type batchRow struct {
	bun.BaseModel `bun:"table:monitoring_batches"`
	ID            string `bun:"id,pk"`
	DeviceID      int64  `bun:"device_id"`
	ReceivedAt    int64  `bun:"received_at"`
	Accepted      int    `bun:"accepted"`
	Rejected      string `bun:"rejected"`
}

// Level is a rollup level: its table and its bucket length.
type Level struct {
	Name  string
	table string
	ms    int64
}

// The rollup levels, finest first.
var (
	Minute = Level{"minute", "monitoring_minute", 60_000}
	Hour   = Level{"hour", "monitoring_hour", 3_600_000}
	Day    = Level{"day", "monitoring_day", 86_400_000}
	Levels = []Level{Minute, Hour, Day}
)

// Bucket is the start (ms) of the bucket of l holding at: minutes and hours in UTC, days in
// China time.
func (l Level) Bucket(at int64) int64 {
	if l.ms == Day.ms {
		return floorDiv(at+chinaShift, l.ms)*l.ms - chinaShift
	}
	return floorDiv(at, l.ms) * l.ms
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Rollup is one bucket of a device's metric at a level.
type Rollup struct {
	DeviceID int64   `bun:"device_id"`
	Metric   string  `bun:"metric"`
	Bucket   int64   `bun:"bucket"`
	N        int64   `bun:"n"`
	Min      float64 `bun:"vmin"`
	Max      float64 `bun:"vmax"`
	Sum      float64 `bun:"vsum"`
	LastAt   int64   `bun:"last_at"`
	Last     float64 `bun:"last"`
}

// add folds a reading into r.
func (r *Rollup) add(at int64, v float64) {
	if r.N == 0 {
		r.Min, r.Max, r.LastAt, r.Last = v, v, at, v
	}
	r.N++
	r.Sum += v
	r.Min, r.Max = min(r.Min, v), max(r.Max, v)
	if at >= r.LastAt {
		r.LastAt, r.Last = at, v
	}
}

// Ingest takes a batch posted with a device token in the tenant of ctx's scope: it checks every
// reading, writes the accepted ones (COPY on PostgreSQL) with their rollup buckets, the
// rejection counts and the batch in one tenant transaction, and marks the device seen. A batch
// with an id taken before is answered as it was then and writes nothing. A token that is not a
// device's of this tenant is Unauthorized.
func (s *Service) Ingest(ctx context.Context, token string, b Batch) (*Result, error) {
	if len(b.Readings) > MaxBatch {
		return nil, errs.E(errs.TooLarge, msgBatchTooLarge, MaxBatch, len(b.Readings))
	}
	if b.Batch != "" && !validCode(b.Batch) {
		return nil, errs.Field("batch", msgBatchID)
	}
	for i, r := range b.Readings {
		if strings.ContainsRune(r.Device, 0) || strings.ContainsRune(r.Metric, 0) || (r.Unit != nil && strings.ContainsRune(*r.Unit, 0)) {
			return nil, errs.Field(fmt.Sprintf("readings[%d]", i), msgNulByte)
		}
	}
	now := s.now()
	nowMS := now.UnixMilli()
	res := &Result{Batch: b.Batch, Rejected: map[string]int{}}
	if res.Batch == "" {
		res.Batch = uuid.NewString()
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := deviceByToken(ctx, db, token)
		if err != nil {
			return err
		}
		res.Device = d.Code
		key := fmt.Sprintf("%d:%s", d.ID, res.Batch)
		var prev batchRow
		if err := dbx.Translate(db.NewSelect().Model(&prev).Where("id = ?", key).Scan(ctx)); err == nil {
			res.Duplicate, res.Accepted = true, prev.Accepted
			return json.Unmarshal([]byte(prev.Rejected), &res.Rejected)
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		st, err := settingsIn(ctx, db)
		if err != nil {
			return err
		}
		typ, _ := FindType(d.Type)
		others, err := otherDevices(ctx, db, d.Code, b.Readings)
		if err != nil {
			return err
		}
		oldest := int64(-1 << 62)
		if st.RawDays > 0 {
			oldest = now.Add(-time.Duration(st.RawDays) * 24 * time.Hour).UnixMilli()
		}
		rows := make([]*reading, 0, len(b.Readings))
		for i, r := range b.Readings {
			reason := ""
			at := r.At.UnixMilli()
			if r.At.IsZero() {
				at = nowMS
			}
			m, known := typ.Metric(r.Metric)
			switch {
			case r.Device != "" && r.Device != d.Code && others[r.Device]:
				reason = RejectForeignDevice
			case r.Device != "" && r.Device != d.Code:
				reason = RejectUnknownDevice
			case !known:
				reason = RejectUnknownMetric
			case r.Unit != nil && *r.Unit != m.Unit:
				reason = RejectBadUnit
			case r.Value < m.Min || r.Value > m.Max:
				reason = RejectOutOfRange
			case at > nowMS+MaxSkew.Milliseconds():
				reason = RejectFuture
			case at < oldest:
				reason = RejectTooOld
			}
			if reason != "" {
				res.Rejected[reason]++
				if len(res.Rows) < 20 {
					res.Rows = append(res.Rows, RejectedRow{Index: i, Reason: reason})
				}
				continue
			}
			rows = append(rows, &reading{DeviceID: d.ID, Metric: m.Code, At: at, Value: r.Value})
		}
		res.Accepted = len(rows)
		if err := tenants.CopyFrom(ctx, db, rows, 500); err != nil {
			return err
		}
		for _, l := range Levels {
			if err := upsertRollups(ctx, db, l, rollupsOf(l, rows)); err != nil {
				return err
			}
		}
		if err := countRejections(ctx, db, now, res.Rejected); err != nil {
			return err
		}
		rej, _ := json.Marshal(res.Rejected)
		if _, err := db.NewInsert().Model(&batchRow{ID: key, DeviceID: d.ID, ReceivedAt: nowMS, Accepted: res.Accepted, Rejected: string(rej)}).Exec(ctx); err != nil {
			if err = dbx.Translate(err); errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, msgBatchInFlight, res.Batch)
			}
			return err
		}
		_, err = db.NewUpdate().Model((*Device)(nil)).Set("last_seen = ?", nowMS).Where("id = ?", d.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.Rows == nil {
		res.Rows = []RejectedRow{}
	}
	return res, nil
}

// deviceByToken finds the tenant's device whose token is token (its id, code and type); a token
// that is none of the tenant's devices' is Unauthorized.
func deviceByToken(ctx context.Context, db bun.IDB, token string) (*Device, error) {
	var d Device
	err := dbx.Translate(db.NewSelect().Model(&d).Column("id", "code", "type").Where("token_hash = ?", tenants.HashToken(token)).Scan(ctx))
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.Unauthorized, msgDeviceTokenNotValid)
	}
	return &d, err
}

// otherDevices returns which of the device codes the readings name, other than own, are the
// tenant's devices.
func otherDevices(ctx context.Context, db bun.IDB, own string, rs []ReadingInput) (map[string]bool, error) {
	var named []string
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Device != "" && r.Device != own && !seen[r.Device] {
			seen[r.Device] = true
			named = append(named, r.Device)
		}
	}
	out := map[string]bool{}
	for i := 0; i < len(named); i += 500 {
		var have []string
		if err := db.NewSelect().Model((*Device)(nil)).Column("code").Where("code IN (?)", bun.List(named[i:min(i+500, len(named))])).Scan(ctx, &have); err != nil {
			return nil, err
		}
		for _, h := range have {
			out[h] = true
		}
	}
	return out, nil
}

// rollupsOf aggregates rows into l's buckets, in key order (so that concurrent batches lock
// the same rows in the same order).
func rollupsOf(l Level, rows []*reading) []*Rollup {
	type key struct {
		dev    int64
		metric string
		bucket int64
	}
	by := map[key]*Rollup{}
	for _, r := range rows {
		k := key{r.DeviceID, r.Metric, l.Bucket(r.At)}
		ru := by[k]
		if ru == nil {
			ru = &Rollup{DeviceID: k.dev, Metric: k.metric, Bucket: k.bucket}
			by[k] = ru
		}
		ru.add(r.At, r.Value)
	}
	out := make([]*Rollup, 0, len(by))
	for _, r := range by {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Rollup) int {
		return cmp.Or(cmp.Compare(a.DeviceID, b.DeviceID), strings.Compare(a.Metric, b.Metric), cmp.Compare(a.Bucket, b.Bucket))
	})
	return out
}

// upsertRollups merges rs into l's table: counts and sums add up, extremes widen, and the last
// value is the one of the latest reading (a late reading does not replace a newer last).
func upsertRollups(ctx context.Context, db bun.IDB, l Level, rs []*Rollup) error {
	t := l.table
	set := fmt.Sprintf(`n = %[1]s.n + EXCLUDED.n,
vmin = CASE WHEN EXCLUDED.vmin < %[1]s.vmin THEN EXCLUDED.vmin ELSE %[1]s.vmin END,
vmax = CASE WHEN EXCLUDED.vmax > %[1]s.vmax THEN EXCLUDED.vmax ELSE %[1]s.vmax END,
vsum = %[1]s.vsum + EXCLUDED.vsum,
last = CASE WHEN EXCLUDED.last_at >= %[1]s.last_at THEN EXCLUDED.last ELSE %[1]s.last END,
last_at = CASE WHEN EXCLUDED.last_at >= %[1]s.last_at THEN EXCLUDED.last_at ELSE %[1]s.last_at END`, t)
	for i := 0; i < len(rs); i += 500 {
		part := rs[i:min(i+500, len(rs))]
		var sb strings.Builder
		args := make([]any, 0, len(part)*9)
		sb.WriteString("INSERT INTO " + t + " (device_id, metric, bucket, n, vmin, vmax, vsum, last_at, last) VALUES ")
		for j, r := range part {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, r.DeviceID, r.Metric, r.Bucket, r.N, r.Min, r.Max, r.Sum, r.LastAt, r.Last)
		}
		sb.WriteString(" ON CONFLICT (device_id, metric, bucket) DO UPDATE SET " + set)
		if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// countRejections adds a batch's rejections to the day's counts (China day).
func countRejections(ctx context.Context, db bun.IDB, now time.Time, rej map[string]int) error {
	day := now.UTC().Add(8 * time.Hour).Format(time.DateOnly)
	for _, reason := range Reasons {
		n := rej[reason]
		if n == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO monitoring_rejections (day, reason, n) VALUES (?, ?, ?) ON CONFLICT (day, reason) DO UPDATE SET n = monitoring_rejections.n + EXCLUDED.n", day, reason, n); err != nil {
			return err
		}
	}
	return nil
}

// RejectionCount is the number of readings rejected for reason on day (China time).
type RejectionCount struct {
	Day    string `bun:"day" json:"day"`
	Reason string `bun:"reason" json:"reason"`
	N      int64  `bun:"n" json:"count"`
}

// FindRejections returns the rejection counts of the days from..to (YYYY-MM-DD, both included;
// empty: unbounded), newest first.
func (s *Service) FindRejections(ctx context.Context, from, to string) ([]RejectionCount, error) {
	for f, d := range map[string]string{"from": from, "to": to} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return nil, errs.Field(f, msgBadDay, f)
		}
	}
	out := []RejectionCount{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().TableExpr("monitoring_rejections").Column("day", "reason", "n").OrderExpr("day DESC, reason")
		if from != "" {
			q = q.Where("day >= ?", from)
		}
		if to != "" {
			q = q.Where("day <= ?", to)
		}
		return q.Scan(ctx, &out)
	})
	return out, err
}
