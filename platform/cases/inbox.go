package cases

import (
	"context"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// WaitingStates returns the states in which a holder of post may act, read from Machine: what is
// waiting for that post.
func WaitingStates(post tenants.Role) []State {
	var out []State
	for _, t := range Machine {
		if slices.Contains(t.Posts, post) && !slices.Contains(out, t.From) {
			out = append(out, t.From)
		}
	}
	return out
}

// OpenStates lists every state that is not final.
func OpenStates() []State {
	var out []State
	for _, t := range Machine {
		if !slices.Contains(out, t.From) {
			out = append(out, t.From)
		}
	}
	return out
}

// NeedsReason reports whether action a must say why.
func NeedsReason(a Action) bool { return slices.Contains(needsReason, a) }

// Queue selects the cases waiting for a post (an inbox).
type Queue struct {
	States []State
	// Handler keeps only the cases dispatched to a department the identity is active staff of,
	// or to one below it (the departments whose handler actions it may take).
	Handler string
	// Supervised, when set, keeps the cases flagged for supervision (督办) or the others.
	Supervised *bool
	// Late keeps only the cases overdue or due within Soon.
	Late bool
	// Soon is how close to its stage deadline a case counts as about to be overdue.
	Soon time.Duration
	// Limit bounds the cases listed (default 50, at most 500); the counts cover all.
	Limit int
}

// QueuePage is an inbox: how many cases wait, how many are about to be overdue and how many are
// overdue, and the most pressing of them: overdue first, then by stage deadline.
type QueuePage struct {
	Waiting, DueSoon, Overdue int64
	Cases                     []Case
}

// FindQueue returns the inbox q selects. A case counts as overdue when a clock of it is flagged
// overdue or its stage deadline has passed (before the periodic job has flagged it), and as due
// soon when its stage deadline (in handling, the disposal deadline) falls within q.Soon.
func (s *Service) FindQueue(ctx context.Context, q Queue) (*QueuePage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		q.Limit = 500
	}
	page := &QueuePage{Cases: []Case{}}
	if len(q.States) == 0 {
		return page, nil
	}
	now := s.clock()
	soon := now.Add(q.Soon)
	const late = "(overdue OR stage_overdue OR stage_deadline_at <= ?)"
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var depts []string
		if q.Handler != "" {
			var err error
			if depts, err = handlerDepartments(ctx, db, q.Handler); err != nil {
				return err
			}
			if len(depts) == 0 {
				return nil
			}
		}
		base := func(sel *bun.SelectQuery) *bun.SelectQuery {
			sel = sel.Where("state IN (?)", bun.List(q.States))
			if q.Handler != "" {
				sel = sel.Where("department_id IN (?)", bun.List(depts))
			}
			if q.Supervised != nil {
				sel = sel.Where("supervised = ?", *q.Supervised)
			}
			if q.Late {
				sel = sel.Where("("+late+" OR stage_deadline_at <= ?)", now, soon)
			}
			return sel
		}
		var err error
		if page.Waiting, err = base(db.NewSelect().Table("cases")).Count(ctx); err != nil {
			return err
		}
		if page.Overdue, err = base(db.NewSelect().Table("cases")).Where(late, now).Count(ctx); err != nil {
			return err
		}
		if page.DueSoon, err = base(db.NewSelect().Table("cases")).Where("NOT "+late, now).
			Where("stage_deadline_at <= ?", soon).Count(ctx); err != nil {
			return err
		}
		return base(db.NewSelect().Model(&page.Cases).ExcludeColumn("reporter_name_enc", "reporter_phone_enc")).
			OrderExpr("CASE WHEN "+late+" THEN 0 ELSE 1 END", now).
			OrderExpr("CASE WHEN stage_deadline_at IS NULL THEN 1 ELSE 0 END, stage_deadline_at, seq DESC").
			Limit(int64(q.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	for i := range page.Cases {
		if err := page.Cases[i].decode(); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// handlerDepartments returns the departments whose cases a handler may act on: those the
// identity is active staff of and those below them, three levels deep (as checkHandler admits).
func handlerDepartments(ctx context.Context, db bun.IDB, identity string) ([]string, error) {
	var out []string
	if err := db.NewSelect().Table("staff").Column("department_id").
		Where("identity_id = ? AND active AND department_id IS NOT NULL", identity).Scan(ctx, &out); err != nil {
		return nil, err
	}
	next := out
	for range 3 {
		if len(next) == 0 {
			break
		}
		var below []string
		if err := db.NewSelect().Table("departments").Column("id").Where("parent_id IN (?)", bun.List(next)).Scan(ctx, &below); err != nil {
			return nil, err
		}
		next = nil
		for _, d := range below {
			if !slices.Contains(out, d) {
				out, next = append(out, d), append(next, d)
			}
		}
	}
	return out, nil
}

// ActionsFor returns the actions the caller may take on c now, read from Machine: the
// transitions out of c's state for the caller's posts (a handler's only on a case of its
// department), and Supervise for a leader on a case not yet final and not yet supervised. A
// read-only scope may take none. Act still checks everything again.
func (s *Service) ActionsFor(ctx context.Context, c *Case) ([]Action, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.scope.ReadOnly {
		return nil, nil
	}
	var out []Action
	staff := -1 // unknown until a handler action comes up
	for _, t := range Machine {
		if t.From != c.State {
			continue
		}
		if _, ok := postFor(a.scope, t.Posts); !ok {
			continue
		}
		if slices.Contains(handlerActions, t.Action) {
			if staff < 0 {
				staff = 0
				err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
					return checkHandler(ctx, db, a.id, c)
				})
				switch {
				case err == nil:
					staff = 1
				case !errs.Is(err, errs.Forbidden):
					return nil, err
				}
			}
			if staff == 0 {
				continue
			}
		}
		out = append(out, t.Action)
	}
	if _, ok := postFor(a.scope, SupervisePosts); ok && !c.State.Final() && !c.Supervised {
		out = append(out, Supervise)
	}
	return out, nil
}

// CanAddPhoto reports whether the caller may add a photo to c (AddPhoto's own rule).
func (s *Service) CanAddPhoto(ctx context.Context, c *Case) bool {
	a, err := actorOf(ctx)
	if err != nil || a.scope.ReadOnly {
		return false
	}
	return photoAllowed(c, a) == nil
}

// CheckPhoto applies AddPhoto's checks of the bytes alone (size, JPEG/PNG/WebP), so that a caller
// that creates a case and then adds its photo can refuse a bad photo before creating anything.
func (s *Service) CheckPhoto(data []byte) error {
	if len(data) == 0 {
		return errs.Field("photo", msgPhotoEmpty)
	}
	if int64(len(data)) > s.maxPhoto {
		return errs.E(errs.TooLarge, msgPhotoMayMostMib, s.maxPhoto>>20)
	}
	if sniff(data) == "" {
		return errs.E(errs.Unsupported, msgPhotosJpegPngWebpImages)
	}
	return nil
}
