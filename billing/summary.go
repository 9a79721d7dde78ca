package billing

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
)

// Summary is a tenant's billing at a glance: what the API's billing views and the console's
// billing pages show.
type Summary struct {
	Tenant       *tenants.Tenant `json:"tenant"`
	Entitlements *Entitlements   `json:"entitlements"`
	Balance      *Balance        `json:"balance"`
	Ageing       *Ageing         `json:"ageing"`
	Schedule     *Schedule       `json:"schedule"`
	Quota        []MeterStatus   `json:"quota"`
	// PlanChanges are the tenant's plan changes, past and scheduled, oldest first.
	PlanChanges []*PlanChange `json:"plan_changes"`
	Online      bool          `json:"stripe"`
}

// FindSummary gathers t's Summary; a tenant without a repayment schedule has a nil Schedule.
func (s *Service) FindSummary(ctx context.Context, t *tenants.Tenant) (*Summary, error) {
	out := &Summary{Tenant: t, Online: s.Online()}
	var err error
	if out.Entitlements, err = s.FindEntitlements(ctx, t); err != nil {
		return nil, err
	}
	if out.Balance, err = s.FindBalance(ctx, t.ID, time.Time{}); err != nil {
		return nil, err
	}
	if out.Ageing, err = s.FindAgeing(ctx, t.ID, time.Time{}); err != nil {
		return nil, err
	}
	if out.Quota, err = s.QuotaStatus(ctx, t, s.store.Now()); err != nil {
		return nil, err
	}
	if out.Schedule, err = s.FindSchedule(ctx, t.ID); err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if out.PlanChanges, err = s.FindPlanChanges(ctx, t.ID); err != nil {
		return nil, err
	}
	return out, nil
}
