package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// PlanChange is one change of a tenant's plan, from the start of a month (China time). Rating a
// month uses the plan in effect at its start; the history says which that was.
type PlanChange struct {
	bun.BaseModel `bun:"table:control.billing_plan_changes"`

	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	TenantID      uuid.UUID `bun:"tenant_id,type:uuid" json:"tenant_id"`
	FromPlan      string    `bun:"from_plan" json:"from_plan"`
	ToPlan        string    `bun:"to_plan" json:"to_plan"`
	EffectiveFrom time.Time `bun:"effective_from" json:"effective_from"`
	Memo          string    `bun:"memo" json:"memo,omitempty"`
	RequestedAt   time.Time `bun:"requested_at" json:"requested_at"`
	RequestedBy   string    `bun:"requested_by" json:"requested_by"`
	// Stripe says what happens to the tenant's Stripe subscription: "" offline or with no
	// subscription, "queued" when its items are moved to the new plan's prices through the outbox.
	Stripe string `bun:"-" json:"stripe,omitempty"`
	// Recorded is true when this request recorded the change, false when it was already so.
	Recorded bool `bun:"-" json:"recorded"`
}

// Month is the effective month as YYYY-MM.
func (c *PlanChange) Month() string { return c.EffectiveFrom.In(clock.China).Format("2006-01") }

// PlanChangeRequest asks to move a tenant to Plan from the month Effective (YYYY-MM; empty is
// next month). The current month is allowed while it has not been rated; earlier months are not.
type PlanChangeRequest struct {
	Plan      string `json:"plan"`
	Effective string `json:"effective"`
	Memo      string `json:"memo"`
}

// ChangePlan records a change of t's plan from the start of a month and, when the tenant has a
// Stripe subscription (or one is queued), queues the move of that subscription's items to the new
// plan's prices, due at the start of that month. Asking again for the plan already in effect from
// that month records nothing and returns the change that put it there (a retried request is
// harmless). It returns errs.Conflict when the month, or a later one, has already been rated.
func (s *Service) ChangePlan(ctx context.Context, t *tenants.Tenant, r PlanChangeRequest) (*PlanChange, error) {
	var eff time.Time
	if r.Effective == "" {
		eff = nextMonth(s.now())
	} else {
		m, err := ParseMonth(r.Effective)
		if err != nil {
			return nil, errs.Field("effective", msgEffectiveMonthNotValidUse, trunc(r.Effective, 20))
		}
		eff = m
	}
	if err := checkText("memo", r.Memo, 500); err != nil {
		return nil, err
	}
	var c *PlanChange
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, err = s.changePlan(ctx, tx, t, r.Plan, eff, r.Memo)
		return err
	})
	s.ents.Forget(t.ID)
	if err != nil {
		return nil, err
	}
	if !c.EffectiveFrom.After(s.now()) {
		t.Plan = c.ToPlan
	}
	return c, nil
}

