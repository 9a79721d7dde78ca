package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// webBillingRoutes registers the tenant's billing pages: read-only for everyone who may see them
// (billing.CanSee: the tenant's admins and leaders, the prefecture's viewers, operators — as the
// API). Nothing here changes anything; operators record entries in /ops.
func (a *App) webBillingRoutes(r fiber.Router) {
	r.Get("/billing", api.BillingReader, a.webTenantBilling)
	r.Get("/billing/statements/:year", api.BillingReader, a.webTenantStatement)
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

// countyBilling is one county of a prefecture's billing page.
type countyBilling struct {
	Tenant      *tenants.Tenant
	Outstanding int64
	Credit      int64
	Overdue     int64
}

// webTenantBilling shows a tenant its plan, quotas and this month's usage against them, its
// balance, repayment schedule and statements; a prefecture also sees its counties' balances.
func (a *App) webTenantBilling(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := scope(c).Tenant
	s, err := a.billing.FindSummary(ctx, t)
	if err != nil {
		return err
	}
	data := fiber.Map{"B": s, "Years": statementYears(t, a.store.Now()), "Base": "/t/" + t.Slug + "/billing"}
	if t.Kind == tenants.Prefecture {
		children, err := a.store.Children(ctx, t)
		if err != nil {
			return err
		}
		ov, err := a.billing.Overview(ctx, children, time.Time{})
		if err != nil {
			return err
		}
		counties := make([]countyBilling, 0, len(ov))
		for _, o := range ov {
			counties = append(counties, countyBilling{Tenant: o.Tenant, Outstanding: o.Outstanding, Credit: o.Credit, Overdue: o.Ageing.Overdue})
		}
		data["Counties"] = counties
	}
	return a.web.Render(c, "billing_tenant", data)
}

// webTenantStatement is the printable yearly statement inside the console (?format=csv for the
// spreadsheet), the same one GET /api/v1/t/:tenant/billing/statements/:year serves.
func (a *App) webTenantStatement(c *fiber.Ctx) error {
	return a.statements().Serve(c, scope(c).Tenant, "html")
}

// webOpsStatement is a tenant's yearly statement for operators.
func (a *App) webOpsStatement(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	return a.statements().Serve(c, t, "html")
}

// ledgerRow is one journal of the operator's ledger page, with the balance after it.
type ledgerRow struct {
	J       *billing.Journal
	Net     int64
	Balance int64
}

// ledgerForm is a ledger form's fields, to show them again after an error.
type ledgerForm struct {
	Kind, Amount, Category, Memo, Reference, Date, Due, Key string
}

// webKinds are the journal kinds an operator records by hand in the console (charges come from
// rating and the repayment schedule).
var webKinds = map[string]billing.Kind{"advances": billing.Advance, "repayments": billing.Repayment, "adjustments": billing.Adjustment}

const ledgerPage = 50

// opsBillingPage renders the operator's billing page of t; form is the failed form (with its
// message), if any.
func (a *App) opsBillingPage(c *fiber.Ctx, t *tenants.Tenant, form *ledgerForm, formErr string) error {
	ctx := c.UserContext()
	s, err := a.billing.FindSummary(ctx, t)
	if err != nil {
		return err
	}
	js, err := a.billing.FindJournals(ctx, billing.JournalFilter{Tenant: t.ID})
	if err != nil {
		return err
	}
	rows := make([]ledgerRow, len(js))
	var bal int64
	for i, j := range js {
		bal += j.Net()
		rows[len(js)-1-i] = ledgerRow{J: j, Net: j.Net(), Balance: bal} // newest first
	}
	page := c.QueryInt("page", 1)
	if page < 1 {
		page = 1
	}
	from := min((page-1)*ledgerPage, len(rows))
	to := min(from+ledgerPage, len(rows))
	base := "/ops/tenants/" + t.Slug + "/billing"
	var next, prev string
	if to < len(rows) {
		next = base + "?page=" + strconv.Itoa(page+1)
	}
	if page > 1 {
		prev = base + "?page=" + strconv.Itoa(page-1)
	}
	forms := map[string]*ledgerForm{}
	for name, k := range webKinds {
		forms[name] = &ledgerForm{Kind: name, Category: billing.Categories(k)[0], Key: uuid.NewString()}
	}
	if form != nil {
		forms[form.Kind] = form
	}
	cats := map[string][]string{}
	for name, k := range webKinds {
		cats[name] = billing.Categories(k)
	}
	return a.web.Render(c, "ops_billing", fiber.Map{"T": t, "B": s, "Rows": rows[from:to], "Total": len(rows), "Next": next, "Prev": prev,
		"Forms": forms, "FormOrder": []string{"advances", "repayments", "adjustments"}, "Categories": cats, "Error": formErr, "ErrorForm": formKind(form), "Years": statementYears(t, a.store.Now()), "Base": base,
		"Today": a.store.Now().In(clock.China).Format("2006-01-02")})
}

func formKind(f *ledgerForm) string {
	if f == nil {
		return ""
	}
	return f.Kind
}

// webOpsBilling is the operator's billing page of a tenant: balance, ageing, the ledger (paged,
// newest first), the repayment schedule, plan changes, the forms to record entries and the
// statements.
func (a *App) webOpsBilling(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	return a.opsBillingPage(c, t, nil, "")
}

// formDate reads a date (YYYY-MM-DD, Beijing time) from a form; empty is zero.
func formDate(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, clock.China)
	if err != nil {
		return time.Time{}, errs.Field(field, msgNotDateUseYyyyMm, textutil.TruncateTrim(v, 30))
	}
	return d, nil
}

