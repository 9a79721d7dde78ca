package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cityops/cityops/internal/tasks"
)

// leaser takes, renews and gives up named leases (tenants.Store on the control database).
type leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// leaseTiming is how a loop's lease is held: it lasts ttl, its holder renews it every renew, and
// a replica without it asks again every poll.
type leaseTiming struct {
	ttl, renew, poll time.Duration
}

var defaultLeaseTiming = leaseTiming{ttl: 30 * time.Second, renew: 10 * time.Second, poll: 10 * time.Second}

// newHolder names this process among the replicas: host, pid and a random part (a restarted
// process is a new holder).
func newHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// leased returns the loops as the runner runs them: a loop that runs once across the replicas
// runs only while this replica holds its lease "loop:<name>"; a per-replica loop as it is.
func leased(loops []loop, ls leaser, holder string, t leaseTiming, log *slog.Logger) []loop {
	out := make([]loop, len(loops))
	for i, l := range loops {
		out[i] = l
		if l.perReplica || ls == nil {
			continue
		}
		out[i].run = func(ctx context.Context) error { return holdLease(ctx, ls, "loop:"+l.name, holder, l, t, log) }
	}
	return out
}

// holdLease runs l while holding the lease name: it waits for the lease (asking every t.poll),
// runs l under a context of its own, renews the lease every t.renew, and cancels l when the lease
// is lost (another replica took it after a renewal failed for too long) and waits for the lease
// again. When ctx ends it cancels l, waits for it and gives the lease up, so that another
// replica takes the loop over at once. An error of l's ends holdLease with it (the runner
// restarts it after a backoff).
func holdLease(ctx context.Context, ls leaser, name, holder string, l loop, t leaseTiming, log *slog.Logger) error {
	for {
		ok, err := ls.TryLease(ctx, name, holder, t.ttl)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lease %s: %w", name, err)
		}
		if !ok {
			if !tasks.Sleep(ctx, t.poll) {
				return nil
			}
			continue
		}
		log.Info("background loop runs here (lease taken)", "loop", l.name)
		heldUntil := time.Now().Add(t.ttl)
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- runOnce(lctx, l) }()
		tick := time.NewTicker(t.renew)
		lost := false
		for !lost {
			select {
			case err := <-done:
				tick.Stop()
				cancel()
				release(ls, name, holder, log)
				if ctx.Err() != nil {
					return nil
				}
				if err == nil {
					err = errors.New("returned before shutdown")
				}
				return err
			case <-tick.C:
				ok, err := ls.TryLease(ctx, name, holder, t.ttl)
				switch {
				case ctx.Err() != nil:
				case err == nil && ok:
					heldUntil = time.Now().Add(t.ttl)
				case err == nil && !ok:
					log.Warn("background loop lease lost to another replica; stopping it here", "loop", l.name)
					lost = true
				case time.Until(heldUntil) < t.renew:
					log.Error("background loop lease cannot be renewed before it expires; stopping it here", "loop", l.name, "err", err)
					lost = true
				default:
					log.Warn("background loop lease not renewed; trying again", "loop", l.name, "err", err)
				}
			}
		}
		tick.Stop()
		cancel()
		<-done
	}
}

// release gives the lease up after the loop stopped, bounded in time (the database may be going).
func release(ls leaser, name, holder string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if err := ls.ReleaseLease(ctx, name, holder); err != nil {
		log.Warn("background loop lease not released; it expires on its own", "lease", name, "err", err)
	}
}
