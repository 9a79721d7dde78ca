package cases

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// ActionInput is one action on a case. Version is the version the caller saw: if the case has
// changed since, the action is refused with errs.Conflict and nothing happens.
type ActionInput struct {
	Version     int      `json:"version"`
	Reason      string   `json:"reason"`
	Attachments []string `json:"attachments"`
	// StandardID chooses the filing condition when filing (default: the class's only standard).
	StandardID string `json:"standard_id"`
	// Limit is the disposal time limit when filing a class that has no standard.
	Limit *calendar.Limit `json:"limit"`
	// DepartmentID dispatches to a department other than the standard's.
	DepartmentID string `json:"department_id"`
	// Extension is the extra time a request_extension asks for.
	Extension *calendar.Limit `json:"extension"`
	// Passed is the inspector's finding on check (核查): did the closing condition hold?
	Passed *bool `json:"passed"`
}

// Act takes action on case id for the caller's post. It checks the state machine, the post,
// the version and the action's own rules, then updates the case and appends its event in one
// transaction.
func (s *Service) Act(ctx context.Context, id string, action Action, in ActionInput) (*Case, error) {
	return s.act(ctx, id, action, in, nil)
}

// act is Act; then, when not nil, inside its transaction after the event is written (ActOnce
// writes its key so).
func (s *Service) act(ctx context.Context, id string, action Action, in ActionInput, then func(ctx context.Context, db bun.IDB, c *Case) error) (*Case, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if !known(action) {
		return nil, errs.E(errs.NotFound, msgThereNoCaseAction, textutil.Truncate(string(action), 30))
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if slices.Contains(needsReason, action) && in.Reason == "" {
		return nil, errs.Field("reason", msgSayWhyReasonWhenYou, strings.ReplaceAll(string(action), "_", " "))
	}
	if len([]rune(in.Reason)) > 2000 {
		return nil, errs.Field("reason", msgReasonMostCharacters)
	}
	if len(in.Attachments) > 20 {
		return nil, errs.Field("attachments", msgMostAttachmentsPerAction)
	}
	var c *Case
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var err error
		if c, err = findCase(ctx, db, id); err != nil {
			return err
		}
		// A stale version first: whoever acted since may have changed the state too.
		if in.Version != c.Version {
			return staleVersion(c, in.Version)
		}
		from := c.State
		to, post := from, tenants.Role("")
		if action == Supervise {
			p, ok := postFor(a.scope, SupervisePosts)
			if !ok {
				return errs.E(errs.Forbidden, msgSupervisionLeader)
			}
			if from.Final() {
				return errs.E(errs.Conflict, msgCaseClosedVoidedCaseNot, c.Number, from)
			}
			post = p
		} else {
			t, ok := lookup(from, action)
			if !ok {
				return errs.E(errs.Conflict, msgCaseDoesNotApplyState, c.Number, from, action)
			}
			p, ok := postFor(a.scope, t.Posts)
			if !ok {
				return errs.E(errs.Forbidden, msgCaseTakesPostYouHold, action, t.Posts[0], rolesText(a.scope.Roles))
			}
			to, post = t.To, p
		}
		if slices.Contains(handlerActions, action) {
			if err := checkHandler(ctx, db, a.id, c); err != nil {
				return err
			}
		}
		if err := checkAttachments(ctx, db, c.ID, in.Attachments); err != nil {
			return err
		}
		now := s.clock()
		rules, err := s.rulesFor(ctx, db, a.scope.Tenant.ID)
		if err != nil {
			return err
		}
		// How the stage stands before the action: recorded if the action ends it.
		if err := c.refreshClock(rules.cal, now); err != nil {
			return err
		}
		if err := c.refreshStage(rules.cal, now); err != nil {
			return err
		}
		ended := c.stageStatus()
		detail := map[string]any{}
		switch action {
		case SendVerify, SendCheck:
			// The grid's responsible inspector is the one expected on site (evaluation counts
			// on-time verification and checking per inspector).
			if c.InspectorID != nil {
				detail["inspector_id"] = *c.InspectorID
			}
		case File:
			if err := s.fileCase(ctx, db, c, in, detail); err != nil {
				return err
			}
			// From filing on, a case is urgent when its disposal limit counts urgent hours.
			c.Urgent = c.Limit.Unit.Natural()
		case Dispatch:
			if in.DepartmentID != "" {
				if err := checkDepartment(ctx, db, in.DepartmentID); err != nil {
					return err
				}
				c.DepartmentID = &in.DepartmentID
			}
			if c.DepartmentID == nil {
				return errs.Field("department_id", msgCaseHasNoDepartmentYet, c.Number)
			}
			if c.ClockStart == nil {
				c.ClockStart = &now
			}
			detail["department_id"] = *c.DepartmentID
		case RequestExtension:
			if in.Extension == nil {
				return errs.Field("extension", msgSayHowMuchMoreTime)
			}
			if err := in.Extension.Validate(); err != nil {
				return err
			}
			if c.Limit != nil && in.Extension.Unit.Natural() != c.Limit.Unit.Natural() {
				return errs.Field("extension", msgExtensionMustCountTimeLike, c.Limit.Unit)
			}
			c.PendingExtension = in.Extension
			detail["extension"] = in.Extension
		case ApproveExtension:
			if c.PendingExtension != nil {
				c.Extensions = append(c.Extensions, *c.PendingExtension)
				detail["extension"] = c.PendingExtension
			}
			c.PendingExtension = nil
		case RejectExtension:
			c.PendingExtension = nil
		case ApproveReturn:
			// Not this department's: the next department starts a fresh clock.
			detail["returned_by"] = c.DepartmentID
			c.DepartmentID, c.ClockStart, c.Extensions, c.Pauses = nil, nil, []calendar.Limit{}, []calendar.Interval{}
		case ApproveSuspension:
			c.Pauses = append(c.Pauses, calendar.Interval{From: now})
		case Resume:
			if n := len(c.Pauses); n > 0 && c.Pauses[n-1].To.IsZero() {
				c.Pauses[n-1].To = now
			}
		case Feedback:
			if len(in.Attachments) == 0 {
				return errs.Field("attachments", msgFeedbackNeedsAfterPhotosUpload)
			}
			c.ClockStoppedAt = &now
		case Check:
			if in.Passed == nil {
				return errs.Field("passed", msgSayWhetherClosingConditionHolds)
			}
			detail["passed"] = *in.Passed
		case Close:
			// 结案 only if the on-site check found the closing condition met.
			var last []Event
			if err := db.NewSelect().Model(&last).Where("case_id = ? AND action = ?", c.ID, Check).OrderExpr("version DESC").Limit(1).Scan(ctx); err != nil {
				return err
			}
			var found struct{ Passed bool }
			if len(last) == 1 {
				_ = json.Unmarshal(last[0].Detail, &found)
			}
			if !found.Passed {
				return errs.E(errs.Conflict, msgCheckCaseFoundClosingCondition, c.Number)
			}
			c.ClosedAt = &now
		case Rework:
			// The time between feedback and rework was not the department's: a pause.
			if c.ClockStoppedAt != nil {
				c.Pauses = append(c.Pauses, calendar.Interval{From: *c.ClockStoppedAt, To: now})
				c.ClockStoppedAt = nil
			}
		case Supervise:
			c.Supervised = true
		}
		if err := c.refreshClock(rules.cal, now); err != nil {
			return err
		}
		if slices.Contains(clockActions, action) {
			// The deadline the disposal clock runs under from now on, or null while it is not
			// running: the evaluation counts overdue pending cases as of a period's end from it.
			detail["deadline"] = nil
			if d := c.runningDeadline(); d != nil {
				detail["deadline"] = d.UTC().Format(time.RFC3339Nano)
			}
		}
		if st := StageOf(to); st != c.Stage {
			if ended.Stage != "" {
				detail["stage"] = ended
			}
			c.enterStage(rules, st, now)
		}
		if err := c.refreshStage(rules.cal, now); err != nil {
			return err
		}
		old := c.Version
		c.State, c.Version, c.UpdatedAt = to, old+1, now
		c.encode()
		res, err := db.NewUpdate().Model(c).WherePK().Where("version = ?", old).Exec(ctx)
		if err != nil {
			return dbx.Translate(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, msgCaseWasChangedSomeoneElse, c.Number)
		}
		if err := appendEvent(ctx, db, c, Event{Action: action, From: string(from), To: to, ActorID: a.id, ActorEmail: a.email,
			Post: post, Reason: in.Reason, Attachments: in.Attachments, At: now}, detail); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, db, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.reveal(ctx, a, c)
	return c, nil
}

func rolesText(rs []tenants.Role) string {
	if len(rs) == 0 {
		return "none"
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ", ")
}

func staleVersion(c *Case, saw int) error {
	return errs.E(errs.Conflict, msgCaseVersionNotSomeoneActed, c.Number, c.Version, saw)
}

// fileCase sets the standard, department and limit when the shift lead files (立案).
func (s *Service) fileCase(ctx context.Context, db bun.IDB, c *Case, in ActionInput, detail map[string]any) error {
	e, err := s.classes.LookupIn(ctx, db, c.Kind, c.ClassCode)
	if err != nil {
		return err
	}
	var st *catalog.Standard
	switch {
	case in.StandardID != "":
		for i := range e.Standards {
			if e.Standards[i].ID == in.StandardID {
				st = &e.Standards[i]
			}
		}
		if st == nil {
			return errs.Field("standard_id", msgStandardNotOneClass, textutil.Truncate(in.StandardID, 40), c.ClassCode)
		}
	case len(e.Standards) == 1:
		st = &e.Standards[0]
	case len(e.Standards) > 1:
		return errs.Field("standard_id", msgClassHasFilingConditionsChoose, c.ClassCode, len(e.Standards))
	}
	if st != nil {
		c.StandardID, c.DepartmentID = &st.ID, st.DepartmentID
		l := st.Limit
		c.Limit = &l
		detail["standard_id"] = st.ID
		detail["filing_condition"] = st.FilingCondition
	}
	if in.Limit != nil {
		if err := in.Limit.Validate(); err != nil {
			return err
		}
		c.Limit = in.Limit
	}
	if c.Limit == nil {
		return errs.Field("limit", msgClassHasNoGiveDisposal, c.ClassCode)
	}
	detail["limit"] = c.Limit
	return nil
}

func checkDepartment(ctx context.Context, db bun.IDB, id string) error {
	n, err := db.NewSelect().Table("departments").Where("id = ?", id).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("department_id", msgNoDepartment, textutil.Truncate(id, 40))
	}
	return nil
}

