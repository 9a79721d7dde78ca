package monitoring

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Cases opens cases (cases.Service): an alarm's case is reported with source sensor.
type Cases interface {
	Report(ctx context.Context, in cases.ReportInput) (*cases.Case, error)
}

// SetCases gives the service the case loop, once it exists (the case loop is built after the
// platform's services). Without it alarms' cases stay pending.
func (s *Service) SetCases(c Cases) { s.cases = c }

// How long a claim on an alarm's case lasts (a replica that crashed while reporting it leaves
// it behind that long), and how long a failed one waits before it is tried again.
const (
	CaseClaim = time.Minute
	CaseRetry = 30 * time.Second
)

// CasesEvery is how often the case opener passes over every tenant (besides being kicked by the
// ingest and by a person's confirmation).
const CasesEvery = 5 * time.Second

// pendingCase is an alarm whose case is to be opened, with its rule (or, for an alarm from video
// analytics, its event type's mapping) and device.
type pendingCase struct {
	ID          string   `bun:"id"`
	Source      string   `bun:"source"`     // rule or video
	AlarmKind   string   `bun:"alarm_kind"` // the rule's kind, or the video event's type
	Claim       *int64   `bun:"case_claim_until"`
	Value       *float64 `bun:"value"`
	RuleID      *string  `bun:"rule_id"`
	RuleName    *string  `bun:"rule_name"`
	CaseKind    *string  `bun:"case_kind"`
	ClassCode   *string  `bun:"class_code"`
	Description *string  `bun:"description"`
	Metric      string   `bun:"metric"`
	DeviceCode  string   `bun:"device_code"`
	DeviceName  string   `bun:"device_name"`
	DeviceType  string   `bun:"device_type"`
	Lon         float64  `bun:"lon"`
	Lat         float64  `bun:"lat"`
}

// caseSource is where the case comes from: video surveillance for an alarm from video
// analytics, operation monitoring (sensors) for a rule's.
func (p *pendingCase) caseSource() cases.Source {
	if p.Source == "video" {
		return cases.FromVideo
	}
	return cases.FromSensor
}

// caseRef is what the case's description ends with: it names the alarm (so the case's page
// links back, and a claim left behind finds the case it made) and the device.
func caseRef(alarm, device string) string { return msgAlarmCaseRef.In(msg.ZH, alarm, device) }

// describe fills a rule's description template: {name} {device} {metric} {value} {unit} {rule}.
func (p *pendingCase) describe() string {
	tpl := msg.TextOf(msg.ZH, msgRuleDefaultDescription.ID())
	if p.Description != nil && *p.Description != "" {
		tpl = *p.Description
	}
	metric, unit, value := p.Metric, "", ""
	if typ, ok := FindType(p.DeviceType); ok {
		if m, ok := typ.Metric(p.Metric); ok {
			metric, unit = m.Name(msg.ZH), m.Unit
		}
	}
	if p.Value != nil {
		value = fmtNum(*p.Value)
	}
	rule := ""
	if p.RuleName != nil {
		rule = *p.RuleName
	}
	name := p.DeviceName
	if name == "" {
		name = p.DeviceCode
	}
	out := strings.NewReplacer("{name}", name, "{device}", p.DeviceCode, "{metric}", metric, "{value}", value, "{unit}", unit, "{rule}", rule).Replace(tpl)
	return textutil.Truncate(out, 1800) + "\n" + caseRef(p.ID, p.DeviceCode)
}

// kickCases asks the case opener to look at t now (it drops the ask when it is busy: its next
// pass looks anyway).
func (s *Service) kickCases(t *tenants.Tenant) {
	select {
	case s.kick <- t:
	default:
	}
}

