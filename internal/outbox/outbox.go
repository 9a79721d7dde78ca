// Package outbox is the retry policy that the project's transactional outboxes share (billing's
// Stripe calls, platform/exchange's deliveries): how long a claimed row is leased to its worker,
// how long to wait after a failure (exponential backoff with jitter, capped) and when a row is
// dead and needs an operator. Each outbox keeps its own table and its own claim query; what they
// have in common is this arithmetic, so that every outbox backs off the same way.
package outbox

import (
	"math/rand/v2"
	"time"
)

// Row statuses every outbox uses.
const (
	Pending = "pending"
	Done    = "done"
	Dead    = "dead"
)

// Policy is an outbox's retry policy. The zero values of Base and MaxBackoff mean one second
// and one hour.
type Policy struct {
	// Lease is how long a claimed row belongs to the worker that claimed it: a worker that dies
	// leaves its rows to be claimed again after it.
	Lease time.Duration
	// MaxAttempts is how many failed attempts make a row dead; 0 never kills a row for its
	// attempts (only a permanent failure does).
	MaxAttempts int
	// Base is the wait after the first failure; each further failure doubles it.
	Base time.Duration
	// MaxBackoff caps the wait.
	MaxBackoff time.Duration
}

// Backoff is the wait after the attempts-th failure (attempts ≥ 1): d = Base·2^(attempts-1)
// capped at MaxBackoff, then drawn uniformly from [d/2, d], so that rows which failed together
// (an outage) do not all come back in the same instant.
func (p Policy) Backoff(attempts int) time.Duration {
	base, ceiling := p.Base, p.MaxBackoff
	if base <= 0 {
		base = time.Second
	}
	if ceiling <= 0 {
		ceiling = time.Hour
	}
	d := ceiling
	if n := max(attempts-1, 0); n < 40 && base<<n > 0 && base<<n < ceiling {
		d = base << n
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Dead reports whether a row whose attempts-th attempt failed is dead: the failure was permanent
// (retrying cannot fix it) or the row is out of attempts.
func (p Policy) Dead(attempts int, permanent bool) bool {
	return permanent || p.MaxAttempts > 0 && attempts >= p.MaxAttempts
}
