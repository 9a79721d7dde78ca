// Package stripegw is billing's gateway to Stripe, on stripe-go v76 with a client of its own (no
// package-level key or backend is ever set). Every request carries the idempotency key billing
// derives from its own data; stripe-go's automatic retries are off, because the outbox retries
// with backoff and the same key.
package stripegw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"
)

var _ billing.Gateway = (*Gateway)(nil)

// APIVersion is the Stripe API version this gateway speaks and accepts webhooks of.
const APIVersion = "2023-10-16"

// Config configures a Gateway.
type Config struct {
	Key           string
	WebhookSecret string
	// APIBase overrides https://api.stripe.com (for stripe-mock).
	APIBase string
	// Timeout bounds one request (default 20s).
	Timeout time.Duration
}

// Gateway calls Stripe for billing.
type Gateway struct {
	api    *client.API
	secret string
}

// New builds a gateway. It fails if the library does not speak the pinned API version.
func New(cfg Config) (*Gateway, error) {
	if stripe.APIVersion != APIVersion {
		return nil, fmt.Errorf("stripe-go speaks API version %s, want %s", stripe.APIVersion, APIVersion)
	}
	if cfg.Key == "" {
		return nil, errors.New("stripe: no API key")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.APIBase, "/"))
	}
	backends := &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
	}
	api := &client.API{}
	api.Init(cfg.Key, backends)
	return &Gateway{api: api, secret: cfg.WebhookSecret}, nil
}

func params(ctx context.Context, p *stripe.Params, key string) {
	p.Context = ctx
	p.SetIdempotencyKey(key)
}

// classify marks errors that a retry cannot fix as billing.ErrPermanent: Stripe's 4xx answers,
// except 409 (an idempotent request still in flight) and 429 (rate limited).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		if se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != 409 && se.HTTPStatusCode != 429 {
			return fmt.Errorf("%w: %d %s: %s", billing.ErrPermanent, se.HTTPStatusCode, se.Code, se.Msg)
		}
		return fmt.Errorf("stripe %d: %s", se.HTTPStatusCode, se.Msg)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("stripe unreachable: %w", err)
	}
	return err
}

// CreateCustomer creates a tenant's customer; the tenant id is in its metadata.
func (g *Gateway) CreateCustomer(ctx context.Context, in billing.CustomerInput, key string) (string, error) {
	p := &stripe.CustomerParams{Name: stripe.String(in.Name), Description: stripe.String(in.Description)}
	if in.Email != "" {
		p.Email = stripe.String(in.Email)
	}
	for k, v := range in.Metadata {
		p.AddMetadata(k, v)
	}
	params(ctx, &p.Params, key)
	c, err := g.api.Customers.New(p)
	if err != nil {
		return "", classify(err)
	}
	return c.ID, nil
}

// CreateMeter creates a billing meter that sums the "value" of events mapped to customers by id.
func (g *Gateway) CreateMeter(ctx context.Context, in billing.MeterInput, key string) (string, error) {
	p := &stripe.BillingMeterParams{
		DisplayName:        stripe.String(in.DisplayName),
		EventName:          stripe.String(in.EventName),
		DefaultAggregation: &stripe.BillingMeterDefaultAggregationParams{Formula: stripe.String("sum")},
		CustomerMapping:    &stripe.BillingMeterCustomerMappingParams{EventPayloadKey: stripe.String("stripe_customer_id"), Type: stripe.String("by_id")},
		ValueSettings:      &stripe.BillingMeterValueSettingsParams{EventPayloadKey: stripe.String("value")},
	}
	params(ctx, &p.Params, key)
	m, err := g.api.BillingMeters.New(p)
	if err != nil {
		return "", classify(err)
	}
	return m.ID, nil
}

