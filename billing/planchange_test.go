package billing

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
)

// TestPlanChanges: a plan change is history with an effective month. Rating a month uses the plan
// in effect at its start; a scheduled change takes effect when its month comes; a retried request
// records nothing new; past and rated months cannot be changed; bad input is invalid.
func TestPlanChanges(t *testing.T) {
	eachDialect(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		tn := mustTenant(t, e, "chuxiong", "532301")
		other := mustTenant(t, e, "wuding", "532329")
		// 2026-05-14: standard from July, scheduled.
		c, err := e.svc.ChangePlan(ctx, tn, PlanChangeRequest{Plan: "standard", Effective: "2026-07", Memo: "合同第2期"})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || !c.Recorded || c.FromPlan != "starter" || c.ToPlan != "standard" || c.Month() != "2026-07" || c.Stripe != "" {
			t.Fatalf("change: %+v", c)
		}
		// Retried: nothing new.
		again, err := e.svc.ChangePlan(ctx, tn, PlanChangeRequest{Plan: "standard", Effective: "2026-07", Memo: "合同第2期"})
		if err != nil || again.ID != c.ID || again.Recorded {
			t.Fatalf("retried change: %+v %v", again, err)
		}
		if ent, _ := e.svc.FindEntitlements(ctx, tn); ent.Plan.Code != "starter" {
			t.Fatalf("before July the plan is %s, want starter", ent.Plan.Code)
		}
		// The default effective month is the next one.
		c2, err := e.svc.ChangePlan(ctx, other, PlanChangeRequest{Plan: "prefecture"})
		if err != nil || c2.Month() != "2026-06" {
			t.Fatalf("default effective month: %+v %v", c2, err)
		}
		for _, bad := range []struct {
			r     PlanChangeRequest
			field string
		}{
			{PlanChangeRequest{Plan: "gold", Effective: "2026-08"}, "plan"},
			{PlanChangeRequest{Plan: "standard", Effective: "July"}, "effective"},
			{PlanChangeRequest{Plan: "standard", Effective: "2026-04"}, "effective"},
			{PlanChangeRequest{Plan: "standard", Effective: "2099-01"}, "effective"},
		} {
			if _, err := e.svc.ChangePlan(ctx, tn, bad.r); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != bad.field {
				t.Errorf("%+v: %v, want invalid %s", bad.r, err, bad.field)
			}
		}
		// May and June are rated at starter (no fee), July at standard.
		e.clock.Set(time.Date(2026, 7, 1, 0, 10, 0, 0, clock.China))
		if failed := e.svc.RateEndedMonth(ctx); failed != 0 {
			t.Fatal("rating failed")
		}
		june, _ := ParseMonth("2026-06")
		r, err := e.svc.RateMonth(ctx, tn, june)
		if err != nil || r.PlanFeeFen != 0 {
			t.Fatalf("June: %+v %v", r, err)
		}
		ts, _ := e.store.FindTenants(ctx, tenants.TenantFilter{})
		for _, x := range ts {
			if x.ID == tn.ID && x.Plan != "standard" {
				t.Fatalf("control.tenants.plan after the change fell due: %s", x.Plan)
			}
		}
		// A change for June now (rated) is refused; for the current month (not rated) it is allowed.
		if _, err := e.svc.ChangePlan(ctx, tn, PlanChangeRequest{Plan: "prefecture", Effective: "2026-06"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("past month: %v", err)
		}
		e.clock.Set(time.Date(2026, 8, 1, 1, 0, 0, 0, clock.China))
		july, _ := ParseMonth("2026-07")
		r, err = e.svc.RateMonth(ctx, tn, july)
		if err != nil || r.PlanFeeFen != 1_500_000 {
			t.Fatalf("July at standard: %+v %v", r, err)
		}
		// August rated early (mid-month, by an operator): August can no longer change.
		aug, _ := ParseMonth("2026-08")
		e.clock.Set(time.Date(2026, 8, 15, 1, 0, 0, 0, clock.China))
		if _, err := e.svc.RateMonth(ctx, tn, aug); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ChangePlan(ctx, tn, PlanChangeRequest{Plan: "starter", Effective: "2026-08"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("rated month: %v", err)
		}
		// SetPlan then means the month being rated next: September.
		if _, err := e.svc.SetPlan(ctx, tn, "starter", nil); err != nil {
			t.Fatal(err)
		}
		cs, err := e.svc.FindPlanChanges(ctx, tn.ID)
		if err != nil || len(cs) != 2 || cs[1].Month() != "2026-09" || cs[1].FromPlan != "standard" || cs[1].ToPlan != "starter" {
			t.Fatalf("history: %+v %v", cs, err)
		}
		if ent, _ := e.svc.FindEntitlements(ctx, tn); ent.Plan.Code != "standard" {
			t.Fatalf("in August the plan is %s, want standard", ent.Plan.Code)
		}
		// The year's statement names the plan in effect and the changes of the year.
		st, err := e.svc.FindStatement(ctx, tn, 2026)
		if err != nil || st.Plan != "standard" || len(st.PlanChanges) != 2 {
			t.Fatalf("statement: plan %q, changes %d, %v", st.Plan, len(st.PlanChanges), err)
		}
		// Offline, subscribing conflicts with how the deployment is set up (no Stripe): a 409.
		if err := e.svc.Subscribe(ctx, tn); !errs.Is(err, errs.Conflict) {
			t.Fatalf("offline subscribe: %v", err)
		}
	})
}

func TestItemChanges(t *testing.T) {
	have := []SubscriptionItem{{ID: "si_cases", PriceID: "price_a_cases", MeterID: "m_cases"}, {ID: "si_sms", PriceID: "price_a_sms", MeterID: "m_sms"},
		{ID: "si_old", PriceID: "price_x", MeterID: "m_gone"}}
	want := []SubscriptionItem{{PriceID: "price_b_cases", MeterID: "m_cases"}, {PriceID: "price_b_sms", MeterID: "m_sms"}, {PriceID: "price_b_api", MeterID: "m_api"}}
	got := itemChanges(have, want)
	exp := []SubscriptionItemChange{{ID: "si_cases", PriceID: "price_b_cases"}, {ID: "si_sms", PriceID: "price_b_sms"}, {PriceID: "price_b_api"}, {ID: "si_old", Deleted: true}}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("got %+v, want %+v", got, exp)
	}
	if got := itemChanges(nil, nil); len(got) != 0 {
		t.Fatalf("nothing to nothing: %+v", got)
	}
}
