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
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
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
	if err := checkBatch(b); err != nil {
		return nil, err
	}
	if b.Batch == "" {
		b.Batch = uuid.NewString()
	}
	x := &deviceBatch{batch: b}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := deviceByToken(ctx, db, token)
		if err != nil {
			return err
		}
		x.dev = *d
		return s.writeBatches(ctx, db, s.now(), []*deviceBatch{x})
	})
	if err != nil {
		return nil, err
	}
	if x.res.Rows == nil {
		x.res.Rows = []RejectedRow{}
	}
	return x.res, nil
}

// checkBatch refuses a batch that cannot be taken at all: too many readings, a bad batch id,
// NUL characters (which would end the SQL text bun builds).
func checkBatch(b Batch) error {
	if len(b.Readings) > MaxBatch {
		return errs.E(errs.TooLarge, msgBatchTooLarge, MaxBatch, len(b.Readings))
	}
	if b.Batch != "" && !validCode(b.Batch) {
		return errs.Field("batch", msgBatchID)
	}
	for i, r := range b.Readings {
		if strings.ContainsRune(r.Device, 0) || strings.ContainsRune(r.Metric, 0) || (r.Unit != nil && strings.ContainsRune(*r.Unit, 0)) {
			return errs.Field(fmt.Sprintf("readings[%d]", i), msgNulByte)
		}
	}
	return nil
}

// deviceBatch is a batch of a known device of the tenant (its ID, Code and Type), with its id
// set, to be checked and written by writeBatches, which fills in res.
type deviceBatch struct {
	dev   Device
	batch Batch
	res   *Result
}

// batchKey is a batch's row id in monitoring_batches: batch ids are the device's own.
func batchKey(device int64, batch string) string { return fmt.Sprintf("%d:%s", device, batch) }

// writeBatches is the one write path of the ingest (HTTP and MQTT): in db, a tenant write
// transaction, it checks the readings of the batches bs (of the tenant's known devices) and
// writes the accepted ones with their rollups (writeReadings), the rejection counts, one
// monitoring_batches row per batch and the devices' last seen time. A batch taken before (its
// row exists, or it came earlier in bs) is answered as then, Duplicate, and writes nothing.
//
// The batch rows are inserted first, in key order, with ON CONFLICT DO NOTHING: the rows that
// come back are the new batches, whose readings are then written; one statement per thousand
// batches both records and de-duplicates them. A batch being taken by a concurrent transaction
// waits for it and is then a duplicate.
func (s *Service) writeBatches(ctx context.Context, db bun.IDB, now time.Time, bs []*deviceBatch) error {
	nowMS := now.UnixMilli()
	st, err := settingsIn(ctx, db)
	if err != nil {
		return err
	}
	others, err := otherDevices(ctx, db, bs)
	if err != nil {
		return err
	}
	oldest := int64(-1 << 62)
	if st.RawDays > 0 {
		oldest = now.Add(-time.Duration(st.RawDays) * 24 * time.Hour).UnixMilli()
	}
	type checked struct {
		x    *deviceBatch
		key  string
		rows []*reading
		row  *batchRow
	}
	first := map[string]*checked{} // the first batch of each key in bs
	var cs []*checked
	var again []*deviceBatch // later batches of a key in bs
	for _, x := range bs {
		key := batchKey(x.dev.ID, x.batch.Batch)
		x.res = &Result{Batch: x.batch.Batch, Device: x.dev.Code, Rejected: map[string]int{}}
		if first[key] != nil {
			again = append(again, x)
			continue
		}
		c := &checked{x: x, key: key}
		first[key] = c
		cs = append(cs, c)
		res := x.res
		typ, _ := FindType(x.dev.Type)
		for j, r := range x.batch.Readings {
			reason := ""
			at := r.At.UnixMilli()
			if r.At.IsZero() {
				at = nowMS
			}
			m, known := typ.Metric(r.Metric)
			switch {
			case r.Device != "" && r.Device != x.dev.Code && others[r.Device]:
				reason = RejectForeignDevice
			case r.Device != "" && r.Device != x.dev.Code:
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
					res.Rows = append(res.Rows, RejectedRow{Index: j, Reason: reason})
				}
				continue
			}
			c.rows = append(c.rows, &reading{DeviceID: x.dev.ID, Metric: m.Code, At: at, Value: r.Value})
		}
		res.Accepted = len(c.rows)
		rej, _ := json.Marshal(res.Rejected)
		c.row = &batchRow{ID: key, DeviceID: x.dev.ID, ReceivedAt: nowMS, Accepted: res.Accepted, Rejected: string(rej)}
	}
	slices.SortFunc(cs, func(a, b *checked) int { return strings.Compare(a.key, b.key) })
	news, err := insertBatches(ctx, db, cs, func(c *checked) *batchRow { return c.row })
	if err != nil {
		return err
	}
	var rows []*reading
	var dups []string
	rejected := map[string]int{}
	seen := map[int64]bool{}
	var devices []int64
	for _, c := range cs {
		if !news[c.key] {
			dups = append(dups, c.key)
			continue
		}
		rows = append(rows, c.rows...)
		for reason, n := range c.x.res.Rejected {
			rejected[reason] += n
		}
		if !seen[c.x.dev.ID] {
			seen[c.x.dev.ID] = true
			devices = append(devices, c.x.dev.ID)
		}
	}
	if len(dups) > 0 {
		taken, err := takenBatches(ctx, db, dups)
		if err != nil {
			return err
		}
		for _, key := range dups {
			prev, ok := taken[key]
			if !ok { // not visible to this transaction: taken by one still running
				return errs.E(errs.Conflict, msgBatchInFlight, first[key].x.batch.Batch)
			}
			res := first[key].x.res
			res.Duplicate, res.Accepted, res.Rows, res.Rejected = true, prev.Accepted, nil, map[string]int{}
			if err := json.Unmarshal([]byte(prev.Rejected), &res.Rejected); err != nil {
				return err
			}
		}
	}
	for _, x := range again {
		f := first[batchKey(x.dev.ID, x.batch.Batch)].x.res
		x.res.Duplicate, x.res.Accepted, x.res.Rejected = true, f.Accepted, f.Rejected
	}
	if err := s.writeReadings(ctx, db, now, rows); err != nil {
		return err
	}
	if err := countRejections(ctx, db, now, rejected); err != nil {
		return err
	}
	if len(devices) == 0 {
		return nil
	}
	slices.Sort(devices)
	q := db.NewUpdate().Model((*Device)(nil)).Set("last_seen = ?", nowMS)
	if db.Dialect().Name() == dialect.PG {
		// Lock the rows in id order: two transactions marking the same devices never deadlock.
		q = q.Where("id IN (SELECT id FROM monitoring_devices WHERE id IN (?) ORDER BY id FOR UPDATE)", bun.List(devices))
	} else {
		q = q.Where("id IN (?)", bun.List(devices))
	}
	_, err = q.Exec(ctx)
	return err
}

