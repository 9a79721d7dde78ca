package console

import (
	"strconv"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// BillingDeps are what a tenant's billing pages use.
type BillingDeps struct {
	UI      *UI
	Store   *tenants.Store
	Billing *billing.Service
	// Statements serves yearly statements, the same way as the API.
	Statements api.Statements
}

// billingPages are a tenant's billing pages.
type billingPages struct{ d BillingDeps }

// MountBilling registers the tenant's billing pages on r, the /t/:tenant group: read-only for
// everyone who may see them (billing.CanSee: the tenant's admins and leaders, the prefecture's
// viewers, operators — as the API). Nothing here changes anything; operators record entries in
// /ops.
func MountBilling(r fiber.Router, d BillingDeps) {
	b := &billingPages{d: d}
	r.Get("/billing", api.BillingReader, b.tenantBilling)
	r.Get("/billing/statements/:year", api.BillingReader, b.statement)
}

// statementYears are the years a tenant may have a statement for, newest first: from the year it
// was created to this year.
func statementYears(t *tenants.Tenant, now time.Time) []int {
	first, last := t.CreatedAt.In(clock.China).Year(), now.In(clock.China).Year()
	if t.CreatedAt.IsZero() || first > last {
		first = last
	}
	var out []int
	for y := last; y >= first && len(out) < 30; y-- {
		out = append(out, y)
	}
	return out
}

// CountyBilling is one county of a prefecture's billing page (billing_tenant).
type CountyBilling struct {
	Tenant      *tenants.Tenant
	Outstanding int64
	Credit      int64
	Overdue     int64
}

// tenantBilling shows a tenant its plan, quotas and this month's usage against them, its
// balance, repayment schedule and statements; a prefecture also sees its counties' balances.
func (b *billingPages) tenantBilling(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := module.Scope(c).Tenant
	s, err := b.d.Billing.FindSummary(ctx, t)
	if err != nil {
		return err
	}
	data := fiber.Map{"B": s, "Years": statementYears(t, b.d.Store.Now()), "Base": "/t/" + t.Slug + "/billing"}
	if t.Kind == tenants.Prefecture {
		children, err := b.d.Store.Children(ctx, t)
		if err != nil {
			return err
		}
		ov, err := b.d.Billing.Overview(ctx, children, time.Time{})
		if err != nil {
			return err
		}
		counties := make([]CountyBilling, 0, len(ov))
		for _, o := range ov {
			counties = append(counties, CountyBilling{Tenant: o.Tenant, Outstanding: o.Outstanding, Credit: o.Credit, Overdue: o.Ageing.Overdue})
		}
		data["Counties"] = counties
	}
	return b.d.UI.Render(c, "billing_tenant", data)
}

// statement is the printable yearly statement inside the console (?format=csv for the
// spreadsheet), the same one GET /api/v1/t/:tenant/billing/statements/:year serves.
func (b *billingPages) statement(c *fiber.Ctx) error {
	return b.d.Statements.Serve(c, module.Scope(c).Tenant, "html")
}

// StatementPage is a statement ready for the billing_statement page: amounts and dates already
// formatted.
type StatementPage struct {
	Tenant, Code, Year, From, To, Opening, Closing, Outstanding, Credit, Generated, Plan string
	Lines                                                                                []StatementPageLine
	Instalments                                                                          []StatementPageInstalment
	Usage                                                                                []StatementPageUsage
	Totals                                                                               []StatementPageUsage
}

// StatementPageLine is a ledger line of a statement page.
type StatementPageLine struct{ Date, Journal, Kind, Category, Memo, Reference, Debit, Credit, Balance string }

// StatementPageInstalment is an instalment of a statement page's repayment schedule.
type StatementPageInstalment struct{ Year, Due, Principal, Interest, Amount, Status string }

// StatementPageUsage is a named figure of a statement page (usage, totals by kind).
type StatementPageUsage struct{ Name, Value string }

// StatementView is st as the billing_statement page shows it in lang.
func StatementView(st *billing.Statement, lang string) *StatementPage {
	date := func(t time.Time) string { return t.In(clock.China).Format("2006-01-02") }
	p := &StatementPage{Tenant: st.Tenant.Name(lang), Code: st.Tenant.AdminCode, Year: strconv.Itoa(st.Year), From: date(st.From),
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
		p.Lines = append(p.Lines, StatementPageLine{Date: date(l.Date), Journal: strconv.FormatInt(l.JournalID, 10), Kind: billing.KindName(lang, l.Kind),
			Category: Translate(lang, "billing.cat."+l.Category), Memo: l.Memo, Reference: l.Reference, Debit: debit, Credit: credit, Balance: billing.Yuan(l.Balance)})
	}
	for _, in := range st.Instalments {
		p.Instalments = append(p.Instalments, StatementPageInstalment{Year: strconv.Itoa(in.Year), Due: date(in.DueOn), Principal: billing.Yuan(in.PrincipalFen),
			Interest: billing.Yuan(in.InterestFen), Amount: billing.Yuan(in.AmountFen()), Status: Translate(lang, "billing.status."+in.Status)})
	}
	for _, u := range st.Usage {
		p.Usage = append(p.Usage, StatementPageUsage{Name: Translate(lang, "billing.meter."+u.Meter), Value: strconv.FormatInt(u.Quantity, 10)})
	}
	for _, k := range []billing.Kind{billing.Advance, billing.Charge, billing.Repayment, billing.Adjustment} {
		p.Totals = append(p.Totals, StatementPageUsage{Name: billing.KindName(lang, k), Value: billing.Yuan(st.Totals[k])})
	}
	return p
}
