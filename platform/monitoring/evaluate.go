package monitoring

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// evalRule is an enabled rule as the ingest judges it, for one device.
type evalRule struct {
	Rule
	Dev int64 `bun:"dev"`
}

// openKey is the key of the open alarm of rule on device: at most one at a time.
func openKey(rule string, device int64) string { return fmt.Sprintf("%s:%d", rule, device) }

// evaluate judges the accepted readings rows by the enabled rules of their devices, inside the
// ingest's tenant transaction (after the rows and their rollups are written): for each rule and
// device, the rows of its metric in time order raise an alarm when they cross the threshold
// (one open alarm per rule and device: a raise while one is open only counts a hit, also when
// two batches race, through the unique open_key), and clear it when they are back past clear_at
// (hysteresis). A reading clears the device's open no_data alarms. A new alarm of a rule that
// opens cases is left pending for the case opener, which is kicked; a new alarm for which a
// case of the same rule and device is still open (or about to be) joins that case instead, so a
// device flapping across the threshold opens one case, not one per crossing.
func (s *Service) evaluate(ctx context.Context, db bun.IDB, nowMS int64, rows []*reading) error {
	if len(rows) == 0 {
		return nil
	}
	var devs []int64
	for _, r := range rows {
		if !slices.Contains(devs, r.DeviceID) {
			devs = append(devs, r.DeviceID)
		}
	}
	var rules []*evalRule
	if err := db.NewSelect().Model(&rules).ModelTableExpr("monitoring_devices AS d").ColumnExpr("d.id AS dev, r.*").
		Join("JOIN monitoring_rules AS r ON r.enabled AND (r.device_id = d.id OR (r.device_id IS NULL AND r.device_type = d.type))").
		Where("d.id IN (?)", bun.List(devs)).Scan(ctx); err != nil {
		return err
	}
	if len(rules) == 0 {
		return nil
	}
	keys := make([]string, len(rules))
	for i, r := range rules {
		keys[i] = openKey(r.ID, r.Dev)
	}
	var open []*Alarm
	if err := db.NewSelect().Model(&open).ModelTableExpr("monitoring_alarms AS a").Where("a.open_key IN (?)", bun.List(keys)).Scan(ctx); err != nil {
		return err
	}
	byKey := map[string]*Alarm{}
	for _, a := range open {
		byKey[*a.OpenKey] = a
	}
	// Each rule's rows, in time order (a copy: the caller's order stays).
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b *reading) int {
		return cmp.Or(cmp.Compare(a.DeviceID, b.DeviceID), strings.Compare(a.Metric, b.Metric), cmp.Compare(a.At, b.At))
	})
	kick := false
	for _, r := range rules {
		e := &judge{s: s, db: db, r: r, nowMS: nowMS, key: openKey(r.ID, r.Dev), open: byKey[openKey(r.ID, r.Dev)]}
		var err error
		if r.Kind == RuleNoData {
			err = e.noData(ctx, rows)
		} else {
			err = e.values(ctx, rows)
		}
		if err != nil {
			return err
		}
		kick = kick || e.pending
	}
	if kick {
		if sc := tenants.ScopeFrom(ctx); sc != nil && sc.Tenant != nil {
			s.kickCases(sc.Tenant)
		}
	}
	return nil
}

// judge follows one rule on one device through a batch.
type judge struct {
	s       *Service
	db      bun.IDB
	r       *evalRule
	nowMS   int64
	key     string
	open    *Alarm // the open alarm, as this batch left it
	dirty   bool   // open has hits not written yet
	pending bool   // a case is to be opened
	// joins is the case status (and case) a new alarm of the batch joins, once looked up.
	joins *struct {
		status string
		caseID *string
	}
}

// noData: any reading of the rule's metric (any metric when it names none) ends the silence.
func (e *judge) noData(ctx context.Context, rows []*reading) error {
	if e.open == nil {
		return nil
	}
	last := int64(-1)
	for _, row := range rows {
		if row.DeviceID == e.r.Dev && (e.r.Metric == "" || row.Metric == e.r.Metric) {
			last = max(last, row.At)
		}
	}
	if last < 0 {
		return nil
	}
	return e.clear(ctx, nil)
}

