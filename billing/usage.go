package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The meters.
const (
	MeterCasesCreated   = "cases_created"
	MeterActiveUsers    = "active_users"    // monthly active users: record one per user per month
	MeterAPIRequests    = "api_requests"    // counted by the HTTP layer on tenant routes
	MeterSensorReadings = "sensor_readings" // readings from monitoring devices
	MeterStorage        = "storage_mb_days" // a daily sample of MiB stored; summed, MiB-days
	MeterSMS            = "sms"             // text messages sent
)

// Meters lists every meter in display order.
var Meters = []string{MeterCasesCreated, MeterActiveUsers, MeterAPIRequests, MeterSensorReadings, MeterStorage, MeterSMS}

// Periods of the roll-ups.
const (
	Hour  = "hour"
	Day   = "day"
	Month = "month"
)

// periodStart returns the start of the period containing t, in China time, as UTC.
func periodStart(period string, t time.Time) time.Time {
	switch period {
	case Hour:
		l := t.In(clock.China)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, clock.China).UTC()
	case Day:
		return clock.StartOfDay(t).UTC()
	}
	return clock.StartOfMonth(t).UTC()
}

// Event is one usage event waiting to be stored.
type Event struct {
	Tenant         uuid.UUID
	Meter          string
	Quantity       int64
	IdempotencyKey string
	At             time.Time
}

func (e *Event) validate(meters []string) error {
	if e.Tenant == uuid.Nil {
		return errs.Field("tenant", msgUsageEventNeedsTenant)
	}
	if !slices.Contains(meters, e.Meter) {
		return errs.Field("meter", msgMeterNotOne, trunc(e.Meter, 40), strings.Join(meters, ", "))
	}
	if e.Quantity < 0 {
		return errs.Field("quantity", msgUsageQuantityCannotNegative)
	}
	if e.IdempotencyKey == "" || len(e.IdempotencyKey) > 200 {
		return errs.Field("idempotency_key", msgUsageEventNeedsIdempotencyKey)
	}
	if err := checkText("idempotency_key", e.IdempotencyKey, 200); err != nil {
		return err
	}
	return nil
}

// Record queues one usage event for tenant. A repeated idempotency key is counted once, however
// often and however far apart it is recorded. Record does not block the caller on the database:
// events are flushed in batches (Flush and Close force a flush). It waits only while the buffer
// is full, until ctx ends. Over-quota usage is never refused.
func (s *Service) Record(ctx context.Context, tenant uuid.UUID, meter string, quantity int64, idempotencyKey string) error {
	e := Event{Tenant: tenant, Meter: meter, Quantity: quantity, IdempotencyKey: idempotencyKey, At: s.now()}
	if err := e.validate(s.meters); err != nil {
		return err
	}
	return s.rec.add(ctx, e)
}

// RecordActiveUser counts user as active in tenant this month (once, however often it is called).
// The HTTP layer calls it on every request a member makes in their tenant, so a recent call for
// the same user and month is answered from memory without queueing an event.
func (s *Service) RecordActiveUser(ctx context.Context, tenant, user uuid.UUID) error {
	month := s.now().In(clock.China).Format("2006-01")
	key := "mau:" + tenant.String() + ":" + month + ":" + user.String()
	if s.active.Contains(key) {
		return nil
	}
	if err := s.Record(ctx, tenant, MeterActiveUsers, 1, key); err != nil {
		return err
	}
	s.active.Add(key, struct{}{})
	return nil
}

// RecordStorage records the day's storage sample of tenant: bytes stored, rounded up to whole
// MiB. The first sample of a day (China time) counts; later ones the same day are repeats.
func (s *Service) RecordStorage(ctx context.Context, tenant uuid.UUID, bytes int64) error {
	mib := (max(0, bytes) + 1<<20 - 1) >> 20
	key := s.storageKey(tenant)
	if err := s.Record(ctx, tenant, MeterStorage, mib, key); err != nil {
		return err
	}
	s.active.Add(key, struct{}{})
	return nil
}

// StorageSampled reports whether this process has recorded tenant's storage sample of today
// already, so that the hourly sampling loop measures each tenant once a day rather than every
// pass (a later sample the same day would be a repeat anyway).
func (s *Service) StorageSampled(tenant uuid.UUID) bool {
	return s.active.Contains(s.storageKey(tenant))
}

func (s *Service) storageKey(tenant uuid.UUID) string {
	return "storage:" + tenant.String() + ":" + s.now().In(clock.China).Format("2006-01-02")
}

// Flush stores every event recorded so far and returns when they are committed.
func (s *Service) Flush(ctx context.Context) error { return s.rec.flush(ctx) }

// Ingest stores events now, in one transaction, and returns how many were new (not repeats).
// It is what the recorder calls for each batch; importers may call it directly.
func (s *Service) Ingest(ctx context.Context, events []Event) (int, error) {
	for i := range events {
		if err := events[i].validate(s.meters); err != nil {
			return 0, err
		}
		if events[i].At.IsZero() {
			events[i].At = s.now()
		}
	}
	n := 0
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		n, err = s.ingest(ctx, tx, events)
		return err
	})
	return n, err
}