// changePlan is ChangePlan inside tx, with the effective month resolved.
func (s *Service) changePlan(ctx context.Context, tx bun.IDB, t *tenants.Tenant, plan string, eff time.Time, memo string) (*PlanChange, error) {
	now := s.now()
	if _, err := findPlan(ctx, tx, plan); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Field("plan", msgThereNoPlan, trunc(plan, 40))
		}
		return nil, err
	}
	thisMonth := periodStart(Month, now)
	if eff.Before(thisMonth) {
		return nil, errs.Field("effective", msgPlanChangeCannotStartPast,
			eff.In(clock.China).Format("2006-01"), thisMonth.In(clock.China).Format("2006-01"))
	}
	if eff.After(now.AddDate(5, 0, 0)) {
		return nil, errs.Field("effective", msgPlanChangeCanScheduledMost)
	}
	if s.postgres() {
		// One plan change per tenant at a time: each reads the history it extends.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "plan:"+t.ID.String()); err != nil {
			return nil, err
		}
	}
	from, err := planAt(ctx, tx, t.ID, eff)
	if err != nil {
		return nil, err
	}
	if from == plan {
		// Already so from that month: return what put it there (or a record of the plan as it is).
		last := new(PlanChange)
		err := tx.NewSelect().Model(last).Where("tenant_id = ? AND effective_from <= ?", t.ID, utc(eff)).
			OrderExpr("effective_from DESC, id DESC").Limit(1).Scan(ctx)
		if err == nil {
			return last, nil
		}
		if !errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, dbx.Translate(err)
		}
		return &PlanChange{TenantID: t.ID, FromPlan: from, ToPlan: plan, EffectiveFrom: eff}, nil
	}
	// A rated month is billed: changing its plan now would not change what it was charged.
	rated, err := ratedFrom(ctx, tx, t.ID, eff)
	if err != nil {
		return nil, dbx.Translate(err)
	}
	if rated {
		return nil, errs.E(errs.Conflict, msgHasAlreadyBeenRatedLater,
			t.Slug, eff.In(clock.China).Format("2006-01"))
	}
	c := &PlanChange{TenantID: t.ID, FromPlan: from, ToPlan: plan, EffectiveFrom: utc(eff), Memo: memo, RequestedAt: now, RequestedBy: "system"}
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		c.RequestedBy = p.Identity.Email
	}
	if _, err := tx.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	c.Recorded = true
	if err := applyDuePlan(ctx, tx, t.ID, now); err != nil {
		return nil, err
	}
	if s.Online() {
		queued, err := s.queueSubscriptionUpdate(ctx, tx, t, c)
		if err != nil {
			return nil, err
		}
		if queued {
			c.Stripe = "queued"
		}
	}
	return c, s.store.Audit(ctx, tx, "billing.plan.change", &t.ID, t.Slug, map[string]any{
		"from": from, "to": plan, "effective": c.Month(), "memo": memo, "stripe": c.Stripe})
}

// ratedFrom reports whether any month from the one starting at month on has been rated for tenant
// (rating posts its charges within the month it rates, or at its end).
func ratedFrom(ctx context.Context, db bun.IDB, tenant uuid.UUID, month time.Time) (bool, error) {
	ok, err := db.NewSelect().Table("control.ledger_journals").
		Where("tenant_id = ? AND source = 'rating' AND occurred_at >= ?", tenant, utc(month)).Exists(ctx)
	return ok, dbx.Translate(err)
}

// nextMonth is the start of the month after the one containing t, China time, in UTC.
func nextMonth(t time.Time) time.Time {
	return clock.StartOfMonth(t).AddDate(0, 1, 0).UTC()
}

// FindPlanChanges lists t's plan changes, oldest first.
func (s *Service) FindPlanChanges(ctx context.Context, tenant uuid.UUID) ([]*PlanChange, error) {
	out := []*PlanChange{}
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&out).Where("tenant_id = ?", tenant).OrderExpr("effective_from, id").Scan(ctx)
	})
	return out, dbx.Translate(err)
}

// planAt is the code of the plan tenant is on at at: the latest change in effect then; before
// the first change, the plan that change replaced; with no changes, control.tenants.plan.
func planAt(ctx context.Context, db bun.IDB, tenant uuid.UUID, at time.Time) (string, error) {
	var codes []string
	if err := db.NewSelect().Table("control.billing_plan_changes").Column("to_plan").
		Where("tenant_id = ? AND effective_from <= ?", tenant, utc(at)).OrderExpr("effective_from DESC, id DESC").Limit(1).
		Scan(ctx, &codes); err != nil {
		return "", dbx.Translate(err)
	}
	if len(codes) == 1 {
		return codes[0], nil
	}
	if err := db.NewSelect().Table("control.billing_plan_changes").Column("from_plan").
		Where("tenant_id = ?", tenant).OrderExpr("effective_from, id").Limit(1).Scan(ctx, &codes); err != nil {
		return "", dbx.Translate(err)
	}
	if len(codes) == 1 {
		return codes[0], nil
	}
	var code string
	if err := db.NewSelect().Table("control.tenants").Column("plan").Where("id = ?", tenant).Scan(ctx, &code); err != nil {
		return "", dbx.Translate(err)
	}
	return code, nil
}