// insertBatches inserts the batch rows of cs (in their order) unless their id is taken, and
// returns the ids of those it inserted.
func insertBatches[T any](ctx context.Context, db bun.IDB, cs []T, row func(T) *batchRow) (map[string]bool, error) {
	news := make(map[string]bool, len(cs))
	if db.Dialect().Name() == dialect.PG {
		// One statement of five arrays: PostgreSQL parses it much faster than rows of values.
		var ids, rejected []string
		var devices, received []int64
		var accepted []int
		for _, c := range cs {
			r := row(c)
			ids, devices, received, accepted, rejected = append(ids, r.ID), append(devices, r.DeviceID), append(received, r.ReceivedAt), append(accepted, r.Accepted), append(rejected, r.Rejected)
		}
		var got []string
		if err := db.NewRaw("INSERT INTO monitoring_batches (id, device_id, received_at, accepted, rejected) "+
			"SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::integer[], ?::text[]) ON CONFLICT (id) DO NOTHING RETURNING id",
			pgdialect.Array(ids), pgdialect.Array(devices), pgdialect.Array(received), pgdialect.Array(accepted), pgdialect.Array(rejected)).Scan(ctx, &got); err != nil {
			return nil, err
		}
		for _, id := range got {
			news[id] = true
		}
		return news, nil
	}
	for i := 0; i < len(cs); i += 1000 {
		part := cs[i:min(i+1000, len(cs))]
		var sb strings.Builder
		args := make([]any, 0, 5*len(part))
		sb.WriteString("INSERT INTO monitoring_batches (id, device_id, received_at, accepted, rejected) VALUES ")
		for j, c := range part {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?)")
			r := row(c)
			args = append(args, r.ID, r.DeviceID, r.ReceivedAt, r.Accepted, r.Rejected)
		}
		sb.WriteString(" ON CONFLICT (id) DO NOTHING RETURNING id")
		rs, err := db.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return nil, err
			}
			news[id] = true
		}
		if err := rs.Close(); err != nil {
			return nil, err
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return news, nil
}

// writeReadings writes accepted readings, in the tenant write transaction db: the raw rows
// (COPY on PostgreSQL) and their minute, hour and day rollup buckets, and judges them by the
// tenant's rules (evaluate: alarms raised and cleared in the same transaction). Every accepted
// reading of every ingest goes through here, once.
func (s *Service) writeReadings(ctx context.Context, db bun.IDB, now time.Time, rows []*reading) error {
	if len(rows) == 0 {
		return nil
	}
	if err := tenants.CopyFrom(ctx, db, rows, 500); err != nil {
		return err
	}
	for _, l := range Levels {
		if err := upsertRollups(ctx, db, l, rollupsOf(l, rows)); err != nil {
			return err
		}
	}
	return s.evaluate(ctx, db, now.UnixMilli(), rows)
}

// takenBatches returns the rows of the batches of keys taken before, by key.
func takenBatches(ctx context.Context, db bun.IDB, keys []string) (map[string]batchRow, error) {
	out := map[string]batchRow{}
	for i := 0; i < len(keys); i += 500 {
		var prev []batchRow
		if err := db.NewSelect().Model(&prev).Where("id IN (?)", bun.List(keys[i:min(i+500, len(keys))])).Scan(ctx); err != nil {
			return nil, err
		}
		for _, p := range prev {
			out[p.ID] = p
		}
	}
	return out, nil
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

// otherDevices returns which of the device codes the readings of bs name, other than their
// batch's own device, are the tenant's devices.
func otherDevices(ctx context.Context, db bun.IDB, bs []*deviceBatch) (map[string]bool, error) {
	var named []string
	seen := map[string]bool{}
	for _, x := range bs {
		for _, r := range x.batch.Readings {
			if r.Device != "" && r.Device != x.dev.Code && !seen[r.Device] {
				seen[r.Device] = true
				named = append(named, r.Device)
			}
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