// values runs the rows of the rule's metric through the rule.
func (e *judge) values(ctx context.Context, rows []*reading) error {
	i, _ := slices.BinarySearchFunc(rows, e.r, func(row *reading, r *evalRule) int {
		return cmp.Or(cmp.Compare(row.DeviceID, r.Dev), strings.Compare(row.Metric, r.Metric))
	})
	j := i
	for j < len(rows) && rows[j].DeviceID == e.r.Dev && rows[j].Metric == e.r.Metric {
		j++
	}
	if i == j {
		return nil
	}
	series := rows[i:j]
	var prevAt int64
	var prev float64
	hasPrev := false
	if e.r.Kind == RuleRate {
		var last []struct {
			At    int64   `bun:"at"`
			Value float64 `bun:"value"`
		}
		if err := e.db.NewSelect().TableExpr("monitoring_readings").Column("at", "value").
			Where("device_id = ? AND metric = ? AND at < ?", e.r.Dev, e.r.Metric, series[0].At).
			OrderExpr("at DESC").Limit(1).Scan(ctx, &last); err != nil {
			return err
		}
		if len(last) == 1 {
			prevAt, prev, hasPrev = last[0].At, last[0].Value, true
		}
	}
	clearAt := e.r.Threshold
	if e.r.ClearAt != nil {
		clearAt = *e.r.ClearAt
	}
	for _, row := range series {
		v := row.Value
		switch e.r.Kind {
		case RuleRate:
			if !hasPrev || row.At <= prevAt {
				if !hasPrev || row.At < prevAt {
					prevAt, prev, hasPrev = row.At, row.Value, true
				}
				continue
			}
			d := row.Value - prev
			if d < 0 {
				d = -d
			}
			v = d / (float64(row.At-prevAt) / 60_000)
			prevAt, prev = row.At, row.Value
		}
		var over, back bool
		switch e.r.Kind {
		case RuleAbove, RuleRate:
			over, back = v > e.r.Threshold, v <= clearAt
		case RuleBelow:
			over, back = v < e.r.Threshold, v >= clearAt
		}
		switch {
		case e.open == nil && over:
			if err := e.raise(ctx, row.At, v); err != nil {
				return err
			}
		case e.open != nil && over:
			e.open.Hits++
			e.open.LastAtMS = max(e.open.LastAtMS, row.At)
			e.open.Value = &v
			if e.r.Kind == RuleBelow {
				e.open.Peak = ptrMin(e.open.Peak, v)
			} else {
				e.open.Peak = ptrMax(e.open.Peak, v)
			}
			e.dirty = true
		case e.open != nil && back:
			if err := e.clear(ctx, &row.At); err != nil {
				return err
			}
		}
	}
	return e.flush(ctx)
}

func ptrMax(p *float64, v float64) *float64 {
	if p == nil || v > *p {
		return &v
	}
	return p
}

func ptrMin(p *float64, v float64) *float64 {
	if p == nil || v < *p {
		return &v
	}
	return p
}

// raise opens an alarm of the rule at (ms) with value v. Its case status follows the rule's
// action, unless a case of the same rule and device is still open or about to be: the alarm
// then joins it.
func (e *judge) raise(ctx context.Context, at int64, v float64) error {
	r := e.r
	a := &Alarm{ID: newID(), RuleID: &r.ID, DeviceID: r.Dev, OpenKey: &e.key, Source: "rule", Kind: r.Kind, Metric: r.Metric,
		Severity: r.Severity, State: AlarmRaised, Message: alarmMessage(&r.Rule, v), Value: &v, Peak: &v, RaisedAtMS: at, LastAtMS: at,
		Hits: 1, CaseStatus: CaseNone, UpdatedAtMS: e.nowMS}
	if r.Action != ActionAlarm {
		if e.joins == nil {
			st, caseID, err := e.absorbed(ctx)
			if err != nil {
				return err
			}
			e.joins = &struct {
				status string
				caseID *string
			}{st, caseID}
		}
		st, caseID := e.joins.status, e.joins.caseID
		switch {
		case st == "" && r.Action == ActionCase:
			a.CaseStatus = CasePending
		case st == "":
			a.CaseStatus = CaseWaiting
		case caseID != nil:
			a.CaseStatus, a.CaseID = CaseOpened, caseID
		}
	}
	// A racing batch that raised the same alarm first: this one adds its hit to it.
	var got []string
	err := e.db.NewInsert().Model(a).ModelTableExpr("monitoring_alarms").
		On("CONFLICT (open_key) DO UPDATE").
		Set("hits = monitoring_alarms.hits + 1").
		Set("last_at = CASE WHEN EXCLUDED.last_at > monitoring_alarms.last_at THEN EXCLUDED.last_at ELSE monitoring_alarms.last_at END").
		Set("value = EXCLUDED.value").
		Set("updated_at = EXCLUDED.updated_at").
		Returning("id").Scan(ctx, &got)
	if err != nil {
		return err
	}
	if len(got) == 1 && got[0] != a.ID {
		var old Alarm
		if err := e.db.NewSelect().Model(&old).ModelTableExpr("monitoring_alarms AS a").Where("a.id = ?", got[0]).Scan(ctx); err != nil {
			return err
		}
		a = &old
	} else if a.CaseStatus == CasePending {
		e.pending = true
	}
	if r.Action != ActionAlarm && e.joins.status == "" {
		// Later crossings in this batch join this alarm's case.
		e.joins.status, e.joins.caseID = a.CaseStatus, a.CaseID
	}
	e.open, e.dirty = a, false
	return nil
}