// maxRowsPerInsert keeps a statement's size reasonable on both dialects.
const maxRowsPerInsert = 1000

type inserted struct {
	ID       int64
	Tenant   uuid.UUID
	Meter    string
	Quantity int64
	At       time.Time
}

func (s *Service) ingest(ctx context.Context, tx bun.IDB, events []Event) (int, error) {
	var rows []inserted
	for start := 0; start < len(events); start += maxRowsPerInsert {
		chunk := events[start:min(start+maxRowsPerInsert, len(events))]
		query, args := s.insertEventsSQL(chunk)
		byKey := make(map[string]*Event, len(chunk))
		for i := range chunk {
			if _, dup := byKey[chunk[i].IdempotencyKey]; !dup {
				byKey[chunk[i].IdempotencyKey] = &chunk[i] // the first of repeats is the one stored
			}
		}
		r, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("insert usage: %w", err)
		}
		for r.Next() {
			var id int64
			var key string
			if err := r.Scan(&id, &key); err != nil {
				r.Close()
				return 0, err
			}
			if e := byKey[key]; e != nil {
				rows = append(rows, inserted{ID: id, Tenant: e.Tenant, Meter: e.Meter, Quantity: e.Quantity, At: e.At})
				delete(byKey, key) // a key repeated inside one batch is inserted once
			}
		}
		if err := r.Close(); err != nil {
			return 0, err
		}
		if err := r.Err(); err != nil {
			return 0, err
		}
	}
	if err := s.rollUp(ctx, tx, rows); err != nil {
		return 0, err
	}
	if err := s.queueMeterEvents(ctx, tx, rows); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// insertEventsSQL builds the multi-row insert of chunk. PostgreSQL gets five arrays unnested
// (one short statement however large the batch, which it parses and plans much faster than a
// long VALUES list); SQLite gets a VALUES list.
func (s *Service) insertEventsSQL(chunk []Event) (string, []any) {
	const tail = " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"
	if s.postgres() {
		ids := make([]string, len(chunk))
		meters := make([]string, len(chunk))
		qty := make([]int64, len(chunk))
		keys := make([]string, len(chunk))
		at := make([]time.Time, len(chunk))
		for i, e := range chunk {
			ids[i], meters[i], qty[i], keys[i], at[i] = e.Tenant.String(), e.Meter, e.Quantity, e.IdempotencyKey, utc(e.At)
		}
		return "INSERT INTO control.usage_events (tenant_id, meter, quantity, idempotency_key, occurred_at) " +
				"SELECT * FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], ?::timestamptz[])" + tail,
			[]any{pgdialect.Array(ids), pgdialect.Array(meters), pgdialect.Array(qty), pgdialect.Array(keys), pgdialect.Array(at)}
	}
	var b strings.Builder
	b.WriteString("INSERT INTO control.usage_events (tenant_id, meter, quantity, idempotency_key, occurred_at) VALUES ")
	args := make([]any, 0, 5*len(chunk))
	for i, e := range chunk {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, e.Tenant, e.Meter, e.Quantity, e.IdempotencyKey, utc(e.At))
	}
	b.WriteString(tail)
	return b.String(), args
}

type rollKey struct {
	tenant uuid.UUID
	meter  string
	period string
	start  time.Time
}

type rollVal struct{ qty, events int64 }

// rollUp adds the rows just inserted to the hour, day and month roll-ups, in a fixed order so that
// concurrent flushes never deadlock.
func (s *Service) rollUp(ctx context.Context, tx bun.IDB, rows []inserted) error {
	if len(rows) == 0 {
		return nil
	}
	agg := map[rollKey]*rollVal{}
	for _, r := range rows {
		for _, p := range []string{Hour, Day, Month} {
			k := rollKey{r.Tenant, r.Meter, p, periodStart(p, r.At)}
			v := agg[k]
			if v == nil {
				v = &rollVal{}
				agg[k] = v
			}
			v.qty += r.Quantity
			v.events++
		}
	}
	keys := make([]rollKey, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollKey) int {
		if c := strings.Compare(a.tenant.String(), b.tenant.String()); c != 0 {
			return c
		}
		if c := strings.Compare(a.meter, b.meter); c != 0 {
			return c
		}
		if c := strings.Compare(a.period, b.period); c != 0 {
			return c
		}
		return a.start.Compare(b.start)
	})
	for start := 0; start < len(keys); start += maxRowsPerInsert {
		chunk := keys[start:min(start+maxRowsPerInsert, len(keys))]
		var b strings.Builder
		b.WriteString("INSERT INTO control.usage_rollups AS r (tenant_id, meter, period, period_start, quantity, events) VALUES ")
		args := make([]any, 0, 6*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			v := agg[k]
			args = append(args, k.tenant, k.meter, k.period, k.start, v.qty, v.events)
		}
		b.WriteString(" ON CONFLICT (tenant_id, meter, period, period_start) DO UPDATE SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events")
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("roll up usage: %w", err)
		}
	}
	return nil
}

