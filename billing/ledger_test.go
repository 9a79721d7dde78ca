package billing

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
	"pgregory.net/rapid"
)

// TestLedgerProperties posts random sequences of entries and checks the invariants after each:
// every journal balances and all accounts sum to zero; what is owed is never negative and
// repayments beyond it become credit; owed and credit are never both positive; the ageing buckets
// sum to what is owed; and each year's statement reproduces the ledger.
func TestLedgerProperties(t *testing.T) {
	for _, d := range []dbx.Dialect{dbx.SQLite, dbx.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d, nil)
			ctx := context.Background()
			n := 0
			rapid.Check(t, func(rt *rapid.T) {
				n++
				tn := mustTenant(t, e, fmt.Sprintf("p%d", n), fmt.Sprintf("53%04d", n))
				e.clock.Set(time.Date(2024, 1, 10, 8, 0, 0, 0, clock.China))
				var advanced, charged, repaid, adjusted int64
				maxSteps := 12
				if d == dbx.Postgres {
					maxSteps = 6 // the same properties, fewer round trips (SQLite explores the long sequences)
				}
				steps := rapid.IntRange(1, maxSteps).Draw(rt, "steps")
				for i := 0; i < steps; i++ {
					e.clock.Add(time.Duration(rapid.IntRange(0, 200).Draw(rt, "days")) * 24 * time.Hour)
					kind := rapid.SampledFrom([]Kind{Advance, Charge, Repayment, Adjustment}).Draw(rt, "kind")
					amt := rapid.Int64Range(1, 5_000_000_00).Draw(rt, "amount")
					if kind == Adjustment && rapid.Bool().Draw(rt, "negative") {
						amt = -amt
					}
					cat := ""
					if kind == Charge && rapid.Bool().Draw(rt, "interest") {
						cat = "interest"
					}
					j, err := e.svc.Post(ctx, tn, Entry{Kind: kind, Category: cat, AmountFen: amt})
					if err != nil {
						rt.Fatalf("post %s %d: %v", kind, amt, err)
					}
					switch kind {
					case Advance:
						advanced += amt
					case Charge:
						charged += amt
					case Repayment:
						repaid += amt
					default:
						adjusted += amt
					}
					var sum int64
					for _, p := range j.Postings {
						sum += p.AmountFen
					}
					if sum != 0 {
						rt.Fatalf("journal %d sums to %d", j.ID, sum)
					}
					b, err := e.svc.FindBalance(ctx, tn.ID, time.Time{})
					if err != nil {
						rt.Fatal(err)
					}
					var all int64
					for _, v := range b.Accounts {
						all += v
					}
					if all != 0 {
						rt.Fatalf("accounts sum to %d: %v", all, b.Accounts)
					}
					if b.Outstanding < 0 || b.Credit < 0 || (b.Outstanding > 0 && b.Credit > 0) {
						rt.Fatalf("outstanding %d, credit %d", b.Outstanding, b.Credit)
					}
					if want := advanced + charged + adjusted - repaid; b.Net != want {
						rt.Fatalf("net %d, want %d", b.Net, want)
					}
					if b.Advanced != advanced || b.Repaid != repaid {
						rt.Fatalf("totals %+v", b)
					}
					ag, err := e.svc.FindAgeing(ctx, tn.ID, time.Time{})
					if err != nil {
						rt.Fatal(err)
					}
					if ag.Total != b.Outstanding || ag.NotDue+ag.Overdue != ag.Total ||
						ag.Days30+ag.Days90+ag.Days180+ag.Days365+ag.Over365 != ag.Overdue {
						rt.Fatalf("ageing %+v does not add up to outstanding %d", ag, b.Outstanding)
					}
				}
				// Statements: each year's closing is the next year's opening and the ledger's balance.
				prev := int64(0)
				for y := 2024; y <= e.clock.Now().In(clock.China).Year(); y++ {
					st, err := e.svc.FindStatement(ctx, tn, y)
					if err != nil {
						rt.Fatal(err)
					}
					if st.Opening != prev {
						rt.Fatalf("%d opens at %d, previous closed at %d", y, st.Opening, prev)
					}
					sum := st.Opening
					for _, l := range st.Lines {
						sum += l.Debit - l.Credit
					}
					if sum != st.Closing {
						rt.Fatalf("%d: lines add to %d, closing %d", y, sum, st.Closing)
					}
					prev = st.Closing
				}
				b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{})
				if prev != b.Net {
					rt.Fatalf("last closing %d, ledger %d", prev, b.Net)
				}
			})
		})
	}
}

