package calendar

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	// A tenant's calendar names its zone (IANA, Asia/Shanghai by default): the zone database is
	// built in, so that a host without one (a minimal image) still loads every calendar.
	_ "time/tzdata"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it): Tx runs fn in a
// transaction of the tenant in ctx's scope; every change the service makes is audited on that
// tenant right after it commits.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Service keeps tenants' work calendars.
type Service struct {
	gate Gate
	now  func() time.Time
}

// NewService returns a Service over gate; now is the clock of updated_at stamps.
func NewService(gate Gate, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{gate: gate, now: now}
}

// Settings are a tenant's working hours, weekend and time zone.
type Settings struct {
	TimeZone     string         `json:"time_zone"`
	WorkingHours string         `json:"working_hours"`
	Weekend      []time.Weekday `json:"weekend"`
	UpdatedAt    time.Time      `json:"updated_at,omitzero"`
	UpdatedBy    string         `json:"updated_by,omitempty"`
}

// DefaultSettings apply until a tenant sets its own.
func DefaultSettings() Settings {
	return Settings{TimeZone: DefaultZone, WorkingHours: "08:30-12:00,14:30-18:00", Weekend: []time.Weekday{time.Saturday, time.Sunday}}
}

type settingsRow struct {
	bun.BaseModel `bun:"table:calendar_settings"`
	ID            int       `bun:"id,pk"`
	TimeZone      string    `bun:"time_zone"`
	WorkingHours  string    `bun:"working_hours"`
	Weekend       string    `bun:"weekend"`
	UpdatedAt     time.Time `bun:"updated_at"`
	UpdatedBy     string    `bun:"updated_by"`
}

// Day is a date that departs from the weekly pattern.
type Day struct {
	bun.BaseModel `bun:"table:calendar_days"`
	Date          string  `bun:"day,pk" json:"date"`
	Year          int     `bun:"year" json:"-"`
	Kind          DayKind `bun:"kind" json:"kind"`
	Name          string  `bun:"name" json:"name,omitempty"`
}

// Validate checks s and returns the calendar pieces it describes.
func (s Settings) parse() (*time.Location, []Span, error) {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		return nil, nil, errs.Field("time_zone", msgTimeZoneNotIanaZone, textutil.Truncate(s.TimeZone, 40))
	}
	hours, err := ParseHours(s.WorkingHours)
	if err != nil {
		return nil, nil, err
	}
	if _, err := New(loc, hours, s.Weekend, nil); err != nil {
		return nil, nil, err
	}
	return loc, hours, nil
}

func weekendString(ws []time.Weekday) string {
	ws = slices.Clone(ws)
	slices.Sort(ws)
	ws = slices.Compact(ws)
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = strconv.Itoa(int(w))
	}
	return strings.Join(parts, ",")
}

func parseWeekend(s string) []time.Weekday {
	var out []time.Weekday
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			out = append(out, time.Weekday(n))
		}
	}
	return out
}

// FindSettings returns the tenant's settings (the defaults if it has none).
func (s *Service) FindSettings(ctx context.Context) (Settings, error) {
	var out Settings
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		out, err = findSettings(ctx, db)
		return err
	})
	return out, err
}

func findSettings(ctx context.Context, db bun.IDB) (Settings, error) {
	var rows []settingsRow
	if err := db.NewSelect().Model(&rows).Where("id = 1").Scan(ctx); err != nil {
		return Settings{}, err
	}
	if len(rows) == 0 {
		return DefaultSettings(), nil
	}
	r := rows[0]
	return Settings{TimeZone: r.TimeZone, WorkingHours: r.WorkingHours, Weekend: parseWeekend(r.Weekend), UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
}

// UpdateSettings replaces the tenant's working hours, weekend and time zone; audited as
// calendar.settings, with the settings saved.
func (s *Service) UpdateSettings(ctx context.Context, in Settings, by string) (Settings, error) {
	if _, _, err := in.parse(); err != nil {
		return Settings{}, err
	}
	hours, _ := ParseHours(in.WorkingHours)
	spans := make([]string, len(hours))
	for i, h := range hours {
		spans[i] = h.String()
	}
	row := settingsRow{ID: 1, TimeZone: in.TimeZone, WorkingHours: strings.Join(spans, ","), Weekend: weekendString(in.Weekend), UpdatedAt: s.now().UTC(), UpdatedBy: by}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&row).On("CONFLICT (id) DO UPDATE").
			Set("time_zone = EXCLUDED.time_zone, working_hours = EXCLUDED.working_hours, weekend = EXCLUDED.weekend, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").Exec(ctx)
		return err
	})
	if err != nil {
		return Settings{}, err
	}
	st := Settings{TimeZone: row.TimeZone, WorkingHours: row.WorkingHours, Weekend: parseWeekend(row.Weekend), UpdatedAt: row.UpdatedAt, UpdatedBy: by}
	if err := s.gate.AuditTenant(ctx, "calendar.settings", "", st); err != nil {
		return Settings{}, err
	}
	return st, nil
}

// FindDays returns the special days of a year (every year when year is 0), in date order.
func (s *Service) FindDays(ctx context.Context, year int) ([]Day, error) {
	var out []Day
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&out).Order("day")
		if year != 0 {
			q = q.Where("year = ?", year)
		}
		return q.Scan(ctx)
	})
	if out == nil {
		out = []Day{}
	}
	return out, err
}

