package exchange

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"golang.org/x/sync/errgroup"
)

// logKeep is how many batches of a destination's delivery log are kept.
const logKeep = 10_000

// PassStats is what one delivery pass did.
type PassStats struct {
	Batches   int
	Delivered int // accepted or already there (duplicates)
	Refused   int // items the receiver refused (to retry, or rejected)
	Failed    int // batches that failed as a whole
}

func (p *PassStats) add(q PassStats) {
	p.Batches += q.Batches
	p.Delivered += q.Delivered
	p.Refused += q.Refused
	p.Failed += q.Failed
}

// Deliver works the outbox of the tenant in ctx: for each enabled destination it queues the
// monthly indicators due, then sends what is due — in batches, Destination.Concurrency of them
// at a time — until nothing is due, a batch fails as a whole (the destination then pauses), the
// budget is spent (0: no limit) or ctx ends. Each step recomputes from the database, so passes
// on several replicas, or a pass cut anywhere, lose and double nothing: a claimed batch is
// leased (Retry.Lease), and an answer that comes after its lease ran out changes nothing.
func (s *Service) Deliver(ctx context.Context, budget time.Duration) (PassStats, error) {
	var total PassStats
	sc, err := scope(ctx)
	if err != nil {
		return total, err
	}
	var ds []*Destination
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&ds).Where("enabled").OrderExpr("code").Scan(ctx)
	}); err != nil {
		return total, err
	}
	var deadline time.Time
	if budget > 0 {
		deadline = time.Now().Add(budget)
	}
	var problems []error
	for _, d := range ds {
		if err := s.queueIndicators(ctx, d); err != nil {
			problems = append(problems, err)
		}
		st, err := s.drain(ctx, sc.Tenant, d, deadline)
		total.add(st)
		if err != nil {
			problems = append(problems, err)
		}
	}
	return total, errors.Join(problems...)
}

// drain sends d's due items with d.Concurrency workers.
func (s *Service) drain(ctx context.Context, t *tenants.Tenant, d *Destination, deadline time.Time) (PassStats, error) {
	var total PassStats
	if d.PausedUntil > s.now().UnixMilli() {
		return total, nil
	}
	b := &Batch{Profile: d.Profile, URL: d.URL, Timeout: time.Duration(d.TimeoutMS) * time.Millisecond,
		Sender: Sender{AdminCode: t.AdminCode, Name: t.NameZH, Tenant: t.Slug}}
	cred, err := s.creds.Credential(ctx, t.ID, d.CredentialName())
	switch {
	case err == nil:
		b.Credential, b.HasCredential = cred, true
	case errs.Is(err, errs.NotFound):
	default:
		// The secret store is down: sending without the credential would be refused; wait.
		s.log.Warn("exchange: the destination's credential cannot be read", "tenant", t.Slug, "destination", d.Code, "err", err)
		return total, nil
	}
	profile := s.profiles[d.Profile]
	if profile == nil {
		return total, errs.E(errs.Internal, msgProfile, d.Profile, ProfileV1)
	}
	stats := make([]PassStats, max(d.Concurrency, 1))
	g, gctx := errgroup.WithContext(ctx)
	for w := range stats {
		g.Go(func() error {
			for gctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				st, more, err := s.sendBatch(gctx, d, profile, *b)
				stats[w].add(st)
				if err != nil || !more {
					return err
				}
			}
			return nil
		})
	}
	err = g.Wait()
	for _, st := range stats {
		total.add(st)
	}
	return total, err
}

// sendBatch claims, builds, delivers and records one batch; more is false when there was
// nothing to claim or the destination is to pause.
func (s *Service) sendBatch(ctx context.Context, d *Destination, profile Profile, b Batch) (st PassStats, more bool, err error) {
	token := rand.Int64N(1<<62) + 1
	entries, err := s.claim(ctx, d, token)
	if err != nil || len(entries) == 0 {
		return st, false, err
	}
	items, err := profile.Items(ctx, entries)
	if err != nil {
		// The claim's lease brings the entries back.
		return st, false, err
	}
	b.ID = uuid.NewString()
	var sent []int
	for i := range items {
		if !items[i].Skip {
			b.Items = append(b.Items, items[i])
			sent = append(sent, i)
		}
	}
	var del *Delivery
	var derr error
	start := time.Now()
	if len(b.Items) > 0 {
		del, derr = s.adapter.Deliver(ctx, &b)
		if derr == nil && (del == nil || len(del.Results) != len(b.Items)) {
			derr = &Failure{Status: statusOf(del), Message: "the adapter answered for another number of items"}
		}
	}
	latency := time.Since(start)
	// The answer is recorded even when the pass is being cut: the receiver has it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err = s.record(rctx, d, token, &b, entries, items, sent, del, derr, latency)
	return st, err == nil && st.Failed == 0, err
}

