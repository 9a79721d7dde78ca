package exchange_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

func ptr[T any](v T) *T { return &v }

// TestChangesEnterTheOutboxWithThem: a case's events, grid and component changes enter the
// outbox of every destination in the transaction that makes them, and a change that fails
// leaves nothing behind.
func TestChangesEnterTheOutboxWithThem(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, exchange.Config{})
		before := w.report() // before any destination: owed to none
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox before any destination: %d rows", n)
		}
		w.put("province", "http://127.0.0.1:1/x", exchange.DestinationInput{})
		w.put("nation", "http://127.0.0.1:1/y", exchange.DestinationInput{})
		c := w.report()
		c = w.step(c)
		w.step(before)
		if n := w.outboxCount(""); n != 6 {
			t.Fatalf("outbox after 3 events for 2 destinations: %d rows, want 6", n)
		}
		// A stale action fails: its event is not written, nor its outbox row.
		if _, err := w.cs.Act(w.staff, c.ID, cases.Verify, cases.ActionInput{Version: 1}); err == nil {
			t.Fatal("a stale action went through")
		}
		if n := w.outboxCount(""); n != 6 {
			t.Fatalf("outbox after a failed action: %d rows, want 6", n)
		}
		// A grid renamed twice before delivery is owed once per destination (its state is read
		// when it is sent).
		for _, name := range []string{"一号", "一号网格"} {
			if _, err := w.grids.RenameGrid(e.A, g1, name); err != nil {
				t.Fatal(err)
			}
		}
		var kinds []string
		if err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT kind FROM exchange_outbox ORDER BY id").Scan(ctx, &kinds)
		}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(kinds, ","); got != "case_event,case_event,case_event,case_event,case_event,case_event,grid,grid" {
			t.Fatalf("outbox kinds: %s", got)
		}
		// B's outbox is B's: nothing of A's is in it.
		var nb int
		if err := e.Store.Tx(e.B, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT count(*) FROM exchange_outbox").Scan(ctx, &nb)
		}); err != nil || nb != 0 {
			t.Fatalf("B's outbox: %d rows (%v)", nb, err)
		}
	})
}

// TestDeliverSendsProfileV1InOrder: delivered items carry profile v1 with the case and its
// event (and no citizen's personal data), each key once, every case in version order; the
// outbox ends empty, the log and the destination's figures say so.
func TestDeliverSendsProfileV1InOrder(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause})
		w.put("province", srv.url(), exchange.DestinationInput{Token: ptr("s3cret-token-value"), BatchSize: ptr(3)})
		for range 4 {
			c := w.report()
			for range 3 {
				c = w.step(c)
			}
		}
		st := w.deliver()
		// 16 events (the grids were imported before the destination was made); at most one
		// event of a case per batch.
		if st.Delivered != 16 || st.Failed != 0 || st.Batches < 6 {
			t.Fatalf("stats %+v", st)
		}
		events := w.events()
		var got []string
		for _, it := range rec.items() {
			if it.Kind == exchange.KindCaseEvent {
				got = append(got, strings.TrimPrefix(it.Key, "532301/ce:"))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, events) {
			t.Fatalf("applied %d events, want the %d of the history", len(got), len(events))
		}
		rec.checkOrder(t)
		if rec.dupes != 0 {
			t.Fatalf("%d duplicates without any fault", rec.dupes)
		}
		for _, a := range rec.auth {
			if a != "Bearer s3cret-token-value" {
				t.Fatalf("Authorization %q", a)
			}
		}
		// The payload: the case and its event, after profile v1; no reporter.
		it := rec.items()[0]
		var data struct {
			Case  map[string]any
			Event map[string]any
		}
		if err := json.Unmarshal(it.Data, &data); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"number", "kind", "class_code", "major_code", "source", "state", "lon", "lat", "grid_code", "reported_at", "admin_code"} {
			if _, ok := data.Case[k]; !ok {
				t.Fatalf("case lacks %s: %s", k, it.Data)
			}
		}
		for _, k := range []string{"id", "version", "action", "from", "to", "post", "at"} {
			if _, ok := data.Event[k]; !ok {
				t.Fatalf("event lacks %s: %s", k, it.Data)
			}
		}
		raw := string(it.Data)
		for _, personal := range []string{"张三", "13800000000", "reporter", "staff@test.cn"} {
			if strings.Contains(raw, personal) {
				t.Fatalf("the payload carries %q: %s", personal, raw)
			}
		}
		if data.Case["grid_code"] != g1 || data.Event["action"] != "report" {
			t.Fatalf("first item: %s", raw)
		}
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox after delivery: %d rows", n)
		}
		ds, err := w.ex.FindDestinations(e.A)
		if err != nil {
			t.Fatal(err)
		}
		d := ds[0]
		if d.DeliveredTotal != int64(len(events)) || d.LastSuccessAt == nil || d.Backlog.Pending != 0 || d.Health() != "ok" {
			t.Fatalf("destination after delivery: %+v %+v", d, d.Backlog)
		}
		if d.Credential == nil || d.Credential.Last4 != "alue" {
			t.Fatalf("credential description: %+v", d.Credential)
		}
		js, _ := json.Marshal(ds)
		if strings.Contains(string(js), "s3cret") {
			t.Fatalf("the destination's JSON carries its credential: %s", js)
		}
		log, err := w.ex.FindLog(e.A, "province", 0, 100)
		if err != nil || len(log) == 0 || log[0].HTTPStatus != 200 {
			t.Fatalf("log: %+v %v", log, err)
		}
	})
}
