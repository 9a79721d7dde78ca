package monitoring

import (
	"context"
	"fmt"
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

// SourceVideo is the source of alarms raised by events from video analytics.
const SourceVideo = "video"

// EventKinds are the event types of video analytics every tenant knows, with their names; a
// tenant's admin maps them (and may add types of their own) to what their alarms do.
var EventKinds = []struct {
	Code  string
	Label *msg.Message
}{
	{"occupied_road", msgEventOccupiedRoad},
	{"exposed_garbage", msgEventExposedGarbage},
	{"street_vending", msgEventStreetVending},
	{"illegal_parking", msgEventIllegalParking},
	{"overflowing_bin", msgEventOverflowingBin},
	{"road_waterlogging", msgEventWaterlogging},
	{"smoke_fire", msgEventSmokeFire},
}

// EventType is what an alarm of a video event type does: only an alarm, wait for a person to
// confirm a case, or open a case at once (with the case's kind, class and description), as a
// rule's action; events below MinConfidence are taken and ignored.
type EventType struct {
	bun.BaseModel `bun:"table:monitoring_video_types"`
	Type          string    `bun:"type,pk" json:"type"`
	Action        string    `bun:"action" json:"action"`
	Severity      string    `bun:"severity" json:"severity"`
	CaseKind      string    `bun:"case_kind" json:"case_kind"`
	ClassCode     string    `bun:"class_code" json:"class_code"`
	Description   string    `bun:"description" json:"description"`
	MinConfidence float64   `bun:"min_confidence" json:"min_confidence"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updated_at"`
	// Builtin is set for the types every tenant knows; NameZH/NameEN name them.
	Builtin bool   `bun:"-" json:"builtin"`
	NameZH  string `bun:"-" json:"name_zh"`
	NameEN  string `bun:"-" json:"name_en"`
}

// defaultEventType is what a built-in type does until the admin maps it: a warning alarm.
func defaultEventType(code string) *EventType {
	return &EventType{Type: code, Action: ActionAlarm, Severity: "warning"}
}

func builtinLabel(code string) *msg.Message {
	for _, k := range EventKinds {
		if k.Code == code {
			return k.Label
		}
	}
	return nil
}

func (et *EventType) name() {
	if l := builtinLabel(et.Type); l != nil {
		et.Builtin, et.NameZH, et.NameEN = true, msg.TextOf(msg.ZH, l.ID()), msg.TextOf(msg.EN, l.ID())
	}
}

// eventTypeIn returns the tenant's mapping of type code, the default for a built-in type, or
// NotFound (a field error) for a type the tenant does not know.
func eventTypeIn(ctx context.Context, db bun.IDB, code string) (*EventType, error) {
	et := &EventType{}
	err := dbx.Translate(db.NewSelect().Model(et).Where("type = ?", code).Scan(ctx))
	if errs.Is(err, errs.NotFound) {
		if builtinLabel(code) == nil {
			return nil, errs.Field("type", msgUnknownEventType, textutil.Truncate(code, 64))
		}
		et = defaultEventType(code)
	} else if err != nil {
		return nil, err
	}
	et.name()
	return et, nil
}

// FindEventTypes lists the built-in event types and the tenant's own, with what each does.
func (s *Service) FindEventTypes(ctx context.Context) ([]*EventType, error) {
	var rows []*EventType
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rows).Order("type").Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	out := []*EventType{}
	for _, k := range EventKinds {
		i := slices.IndexFunc(rows, func(r *EventType) bool { return r.Type == k.Code })
		et := defaultEventType(k.Code)
		if i >= 0 {
			et = rows[i]
		}
		et.name()
		out = append(out, et)
	}
	for _, r := range rows {
		if builtinLabel(r.Type) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// SetEventType maps the event type code (a built-in one or a new type of the tenant's analytics)
// to what its alarms do. A case action needs the case's kind (event or component) and class code.
// Audited as monitoring.video.type.
func (s *Service) SetEventType(ctx context.Context, code string, in EventType) (*EventType, error) {
	if !validCode(code) {
		return nil, errs.Field("type", msgEventTypeCode, textutil.Truncate(code, 64))
	}
	if !slices.Contains([]string{ActionAlarm, ActionConfirm, ActionCase}, in.Action) {
		return nil, errs.Field("action", msgEventAction)
	}
	if in.Severity == "" {
		in.Severity = "warning"
	}
	if !slices.Contains(Severities, in.Severity) {
		return nil, errs.Field("severity", msgEventSeverity, strings.Join(Severities, ", "))
	}
	if in.MinConfidence < 0 || in.MinConfidence > 1 || math.IsNaN(in.MinConfidence) {
		return nil, errs.Field("min_confidence", msgConfidence, "min_confidence")
	}
	for f, v := range map[string]string{"case_kind": in.CaseKind, "class_code": in.ClassCode} {
		if err := checkText(f, v, 20); err != nil {
			return nil, err
		}
	}
	if err := checkText("description", in.Description, 500); err != nil {
		return nil, err
	}
	if in.Action != ActionAlarm {
		if k, ok := catalog.ParseKind(in.CaseKind); !ok {
			return nil, errs.Field("case_kind", msgEventCaseKind)
		} else {
			in.CaseKind = string(k)
		}
		if strings.TrimSpace(in.ClassCode) == "" {
			return nil, errs.Field("class_code", msgEventClass)
		}
	}
	et := &EventType{Type: code, Action: in.Action, Severity: in.Severity, CaseKind: in.CaseKind, ClassCode: strings.TrimSpace(in.ClassCode),
		Description: strings.TrimSpace(in.Description), MinConfidence: in.MinConfidence, UpdatedAt: s.now().UTC()}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(et).On("CONFLICT (type) DO UPDATE").
			Set("action = EXCLUDED.action, severity = EXCLUDED.severity, case_kind = EXCLUDED.case_kind, class_code = EXCLUDED.class_code, description = EXCLUDED.description, min_confidence = EXCLUDED.min_confidence, updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	et.name()
	return et, s.gate.AuditTenant(ctx, "monitoring.video.type", code, map[string]string{"action": et.Action})
}

// Event is an event from a camera's video analytics.
type Event struct {
	// ID is the analytics' own id of the event: the same id again is taken once.
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Confidence is the analytics' confidence, 0 to 1.
	Confidence float64 `json:"confidence"`
	// Snapshot is a JPEG of the scene (base64 in JSON), at most MaxSnapshot bytes.
	Snapshot []byte `json:"snapshot"`
}

// EventResult is the answer to an event.
type EventResult struct {
	Event  string `json:"event"`
	Device string `json:"device"`
	// Alarm is the open alarm of the camera and type the event counted on (empty when the
	// event was below the type's minimum confidence).
	Alarm      string `json:"alarm,omitempty"`
	Hits       int    `json:"hits,omitempty"`
	CaseStatus string `json:"case_status,omitempty"`
	Ignored    bool   `json:"ignored,omitempty"`
	// Duplicate is set when the event was taken before: nothing was written again.
	Duplicate bool `json:"duplicate"`
}

type eventRow struct {
	bun.BaseModel `bun:"table:monitoring_video_events"`
	DeviceID      int64   `bun:"device_id,pk"`
	EventID       string  `bun:"event_id,pk"`
	Type          string  `bun:"type"`
	At            int64   `bun:"at"`
	Confidence    float64 `bun:"confidence"`
	AlarmID       *string `bun:"alarm_id"`
	ReceivedAt    int64   `bun:"received_at"`
}

// snapshotRow is an alarm's snapshot.
type snapshotRow struct {
	bun.BaseModel `bun:"table:monitoring_snapshots"`
	AlarmID       string  `bun:"alarm_id,pk"`
	DeviceID      int64   `bun:"device_id"`
	TakenAt       int64   `bun:"taken_at"`
	Origin        string  `bun:"origin"`
	Data          []byte  `bun:"data"`
	Error         *string `bun:"error"`
	PhotoID       *string `bun:"photo_id"`
	PhotoError    *string `bun:"photo_error"`
}

// caseStatusOf is the case status a new alarm of an action starts with.
func caseStatusOf(action string) string {
	switch action {
	case ActionConfirm:
		return CaseWaiting
	case ActionCase:
		return CasePending
	}
	return CaseNone
}

// checkEvent refuses a malformed event before anything is read.
func (s *Service) checkEvent(ev *Event) error {
	if !validCode(ev.ID) {
		return errs.Field("id", msgEventID)
	}
	if !validCode(ev.Type) {
		return errs.Field("type", msgUnknownEventType, textutil.Truncate(strings.ToValidUTF8(strings.ReplaceAll(ev.Type, "\x00", ""), ""), 64))
	}
	if ev.Confidence < 0 || ev.Confidence > 1 || math.IsNaN(ev.Confidence) {
		return errs.Field("confidence", msgConfidence, "confidence")
	}
	if len(ev.Snapshot) > MaxSnapshot {
		return errs.E(errs.TooLarge, msgSnapshotTooLarge, MaxSnapshot>>10)
	}
	if len(ev.Snapshot) > 0 && !isJPEG(ev.Snapshot) {
		return errs.E(errs.Unsupported, msgSnapshotNotJPEG)
	}
	now := s.now()
	if ev.At.IsZero() {
		ev.At = now
	}
	if ev.At.After(now.Add(MaxSkew)) || ev.At.Before(now.Add(-24*time.Hour)) {
		return errs.Field("at", msgEventTime)
	}
	return nil
}

// IngestEvent takes an event posted with a camera's token in the tenant of ctx's scope: in one
// tenant transaction it raises an alarm (source video, kind the event's type) or counts a hit on
// the camera's open alarm of that type (open_key video:<type>:<device>), keeps the event's
// snapshot for the alarm, and records the event by its id, so that the same event again writes
// nothing. The type's mapping (SetEventType) decides the new alarm's case status. A token that is
// not a device's of this tenant is Unauthorized; a device that is not a camera is Forbidden.
func (s *Service) IngestEvent(ctx context.Context, token string, ev Event) (*EventResult, error) {
	if err := s.checkEvent(&ev); err != nil {
		return nil, err
	}
	now := s.now()
	nowMS, at := now.UnixMilli(), ev.At.UnixMilli()
	res := &EventResult{Event: ev.ID}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := deviceByToken(ctx, db, token)
		if err != nil {
			return err
		}
		res.Device = d.Code
		if d.Type != CameraType.Code {
			return errs.E(errs.Forbidden, msgOnlyCamerasSendEvents, d.Code)
		}
		var prev eventRow
		if err := dbx.Translate(db.NewSelect().Model(&prev).Where("device_id = ? AND event_id = ?", d.ID, ev.ID).Scan(ctx)); err == nil {
			res.Duplicate = true
			if prev.AlarmID != nil {
				res.Alarm = *prev.AlarmID
			} else {
				res.Ignored = true
			}
			return nil
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		et, err := eventTypeIn(ctx, db, ev.Type)
		if err != nil {
			return err
		}
		row := &eventRow{DeviceID: d.ID, EventID: ev.ID, Type: ev.Type, At: at, Confidence: ev.Confidence, ReceivedAt: nowMS}
		if ev.Confidence >= et.MinConfidence {
			msgText := et.Description
			if msgText == "" && et.NameZH != "" {
				msgText = et.NameZH
			}
			conf := ev.Confidence
			var a struct {
				ID         string `bun:"id"`
				Hits       int    `bun:"hits"`
				CaseStatus string `bun:"case_status"`
			}
			openKey := fmt.Sprintf("%s:%s:%d", SourceVideo, ev.Type, d.ID)
			err := db.NewRaw(`INSERT INTO monitoring_alarms (id, device_id, open_key, source, kind, metric, severity, state, message, value, peak,
    raised_at, last_at, hits, case_status, updated_at)
VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
ON CONFLICT (open_key) DO UPDATE SET hits = monitoring_alarms.hits + 1,
    last_at = CASE WHEN EXCLUDED.last_at > monitoring_alarms.last_at THEN EXCLUDED.last_at ELSE monitoring_alarms.last_at END,
    peak = CASE WHEN EXCLUDED.peak > monitoring_alarms.peak THEN EXCLUDED.peak ELSE monitoring_alarms.peak END,
    value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
RETURNING id, hits, case_status`,
				uuid.NewString(), d.ID, openKey, SourceVideo, ev.Type, et.Severity, AlarmRaised, msgText, conf, conf, at, at, caseStatusOf(et.Action), nowMS).
				Scan(ctx, &a)
			if err != nil {
				return err
			}
			res.Alarm, res.Hits, res.CaseStatus = a.ID, a.Hits, a.CaseStatus
			row.AlarmID = &a.ID
			if len(ev.Snapshot) > 0 {
				if _, err := db.NewInsert().Model(&snapshotRow{AlarmID: a.ID, DeviceID: d.ID, TakenAt: at, Origin: "event", Data: ev.Snapshot}).
					On("CONFLICT (alarm_id) DO NOTHING").Exec(ctx); err != nil {
					return err
				}
			}
		} else {
			res.Ignored = true
		}
		if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
			if err = dbx.Translate(err); errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, msgEventInFlight, ev.ID)
			}
			return err
		}
		_, err = db.NewUpdate().Model((*Device)(nil)).Set("last_seen = ?", nowMS).Where("id = ?", d.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// FindSnapshot returns the snapshot of alarm id of the tenant (NotFound when it has none).
func (s *Service) FindSnapshot(ctx context.Context, alarm string) ([]byte, error) {
	var row snapshotRow
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return dbx.Translate(db.NewSelect().Model(&row).Where("alarm_id = ? AND data IS NOT NULL", alarm).Scan(ctx))
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoSnapshot, textutil.Truncate(alarm, 40))
	}
	return row.Data, err
}

// FindCameraAlarms returns the recent alarms of a camera (newest first) and which of them have a
// snapshot.
func (s *Service) FindCameraAlarms(ctx context.Context, c *Camera, limit int) ([]*Alarm, map[string]bool, error) {
	if c.ReadOnly() {
		return []*Alarm{}, map[string]bool{}, nil // a shared camera's alarms are the prefecture's
	}
	as, err := s.FindAlarms(ctx, AlarmFilter{Device: c.Code, Limit: limit})
	if err != nil {
		return nil, nil, err
	}
	snap := map[string]bool{}
	if len(as) == 0 {
		return as, snap, nil
	}
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	var have []string
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model((*snapshotRow)(nil)).Column("alarm_id").Where("alarm_id IN (?) AND data IS NOT NULL", bun.List(ids)).Scan(ctx, &have)
	})
	for _, h := range have {
		snap[h] = true
	}
	return as, snap, err
}

// videoCase is what the case of a video alarm (source video, kind the event type) is made of: the
// tenant's mapping of the type (case kind, class code and description; the type's name when the
// mapping has no description). The alarm→case opener reads it for alarms without a rule; ok is
// false when the type is not mapped to a case (nothing to open).
func videoCase(ctx context.Context, db bun.IDB, eventType string) (caseKind, classCode, description string, ok bool, err error) {
	et, err := eventTypeIn(ctx, db, eventType)
	if errs.Is(err, errs.Invalid) {
		return "", "", "", false, nil // the type was removed from the tenant's mapping
	}
	if err != nil || et.Action == ActionAlarm || et.CaseKind == "" || et.ClassCode == "" {
		return "", "", "", false, err
	}
	description = et.Description
	if description == "" {
		description = et.NameZH
	}
	return et.CaseKind, et.ClassCode, description, true, nil
}