// applyDuePlan sets control.tenants.plan to the plan in effect at now, so that lists of tenants
// show it. Billing itself always reads the history.
func applyDuePlan(ctx context.Context, db bun.IDB, tenant uuid.UUID, now time.Time) error {
	code, err := planAt(ctx, db, tenant, now)
	if err != nil {
		return err
	}
	_, err = db.NewUpdate().Table("control.tenants").Set("plan = ?", code).Set("updated_at = ?", utc(now)).
		Where("id = ? AND plan <> ?", tenant, code).Exec(ctx)
	return dbx.Translate(err)
}

// ApplyDuePlanChanges brings control.tenants.plan up to date for every tenant whose scheduled
// change has fallen due. It runs with monthly rating (at start and every hour).
func (s *Service) ApplyDuePlanChanges(ctx context.Context) error {
	var ids []uuid.UUID
	if err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Table("control.billing_plan_changes").ColumnExpr("DISTINCT tenant_id").
			Where("effective_from <= ?", utc(s.now())).Scan(ctx, &ids)
	}); err != nil {
		return dbx.Translate(err)
	}
	for _, id := range ids {
		if err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error { return applyDuePlan(ctx, tx, id, s.now()) }); err != nil {
			return err
		}
	}
	return nil
}

// Subscription update through the outbox.

type subscriptionUpdatePayload struct {
	ChangeID int64  `json:"change_id"`
	Plan     string `json:"plan"`
}

// subscriptionUpdateState is what a subscription update decided before calling Stripe, saved so
// that a retry sends exactly the same request under the same key.
type subscriptionUpdateState struct {
	Decided        bool                     `json:"decided,omitempty"`
	Skip           bool                     `json:"skip,omitempty"`
	SubscriptionID string                   `json:"subscription_id,omitempty"`
	Items          []SubscriptionItemChange `json:"items,omitempty"`
}

// hasSubscription reports whether t has a Stripe subscription, or one queued that may yet be made.
func hasSubscription(ctx context.Context, db bun.IDB, tenant uuid.UUID) (bool, error) {
	a, err := findAccount(ctx, db, tenant)
	if err != nil {
		return false, err
	}
	if a.StripeSubscriptionID != "" {
		return true, nil
	}
	n, err := db.NewSelect().Model((*OutboxItem)(nil)).Where("tenant_id = ? AND kind = ? AND status = 'pending'", tenant, outboxSubscription).Count(ctx)
	return n > 0, dbx.Translate(err)
}

// queueSubscriptionUpdate queues the move of t's subscription to c's plan, due when c takes
// effect, if t has a subscription. The key is the change's id: one update per change.
func (s *Service) queueSubscriptionUpdate(ctx context.Context, tx bun.IDB, t *tenants.Tenant, c *PlanChange) (bool, error) {
	has, err := hasSubscription(ctx, tx, t.ID)
	if err != nil || !has {
		return false, err
	}
	due := c.EffectiveFrom
	if now := s.now(); due.Before(now) {
		due = now
	}
	return true, s.enqueueAt(ctx, tx, outboxSubscriptionUpdate, fmt.Sprintf("subscription-plan:%s:%d", t.ID, c.ID), &t.ID,
		subscriptionUpdatePayload{ChangeID: c.ID, Plan: c.ToPlan}, due)
}

