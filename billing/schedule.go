package billing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Schedule is how a tenant repays what the operator advanced: Years yearly instalments from
// StartYear, equal principal (the odd fen going to the first years), plus simple interest at
// RateBP basis points a year on the principal still outstanding at the start of each year.
type Schedule struct {
	bun.BaseModel `bun:"table:control.repayment_schedules"`

	TenantID     uuid.UUID     `bun:"tenant_id,pk,type:uuid" json:"tenant_id"`
	PrincipalFen int64         `bun:"principal_fen" json:"principal_fen"`
	Years        int           `bun:"years" json:"years"`
	StartYear    int           `bun:"start_year" json:"start_year"`
	RateBP       int           `bun:"rate_bp" json:"rate_bp"`
	DueMonth     int           `bun:"due_month" json:"due_month"`
	CreatedAt    time.Time     `bun:"created_at" json:"created_at"`
	UpdatedAt    time.Time     `bun:"updated_at" json:"updated_at"`
	Instalments  []*Instalment `bun:"-" json:"instalments"`
}

// Instalment is one year's repayment.
type Instalment struct {
	bun.BaseModel `bun:"table:control.repayment_instalments"`

	TenantID        uuid.UUID `bun:"tenant_id,pk,type:uuid" json:"-"`
	Year            int       `bun:"year,pk" json:"year"`
	DueOn           time.Time `bun:"due_on" json:"due_on"`
	PrincipalFen    int64     `bun:"principal_fen" json:"principal_fen"`
	InterestFen     int64     `bun:"interest_fen" json:"interest_fen"`
	Status          string    `bun:"status" json:"status"`
	StripeInvoiceID string    `bun:"stripe_invoice_id" json:"stripe_invoice_id,omitempty"`
	UpdatedAt       time.Time `bun:"updated_at" json:"updated_at"`
}

// AmountFen is what the instalment asks for.
func (i *Instalment) AmountFen() int64 { return i.PrincipalFen + i.InterestFen }

// Instalment statuses, in the only order they move.
var instalmentOrder = map[string]int{"scheduled": 0, "issued": 1, "finalized": 2, "paid": 3}

// ScheduleRequest is what an operator sends.
type ScheduleRequest struct {
	PrincipalFen int64 `json:"principal_fen"`
	Years        int   `json:"years"`
	StartYear    int   `json:"start_year"`
	RateBP       int   `json:"rate_bp"`
	DueMonth     int   `json:"due_month"`
}

func (r *ScheduleRequest) validate() error {
	if r.PrincipalFen <= 0 || r.PrincipalFen > 1_000_000_000_000_00 {
		return errs.Field("principal_fen", msgPrincipalMustPositiveNumberFen)
	}
	if r.Years < 1 || r.Years > 30 {
		return errs.Field("years", msgScheduleRunsYears)
	}
	if r.StartYear < 2000 || r.StartYear > 2100 {
		return errs.Field("start_year", msgFirstYearMustBetween)
	}
	if r.RateBP < 0 || r.RateBP > 2000 {
		return errs.Field("rate_bp", msgRateBasisPointsYear)
	}
	if r.DueMonth == 0 {
		r.DueMonth = 12
	}
	if r.DueMonth < 1 || r.DueMonth > 12 {
		return errs.Field("due_month", msgDueMonth)
	}
	return nil
}

// Instalments computes the instalments of a schedule. The principals sum exactly to the principal.
func (r ScheduleRequest) Instalments(tenant uuid.UUID, now time.Time) []*Instalment {
	out := make([]*Instalment, r.Years)
	base, rem := r.PrincipalFen/int64(r.Years), r.PrincipalFen%int64(r.Years)
	left := r.PrincipalFen
	for i := range out {
		p := base
		if int64(i) < rem {
			p++
		}
		interest := roundDiv(left*int64(r.RateBP), 10000)
		y := r.StartYear + i
		// Due on the last day of the due month, end of day China time.
		due := time.Date(y, time.Month(r.DueMonth)+1, 1, 0, 0, 0, 0, clock.China).Add(-time.Microsecond).UTC()
		out[i] = &Instalment{TenantID: tenant, Year: y, DueOn: due, PrincipalFen: p, InterestFen: interest, Status: "scheduled", UpdatedAt: now}
		left -= p
	}
	return out
}