func statusOf(d *Delivery) int {
	if d == nil {
		return 0
	}
	return d.Status
}

// claim leases the next batch of d: due pending rows, each the first still owed of its subject
// (so a case's next change waits for the one before, and a batch holds at most one per
// subject), in the order they are due. On PostgreSQL rows another worker holds are skipped
// (FOR UPDATE SKIP LOCKED); SQLite has one writer. Nothing is claimed while d is disabled,
// paused or gone.
func (s *Service) claim(ctx context.Context, d *Destination, token int64) ([]Entry, error) {
	now := s.now()
	var out []Entry
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var on []struct {
			Enabled     bool  `bun:"enabled"`
			PausedUntil int64 `bun:"paused_until"`
		}
		if err := db.NewRaw("SELECT enabled, paused_until FROM exchange_destinations WHERE id = ?", d.ID).Scan(ctx, &on); err != nil {
			return err
		}
		if len(on) == 0 || !on[0].Enabled || on[0].PausedUntil > now.UnixMilli() {
			return nil
		}
		lock := ""
		if db.Dialect().Name() == dialect.PG {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		return db.NewRaw(`UPDATE exchange_outbox SET attempts = attempts + 1, leased_until = ?, claim = ?
			WHERE id IN (SELECT c.id FROM exchange_outbox c
				WHERE c.destination_id = ? AND c.status = 'pending' AND c.next_attempt_at <= ? AND c.leased_until <= ?
				AND NOT EXISTS (SELECT 1 FROM exchange_outbox p WHERE p.destination_id = c.destination_id AND p.subject = c.subject
					AND (p.seq < c.seq OR p.seq = c.seq AND p.id < c.id))
				ORDER BY c.next_attempt_at, c.id LIMIT ?`+lock+`)
			RETURNING id, kind, subject, seq, ref, status, attempts, failures, next_attempt_at, last_status, last_error, created_at`,
			now.Add(s.retry.Lease).UnixMilli(), token, d.ID, now.UnixMilli(), now.UnixMilli(), d.BatchSize).Scan(ctx, &out)
	})
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// refusal is an item the receiver refused: sent again after a backoff, or dead.
type refusal struct {
	id       int64
	failures int
	dead     bool
	message  string
}