// sendSubscriptionUpdate moves a subscription's items to a plan's prices. It first decides what
// to send — nothing if a later change has superseded this one, otherwise the item changes from
// what Stripe has now — and saves that decision, then sends it. A retry resumes with the saved
// decision, so the same key always carries the same request. Updates of one tenant go one at a
// time: while one has decided and not finished, the others wait.
func (s *Service) sendSubscriptionUpdate(ctx context.Context, it *OutboxItem) error {
	var p subscriptionUpdatePayload
	if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
		return fmt.Errorf("%w: payload: %v", ErrPermanent, err)
	}
	var st subscriptionUpdateState
	json.Unmarshal([]byte(it.State), &st)
	if !st.Decided {
		var current string
		var busy bool
		acc, err := s.account(ctx, *it.TenantID)
		if err != nil {
			return err
		}
		if acc.StripeSubscriptionID == "" {
			return errNotReady("the tenant's Stripe subscription")
		}
		err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if current, err = planAt(ctx, tx, *it.TenantID, s.now()); err != nil {
				return err
			}
			busy, err = tx.NewSelect().Model((*OutboxItem)(nil)).Where("tenant_id = ? AND kind = ? AND status = 'pending' AND id <> ? AND state <> '{}'",
				*it.TenantID, outboxSubscriptionUpdate, it.ID).Exists(ctx)
			return err
		})
		if err != nil {
			return err
		}
		if busy {
			return errNotReady("another update of the tenant's subscription")
		}
		st = subscriptionUpdateState{Decided: true, SubscriptionID: acc.StripeSubscriptionID}
		if current != p.Plan {
			st.Skip = true // a later change is in effect; its own update moves the subscription
		} else {
			want, err := s.planPrices(ctx, p.Plan)
			if err != nil {
				return err
			}
			have, err := s.gw.SubscriptionItems(ctx, acc.StripeSubscriptionID)
			if err != nil {
				return err
			}
			st.Items = itemChanges(have, want)
		}
		if err := s.saveState(ctx, it, st); err != nil {
			return err
		}
	}
	if st.Skip {
		return nil
	}
	return s.gw.UpdateSubscription(ctx, SubscriptionUpdateInput{SubscriptionID: st.SubscriptionID, Items: st.Items,
		Metadata: map[string]string{"tenant_id": it.TenantID.String(), "plan": p.Plan}}, it.IdempotencyKey)
}

// planPrices are the Stripe prices, with their meters, of plan's metered terms.
func (s *Service) planPrices(ctx context.Context, plan string) ([]SubscriptionItem, error) {
	pl, err := s.FindPlan(ctx, plan)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	var out []SubscriptionItem
	for _, m := range s.meters {
		if pr, ok := pl.Meters[m]; ok && pr.UnitPriceFen > 0 {
			price, err := s.object(ctx, "price:"+plan+":"+m)
			if err != nil {
				return nil, err
			}
			meter, err := s.object(ctx, "meter:"+m)
			if err != nil {
				return nil, err
			}
			out = append(out, SubscriptionItem{PriceID: price, MeterID: meter})
		}
	}
	return out, nil
}

// itemChanges turns a subscription's items into want: an item on the same meter as a wanted price
// gets that price in place (usage keeps flowing into the same item), items on no wanted meter are
// removed, and wanted prices with no item are added.
func itemChanges(have, want []SubscriptionItem) []SubscriptionItemChange {
	used := make([]bool, len(have))
	var out []SubscriptionItemChange
	for _, w := range want {
		found := -1
		for i, h := range have {
			if !used[i] && h.MeterID != "" && h.MeterID == w.MeterID {
				found = i
				break
			}
		}
		if found < 0 {
			for i, h := range have {
				if !used[i] && h.PriceID == w.PriceID {
					found = i
					break
				}
			}
		}
		if found < 0 {
			out = append(out, SubscriptionItemChange{PriceID: w.PriceID})
			continue
		}
		used[found] = true
		out = append(out, SubscriptionItemChange{ID: have[found].ID, PriceID: w.PriceID})
	}
	for i, h := range have {
		if !used[i] {
			out = append(out, SubscriptionItemChange{ID: h.ID, Deleted: true})
		}
	}
	return out
}