// CreatePrice creates a monthly metered price on a meter: a free tier up to the plan's quota,
// then the overage price per unit. Stripe takes the per-unit price as a decimal; this is the only
// place a non-integer amount exists, in the mirror and never in the ledger.
func (g *Gateway) CreatePrice(ctx context.Context, in billing.PriceInput, key string) (string, error) {
	size := max(in.UnitSize, 1)
	p := &stripe.PriceParams{
		Currency:      stripe.String("cny"),
		ProductData:   &stripe.PriceProductDataParams{Name: stripe.String(in.ProductName)},
		Recurring:     &stripe.PriceRecurringParams{Interval: stripe.String("month"), UsageType: stripe.String("metered"), Meter: stripe.String(in.MeterID)},
		BillingScheme: stripe.String("tiered"),
		TiersMode:     stripe.String("graduated"),
		Tiers: []*stripe.PriceTierParams{
			{UpTo: stripe.Int64(max(in.Included, 1)), UnitAmount: stripe.Int64(0)},
			{UpToInf: stripe.Bool(true), UnitAmountDecimal: stripe.Float64(float64(in.UnitPriceFen) / float64(size))},
		},
	}
	p.AddMetadata("plan", in.Plan)
	p.AddMetadata("meter", in.Meter)
	params(ctx, &p.Params, key)
	pr, err := g.api.Prices.New(p)
	if err != nil {
		return "", classify(err)
	}
	return pr.ID, nil
}

// CreateSubscription subscribes a customer to metered prices.
func (g *Gateway) CreateSubscription(ctx context.Context, in billing.SubscriptionInput, key string) (string, error) {
	p := &stripe.SubscriptionParams{Customer: stripe.String(in.CustomerID), CollectionMethod: stripe.String("send_invoice"), DaysUntilDue: stripe.Int64(30)}
	for _, id := range in.PriceIDs {
		p.Items = append(p.Items, &stripe.SubscriptionItemsParams{Price: stripe.String(id)})
	}
	for k, v := range in.Metadata {
		p.AddMetadata(k, v)
	}
	if !in.BillingCycleAnchor.IsZero() {
		// Metered prices are billed in arrears, so the short first period has nothing to prorate.
		p.BillingCycleAnchor = stripe.Int64(in.BillingCycleAnchor.Unix())
		p.ProrationBehavior = stripe.String("none")
	}
	params(ctx, &p.Params, key)
	s, err := g.api.Subscriptions.New(p)
	if err != nil {
		return "", classify(err)
	}
	return s.ID, nil
}

// SubscriptionItems reads a subscription's items, each with its price and the price's meter.
func (g *Gateway) SubscriptionItems(ctx context.Context, subscriptionID string) ([]billing.SubscriptionItem, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := g.api.Subscriptions.Get(subscriptionID, p)
	if err != nil {
		return nil, classify(err)
	}
	var out []billing.SubscriptionItem
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			si := billing.SubscriptionItem{ID: it.ID}
			if it.Price != nil {
				si.PriceID = it.Price.ID
				if it.Price.Recurring != nil {
					si.MeterID = it.Price.Recurring.Meter
				}
			}
			out = append(out, si)
		}
	}
	return out, nil
}

// UpdateSubscription moves a subscription to other prices in place, as Stripe recommends for an
// upgrade or downgrade (rather than cancelling it and making another): each item keeps its id and
// gets the new price on the same meter. No proration: metered prices are billed in arrears.
func (g *Gateway) UpdateSubscription(ctx context.Context, in billing.SubscriptionUpdateInput, key string) error {
	p := &stripe.SubscriptionParams{ProrationBehavior: stripe.String("none")}
	for _, c := range in.Items {
		ip := &stripe.SubscriptionItemsParams{}
		if c.ID != "" {
			ip.ID = stripe.String(c.ID)
		}
		if c.Deleted {
			ip.Deleted = stripe.Bool(true)
		} else {
			ip.Price = stripe.String(c.PriceID)
		}
		p.Items = append(p.Items, ip)
	}
	for k, v := range in.Metadata {
		p.AddMetadata(k, v)
	}
	params(ctx, &p.Params, key)
	_, err := g.api.Subscriptions.Update(in.SubscriptionID, p)
	return classify(err)
}

