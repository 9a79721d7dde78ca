package guidance

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

// Reminders raises a reminder in the tenant of ctx (platform/notify's Remind): kind is
// guidance_due, supervision_due or report_due; a reminder raised again under its key adds
// nothing.
type Reminders interface {
	Remind(ctx context.Context, kind, key, title string, due time.Time) (bool, error)
}

// The reminders' kinds (platform/notify's events).
const (
	RemindNotice = "guidance_due"
	RemindTask   = "supervision_due"
	RemindReport = "report_due"
)

// How far ahead of a deadline the reminders come, how long after it they still come, and how
// often the loop passes.
var (
	RemindAhead = 24 * time.Hour
	RemindAfter = 7 * 24 * time.Hour
	RemindEvery = time.Hour
)

// RemindCounty raises the county of ctx's reminders: each notice not acknowledged, task not
// answered (or sent back) and last month's report not submitted whose deadline is within
// RemindAhead, once before the deadline and once after it (within RemindAfter). It reads the
// prefecture's items through the channel, as the county's own pages do, and raises the
// reminders in the county's own tenant.
func (s *Service) RemindCounty(ctx context.Context) (int, error) {
	if s.remind == nil {
		return 0, nil
	}
	now := s.now()
	n := 0
	raise := func(kind, key, title string, due time.Time) error {
		if due.After(now.Add(RemindAhead)) || now.After(due.Add(RemindAfter)) {
			return nil
		}
		when := ":soon"
		if now.After(due) {
			when = ":late"
		}
		added, err := s.remind.Remind(ctx, kind, key+when, title, due)
		if added {
			n++
		}
		return err
	}
	inbox, err := s.Inbox(ctx)
	if err != nil {
		return n, err
	}
	for _, x := range inbox {
		if x.AckDueAt != nil && (x.Receipt == nil || x.Receipt.AckedAt == nil) {
			if err := raise(RemindNotice, x.ID, x.Title, *x.AckDueAt); err != nil {
				return n, err
			}
		}
	}
	ts, err := s.MyTasks(ctx)
	if err != nil {
		return n, err
	}
	for _, t := range ts {
		if t.State == StateOpen || t.State == StateOverdue || t.State == StateReturned {
			// A task sent back is reminded of again: the key names how many answers it has.
			if err := raise(RemindTask, t.ID+":"+strconv.Itoa(len(t.Responses)), t.Title, t.DueAt); err != nil {
				return n, err
			}
		}
	}
	rs, err := s.MyReports(ctx)
	if err != nil {
		return n, err
	}
	for _, r := range rs {
		if r.Submission == nil {
			if err := raise(RemindReport, r.ID+":"+r.Period, r.Title+" "+r.Period, r.DueAt); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// remindLoop passes over every active unit below a prefecture, in its system scope.
func (s *Service) remindLoop(ctx context.Context, k module.Kit, log *slog.Logger) {
	tasks.Every(ctx, RemindEvery, func(ctx context.Context) {
		ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("guidance reminders: listing tenants", "err", err)
			}
			return
		}
		for _, t := range ts {
			if ctx.Err() != nil {
				return
			}
			if t.Kind == tenants.Prefecture || t.ParentID == nil {
				continue
			}
			n, err := s.RemindCounty(tenants.WithScope(ctx, tenants.SystemScope(t)))
			if err != nil && ctx.Err() == nil {
				log.Error("guidance reminders", "tenant", t.Slug, "err", err)
			}
			if n > 0 {
				log.Info("guidance reminders", "tenant", t.Slug, "raised", n)
			}
		}
	})
}
