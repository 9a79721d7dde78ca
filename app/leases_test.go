package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestLoopsRunOnceAcrossReplicas: three replicas on one database run a loop once between them:
// one holds its lease and runs it; when that replica stops, another takes over at once; when
// the lease is taken from its holder (it could not renew in time), the holder stops the loop;
// a per-replica loop runs on all three.
func TestLoopsRunOnceAcrossReplicas(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			a, _, _ := MustBootApp(t, dialect)
			timing := leaseTiming{ttl: 800 * time.Millisecond, renew: 150 * time.Millisecond, poll: 50 * time.Millisecond}
			log := slog.New(slog.DiscardHandler)
			var mu sync.Mutex
			running, ran, everywhere := map[string]bool{}, map[string]int{}, map[string]bool{}
			overlap := false
			once := func(holder string) loop {
				return loop{name: "overdue drill", run: func(ctx context.Context) error {
					mu.Lock()
					if len(running) > 0 {
						overlap = true
					}
					running[holder] = true
					ran[holder]++
					mu.Unlock()
					<-ctx.Done()
					mu.Lock()
					delete(running, holder)
					mu.Unlock()
					return nil
				}}
			}
			local := func(holder string) loop {
				return loop{name: "local drill", perReplica: true, run: func(ctx context.Context) error {
					mu.Lock()
					everywhere[holder] = true
					mu.Unlock()
					<-ctx.Done()
					return nil
				}}
			}
			var runners []*runner
			var holders []string
			for i := range 3 {
				h := fmt.Sprintf("replica-%d", i)
				holders = append(holders, h)
				runners = append(runners, startLoops(context.Background(), log, leased([]loop{once(h), local(h)}, a.store, h, timing, log)))
			}
			stop := func(r *runner) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := r.stop(ctx); err != nil {
					t.Error(err)
				}
			}
			defer func() {
				for _, r := range runners {
					if r != nil {
						stop(r)
					}
				}
			}()
			// runner returns the one replica running the loop, once it has run steadily for d.
			runner := func(d time.Duration) string {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					mu.Lock()
					var on []string
					for h := range running {
						on = append(on, h)
					}
					mu.Unlock()
					if len(on) == 1 {
						time.Sleep(d)
						mu.Lock()
						still := running[on[0]] && len(running) == 1
						mu.Unlock()
						if still {
							return on[0]
						}
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Fatalf("no single replica runs the loop: %v", running)
				return ""
			}
			first := runner(4 * timing.renew) // several renewals: nobody else takes it
			mu.Lock()
			if len(ran) != 1 || len(everywhere) != 3 {
				t.Fatalf("ran %v, per-replica loop ran on %v", ran, everywhere)
			}
			mu.Unlock()

			// The holder stops: another replica takes over, well before the lease would expire.
			i := slices.Index(holders, first)
			began := time.Now()
			stop(runners[i])
			runners[i] = nil
			second := runner(0)
			if second == first || time.Since(began) > timing.ttl {
				t.Fatalf("after %s stopped, %s runs it, %s later", first, second, time.Since(began))
			}

			// Another holder takes the lease (as if the second could not renew it in time): the
			// second stops the loop at its next renewal; once the taken lease expires unrenewed,
			// a replica runs the loop again.
			if _, err := a.store.DB().ExecContext(context.Background(), "UPDATE control.leases SET holder = 'elsewhere' WHERE name = 'loop:overdue drill'"); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				mu.Lock()
				n := len(running)
				mu.Unlock()
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the loop still runs after its lease was taken")
				}
				time.Sleep(10 * time.Millisecond)
			}
			runner(0)
			mu.Lock()
			defer mu.Unlock()
			if overlap {
				t.Fatal("two replicas ran the loop at once")
			}
		})
	}
}