func TestLedgerRulesAndIdempotency(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		tn := mustTenant(t, e, "chuxiong", "532301")
		bad := []struct {
			e     Entry
			field string
		}{
			{Entry{Kind: "gift", AmountFen: 1}, "kind"},
			{Entry{Kind: Advance, AmountFen: 0}, "amount_fen"},
			{Entry{Kind: Repayment, AmountFen: -5}, "amount_fen"},
			{Entry{Kind: Adjustment, AmountFen: 0}, "amount_fen"},
			{Entry{Kind: Advance, AmountFen: 1, Category: "party"}, "category"},
			{Entry{Kind: Advance, AmountFen: 1, OccurredAt: e.clock.Now().AddDate(1, 0, 0)}, "occurred_at"},
		}
		for _, b := range bad {
			if _, err := e.svc.Post(ctx, tn, b.e); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != b.field {
				t.Errorf("post %+v: %v, want invalid %s", b.e, err, b.field)
			}
		}
		j1, err := e.svc.Post(ctx, tn, Entry{Kind: Advance, Category: "fit_out", AmountFen: 100_000_00, IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		j2, err := e.svc.Post(ctx, tn, Entry{Kind: Advance, Category: "fit_out", AmountFen: 100_000_00, IdempotencyKey: "k1"})
		if err != nil || j2.ID != j1.ID {
			t.Fatalf("repeat with the same key: %v, journal %d vs %d", err, j2.ID, j1.ID)
		}
		if _, err := e.svc.Post(ctx, tn, Entry{Kind: Advance, AmountFen: 5, IdempotencyKey: "k1"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("same key, other amount: %v, want conflict", err)
		}
		// A repayment beyond what is owed is recorded as credit, and the credit pays the next charge.
		if _, err := e.svc.Post(ctx, tn, Entry{Kind: Repayment, AmountFen: 120_000_00}); err != nil {
			t.Fatal(err)
		}
		b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if b.Outstanding != 0 || b.Credit != 20_000_00 {
			t.Fatalf("after overpaying: %+v", b)
		}
		if _, err := e.svc.Post(ctx, tn, Entry{Kind: Charge, AmountFen: 5_000_00}); err != nil {
			t.Fatal(err)
		}
		b, _ = e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if b.Outstanding != 0 || b.Credit != 15_000_00 {
			t.Fatalf("credit did not pay the charge: %+v", b)
		}
		// The ledger is append-only in the database itself.
		err = e.store.ControlTx(ctx, 1, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE control.ledger_postings SET amount_fen = 0")
			return err
		})
		if err == nil {
			t.Fatal("a posting was changed")
		}
		if e.store.Dialect() == dbx.Postgres {
			// An unbalanced journal is refused at commit.
			err = e.store.ControlTx(ctx, 1, func(ctx context.Context, tx bun.Tx) error {
				j := &Journal{TenantID: tn.ID, Kind: Charge, AmountFen: 1, OccurredAt: e.clock.Now(), DueOn: e.clock.Now(), PostedAt: e.clock.Now()}
				if _, err := tx.NewInsert().Model(j).Returning("id").Exec(ctx); err != nil {
					return err
				}
				_, err := tx.NewInsert().Model(&[]*Posting{{JournalID: j.ID, TenantID: tn.ID, Account: AccReceivable, AmountFen: 1}, {JournalID: j.ID, TenantID: tn.ID, Account: AccRevenue, AmountFen: -2}}).Exec(ctx)
				return err
			})
			if err == nil {
				t.Fatal("the database accepted an unbalanced journal")
			}
		}
	})
}

