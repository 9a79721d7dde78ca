package cases

import (
	"context"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Stage is a timed step of the loop: the post whose turn it is has a time limit for it.
type Stage string

// The stages, in the order of the loop. StageHandle is the disposal clock of the 立结案标准
// (with its extensions and pauses); every other stage has a limit from StageLimits.
const (
	StageAccept    Stage = "accept"     // reported: the acceptor accepts, sends to verify or voids
	StageVerify    Stage = "verify"     // verifying: the inspector verifies on site (核实)
	StageFile      Stage = "file"       // accepted: the shift lead files (立案) or voids
	StageDispatch  Stage = "dispatch"   // filed: the dispatcher dispatches
	StageHandle    Stage = "handle"     // dispatched … suspended: the department handles it
	StageSendCheck Stage = "send_check" // fed_back: the acceptor sends an inspector to check
	StageCheck     Stage = "check"      // checking: the inspector checks on site (核查)
	StageClose     Stage = "close"      // checked: the shift lead closes (结案) or orders rework
)

// Stages lists every stage in the loop's order.
var Stages = []Stage{StageAccept, StageVerify, StageFile, StageDispatch, StageHandle, StageSendCheck, StageCheck, StageClose}

// StageOf returns the stage a case in state s is in; "" for a closed or voided case.
func StageOf(s State) Stage {
	switch s {
	case Reported:
		return StageAccept
	case Verifying:
		return StageVerify
	case Accepted:
		return StageFile
	case Filed:
		return StageDispatch
	case Dispatched, Handling, ExtensionRequested, ReturnRequested, SuspensionRequested, Suspended:
		return StageHandle
	case FedBack:
		return StageSendCheck
	case Checking:
		return StageCheck
	case Checked:
		return StageClose
	}
	return ""
}

// statesOf returns the states of a stage (the list filter's stage=).
func statesOf(st Stage) []State {
	var out []State
	for _, s := range []State{Reported, Verifying, Accepted, Filed, Dispatched, Handling, ExtensionRequested,
		ReturnRequested, SuspensionRequested, Suspended, FedBack, Checking, Checked} {
		if StageOf(s) == st {
			out = append(out, s)
		}
	}
	return out
}

// StageLimit is the time limit of one stage: Limit for ordinary cases and Urgent, in urgent
// hours (natural time, day and night), for urgent ones. A case is urgent when its disposal limit
// counts urgent hours: from filing on, the limit it was filed with; before, when every 立结案标准
// of its class does (a missing cover is urgent from the moment it is reported).
type StageLimit struct {
	Stage     Stage          `json:"stage"`
	Limit     calendar.Limit `json:"limit"`
	Urgent    calendar.Limit `json:"urgent"`
	Default   bool           `json:"default"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
	UpdatedBy string         `json:"updated_by,omitempty"`
}

// DefaultStageLimits apply to every stage a tenant has not set. GB/T 30428 and DOMAIN.md name
// the timed stages but give no figures; these follow what city centres commonly publish (an
// acceptor's or dispatcher's step within half a working hour, an on-site visit within one) and
// are provisional: every tenant sets its own with PutStageLimit. Half an hour is written 0.5.
func DefaultStageLimits() []StageLimit {
	wh := func(h float64) calendar.Limit { return calendar.Limit{Amount: h, Unit: calendar.WorkingHours} }
	uh := func(h float64) calendar.Limit { return calendar.Limit{Amount: h, Unit: calendar.UrgentHours} }
	return []StageLimit{
		{Stage: StageAccept, Limit: wh(0.5), Urgent: uh(0.25), Default: true},
		{Stage: StageVerify, Limit: wh(1), Urgent: uh(0.5), Default: true},
		{Stage: StageFile, Limit: wh(0.5), Urgent: uh(0.25), Default: true},
		{Stage: StageDispatch, Limit: wh(0.5), Urgent: uh(0.25), Default: true},
		{Stage: StageSendCheck, Limit: wh(0.5), Urgent: uh(0.25), Default: true},
		{Stage: StageCheck, Limit: wh(1), Urgent: uh(0.5), Default: true},
		{Stage: StageClose, Limit: wh(0.5), Urgent: uh(0.25), Default: true},
	}
}

type stageLimitRow struct {
	bun.BaseModel `bun:"table:case_stage_limits"`
	Stage         Stage          `bun:"stage,pk"`
	LimitAmount   float64        `bun:"limit_amount"`
	LimitUnit     calendar.Unit  `bun:"limit_unit"`
	UrgentAmount  *float64       `bun:"urgent_amount"`
	UrgentUnit    *calendar.Unit `bun:"urgent_unit"`
	UpdatedAt     time.Time      `bun:"updated_at"`
	UpdatedBy     string         `bun:"updated_by"`
}

func findStageLimits(ctx context.Context, db bun.IDB) ([]StageLimit, error) {
	var rows []stageLimitRow
	if err := db.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, err
	}
	out := DefaultStageLimits()
	for _, r := range rows {
		i := slices.IndexFunc(out, func(l StageLimit) bool { return l.Stage == r.Stage })
		if i < 0 {
			continue
		}
		l := &out[i]
		l.Limit, l.Default, l.UpdatedBy = calendar.Limit{Amount: r.LimitAmount, Unit: r.LimitUnit}, false, r.UpdatedBy
		at := r.UpdatedAt
		l.UpdatedAt = &at
		if r.UrgentAmount != nil && r.UrgentUnit != nil {
			l.Urgent = calendar.Limit{Amount: *r.UrgentAmount, Unit: *r.UrgentUnit}
		}
	}
	return out, nil
}

// FindStageLimits returns the time limit of every stage but handling (whose limit is the
// 立结案标准's), the tenant's own or the default.
func (s *Service) FindStageLimits(ctx context.Context) ([]StageLimit, error) {
	var out []StageLimit
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		out, err = findStageLimits(ctx, db)
		return err
	})
	return out, err
}

// StageLimitInput sets a stage's limits; a missing Urgent keeps the current one.
type StageLimitInput struct {
	Limit  *calendar.Limit `json:"limit"`
	Urgent *calendar.Limit `json:"urgent"`
}

// PutStageLimit sets the limits of one stage for the tenant (tenant admins only), audited as
// cases.stage_limit with the limits set. A case already in the stage keeps the deadline it got
// when it entered it.
func (s *Service) PutStageLimit(ctx context.Context, stage Stage, in StageLimitInput) (*StageLimit, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.scope.ReadOnly || !a.scope.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgStageTimeLimitsSetTenant)
	}
	if stage == StageHandle {
		return nil, errs.Field("stage", msgHandlingStageTimedEachClass)
	}
	if StageOf(stageState(stage)) != stage || stage == "" {
		return nil, errs.E(errs.NotFound, msgThereNoStageStagesAccept, textutil.Truncate(string(stage), 20))
	}
	if in.Limit == nil {
		return nil, errs.Field("limit", msgGiveStageLimitEG)
	}
	if err := in.Limit.Validate(); err != nil {
		return nil, err
	}
	if in.Urgent != nil {
		if err := in.Urgent.Validate(); err != nil {
			return nil, err
		}
		if in.Urgent.Unit != calendar.UrgentHours {
			return nil, errs.Field("urgent", msgLimitUrgentCasesUrgentHours)
		}
	}
	var out *StageLimit
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		cur, err := findStageLimits(ctx, db)
		if err != nil {
			return err
		}
		l := cur[slices.IndexFunc(cur, func(l StageLimit) bool { return l.Stage == stage })]
		urgent := l.Urgent
		if in.Urgent != nil {
			urgent = *in.Urgent
		}
		row := stageLimitRow{Stage: stage, LimitAmount: in.Limit.Amount, LimitUnit: in.Limit.Unit,
			UrgentAmount: &urgent.Amount, UrgentUnit: &urgent.Unit, UpdatedAt: s.clock(), UpdatedBy: a.email}
		if _, err := db.NewInsert().Model(&row).On("CONFLICT (stage) DO UPDATE").
			Set("limit_amount = EXCLUDED.limit_amount, limit_unit = EXCLUDED.limit_unit, urgent_amount = EXCLUDED.urgent_amount, urgent_unit = EXCLUDED.urgent_unit, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").
			Exec(ctx); err != nil {
			return err
		}
		out = &StageLimit{Stage: stage, Limit: *in.Limit, Urgent: urgent, UpdatedAt: &row.UpdatedAt, UpdatedBy: row.UpdatedBy}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.rules.Forget(a.scope.Tenant.ID)
	if err := s.gate.AuditTenant(ctx, "cases.stage_limit", string(out.Stage), out); err != nil {
		return nil, err
	}
	return out, nil
}

// stageState returns one state of a stage ("" when there is none).
func stageState(st Stage) State {
	if ss := statesOf(st); len(ss) > 0 {
		return ss[0]
	}
	return ""
}

// rules are what a tenant's clocks are computed with: its work calendar and stage limits.
type rules struct {
	cal    *calendar.Calendar
	limits map[Stage]StageLimit
}

func loadRules(ctx context.Context, db bun.IDB) (*rules, error) {
	cal, err := calendar.CalendarIn(ctx, db)
	if err != nil {
		return nil, err
	}
	ls, err := findStageLimits(ctx, db)
	if err != nil {
		return nil, err
	}
	r := &rules{cal: cal, limits: make(map[Stage]StageLimit, len(ls))}
	for _, l := range ls {
		r.limits[l.Stage] = l
	}
	return r, nil
}

// DefaultRulesTTL is how long a tenant's calendar and stage limits are reused between reads.
const DefaultRulesTTL = 5 * time.Second

// rulesFor returns the tenant's rules, reused for the rules cache's TTL, so that a report or an
// action does not read the calendar (settings and every special day) and the stage limits each
// time. A change made through this Service is seen at once; a calendar change (made through
// calendar.Service) or a change on another replica is seen within the TTL. The overdue job
// always reads afresh.
func (s *Service) rulesFor(ctx context.Context, db bun.IDB, tenant uuid.UUID) (*rules, error) {
	return s.rules.Get(ctx, tenant, func(ctx context.Context) (*rules, error) { return loadRules(ctx, db) })
}

// stageLimit returns the limit of stage st for c (nil for handling and final states).
func (r *rules) stageLimit(c *Case, st Stage) *calendar.Limit {
	l, ok := r.limits[st]
	if !ok {
		return nil
	}
	if c.Urgent {
		return &l.Urgent
	}
	return &l.Limit
}

// StageStatus is how a stage went, recorded in the detail of the event that ended it.
type StageStatus struct {
	Stage            Stage           `json:"stage"`
	Limit            *calendar.Limit `json:"limit,omitempty"`
	StartedAt        *time.Time      `json:"started_at,omitempty"`
	Deadline         *time.Time      `json:"deadline,omitempty"`
	Overdue          bool            `json:"overdue"`
	OvertimeMultiple float64         `json:"overtime_multiple"`
}

// enterStage starts the clock of stage st at now.
func (c *Case) enterStage(r *rules, st Stage, now time.Time) {
	c.Stage, c.StageStartedAt = st, &now
	c.StageLimit, c.StageDeadlineAt, c.StageOverdue, c.StageOvertimeMultiple = nil, nil, false, 0
	if st == "" {
		c.StageStartedAt = nil
		return
	}
	c.StageLimit = r.stageLimit(c, st)
}

// refreshStage recomputes the stage's deadline, overdue flag and overtime multiple at now. The
// handling stage mirrors the disposal clock (refreshClock first).
func (c *Case) refreshStage(cal *calendar.Calendar, now time.Time) error {
	switch {
	case c.Stage == StageHandle:
		c.StageLimit = c.Limit
		c.StageDeadlineAt, c.StageOverdue, c.StageOvertimeMultiple = c.DeadlineAt, c.Overdue, c.OvertimeMultiple
		return nil
	case c.StageLimit == nil || c.StageStartedAt == nil:
		c.StageDeadlineAt, c.StageOverdue, c.StageOvertimeMultiple = nil, false, 0
		return nil
	}
	st, err := cal.Status(calendar.Timer{Start: *c.StageStartedAt, Limit: *c.StageLimit}, now)
	if err != nil {
		return err
	}
	d := st.Deadline.UTC().Truncate(time.Microsecond)
	c.StageDeadlineAt, c.StageOverdue, c.StageOvertimeMultiple = &d, st.Overdue, st.OvertimeMultiple
	return nil
}

func (c *Case) stageStatus() StageStatus {
	return StageStatus{Stage: c.Stage, Limit: c.StageLimit, StartedAt: c.StageStartedAt, Deadline: c.StageDeadlineAt,
		Overdue: c.StageOverdue, OvertimeMultiple: c.StageOvertimeMultiple}
}
