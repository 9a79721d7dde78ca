package app

import (
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

var _ fiber.Storage = (*limitStore)(nil)

// limitStore keeps the counts of a fiber rate limiter in memory. fiber's default storage does the
// same with a collector goroutine per limiter that nothing can stop, so every App would leave
// goroutines behind; here expired counts are dropped on the first write after a minute instead.
type limitStore struct {
	mu    sync.Mutex
	items map[string]limitItem
	swept time.Time
}

type limitItem struct {
	val []byte
	exp time.Time // zero: never
}

func newLimitStore() *limitStore { return &limitStore{items: map[string]limitItem{}} }

func (it limitItem) expired(now time.Time) bool { return !it.exp.IsZero() && !now.Before(it.exp) }

// Get returns the value of key, nil if there is none or it has expired.
func (s *limitStore) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok || it.expired(time.Now()) {
		return nil, nil
	}
	return it.val, nil
}

// Set stores a copy of val under key for exp (zero: for good).
func (s *limitStore) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		for k, it := range s.items {
			if it.expired(now) {
				delete(s.items, k)
			}
		}
		s.swept = now
	}
	it := limitItem{val: append([]byte(nil), val...)}
	if exp > 0 {
		it.exp = now.Add(exp)
	}
	s.items[strings.Clone(key)] = it // a store keeps no caller string (app/edge.go)
	return nil
}

// Delete removes key.
func (s *limitStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, key)
	return nil
}

// Reset removes every key.
func (s *limitStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.items)
	return nil
}

// Close does nothing: there is nothing running to stop.
func (s *limitStore) Close() error { return nil }
