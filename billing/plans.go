package billing

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Modules are the platform modules a plan can switch on.
var Modules = []string{"cases", "grids", "catalog", "calendar", "public", "evaluation", "analysis",
	"monitoring", "guidance", "exchange", "prefecture_dashboard"}

// MeterPrice is a plan's terms for one meter: Included units a month are free; each further
// UnitSize units (or part of them) cost UnitPriceFen.
type MeterPrice struct {
	Included     int64 `json:"included"`
	UnitPriceFen int64 `json:"unit_price_fen"`
	UnitSize     int64 `json:"unit_size"`
}

// Overage returns the price of quantity in a month: nothing up to Included, then UnitPriceFen for
// every started block of UnitSize units.
func (m MeterPrice) Overage(quantity int64) (over, fen int64) {
	if quantity <= m.Included || m.UnitPriceFen == 0 {
		return max(0, quantity-m.Included), 0
	}
	over = quantity - m.Included
	size := max(1, m.UnitSize)
	blocks := (over + size - 1) / size
	return over, blocks * m.UnitPriceFen
}

// Plan is a price list with entitlements. The shared starter plan (free quotas, no fee) is what an
// unfunded county starts on.
type Plan struct {
	bun.BaseModel `bun:"table:control.billing_plans"`

	Code          string                `bun:"code,pk" json:"code"`
	NameZH        string                `bun:"name_zh" json:"name_zh"`
	NameEN        string                `bun:"name_en" json:"name_en"`
	MonthlyFeeFen int64                 `bun:"monthly_fee_fen" json:"monthly_fee_fen"`
	Shared        bool                  `bun:"shared" json:"shared"`
	ModulesJSON   string                `bun:"modules" json:"-"`
	MetersJSON    string                `bun:"meters" json:"-"`
	UpdatedAt     time.Time             `bun:"updated_at" json:"updated_at"`
	Modules       []string              `bun:"-" json:"modules"`
	Meters        map[string]MeterPrice `bun:"-" json:"meters"`
}

// Name is the plan's name in language l ("en" or Chinese).
func (p *Plan) Name(l string) string {
	if l == "en" && p.NameEN != "" {
		return p.NameEN
	}
	return p.NameZH
}

func (p *Plan) decode() error {
	if err := json.Unmarshal([]byte(p.ModulesJSON), &p.Modules); err != nil {
		return err
	}
	return json.Unmarshal([]byte(p.MetersJSON), &p.Meters)
}

var planCodeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// validate checks a plan an operator sends against the modules and meters known to the service.
func (p *Plan) validate(modules, meters []string) error {
	if !planCodeRe.MatchString(p.Code) {
		return errs.Field("code", msgPlanCodeNotValidUse, trunc(p.Code, 40))
	}
	if p.NameZH == "" || len([]rune(p.NameZH)) > 60 {
		return errs.Field("name_zh", msgChinesePlanNameCharactersRequired)
	}
	if err := checkText("name_zh", p.NameZH, 60); err != nil {
		return err
	}
	if err := checkText("name_en", p.NameEN, 120); err != nil {
		return err
	}
	if p.MonthlyFeeFen < 0 {
		return errs.Field("monthly_fee_fen", msgMonthlyFeeCannotNegative)
	}
	for _, m := range p.Modules {
		if !slices.Contains(modules, m) {
			return errs.Field("modules", msgModuleNotKnown, trunc(m, 40))
		}
	}
	for m, pr := range p.Meters {
		if !slices.Contains(meters, m) {
			return errs.Field("meters", msgMeterNotKnown, trunc(m, 40))
		}
		if pr.Included < 0 || pr.UnitPriceFen < 0 || pr.UnitSize < 0 {
			return errs.Field("meters", msgTermsMeterCannotNegative, m)
		}
	}
	return nil
}

// FindPlans lists every plan.
func (s *Service) FindPlans(ctx context.Context) ([]*Plan, error) {
	var out []*Plan
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&out).OrderExpr("monthly_fee_fen, code").Scan(ctx)
	})
	if err != nil {
		return nil, dbx.Translate(err)
	}
	for _, p := range out {
		if err := p.decode(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FindPlan returns the plan with code.
func (s *Service) FindPlan(ctx context.Context, code string) (*Plan, error) {
	var p *Plan
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		p, err = findPlan(ctx, tx, code)
		return err
	})
	return p, err
}

