package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Rated is the outcome of rating one tenant's month.
type Rated struct {
	Tenant     string        `json:"tenant"`
	Month      string        `json:"month"`
	PlanFeeFen int64         `json:"plan_fee_fen"`
	UsageFen   int64         `json:"usage_fen"`
	Meters     []MeterStatus `json:"meters"`
	Journals   []int64       `json:"journals"`
}

// ParseMonth reads "2026-05" as the start of that month, China time, in UTC.
func ParseMonth(s string) (time.Time, error) {
	m, err := time.ParseInLocation("2006-01", s, clock.China)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: use YYYY-MM", s)
	}
	return m.UTC(), nil
}

// RateMonth charges t for the month starting at month (see ParseMonth): the plan's monthly fee
// and the overage of every meter beyond the plan's quota. Each charge has an idempotency key made
// of the tenant, the month and what it is for, so rating a month twice charges it once. Rate a
// month after it has ended.
func (s *Service) RateMonth(ctx context.Context, t *tenants.Tenant, month time.Time) (*Rated, error) {
	month = periodStart(Month, month)
	label := month.In(clock.China).Format("2006-01")
	end := nextMonth(month)
	r := &Rated{Tenant: t.Slug, Month: label}
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The plan in effect at the start of the month is the month's plan.
		e, err := s.entitlements(ctx, tx, t, month)
		if err != nil {
			return err
		}
		used, err := monthUsage(ctx, tx, t.ID, month)
		if err != nil {
			return err
		}
		r.Meters = s.meterStatuses(e.Plan, used)
		r.PlanFeeFen = e.Plan.MonthlyFeeFen
		var detail []string
		for _, m := range r.Meters {
			if m.OverageFen > 0 {
				r.UsageFen += m.OverageFen
				detail = append(detail, fmt.Sprintf("%s +%d", m.Meter, m.Overage))
			}
		}
		at := end.Add(-time.Microsecond)
		if now := s.now(); now.Before(at) {
			at = now
		}
		post := func(category string, amount int64, memo string) error {
			if amount <= 0 {
				return nil
			}
			en := Entry{Kind: Charge, Category: category, AmountFen: amount, Memo: memo, OccurredAt: at, DueOn: end.AddDate(0, 0, 30),
				IdempotencyKey: fmt.Sprintf("rate:%s:%s:%s", t.ID, label, category), Source: "rating"}
			if err := en.validate(s.now().Add(time.Hour)); err != nil {
				return err
			}
			j, err := s.post(ctx, tx, t, en)
			if err != nil {
				return err
			}
			r.Journals = append(r.Journals, j.ID)
			return nil
		}
		if err := post("plan", r.PlanFeeFen, fmt.Sprintf("%s 月度服务费（%s） / monthly fee (%s)", label, e.Plan.NameZH, e.Plan.Code)); err != nil {
			return err
		}
		return post("usage", r.UsageFen, fmt.Sprintf("%s 超出配额用量 / usage over quota: %s", label, strings.Join(detail, ", ")))
	})
	return r, err
}

// RateAll rates month ("2026-05") for every active and suspended tenant, in the order
// FindTenants lists them, and returns what each was charged; rating a month again charges nothing
// twice. A month is rated only once it has ended, China time: the running month's usage is not
// final yet. The first tenant that fails stops the run with its error (a re-run picks up where it
// stopped, since each charge is idempotent).
func (s *Service) RateAll(ctx context.Context, month string) ([]*Rated, error) {
	m, err := ParseMonth(month)
	if err != nil {
		return nil, errs.Field("month", msgMonthNotValidUseYyyy, month)
	}
	if m.Year() < 2000 {
		return nil, errs.Field("month", msgMonthBefore, month)
	}
	if s.now().Before(nextMonth(m)) {
		return nil, errs.Field("month", msgMonthHasNotEndedYet, month)
	}
	ts, err := s.store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil {
		return nil, err
	}
	out := []*Rated{}
	for _, t := range ts {
		if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended {
			continue
		}
		r, err := s.RateMonth(ctx, t, m)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RateEndedMonth rates the month before now for every active and suspended tenant. Rating is
// idempotent (each charge has a key made of tenant, month and purpose), so it is safe to run on
// every replica, after every restart, and again after a partial failure; a tenant that fails is
// logged and the others are still rated. It returns how many tenants failed.
func (s *Service) RateEndedMonth(ctx context.Context) int {
	if err := s.ApplyDuePlanChanges(ctx); err != nil {
		s.log.Error("applying due plan changes", "err", err)
	}
	prev := clock.StartOfMonth(s.now()).AddDate(0, -1, 0).UTC()
	failed := 0
	for _, st := range []tenants.Status{tenants.StatusActive, tenants.StatusSuspended} {
		ts, err := s.store.FindTenants(ctx, tenants.TenantFilter{Status: st})
		if err != nil {
			s.log.Error("monthly rating: list tenants", "err", err)
			return failed + 1
		}
		for _, t := range ts {
			if _, err := s.RateMonth(ctx, t, prev); err != nil {
				failed++
				s.log.Error("monthly rating failed", "tenant", t.Slug, "month", prev.In(clock.China).Format("2006-01"), "err", err)
			}
		}
	}
	return failed
}

// RunRating rates the ended month at start and then every interval until ctx ends, so usage is
// charged soon after each month closes without anyone running `cityops billing rate`.
func (s *Service) RunRating(ctx context.Context, interval time.Duration) {
	tasks.Every(ctx, interval, func(ctx context.Context) { s.RateEndedMonth(ctx) })
}
