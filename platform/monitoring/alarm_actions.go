package monitoring

import (
	"context"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// AlarmRoles are the posts that act on alarms: acknowledge, clear, confirm or dismiss their
// case. Every member reads them, and so do the prefecture's viewers.
var AlarmRoles = []tenants.Role{tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.TenantAdmin}

// The actions on an alarm.
const (
	AlarmAcknowledge = "acknowledge" // a person has seen it
	AlarmClear       = "clear"       // a person clears it (with a reason, maybe)
	AlarmConfirm     = "confirm"     // a person confirms that its case is to be opened
	AlarmDismiss     = "dismiss"     // a person decides that no case is needed: it is cleared
)

// CanActOnAlarms reports whether the scope may act on alarms (the console shows the buttons).
func CanActOnAlarms(sc *tenants.Scope) bool {
	return sc != nil && !sc.ReadOnly && sc.Has(AlarmRoles...)
}

// who is the person (their email) or the program acting in ctx.
func who(ctx context.Context) string {
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		if p.Identity.Email != "" {
			return p.Identity.Email
		}
		return p.Identity.ID.String()
	}
	return "system"
}

// FindAlarmByID returns one alarm of the tenant with its device.
func (s *Service) FindAlarmByID(ctx context.Context, id string) (*Alarm, error) {
	var a Alarm
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error { return alarmByID(ctx, db, id, &a) })
	if err != nil {
		return nil, err
	}
	a.fill()
	return &a, nil
}

func alarmByID(ctx context.Context, db bun.IDB, id string, a *Alarm) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.E(errs.NotFound, msgNoAlarm, textutil.Truncate(id, 40))
	}
	err := dbx.Translate(alarmQuery(db, a).Where("a.id = ?", id).Scan(ctx))
	if errs.Is(err, errs.NotFound) {
		return errs.E(errs.NotFound, msgNoAlarm, id)
	}
	return err
}

// ActOnAlarm does action (AlarmAcknowledge, AlarmClear, AlarmConfirm, AlarmDismiss) on alarm id,
// as the person of ctx (one of AlarmRoles), and returns the alarm as it is then:
//
//   - acknowledge: a raised alarm is acknowledged, with who and when;
//   - clear: an alarm not cleared is cleared by the person, with when (reason, optional, is
//     audited); a case it waits for stays to be confirmed or dismissed;
//   - confirm: a case waiting for a person is to be opened (the case opener is kicked);
//   - dismiss: a case waiting for a person is not needed, and the alarm is cleared.
//
// An action that does not fit the alarm's state is a conflict. Audited as
// monitoring.alarm.<action>.
func (s *Service) ActOnAlarm(ctx context.Context, id, action, reason string) (*Alarm, error) {
	sc := tenants.ScopeFrom(ctx)
	if !CanActOnAlarms(sc) {
		return nil, errs.E(errs.Forbidden, msgAlarmRoles)
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, 200); err != nil {
		return nil, errs.Field("reason", msgAlarmReason)
	}
	by := who(ctx)
	now := s.now().UnixMilli()
	var a Alarm
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := alarmByID(ctx, db, id, &a); err != nil {
			return err
		}
		q := db.NewUpdate().TableExpr("monitoring_alarms").Where("id = ?", a.ID).Set("updated_at = ?", now)
		switch action {
		case AlarmAcknowledge:
			if a.State == AlarmCleared {
				return errs.E(errs.Conflict, msgAlarmCleared, a.ID)
			}
			if a.State == AlarmAcknowledged {
				return errs.E(errs.Conflict, msgAlarmAcknowledged, a.ID)
			}
			q = q.Set("state = ?, acknowledged_at = ?, acknowledged_by = ?", AlarmAcknowledged, now, by).Where("state = ?", AlarmRaised)
		case AlarmClear:
			if a.State == AlarmCleared {
				return errs.E(errs.Conflict, msgAlarmCleared, a.ID)
			}
			q = q.Set("state = ?, open_key = NULL, cleared_at = ?, cleared_by = ?", AlarmCleared, now, by).Where("state <> ?", AlarmCleared)
		case AlarmConfirm, AlarmDismiss:
			if a.CaseStatus != CaseWaiting {
				return errs.E(errs.Conflict, msgAlarmNotWaiting, a.ID, a.CaseStatus)
			}
			q = q.Where("case_status = ?", CaseWaiting)
			if action == AlarmConfirm {
				q = q.Set("case_status = ?", CasePending)
			} else {
				q = q.Set("case_status = ?", CaseNone)
				if a.State != AlarmCleared {
					q = q.Set("state = ?, open_key = NULL, cleared_at = ?, cleared_by = ?", AlarmCleared, now, by)
				}
			}
		default:
			return errs.E(errs.NotFound, msgNoAlarm, textutil.Truncate(action, 20))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			// Changed by someone else in between (PostgreSQL): say so.
			return errs.E(errs.Conflict, msgAlarmChanged, a.ID)
		}
		return alarmByID(ctx, db, id, &a)
	})
	if err != nil {
		return nil, err
	}
	a.fill()
	if action == AlarmConfirm {
		s.kickCases(sc.Tenant)
	}
	detail := map[string]string{"device": a.DeviceCode}
	if reason != "" {
		detail["reason"] = reason
	}
	return &a, s.gate.AuditTenant(ctx, "monitoring.alarm."+action, a.ID, detail)
}
