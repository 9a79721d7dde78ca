package monitoring

import (
	"context"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// The kinds of rule.
const (
	RuleAbove  = "above"   // the value is above the threshold
	RuleBelow  = "below"   // the value is below the threshold
	RuleRate   = "rate"    // the value changes faster than the threshold per minute (either way)
	RuleNoData = "no_data" // no reading for threshold minutes
)

// RuleKinds are the kinds of rule, in display order.
var RuleKinds = []string{RuleAbove, RuleBelow, RuleRate, RuleNoData}

// Severities, lowest first.
var Severities = []string{"info", "warning", "critical"}

// What an alarm of a rule does about a case.
const (
	ActionAlarm   = "alarm"   // nothing: the alarm is all
	ActionConfirm = "confirm" // a person confirms, then a case opens
	ActionCase    = "case"    // a case opens at once
)

// The states of an alarm.
const (
	AlarmRaised       = "raised"
	AlarmAcknowledged = "acknowledged"
	AlarmCleared      = "cleared"
)

// The case status of an alarm.
const (
	CaseNone    = "none"    // no case is to be opened
	CaseWaiting = "waiting" // a person is to confirm (or dismiss) the case
	CasePending = "pending" // a case is to be opened
	CaseOpened  = "opened"  // the case is open (case_id)
	CaseFailed  = "failed"  // opening it failed (case_error); tried again
)

// Rule is a tenant's alarm rule.
type Rule struct {
	bun.BaseModel `bun:"table:monitoring_rules"`
	ID            string   `bun:"id,pk" json:"id"`
	Name          string   `bun:"name" json:"name"`
	DeviceType    string   `bun:"device_type" json:"device_type"`
	DeviceID      *int64   `bun:"device_id" json:"-"`
	Metric        string   `bun:"metric" json:"metric"`
	Kind          string   `bun:"kind" json:"kind"`
	Threshold     float64  `bun:"threshold" json:"threshold"`
	ClearAt       *float64 `bun:"clear_at" json:"clear_at"`
	Severity      string   `bun:"severity" json:"severity"`
	Action        string   `bun:"action" json:"action"`
	CaseKind      string   `bun:"case_kind" json:"case_kind"`
	ClassCode     string   `bun:"class_code" json:"class_code"`
	Description   string   `bun:"description" json:"description"`
	Enabled       bool     `bun:"enabled" json:"enabled"`
	// DeviceCode is the device's code for a rule of one device (read with a join).
	DeviceCode *string   `bun:"device_code,scanonly" json:"device_code"`
	CreatedAt  time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at" json:"updated_at"`
}

// Alarm is one alarm of a device: raised by a rule (source "rule") or by an event from video
// analytics (source "video").
type Alarm struct {
	bun.BaseModel `bun:"table:monitoring_alarms,alias:a"`
	ID            string   `bun:"id,pk" json:"id"`
	RuleID        *string  `bun:"rule_id" json:"rule_id"`
	DeviceID      int64    `bun:"device_id" json:"-"`
	OpenKey       *string  `bun:"open_key" json:"-"`
	Source        string   `bun:"source" json:"source"`
	Kind          string   `bun:"kind" json:"kind"`
	Metric        string   `bun:"metric" json:"metric"`
	Severity      string   `bun:"severity" json:"severity"`
	State         string   `bun:"state" json:"state"`
	Message       string   `bun:"message" json:"message"`
	Value         *float64 `bun:"value" json:"value"`
	Peak          *float64 `bun:"peak" json:"peak"`
	RaisedAtMS    int64    `bun:"raised_at" json:"-"`
	LastAtMS      int64    `bun:"last_at" json:"-"`
	Hits          int      `bun:"hits" json:"hits"`
	AckAtMS       *int64   `bun:"acknowledged_at" json:"-"`
	AckBy         *string  `bun:"acknowledged_by" json:"acknowledged_by"`
	ClearedAtMS   *int64   `bun:"cleared_at" json:"-"`
	ClearedBy     *string  `bun:"cleared_by" json:"cleared_by"`
	CaseStatus    string   `bun:"case_status" json:"case_status"`
	CaseID        *string  `bun:"case_id" json:"case_id"`
	CaseError     *string  `bun:"case_error" json:"case_error"`
	// CaseClaimMS is how long a case opener's claim on the alarm's case lasts (alarm_cases.go).
	CaseClaimMS *int64 `bun:"case_claim_until" json:"-"`
	UpdatedAtMS int64  `bun:"updated_at" json:"-"`

	// Read with a join of the device.
	DeviceCode string  `bun:"device_code,scanonly" json:"device"`
	DeviceName string  `bun:"device_name,scanonly" json:"device_name"`
	DeviceType string  `bun:"device_type,scanonly" json:"device_type"`
	Lon        float64 `bun:"lon,scanonly" json:"lon"`
	Lat        float64 `bun:"lat,scanonly" json:"lat"`
	GridCode   *string `bun:"grid_code,scanonly" json:"grid_code"`

	// Filled in from the milliseconds when read.
	RaisedAt  time.Time  `bun:"-" json:"raised_at"`
	LastAt    time.Time  `bun:"-" json:"last_at"`
	AckAt     *time.Time `bun:"-" json:"acknowledged_at"`
	ClearedAt *time.Time `bun:"-" json:"cleared_at"`
}

// Open reports whether the alarm is not cleared.
func (a *Alarm) Open() bool { return a.State != AlarmCleared }

func (a *Alarm) fill() {
	ms := func(v *int64) *time.Time {
		if v == nil {
			return nil
		}
		t := time.UnixMilli(*v).UTC()
		return &t
	}
	a.RaisedAt, a.LastAt = time.UnixMilli(a.RaisedAtMS).UTC(), time.UnixMilli(a.LastAtMS).UTC()
	a.AckAt, a.ClearedAt = ms(a.AckAtMS), ms(a.ClearedAtMS)
}

// AlarmFilter selects alarms: by state ("open": raised or acknowledged; a state; empty: all), by
// device, by a time they changed at or after (ms: what a live view asks for), newest first.
type AlarmFilter struct {
	State        string
	Device       string
	ChangedSince int64
	Limit        int
}

// alarmQuery selects alarms into out with their device's columns, for every read of alarms.
func alarmQuery(db bun.IDB, out any) *bun.SelectQuery {
	return db.NewSelect().Model(out).ColumnExpr("a.*").
		ColumnExpr("d.code AS device_code, d.name AS device_name, d.type AS device_type, d.lon, d.lat, d.grid_code").
		Join("JOIN monitoring_devices AS d ON d.id = a.device_id")
}

// FindAlarms returns the tenant's alarms that f selects, newest raised first (at most f.Limit,
// 200 by default, 1000 at most).
func (s *Service) FindAlarms(ctx context.Context, f AlarmFilter) ([]*Alarm, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	if f.State != "" && f.State != "open" && !slices.Contains([]string{AlarmRaised, AlarmAcknowledged, AlarmCleared}, f.State) {
		return nil, errs.Field("state", msgAlarmState)
	}
	out := []*Alarm{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := alarmQuery(db, &out).OrderExpr("a.raised_at DESC, a.id").Limit(int64(f.Limit))
		switch f.State {
		case "":
		case "open":
			q = q.Where("a.state <> ?", AlarmCleared)
		default:
			q = q.Where("a.state = ?", f.State)
		}
		if f.Device != "" {
			q = q.Where("d.code = ?", f.Device)
		}
		if f.ChangedSince > 0 {
			q = q.Where("a.updated_at >= ?", f.ChangedSince)
		}
		return q.Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	for _, a := range out {
		a.fill()
	}
	return out, nil
}