// roundDiv is a/b rounded half up, for non-negative a and positive b.
func roundDiv(a, b int64) int64 { return (a + b/2) / b }

// PutSchedule sets t's repayment schedule. It can be replaced until its first instalment is issued.
func (s *Service) PutSchedule(ctx context.Context, t *tenants.Tenant, r ScheduleRequest) (*Schedule, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var sch *Schedule
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*Instalment)(nil)).Where("tenant_id = ? AND status <> 'scheduled'", t.ID).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, msgScheduleHasIssuedInstalmentsCan, t.Slug)
		}
		now := s.now()
		sch = &Schedule{TenantID: t.ID, PrincipalFen: r.PrincipalFen, Years: r.Years, StartYear: r.StartYear, RateBP: r.RateBP,
			DueMonth: r.DueMonth, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(sch).On("CONFLICT (tenant_id) DO UPDATE").
			Set("principal_fen = EXCLUDED.principal_fen, years = EXCLUDED.years, start_year = EXCLUDED.start_year").
			Set("rate_bp = EXCLUDED.rate_bp, due_month = EXCLUDED.due_month, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Instalment)(nil)).Where("tenant_id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		sch.Instalments = r.Instalments(t.ID, now)
		if _, err := tx.NewInsert().Model(&sch.Instalments).Exec(ctx); err != nil {
			return err
		}
		return s.store.Audit(ctx, tx, "billing.schedule.put", &t.ID, t.Slug, r)
	})
	return sch, err
}

// FindSchedule returns t's schedule with its instalments, or NotFound.
func (s *Service) FindSchedule(ctx context.Context, tenant uuid.UUID) (*Schedule, error) {
	var sch *Schedule
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		sch, err = findSchedule(ctx, tx, tenant)
		return err
	})
	return sch, err
}

func findSchedule(ctx context.Context, db bun.IDB, tenant uuid.UUID) (*Schedule, error) {
	sch := new(Schedule)
	if err := db.NewSelect().Model(sch).Where("tenant_id = ?", tenant).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, errs.E(errs.NotFound, msgTenantHasNoRepaymentSchedule)
		}
		return nil, dbx.Translate(err)
	}
	if err := db.NewSelect().Model(&sch.Instalments).Where("tenant_id = ?", tenant).OrderExpr("year").Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return sch, nil
}

// IssueInstalment issues t's instalment of year: its interest is charged to the ledger, and when
// Stripe is configured an invoice for it is queued. Issuing twice is harmless.
func (s *Service) IssueInstalment(ctx context.Context, t *tenants.Tenant, year int) (*Instalment, error) {
	var in *Instalment
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		in = new(Instalment)
		if err := tx.NewSelect().Model(in).Where("tenant_id = ? AND year = ?", t.ID, year).Scan(ctx); err != nil {
			if errs.Is(dbx.Translate(err), errs.NotFound) {
				return errs.E(errs.NotFound, msgThereNoInstalmentSchedule, year, t.Slug)
			}
			return err
		}
		if in.Status != "scheduled" {
			return nil
		}
		if in.InterestFen > 0 {
			e := Entry{Kind: Charge, Category: "interest", AmountFen: in.InterestFen, Memo: fmt.Sprintf("%d 年度分期利息 / interest on the %d instalment", year, year),
				OccurredAt: s.now(), DueOn: in.DueOn, IdempotencyKey: fmt.Sprintf("instalment-interest:%s:%d", t.ID, year), Source: "schedule"}
			if err := e.validate(s.now()); err != nil {
				return err
			}
			if _, err := s.post(ctx, tx, t, e); err != nil {
				return err
			}
		}
		in.Status, in.UpdatedAt = "issued", s.now()
		if _, err := tx.NewUpdate().Model(in).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if s.Online() {
			if err := s.enqueue(ctx, tx, outboxInvoice, fmt.Sprintf("invoice:%s:%d", t.ID, year), &t.ID, invoicePayload{Year: year, AmountFen: in.AmountFen()}); err != nil {
				return err
			}
		}
		return s.store.Audit(ctx, tx, "billing.instalment.issue", &t.ID, t.Slug, map[string]any{"year": year})
	})
	return in, err
}

