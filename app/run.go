package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/cityops/cityops/tenants"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// A loop is one of the server's background jobs. run works until ctx ends and then returns;
// returning before that, with an error, nil or a panic, is a failure.
type loop struct {
	name string
	run  func(ctx context.Context) error
	// perReplica runs the loop on every replica (it works on this process's own things); the
	// others run once across the replicas, on the one holding the loop's lease.
	perReplica bool
}

// backgroundLoops are the loops Serve runs with the server. Each pass of each recomputes what it
// does from the database, so a loop stopped or restarted anywhere loses nothing.
func (a *App) backgroundLoops() []loop {
	ls := []loop{
		{name: "billing rating", run: func(ctx context.Context) error { a.billing.RunRating(ctx, time.Hour); return nil }},
		{name: "case overdue", run: func(ctx context.Context) error { a.runOverdue(ctx, time.Minute); return nil }},
		{name: "storage sample", run: func(ctx context.Context) error { a.runStorageSamples(ctx, storageInterval); return nil }},
		{name: "cache sync", perReplica: true, run: func(ctx context.Context) error { a.store.SyncCaches(ctx, tenants.CacheSyncInterval); return nil }},
	}
	if a.billing.Online() {
		ls = append(ls, loop{name: "stripe outbox", run: func(ctx context.Context) error { a.billing.RunOutbox(ctx, 2*time.Second); return nil }})
	}
	return append(ls, a.modules.loops()...)
}

// Restart backoff of a failed loop: it doubles from minLoopBackoff up to maxLoopBackoff, and
// starts again from the bottom after a run that lasted longer than maxLoopBackoff.
const (
	minLoopBackoff = time.Second
	maxLoopBackoff = time.Minute
)

// cutWait bounds how long shutdown waits, past its grace, for work it has just cancelled (the
// loops, provisioning cut at the bound) to return, and how long Close waits for what is left.
const cutWait = 2 * time.Second

// runner runs the server's loops from Serve's start to its shutdown. A loop that fails is logged
// and started again after a backoff rather than stopping the process: the loops are periodic
// passes over the database, so a restart loses nothing, and a failing background job (rating,
// overdue marks, the Stripe outbox) should not take the HTTP service down with it. A loop keeps
// failing loudly, at error level, at least once a minute.
type runner struct {
	log        *slog.Logger
	minBackoff time.Duration
	cancel     context.CancelFunc
	wg         sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
}

// startLoops starts every loop under a context of its own that stop cancels.
func startLoops(ctx context.Context, log *slog.Logger, loops []loop) *runner {
	r := newRunner(log)
	r.start(ctx, loops)
	return r
}

func newRunner(log *slog.Logger) *runner {
	return &runner{log: log, minBackoff: minLoopBackoff, running: map[string]bool{}}
}

func (r *runner) start(ctx context.Context, loops []loop) {
	ctx, r.cancel = context.WithCancel(ctx)
	for _, l := range loops {
		r.mu.Lock()
		r.running[l.name] = true
		r.mu.Unlock()
		r.wg.Go(func() {
			defer func() {
				r.mu.Lock()
				delete(r.running, l.name)
				r.mu.Unlock()
			}()
			r.keep(ctx, l)
		})
	}
}

// keep runs l until ctx ends, restarting it after a backoff when it fails.
func (r *runner) keep(ctx context.Context, l loop) {
	backoff := r.minBackoff
	for {
		began := time.Now()
		err := runOnce(ctx, l)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("returned before shutdown")
		}
		if time.Since(began) > maxLoopBackoff {
			backoff = r.minBackoff
		}
		r.log.Error("background loop failed; restarting it", "loop", l.name, "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxLoopBackoff)
	}
}

// runOnce runs l, turning a panic into an error with its stack.
func runOnce(ctx context.Context, l loop) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return l.run(ctx)
}

// stop cancels the loops and waits for every one to return, until ctx ends; then it reports
// those still running.
func (r *runner) stop(ctx context.Context) error {
	r.cancel()
	if !waitFor(ctx, r.wg.Wait) {
		return fmt.Errorf("background loops still running at the end of the shutdown grace: %v", r.active())
	}
	return nil
}

// active returns the names of the loops that have not returned, sorted.
func (r *runner) active() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for n := range r.running {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// waitFor calls wait and reports whether it returned before ctx ended. When ctx ends first, the
// goroutine calling wait is left to end with what it waits for.
func waitFor(ctx context.Context, wait func()) bool {
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	}
	select {
	case <-done: // both were ready
		return true
	default:
		return false
	}
}
