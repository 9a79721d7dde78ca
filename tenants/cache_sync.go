package tenants

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// What a cache invalidation names.
const (
	invalidTenants  = "tenants"  // every cached tenant (a tenant was provisioned, suspended, …)
	invalidSession  = "session"  // a session, by its hash
	invalidToken    = "token"    // an API token, by its id
	invalidIdentity = "identity" // every principal of an identity, by its id
)

// How the caches are kept in step across replicas: each replica reads the invalidations of the
// last syncWindow every CacheSyncInterval (a row committed late is still inside the window: the
// ids of concurrent transactions need not commit in their order), and rows older than syncKeep
// go.
const (
	CacheSyncInterval = 500 * time.Millisecond
	syncWindow        = 5 * time.Second
	syncKeep          = 10 * time.Minute
)

// invalidate drops what kind and key name from this replica's caches and records it for the
// other replicas. It runs after the change has committed (deferred by the writers), so that no
// lookup re-caches the old row; a failure to record it is logged, and the other replicas then
// catch up within their caches' time to live.
func (s *Store) invalidate(ctx context.Context, kind, key string) {
	s.dropCached(kind, key)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.db.NewRaw("INSERT INTO control.cache_invalidations (kind, key, at) VALUES (?, ?, ?)",
		kind, key, time.Now().UnixMilli()).Exec(ctx); err != nil {
		s.log.Warn("cache invalidation not recorded; other replicas catch up when their entries expire", "kind", kind, "err", err)
	}
}

// dropCached drops what kind and key name from this replica's caches.
func (s *Store) dropCached(kind, key string) {
	switch kind {
	case invalidTenants:
		s.tenants.clear()
	case invalidSession:
		s.principals.forget("s:" + key)
	case invalidToken:
		if id, err := uuid.Parse(key); err == nil {
			s.principals.forgetToken(id)
		}
	case invalidIdentity:
		if id, err := uuid.Parse(key); err == nil {
			s.principals.forgetIdentity(id)
		}
	}
}

// SyncCaches keeps this replica's caches in step with the changes other replicas make, until
// ctx ends: every interval it reads the invalidations of the last syncWindow and drops the
// entries of those it has not applied yet (by id: a row committed late, with a lower id than
// one already read, is still taken), and deletes old rows now and then.
func (s *Store) SyncCaches(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := map[int64]int64{} // id → at, of the rows applied that are still inside the window
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		from := now.Add(-syncWindow).UnixMilli()
		var rows []struct {
			ID   int64  `bun:"id"`
			Kind string `bun:"kind"`
			Key  string `bun:"key"`
			At   int64  `bun:"at"`
		}
		if err := s.db.NewRaw("SELECT id, kind, key, at FROM control.cache_invalidations WHERE at >= ?", from).Scan(ctx, &rows); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("cache sync: reading invalidations", "err", err)
			}
			continue
		}
		for _, r := range rows {
			if _, ok := seen[r.ID]; !ok {
				seen[r.ID] = r.At
				s.dropCached(r.Kind, r.Key)
			}
		}
		for id, at := range seen {
			if at < from {
				delete(seen, id)
			}
		}
		if now.Sub(lastPrune) > time.Minute {
			lastPrune = now
			if _, err := s.db.NewRaw("DELETE FROM control.cache_invalidations WHERE at < ?", now.Add(-syncKeep).UnixMilli()).Exec(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("cache sync: deleting old invalidations", "err", err)
			}
		}
	}
}
