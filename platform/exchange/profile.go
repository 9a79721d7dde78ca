package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Profile makes the items of a payload profile from outbox entries: it reads what each names
// (through the tenant gate, under the tenant scope of ctx) and says it in the profile's words.
// A profile may skip an entry it does not carry (Item.Skip): the entry is then done without
// being sent. Another profile (a later version, or another receiver's format such as the 12345
// hotline's) is another implementation, named by destinations.
type Profile interface {
	Items(ctx context.Context, entries []Entry) ([]Item, error)
}

// Indicators gives a tenant's monthly figures (platform/evaluation's Summarize, wired by the
// composition root), under the tenant scope of ctx.
type Indicators interface {
	Monthly(ctx context.Context, year int, month time.Month) (MonthFigures, error)
}

// MonthFigures are a month's counts (GB/T 30428.4): cases reported (上报数), filed (立案数), of
// those closed (结案数) and closed on time (按期结案数) by the month's end, and filed from an
// inspector's report (监督员上报数).
type MonthFigures struct {
	Reported          int64
	Filed             int64
	Closed            int64
	ClosedOnTime      int64
	InspectorReported int64
}

// ProfileV1 names the JSON profile this package ships: docs/exchange.md describes it field by
// field, with examples.
const ProfileV1 = "cityops-province/1"

// NewProfileV1 returns profile cityops-province/1 reading through gate, with the monthly
// indicators of ind (nil: indicator entries are skipped).
func NewProfileV1(gate Gate, ind Indicators) Profile { return &profileV1{gate: gate, ind: ind} }

type profileV1 struct {
	gate Gate
	ind  Indicators
}

// CaseV1 is a case as profile v1 sends it (案卷): no reporter's name or phone — citizens'
// personal data stays home.
type CaseV1 struct {
	ID          string           `json:"id"`
	Number      string           `json:"number"`
	Kind        string           `json:"kind"`
	MajorCode   string           `json:"major_code"`
	ClassCode   string           `json:"class_code"`
	Source      string           `json:"source"`
	State       string           `json:"state"`
	Description string           `json:"description"`
	Address     string           `json:"address"`
	Lon         float64          `json:"lon"`
	Lat         float64          `json:"lat"`
	GridCode    *string          `json:"grid_code"`
	Department  *DepartmentV1    `json:"department"`
	Limit       *json.RawMessage `json:"limit"`
	DeadlineAt  *time.Time       `json:"deadline_at"`
	Overdue     bool             `json:"overdue"`
	Overtime    float64          `json:"overtime_multiple"`
	Supervised  bool             `json:"supervised"`
	SelfHandled bool             `json:"self_handled"`
	ReportedAt  time.Time        `json:"reported_at"`
	ClosedAt    *time.Time       `json:"closed_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	AdminCode   string           `json:"admin_code"`
	Version     int              `json:"version"`
}

// DepartmentV1 names a department (处置部门) by its code and name.
type DepartmentV1 struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// EventV1 is one step of a case's history (流转记录): who (post, and the actor's opaque id —
// not their name or e-mail), what, from which state to which, why, when.
type EventV1 struct {
	ID          string                     `json:"id"`
	Version     int                        `json:"version"`
	Action      string                     `json:"action"`
	From        string                     `json:"from"`
	To          string                     `json:"to"`
	Post        string                     `json:"post"`
	Actor       string                     `json:"actor"`
	Reason      string                     `json:"reason"`
	Attachments int                        `json:"attachments"`
	Detail      map[string]json.RawMessage `json:"detail"`
	At          time.Time                  `json:"at"`
}

// CaseEventV1 is the data of a case_event item: the event and the case as it stands when the
// item is sent.
type CaseEventV1 struct {
	Case  CaseV1  `json:"case"`
	Event EventV1 `json:"event"`
}

// eventDetail are the members of an event's detail that go up; the rest (client programs,
// who placed a report) stays home.
var eventDetail = []string{"deadline", "limit", "extension", "passed", "filing_condition", "stage", "department_id", "returned_by"}

type caseEventRow struct {
	EventID     string     `bun:"event_id"`
	Version     int        `bun:"version"`
	Action      string     `bun:"action"`
	FromState   string     `bun:"from_state"`
	ToState     string     `bun:"to_state"`
	ActorID     string     `bun:"actor_id"`
	Post        string     `bun:"post"`
	Reason      string     `bun:"reason"`
	Attachments string     `bun:"attachments"`
	Detail      string     `bun:"detail"`
	At          time.Time  `bun:"at"`
	CaseID      string     `bun:"case_id"`
	Number      string     `bun:"number"`
	State       string     `bun:"state"`
	CaseVersion int        `bun:"case_version"`
	Source      string     `bun:"source"`
	Kind        string     `bun:"kind"`
	ClassCode   string     `bun:"class_code"`
	Description string     `bun:"description"`
	Address     string     `bun:"address"`
	Lon         float64    `bun:"lon"`
	Lat         float64    `bun:"lat"`
	GridCode    *string    `bun:"grid_code"`
	DeptCode    *string    `bun:"dept_code"`
	DeptName    *string    `bun:"dept_name"`
	LimitAmount *float64   `bun:"limit_amount"`
	LimitUnit   *string    `bun:"limit_unit"`
	DeadlineAt  *time.Time `bun:"deadline_at"`
	Overdue     bool       `bun:"overdue"`
	Overtime    float64    `bun:"overtime_multiple"`
	Supervised  bool       `bun:"supervised"`
	SelfHandled bool       `bun:"self_handled"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	ClosedAt    *time.Time `bun:"closed_at"`
}