// Usage is the quantity of one meter in one period.
type Usage struct {
	Meter       string    `json:"meter"`
	Period      string    `json:"period"`
	PeriodStart time.Time `json:"period_start"`
	Quantity    int64     `json:"quantity"`
	Events      int64     `json:"events"`
}

// UsageFilter narrows FindUsage. From is inclusive, To exclusive; zero means unbounded.
type UsageFilter struct {
	Tenant uuid.UUID
	Period string
	Meter  string
	From   time.Time
	To     time.Time
}

// FindUsage returns roll-ups of a tenant, oldest first.
func (s *Service) FindUsage(ctx context.Context, f UsageFilter) ([]Usage, error) {
	if f.Period == "" {
		f.Period = Day
	}
	if f.Period != Hour && f.Period != Day && f.Period != Month {
		return nil, errs.Field("period", msgPeriodNotOneHourDay, trunc(f.Period, 20))
	}
	if f.Meter != "" && !slices.Contains(s.meters, f.Meter) {
		return nil, errs.Field("meter", msgMeterNotOne, trunc(f.Meter, 40), strings.Join(s.meters, ", "))
	}
	out := []Usage{}
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Table("control.usage_rollups").
			Column("meter", "period", "period_start", "quantity", "events").
			Where("tenant_id = ?", f.Tenant).Where("period = ?", f.Period).
			OrderExpr("period_start, meter").Limit(5000)
		if f.Meter != "" {
			q = q.Where("meter = ?", f.Meter)
		}
		if !f.From.IsZero() {
			q = q.Where("period_start >= ?", utc(f.From))
		}
		if !f.To.IsZero() {
			q = q.Where("period_start < ?", utc(f.To))
		}
		return q.Scan(ctx, &out)
	})
	return out, dbx.Translate(err)
}

// monthUsage returns the tenant's quantity per meter in the month starting at start (UTC).
func monthUsage(ctx context.Context, db bun.IDB, tenant uuid.UUID, start time.Time) (map[string]int64, error) {
	var rows []Usage
	err := db.NewSelect().Table("control.usage_rollups").Column("meter", "quantity").
		Where("tenant_id = ? AND period = ? AND period_start = ?", tenant, Month, utc(start)).Scan(ctx, &rows)
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Meter] = r.Quantity
	}
	return out, err
}

// recorder buffers events and flushes them in batches from one goroutine.
type recorder struct {
	s        *Service
	in       chan Event
	flushReq chan chan error
	done     chan struct{}
	interval time.Duration
	batch    int
	stopOnce sync.Once
	stopped  chan struct{}
	mu       sync.RWMutex
	closed   bool
}

func newRecorder(s *Service, interval time.Duration, batch, buffer int) *recorder {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	if batch <= 0 {
		batch = 2000
	}
	if buffer <= 0 {
		buffer = 100_000
	}
	r := &recorder{s: s, in: make(chan Event, buffer), flushReq: make(chan chan error), done: make(chan struct{}),
		interval: interval, batch: batch, stopped: make(chan struct{})}
	go r.loop()
	return r
}

func (r *recorder) add(ctx context.Context, e Event) error {
	// The read lock keeps close from finishing while a send is under way, so no event is left
	// behind in the channel after the last drain.
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return errClosed
	}
	select {
	case r.in <- e:
		return nil
	case <-ctx.Done():
		return errs.Wrap(ctx.Err(), errs.Unavailable, msgUsageCouldNotRecordedTime)
	}
}

func (r *recorder) flush(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case r.flushReq <- ch:
	case <-r.stopped:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *recorder) close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.stopOnce.Do(func() { close(r.done) })
	<-r.stopped
	return nil
}

// loop collects events until the batch is full or the interval passes, then stores them. A failed
// batch is kept and retried, so a database hiccup loses nothing while the process lives.
func (r *recorder) loop() {
	defer close(r.stopped)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	var buf []Event
	store := func() error {
		if len(buf) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := r.s.Ingest(ctx, buf); err != nil {
			r.s.log.Error("storing usage failed; will retry", "events", len(buf), "err", err)
			return err
		}
		buf = buf[:0]
		return nil
	}
	drain := func() {
		for {
			select {
			case e := <-r.in:
				buf = append(buf, e)
				if len(buf) >= r.batch {
					if store() != nil {
						return
					}
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case e := <-r.in:
			buf = append(buf, e)
			if len(buf) >= r.batch {
				store()
			}
		case <-tick.C:
			store()
		case ch := <-r.flushReq:
			drain()
			ch <- store()
		case <-r.done:
			drain()
			for attempt := 0; attempt < 5 && store() != nil; attempt++ {
				time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
			}
			if len(buf) > 0 {
				r.s.log.Error("usage lost at shutdown: the database refused it", "events", len(buf))
			}
			return
		}
	}
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
