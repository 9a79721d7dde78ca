package exchange_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// TestHotlineSubmitOnce: eight submissions of one work order at once make one case; the
// category picks its class (the default for any other); the outcome profile says "accepted"
// once for a case sent to verification twice; other cases' events and the grids are not even
// queued for it.
func TestHotlineSubmitOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause})
		h := exchange.NewHotline(exchange.HotlineConfig{Gate: e.Store, Cases: w.cs, Geocoder: w.grids})
		for cat, code := range map[string]string{exchange.DefaultCategory: "0101", "污水井盖": "0102"} {
			if err := h.PutClass(e.A, cat, catalog.Component, code); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.PutClass(e.A, "x", "building", "0101"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a kind that is not one: %v", err)
		}
		w.put("hotline", srv.url(), exchange.DestinationInput{Profile: ptr(exchange.ProfileHotline)})

		in := exchange.WorkOrderInput{Number: "GD-7", CitizenName: "王五", CitizenPhone: "13700000000", Description: "污水井盖破损",
			Category: "污水井盖", Lon: ptr(101.505), Lat: ptr(25.005)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids, created := map[string]bool{}, 0
		for range 8 {
			wg.Go(func() {
				wo, isNew, err := h.SubmitWorkOrder(w.staff, in)
				if errs.Is(err, errs.Conflict) { // the other submission is still making it
					return
				}
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[wo.CaseID] = true
				if isNew {
					created++
				}
			})
		}
		wg.Wait()
		var n int
		if err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT count(*) FROM cases WHERE source = 'hotline'").Scan(ctx, &n)
		}); err != nil {
			t.Fatal(err)
		}
		if n != 1 || created != 1 || len(ids) != 1 {
			t.Fatalf("%d cases, %d created, case ids %v", n, created, ids)
		}
		wo, isNew, err := h.SubmitWorkOrder(w.staff, in)
		if err != nil || isNew || !ids[wo.CaseID] || wo.ClassCode != "0102" {
			t.Fatalf("repeat: %+v %t %v", wo, isNew, err)
		}
		other := in
		other.Number, other.Category = "GD-8", "别的"
		if wo, _, err := h.SubmitWorkOrder(w.staff, other); err != nil || wo.ClassCode != "0101" {
			t.Fatalf("default class: %+v %v", wo, err)
		}
		// Tenant B has its own numbers (and no mapping).
		staffB := tenants.WithScope(w.staff, &tenants.Scope{Tenant: e.TenantB, Roles: []tenants.Role{tenants.Acceptor}})
		if _, _, err := h.SubmitWorkOrder(staffB, in); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "category" {
			t.Fatalf("B: %v", err)
		}

		// GD-7 goes round verification twice; a citizen's case and a grid change meanwhile.
		c, err := w.cs.FindCaseByID(w.staff, wo.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			c = w.step(c)
		}
		w.step(w.report())
		if _, err := w.grids.RenameGrid(e.A, g1, "改名"); err != nil {
			t.Fatal(err)
		}
		// The hotline's destination was queued only what it may send: the hotline cases' accept,
		// verify, void and close events — not their reports, not the citizen's case, not the grid.
		var outcomes int
		if err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
				WHERE c.source = 'hotline' AND e.action IN ('accept', 'verify', 'void', 'close')`).Scan(ctx, &outcomes)
		}); err != nil {
			t.Fatal(err)
		}
		if n := w.outboxCount(""); outcomes == 0 || n != outcomes {
			t.Fatalf("%d outbox rows for the hotline, want its %d possible outcomes", n, outcomes)
		}
		w.deliver()
		var got []string
		for _, it := range rec.items() {
			var o exchange.OutcomeV1
			if err := json.Unmarshal(it.Data, &o); err != nil {
				t.Fatal(err)
			}
			if it.Kind != exchange.KindOutcome {
				t.Fatalf("kind %s", it.Kind)
			}
			got = append(got, o.WorkOrder+":"+o.Outcome)
		}
		if len(got) != 1 || got[0] != "GD-7:"+exchange.OutcomeAccepted {
			t.Fatalf("outcomes %v", got)
		}
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("%d outbox rows left", n)
		}
		if c.State != cases.Accepted {
			t.Fatalf("state %s", c.State)
		}

		// The return visit: kept with the work order, audited; another tenant's number is unknown.
		got7, err := h.SetSatisfaction(w.staff, "GD-7", exchange.SatisfactionInput{Result: "satisfied", Comment: "很快"})
		if err != nil || got7.Satisfaction == nil || got7.Satisfaction.Result != "satisfied" {
			t.Fatalf("satisfaction: %+v %v", got7, err)
		}
		if _, err := h.SetSatisfaction(staffB, "GD-7", exchange.SatisfactionInput{Result: "satisfied"}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B rates A's: %v", err)
		}
		if es := e.MustAudit(t, e.TenantA, "exchange.hotline_class"); len(es) != 2 {
			t.Fatalf("class mapping audited %d times, want 2", len(es))
		}
		e.MustAuditedOnce(t, "exchange.hotline_satisfaction", "GD-7", `{"case_id":"`+wo.CaseID+`","result":"satisfied"}`)
	})
}