// GridV1 is a grid (单元网格, or a street or community above them) as profile v1 sends it.
type GridV1 struct {
	Code       string          `json:"code"`
	Level      string          `json:"level"`
	Name       string          `json:"name"`
	ParentCode *string         `json:"parent_code"`
	Geometry   json.RawMessage `json:"geometry"`
	AreaM2     float64         `json:"area_m2"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// ComponentV1 is a component (部件) as profile v1 sends it.
type ComponentV1 struct {
	Code            string    `json:"code"`
	ClassCode       string    `json:"class_code"`
	Name            string    `json:"name"`
	Department      string    `json:"department"`
	OwnerUnit       string    `json:"owner_unit"`
	MaintenanceUnit string    `json:"maintenance_unit"`
	GridCode        *string   `json:"grid_code"`
	Status          string    `json:"status"`
	Lon             float64   `json:"lon"`
	Lat             float64   `json:"lat"`
	Source          string    `json:"source"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// RemovedV1 is the data of a grid or component item whose row is gone.
type RemovedV1 struct {
	Code    string `json:"code"`
	Deleted bool   `json:"deleted"`
}

// IndicatorsV1 are a month's indicators (考核指标) as profile v1 sends them: the counts and the
// rates made of them (null when the denominator is zero).
type IndicatorsV1 struct {
	Period            string    `json:"period"`
	From              time.Time `json:"from"`
	To                time.Time `json:"to"`
	Reported          int64     `json:"reported"`
	Filed             int64     `json:"filed"`
	Closed            int64     `json:"closed"`
	ClosedOnTime      int64     `json:"closed_on_time"`
	InspectorReported int64     `json:"inspector_reported"`
	CloseRate         *float64  `json:"close_rate"`
	OnTimeCloseRate   *float64  `json:"on_time_close_rate"`
	InspectorRate     *float64  `json:"inspector_report_rate"`
}

func rate(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// wireKey is an item's idempotency key on the wire: the sender's admin code, then the key of
// the change within the tenant, so that keys are unique across all of a receiver's senders.
func wireKey(t *tenants.Tenant, local string) string { return t.AdminCode + "/" + local }

func (p *profileV1) Items(ctx context.Context, entries []Entry) ([]Item, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	t := sc.Tenant
	out := make([]Item, len(entries))
	byKind := map[string][]int{}
	for i, e := range entries {
		out[i] = Item{Kind: e.Kind, Subject: e.Subject, Seq: e.Seq}
		byKind[e.Kind] = append(byKind[e.Kind], i)
	}
	err = p.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if ix := byKind[KindCaseEvent]; len(ix) > 0 {
			if err := caseEvents(ctx, db, t, entries, ix, out); err != nil {
				return err
			}
		}
		if ix := byKind[KindGrid]; len(ix) > 0 {
			if err := gridItems(ctx, db, t, entries, ix, out); err != nil {
				return err
			}
		}
		if ix := byKind[KindComponent]; len(ix) > 0 {
			if err := componentItems(ctx, db, t, entries, ix, out); err != nil {
				return err
			}
		}
		if ix := byKind[KindUpward]; len(ix) > 0 {
			if err := upwardItems(ctx, db, t, entries, ix, out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, i := range byKind[KindIndicators] {
		if err := p.indicators(ctx, t, entries[i], &out[i]); err != nil {
			return nil, err
		}
	}
	for i := range out {
		if out[i].Data == nil && !out[i].Skip {
			// A kind this profile does not know (rows of a newer version, say): done unsent.
			out[i].Skip = true
		}
	}
	return out, nil
}

func caseEvents(ctx context.Context, db bun.IDB, t *tenants.Tenant, entries []Entry, ix []int, out []Item) error {
	ids := make([]string, len(ix))
	for j, i := range ix {
		ids[j] = entries[i].Ref
	}
	var rows []caseEventRow
	if err := db.NewRaw(`SELECT e.id AS event_id, e.version, e.action, e.from_state, e.to_state, e.actor_id, e.post, e.reason,
		e.attachments, e.detail, e.at, c.id AS case_id, c.number, c.state, c.version AS case_version, c.source, c.kind, c.class_code,
		c.description, c.address, c.lon, c.lat, c.grid_code, d.code AS dept_code, d.name AS dept_name, c.limit_amount, c.limit_unit,
		c.deadline_at, c.overdue, c.overtime_multiple, c.supervised, c.self_handled, c.created_at, c.updated_at, c.closed_at
		FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN departments d ON d.id = c.department_id
		WHERE e.id IN (?)`, bun.List(ids)).Scan(ctx, &rows); err != nil {
		return err
	}
	by := make(map[string]*caseEventRow, len(rows))
	for k := range rows {
		by[rows[k].EventID] = &rows[k]
	}
	for _, i := range ix {
		r := by[entries[i].Ref]
		if r == nil {
			out[i].Skip = true // cannot happen: the history is append-only
			continue
		}
		data := CaseEventV1{Case: caseV1(t, r), Event: eventV1(r)}
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		out[i].Key, out[i].Data = wireKey(t, "ce:"+r.EventID), b
	}
	return nil
}

func caseV1(t *tenants.Tenant, r *caseEventRow) CaseV1 {
	c := CaseV1{ID: r.CaseID, Number: r.Number, Kind: r.Kind, ClassCode: r.ClassCode, Source: r.Source, State: r.State,
		Description: r.Description, Address: r.Address, Lon: r.Lon, Lat: r.Lat, GridCode: r.GridCode, DeadlineAt: utcp(r.DeadlineAt),
		Overdue: r.Overdue, Overtime: r.Overtime, Supervised: r.Supervised, SelfHandled: r.SelfHandled, ReportedAt: r.CreatedAt.UTC(),
		ClosedAt: utcp(r.ClosedAt), UpdatedAt: r.UpdatedAt.UTC(), AdminCode: t.AdminCode, Version: r.CaseVersion}
	if len(r.ClassCode) >= 2 {
		c.MajorCode = r.ClassCode[:2]
	}
	if r.DeptCode != nil && r.DeptName != nil {
		c.Department = &DepartmentV1{Code: *r.DeptCode, Name: *r.DeptName}
	}
	if r.LimitAmount != nil && r.LimitUnit != nil {
		l := json.RawMessage(fmt.Sprintf(`{"amount":%s,"unit":%q}`, strconv.FormatFloat(*r.LimitAmount, 'f', -1, 64), *r.LimitUnit))
		c.Limit = &l
	}
	return c
}

func eventV1(r *caseEventRow) EventV1 {
	e := EventV1{ID: r.EventID, Version: r.Version, Action: r.Action, From: r.FromState, To: r.ToState, Post: r.Post,
		Actor: r.ActorID, Reason: r.Reason, At: r.At.UTC(), Detail: map[string]json.RawMessage{}}
	var atts []json.RawMessage
	if json.Unmarshal([]byte(r.Attachments), &atts) == nil {
		e.Attachments = len(atts)
	}
	var detail map[string]json.RawMessage
	if json.Unmarshal([]byte(r.Detail), &detail) == nil {
		for _, k := range eventDetail {
			if v, ok := detail[k]; ok {
				e.Detail[k] = v
			}
		}
	}
	// A client program or a person's e-mail as the actor stays home: only an identity's id (a
	// UUID) or "system" goes up.
	if strings.Contains(e.Actor, ":") || strings.Contains(e.Actor, "@") {
		e.Actor = "client"
	}
	return e
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type gridRow struct {
	Code       string    `bun:"code"`
	Level      string    `bun:"level"`
	Name       string    `bun:"name"`
	ParentCode *string   `bun:"parent_code"`
	Geometry   string    `bun:"geometry"`
	AreaM2     float64   `bun:"area_m2"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// snapshotKey is the idempotency key of a snapshot: the thing's code and the time of its state
// (a removal: the time the outbox row was made), so that a retry or a replay of the same state
// has the same key and every change a new one.
func snapshotKey(t *tenants.Tenant, kind, code string, at time.Time, removed bool) string {
	state := strconv.FormatInt(at.UnixMicro(), 10)
	if removed {
		state = "removed-" + state
	}
	return wireKey(t, kind+":"+code+"@"+state)
}

func gridItems(ctx context.Context, db bun.IDB, t *tenants.Tenant, entries []Entry, ix []int, out []Item) error {
	return snapshotItems(ctx, db, t, KindGrid, "SELECT code, level, name, parent_code, geometry, area_m2, updated_at FROM grids WHERE code IN (?)",
		entries, ix, out, func(r *gridRow) (string, time.Time, any) {
			return r.Code, r.UpdatedAt, GridV1{Code: r.Code, Level: r.Level, Name: r.Name, ParentCode: r.ParentCode, Geometry: json.RawMessage(r.Geometry),
				AreaM2: r.AreaM2, UpdatedAt: r.UpdatedAt.UTC()}
		})
}

// snapshotItems makes the items of the entries ix of a kind of thing whose state is sent whole
// (grids, components): it reads the things' rows by code with query (one "IN (?)" of the codes)
// and makes each item from its row (v1 gives its code, the time of its state and its payload),
// or a removal where the thing is gone.
func snapshotItems[R any](ctx context.Context, db bun.IDB, t *tenants.Tenant, kind, query string, entries []Entry, ix []int, out []Item,
	v1 func(r *R) (code string, at time.Time, payload any)) error {
	codes := make([]string, len(ix))
	for j, i := range ix {
		codes[j] = entries[i].Ref
	}
	var rows []R
	if err := db.NewRaw(query, bun.List(codes)).Scan(ctx, &rows); err != nil {
		return err
	}
	by := map[string]*R{}
	for k := range rows {
		code, _, _ := v1(&rows[k])
		by[code] = &rows[k]
	}
	for _, i := range ix {
		var v any
		key := ""
		if r := by[entries[i].Ref]; r != nil {
			code, at, payload := v1(r)
			v, key = payload, snapshotKey(t, kind, code, at, false)
		} else {
			v = RemovedV1{Code: entries[i].Ref, Deleted: true}
			key = snapshotKey(t, kind, entries[i].Ref, entries[i].CreatedAt, true)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[i].Key, out[i].Data = key, b
	}
	return nil
}

type componentRow struct {
	Code            string    `bun:"code"`
	ClassCode       string    `bun:"class_code"`
	Name            string    `bun:"name"`
	Department      string    `bun:"department"`
	OwnerUnit       string    `bun:"owner_unit"`
	MaintenanceUnit string    `bun:"maintenance_unit"`
	GridCode        *string   `bun:"grid_code"`
	Status          string    `bun:"status"`
	Lon             float64   `bun:"lon"`
	Lat             float64   `bun:"lat"`
	Source          string    `bun:"source"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

func componentItems(ctx context.Context, db bun.IDB, t *tenants.Tenant, entries []Entry, ix []int, out []Item) error {
	return snapshotItems(ctx, db, t, KindComponent, `SELECT code, class_code, name, department, owner_unit, maintenance_unit, grid_code, status, lon, lat,
		source, updated_at FROM components WHERE code IN (?)`, entries, ix, out, func(r *componentRow) (string, time.Time, any) {
		return r.Code, r.UpdatedAt, ComponentV1{Code: r.Code, ClassCode: r.ClassCode, Name: r.Name, Department: r.Department, OwnerUnit: r.OwnerUnit,
			MaintenanceUnit: r.MaintenanceUnit, GridCode: r.GridCode, Status: r.Status, Lon: r.Lon, Lat: r.Lat, Source: r.Source,
			UpdatedAt: r.UpdatedAt.UTC()}
	})
}

// indicators makes a month's indicators item; its key carries a digest of the figures, so a
// recount that changed them is a new item and one that did not is the same.
func (p *profileV1) indicators(ctx context.Context, t *tenants.Tenant, e Entry, it *Item) error {
	from, err := time.ParseInLocation("2006-01", e.Ref, clock.China)
	if p.ind == nil || err != nil {
		it.Skip = true
		return nil
	}
	f, err := p.ind.Monthly(ctx, from.Year(), from.Month())
	if err != nil {
		return err
	}
	v := IndicatorsV1{Period: e.Ref, From: from.UTC(), To: from.AddDate(0, 1, 0).UTC(), Reported: f.Reported, Filed: f.Filed,
		Closed: f.Closed, ClosedOnTime: f.ClosedOnTime, InspectorReported: f.InspectorReported,
		CloseRate: rate(f.Closed, f.Filed), OnTimeCloseRate: rate(f.ClosedOnTime, f.Filed), InspectorRate: rate(f.InspectorReported, f.Filed)}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	it.Key, it.Data = wireKey(t, "indicators:"+e.Ref+"@"+hex.EncodeToString(sum[:8])), b
	return nil
}
