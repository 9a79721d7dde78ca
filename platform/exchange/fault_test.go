package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/platformtest"
)

// TestFaultInjection is the upward connection against a receiver that fails: while the case
// loop keeps working (cases reported and walked on, a grid renamed again and again), two
// replicas of the delivery loop (Run, as the server runs it) push to a receiver that answers 503
// before applying, 502 after applying (the answer is lost), is too slow for the timeout, asks
// for some items to be sent again, answers concurrent batches out of order, and is stopped and
// started again twice. At the end, at the receiver: every case event was applied exactly once
// (its deduplication by idempotency key saw each key, and the set applied is the set of the
// history), each case's events in version order, the grid as it last stood; the outbox is
// empty, nothing is dead, and the delivery log has the failures.
func TestFaultInjection(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		rec.fault = func() fault {
			switch r := rec.rng.Float64(); {
			case r < 0.10:
				return fault{before: 503}
			case r < 0.17:
				return fault{after: 502}
			case r < 0.23:
				return fault{delay: 400 * time.Millisecond} // the client gives up at 150 ms
			case r < 0.30:
				return fault{perItem: 0.4}
			default:
				// Concurrent batches answered out of order.
				return fault{delay: time.Duration(rec.rng.IntN(60)) * time.Millisecond}
			}
		}
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{
			Retry: outbox.Policy{Lease: 3 * time.Second, MaxAttempts: 12, Base: 2 * time.Millisecond, MaxBackoff: 40 * time.Millisecond},
			Pause: outbox.Policy{Base: 5 * time.Millisecond, MaxBackoff: 80 * time.Millisecond},
			Log:   slog.New(slog.DiscardHandler),
		})
		w.put("province", srv.url(), exchange.DestinationInput{TimeoutMS: ptr(150), BatchSize: ptr(7), Concurrency: ptr(4)})

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var loops sync.WaitGroup
		kit := module.Kit{Store: e.Store, Log: slog.New(slog.DiscardHandler)}
		for range 2 {
			loops.Go(func() { w.ex.Run(ctx, kit, 20*time.Millisecond) })
		}

		// The case loop at work: 3 writers, each reporting 8 cases and walking each 5 steps,
		// interleaved; a grid renamed meanwhile.
		const writers, perWriter, steps = 3, 8, 5
		var work sync.WaitGroup
		for wr := range writers {
			work.Go(func() {
				var open []*exchangeCase
				for i := range perWriter {
					open = append(open, &exchangeCase{c: w.report()})
					for _, oc := range open {
						if oc.steps >= steps {
							continue
						}
						next, err := w.tryStep(oc.c)
						if err != nil {
							t.Errorf("writer %d, case %d: %v", wr, i, err)
							return
						}
						oc.c, oc.steps = next, oc.steps+1
					}
					time.Sleep(time.Duration(10+wr*7) * time.Millisecond)
				}
				for _, oc := range open {
					for ; oc.steps < steps; oc.steps++ {
						next, err := w.tryStep(oc.c)
						if err != nil {
							t.Errorf("writer %d: %v", wr, err)
							return
						}
						oc.c = next
					}
				}
			})
		}
		lastName := ""
		work.Go(func() {
			for i := range 6 {
				lastName = fmt.Sprintf("鹿城一号网格（第%d版）", i+1)
				if _, err := w.grids.RenameGrid(e.A, g1, lastName); err != nil {
					t.Errorf("rename: %v", err)
				}
				time.Sleep(40 * time.Millisecond)
			}
		})
		// The receiver goes down twice and comes back.
		work.Go(func() {
			for range 2 {
				time.Sleep(250 * time.Millisecond)
				srv.stop()
				time.Sleep(300 * time.Millisecond)
				srv.restart(t)
			}
		})
		work.Wait()
		if t.Failed() {
			return
		}

		events := w.events()
		want := writers * perWriter * (steps + 1)
		if len(events) != want {
			t.Fatalf("%d events in the history, want %d", len(events), want)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if n := caseEventKeys(rec); len(n) == len(events) && w.outboxCount("") == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 2 minutes: %d of %d events applied, %d rows in the outbox (%d dead)",
					len(caseEventKeys(rec)), len(events), w.outboxCount(""), w.outboxCount("dead"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		loops.Wait()

		// Exactly once: the set applied is the history, each key once.
		got := caseEventKeys(rec)
		if dup := len(got) - len(slices.Compact(slices.Clone(got))); dup != 0 {
			t.Fatalf("%d events applied twice", dup)
		}
		for i, id := range events {
			if got[i] != "532301/ce:"+id {
				t.Fatalf("applied %s where the history has %s", got[i], id)
			}
		}
		rec.checkOrder(t)
		// The grid as it last stood.
		var lastGrid received
		for _, it := range rec.items() {
			if it.Subject == "grid:"+g1 {
				lastGrid = it
			}
		}
		var g struct{ Name string }
		if err := json.Unmarshal(lastGrid.Data, &g); err != nil || g.Name != lastName {
			t.Fatalf("the receiver's grid %s is %q, want %q", g1, g.Name, lastName)
		}
		if n := w.outboxCount(outbox.Dead); n != 0 {
			t.Fatalf("%d items dead", n)
		}
		// The faults happened and the log kept them.
		log, err := w.ex.FindLog(e.A, "province", 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[int]int{}
		for _, l := range log {
			statuses[l.HTTPStatus]++
		}
		if statuses[0] == 0 || statuses[503] == 0 || statuses[502] == 0 || statuses[200] == 0 {
			t.Fatalf("the log's statuses: %v", statuses)
		}
		d, err := w.ex.FindDestinationByCode(e.A, "province")
		if err != nil {
			t.Fatal(err)
		}
		if d.DeliveredTotal < int64(len(events)) || d.Backlog.Pending != 0 {
			t.Fatalf("destination: delivered %d of %d events, %d pending", d.DeliveredTotal, len(events), d.Backlog.Pending)
		}
		rec.mu.Lock()
		batches, dupes := rec.batches, rec.dupes
		rec.mu.Unlock()
		t.Logf("%d events, %d batches received, %d duplicates deduplicated at the receiver, log statuses %v",
			len(events), batches, dupes, statuses)
	})
}

type exchangeCase struct {
	c     *cases.Case
	steps int
}

// caseEventKeys are the case events' keys the receiver applied, sorted.
func caseEventKeys(r *receiver) []string {
	var out []string
	for _, it := range r.items() {
		if it.Kind == exchange.KindCaseEvent {
			out = append(out, it.Key)
		}
	}
	slices.Sort(out)
	return out
}