// Ageing splits what a tenant owes by how long it has been due.
type Ageing struct {
	NotDue   int64      `json:"not_due_fen"`
	Days30   int64      `json:"days_1_30_fen"`
	Days90   int64      `json:"days_31_90_fen"`
	Days180  int64      `json:"days_91_180_fen"`
	Days365  int64      `json:"days_181_365_fen"`
	Over365  int64      `json:"over_365_fen"`
	Overdue  int64      `json:"overdue_fen"`
	Total    int64      `json:"total_fen"`
	OldestAt *time.Time `json:"oldest_due,omitempty"`
}

type dueItem struct {
	due    time.Time
	amount int64
}

// ageing allocates what was paid or credited, oldest due first, to what fell due: instalments stand
// for the advances they repay (advances beyond the schedule are due 30 days after they occurred),
// every other debit is due on its own due date. The buckets sum to the outstanding balance.
func ageing(ctx context.Context, db bun.IDB, tenant uuid.UUID, asOf time.Time) (*Ageing, error) {
	js, err := findJournals(ctx, db, JournalFilter{Tenant: tenant, To: asOf.Add(time.Microsecond)})
	if err != nil {
		return nil, err
	}
	var ins []*Instalment
	if err := db.NewSelect().Model(&ins).Where("tenant_id = ?", tenant).OrderExpr("year").Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	var items []dueItem
	var paid, advances int64
	var lastAdvance time.Time
	for _, j := range js {
		var rec int64
		for _, p := range j.Postings {
			if p.Account == AccReceivable {
				if p.AmountFen > 0 {
					rec += p.AmountFen
				} else {
					paid -= p.AmountFen
				}
			}
		}
		if rec == 0 {
			continue
		}
		if j.Kind == Advance && len(ins) > 0 {
			advances += rec
			lastAdvance = j.OccurredAt
			continue
		}
		items = append(items, dueItem{j.DueOn, rec})
	}
	for _, in := range ins {
		if advances == 0 {
			break
		}
		a := min(in.PrincipalFen, advances)
		items = append(items, dueItem{in.DueOn, a})
		advances -= a
	}
	if advances > 0 {
		items = append(items, dueItem{lastAdvance.AddDate(0, 0, 30), advances})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].due.Before(items[j].due) })
	ag := &Ageing{}
	for _, it := range items {
		use := min(paid, it.amount)
		paid -= use
		left := it.amount - use
		if left == 0 {
			continue
		}
		ag.Total += left
		days := int(asOf.Sub(it.due).Hours() / 24)
		switch {
		case !asOf.After(it.due):
			ag.NotDue += left
			continue
		case days <= 30:
			ag.Days30 += left
		case days <= 90:
			ag.Days90 += left
		case days <= 180:
			ag.Days180 += left
		case days <= 365:
			ag.Days365 += left
		default:
			ag.Over365 += left
		}
		ag.Overdue += left
		if ag.OldestAt == nil {
			d := it.due
			ag.OldestAt = &d
		}
	}
	return ag, nil
}

// FindAgeing returns t's ageing as of asOf (zero: now).
func (s *Service) FindAgeing(ctx context.Context, tenant uuid.UUID, asOf time.Time) (*Ageing, error) {
	if asOf.IsZero() {
		asOf = s.now()
	}
	var ag *Ageing
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ag, err = ageing(ctx, tx, tenant, asOf)
		return err
	})
	return ag, err
}