// CreateMeterEvent reports usage; Stripe de-duplicates by Identifier.
func (g *Gateway) CreateMeterEvent(ctx context.Context, in billing.MeterEventInput, key string) error {
	p := &stripe.BillingMeterEventParams{
		EventName:  stripe.String(in.EventName),
		Identifier: stripe.String(in.Identifier),
		Payload:    map[string]string{"stripe_customer_id": in.CustomerID, "value": strconv.FormatInt(in.Value, 10)},
		Timestamp:  stripe.Int64(in.Timestamp.Unix()),
	}
	params(ctx, &p.Params, key)
	_, err := g.api.BillingMeterEvents.New(p)
	return classify(err)
}

// CreateInvoice creates a draft invoice to be sent, not charged automatically.
func (g *Gateway) CreateInvoice(ctx context.Context, in billing.InvoiceInput, key string) (string, error) {
	p := &stripe.InvoiceParams{
		Customer: stripe.String(in.CustomerID), CollectionMethod: stripe.String("send_invoice"), DaysUntilDue: stripe.Int64(in.DaysUntilDue),
		Description: stripe.String(in.Description), AutoAdvance: stripe.Bool(false), PendingInvoiceItemsBehavior: stripe.String("exclude"),
		Currency: stripe.String("cny"),
	}
	for k, v := range in.Metadata {
		p.AddMetadata(k, v)
	}
	params(ctx, &p.Params, key)
	inv, err := g.api.Invoices.New(p)
	if err != nil {
		return "", classify(err)
	}
	return inv.ID, nil
}

// CreateInvoiceItem adds a line to a draft invoice.
func (g *Gateway) CreateInvoiceItem(ctx context.Context, in billing.InvoiceItemInput, key string) (string, error) {
	p := &stripe.InvoiceItemParams{Customer: stripe.String(in.CustomerID), Invoice: stripe.String(in.InvoiceID),
		Amount: stripe.Int64(in.AmountFen), Currency: stripe.String("cny"), Description: stripe.String(in.Description)}
	params(ctx, &p.Params, key)
	it, err := g.api.InvoiceItems.New(p)
	if err != nil {
		return "", classify(err)
	}
	return it.ID, nil
}

// FinalizeInvoice finalizes a draft invoice.
func (g *Gateway) FinalizeInvoice(ctx context.Context, invoiceID, key string) error {
	p := &stripe.InvoiceFinalizeInvoiceParams{}
	params(ctx, &p.Params, key)
	_, err := g.api.Invoices.FinalizeInvoice(invoiceID, p)
	return classify(err)
}

// ParseWebhook verifies the signature (and the pinned API version) and decodes the event.
func (g *Gateway) ParseWebhook(payload []byte, signature string) (*billing.WebhookEvent, error) {
	if g.secret == "" {
		return nil, errors.New("no webhook signing secret configured (CITYOPS_STRIPE_WEBHOOK_SECRET)")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, g.secret, webhook.ConstructEventOptions{})
	if err != nil {
		return nil, err
	}
	out := &billing.WebhookEvent{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if strings.HasPrefix(out.Type, "invoice.") && ev.Data != nil {
		var inv stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
			return nil, fmt.Errorf("invoice in event %s: %w", ev.ID, err)
		}
		wi := &billing.WebhookInvoice{ID: inv.ID, Status: string(inv.Status), AmountPaid: inv.AmountPaid, Currency: string(inv.Currency), Metadata: inv.Metadata}
		if inv.Customer != nil {
			wi.CustomerID = inv.Customer.ID
		}
		if inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt > 0 {
			wi.PaidAt = time.Unix(inv.StatusTransitions.PaidAt, 0).UTC()
		}
		out.Invoice = wi
	}
	if strings.HasPrefix(out.Type, "customer.subscription.") && ev.Data != nil {
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return nil, fmt.Errorf("subscription in event %s: %w", ev.ID, err)
		}
		ws := &billing.WebhookSubscription{ID: sub.ID, Status: string(sub.Status), Metadata: sub.Metadata}
		if sub.Customer != nil {
			ws.CustomerID = sub.Customer.ID
		}
		out.Subscription = ws
	}
	return out, nil
}
