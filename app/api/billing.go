package api

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// billingAPI is the operator's billing under /api/v1/billing, the Stripe webhook, and a tenant's
// read-only billing views under /api/v1/t/:tenant/billing.
type billingAPI struct {
	store      *tenants.Store
	billing    *billing.Service
	statements Statements
}

func (a *billingAPI) routes(api, t fiber.Router, g Guards) {
	// The webhook has no session and no token: Stripe's signature is its authentication.
	api.Post("/billing/stripe/webhook", a.stripeWebhook)

	op := api.Group("/billing", g.Operator(tenants.OperatorAdmin, tenants.OperatorBilling))
	op.Get("/plans", a.plans)
	op.Put("/plans/:code", a.putPlan)
	op.Get("/tenants", a.overview)
	op.Get("/ageing", a.overview)
	op.Post("/rate", a.rate)
	op.Get("/outbox", a.outbox)
	op.Post("/stripe/sync", a.stripeSync)
	op.Get("/tenants/:slug", a.tenant)
	op.Put("/tenants/:slug/plan", a.setPlan)
	op.Get("/tenants/:slug/plan-changes", a.planChanges)
	op.Post("/tenants/:slug/plan-changes", a.changePlan)
	op.Get("/tenants/:slug/ledger", a.ledger)
	op.Get("/tenants/:slug/schedule", a.schedule)
	op.Put("/tenants/:slug/schedule", a.putSchedule)
	op.Post("/tenants/:slug/instalments/:year/issue", a.issue)
	op.Post("/tenants/:slug/subscribe", a.subscribe)
	op.Post("/tenants/:slug/:kind", a.post)

	tb := t.Group("/billing", BillingReader)
	tb.Get("", a.tenantSummary) // /billing, and /billing/ as before (see the tenant home in Mount)
	tb.Get("/usage", a.tenantUsage)
	tb.Get("/statements/:year", a.tenantStatement)
	tb.Get("/counties", a.tenantCounties)
}

// BillingReader admits whom billing.CanSee admits, from the request's tenant scope (the API's
// tenant billing views and the console's billing pages).
func BillingReader(c *fiber.Ctx) error {
	if err := billing.CheckSee(module.Scope(c)); err != nil {
		return err
	}
	return c.Next()
}

// slugTenant is the tenant of the operator's :slug routes.
func (a *billingAPI) slugTenant(c *fiber.Ctx) (*tenants.Tenant, error) {
	return a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
}

func (a *billingAPI) plans(c *fiber.Ctx) error {
	ps, err := a.billing.FindPlans(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ps)
}

type planRequest struct {
	NameZH        string                        `json:"name_zh"`
	NameEN        string                        `json:"name_en"`
	MonthlyFeeFen int64                         `json:"monthly_fee_fen"`
	Shared        bool                          `json:"shared"`
	Modules       []string                      `json:"modules"`
	Meters        map[string]billing.MeterPrice `json:"meters"`
}

func (a *billingAPI) putPlan(c *fiber.Ctx) error {
	var in planRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	p := &billing.Plan{Code: c.Params("code"), NameZH: in.NameZH, NameEN: in.NameEN, MonthlyFeeFen: in.MonthlyFeeFen,
		Shared: in.Shared, Modules: in.Modules, Meters: in.Meters}
	if err := a.billing.PutPlan(c.UserContext(), p); err != nil {
		return err
	}
	return c.JSON(p)
}

func (a *billingAPI) overview(c *fiber.Ctx) error {
	ts, err := a.store.FindTenants(c.UserContext(), tenants.TenantFilter{})
	if err != nil {
		return err
	}
	asOf, err := queryTime(c, "as_of")
	if err != nil {
		return err
	}
	ov, err := a.billing.Overview(c.UserContext(), ts, asOf)
	if err != nil {
		return err
	}
	return c.JSON(ov)
}