func TestScheduleInstalmentsAndAgeing(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		tn := mustTenant(t, e, "chuxiong", "532301")
		e.clock.Set(time.Date(2024, 3, 1, 10, 0, 0, 0, clock.China))
		if _, err := e.svc.Post(ctx, tn, Entry{Kind: Advance, Category: "fit_out", AmountFen: 1_000_000_01}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PutSchedule(ctx, tn, ScheduleRequest{PrincipalFen: 1_000_000_01, Years: 3, StartYear: 2024, RateBP: 0}); err != nil {
			t.Fatal(err)
		}
		sch, err := e.svc.PutSchedule(ctx, tn, ScheduleRequest{PrincipalFen: 1_000_000_01, Years: 3, StartYear: 2024, RateBP: 350})
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, in := range sch.Instalments {
			sum += in.PrincipalFen
		}
		if sum != 1_000_000_01 || sch.Instalments[0].PrincipalFen != 333_333_34 || sch.Instalments[2].PrincipalFen != 333_333_33 {
			t.Fatalf("instalments: %+v", sch.Instalments)
		}
		// Interest on the principal outstanding at the start of each year, rounded half up.
		if got := sch.Instalments[0].InterestFen; got != roundDiv(1_000_000_01*350, 10000) {
			t.Fatalf("first interest %d", got)
		}
		if got := sch.Instalments[1].InterestFen; got != roundDiv((1_000_000_01-333_333_34)*350, 10000) {
			t.Fatalf("second interest %d", got)
		}
		// Nothing is due before the first instalment.
		ag, _ := e.svc.FindAgeing(ctx, tn.ID, time.Time{})
		if ag.NotDue != 1_000_000_01 || ag.Overdue != 0 {
			t.Fatalf("ageing before the first due date: %+v", ag)
		}
		in, err := e.svc.IssueInstalment(ctx, tn, 2024)
		if err != nil || in.Status != "issued" {
			t.Fatalf("issue: %+v %v", in, err)
		}
		if _, err := e.svc.IssueInstalment(ctx, tn, 2024); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PutSchedule(ctx, tn, ScheduleRequest{PrincipalFen: 5, Years: 1, StartYear: 2024}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("replacing an issued schedule: %v", err)
		}
		b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if b.Charged != sch.Instalments[0].InterestFen {
			t.Fatalf("interest charged %d, want %d (issued twice must charge once)", b.Charged, sch.Instalments[0].InterestFen)
		}
		// 2025-03-01: the 2024 instalment is 60 days overdue; pay half of it.
		e.clock.Set(time.Date(2025, 3, 1, 10, 0, 0, 0, clock.China))
		half := sch.Instalments[0].AmountFen() / 2
		if _, err := e.svc.Post(ctx, tn, Entry{Kind: Repayment, AmountFen: half}); err != nil {
			t.Fatal(err)
		}
		ag, _ = e.svc.FindAgeing(ctx, tn.ID, time.Time{})
		b, _ = e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if ag.Total != b.Outstanding || ag.Days90 != sch.Instalments[0].AmountFen()-half || ag.OldestAt == nil {
			t.Fatalf("ageing %+v, outstanding %d", ag, b.Outstanding)
		}
		if _, err := e.svc.IssueInstalment(ctx, tn, 1999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("issue a year not in the schedule: %v", err)
		}
	})
}

