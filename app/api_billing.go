package app

import (
	"bytes"
	"context"
	"fmt"
	"github.com/cityops/cityops/platform/module"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/billing/stripegw"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// newBilling builds the billing service: online with a Stripe gateway when CITYOPS_STRIPE_KEY is
// set, otherwise offline (the ledger and statements work alone).
func newBilling(cfg Config, store *tenants.Store, log *slog.Logger, now func() time.Time, mods []module.Module) (*billing.Service, error) {
	var gw billing.Gateway
	if cfg.StripeKey != "" {
		g, err := stripegw.New(stripegw.Config{Key: cfg.StripeKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase})
		if err != nil {
			return nil, fmt.Errorf("stripe: %w", err)
		}
		gw = g
	}
	ents, meters := moduleCatalog(mods)
	return billing.NewService(billing.Deps{Store: store, Logger: log, Now: now, Gateway: gw, Modules: ents, Meters: meters}), nil
}

// billingRoutes adds the operator's billing API under /api/v1/billing, the tenant's read-only
// billing views under /api/v1/t/:tenant/billing, the Stripe webhook, and the metering of API
// requests on tenant routes. It must be called before the other tenant routes are added, so that
// the meter sees them all.
func (a *App) billingRoutes(api fiber.Router, t fiber.Router) {
	t.Use(a.meterAPIRequest)

	// The webhook has no session and no token: Stripe's signature is its authentication.
	api.Post("/billing/stripe/webhook", a.apiStripeWebhook)

	op := api.Group("/billing", a.needOperator(tenants.OperatorAdmin, tenants.OperatorBilling))
	op.Get("/plans", a.apiBillingPlans)
	op.Put("/plans/:code", a.apiBillingPutPlan)
	op.Get("/tenants", a.apiBillingOverview)
	op.Get("/ageing", a.apiBillingOverview)
	op.Post("/rate", a.apiBillingRate)
	op.Get("/outbox", a.apiBillingOutbox)
	op.Post("/stripe/sync", a.apiBillingStripeSync)
	op.Get("/tenants/:slug", a.apiBillingTenant)
	op.Put("/tenants/:slug/plan", a.apiBillingSetPlan)
	op.Get("/tenants/:slug/plan-changes", a.apiBillingPlanChanges)
	op.Post("/tenants/:slug/plan-changes", a.apiBillingChangePlan)
	op.Get("/tenants/:slug/ledger", a.apiBillingLedger)
	op.Get("/tenants/:slug/schedule", a.apiBillingSchedule)
	op.Put("/tenants/:slug/schedule", a.apiBillingPutSchedule)
	op.Post("/tenants/:slug/instalments/:year/issue", a.apiBillingIssue)
	op.Post("/tenants/:slug/subscribe", a.apiBillingSubscribe)
	op.Post("/tenants/:slug/:kind", a.apiBillingPost)

	tb := t.Group("/billing", a.billingReader)
	tb.Get("", a.apiTenantBilling) // /billing, and /billing/ as before (see the tenant home in newServer)
	tb.Get("/usage", a.apiTenantUsage)
	tb.Get("/statements/:year", a.apiTenantStatement)
	tb.Get("/counties", a.apiTenantCounties)
}

// meterAPIRequest counts every request on a tenant route. It never fails or holds up a request.
func (a *App) meterAPIRequest(c *fiber.Ctx) error {
	if sc := tenants.ScopeFrom(c.UserContext()); sc != nil && sc.Tenant != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 50*time.Millisecond)
		err := a.billing.Record(ctx, sc.Tenant.ID, billing.MeterAPIRequests, 1, "api:"+uuid.NewString())
		cancel()
		if err != nil {
			a.log.Warn("API request not metered", "tenant", sc.Tenant.Slug, "err", err)
		}
	}
	return c.Next()
}

// billingReader admits whom billing.CanSee admits, from the scope resolved by tenantScope.
func (a *App) billingReader(c *fiber.Ctx) error {
	if err := billing.CheckSee(tenants.ScopeFrom(c.UserContext())); err != nil {
		return err
	}
	return c.Next()
}

func (a *App) billingTenant(c *fiber.Ctx) (*tenants.Tenant, error) {
	return a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
}

