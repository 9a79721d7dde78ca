package monitoring

import (
	"context"
	"fmt"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// quotaNear is the share of the included sensor messages past which the console warns.
const quotaNear = 0.8

var (
	msgQuotaNear = msg.New("monitoring.quota.near",
		"This month %[1]d sensor messages have arrived: %[3]d%% of the %[2]d the plan includes. Past them each message is billed at the plan's price; nothing is refused.",
		"本月已接收传感器消息 %[1]d 条，已达套餐所含 %[2]d 条的 %[3]d%%。超出部分按套餐单价计费，读数照常接收，不会被拒收。")
	msgQuotaOver = msg.New("monitoring.quota.over",
		"This month %[1]d sensor messages have arrived, %[2]d more than the %[3]d the plan includes: they are billed at the plan's price (%[4]s yuan so far). Readings keep arriving; nothing is refused or dropped for billing.",
		"本月已接收传感器消息 %[1]d 条，超出套餐所含 %[3]d 条共 %[2]d 条，超出部分按套餐单价计费（目前 %[4]s 元）。读数照常接收，不会因计费被拒收或丢弃。")
)

// quotaOf is the month's sensor messages of the tenant in ctx's scope against its plan; nil
// without billing (tests) or outside a tenant.
func (h *handlers) quotaOf(ctx context.Context) (*module.Quota, error) {
	sc := tenants.ScopeFrom(ctx)
	if h.k.Quota == nil || sc == nil || sc.Tenant == nil {
		return nil, nil
	}
	q, err := h.k.Quota(ctx, sc.Tenant, billing.MeterSensorReadings)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// quotaNotice is the console's warning about q in l: over the quota, or past quotaNear of it;
// "" otherwise.
func quotaNotice(q *module.Quota, l string) (string, bool) {
	switch {
	case q == nil || q.Included <= 0:
		return "", false
	case q.Over:
		return msgQuotaOver.In(l, q.Used, q.Used-q.Included, q.Included, fmt.Sprintf("%.2f", float64(q.OverageFen)/100)), true
	case float64(q.Used) >= quotaNear*float64(q.Included):
		return msgQuotaNear.In(l, q.Used, q.Included, int(100*q.Used/q.Included)), false
	}
	return "", false
}

// apiQuota is GET /monitoring/quota: the month's sensor messages against the plan.
func (h *handlers) apiQuota(c *fiber.Ctx) error {
	q, err := h.quotaOf(c.UserContext())
	if err != nil {
		return err
	}
	if q == nil {
		q = &module.Quota{Meter: billing.MeterSensorReadings}
	}
	return c.JSON(q)
}