// record writes what became of a batch, in one transaction: delivered (and skipped) rows are
// deleted; refused rows back off or die; a batch that failed as a whole pauses the destination
// and puts its rows off until then, without counting against them (an outage kills nothing);
// the destination's figures and the delivery log are updated. Every row is matched by the
// batch's claim token, so an answer that came after the lease ran out (and another worker took
// the rows) changes nothing.
func (s *Service) record(ctx context.Context, d *Destination, token int64, b *Batch, entries []Entry, items []Item, sent []int,
	del *Delivery, derr error, latency time.Duration) (PassStats, error) {
	var st PassStats
	now := s.now()
	entry := &LogEntry{DestinationID: d.ID, At: now.UTC(), BatchID: b.ID, Items: len(sent), LatencyMS: int(latency.Milliseconds())}
	var done []int64
	for i := range items {
		if items[i].Skip {
			done = append(done, entries[i].ID)
		}
	}
	var refused []refusal
	var failure *Failure
	switch {
	case derr == nil:
		entry.HTTPStatus = statusOf(del)
		for j, i := range sent {
			r, e := del.Results[j], entries[i]
			switch r.Outcome {
			case Accepted:
				entry.Delivered++
				done = append(done, e.ID)
			case Duplicate:
				entry.Duplicates++
				done = append(done, e.ID)
			case Rejected:
				entry.Rejected++
				refused = append(refused, refusal{id: e.ID, failures: e.Failures + 1, dead: true, message: r.Message})
			default:
				entry.Retried++
				refused = append(refused, refusal{id: e.ID, failures: e.Failures + 1, dead: s.retry.Dead(e.Failures+1, false), message: r.Message})
			}
		}
	case errors.As(derr, &failure) && failure.Permanent:
		entry.HTTPStatus, entry.Error = failure.Status, textutil.Truncate(failure.Error(), 500)
		for _, i := range sent {
			entry.Rejected++
			refused = append(refused, refusal{id: entries[i].ID, failures: entries[i].Failures + 1, dead: true, message: entry.Error})
		}
	default:
		if failure == nil {
			failure = &Failure{Message: derr.Error()}
		}
		entry.HTTPStatus, entry.Error = failure.Status, textutil.Truncate(failure.Error(), 500)
		st.Failed = 1
	}
	st.Batches, st.Delivered, st.Refused = 1, entry.Delivered+entry.Duplicates, len(refused)
	if len(sent) == 0 {
		entry = nil // only skipped rows: nothing was sent
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var deleted int64
		if len(done) > 0 {
			res, err := db.NewRaw("DELETE FROM exchange_outbox WHERE claim = ? AND id IN (?)", token, bun.List(done)).Exec(ctx)
			if err != nil {
				return err
			}
			deleted, _ = res.RowsAffected()
		}
		for _, r := range refused {
			status := outbox.Pending
			if r.dead {
				status = outbox.Dead
			}
			if _, err := db.NewRaw(`UPDATE exchange_outbox SET failures = ?, status = ?, next_attempt_at = ?, leased_until = 0,
				last_status = ?, last_error = ? WHERE id = ? AND claim = ?`, r.failures, status, now.Add(s.retry.Backoff(r.failures)).UnixMilli(), entryStatus(entry),
				textutil.Truncate(r.message, 500), r.id, token).Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		dq := db.NewUpdate().Table("exchange_destinations").Where("id = ?", d.ID).Set("last_attempt_at = ?", now.UTC())
		if st.Failed > 0 {
			var failures []int
			if err := db.NewRaw("SELECT failures FROM exchange_destinations WHERE id = ?", d.ID).Scan(ctx, &failures); err != nil {
				return err
			}
			n := 1
			if len(failures) == 1 {
				n = failures[0] + 1
			}
			until := now.Add(max(s.pause.Backoff(n), failure.RetryAfter)).UnixMilli()
			if _, err := db.NewRaw(`UPDATE exchange_outbox SET next_attempt_at = ?, leased_until = 0, last_status = ?, last_error = ?
				WHERE claim = ? AND status = 'pending'`,
				until, failure.Status, entry.Error, token).Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
			dq = dq.Set("failures = ?", n).Set("paused_until = ?", until).Set("last_status = ?", failure.Status).Set("last_error = ?", entry.Error)
		} else if entry != nil {
			msg := entry.Error
			if msg == "" && len(refused) > 0 {
				msg = textutil.Truncate(refused[0].message, 500)
			}
			dq = dq.Set("failures = 0").Set("paused_until = 0").Set("last_status = ?", entry.HTTPStatus).Set("last_error = ?", msg).
				Set("delivered_total = delivered_total + ?", deleted)
			if derr == nil {
				dq = dq.Set("last_success_at = ?", now.UTC())
			}
		}
		if _, err := dq.Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		if entry == nil {
			return nil
		}
		if _, err := db.NewInsert().Model(entry).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		if entry.ID%100 == 0 {
			// The log keeps the newest logKeep batches of the destination.
			if _, err := db.NewRaw(`DELETE FROM exchange_log WHERE destination_id = ? AND id < (SELECT id FROM exchange_log
				WHERE destination_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, d.ID, d.ID, logKeep).Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return PassStats{}, err
	}
	if st.Failed > 0 {
		s.log.Warn("exchange: a batch failed; the destination pauses", "destination", d.Code, "items", len(sent), "status", failure.Status, "err", failure.Message)
	}
	return st, nil
}

func entryStatus(e *LogEntry) int {
	if e == nil {
		return 0
	}
	return e.HTTPStatus
}

// queueIndicators queues the monthly indicators of every month that ended since d's last (at
// most the last twelve), once per month and destination.
func (s *Service) queueIndicators(ctx context.Context, d *Destination) error {
	if !s.indicators || d.Profile == ProfileHotline { // the hotline takes only its work orders' outcomes
		return nil
	}
	last := clock.StartOfMonth(s.now().In(clock.China)).AddDate(0, -1, 0)
	if d.IndicatorsThrough >= last.Format("2006-01") {
		return nil
	}
	from := last.AddDate(0, -11, 0)
	if t, err := time.ParseInLocation("2006-01", d.IndicatorsThrough, clock.China); err == nil && t.AddDate(0, 1, 0).After(from) {
		from = t.AddDate(0, 1, 0)
	}
	var months []string
	for m := from; !m.After(last); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := queueMonths(ctx, db, d.ID, months, s.now()); err != nil {
			return err
		}
		_, err := db.NewRaw("UPDATE exchange_destinations SET indicators_through = ? WHERE id = ?", last.Format("2006-01"), d.ID).Exec(ctx)
		d.IndicatorsThrough = last.Format("2006-01")
		return dbx.Translate(err)
	})
}

// queueMonths queues the indicators of months for the destination; a month already waiting
// unclaimed is not queued twice.
func queueMonths(ctx context.Context, db bun.IDB, destination string, months []string, now time.Time) (int64, error) {
	var n int64
	for _, m := range months {
		subject := KindIndicators + ":" + m
		res, err := db.NewRaw(`INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
			SELECT ?, ?, ?, 0, ?, 0, ? WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox
				WHERE destination_id = ? AND subject = ? AND attempts = 0 AND status = 'pending')`,
			destination, KindIndicators, subject, m, now.UTC(), destination, subject).Exec(ctx)
		if err != nil {
			return n, dbx.Translate(err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
