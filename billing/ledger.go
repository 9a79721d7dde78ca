package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Kind is the kind of a journal.
type Kind string

// The kinds of journal.
const (
	Advance    Kind = "advance"    // the operator paid on the tenant's behalf (fit-out, O&M, cloud)
	Charge     Kind = "charge"     // usage, plan fee or interest rated from the plan or schedule
	Repayment  Kind = "repayment"  // money received from the government
	Adjustment Kind = "adjustment" // a correction: positive adds to what is owed, negative is a credit
)

// The accounts. Postings are signed: debit positive, credit negative; every journal sums to zero.
// Receivable is what the tenant owes the operator; Credit holds what the tenant paid or was
// credited beyond that (a negative balance is credit in the tenant's favour).
const (
	AccReceivable  = "receivable"
	AccCash        = "cash"
	AccRevenue     = "revenue"
	AccCredit      = "credit"
	AccAdjustments = "adjustments"
	AccInterest    = "interest"
)

// Accounts lists every account.
var Accounts = []string{AccReceivable, AccCash, AccRevenue, AccCredit, AccAdjustments, AccInterest}

var categories = map[Kind][]string{
	Advance:    {"fit_out", "operation", "cloud", "other"},
	Charge:     {"usage", "plan", "interest", "other"},
	Repayment:  {"bank", "stripe", "other"},
	Adjustment: {"correction", "waiver", "credit", "other"},
}