// absorbed returns the case status of an earlier alarm of the same rule and device whose case
// is not done with: waiting, pending or failed (a case is about to be opened), or opened with
// its case still open (then its case id); "" when there is none.
func (e *judge) absorbed(ctx context.Context) (string, *string, error) {
	var got []struct {
		CaseStatus string  `bun:"case_status"`
		CaseID     *string `bun:"case_id"`
	}
	err := e.db.NewSelect().TableExpr("monitoring_alarms AS a").Column("a.case_status", "a.case_id").
		Join("LEFT JOIN cases AS c ON c.id = a.case_id").
		Where("a.rule_id = ? AND a.device_id = ?", e.r.ID, e.r.Dev).
		Where("(a.case_status IN (?) OR (a.case_status = ? AND c.state NOT IN ('closed', 'voided')))",
			bun.List([]string{CaseWaiting, CasePending, CaseFailed}), CaseOpened).
		OrderExpr("a.raised_at DESC").Limit(1).Scan(ctx, &got)
	if err != nil || len(got) == 0 {
		return "", nil, err
	}
	return got[0].CaseStatus, got[0].CaseID, nil
}

// flush writes the hits that the batch added to the open alarm.
func (e *judge) flush(ctx context.Context) error {
	a := e.open
	if a == nil || !e.dirty {
		return nil
	}
	e.dirty = false
	_, err := e.db.NewUpdate().TableExpr("monitoring_alarms").
		Set("hits = ?, last_at = ?, value = ?, peak = ?, updated_at = ?", a.Hits, a.LastAtMS, a.Value, a.Peak, e.nowMS).
		Where("open_key = ?", e.key).Exec(ctx)
	return err
}

// clear clears the open alarm by the rule (at: the reading's time; nil: now).
func (e *judge) clear(ctx context.Context, at *int64) error {
	if err := e.flush(ctx); err != nil {
		return err
	}
	when := e.nowMS
	if at != nil {
		when = *at
	}
	_, err := e.db.NewUpdate().TableExpr("monitoring_alarms").
		Set("state = ?, open_key = NULL, cleared_at = ?, cleared_by = 'rule', updated_at = ?", AlarmCleared, when, e.nowMS).
		Where("open_key = ?", e.key).Exec(ctx)
	e.open = nil
	return err
}

// alarmMessage says what crossed what: codes and numbers, the same in every language.
func alarmMessage(r *Rule, v float64) string {
	typ, _ := FindType(r.DeviceType)
	unit := ""
	if m, ok := typ.Metric(r.Metric); ok {
		unit = m.Unit
	}
	switch r.Kind {
	case RuleAbove:
		return fmt.Sprintf("%s %s%s > %s%s", r.Metric, fmtNum(v), unit, fmtNum(r.Threshold), unit)
	case RuleBelow:
		return fmt.Sprintf("%s %s%s < %s%s", r.Metric, fmtNum(v), unit, fmtNum(r.Threshold), unit)
	case RuleRate:
		return fmt.Sprintf("%s Δ %s%s/min > %s%s/min", r.Metric, fmtNum(v), unit, fmtNum(r.Threshold), unit)
	}
	return fmt.Sprintf("no_data %s min ≥ %s min", fmtNum(v), fmtNum(r.Threshold))
}

// fmtNum is a value as alarms show it: at most three decimals.
func fmtNum(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}

func newID() string {
	id, _ := uuid.NewV7()
	return id.String()
}
