package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) load(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n++
		return v, nil
	}
}

func TestReusedUntilTTL(t *testing.T) {
	ctx := context.Background()
	c := New[string, string](10, 5*time.Second)
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }
	var n counter
	for range 3 {
		v, err := c.Get(ctx, "a", n.load("one"))
		if err != nil || v != "one" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if n.n != 1 {
		t.Fatalf("loaded %d times within the TTL, want 1", n.n)
	}
	now = now.Add(5 * time.Second)
	if v, _ := c.Get(ctx, "a", n.load("two")); v != "two" || n.n != 2 {
		t.Fatalf("after the TTL: %q after %d loads, want a reload", v, n.n)
	}
}

func TestForgetDropsAndRacingLoadIsNotKept(t *testing.T) {
	ctx := context.Background()
	c := New[string, string](10, time.Minute)
	var n counter
	c.Get(ctx, "a", n.load("old"))
	c.Forget("a")
	if v, _ := c.Get(ctx, "a", n.load("new")); v != "new" {
		t.Fatalf("after Forget: %q, want a reload", v)
	}
	// A load that started before a Forget returns its value but does not keep it.
	v, _ := c.Get(ctx, "b", func(context.Context) (string, error) {
		c.Forget("b") // the write commits while the read is under way
		return "stale", nil
	})
	if v != "stale" {
		t.Fatalf("the racing load returned %q", v)
	}
	if v, _ := c.Get(ctx, "b", n.load("fresh")); v != "fresh" {
		t.Fatalf("a value loaded before a Forget was kept: %q", v)
	}
}

func TestErrorsAndDisabled(t *testing.T) {
	ctx := context.Background()
	c := New[int, string](10, time.Minute)
	boom := errors.New("boom")
	if _, err := c.Get(ctx, 1, func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var n counter
	if v, _ := c.Get(ctx, 1, n.load("ok")); v != "ok" || n.n != 1 {
		t.Fatal("an error was cached")
	}
	off := New[int, string](10, 0)
	off.Get(ctx, 1, n.load("x"))
	off.Get(ctx, 1, n.load("x"))
	if n.n != 3 || off.Len() != 0 {
		t.Fatalf("a disabled cache kept a value (%d loads, %d held)", n.n, off.Len())
	}
}

func TestBounded(t *testing.T) {
	ctx := context.Background()
	c := New[int, int](3, time.Minute)
	for i := range 10 {
		c.Get(ctx, i, func(context.Context) (int, error) { return i, nil })
	}
	if c.Len() != 3 {
		t.Fatalf("held %d entries, want 3", c.Len())
	}
	c.Purge()
	if c.Len() != 0 {
		t.Fatal("Purge left entries")
	}
}
