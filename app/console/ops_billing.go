package console

import (
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// LedgerRow is one journal of the operator's ledger page (ops_billing), with the balance after it.
type LedgerRow struct {
	J       *billing.Journal
	Net     int64
	Balance int64
}

// LedgerForm is a ledger form's fields, to show them again after an error.
type LedgerForm struct {
	Kind, Amount, Category, Memo, Reference, Date, Due, Key string
}

// webKinds are the journal kinds an operator records by hand in the console (charges come from
// rating and the repayment schedule).
var webKinds = map[string]billing.Kind{"advances": billing.Advance, "repayments": billing.Repayment, "adjustments": billing.Adjustment}

const ledgerPage = 50

// billingPage renders the operator's billing page of t; form is the failed form (with its
// message), if any.
func (o *opsPages) billingPage(c *fiber.Ctx, t *tenants.Tenant, form *LedgerForm, formErr string) error {
	ctx := c.UserContext()
	s, err := o.d.Billing.FindSummary(ctx, t)
	if err != nil {
		return err
	}
	js, err := o.d.Billing.FindJournals(ctx, billing.JournalFilter{Tenant: t.ID})
	if err != nil {
		return err
	}
	rows := make([]LedgerRow, len(js))
	var bal int64
	for i, j := range js {
		bal += j.Net()
		rows[len(js)-1-i] = LedgerRow{J: j, Net: j.Net(), Balance: bal} // newest first
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
	forms := map[string]*LedgerForm{}
	for name, k := range webKinds {
		forms[name] = &LedgerForm{Kind: name, Category: billing.Categories(k)[0], Key: uuid.NewString()}
	}
	if form != nil {
		forms[form.Kind] = form
	}
	cats := map[string][]string{}
	for name, k := range webKinds {
		cats[name] = billing.Categories(k)
	}
	now := o.d.Store.Now()
	return o.d.UI.Render(c, "ops_billing", fiber.Map{"T": t, "B": s, "Rows": rows[from:to], "Total": len(rows), "Next": next, "Prev": prev,
		"Forms": forms, "FormOrder": []string{"advances", "repayments", "adjustments"}, "Categories": cats, "Error": formErr, "ErrorForm": formKind(form), "Years": statementYears(t, now), "Base": base,
		"Today": now.In(clock.China).Format("2006-01-02")})
}

func formKind(f *LedgerForm) string {
	if f == nil {
		return ""
	}
	return f.Kind
}

// billing is the operator's billing page of a tenant: balance, ageing, the ledger (paged, newest
// first), the repayment schedule, plan changes, the forms to record entries and the statements.
func (o *opsPages) billing(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	return o.billingPage(c, t, nil, "")
}

// statement is a tenant's yearly statement for operators.
func (o *opsPages) statement(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	return o.d.Statements.Serve(c, t, "html")
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

// post records an advance, a repayment or an adjustment from the ledger forms, through the
// billing service as POST /api/v1/billing/tenants/:slug/:kind does (validated and audited there).
// The form's idempotency key makes a double submission post once. An unknown kind is fiber's
// not found, which the error handler says as for any other address with nothing at it.
func (o *opsPages) post(c *fiber.Ctx) error {
	kind, ok := webKinds[c.Params("kind")]
	if !ok {
		return fiber.ErrNotFound
	}
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	form := &LedgerForm{Kind: c.Params("kind"), Amount: strings.TrimSpace(c.FormValue("amount")), Category: c.FormValue("category"),
		Memo: c.FormValue("memo"), Reference: c.FormValue("reference"), Date: c.FormValue("occurred_on"), Due: c.FormValue("due_on"), Key: c.FormValue("key")}
	e, err := ledgerEntry(kind, form)
	if err == nil {
		_, err = o.d.Billing.Post(c.UserContext(), t, e)
	}
	if err != nil {
		msg, ferr := FormError(c, err)
		if ferr != nil {
			return ferr
		}
		return o.billingPage(c, t, form, msg)
	}
	return Done(c, "/ops/tenants/"+t.Slug+"/billing", "ops.msg.posted."+string(kind))
}

// ledgerEntry turns a ledger form into the entry to post.
func ledgerEntry(kind billing.Kind, f *LedgerForm) (billing.Entry, error) {
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