func findPlan(ctx context.Context, db bun.IDB, code string) (*Plan, error) {
	if !planCodeRe.MatchString(code) {
		return nil, errs.E(errs.NotFound, msgNoPlan, trunc(code, 40))
	}
	p := new(Plan)
	if err := db.NewSelect().Model(p).Where("code = ?", code).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, errs.E(errs.NotFound, msgNoPlan, trunc(code, 40))
		}
		return nil, dbx.Translate(err)
	}
	return p, p.decode()
}

// PutPlan creates or replaces a plan.
func (s *Service) PutPlan(ctx context.Context, p *Plan) error {
	if err := p.validate(s.modules, s.meters); err != nil {
		return err
	}
	if p.Modules == nil {
		p.Modules = []string{}
	}
	if p.Meters == nil {
		p.Meters = map[string]MeterPrice{}
	}
	mb, _ := json.Marshal(p.Modules)
	pb, _ := json.Marshal(p.Meters)
	p.ModulesJSON, p.MetersJSON, p.UpdatedAt = string(mb), string(pb), s.now()
	defer s.ents.Purge()
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(p).On("CONFLICT (code) DO UPDATE").
			Set("name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, monthly_fee_fen = EXCLUDED.monthly_fee_fen").
			Set("shared = EXCLUDED.shared, modules = EXCLUDED.modules, meters = EXCLUDED.meters, updated_at = EXCLUDED.updated_at").
			Exec(ctx); err != nil {
			return err
		}
		return s.store.Audit(ctx, tx, "billing.plan.put", nil, p.Code, p)
	})
}

// Account is a tenant's billing state beyond its plan: module switches and Stripe objects.
type Account struct {
	bun.BaseModel `bun:"table:control.billing_accounts"`

	TenantID             uuid.UUID `bun:"tenant_id,pk,type:uuid" json:"tenant_id"`
	ModulesJSON          string    `bun:"modules" json:"-"`
	StripeCustomerID     string    `bun:"stripe_customer_id" json:"stripe_customer_id,omitempty"`
	StripeSubscriptionID string    `bun:"stripe_subscription_id" json:"stripe_subscription_id,omitempty"`
	UpdatedAt            time.Time `bun:"updated_at" json:"updated_at"`
}

func findAccount(ctx context.Context, db bun.IDB, tenant uuid.UUID) (*Account, error) {
	a := &Account{TenantID: tenant, ModulesJSON: "{}"}
	err := db.NewSelect().Model(a).Where("tenant_id = ?", tenant).Scan(ctx)
	if err != nil && !errs.Is(dbx.Translate(err), errs.NotFound) {
		return nil, dbx.Translate(err)
	}
	return a, nil
}

// Entitlements is what a tenant's plan and switches give it.
type Entitlements struct {
	Plan *Plan `json:"plan"`
	// Modules maps every module to whether it is on (the plan's list, then the tenant's switches).
	Modules map[string]bool `json:"modules"`
	// Overrides are the tenant's own switches.
	Overrides map[string]bool `json:"overrides"`
}

// FindEntitlements returns the plan and modules of t.
func (s *Service) FindEntitlements(ctx context.Context, t *tenants.Tenant) (*Entitlements, error) {
	var e *Entitlements
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		e, err = s.entitlements(ctx, tx, t, s.now())
		return err
	})
	return e, err
}

// entitlements are t's plan in effect at at, and its module switches.
func (s *Service) entitlements(ctx context.Context, db bun.IDB, t *tenants.Tenant, at time.Time) (*Entitlements, error) {
	// The plan is read from the history in this transaction, not from t, which may be stale.
	code, err := planAt(ctx, db, t.ID, at)
	if err != nil {
		return nil, err
	}
	p, err := findPlan(ctx, db, code)
	if err != nil {
		return nil, err
	}
	a, err := findAccount(ctx, db, t.ID)
	if err != nil {
		return nil, err
	}
	e := &Entitlements{Plan: p, Modules: map[string]bool{}, Overrides: map[string]bool{}}
	if err := json.Unmarshal([]byte(a.ModulesJSON), &e.Overrides); err != nil {
		return nil, err
	}
	for _, m := range s.modules {
		e.Modules[m] = slices.Contains(p.Modules, m)
		if v, ok := e.Overrides[m]; ok {
			e.Modules[m] = v
		}
	}
	return e, nil
}