func (a *App) apiBillingPlans(c *fiber.Ctx) error {
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

func (a *App) apiBillingPutPlan(c *fiber.Ctx) error {
	var in planRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := &billing.Plan{Code: c.Params("code"), NameZH: in.NameZH, NameEN: in.NameEN, MonthlyFeeFen: in.MonthlyFeeFen,
		Shared: in.Shared, Modules: in.Modules, Meters: in.Meters}
	if err := a.billing.PutPlan(c.UserContext(), p); err != nil {
		return err
	}
	return c.JSON(p)
}

func (a *App) apiBillingOverview(c *fiber.Ctx) error {
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

// billingSummary is a tenant's billing at a glance.
type billingSummary struct {
	Tenant       *tenants.Tenant       `json:"tenant"`
	Entitlements *billing.Entitlements `json:"entitlements"`
	Balance      *billing.Balance      `json:"balance"`
	Ageing       *billing.Ageing       `json:"ageing"`
	Schedule     *billing.Schedule     `json:"schedule"`
	Quota        []billing.MeterStatus `json:"quota"`
	// PlanChanges are the tenant's plan changes, past and scheduled, oldest first.
	PlanChanges []*billing.PlanChange `json:"plan_changes"`
	Online      bool                  `json:"stripe"`
}

func (a *App) billingSummary(ctx context.Context, t *tenants.Tenant) (*billingSummary, error) {
	s := &billingSummary{Tenant: t, Online: a.billing.Online()}
	var err error
	if s.Entitlements, err = a.billing.FindEntitlements(ctx, t); err != nil {
		return nil, err
	}
	if s.Balance, err = a.billing.FindBalance(ctx, t.ID, time.Time{}); err != nil {
		return nil, err
	}
	if s.Ageing, err = a.billing.FindAgeing(ctx, t.ID, time.Time{}); err != nil {
		return nil, err
	}
	if s.Quota, err = a.billing.QuotaStatus(ctx, t, a.store.Now()); err != nil {
		return nil, err
	}
	if s.Schedule, err = a.billing.FindSchedule(ctx, t.ID); err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if s.PlanChanges, err = a.billing.FindPlanChanges(ctx, t.ID); err != nil {
		return nil, err
	}
	return s, nil
}

func (a *App) apiBillingTenant(c *fiber.Ctx) error {
	t, err := a.billingTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billingSummary(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

type setPlanRequest struct {
	Plan    string          `json:"plan"`
	Modules map[string]bool `json:"modules"`
}

func (a *App) apiBillingSetPlan(c *fiber.Ctx) error {
	var in setPlanRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.billingTenant(c)
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

func (a *App) apiBillingPlanChanges(c *fiber.Ctx) error {
	t, err := a.billingTenant(c)
	if err != nil {
		return err
	}
	cs, err := a.billing.FindPlanChanges(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// apiBillingChangePlan changes a tenant's plan from a month: 201 with the change recorded, or 200
// with the change already in effect (a retried request records nothing).
func (a *App) apiBillingChangePlan(c *fiber.Ctx) error {
	var in billing.PlanChangeRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Plan == "" {
		return errs.Field("plan", msgGivePlanChange)
	}
	t, err := a.billingTenant(c)
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

// apiBillingPost records an advance, charge, repayment or adjustment. An Idempotency-Key header
// makes a retried request post once.
func (a *App) apiBillingPost(c *fiber.Ctx) error {
	kind, ok := journalKinds[c.Params("kind")]
	if !ok {
		return errs.E(errs.NotFound, msgThereNothingAddress)
	}
	var in journalRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.billingTenant(c)
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

func (a *App) apiBillingLedger(c *fiber.Ctx) error {
	t, err := a.billingTenant(c)
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

func (a *App) apiBillingSchedule(c *fiber.Ctx) error {
	t, err := a.billingTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billing.FindSchedule(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *App) apiBillingPutSchedule(c *fiber.Ctx) error {
	var in billing.ScheduleRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.billingTenant(c)
	if err != nil {
		return err
	}
	s, err := a.billing.PutSchedule(c.UserContext(), t, in)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *App) apiBillingIssue(c *fiber.Ctx) error {
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		return errs.Field("year", msgYearMustNumber)
	}
	t, err := a.billingTenant(c)
	if err != nil {
		return err
	}
	in, err := a.billing.IssueInstalment(c.UserContext(), t, year)
	if err != nil {
		return err
	}
	return c.JSON(in)
}

func (a *App) apiBillingSubscribe(c *fiber.Ctx) error {
	t, err := a.billingTenant(c)
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

// apiBillingRate rates a month for every live tenant; rating again charges nothing twice.
func (a *App) apiBillingRate(c *fiber.Ctx) error {
	var in rateRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := a.billing.RateAll(c.UserContext(), in.Month)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *App) apiBillingOutbox(c *fiber.Ctx) error {
	items, err := a.billing.FindOutbox(c.UserContext(), c.Query("status"), c.QueryInt("limit", 100))
	if err != nil {
		return err
	}
	return c.JSON(items)
}

func (a *App) apiBillingStripeSync(c *fiber.Ctx) error {
	if err := a.billing.SyncCatalog(c.UserContext()); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

func (a *App) apiStripeWebhook(c *fiber.Ctx) error {
	res, err := a.billing.HandleWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (a *App) apiTenantBilling(c *fiber.Ctx) error {
	s, err := a.billingSummary(c.UserContext(), scope(c).Tenant)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (a *App) apiTenantUsage(c *fiber.Ctx) error {
	from, err := queryTime(c, "from")
	if err != nil {
		return err
	}
	to, err := queryTime(c, "to")
	if err != nil {
		return err
	}
	us, err := a.billing.FindUsage(c.UserContext(), billing.UsageFilter{Tenant: scope(c).Tenant.ID, Period: c.Query("period", "day"),
		Meter: c.Query("meter"), From: from, To: to})
	if err != nil {
		return err
	}
	return c.JSON(us)
}

func (a *App) apiTenantCounties(c *fiber.Ctx) error {
	t := scope(c).Tenant
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

// apiTenantStatement serves a yearly statement as JSON, CSV (?format=csv) or a printable page
// (?format=html), in Chinese or (?lang=en) English.
func (a *App) apiTenantStatement(c *fiber.Ctx) error {
	return a.serveStatement(c, scope(c).Tenant, "json")
}

// serveStatement answers with t's statement for the year in :year, in the ?format= asked for
// (json, csv, html; defaultFormat when none). The console's statement pages use it too.
func (a *App) serveStatement(c *fiber.Ctx, t *tenants.Tenant, defaultFormat string) error {
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		return errs.Field("year", msgYearMustNumberExample)
	}
	st, err := a.billing.FindStatement(c.UserContext(), t, year)
	if err != nil {
		return err
	}
	format := c.Query("format", defaultFormat)
	switch format {
	case "json":
		return c.JSON(st)
	case "csv":
		var buf bytes.Buffer
		if err := st.WriteCSV(&buf, lang(c)); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="statement-%s-%d.csv"`, t.Slug, year))
		return c.Send(buf.Bytes())
	case "html":
		return a.render(c, "billing_statement", fiber.Map{"Statement": statementView(st, lang(c))})
	}
	return errs.Field("format", msgFormatNotOneJsonCsv, truncateText(format, 20))
}

// statementPage is a statement ready for the template: amounts and dates already formatted.
type statementPage struct {
	Tenant, Code, Year, From, To, Opening, Closing, Outstanding, Credit, Generated, Plan string
	Lines                                                                                []statementPageLine
	Instalments                                                                          []statementPageInstalment
	Usage                                                                                []statementPageUsage
	Totals                                                                               []statementPageUsage
}

type statementPageLine struct{ Date, Journal, Kind, Category, Memo, Reference, Debit, Credit, Balance string }
type statementPageInstalment struct{ Year, Due, Principal, Interest, Amount, Status string }
type statementPageUsage struct{ Name, Value string }

func statementView(st *billing.Statement, lang string) *statementPage {
	date := func(t time.Time) string { return t.In(clock.China).Format("2006-01-02") }
	p := &statementPage{Tenant: st.Tenant.Name(lang), Code: st.Tenant.AdminCode, Year: strconv.Itoa(st.Year), From: date(st.From),
		To: date(st.To.Add(-time.Second)), Opening: billing.Yuan(st.Opening), Closing: billing.Yuan(st.Closing),
		Outstanding: billing.Yuan(st.Outstanding), Credit: billing.Yuan(st.Credit), Generated: st.GeneratedAt.In(clock.China).Format("2006-01-02 15:04"), Plan: st.Plan}
	for _, l := range st.Lines {
		debit, credit := "", ""
		if l.Debit != 0 {
			debit = billing.Yuan(l.Debit)
		}
		if l.Credit != 0 {
			credit = billing.Yuan(l.Credit)
		}
		p.Lines = append(p.Lines, statementPageLine{Date: date(l.Date), Journal: strconv.FormatInt(l.JournalID, 10), Kind: billing.KindName(lang, l.Kind),
			Category: translate(lang, "billing.cat."+l.Category), Memo: l.Memo, Reference: l.Reference, Debit: debit, Credit: credit, Balance: billing.Yuan(l.Balance)})
	}
	for _, in := range st.Instalments {
		p.Instalments = append(p.Instalments, statementPageInstalment{Year: strconv.Itoa(in.Year), Due: date(in.DueOn), Principal: billing.Yuan(in.PrincipalFen),
			Interest: billing.Yuan(in.InterestFen), Amount: billing.Yuan(in.AmountFen()), Status: translate(lang, "billing.status."+in.Status)})
	}
	for _, u := range st.Usage {
		p.Usage = append(p.Usage, statementPageUsage{Name: translate(lang, "billing.meter."+u.Meter), Value: strconv.FormatInt(u.Quantity, 10)})
	}
	for _, k := range []billing.Kind{billing.Advance, billing.Charge, billing.Repayment, billing.Adjustment} {
		p.Totals = append(p.Totals, statementPageUsage{Name: billing.KindName(lang, k), Value: billing.Yuan(st.Totals[k])})
	}
	return p
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
	return time.Time{}, errs.Field(name, msgNotDateYyyyMmDd, truncateText(v, 40))
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}