// Journal is one balanced entry of the ledger.
type Journal struct {
	bun.BaseModel `bun:"table:control.ledger_journals"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	TenantID       uuid.UUID  `bun:"tenant_id,type:uuid" json:"tenant_id"`
	Kind           Kind       `bun:"kind" json:"kind"`
	Category       string     `bun:"category" json:"category"`
	AmountFen      int64      `bun:"amount_fen" json:"amount_fen"`
	Memo           string     `bun:"memo" json:"memo"`
	Reference      string     `bun:"reference" json:"reference,omitempty"`
	Source         string     `bun:"source" json:"source"`
	IdempotencyKey *string    `bun:"idempotency_key" json:"idempotency_key,omitempty"`
	OccurredAt     time.Time  `bun:"occurred_at" json:"occurred_at"`
	DueOn          time.Time  `bun:"due_on" json:"due_on"`
	PostedAt       time.Time  `bun:"posted_at" json:"posted_at"`
	PostedBy       string     `bun:"posted_by" json:"posted_by"`
	Postings       []*Posting `bun:"-" json:"postings,omitempty"`
}

// Net is the journal's effect on what the tenant owes (receivable and credit together).
func (j *Journal) Net() int64 {
	var n int64
	for _, p := range j.Postings {
		if p.Account == AccReceivable || p.Account == AccCredit {
			n += p.AmountFen
		}
	}
	return n
}

// Posting is one line of a journal.
type Posting struct {
	bun.BaseModel `bun:"table:control.ledger_postings"`

	ID        int64     `bun:"id,pk,autoincrement" json:"-"`
	JournalID int64     `bun:"journal_id" json:"-"`
	TenantID  uuid.UUID `bun:"tenant_id,type:uuid" json:"-"`
	Account   string    `bun:"account" json:"account"`
	AmountFen int64     `bun:"amount_fen" json:"amount_fen"`
}

// Entry is what a caller asks to post.
type Entry struct {
	Kind      Kind   `json:"kind"`
	Category  string `json:"category"`
	AmountFen int64  `json:"amount_fen"`
	Memo      string `json:"memo"`
	Reference string `json:"reference"`
	// OccurredAt is the accounting date (default now); it decides the statement year.
	OccurredAt time.Time `json:"occurred_at"`
	// DueOn is when a debit falls due (default 30 days after OccurredAt); it drives ageing.
	DueOn time.Time `json:"due_on"`
	// IdempotencyKey makes a retried request post once; the same key with different terms is a
	// conflict.
	IdempotencyKey string `json:"-"`
	Source         string `json:"-"`
}

func (e *Entry) validate(now time.Time) error {
	cats, ok := categories[e.Kind]
	if !ok {
		return errs.Field("kind", msgKindNotOneAdvanceCharge, trunc(string(e.Kind), 30))
	}
	if e.Category == "" {
		e.Category = cats[0]
		if e.Kind == Adjustment {
			e.Category = "correction"
		}
	}
	if !contains(cats, e.Category) {
		return errs.Field("category", msgCategoryNotOne, trunc(e.Category, 30), strings.Join(cats, ", "), e.Kind)
	}
	const maxAmount = 1_000_000_000_000_00 // one trillion yuan: far beyond any county, far below int64 limits
	switch {
	case e.Kind == Adjustment && e.AmountFen == 0:
		return errs.Field("amount_fen", msgAdjustmentNeedsNonZeroAmount)
	case e.Kind != Adjustment && e.AmountFen <= 0:
		return errs.Field("amount_fen", msgAmountMustPositiveWholeNumber)
	case e.AmountFen > maxAmount || e.AmountFen < -maxAmount:
		return errs.Field("amount_fen", msgAmountLargerThanAnyReal)
	}
	if err := checkText("memo", e.Memo, 500); err != nil {
		return err
	}
	if err := checkText("reference", e.Reference, 120); err != nil {
		return err
	}
	if err := checkText("idempotency_key", e.IdempotencyKey, 200); err != nil {
		return err
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	if e.OccurredAt.After(now.Add(24 * time.Hour)) {
		return errs.Field("occurred_at", msgAccountingDateFuture)
	}
	if e.OccurredAt.Year() < 2000 {
		return errs.Field("occurred_at", msgAccountingDateBefore)
	}
	if e.DueOn.IsZero() {
		e.DueOn = e.OccurredAt.AddDate(0, 0, 30)
	}
	if e.Source == "" {
		e.Source = "api"
	}
	return nil
}

// Post records entry for tenant t as one balanced journal and returns it. With an idempotency
// key, a repeat of the same entry returns the journal already posted.
func (s *Service) Post(ctx context.Context, t *tenants.Tenant, e Entry) (*Journal, error) {
	if err := e.validate(s.now()); err != nil {
		return nil, err
	}
	var j *Journal
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		j, err = s.post(ctx, tx, t, e)
		return err
	})
	return j, err
}

// post writes the journal inside tx. Callers have validated e.
func (s *Service) post(ctx context.Context, tx bun.IDB, t *tenants.Tenant, e Entry) (*Journal, error) {
	if s.postgres() {
		// One writer per tenant's ledger at a time: postings depend on the balance.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "ledger:"+t.ID.String()); err != nil {
			return nil, err
		}
	}
	if e.IdempotencyKey != "" {
		old := new(Journal)
		err := tx.NewSelect().Model(old).Where("idempotency_key = ?", e.IdempotencyKey).Scan(ctx)
		if err == nil {
			if old.TenantID != t.ID || old.Kind != e.Kind || old.AmountFen != e.AmountFen {
				return nil, errs.E(errs.Conflict, msgIdempotencyKeyWasAlreadyUsed, trunc(e.IdempotencyKey, 60))
			}
			return old, loadPostings(ctx, tx, []*Journal{old})
		}
		if !errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, dbx.Translate(err)
		}
	}
	bal, err := balancesOf(ctx, tx, t.ID, time.Time{})
	if err != nil {
		return nil, err
	}
	owed, credit := bal[AccReceivable], -bal[AccCredit]
	var ps []*Posting
	add := func(acc string, amt int64) {
		if amt != 0 {
			ps = append(ps, &Posting{TenantID: t.ID, Account: acc, AmountFen: amt})
		}
	}
	// settle takes amount off what is owed; what is left over becomes credit in the tenant's favour.
	settle := func(amount int64) {
		toRec := min(amount, max(owed, 0))
		add(AccReceivable, -toRec)
		add(AccCredit, -(amount - toRec))
	}
	// owe adds to what is owed, first using up any credit the tenant holds.
	owe := func(amount int64) {
		add(AccReceivable, amount)
		if use := min(amount, max(credit, 0)); use > 0 {
			add(AccCredit, use)
			add(AccReceivable, -use)
		}
	}
	switch {
	case e.Kind == Advance:
		owe(e.AmountFen)
		add(AccCash, -e.AmountFen)
	case e.Kind == Charge && e.Category == "interest":
		owe(e.AmountFen)
		add(AccInterest, -e.AmountFen)
	case e.Kind == Charge:
		owe(e.AmountFen)
		add(AccRevenue, -e.AmountFen)
	case e.Kind == Repayment:
		add(AccCash, e.AmountFen)
		settle(e.AmountFen)
	case e.Kind == Adjustment && e.AmountFen > 0:
		owe(e.AmountFen)
		add(AccAdjustments, -e.AmountFen)
	default:
		add(AccAdjustments, -e.AmountFen)
		settle(-e.AmountFen)
	}
	if err := checkBalanced(ps); err != nil {
		return nil, err
	}
	j := &Journal{TenantID: t.ID, Kind: e.Kind, Category: e.Category, AmountFen: e.AmountFen, Memo: e.Memo,
		Reference: e.Reference, Source: e.Source, OccurredAt: utc(e.OccurredAt), DueOn: utc(e.DueOn), PostedAt: s.now(), Postings: ps}
	if e.IdempotencyKey != "" {
		k := e.IdempotencyKey
		j.IdempotencyKey = &k
	}
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		j.PostedBy = p.Identity.Email
	} else {
		j.PostedBy = "system"
	}
	if _, err := tx.NewInsert().Model(j).Returning("id").Exec(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	for _, p := range ps {
		p.JournalID = j.ID
	}
	if _, err := tx.NewInsert().Model(&ps).Exec(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return j, s.store.Audit(ctx, tx, "billing.ledger."+string(e.Kind), &t.ID, fmt.Sprintf("journal:%d", j.ID),
		map[string]any{"amount_fen": e.AmountFen, "category": e.Category, "memo": e.Memo})
}

func checkBalanced(ps []*Posting) error {
	var sum int64
	for _, p := range ps {
		sum += p.AmountFen
	}
	if sum != 0 || len(ps) < 2 {
		return errs.E(errs.Internal, msgJournalDoesNotBalancePostings, len(ps), sum)
	}
	return nil
}

// balancesOf sums the tenant's postings per account for journals that occurred before asOf (zero:
// all of them).
func balancesOf(ctx context.Context, db bun.IDB, tenant uuid.UUID, asOf time.Time) (map[string]int64, error) {
	var rows []struct {
		Account string
		Sum     int64
	}
	q := db.NewSelect().TableExpr("control.ledger_postings AS p").ColumnExpr("p.account, coalesce(sum(p.amount_fen), 0) AS sum").
		Where("p.tenant_id = ?", tenant).GroupExpr("p.account")
	if !asOf.IsZero() {
		q = q.Join("JOIN control.ledger_journals AS j ON j.id = p.journal_id").Where("j.occurred_at < ?", utc(asOf))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, dbx.Translate(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Account] = r.Sum
	}
	return out, nil
}

// Balance is where a tenant stands.
type Balance struct {
	TenantID uuid.UUID `json:"tenant_id"`
	// Outstanding is what the tenant owes (never negative); Credit is what it holds in its favour.
	Outstanding int64 `json:"outstanding_fen"`
	Credit      int64 `json:"credit_fen"`
	// Net is Outstanding - Credit.
	Net int64 `json:"net_fen"`
	// Totals by kind over the whole ledger (adjustments signed).
	Advanced int64 `json:"advanced_fen"`
	Charged  int64 `json:"charged_fen"`
	Repaid   int64 `json:"repaid_fen"`
	Adjusted int64 `json:"adjusted_fen"`
	// Accounts are the raw account balances of the tenant's postings (they sum to zero).
	Accounts map[string]int64 `json:"accounts"`
}

// FindBalance returns t's balance as of asOf (zero: now).
func (s *Service) FindBalance(ctx context.Context, tenant uuid.UUID, asOf time.Time) (*Balance, error) {
	var b *Balance
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		b, err = balance(ctx, tx, tenant, asOf)
		return err
	})
	return b, err
}

func balance(ctx context.Context, db bun.IDB, tenant uuid.UUID, asOf time.Time) (*Balance, error) {
	acc, err := balancesOf(ctx, db, tenant, asOf)
	if err != nil {
		return nil, err
	}
	b := &Balance{TenantID: tenant, Outstanding: acc[AccReceivable], Credit: -acc[AccCredit], Accounts: acc}
	b.Net = b.Outstanding - b.Credit
	var rows []struct {
		Kind Kind
		Sum  int64
	}
	q := db.NewSelect().Table("control.ledger_journals").ColumnExpr("kind, coalesce(sum(amount_fen), 0) AS sum").
		Where("tenant_id = ?", tenant).GroupExpr("kind")
	if !asOf.IsZero() {
		q = q.Where("occurred_at < ?", utc(asOf))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, dbx.Translate(err)
	}
	for _, r := range rows {
		switch r.Kind {
		case Advance:
			b.Advanced = r.Sum
		case Charge:
			b.Charged = r.Sum
		case Repayment:
			b.Repaid = r.Sum
		case Adjustment:
			b.Adjusted = r.Sum
		}
	}
	return b, nil
}

// JournalFilter narrows FindJournals. From is inclusive, To exclusive (accounting dates).
type JournalFilter struct {
	Tenant uuid.UUID
	From   time.Time
	To     time.Time
	Limit  int
}

// FindJournals lists a tenant's journals with their postings in accounting order.
func (s *Service) FindJournals(ctx context.Context, f JournalFilter) ([]*Journal, error) {
	var out []*Journal
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = findJournals(ctx, tx, f)
		return err
	})
	return out, err
}

func findJournals(ctx context.Context, db bun.IDB, f JournalFilter) ([]*Journal, error) {
	out := []*Journal{}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	q := db.NewSelect().Model(&out).Where("tenant_id = ?", f.Tenant).OrderExpr("occurred_at, id").Limit(int64(f.Limit))
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", utc(f.To))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return out, loadPostings(ctx, db, out)
}

func loadPostings(ctx context.Context, db bun.IDB, js []*Journal) error {
	if len(js) == 0 {
		return nil
	}
	byID := map[int64]*Journal{}
	ids := make([]int64, 0, len(js))
	for _, j := range js {
		byID[j.ID] = j
		j.Postings = nil
		ids = append(ids, j.ID)
	}
	for start := 0; start < len(ids); start += 500 {
		var ps []*Posting
		if err := db.NewSelect().Model(&ps).Where("journal_id IN (?)", bun.List(ids[start:min(start+500, len(ids))])).
			OrderExpr("id").Scan(ctx); err != nil {
			return dbx.Translate(err)
		}
		for _, p := range ps {
			byID[p.JournalID].Postings = append(byID[p.JournalID].Postings, p)
		}
	}
	return nil
}

// TenantBalance is one row of the operator's overview.
type TenantBalance struct {
	Tenant *tenants.Tenant `json:"tenant"`
	*Balance
	Ageing *Ageing `json:"ageing"`
}

// Overview returns the balance and ageing of every tenant in ts as of asOf (zero: now).
func (s *Service) Overview(ctx context.Context, ts []*tenants.Tenant, asOf time.Time) ([]TenantBalance, error) {
	if asOf.IsZero() {
		asOf = s.now()
	}
	out := make([]TenantBalance, 0, len(ts))
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range ts {
			b, err := balance(ctx, tx, t.ID, time.Time{})
			if err != nil {
				return err
			}
			ag, err := ageing(ctx, tx, t.ID, asOf)
			if err != nil {
				return err
			}
			out = append(out, TenantBalance{Tenant: t, Balance: b, Ageing: ag})
		}
		return nil
	})
	return out, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
