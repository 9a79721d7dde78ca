package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Outbox kinds.
const (
	outboxCustomer     = "customer"
	outboxMeter        = "meter"
	outboxPrice        = "price"
	outboxSubscription = "subscription"
	// outboxSubscriptionUpdate moves a subscription's items to another plan's prices.
	outboxSubscriptionUpdate = "subscription_update"
	outboxMeterEvent         = "meter_event"
	outboxInvoice            = "invoice"
)

// stripePolicy is the outbox's retry policy: a claimed row is retried two minutes after its
// worker died; a failed call waits 2^attempts seconds (with jitter, at most an hour); after 20
// failed attempts the row is dead and needs an operator.
var stripePolicy = outbox.Policy{Lease: 2 * time.Minute, MaxAttempts: 20, Base: 2 * time.Second, MaxBackoff: time.Hour}

// OutboxItem is one call to Stripe waiting to be made (or made).
type OutboxItem struct {
	bun.BaseModel `bun:"table:control.billing_outbox"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	Kind           string     `bun:"kind" json:"kind"`
	IdempotencyKey string     `bun:"idempotency_key" json:"idempotency_key"`
	TenantID       *uuid.UUID `bun:"tenant_id,type:uuid" json:"tenant_id,omitempty"`
	Payload        string     `bun:"payload" json:"payload"`
	State          string     `bun:"state" json:"state"`
	Status         string     `bun:"status" json:"status"`
	Attempts       int        `bun:"attempts" json:"attempts"`
	NextAttemptAt  time.Time  `bun:"next_attempt_at" json:"next_attempt_at"`
	LastError      string     `bun:"last_error" json:"last_error,omitempty"`
	CreatedAt      time.Time  `bun:"created_at" json:"created_at"`
	DoneAt         *time.Time `bun:"done_at" json:"done_at,omitempty"`
}

type customerPayload struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Email       string `json:"email,omitempty"`
	Slug        string `json:"slug"`
}

type meterPayload struct {
	Meter string `json:"meter"`
}

type pricePayload struct {
	Plan  string     `json:"plan"`
	Meter string     `json:"meter"`
	Name  string     `json:"name"`
	Price MeterPrice `json:"price"`
}

type subscriptionPayload struct {
	Plan string `json:"plan"`
	// Anchor is the first of the month after the subscription was asked for (China time): Stripe's
	// periods start there, so they are the ledger's months. Zero for rows queued before it existed.
	Anchor time.Time `json:"anchor,omitzero"`
}

type meterEventPayload struct {
	Meter      string    `json:"meter"`
	Quantity   int64     `json:"quantity"`
	Identifier string    `json:"identifier"`
	At         time.Time `json:"at"`
}

type invoicePayload struct {
	Year      int   `json:"year"`
	AmountFen int64 `json:"amount_fen"`
}

// invoiceState records how far a multi-step invoice got, so a retry resumes at the next step.
type invoiceState struct {
	InvoiceID string `json:"invoice_id,omitempty"`
	ItemID    string `json:"item_id,omitempty"`
}

// enqueue writes an outbox row inside tx. The idempotency key is deterministic: enqueueing the
// same work twice leaves one row.
func (s *Service) enqueue(ctx context.Context, tx bun.IDB, kind, key string, tenant *uuid.UUID, payload any) error {
	return s.enqueueAt(ctx, tx, kind, key, tenant, payload, s.now())
}

// enqueueAt is enqueue for a call that is not to be made before due.
func (s *Service) enqueueAt(ctx context.Context, tx bun.IDB, kind, key string, tenant *uuid.UUID, payload any, due time.Time) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.NewInsert().Model(&OutboxItem{Kind: kind, IdempotencyKey: key, TenantID: tenant, Payload: string(b), State: "{}",
		Status: "pending", NextAttemptAt: utc(due), CreatedAt: s.now()}).On("CONFLICT (idempotency_key) DO NOTHING").Exec(ctx)
	return dbx.Translate(err)
}

// meterEventName is the Stripe meter's event name for one of our meters.
func meterEventName(meter string) string { return "cityops_" + meter }

// queueMeterEvents mirrors newly stored usage to Stripe, one meter event per tenant and meter per
// batch, for tenants that have a Stripe customer. The identifier is the first usage row id of the
// group, so it is stable and unique.
func (s *Service) queueMeterEvents(ctx context.Context, tx bun.IDB, rows []inserted) error {
	if !s.Online() || len(rows) == 0 {
		return nil
	}
	type gk struct {
		tenant uuid.UUID
		meter  string
	}
	groups := map[gk]*meterEventPayload{}
	ids := map[uuid.UUID]bool{}
	for _, r := range rows {
		ids[r.Tenant] = true
		k := gk{r.Tenant, r.Meter}
		g := groups[k]
		if g == nil {
			g = &meterEventPayload{Meter: r.Meter, Identifier: fmt.Sprintf("cityops-usage-%d", r.ID), At: r.At}
			groups[k] = g
		}
		g.Quantity += r.Quantity
		if r.At.After(g.At) {
			g.At = r.At
		}
	}
	list := make([]uuid.UUID, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	var online []uuid.UUID
	if err := tx.NewSelect().Table("control.billing_accounts").Column("tenant_id").
		Where("tenant_id IN (?) AND stripe_customer_id <> ''", bun.List(list)).Scan(ctx, &online); err != nil {
		return dbx.Translate(err)
	}
	has := map[uuid.UUID]bool{}
	for _, id := range online {
		has[id] = true
	}
	keys := make([]gk, 0, len(groups))
	for k := range groups {
		if has[k.tenant] && groups[k].Quantity > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return groups[keys[i]].Identifier < groups[keys[j]].Identifier })
	for _, k := range keys {
		tid := k.tenant
		g := groups[k]
		if err := s.enqueue(ctx, tx, outboxMeterEvent, g.Identifier, &tid, g); err != nil {
			return err
		}
	}
	return nil
}

// ProcessOutbox makes the due Stripe calls, at most limit of them, and returns how many succeeded.
// Rows are claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer), so
// several workers can run, and a worker that dies leaves its rows to be retried after the lease.
func (s *Service) ProcessOutbox(ctx context.Context, limit int) (int, error) {
	if !s.Online() {
		return 0, nil
	}
	if limit <= 0 {
		limit = 50
	}
	var items []*OutboxItem
	now := s.now()
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		lock := ""
		if s.postgres() {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		return tx.NewRaw("UPDATE control.billing_outbox SET next_attempt_at = ?, attempts = attempts + 1 WHERE id IN ("+
			"SELECT id FROM control.billing_outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?"+lock+
			") RETURNING id, kind, idempotency_key, tenant_id, payload, state, status, attempts, next_attempt_at, last_error, created_at",
			utc(now.Add(stripePolicy.Lease)), utc(now), limit).Scan(ctx, &items)
	})
	if err != nil {
		return 0, err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	done := 0
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		err := s.send(ctx, it)
		if err == nil && s.afterSend != nil {
			if err := s.afterSend(it.Kind, it.IdempotencyKey); err != nil {
				return done, err // a simulated crash: nothing recorded; the row is retried after its lease
			}
		}
		if err != nil {
			s.fail(ctx, it, err)
			continue
		}
		done++
	}
	return done, nil
}

// DrainOutbox processes the outbox until nothing is due (for the CLI and tests).
func (s *Service) DrainOutbox(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.ProcessOutbox(ctx, 100)
		total += n
		if err != nil {
			return total, err
		}
		var due int64
		err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			due, err = tx.NewSelect().Model((*OutboxItem)(nil)).Where("status = 'pending' AND next_attempt_at <= ?", utc(s.now())).Count(ctx)
			return err
		})
		if err != nil || due == 0 {
			return total, err
		}
	}
}

// RunOutbox works the outbox until ctx ends, every interval.
func (s *Service) RunOutbox(ctx context.Context, interval time.Duration) {
	if !s.Online() {
		return
	}
	tasks.Every(ctx, interval, func(ctx context.Context) {
		if _, err := s.ProcessOutbox(ctx, 100); err != nil && ctx.Err() == nil {
			s.log.Error("stripe outbox", "err", err)
		}
	})
}

func (s *Service) fail(ctx context.Context, it *OutboxItem, cause error) {
	status := outbox.Pending
	if stripePolicy.Dead(it.Attempts, errors.Is(cause, ErrPermanent)) {
		status = outbox.Dead
	}
	msg := trunc(cause.Error(), 500)
	level := s.log.Warn
	if status == outbox.Dead {
		level = s.log.Error
	}
	level("stripe call failed", "kind", it.Kind, "key", it.IdempotencyKey, "attempts", it.Attempts, "status", status, "err", cause)
	StripeErrors.WithLabelValues(it.Kind, status).Inc()
	ctx = context.WithoutCancel(ctx)
	if err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(it).Set("status = ?", status).Set("last_error = ?", msg).
			Set("next_attempt_at = ?", utc(s.now().Add(stripePolicy.Backoff(it.Attempts)))).WherePK().Exec(ctx)
		return err
	}); err != nil {
		s.log.Error("recording a failed stripe call", "err", err)
	}
}

// errNotReady is a transient error: the call depends on another that has not been made yet.
type errNotReady string

func (e errNotReady) Error() string { return "waiting for " + string(e) }

// send makes one outbox row's call and records its result and the row's completion in one
// transaction.
func (s *Service) send(ctx context.Context, it *OutboxItem) error {
	key := it.IdempotencyKey
	var result func(ctx context.Context, tx bun.Tx) error
	switch it.Kind {
	case outboxCustomer:
		var p customerPayload
		if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
			return fmt.Errorf("%w: payload: %v", ErrPermanent, err)
		}
		acc, err := s.account(ctx, *it.TenantID)
		if err != nil {
			return err
		}
		if acc.StripeCustomerID == "" {
			id, err := s.gw.CreateCustomer(ctx, CustomerInput{TenantID: it.TenantID.String(), Name: p.Name, Description: p.Description, Email: p.Email,
				Metadata: map[string]string{"tenant_id": it.TenantID.String(), "slug": p.Slug}}, key)
			if err != nil {
				return err
			}
			acc.StripeCustomerID = id
		}
		result = func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewInsert().Model(&Account{TenantID: *it.TenantID, ModulesJSON: "{}", StripeCustomerID: acc.StripeCustomerID, UpdatedAt: s.now()}).
				On("CONFLICT (tenant_id) DO UPDATE").Set("stripe_customer_id = EXCLUDED.stripe_customer_id, updated_at = EXCLUDED.updated_at").Exec(ctx)
			return err
		}
	case outboxMeter:
		var p meterPayload
		json.Unmarshal([]byte(it.Payload), &p)
		id, err := s.gw.CreateMeter(ctx, MeterInput{EventName: meterEventName(p.Meter), DisplayName: "CityOps " + p.Meter}, key)
		if err != nil {
			return err
		}
		result = s.saveObject(key, id)
	case outboxPrice:
		var p pricePayload
		json.Unmarshal([]byte(it.Payload), &p)
		meterID, err := s.object(ctx, "meter:"+p.Meter)
		if err != nil {
			return err
		}
		id, err := s.gw.CreatePrice(ctx, PriceInput{Plan: p.Plan, Meter: p.Meter, ProductName: p.Name, MeterID: meterID,
			Included: p.Price.Included, UnitPriceFen: p.Price.UnitPriceFen, UnitSize: p.Price.UnitSize}, key)
		if err != nil {
			return err
		}
		result = s.savePrice("price:"+p.Plan+":"+p.Meter, id)
	case outboxSubscription:
		var p subscriptionPayload
		json.Unmarshal([]byte(it.Payload), &p)
		acc, err := s.account(ctx, *it.TenantID)
		if err != nil {
			return err
		}
		if acc.StripeCustomerID == "" {
			return errNotReady("the tenant's Stripe customer")
		}
		plan, err := s.FindPlan(ctx, p.Plan)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPermanent, err)
		}
		var prices []string
		for _, m := range s.meters {
			if pr, ok := plan.Meters[m]; ok && pr.UnitPriceFen > 0 {
				id, err := s.object(ctx, "price:"+p.Plan+":"+m)
				if err != nil {
					return err
				}
				prices = append(prices, id)
			}
		}
		id, err := s.gw.CreateSubscription(ctx, SubscriptionInput{CustomerID: acc.StripeCustomerID, PriceIDs: prices,
			Metadata: map[string]string{"tenant_id": it.TenantID.String(), "plan": p.Plan}, BillingCycleAnchor: p.Anchor}, key)
		if err != nil {
			return err
		}
		result = func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewUpdate().Model((*Account)(nil)).Set("stripe_subscription_id = ?", id).Set("updated_at = ?", s.now()).
				Where("tenant_id = ?", *it.TenantID).Exec(ctx)
			return err
		}
	case outboxSubscriptionUpdate:
		if err := s.sendSubscriptionUpdate(ctx, it); err != nil {
			return err
		}
	case outboxMeterEvent:
		var p meterEventPayload
		json.Unmarshal([]byte(it.Payload), &p)
		acc, err := s.account(ctx, *it.TenantID)
		if err != nil {
			return err
		}
		if acc.StripeCustomerID == "" {
			return errNotReady("the tenant's Stripe customer")
		}
		if err := s.gw.CreateMeterEvent(ctx, MeterEventInput{EventName: meterEventName(p.Meter), CustomerID: acc.StripeCustomerID,
			Value: p.Quantity, Identifier: p.Identifier, Timestamp: p.At}, key); err != nil {
			return err
		}
	case outboxInvoice:
		var p invoicePayload
		json.Unmarshal([]byte(it.Payload), &p)
		var st invoiceState
		json.Unmarshal([]byte(it.State), &st)
		acc, err := s.account(ctx, *it.TenantID)
		if err != nil {
			return err
		}
		if acc.StripeCustomerID == "" {
			return errNotReady("the tenant's Stripe customer")
		}
		desc := fmt.Sprintf("%d 年度还款分期 / repayment instalment %d", p.Year, p.Year)
		// Each step has its own key and its result is saved before the next, so a retry resumes.
		if st.InvoiceID == "" {
			id, err := s.gw.CreateInvoice(ctx, InvoiceInput{CustomerID: acc.StripeCustomerID, Description: desc, DaysUntilDue: 30,
				Metadata: map[string]string{"tenant_id": it.TenantID.String(), "instalment_year": fmt.Sprint(p.Year)}}, key+":invoice")
			if err != nil {
				return err
			}
			st.InvoiceID = id
			if err := s.saveState(ctx, it, st); err != nil {
				return err
			}
		}
		if st.ItemID == "" {
			id, err := s.gw.CreateInvoiceItem(ctx, InvoiceItemInput{CustomerID: acc.StripeCustomerID, InvoiceID: st.InvoiceID, AmountFen: p.AmountFen, Description: desc}, key+":item")
			if err != nil {
				return err
			}
			st.ItemID = id
			if err := s.saveState(ctx, it, st); err != nil {
				return err
			}
		}
		if err := s.gw.FinalizeInvoice(ctx, st.InvoiceID, key+":finalize"); err != nil {
			return err
		}
		result = func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewUpdate().Model((*Instalment)(nil)).Set("stripe_invoice_id = ?", st.InvoiceID).Set("updated_at = ?", s.now()).
				Where("tenant_id = ? AND year = ?", *it.TenantID, p.Year).Exec(ctx)
			return err
		}
	default:
		return fmt.Errorf("%w: unknown outbox kind %q", ErrPermanent, it.Kind)
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if result != nil {
			if err := result(ctx, tx); err != nil {
				return err
			}
		}
		now := utc(s.now())
		_, err := tx.NewUpdate().Model(it).Set("status = 'done'").Set("done_at = ?", now).Set("last_error = ''").WherePK().Exec(ctx)
		return err
	})
}

func (s *Service) saveState(ctx context.Context, it *OutboxItem, st any) error {
	b, _ := json.Marshal(st)
	it.State = string(b)
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(it).Set("state = ?", it.State).WherePK().Exec(ctx)
		return err
	})
}

func (s *Service) saveObject(key, id string) func(ctx context.Context, tx bun.Tx) error {
	return func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("INSERT INTO control.stripe_objects (key, stripe_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
			key, id, utc(s.now())).Exec(ctx)
		return err
	}
}

// savePrice records the price made for a plan's meter. Unlike meters, a plan's price is replaced
// when its terms change (stripe-sync makes a new price under a key that carries the terms).
func (s *Service) savePrice(key, id string) func(ctx context.Context, tx bun.Tx) error {
	return func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("INSERT INTO control.stripe_objects (key, stripe_id, created_at) VALUES (?, ?, ?) "+
			"ON CONFLICT (key) DO UPDATE SET stripe_id = EXCLUDED.stripe_id, created_at = EXCLUDED.created_at",
			key, id, utc(s.now())).Exec(ctx)
		return err
	}
}

func (s *Service) object(ctx context.Context, key string) (string, error) {
	var id string
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Table("control.stripe_objects").Column("stripe_id").Where("key = ?", key).Scan(ctx, &id)
	})
	if errs.Is(err, errs.NotFound) {
		return "", errNotReady(key)
	}
	return id, err
}

func (s *Service) account(ctx context.Context, tenant uuid.UUID) (*Account, error) {
	var a *Account
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		a, err = findAccount(ctx, tx, tenant)
		return err
	})
	return a, err
}

// FindOutbox lists outbox rows, newest first; status filters ("pending", "done", "dead").
func (s *Service) FindOutbox(ctx context.Context, status string, limit int) ([]*OutboxItem, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	switch status {
	case "", "pending", "done", "dead":
	default:
		return nil, errs.Field("status", msgStatusNotOnePendingDone, trunc(status, 20))
	}
	out := []*OutboxItem{}
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(limit))
		if status != "" {
			q = q.Where("status = ?", status)
		}
		return q.Scan(ctx)
	})
	return out, err
}

// SyncCatalog queues the Stripe meters, and a metered price per plan and meter, that
// subscriptions use. Queuing twice is harmless; a changed plan gets new prices (the key carries
// the plan's terms).
func (s *Service) SyncCatalog(ctx context.Context) error {
	if !s.Online() {
		return errs.E(errs.Conflict, msgStripeNotConfiguredCityopsStripe)
	}
	plans, err := s.FindPlans(ctx)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range s.meters {
			if err := s.enqueue(ctx, tx, outboxMeter, "meter:"+m, nil, meterPayload{Meter: m}); err != nil {
				return err
			}
		}
		for _, p := range plans {
			for _, m := range s.meters {
				pr, ok := p.Meters[m]
				if !ok || pr.UnitPriceFen == 0 {
					continue
				}
				key := fmt.Sprintf("price:%s:%s:%d:%d:%d", p.Code, m, pr.Included, pr.UnitPriceFen, pr.UnitSize)
				if err := s.enqueue(ctx, tx, outboxPrice, key, nil, pricePayload{Plan: p.Code, Meter: m, Name: p.NameZH + " · " + m, Price: pr}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Subscribe queues a Stripe subscription of t to the metered prices of the plan it is on now.
// A tenant has at most one subscription: if one is already queued, Subscribe does nothing (a
// retried request is harmless); if one exists, it returns errs.Conflict — a plan change moves
// the existing subscription (ChangePlan), it never adds a second one. Only after Stripe reports the
// subscription deleted (customer.subscription.deleted) can the tenant subscribe again.
func (s *Service) Subscribe(ctx context.Context, t *tenants.Tenant) error {
	if !s.Online() {
		return errs.E(errs.Conflict, msgStripeNotConfiguredCityopsStripe)
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := findAccount(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if a.StripeSubscriptionID != "" {
			return errs.E(errs.Conflict, msgAlreadyHasStripeSubscriptionChange, t.Slug, a.StripeSubscriptionID)
		}
		var rows []*OutboxItem
		if err := tx.NewSelect().Model(&rows).Column("id", "status").Where("tenant_id = ? AND kind = ?", t.ID, outboxSubscription).Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		for _, r := range rows {
			if r.Status == "pending" {
				return nil // queued already
			}
		}
		e, err := s.entitlements(ctx, tx, t, s.now())
		if err != nil {
			return err
		}
		// The key counts the tenant's subscriptions: deterministic, so two concurrent requests
		// queue one row, and a new one is possible after the last was deleted or refused.
		anchor := nextMonth(s.now())
		key := fmt.Sprintf("subscription:%s:%d", t.ID, len(rows)+1)
		if err := s.enqueue(ctx, tx, outboxSubscription, key, &t.ID, subscriptionPayload{Plan: e.Plan.Code, Anchor: anchor}); err != nil {
			return err
		}
		return s.store.Audit(ctx, tx, "billing.stripe.subscribe", &t.ID, t.Slug, map[string]any{"plan": e.Plan.Code, "key": key})
	})
}

// ensureCustomer queues t's Stripe customer.
func (s *Service) ensureCustomer(ctx context.Context, t *tenants.Tenant) error {
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.enqueue(ctx, tx, outboxCustomer, "customer:"+t.ID.String(), &t.ID, customerPayload{
			Name: t.NameZH, Description: strings.TrimSpace(t.NameEN + " " + t.AdminCode), Email: t.FirstAdminEmail, Slug: t.Slug})
	})
}

// ProvisionStep is the provisioning step that gives every new tenant a Stripe customer (through
// the outbox). Offline it does nothing.
func (s *Service) ProvisionStep() tenants.Step { return provisionStep{s} }

type provisionStep struct{ s *Service }

func (provisionStep) Name() string { return "billing" }

func (p provisionStep) Run(ctx context.Context, t *tenants.Tenant) error {
	if !p.s.Online() {
		return nil
	}
	return p.s.ensureCustomer(ctx, t)
}