// checkHandler admits a handler recorded as staff of the case's department or of a department
// above it.
func checkHandler(ctx context.Context, db bun.IDB, identity string, c *Case) error {
	var depts []string
	if err := db.NewSelect().Table("staff").Column("department_id").
		Where("identity_id = ? AND active AND department_id IS NOT NULL", identity).Scan(ctx, &depts); err != nil {
		return err
	}
	if c.DepartmentID == nil || len(depts) == 0 {
		return errs.E(errs.Forbidden, msgYouNotRecordedStaffDepartment, c.Number)
	}
	dept := *c.DepartmentID
	for range 3 {
		if slices.Contains(depts, dept) {
			return nil
		}
		var parent []*string
		if err := db.NewSelect().Table("departments").Column("parent_id").Where("id = ?", dept).Scan(ctx, &parent); err != nil {
			return err
		}
		if len(parent) == 0 || parent[0] == nil {
			break
		}
		dept = *parent[0]
	}
	return errs.E(errs.Forbidden, msgYouNotRecordedStaffDepartment, c.Number)
}

// checkAttachments admits only photos of this case.
func checkAttachments(ctx context.Context, db bun.IDB, caseID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	n, err := db.NewSelect().Table("case_photos").Where("case_id = ? AND id IN (?)", caseID, bun.List(ids)).Count(ctx)
	if err != nil {
		return err
	}
	if int(n) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return errs.Field("attachments", msgEveryAttachmentMustPhotoUploaded)
	}
	return nil
}