// Calendar loads the tenant's calendar for arithmetic. The case module computes deadlines with
// it: cal.Deadline(timer, now), cal.Status(timer, now).
func (s *Service) Calendar(ctx context.Context) (*Calendar, error) {
	var c *Calendar
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		c, err = CalendarIn(ctx, db)
		return err
	})
	return c, err
}

// CalendarIn loads the calendar inside a transaction the caller already holds.
func CalendarIn(ctx context.Context, db bun.IDB) (*Calendar, error) {
	st, err := findSettings(ctx, db)
	if err != nil {
		return nil, err
	}
	loc, hours, err := st.parse()
	if err != nil {
		return nil, fmt.Errorf("stored calendar settings: %w", err)
	}
	var days []Day
	if err := db.NewSelect().Model(&days).Scan(ctx); err != nil {
		return nil, err
	}
	m := make(map[Date]DayKind, len(days))
	for _, d := range days {
		if dt, err := ParseDate(d.Date); err == nil {
			m[dt] = d.Kind
		}
	}
	return New(loc, hours, st.Weekend, m)
}

// Kinds as written in the State Council's notices and in spreadsheets.
func parseKind(s string) (DayKind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "holiday", "放假", "休息", "休", "假日", "节假日", "off":
		return Holiday, true
	case "workday", "上班", "补班", "调休上班", "班", "work":
		return Workday, true
	}
	return "", false
}

var dayColumns = []tabular.Column{
	{Name: "date", Aliases: []string{"日期"}, Required: true},
	{Name: "kind", Aliases: []string{"类型", "安排"}, Required: true},
	{Name: "name", Aliases: []string{"名称", "节日", "说明"}},
}

// ImportYear replaces the special days of year with those in data: CSV or XLSX with the columns
// date (日期), kind (类型: 放假/holiday or 上班/workday) and name (名称), or JSON
// {"days":[{"date":"2026-01-01","kind":"holiday","name":"元旦"}]}. Every row is checked first;
// the year is replaced in one transaction only if all rows pass, and not at all on a dry run.
// An applied import is audited as calendar.import.
func (s *Service) ImportYear(ctx context.Context, year int, data []byte, format string, dryRun bool) (*tabular.Report, error) {
	if year < 1949 || year > 2200 {
		return nil, errs.Field("year", msgYearOutRange, year)
	}
	var rows [][3]string
	first := 2
	if format == "json" {
		var in struct {
			Days []struct{ Date, Kind, Name string } `json:"days"`
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, errs.E(errs.Invalid, msgBodyNotJsonObjectDays)
		}
		for _, d := range in.Days {
			rows = append(rows, [3]string{d.Date, d.Kind, d.Name})
		}
		first = 1
	} else {
		t, err := tabular.Read(data, tabular.Format(format))
		if err != nil {
			return nil, err
		}
		idx, err := t.Index(dayColumns)
		if err != nil {
			return nil, err
		}
		for _, r := range t.Rows {
			rows = append(rows, [3]string{tabular.Cell(r, idx, "date"), tabular.Cell(r, idx, "kind"), tabular.Cell(r, idx, "name")})
		}
	}
	rep := &tabular.Report{DryRun: dryRun}
	seen := map[string]int{}
	var days []Day
	for i, r := range rows {
		n := i + first
		if r == [3]string{} {
			continue
		}
		rep.Rows++
		d, err := ParseDate(r[0])
		if err != nil {
			rep.AddErr(n, "date", r[0], err)
			continue
		}
		if d.Year != year {
			rep.Add(n, "date", r[0], msgDateNotInYear, year)
			continue
		}
		k, ok := parseKind(r[1])
		if !ok {
			rep.Add(n, "kind", r[0], msgKindHolidayWorkday, textutil.Truncate(r[1], 20))
			continue
		}
		if prev, dup := seen[d.String()]; dup {
			rep.Add(n, "date", r[0], msgDateAlreadyGiven, d, prev)
			continue
		}
		seen[d.String()] = n
		if len([]rune(r[2])) > 100 {
			rep.Add(n, "name", r[0], msgNameTooLong)
			continue
		}
		days = append(days, Day{Date: d.String(), Year: year, Kind: k, Name: r[2]})
	}
	rep.Accepted = len(days)
	if err := rep.Reject(); err != nil {
		rep.Accepted = 0
		return rep, err
	}
	if dryRun {
		return rep, nil
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Date < days[j].Date })
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewDelete().TableExpr("calendar_days").Where("year = ?", year).Exec(ctx); err != nil {
			return err
		}
		if len(days) == 0 {
			return nil
		}
		_, err := db.NewInsert().Model(&days).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Applied = true
	if rep.Applied {
		if err := s.gate.AuditTenant(ctx, "calendar.import", "", rep.AuditDetail()); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// Preview computes a timer's status in the tenant's calendar (the deadline preview of the API).
func (s *Service) Preview(ctx context.Context, t Timer, now time.Time) (Status, error) {
	c, err := s.Calendar(ctx)
	if err != nil {
		return Status{}, err
	}
	if t.Start.IsZero() {
		return Status{}, errs.Field("start", msgGiveStartClock)
	}
	return c.Status(t, now)
}
