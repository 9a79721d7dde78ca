package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// WebhookResult says what HandleWebhook did with an event.
type WebhookResult struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	// Replayed is true when the event had been processed before and was ignored.
	Replayed bool `json:"replayed"`
	// JournalID is the repayment an invoice.paid event posted.
	JournalID int64 `json:"journal_id,omitempty"`
}

// HandleWebhook verifies and applies a Stripe webhook. The event id is recorded in the same
// transaction as its effect, so a replay (or Stripe's retry after we crashed mid-way) is applied
// once. Events may arrive in any order: instalment status only ever moves forward, and a paid
// invoice is a repayment keyed by the invoice id, however many events report it.
// customer.subscription.deleted forgets the tenant's subscription, so that it can subscribe again.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) (*WebhookResult, error) {
	if !s.Online() {
		return nil, errs.E(errs.NotFound, msgStripeNotConfiguredDeployment)
	}
	ev, err := s.gw.ParseWebhook(payload, signature)
	if err != nil {
		return nil, errs.Wrap(err, errs.Invalid, msgWebhookSignaturePayloadNotValid)
	}
	res := &WebhookResult{EventID: ev.ID, Type: ev.Type}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := tx.NewRaw("INSERT INTO control.stripe_events (id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
			ev.ID, ev.Type, utc(s.now())).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Replayed = true
			return nil
		}
		if sub := ev.Subscription; sub != nil && ev.Type == "customer.subscription.deleted" {
			// The subscription is gone (cancelled in the Dashboard, or by Stripe): forget it, so
			// that the tenant can be subscribed again. Only the one we hold is forgotten.
			_, err := tx.NewUpdate().Model((*Account)(nil)).Set("stripe_subscription_id = ''").Set("updated_at = ?", s.now()).
				Where("stripe_subscription_id = ? AND stripe_subscription_id <> ''", sub.ID).Exec(ctx)
			return err
		}
		inv := ev.Invoice
		if inv == nil {
			return nil
		}
		switch ev.Type {
		case "invoice.finalized", "invoice.paid", "invoice.payment_succeeded":
		default:
			return nil
		}
		t, err := s.invoiceTenant(ctx, tx, inv)
		if err != nil {
			return err
		}
		if t == nil {
			s.log.Warn("stripe invoice for no known tenant; ignored", "invoice", inv.ID, "customer", inv.CustomerID)
			return nil
		}
		year, _ := strconv.Atoi(inv.Metadata["instalment_year"])
		status := "finalized"
		if ev.Type != "invoice.finalized" {
			status = "paid"
			if inv.AmountPaid > 0 {
				at := inv.PaidAt
				if at.IsZero() {
					at = ev.Created
				}
				if at.IsZero() {
					at = s.now()
				}
				e := Entry{Kind: Repayment, Category: "stripe", AmountFen: inv.AmountPaid, Reference: inv.ID,
					Memo: "Stripe 账单已付 / Stripe invoice paid", OccurredAt: at, IdempotencyKey: "stripe-invoice:" + inv.ID, Source: "stripe"}
				if err := e.validate(s.now()); err != nil {
					return err
				}
				j, err := s.post(ctx, tx, t, e)
				if err != nil {
					return err
				}
				res.JournalID = j.ID
			}
		}
		if year > 0 {
			return advanceInstalment(ctx, tx, t.ID, year, status, inv.ID, s.now())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// advanceInstalment moves an instalment's status forward to status, never back.
func advanceInstalment(ctx context.Context, db bun.IDB, tenant uuid.UUID, year int, status, invoiceID string, now time.Time) error {
	in := new(Instalment)
	if err := db.NewSelect().Model(in).Where("tenant_id = ? AND year = ?", tenant, year).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil
		}
		return err
	}
	if instalmentOrder[status] <= instalmentOrder[in.Status] {
		return nil
	}
	_, err := db.NewUpdate().Model(in).Set("status = ?", status).Set("stripe_invoice_id = ?", invoiceID).Set("updated_at = ?", now).WherePK().Exec(ctx)
	return err
}

func (s *Service) invoiceTenant(ctx context.Context, db bun.IDB, inv *WebhookInvoice) (*tenants.Tenant, error) {
	var id uuid.UUID
	if v, err := uuid.Parse(inv.Metadata["tenant_id"]); err == nil {
		id = v
	} else if inv.CustomerID != "" {
		var ids []uuid.UUID
		if err := db.NewSelect().Table("control.billing_accounts").Column("tenant_id").
			Where("stripe_customer_id = ?", inv.CustomerID).Limit(1).Scan(ctx, &ids); err != nil {
			return nil, dbx.Translate(err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		id = ids[0]
	} else {
		return nil, nil
	}
	t := new(tenants.Tenant)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, nil
		}
		return nil, dbx.Translate(err)
	}
	return t, nil
}