// webOpsPost records an advance, a repayment or an adjustment from the ledger forms, through the
// billing service as POST /api/v1/billing/tenants/:slug/:kind does (validated and audited there).
// The form's idempotency key makes a double submission post once.
func (a *App) webOpsPost(c *fiber.Ctx) error {
	kind, ok := webKinds[c.Params("kind")]
	if !ok {
		return errs.E(errs.NotFound, msgThereNothingAddress)
	}
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	form := &ledgerForm{Kind: c.Params("kind"), Amount: strings.TrimSpace(c.FormValue("amount")), Category: c.FormValue("category"),
		Memo: c.FormValue("memo"), Reference: c.FormValue("reference"), Date: c.FormValue("occurred_on"), Due: c.FormValue("due_on"), Key: c.FormValue("key")}
	e, err := ledgerEntry(kind, form)
	if err == nil {
		_, err = a.billing.Post(c.UserContext(), t, e)
	}
	if err != nil {
		msg, ferr := console.FormError(c, err)
		if ferr != nil {
			return ferr
		}
		return a.opsBillingPage(c, t, form, msg)
	}
	return console.Done(c, "/ops/tenants/"+t.Slug+"/billing", "ops.msg.posted."+string(kind))
}

// ledgerEntry turns a ledger form into the entry to post.
func ledgerEntry(kind billing.Kind, f *ledgerForm) (billing.Entry, error) {
	e := billing.Entry{Kind: kind, Category: f.Category, Memo: strings.TrimSpace(f.Memo), Reference: strings.TrimSpace(f.Reference), Source: "web"}
	if f.Amount == "" {
		return e, errs.Field("amount", msgGiveAmountYuanExample)
	}
	fen, err := billing.ParseYuan(f.Amount)
	if err != nil {
		return e, err
	}
	e.AmountFen = fen
	if e.OccurredAt, err = formDate("occurred_on", f.Date); err != nil {
		return e, err
	}
	if e.DueOn, err = formDate("due_on", f.Due); err != nil {
		return e, err
	}
	if !e.DueOn.IsZero() && !e.OccurredAt.IsZero() && e.DueOn.Before(e.OccurredAt) {
		return e, errs.Field("due_on", msgDueDateBeforeAccountingDate)
	}
	if k := strings.TrimSpace(f.Key); k != "" {
		e.IdempotencyKey = "web:" + textutil.TruncateTrim(k, 80)
	}
	return e, nil
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
			Category: console.Translate(lang, "billing.cat."+l.Category), Memo: l.Memo, Reference: l.Reference, Debit: debit, Credit: credit, Balance: billing.Yuan(l.Balance)})
	}
	for _, in := range st.Instalments {
		p.Instalments = append(p.Instalments, statementPageInstalment{Year: strconv.Itoa(in.Year), Due: date(in.DueOn), Principal: billing.Yuan(in.PrincipalFen),
			Interest: billing.Yuan(in.InterestFen), Amount: billing.Yuan(in.AmountFen()), Status: console.Translate(lang, "billing.status."+in.Status)})
	}
	for _, u := range st.Usage {
		p.Usage = append(p.Usage, statementPageUsage{Name: console.Translate(lang, "billing.meter."+u.Meter), Value: strconv.FormatInt(u.Quantity, 10)})
	}
	for _, k := range []billing.Kind{billing.Advance, billing.Charge, billing.Repayment, billing.Adjustment} {
		p.Totals = append(p.Totals, statementPageUsage{Name: billing.KindName(lang, k), Value: billing.Yuan(st.Totals[k])})
	}
	return p
}
