// Package tasks counts the goroutines a server starts while it runs (provisioning runs, lingering
// connection closes, group-commit writers), so that its shutdown can wait for them with a bound.
//
// A Group is a sync.WaitGroup that may be added to while someone waits, which a WaitGroup must not
// be once its count has dropped to zero; its Wait takes a context, and after Close it starts
// nothing new.
package tasks

import (
	"context"
	"sync"
	"time"
)

// Group counts the goroutines started by its Go. The zero Group is ready to use.
type Group struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when n drops to zero, for those waiting
}

// Go runs fn in a goroutine of its own and reports true, or reports false after Close.
func (g *Group) Go(fn func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	go func() {
		defer g.done()
		fn()
	}()
	return true
}

func (g *Group) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n--; g.n == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// Close makes Go refuse new goroutines.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Wait reports whether every goroutine started by Go has returned, waiting until ctx ends.
// A goroutine started while Wait waits is waited for too.
func (g *Group) Wait(ctx context.Context) bool {
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return true
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}

// Every runs pass at once and then every interval until ctx ends: the shape of the server's
// periodic jobs (rating, overdue marks, storage samples, the Stripe outbox). Each pass should
// recompute what it does from the database, so that a loop stopped anywhere loses nothing.
func Every(ctx context.Context, interval time.Duration, pass func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sleep waits d and reports whether ctx is still alive (false: it ended first).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
