package monitoring

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Classes finds a minor class of the tenant's catalog (catalog.Service), to check a rule's case
// class when the rule is saved; the case loop checks it again when the case is reported.
type Classes interface {
	Lookup(ctx context.Context, kind catalog.Kind, code string) (*catalog.Entry, error)
}

// MaxNoDataMinutes bounds a no_data rule's minutes (a week).
const MaxNoDataMinutes = 10080

// RuleInput is a rule to create, or the whole of a rule to replace (UpdateRule). DeviceType is
// a type code (or its Chinese name); Device, a device's code, makes the rule that device's only
// (its type then need not be given). Severity defaults to warning, Action to alarm, Enabled to
// true.
type RuleInput struct {
	Name        string   `json:"name"`
	DeviceType  string   `json:"device_type"`
	Device      string   `json:"device"`
	Metric      string   `json:"metric"`
	Kind        string   `json:"kind"`
	Threshold   *float64 `json:"threshold"`
	ClearAt     *float64 `json:"clear_at"`
	Severity    string   `json:"severity"`
	Action      string   `json:"action"`
	CaseKind    string   `json:"case_kind"`
	ClassCode   string   `json:"class_code"`
	Description string   `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

// InputOf is the input that saves r unchanged (the console edits a rule through it).
func InputOf(r *Rule) RuleInput {
	in := RuleInput{Name: r.Name, DeviceType: r.DeviceType, Metric: r.Metric, Kind: r.Kind, Threshold: &r.Threshold,
		ClearAt: r.ClearAt, Severity: r.Severity, Action: r.Action, CaseKind: r.CaseKind, ClassCode: r.ClassCode,
		Description: r.Description, Enabled: &r.Enabled}
	if r.DeviceCode != nil {
		in.Device = *r.DeviceCode
	}
	return in
}

// finite reports whether f is a number (not NaN or infinite).
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// checkRule validates in and returns the rule it makes (without id and times); the device,
// when named, is looked up in db; the class by s.classes.
func (s *Service) checkRule(ctx context.Context, db bun.IDB, in RuleInput) (*Rule, error) {
	r := &Rule{Enabled: true}
	if err := checkText("name", in.Name, 100); err != nil {
		return nil, err
	}
	if r.Name = strings.TrimSpace(in.Name); r.Name == "" {
		return nil, errs.Field("name", msgRuleName)
	}
	if in.Device != "" {
		if !validCode(in.Device) {
			return nil, errs.Field("device", msgDeviceCode, textutil.Truncate(in.Device, 64))
		}
		var d Device
		if err := deviceByCode(ctx, db, in.Device, &d); err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("device", msgNoDevice, in.Device)
			}
			return nil, err
		}
		if in.DeviceType != "" {
			if t, ok := FindType(in.DeviceType); !ok || t.Code != d.Type {
				return nil, errs.Field("device_type", msgRuleDeviceType, d.Code, d.Type)
			}
		}
		code := d.Code
		r.DeviceID, r.DeviceCode, r.DeviceType = &d.ID, &code, d.Type
	} else {
		t, ok := FindType(in.DeviceType)
		if !ok {
			return nil, errs.Field("device_type", msgUnknownType, textutil.Truncate(in.DeviceType, 20), typeCodes())
		}
		r.DeviceType = t.Code
	}
	typ, _ := FindType(r.DeviceType)
	if !slices.Contains(RuleKinds, in.Kind) {
		return nil, errs.Field("kind", msgRuleKind, textutil.Truncate(in.Kind, 20))
	}
	r.Kind = in.Kind
	var m *Metric
	if in.Metric != "" || r.Kind != RuleNoData {
		var ok bool
		if m, ok = typ.Metric(in.Metric); !ok {
			return nil, errs.Field("metric", msgMetricNotOfType, textutil.Truncate(in.Metric, 20), typ.Code)
		}
		r.Metric = m.Code
	}
	if in.Threshold == nil || !finite(*in.Threshold) {
		return nil, errs.Field("threshold", msgRuleThreshold)
	}
	r.Threshold = *in.Threshold
	if in.ClearAt != nil && !finite(*in.ClearAt) {
		return nil, errs.Field("clear_at", msgRuleClearAt)
	}
	r.ClearAt = in.ClearAt
	switch r.Kind {
	case RuleAbove, RuleBelow:
		if r.Threshold < m.Min || r.Threshold > m.Max {
			return nil, errs.Field("threshold", msgRuleThresholdRange, fmtFloat(m.Min), fmtFloat(m.Max), m.Unit)
		}
		if r.ClearAt != nil && (r.Kind == RuleAbove && *r.ClearAt > r.Threshold || r.Kind == RuleBelow && *r.ClearAt < r.Threshold) {
			return nil, errs.Field("clear_at", msgRuleClearAtSide)
		}
	case RuleRate:
		if r.Threshold <= 0 {
			return nil, errs.Field("threshold", msgRuleRatePositive)
		}
		if r.ClearAt != nil && (*r.ClearAt < 0 || *r.ClearAt > r.Threshold) {
			return nil, errs.Field("clear_at", msgRuleClearAtSide)
		}
	case RuleNoData:
		if r.Threshold < 1 || r.Threshold > MaxNoDataMinutes || r.Threshold != math.Trunc(r.Threshold) {
			return nil, errs.Field("threshold", msgRuleNoDataMinutes, MaxNoDataMinutes)
		}
		if r.ClearAt != nil {
			return nil, errs.Field("clear_at", msgRuleNoDataClearAt)
		}
	}
	r.Severity, r.Action = cmpOr(in.Severity, "warning"), cmpOr(in.Action, ActionAlarm)
	if !slices.Contains(Severities, r.Severity) {
		return nil, errs.Field("severity", msgRuleSeverity)
	}
	if !slices.Contains([]string{ActionAlarm, ActionConfirm, ActionCase}, r.Action) {
		return nil, errs.Field("action", msgRuleAction)
	}
	if err := checkText("description", in.Description, 500); err != nil {
		return nil, err
	}
	if r.Action != ActionAlarm {
		k, ok := catalog.ParseKind(in.CaseKind)
		if !ok {
			return nil, errs.Field("case_kind", msgRuleCaseKind)
		}
		if len(in.ClassCode) != 4 || strings.Trim(in.ClassCode, "0123456789") != "" {
			return nil, errs.Field("class_code", msgRuleClassCode, textutil.Truncate(in.ClassCode, 10))
		}
		if s.classes != nil {
			if _, err := s.classes.Lookup(ctx, k, in.ClassCode); errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
				return nil, errs.Field("class_code", msgRuleNoClass, k, in.ClassCode)
			} else if err != nil {
				return nil, err
			}
		}
		r.CaseKind, r.ClassCode = string(k), in.ClassCode
		r.Description = strings.TrimSpace(in.Description)
		if r.Description == "" {
			r.Description = msg.TextOf(msg.ZH, msgRuleDefaultDescription.ID())
		}
	} else {
		r.Description = strings.TrimSpace(in.Description)
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
	return r, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ruleAdmin refuses anyone but the tenant's admins (read-write).
func ruleAdmin(ctx context.Context) error {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return errs.E(errs.Forbidden, msgRuleAdminOnly)
	}
	return nil
}

// ruleQuery selects rules into out with their device's code.
func ruleQuery(db bun.IDB, out any) *bun.SelectQuery {
	return db.NewSelect().Model(out).ColumnExpr("r.*").ColumnExpr("d.code AS device_code").
		Join("LEFT JOIN monitoring_devices AS d ON d.id = r.device_id")
}

// FindRules returns the tenant's rules, by type, then name.
func (s *Service) FindRules(ctx context.Context) ([]*Rule, error) {
	out := []*Rule{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return ruleQuery(db, &out).ModelTableExpr("monitoring_rules AS r").OrderExpr("r.device_type, r.name, r.id").Scan(ctx)
	})
	return out, err
}

// FindRuleByID returns one rule.
func (s *Service) FindRuleByID(ctx context.Context, id string) (*Rule, error) {
	var r Rule
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error { return ruleByID(ctx, db, id, &r) })
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func ruleByID(ctx context.Context, db bun.IDB, id string, r *Rule) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.E(errs.NotFound, msgNoRule, textutil.Truncate(id, 40))
	}
	err := dbx.Translate(ruleQuery(db, r).ModelTableExpr("monitoring_rules AS r").Where("r.id = ?", id).Scan(ctx))
	if errs.Is(err, errs.NotFound) {
		return errs.E(errs.NotFound, msgNoRule, id)
	}
	return err
}

// CreateRule adds a rule (tenant admins only). Audited as monitoring.rule.create.
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (*Rule, error) {
	if err := ruleAdmin(ctx); err != nil {
		return nil, err
	}
	var r *Rule
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var err error
		if r, err = s.checkRule(ctx, db, in); err != nil {
			return err
		}
		id, _ := uuid.NewV7()
		r.ID = id.String()
		r.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
		r.UpdatedAt = r.CreatedAt
		_, err = db.NewInsert().Model(r).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	return r, s.gate.AuditTenant(ctx, "monitoring.rule.create", r.ID, ruleAudit(r))
}

// UpdateRule replaces rule id with in (tenant admins only). Its open alarms stay open and are
// judged by the rule as it now is, unless the rule is now off or watches another kind, metric or
// device: they are cleared then (nothing would ever judge them). Audited as
// monitoring.rule.update.
func (s *Service) UpdateRule(ctx context.Context, id string, in RuleInput) (*Rule, error) {
	if err := ruleAdmin(ctx); err != nil {
		return nil, err
	}
	var r *Rule
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var old Rule
		if err := ruleByID(ctx, db, id, &old); err != nil {
			return err
		}
		var err error
		if r, err = s.checkRule(ctx, db, in); err != nil {
			return err
		}
		r.ID, r.CreatedAt, r.UpdatedAt = old.ID, old.CreatedAt, s.now().UTC().Truncate(time.Microsecond)
		if _, err = db.NewUpdate().Model(r).ExcludeColumn("id", "created_at").Where("id = ?", id).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		// Alarms that the rule as it now is would never judge again (off, or watching something
		// else) are cleared by it now; the others stay open and are judged by the new rule.
		same := r.Kind == old.Kind && r.Metric == old.Metric && r.DeviceType == old.DeviceType &&
			(r.DeviceID == nil) == (old.DeviceID == nil) && (r.DeviceID == nil || *r.DeviceID == *old.DeviceID)
		if r.Enabled && same {
			return nil
		}
		return clearRuleAlarms(ctx, db, id, s.now().UnixMilli())
	})
	if err != nil {
		return nil, err
	}
	return r, s.gate.AuditTenant(ctx, "monitoring.rule.update", r.ID, ruleAudit(r))
}

// DeleteRule removes rule id (tenant admins only); its alarms stay, without their rule, and its
// open ones are cleared (nothing would ever clear them). Audited as monitoring.rule.delete.
func (s *Service) DeleteRule(ctx context.Context, id string) error {
	if err := ruleAdmin(ctx); err != nil {
		return err
	}
	var r Rule
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := ruleByID(ctx, db, id, &r); err != nil {
			return err
		}
		if err := clearRuleAlarms(ctx, db, id, s.now().UnixMilli()); err != nil {
			return err
		}
		_, err := db.NewDelete().Model((*Rule)(nil)).ModelTableExpr("monitoring_rules").Where("id = ?", id).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "monitoring.rule.delete", id, map[string]string{"name": r.Name})
}

// clearRuleAlarms clears the open alarms of rule (by the rule) at now (ms).
func clearRuleAlarms(ctx context.Context, db bun.IDB, rule string, now int64) error {
	_, err := db.NewUpdate().TableExpr("monitoring_alarms").
		Set("state = ?, open_key = NULL, cleared_at = ?, cleared_by = ?, updated_at = ?", AlarmCleared, now, "rule", now).
		Where("rule_id = ? AND state <> ?", rule, AlarmCleared).Exec(ctx)
	return err
}

func ruleAudit(r *Rule) map[string]any {
	d := map[string]any{"name": r.Name, "device_type": r.DeviceType, "metric": r.Metric, "kind": r.Kind, "threshold": r.Threshold,
		"severity": r.Severity, "action": r.Action, "enabled": r.Enabled}
	if r.DeviceCode != nil {
		d["device"] = *r.DeviceCode
	}
	if r.ClearAt != nil {
		d["clear_at"] = *r.ClearAt
	}
	if r.Action != ActionAlarm {
		d["case_kind"], d["class_code"] = r.CaseKind, r.ClassCode
	}
	return d
}
