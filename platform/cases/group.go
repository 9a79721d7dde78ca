package cases

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// GroupGate is a gate that can commit several tenants' writes in one transaction
// (tenants.Store on PostgreSQL).
type GroupGate interface {
	CanGroup() bool
	TxEach(ctx context.Context, parts []tenants.Part) error
}

// Group commit: reports that arrive while earlier ones are being written wait, and are written
// together in one transaction, each as its own tenant (tenants.Store.TxEach): one commit and a
// few round trips for the lot instead of a transaction each. Under load this is what lets case
// creation keep up with the database's insert rate. At most groupWriters transactions are in
// flight; a report arriving when one is free is written at once, alone, so there is no waiting
// window and no added latency without load.
const (
	groupWriters = 8  // concurrent group transactions
	groupMax     = 64 // reports per transaction
	// groupTimeout bounds a group transaction; the reports of a group that times out are tried
	// one by one, each within its own request's deadline.
	groupTimeout = 30 * time.Second
)

type group struct {
	s     *Service
	multi GroupGate
	// writers are the shards' loops, for Service.Wait.
	writers tasks.Group
	shards  [groupWriters]shard
}

// shard is one writer's queue. A tenant's reports always go to the same shard: its counter row
// is locked by one group transaction at a time, and groups in different shards never wait for
// each other's locks.
type shard struct {
	mu      sync.Mutex
	pending []*groupItem
	running bool
}

type groupItem struct {
	r    *report
	done chan error
}

func newGroup(s *Service, g Gate) *group {
	gr := &group{s: s}
	if m, ok := g.(GroupGate); ok && m.CanGroup() {
		gr.multi = m
	}
	return gr
}

// alone writes one report in a transaction of its own.
func (g *group) alone(r *report) error {
	return g.s.gate.Tx(r.ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := g.s.prepare(ctx, db, r); err != nil {
			return err
		}
		return insertReports(ctx, db, r.a.scope.Tenant, []*report{r})
	})
}

// write writes r, grouped with other reports when the gate allows it.
func (g *group) write(r *report) error {
	if g.multi == nil {
		return g.alone(r)
	}
	it := &groupItem{r: r, done: make(chan error, 1)}
	id := r.a.scope.Tenant.ID
	sh := &g.shards[int(binary.BigEndian.Uint32(id[12:]))%groupWriters]
	sh.mu.Lock()
	sh.pending = append(sh.pending, it)
	if !sh.running {
		sh.running = true
		g.writers.Go(func() { g.loop(sh) })
	}
	sh.mu.Unlock()
	return <-it.done // not the request's Done: once queued, the report may be committed
}

// loop writes pending reports, a group at a time, until none are left. A writer lives only
// while a report waits for it (its caller waits for the answer), so once no request is running
// the writers end; Wait waits for the last ones.
func (g *group) loop(sh *shard) {
	for {
		sh.mu.Lock()
		n := min(len(sh.pending), groupMax)
		if n == 0 {
			sh.running = false
			sh.mu.Unlock()
			return
		}
		batch := make([]*groupItem, n)
		copy(batch, sh.pending)
		sh.pending = append(sh.pending[:0], sh.pending[n:]...)
		sh.mu.Unlock()
		g.flush(batch)
	}
}

func (g *group) flush(batch []*groupItem) {
	live := batch[:0]
	for _, it := range batch {
		if err := it.r.ctx.Err(); err != nil {
			it.done <- err // given up before it was written
			continue
		}
		if _, _, err := tenants.Admit(it.r.ctx, tenants.Write); err != nil {
			it.done <- err // a tenant suspended meanwhile, a read-only scope
			continue
		}
		live = append(live, it)
	}
	if len(live) == 1 {
		live[0].done <- g.alone(live[0].r)
		return
	}
	if len(live) == 0 {
		return
	}
	// One transaction reaches one database cluster (tenants placed on several): the reports are
	// grouped per cluster, each group committed on its own.
	byCluster := map[string][]*groupItem{}
	for _, it := range live {
		c := it.r.a.scope.Tenant.Cluster
		byCluster[c] = append(byCluster[c], it)
	}
	if len(byCluster) > 1 {
		var wg sync.WaitGroup
		for _, b := range byCluster {
			wg.Go(func() { g.flush(b) })
		}
		wg.Wait()
		return
	}
	// One part per tenant: its reports prepared, then inserted together.
	var parts []tenants.Part
	byTenant := map[uuid.UUID]int{}
	var groups [][]*report
	for _, it := range live {
		t := it.r.a.scope.Tenant
		i, ok := byTenant[t.ID]
		if !ok {
			i = len(groups)
			byTenant[t.ID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], it.r)
	}
	done := 0 // parts that ran to the end; all of them means the failure, if any, was the commit
	for _, rs := range groups {
		parts = append(parts, tenants.Part{Ctx: rs[0].ctx, Fn: func(ctx context.Context, db bun.IDB) error {
			for _, r := range rs {
				if err := g.s.prepare(context.WithoutCancel(r.ctx), db, r); err != nil {
					return err
				}
			}
			if err := insertReports(ctx, db, rs[0].a.scope.Tenant, rs); err != nil {
				return err
			}
			done++
			return nil
		}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	err := g.multi.TxEach(ctx, parts)
	if err == nil || done == len(parts) {
		// Committed, or the commit itself failed: then whether it took effect is unknown, and
		// writing the reports again could store them twice, so each caller gets the error, as a
		// single report's caller would.
		for _, it := range live {
			it.done <- err
		}
		return
	}
	// Something failed before the commit (a bad report, a conflict, entering a tenant) and the
	// group was rolled back: nothing was written. Each report is written alone, so that it gets
	// its own answer.
	var wg sync.WaitGroup
	for _, it := range live {
		wg.Go(func() { it.done <- g.alone(it.r) })
	}
	wg.Wait()
}

// Wait reports whether no report is being written any more, waiting until ctx ends: the group
// writers start with a report and end when their queue is empty. The server calls it once its
// requests have drained, before the database closes.
func (s *Service) Wait(ctx context.Context) bool { return s.group.writers.Wait(ctx) }
