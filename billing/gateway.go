package billing

import (
	"context"
	"errors"
	"time"
)

// Gateway is what billing needs from Stripe. Every method that creates something takes the
// idempotency key to send, derived from our own data so that a retry after a crash sends the same
// key and Stripe answers with the object it already made. billing/stripegw implements it.
type Gateway interface {
	CreateCustomer(ctx context.Context, in CustomerInput, key string) (id string, err error)
	CreateMeter(ctx context.Context, in MeterInput, key string) (id string, err error)
	CreatePrice(ctx context.Context, in PriceInput, key string) (id string, err error)
	CreateSubscription(ctx context.Context, in SubscriptionInput, key string) (id string, err error)
	// SubscriptionItems reads a subscription's items (a read: no key, safe to repeat).
	SubscriptionItems(ctx context.Context, subscriptionID string) ([]SubscriptionItem, error)
	// UpdateSubscription changes a subscription's items in place (a plan change).
	UpdateSubscription(ctx context.Context, in SubscriptionUpdateInput, key string) error
	CreateMeterEvent(ctx context.Context, in MeterEventInput, key string) error
	CreateInvoice(ctx context.Context, in InvoiceInput, key string) (id string, err error)
	CreateInvoiceItem(ctx context.Context, in InvoiceItemInput, key string) (id string, err error)
	FinalizeInvoice(ctx context.Context, invoiceID, key string) error
	// ParseWebhook verifies the Stripe-Signature header of payload and decodes the event.
	ParseWebhook(payload []byte, signature string) (*WebhookEvent, error)
}

// ErrPermanent marks a gateway error that retrying cannot fix (Stripe refused the request as
// invalid). Anything else is retried with backoff.
var ErrPermanent = errors.New("stripe refused the request")

// CustomerInput describes a tenant's Stripe customer.
type CustomerInput struct {
	TenantID    string
	Name        string
	Description string
	Email       string
	Metadata    map[string]string
}

// MeterInput describes a Stripe billing meter for one of our meters.
type MeterInput struct {
	EventName   string
	DisplayName string
}

// PriceInput describes a metered monthly price on a meter: Included units free, then UnitPriceFen
// per UnitSize units.
type PriceInput struct {
	Plan         string
	Meter        string
	ProductName  string
	MeterID      string
	Included     int64
	UnitPriceFen int64
	UnitSize     int64
}

// SubscriptionInput subscribes a customer to the metered prices of its plan.
type SubscriptionInput struct {
	CustomerID string
	PriceIDs   []string
	Metadata   map[string]string
	// BillingCycleAnchor, if set, starts the subscription's monthly periods there (the first of a
	// month, China time), so that Stripe's periods are the ledger's months and a plan change at
	// the start of a month falls on a period boundary.
	BillingCycleAnchor time.Time
}

// SubscriptionItem is one item of a Stripe subscription: a price, and the billing meter the price
// is on ("" for a price on no meter).
type SubscriptionItem struct {
	ID      string `json:"id"`
	PriceID string `json:"price_id"`
	MeterID string `json:"meter_id,omitempty"`
}

// SubscriptionItemChange is one line of a subscription update: ID alone with Deleted removes an
// item, ID with PriceID replaces an item's price, PriceID alone adds an item.
type SubscriptionItemChange struct {
	ID      string `json:"id,omitempty"`
	PriceID string `json:"price_id,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// SubscriptionUpdateInput moves a subscription to other prices without cancelling it.
type SubscriptionUpdateInput struct {
	SubscriptionID string
	Items          []SubscriptionItemChange
	Metadata       map[string]string
}

// MeterEventInput is usage sent to a meter. Identifier is our usage row id, which Stripe uses to
// de-duplicate meter events.
type MeterEventInput struct {
	EventName  string
	CustomerID string
	Value      int64
	Identifier string
	Timestamp  time.Time
}

// InvoiceInput is a draft invoice to be sent to the customer for payment.
type InvoiceInput struct {
	CustomerID   string
	Description  string
	DaysUntilDue int64
	Metadata     map[string]string
}

// InvoiceItemInput is a line on a draft invoice.
type InvoiceItemInput struct {
	CustomerID  string
	InvoiceID   string
	AmountFen   int64
	Description string
}

// WebhookEvent is the part of a Stripe event billing acts on.
type WebhookEvent struct {
	ID      string
	Type    string
	Created time.Time
	Invoice *WebhookInvoice
	// Subscription is the subscription carried by customer.subscription.* events.
	Subscription *WebhookSubscription
}

// WebhookSubscription is the subscription carried by customer.subscription.* events.
type WebhookSubscription struct {
	ID         string
	CustomerID string
	Status     string
	Metadata   map[string]string
}

// WebhookInvoice is the invoice carried by invoice.* events.
type WebhookInvoice struct {
	ID         string
	CustomerID string
	Status     string
	AmountPaid int64
	Currency   string
	PaidAt     time.Time
	Metadata   map[string]string
}