func (a *billingAPI) tenant(c *fiber.Ctx) error {
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billing.FindSummary(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

type setPlanRequest struct {
	Plan    string          `json:"plan"`
	Modules map[string]bool `json:"modules"`
}

func (a *billingAPI) setPlan(c *fiber.Ctx) error {
	var in setPlanRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	if in.Plan == "" && in.Modules == nil {
		return errs.Field("plan", msgGivePlanModuleSwitchesBoth)
	}
	e, err := a.billing.SetPlan(c.UserContext(), t, in.Plan, in.Modules)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (a *billingAPI) planChanges(c *fiber.Ctx) error {
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	cs, err := a.billing.FindPlanChanges(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// changePlan changes a tenant's plan from a month: 201 with the change recorded, or 200 with the
// change already in effect (a retried request records nothing).
func (a *billingAPI) changePlan(c *fiber.Ctx) error {
	var in billing.PlanChangeRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Plan == "" {
		return errs.Field("plan", msgGivePlanChange)
	}
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	ch, err := a.billing.ChangePlan(c.UserContext(), t, in)
	if err != nil {
		return err
	}
	if !ch.Recorded {
		return c.JSON(ch)
	}
	return c.Status(fiber.StatusCreated).JSON(ch)
}

var journalKinds = map[string]billing.Kind{
	"advances": billing.Advance, "charges": billing.Charge, "repayments": billing.Repayment, "adjustments": billing.Adjustment,
}

type journalRequest struct {
	Category   string    `json:"category"`
	AmountFen  int64     `json:"amount_fen"`
	Memo       string    `json:"memo"`
	Reference  string    `json:"reference"`
	OccurredAt time.Time `json:"occurred_at"`
	DueOn      time.Time `json:"due_on"`
}

// post records an advance, charge, repayment or adjustment. An Idempotency-Key header makes a
// retried request post once.
func (a *billingAPI) post(c *fiber.Ctx) error {
	kind, ok := journalKinds[c.Params("kind")]
	if !ok {
		return fiber.ErrNotFound // "There is nothing at this address", as for any unknown route
	}
	var in journalRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	j, err := a.billing.Post(c.UserContext(), t, billing.Entry{Kind: kind, Category: in.Category, AmountFen: in.AmountFen, Memo: in.Memo,
		Reference: in.Reference, OccurredAt: in.OccurredAt, DueOn: in.DueOn, IdempotencyKey: c.Get("Idempotency-Key"), Source: "api"})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(j)
}

func (a *billingAPI) ledger(c *fiber.Ctx) error {
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	f := billing.JournalFilter{Tenant: t.ID}
	if y := c.Query("year"); y != "" {
		year, err := strconv.Atoi(y)
		if err != nil || year < 2000 || year > 2100 {
			return errs.Field("year", msgYearMustNumberBetween)
		}
		f.From, f.To = billing.YearRange(year)
	}
	js, err := a.billing.FindJournals(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(js)
}

func (a *billingAPI) schedule(c *fiber.Ctx) error {
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billing.FindSchedule(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *billingAPI) putSchedule(c *fiber.Ctx) error {
	var in billing.ScheduleRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billing.PutSchedule(c.UserContext(), t, in)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *billingAPI) issue(c *fiber.Ctx) error {
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		return errs.Field("year", msgYearMustNumber)
	}
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	in, err := a.billing.IssueInstalment(c.UserContext(), t, year)
	if err != nil {
		return err
	}
	return c.JSON(in)
}

func (a *billingAPI) subscribe(c *fiber.Ctx) error {
	t, err := a.slugTenant(c)
	if err != nil {
		return err
	}
	if err := a.billing.Subscribe(c.UserContext(), t); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

type rateRequest struct {
	Month string `json:"month"`
}

// rate rates a month for every live tenant; rating again charges nothing twice.
func (a *billingAPI) rate(c *fiber.Ctx) error {
	var in rateRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	out, err := a.billing.RateAll(c.UserContext(), in.Month)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *billingAPI) outbox(c *fiber.Ctx) error {
	items, err := a.billing.FindOutbox(c.UserContext(), c.Query("status"), c.QueryInt("limit", 100))
	if err != nil {
		return err
	}
	return c.JSON(items)
}

func (a *billingAPI) stripeSync(c *fiber.Ctx) error {
	if err := a.billing.SyncCatalog(c.UserContext()); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

func (a *billingAPI) stripeWebhook(c *fiber.Ctx) error {
	res, err := a.billing.HandleWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (a *billingAPI) tenantSummary(c *fiber.Ctx) error {
	s, err := a.billing.FindSummary(c.UserContext(), module.Scope(c).Tenant)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *billingAPI) tenantUsage(c *fiber.Ctx) error {
	from, err := queryTime(c, "from")
	if err != nil {
		return err
	}
	to, err := queryTime(c, "to")
	if err != nil {
		return err
	}
	us, err := a.billing.FindUsage(c.UserContext(), billing.UsageFilter{Tenant: module.Scope(c).Tenant.ID, Period: c.Query("period", "day"),
		Meter: c.Query("meter"), From: from, To: to})
	if err != nil {
		return err
	}
	return c.JSON(us)
}

func (a *billingAPI) tenantCounties(c *fiber.Ctx) error {
	t := module.Scope(c).Tenant
	if t.Kind != tenants.Prefecture {
		return errs.E(errs.NotFound, msgOnlyPrefectureHasCounties)
	}
	ts, err := a.store.Children(c.UserContext(), t)
	if err != nil {
		return err
	}
	ov, err := a.billing.Overview(c.UserContext(), ts, time.Time{})
	if err != nil {
		return err
	}
	return c.JSON(ov)
}

// tenantStatement serves a yearly statement as JSON, CSV (?format=csv) or a printable page
// (?format=html), in Chinese or (?lang=en) English.
func (a *billingAPI) tenantStatement(c *fiber.Ctx) error {
	return a.statements.Serve(c, module.Scope(c).Tenant, "json")
}

// Statements serves a tenant's yearly statements: the API's and the console's statement pages.
type Statements struct {
	Billing *billing.Service
	// Lang is the language of the CSV and the page (the console's: ?lang=, its cookie, Chinese).
	Lang func(*fiber.Ctx) string
	// Page renders the printable statement, a console page.
	Page func(c *fiber.Ctx, st *billing.Statement) error
}

// Serve answers with t's statement for the year in :year, in the ?format= asked for (json, csv,
// html; defaultFormat when none).
func (s Statements) Serve(c *fiber.Ctx, t *tenants.Tenant, defaultFormat string) error {
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		return errs.Field("year", msgYearMustNumberExample)
	}
	st, err := s.Billing.FindStatement(c.UserContext(), t, year)
	if err != nil {
		return err
	}
	format := c.Query("format", defaultFormat)
	switch format {
	case "json":
		return c.JSON(st)
	case "csv":
		var buf bytes.Buffer
		if err := st.WriteCSV(&buf, s.Lang(c)); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="statement-%s-%d.csv"`, t.Slug, year))
		return c.Send(buf.Bytes())
	case "html":
		return s.Page(c, st)
	}
	return errs.Field("format", msgFormatNotOneJsonCsv, textutil.TruncateTrim(format, 20))
}

// queryTime reads an RFC 3339 time or a date (YYYY-MM-DD, China time) from the query; empty is zero.
func queryTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, clock.China); err == nil {
		return t, nil
	}
	return time.Time{}, errs.Field(name, msgNotDateYyyyMmDd, textutil.TruncateTrim(v, 40))
}
