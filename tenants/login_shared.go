package tenants

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/uptrace/bun"
)

// The login throttle's counts are shared between replicas on PostgreSQL: every replica keeps
// its own LoginThrottle (which also holds back attempts in flight at once), and also reads and
// writes each account's and address's failures in control.login_failures, so that a guesser
// spreading attempts over the replicas behind a load balancer meets the same limits as against
// one. On SQLite (one process) the memory alone does.

// sharedLoginKeys are the rows of an attempt: its account's and, when known, its address's.
func sharedLoginKeys(email, ip string) (acc, addr string) {
	acc = "a:" + accountKey(email)
	if a := addressKey(ip); a != "" {
		addr = "i:" + a
	}
	return acc, addr
}

type loginFailureRow struct {
	bun.BaseModel `bun:"table:control.login_failures"`
	Key           string `bun:"key,pk"`
	N             int    `bun:"n"`
	At            int64  `bun:"at"`
	Until         int64  `bun:"until"`
}

func (r *loginFailureRow) failures() *loginFailures {
	f := &loginFailures{n: r.N, at: time.UnixMilli(r.At)}
	if r.Until > 0 {
		f.until = time.UnixMilli(r.Until)
	}
	return f
}

// sharedLoginWait is how long an attempt for email from ip must wait by the counts the replicas
// share (zero: it may go ahead).
func (s *Store) sharedLoginWait(ctx context.Context, email, ip string, now time.Time) (time.Duration, error) {
	if s.dialect != dbx.Postgres {
		return 0, nil
	}
	acc, addr := sharedLoginKeys(email, ip)
	var rows []loginFailureRow
	if err := s.db.NewSelect().Model(&rows).Where("key IN (?, ?)", acc, addr).Scan(ctx); err != nil {
		return 0, dbx.Translate(err)
	}
	var wait time.Duration
	for _, r := range rows {
		l := accountLimit
		if r.Key != acc {
			l = addressLimit
		}
		wait = max(wait, r.failures().wait(now, l))
	}
	return wait, nil
}

// sharedLoginFail counts a failure for email from ip in the shared counts, with the throttle's
// own arithmetic, one row at a time under its lock.
func (s *Store) sharedLoginFail(ctx context.Context, email, ip string, now time.Time) error {
	if s.dialect != dbx.Postgres {
		return nil
	}
	acc, addr := sharedLoginKeys(email, ip)
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		for _, k := range []struct {
			key string
			l   loginLimit
		}{{acc, accountLimit}, {addr, addressLimit}} {
			if k.key == "" {
				continue
			}
			r := &loginFailureRow{Key: k.key, At: now.UnixMilli()}
			if _, err := tx.NewInsert().Model(r).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
			if err := tx.NewSelect().Model(r).WherePK().For("UPDATE").Scan(ctx); err != nil {
				return err
			}
			f := r.failures()
			f.fail(now, k.l)
			r.N, r.At, r.Until = f.n, f.at.UnixMilli(), 0
			if !f.until.IsZero() {
				r.Until = f.until.UnixMilli()
			}
			if _, err := tx.NewUpdate().Model(r).Column("n", "at", "until").WherePK().Exec(ctx); err != nil {
				return err
			}
		}
		// Rows idle for a day hold nothing any more (every failure forgotten, no wait).
		day := now.Add(-24 * time.Hour).UnixMilli()
		_, err := tx.NewDelete().Model((*loginFailureRow)(nil)).Where("at < ? AND until < ?", day, day).Exec(ctx)
		return err
	})
}

// sharedLoginSucceed clears the account's shared failures (not the address's, as in memory).
func (s *Store) sharedLoginSucceed(ctx context.Context, email string) error {
	if s.dialect != dbx.Postgres {
		return nil
	}
	acc, _ := sharedLoginKeys(email, "")
	_, err := s.db.NewDelete().Model((*loginFailureRow)(nil)).Where("key = ?", acc).Exec(ctx)
	return dbx.Translate(err)
}