func TestStatementAndCSV(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	ctx := context.Background()
	tn := mustTenant(t, e, "chuxiong", "532301")
	e.clock.Set(time.Date(2025, 6, 1, 10, 0, 0, 0, clock.China))
	e.svc.Post(ctx, tn, Entry{Kind: Advance, Category: "cloud", AmountFen: 500_00, Memo: "2025 云资源"})
	e.clock.Set(time.Date(2026, 2, 1, 10, 0, 0, 0, clock.China))
	e.svc.Post(ctx, tn, Entry{Kind: Charge, Category: "usage", AmountFen: 120_34, Memo: "=HYPERLINK(\"x\")"})
	e.svc.Post(ctx, tn, Entry{Kind: Repayment, AmountFen: 1000_00, Reference: "BANK-1"})
	st, err := e.svc.FindStatement(ctx, tn, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if st.Opening != 500_00 || st.Closing != 500_00+120_34-1000_00 || len(st.Lines) != 2 || st.Credit != 379_66 {
		t.Fatalf("statement: %+v", st)
	}
	var buf bytes.Buffer
	if err := st.WriteCSV(&buf, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\ufeff日期") {
		t.Fatalf("CSV starts %q", buf.String()[:20])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[1][8] != "500.00" || rows[2][6] != "120.34" || rows[3][7] != "1000.00" || rows[4][8] != "-379.66" {
		t.Fatalf("CSV rows: %q", rows)
	}
	if !strings.HasPrefix(rows[2][4], "'=") {
		t.Fatalf("formula not neutralised: %q", rows[2][4])
	}
	if _, err := e.svc.FindStatement(ctx, tn, 1900); !errs.Is(err, errs.Invalid) {
		t.Fatalf("year 1900: %v", err)
	}
}

func TestYuan(t *testing.T) {
	for fen, s := range map[int64]string{0: "0.00", 5: "0.05", 123456: "1234.56", -1: "-0.01", -100: "-1.00"} {
		if got := Yuan(fen); got != s {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, s)
		}
	}
	for s, fen := range map[string]int64{"1234.56": 123456, "1,234.5": 123450, "7": 700, "-0.01": -1, "0.1": 10} {
		if got, err := ParseYuan(s); err != nil || got != fen {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", s, got, err, fen)
		}
	}
	for _, s := range []string{"", "1.234", "abc", "1e5", ".5", "12345678901234"} {
		if _, err := ParseYuan(s); err == nil {
			t.Errorf("ParseYuan(%q) accepted", s)
		}
	}
}

func TestPlansQuotasAndRating(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		tn := mustTenant(t, e, "chuxiong", "532301")
		plans, err := e.svc.FindPlans(ctx)
		if err != nil || len(plans) != 3 || plans[0].Code != "starter" || !plans[0].Shared {
			t.Fatalf("plans: %v %v", plans, err)
		}
		ent, err := e.svc.FindEntitlements(ctx, tn)
		if err != nil || !ent.Modules["cases"] || ent.Modules["monitoring"] {
			t.Fatalf("starter entitlements: %+v %v", ent, err)
		}
		ent, err = e.svc.SetPlan(ctx, tn, "", map[string]bool{"monitoring": true, "public": false})
		if err != nil || !ent.Modules["monitoring"] || ent.Modules["public"] {
			t.Fatalf("switches: %+v %v", ent, err)
		}
		if _, err := e.svc.SetPlan(ctx, tn, "gold", nil); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown plan: %v", err)
		}
		if _, err := e.svc.SetPlan(ctx, tn, "", map[string]bool{"x": true}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown module: %v", err)
		}
		// Over the starter quota of 2000 cases by 10, and 3 SMS: flagged, never refused.
		if _, err := e.svc.Ingest(ctx, []Event{
			{Tenant: tn.ID, Meter: MeterCasesCreated, Quantity: 2010, IdempotencyKey: "bulk-cases"},
			{Tenant: tn.ID, Meter: MeterSMS, Quantity: 3, IdempotencyKey: "sms"},
			{Tenant: tn.ID, Meter: MeterAPIRequests, Quantity: 200_001, IdempotencyKey: "api"},
		}); err != nil {
			t.Fatal(err)
		}
		qs, err := e.svc.QuotaStatus(ctx, tn, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if qs[0].Meter != MeterCasesCreated || !qs[0].Over || qs[0].Overage != 10 || qs[0].OverageFen != 500 {
			t.Fatalf("cases quota: %+v", qs[0])
		}
		if qs[2].Meter != MeterAPIRequests || qs[2].OverageFen != 100 {
			t.Fatalf("api quota (one started block of 10,000): %+v", qs[2])
		}
		month, _ := ParseMonth("2026-05")
		r, err := e.svc.RateMonth(ctx, tn, month)
		if err != nil || r.UsageFen != 600 || r.PlanFeeFen != 0 || len(r.Journals) != 1 {
			t.Fatalf("rate: %+v %v", r, err)
		}
		if _, err := e.svc.RateMonth(ctx, tn, month); err != nil {
			t.Fatal(err)
		}
		b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if b.Charged != 600 {
			t.Fatalf("rated twice: charged %d, want 600", b.Charged)
		}
		// The standard plan has a monthly fee.
		if _, err := e.svc.SetPlan(ctx, tn, "standard", nil); err != nil {
			t.Fatal(err)
		}
		june, _ := ParseMonth("2026-06")
		e.clock.Set(time.Date(2026, 7, 2, 0, 0, 0, 0, clock.China))
		r, err = e.svc.RateMonth(ctx, tn, june)
		if err != nil || r.PlanFeeFen != 1_500_000 || r.UsageFen != 0 {
			t.Fatalf("rate June: %+v %v", r, err)
		}
		// The scheduled run rates the month that just ended (June, already rated: nothing more)
		// and, a month on, July — once, however often it runs.
		before, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{})
		if failed := e.svc.RateEndedMonth(ctx); failed != 0 {
			t.Fatalf("RateEndedMonth: %d tenants failed", failed)
		}
		if b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{}); b.Charged != before.Charged {
			t.Fatalf("re-rating June by the scheduled run charged %d more", b.Charged-before.Charged)
		}
		e.clock.Set(time.Date(2026, 8, 1, 0, 30, 0, 0, clock.China))
		e.svc.RateEndedMonth(ctx)
		e.svc.RateEndedMonth(ctx)
		if b, _ := e.svc.FindBalance(ctx, tn.ID, time.Time{}); b.Charged != before.Charged+1_500_000 {
			t.Fatalf("July by the scheduled run: charged %d more, want the plan fee once", b.Charged-before.Charged)
		}
		if err := e.svc.PutPlan(ctx, &Plan{Code: "Bad Code", NameZH: "x"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad plan code: %v", err)
		}
		if err := e.svc.PutPlan(ctx, &Plan{Code: "pilot", NameZH: "试点", Meters: map[string]MeterPrice{MeterSMS: {Included: 10, UnitPriceFen: 3, UnitSize: 1}}}); err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.FindPlan(ctx, "pilot")
		if err != nil || p.Meters[MeterSMS].UnitPriceFen != 3 {
			t.Fatalf("pilot plan: %+v %v", p, err)
		}
	})
}
