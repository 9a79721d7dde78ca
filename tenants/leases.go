package tenants

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// TryLease takes or renews the lease name for holder for ttl and reports whether holder has it:
// it does when nobody held it, when holder held it already, or when the last holder let it
// expire. Leases run on the wall clock (not the store's clock, which tests and the demo move),
// so the replicas' clocks must agree to well within ttl, as NTP keeps them.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now().UnixMilli()
	var got []string
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`INSERT INTO control.leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < ?
RETURNING holder`, name, holder, now+ttl.Milliseconds(), now).Scan(ctx, &got)
	})
	return len(got) == 1, err
}

// ReleaseLease gives up holder's lease name, so that another replica may take it at once.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().TableExpr("control.leases").Where("name = ? AND holder = ?", name, holder).Exec(ctx)
		return err
	})
}
