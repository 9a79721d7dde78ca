// Package cache keeps values read from the database for a few seconds, for the hot paths that
// would otherwise read the same rows on every request (a tenant's key set, grid index, catalog
// entries, work rules).
//
// A Cache is a bounded LRU whose entries expire after a TTL. Writers call Forget after their
// change commits; a value loaded before a Forget is not kept, so a reader racing a write never
// re-caches what the write replaced. Other processes' writes are seen within the TTL: that is the
// contract every user of this package documents.
package cache

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache maps keys to values loaded on demand and reused for a TTL.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time

	mu  sync.Mutex
	lru *lru.Cache[K, entry[V]]
	gen uint64 // counts Forget and Purge calls
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New returns a cache of at most size entries, each reused for ttl. A ttl of zero or less
// disables caching: every Get loads.
func New[K comparable, V any](size int, ttl time.Duration) *Cache[K, V] {
	l, err := lru.New[K, entry[V]](max(size, 1))
	if err != nil {
		panic(err) // only for a size below one, which max rules out
	}
	return &Cache[K, V]{ttl: ttl, now: time.Now, lru: l}
}

// Get returns the value for key, calling load when it is missing or older than the TTL. Errors
// from load are returned and not cached.
func (c *Cache[K, V]) Get(ctx context.Context, key K, load func(ctx context.Context) (V, error)) (V, error) {
	if c.ttl <= 0 {
		return load(ctx)
	}
	c.mu.Lock()
	e, ok := c.lru.Get(key)
	gen := c.gen
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if gen == c.gen {
		c.lru.Add(key, entry[V]{v: v, at: c.now()})
	}
	c.mu.Unlock()
	return v, nil
}

// Forget drops key; call it after a change to what key caches has committed.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.lru.Remove(key)
}

// Purge drops every entry.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.lru.Purge()
}

// Len is the number of entries held, fresh or not.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