// OpenAlarmCases opens the cases of the pending (and failed, once their retry is due) alarms of
// the tenant of ctx and returns how many it opened. Each alarm is first claimed for CaseClaim
// (a conditional update: of two replicas one gets it), then reported as a case with source
// sensor by the monitoring client (with the acceptor's post), then linked (case_id, opened). An
// alarm claimed before (a failure, or a crash between the report and the link) first looks for
// the case its claim may have made, by the alarm's id in the cases' descriptions: so one alarm
// never gets two cases. A failed report sets case_status failed with the reason.
func (s *Service) OpenAlarmCases(ctx context.Context) (int, error) {
	if s.cases == nil {
		return 0, nil
	}
	t, _, err := tenants.Admit(ctx, tenants.Write)
	if err != nil {
		return 0, err
	}
	now := s.now().UnixMilli()
	var claimed []*pendingCase
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var ps []*pendingCase
		if err := db.NewSelect().TableExpr("monitoring_alarms AS a").
			ColumnExpr("a.id, a.source, a.kind AS alarm_kind, a.case_claim_until, a.value, a.rule_id, a.metric").
			ColumnExpr("r.name AS rule_name, r.case_kind, r.class_code, r.description").
			ColumnExpr("d.code AS device_code, d.name AS device_name, d.type AS device_type, d.lon, d.lat").
			Join("JOIN monitoring_devices AS d ON d.id = a.device_id").
			Join("LEFT JOIN monitoring_rules AS r ON r.id = a.rule_id").
			Where("a.case_status IN (?)", bun.List([]string{CasePending, CaseFailed})).
			Where("(a.case_claim_until IS NULL OR a.case_claim_until < ?)", now).
			OrderExpr("a.raised_at").Limit(50).Scan(ctx, &ps); err != nil {
			return err
		}
		for _, p := range ps {
			q := db.NewUpdate().TableExpr("monitoring_alarms").Set("case_claim_until = ?", now+CaseClaim.Milliseconds()).
				Where("id = ?", p.ID).Where("case_status IN (?)", bun.List([]string{CasePending, CaseFailed}))
			if p.Claim == nil {
				q = q.Where("case_claim_until IS NULL")
			} else {
				q = q.Where("case_claim_until = ?", *p.Claim)
			}
			res, err := q.Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			if p.Source == "video" {
				// No rule: the tenant's mapping of the event type says what case to open.
				kind, class, desc, ok, err := videoCase(ctx, db, p.AlarmKind)
				if err != nil {
					return err
				}
				if ok {
					p.CaseKind, p.ClassCode, p.Description = &kind, &class, &desc
				}
			}
			claimed = append(claimed, p)
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	opened := 0
	for _, p := range claimed {
		ok, err := s.openCase(ctx, t, p)
		if err != nil {
			return opened, err
		}
		if ok {
			opened++
		}
	}
	return opened, nil
}

// openCase reports p's case (or finds the one an earlier claim made) and links it. It is false
// when the report failed (recorded on the alarm); an error is the database's.
func (s *Service) openCase(ctx context.Context, t *tenants.Tenant, p *pendingCase) (bool, error) {
	var caseID string
	if p.Claim != nil {
		var found []string
		if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().TableExpr("cases").Column("id").Where("source = ? AND description LIKE ?", p.caseSource(), "%"+p.ID+"%").
				Limit(1).Scan(ctx, &found)
		}); err != nil {
			return false, err
		}
		if len(found) == 1 {
			caseID = found[0]
		}
	}
	var failure error
	if caseID == "" {
		var kind, class string
		if p.CaseKind != nil {
			kind, class = *p.CaseKind, *p.ClassCode
		}
		rin := cases.ReportInput{Source: p.caseSource(), Kind: catalog.Kind(kind), ClassCode: class, Description: p.describe(),
			Address: textutil.Truncate(strings.TrimSpace(p.DeviceName+" "+p.DeviceCode), 200), Lon: p.Lon, Lat: p.Lat}
		client := cases.Client{Kind: "monitoring", Name: msg.TextOf(msg.ZH, msgTitle.ID())}
		if p.RuleID != nil {
			client.ID = *p.RuleID
		}
		rctx := cases.WithClient(tenants.WithScope(context.WithoutCancel(ctx), &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Acceptor}}), client)
		c, err := s.cases.Report(rctx, rin)
		if err == nil {
			caseID = c.ID
		} else {
			failure = err
		}
	}
	now := s.now().UnixMilli()
	err := s.gate.Tx(context.WithoutCancel(ctx), tenants.Write, func(ctx context.Context, db bun.IDB) error {
		q := db.NewUpdate().TableExpr("monitoring_alarms").Where("id = ?", p.ID).Set("updated_at = ?", now)
		if failure != nil {
			q = q.Set("case_status = ?, case_error = ?, case_claim_until = ?", CaseFailed,
				textutil.Truncate(errs.MessageIn(failure, msg.ZH), 500), now+CaseRetry.Milliseconds())
		} else {
			q = q.Set("case_status = ?, case_id = ?, case_error = NULL, case_claim_until = NULL", CaseOpened, caseID)
		}
		_, err := q.Exec(ctx)
		return err
	})
	return failure == nil && err == nil, err
}

// runCases is the case opener's loop: every interval over every active tenant with
// monitoring, and at once for a tenant kicked by its ingest (whose transaction may not have
// committed yet when it kicks: the opener looks again a few times within about half a second).
func (s *Service) runCases(ctx context.Context, k module.Kit, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	pass := func(ctx context.Context) {
		s.eachTenant(ctx, k, log, "alarm cases", func(ctx context.Context) error {
			_, err := s.OpenAlarmCases(ctx)
			return err
		})
	}
	pass(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			pass(ctx)
		case t := <-s.kick:
			tctx := tenants.WithScope(ctx, tenants.SystemScope(t))
			for _, wait := range []time.Duration{0, 5, 10, 20, 40, 80, 160, 240} {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait * time.Millisecond):
				}
				n, err := s.OpenAlarmCases(tctx)
				if err != nil {
					if ctx.Err() == nil {
						log.Error("monitoring alarm cases", "tenant", t.Slug, "err", err)
					}
					break
				}
				if n > 0 {
					break
				}
			}
		}
	}
}

// eachTenant runs fn for every active tenant whose plan has monitoring, in its system scope,
// logging (not returning) what fails.
func (s *Service) eachTenant(ctx context.Context, k module.Kit, log *slog.Logger, what string, fn func(ctx context.Context) error) {
	ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("monitoring "+what+": listing tenants", "err", err)
		}
		return
	}
	for _, t := range ts {
		if ctx.Err() != nil {
			return
		}
		if on, err := k.Entitled(ctx, t, Entitlement); err != nil || !on {
			continue
		}
		if err := fn(tenants.WithScope(ctx, tenants.SystemScope(t))); err != nil && ctx.Err() == nil {
			log.Error("monitoring "+what, "tenant", t.Slug, "err", err)
		}
	}
}
