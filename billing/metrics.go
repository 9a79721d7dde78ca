package billing

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/outbox"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

// StripeErrors counts the failed Stripe calls of the outbox, by the call's kind and what became
// of it: "pending" (tried again later) or "dead" (given up: an operator must look).
var StripeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cityops_stripe_errors_total", Help: "Failed Stripe calls, by kind and status (pending: retried; dead: given up).",
}, []string{"kind", "status"})

func init() {
	// Every kind starts at zero, so that rate() and increase() see the first failure.
	for _, k := range []string{outboxCustomer, outboxMeter, outboxPrice, outboxSubscription, outboxSubscriptionUpdate, outboxMeterEvent, outboxInvoice} {
		for _, st := range []string{outbox.Pending, outbox.Dead} {
			StripeErrors.WithLabelValues(k, st)
		}
	}
}

// OutboxCollector reports the Stripe outbox's backlog when scraped: the calls waiting and dead,
// and the age of the oldest waiting one.
func (s *Service) OutboxCollector() prometheus.Collector { return outboxCollector{s} }

type outboxCollector struct{ s *Service }

var (
	outboxItemsDesc = prometheus.NewDesc("cityops_stripe_outbox_items", "Stripe calls in the outbox, by status (pending, dead).", []string{"status"}, nil)
	outboxAgeDesc   = prometheus.NewDesc("cityops_stripe_outbox_oldest_pending_seconds", "Age of the oldest Stripe call still waiting (0 when none).", nil, nil)
)

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxItemsDesc
	ch <- outboxAgeDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]int64{outbox.Pending: 0, outbox.Dead: 0}
	age := 0.0
	err := c.s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			Status string `bun:"status"`
			N      int64  `bun:"n"`
		}
		if err := tx.NewRaw("SELECT status, count(*) AS n FROM control.billing_outbox WHERE status IN (?, ?) GROUP BY status", outbox.Pending, outbox.Dead).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			counts[r.Status] = r.N
		}
		var oldest []OutboxItem
		if err := tx.NewSelect().Model(&oldest).Column("created_at").Where("status = ?", outbox.Pending).Order("created_at").Limit(1).Scan(ctx); err != nil {
			return err
		}
		if len(oldest) == 1 {
			age = max(0, time.Since(oldest[0].CreatedAt).Seconds())
		}
		return nil
	})
	if err != nil {
		c.s.log.Warn("metrics: stripe outbox backlog", "err", err)
		return
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(outboxItemsDesc, prometheus.GaugeValue, float64(n), st)
	}
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}