// Entitled reports whether module is on for tenant t, with the entitlements that decide it (for
// naming the plan in a refusal). It reads through a cache of a few seconds, since the HTTP layer
// asks on every request to a module's routes: a change made here (SetPlan, ChangePlan, PutPlan)
// is seen at once on this replica and within entitlementTTL on the others, and so is a scheduled
// plan change coming into effect. It never blocks on quotas.
func (s *Service) Entitled(ctx context.Context, t *tenants.Tenant, module string) (bool, *Entitlements, error) {
	e, err := s.ents.Get(ctx, t.ID, func(ctx context.Context) (*Entitlements, error) {
		return s.FindEntitlements(ctx, t)
	})
	if err != nil {
		return false, nil, err
	}
	return e.Modules[module], e, nil
}

// SetPlan puts t on plan for the month being rated next and applies module switches (nil leaves
// the switches; an empty map clears them). The plan part is a plan change (see ChangePlan:
// recorded in the history, and moving the Stripe subscription if there is one) effective from the
// start of the current month, or of the next if the current month has already been rated. To
// schedule a change for a later month, use ChangePlan.
func (s *Service) SetPlan(ctx context.Context, t *tenants.Tenant, plan string, modules map[string]bool) (*Entitlements, error) {
	for m := range modules {
		if !slices.Contains(s.modules, m) {
			return nil, errs.Field("modules", msgModuleNotKnown, trunc(m, 40))
		}
	}
	var e *Entitlements
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if plan != "" {
			eff := periodStart(Month, s.now())
			rated, err := ratedFrom(ctx, tx, t.ID, eff)
			if err != nil {
				return err
			}
			if rated {
				eff = nextMonth(eff)
			}
			if _, err := s.changePlan(ctx, tx, t, plan, eff, ""); err != nil {
				return err
			}
		}
		if modules != nil {
			b, _ := json.Marshal(modules)
			a := &Account{TenantID: t.ID, ModulesJSON: string(b), UpdatedAt: s.now()}
			if _, err := tx.NewInsert().Model(a).On("CONFLICT (tenant_id) DO UPDATE").
				Set("modules = EXCLUDED.modules, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
				return err
			}
		}
		var err error
		if e, err = s.entitlements(ctx, tx, t, s.now()); err != nil {
			return err
		}
		if plan != "" {
			t.Plan = plan
		}
		return s.store.Audit(ctx, tx, "billing.plan.set", &t.ID, t.Slug, map[string]any{"plan": plan, "modules": modules})
	})
	s.ents.Forget(t.ID)
	return e, err
}

// MeterStatus is one meter of a month against the plan: what was used, what is included, and
// whether it is over (flagged, billed as overage, never blocked).
type MeterStatus struct {
	Meter      string `json:"meter"`
	Quantity   int64  `json:"quantity"`
	Included   int64  `json:"included"`
	Over       bool   `json:"over"`
	Overage    int64  `json:"overage"`
	OverageFen int64  `json:"overage_fen"`
}

// QuotaStatus returns t's usage of the month containing at against its plan.
func (s *Service) QuotaStatus(ctx context.Context, t *tenants.Tenant, at time.Time) ([]MeterStatus, error) {
	var out []MeterStatus
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.entitlements(ctx, tx, t, periodStart(Month, at))
		if err != nil {
			return err
		}
		used, err := monthUsage(ctx, tx, t.ID, periodStart(Month, at))
		if err != nil {
			return err
		}
		out = s.meterStatuses(e.Plan, used)
		return nil
	})
	return out, err
}

func (s *Service) meterStatuses(p *Plan, used map[string]int64) []MeterStatus {
	out := make([]MeterStatus, 0, len(s.meters))
	for _, m := range s.meters {
		pr := p.Meters[m]
		over, fen := pr.Overage(used[m])
		out = append(out, MeterStatus{Meter: m, Quantity: used[m], Included: pr.Included, Over: over > 0, Overage: over, OverageFen: fen})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return slices.Index(s.meters, out[i].Meter) < slices.Index(s.meters, out[j].Meter)
	})
	return out
}
