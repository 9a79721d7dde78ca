package calendar

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
)

// Unit is the unit of a time limit (GB/T 30428.8).
type Unit string

// The three units of a time limit.
const (
	UrgentHours  Unit = "urgent_hours"  // 紧急工作时: natural time, counted day and night
	WorkingHours Unit = "working_hours" // 工作时: working time only
	WorkingDays  Unit = "working_days"  // 工作日: working days of the tenant's calendar
)

// ParseUnit reads a unit in English or as written in Chinese standards.
func ParseUnit(s string) (Unit, error) {
	switch strings.TrimSpace(strings.ToLower(s)) {
	case "urgent_hours", "紧急工作时", "紧急工作小时", "紧急小时", "小时(紧急)":
		return UrgentHours, nil
	case "working_hours", "工作时", "工作小时":
		return WorkingHours, nil
	case "working_days", "工作日", "个工作日":
		return WorkingDays, nil
	}
	return "", errs.Field("unit", msgUnitNotOneUrgentHours, textutil.Truncate(s, 40))
}

// Natural reports whether the unit counts natural time rather than working time.
func (u Unit) Natural() bool { return u == UrgentHours }

// MaxLimit bounds a limit's amount; no standard gives a year or more.
const MaxLimit = 365

// Limit is a time limit: an amount in a unit.
type Limit struct {
	Amount float64 `json:"amount"`
	Unit   Unit    `json:"unit"`
}

// Validate checks that the limit is positive, bounded and in a known unit.
func (l Limit) Validate() error {
	if _, err := ParseUnit(string(l.Unit)); err != nil {
		return err
	}
	if math.IsNaN(l.Amount) || l.Amount <= 0 || l.Amount > MaxLimit {
		return errs.Field("amount", msgTimeLimitMoreThanMost, MaxLimit)
	}
	return nil
}

func (l Limit) String() string {
	return strconv.FormatFloat(l.Amount, 'f', -1, 64) + " " + string(l.Unit)
}

// ParseLimit reads "2紧急工作时", "4 工作时", "15工作日" or "1.5 working_days".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i <= 0 {
		return Limit{}, errs.Field("limit", msgTimeLimitNumberFollowedUnit, textutil.Truncate(s, 40))
	}
	amount, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return Limit{}, errs.Field("limit", msgAmountNotNumber, textutil.Truncate(s, 40))
	}
	u, err := ParseUnit(s[i:])
	if err != nil {
		return Limit{}, err
	}
	l := Limit{Amount: amount, Unit: u}
	return l, l.Validate()
}

// Span is one working period of a day, in minutes after midnight: [Start, End).
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60)
}

// ParseHours reads working hours written as "08:30-12:00,14:30-18:00".
func ParseHours(s string) ([]Span, error) {
	var out []Span
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			return nil, errs.Field("working_hours", msgWriteWorkingHoursHasNo, textutil.Truncate(part, 20))
		}
		start, err1 := parseHHMM(a)
		end, err2 := parseHHMM(b)
		if err1 != nil || err2 != nil {
			return nil, errs.Field("working_hours", msgWriteWorkingHoursNotTwo, textutil.Truncate(part, 20))
		}
		out = append(out, Span{start, end})
	}
	return out, checkSpans(out)
}

func parseHHMM(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

func checkSpans(spans []Span) error {
	if len(spans) == 0 {
		return errs.Field("working_hours", msgCalendarNeedsLeastOneWorking)
	}
	for i, s := range spans {
		if s.Start < 0 || s.End > 24*60 || s.Start >= s.End {
			return errs.Field("working_hours", msgWorkingPeriodMustStartBefore, s)
		}
		if i > 0 && s.Start < spans[i-1].End {
			return errs.Field("working_hours", msgWorkingPeriodsMustOrderNot, s, spans[i-1])
		}
	}
	return nil
}

// DayKind says how a date departs from the weekly pattern.
type DayKind string

// A holiday is a day off on a weekday; a workday is an adjusted working day (调休) on a weekend.
const (
	Holiday DayKind = "holiday" // 放假
	Workday DayKind = "workday" // 上班 (调休补班)
)

// Date is a calendar date in the tenant's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads 2026-01-01 (also 2026/1/1).
func ParseDate(s string) (Date, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "/", "-")
	parts := strings.Split(s, "-")
	if len(parts) == 3 {
		y, e1 := strconv.Atoi(parts[0])
		m, e2 := strconv.Atoi(parts[1])
		d, e3 := strconv.Atoi(parts[2])
		if e1 == nil && e2 == nil && e3 == nil && y >= 1900 && y <= 2200 {
			t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if t.Year() == y && int(t.Month()) == m && t.Day() == d {
				return Date{y, time.Month(m), d}, nil
			}
		}
	}
	return Date{}, errs.Field("date", msgDateNotDateWritten, textutil.Truncate(s, 20))
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func dateOf(t time.Time) Date { return Date{t.Year(), t.Month(), t.Day()} }

// Calendar is a tenant's work calendar, ready for arithmetic. Build it with New.
type Calendar struct {
	loc     *time.Location
	hours   []Span
	weekend [7]bool
	days    map[Date]DayKind
	dayLen  time.Duration
}

// DefaultHours are the working hours most county offices keep.
var DefaultHours = []Span{{8*60 + 30, 12 * 60}, {14*60 + 30, 18 * 60}}

// DefaultZone is the time zone of every tenant unless configured otherwise.
const DefaultZone = clock.ChinaZoneName

// New builds a calendar. loc nil means China time (clock.China); weekend lists the days off each
// week.
func New(loc *time.Location, hours []Span, weekend []time.Weekday, days map[Date]DayKind) (*Calendar, error) {
	if loc == nil {
		loc = clock.China
	}
	if err := checkSpans(hours); err != nil {
		return nil, err
	}
	c := &Calendar{loc: loc, hours: slices.Clone(hours), days: map[Date]DayKind{}}
	for _, w := range weekend {
		if w < 0 || w > 6 {
			return nil, errs.Field("weekend", msgWeekdaySundaySaturday)
		}
		c.weekend[w] = true
	}
	if !slices.Contains(c.weekend[:], false) {
		return nil, errs.Field("weekend", msgWeekNeedsLeastOneWorking)
	}
	for d, k := range days {
		if k != Holiday && k != Workday {
			return nil, errs.Field("kind", msgDayHolidayWorkdayNot, textutil.Truncate(string(k), 20))
		}
		c.days[d] = k
	}
	for _, s := range c.hours {
		c.dayLen += time.Duration(s.End-s.Start) * time.Minute
	}
	return c, nil
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// DayLength is the working time of one working day.
func (c *Calendar) DayLength() time.Duration { return c.dayLen }

// IsWorkingDay reports whether d is a working day: an adjusted workday, or a weekday that is
// neither a weekend day nor a holiday.
func (c *Calendar) IsWorkingDay(d Date) bool {
	switch c.days[d] {
	case Workday:
		return true
	case Holiday:
		return false
	}
	wd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
	return !c.weekend[wd]
}

// spansOn returns the working intervals of the local day that starts at midnight, as instants.
func (c *Calendar) spansOn(midnight time.Time) [][2]time.Time {
	d := dateOf(midnight)
	if !c.IsWorkingDay(d) {
		return nil
	}
	out := make([][2]time.Time, len(c.hours))
	for i, s := range c.hours {
		out[i] = [2]time.Time{
			time.Date(d.Year, d.Month, d.Day, s.Start/60, s.Start%60, 0, 0, c.loc),
			time.Date(d.Year, d.Month, d.Day, s.End/60, s.End%60, 0, 0, c.loc),
		}
	}
	return out
}

func (c *Calendar) midnight(t time.Time) time.Time {
	t = t.In(c.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
}

func nextDay(midnight time.Time) time.Time {
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day()+1, 0, 0, 0, 0, midnight.Location())
}

// AddWorking returns the instant at which d of working time has passed after t. A positive d
// never ends outside working time: it ends inside a working period or at its end. d <= 0 gives t.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	for day := c.midnight(t); ; day = nextDay(day) {
		for _, s := range c.spansOn(day) {
			from := s[0]
			if t.After(from) {
				from = t
			}
			if !from.Before(s[1]) {
				continue
			}
			avail := s[1].Sub(from)
			if d <= avail {
				return from.Add(d)
			}
			d -= avail
		}
	}
}

// WorkingBetween returns the working time between a and b (zero when b is not after a).
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	var sum time.Duration
	if !b.After(a) {
		return 0
	}
	for day := c.midnight(a); day.Before(b); day = nextDay(day) {
		for _, s := range c.spansOn(day) {
			from, to := s[0], s[1]
			if a.After(from) {
				from = a
			}
			if b.Before(to) {
				to = b
			}
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
	}
	return sum
}

// Duration returns the measure of a limit: natural time for urgent hours, working time otherwise.
func (c *Calendar) Duration(l Limit) (time.Duration, error) {
	if err := l.Validate(); err != nil {
		return 0, err
	}
	var d time.Duration
	switch l.Unit {
	case UrgentHours, WorkingHours:
		d = time.Duration(math.Round(l.Amount*float64(time.Hour)/float64(time.Second))) * time.Second
	case WorkingDays:
		d = time.Duration(math.Round(l.Amount*float64(c.dayLen)/float64(time.Second))) * time.Second
	}
	return d, nil
}

// Add adds an amount of the unit's measure to t.
func (c *Calendar) add(natural bool, t time.Time, d time.Duration) time.Time {
	if natural {
		return t.Add(d)
	}
	return c.AddWorking(t, d)
}

func (c *Calendar) between(natural bool, a, b time.Time) time.Duration {
	if natural {
		if b.After(a) {
			return b.Sub(a)
		}
		return 0
	}
	return c.WorkingBetween(a, b)
}

// Interval is a stretch of time; a zero To means it has not ended yet.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to,omitzero"`
}

// Timer is the clock of one time limit: it runs from Start for Limit plus every extension,
// and stands still during the pauses (suspensions, 挂账).
type Timer struct {
	Start      time.Time  `json:"start"`
	Limit      Limit      `json:"limit"`
	Extensions []Limit    `json:"extensions,omitempty"`
	Pauses     []Interval `json:"pauses,omitempty"`
}

// Status is where a timer stands at a moment. Durations are in the limit's measure (natural time
// for urgent hours, working time otherwise).
type Status struct {
	Deadline time.Time `json:"deadline"`
	// Paused is set while a pause is open; Deadline then assumes the pause ends at the moment asked.
	Paused    bool          `json:"paused"`
	Allowed   time.Duration `json:"-"`
	Elapsed   time.Duration `json:"-"`
	Remaining time.Duration `json:"-"`
	Overdue   bool          `json:"overdue"`
	// Ratio is elapsed over allowed; OvertimeMultiple (超时倍数) is the overtime over the
	// allowed time, max(0, Ratio-1): a 4-hour case closed after 10 hours is 1.5 times over.
	Ratio            float64 `json:"ratio"`
	OvertimeMultiple float64 `json:"overtime_multiple"`
}

// MarshalJSON writes the durations as whole seconds.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status
	return json.Marshal(struct {
		plain
		Allowed   int64 `json:"allowed_seconds"`
		Elapsed   int64 `json:"elapsed_seconds"`
		Remaining int64 `json:"remaining_seconds"`
	}{plain(s), int64(s.Allowed / time.Second), int64(s.Elapsed / time.Second), int64(s.Remaining / time.Second)})
}

// Allowed returns the timer's whole allowance: the limit plus its extensions, in the limit's
// measure. Extensions must be in the same measure (natural or working) as the limit.
func (c *Calendar) Allowed(t Timer) (time.Duration, error) {
	total, err := c.Duration(t.Limit)
	if err != nil {
		return 0, err
	}
	for _, e := range t.Extensions {
		d, err := c.Duration(e)
		if err != nil {
			return 0, err
		}
		if e.Unit.Natural() != t.Limit.Unit.Natural() {
			return 0, errs.Field("extensions", msgExtensionCannotExtendLimitOne, e.Unit, t.Limit.Unit)
		}
		total += d
	}
	return total, nil
}

// pauses returns t's pauses clipped to [Start, now], sorted and merged; an open pause ends at now.
func (t Timer) pauses(now time.Time) (out []Interval, open bool) {
	ps := make([]Interval, 0, len(t.Pauses))
	for _, p := range t.Pauses {
		to := p.To
		if to.IsZero() {
			to, open = now, open || !p.From.After(now)
		}
		from := p.From
		if from.Before(t.Start) {
			from = t.Start
		}
		if to.After(from) {
			ps = append(ps, Interval{from, to})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].From.Before(ps[j].From) })
	for _, p := range ps {
		if n := len(out); n > 0 && !p.From.After(out[n-1].To) {
			if p.To.After(out[n-1].To) {
				out[n-1].To = p.To
			}
			continue
		}
		out = append(out, p)
	}
	return out, open
}

// Deadline returns when t runs out, as known at now (now only matters for an open pause).
func (c *Calendar) Deadline(t Timer, now time.Time) (time.Time, error) {
	allowed, err := c.Allowed(t)
	if err != nil {
		return time.Time{}, err
	}
	ps, _ := t.pauses(now)
	return c.deadline(t, allowed, ps), nil
}

func (c *Calendar) deadline(t Timer, remaining time.Duration, ps []Interval) time.Time {
	natural := t.Limit.Unit.Natural()
	cursor := t.Start
	for _, p := range ps {
		if p.From.After(cursor) {
			avail := c.between(natural, cursor, p.From)
			if remaining <= avail {
				return c.add(natural, cursor, remaining)
			}
			remaining -= avail
		}
		if p.To.After(cursor) {
			cursor = p.To
		}
	}
	return c.add(natural, cursor, remaining)
}

// Elapsed returns the time t has run by now: the limit's measure from Start to now, less pauses.
func (c *Calendar) Elapsed(t Timer, now time.Time) time.Duration {
	natural := t.Limit.Unit.Natural()
	ps, _ := t.pauses(now)
	e := c.between(natural, t.Start, now)
	for _, p := range ps {
		to := p.To
		if to.After(now) {
			to = now
		}
		e -= c.between(natural, p.From, to)
	}
	return e
}

// Status says where t stands at now.
func (c *Calendar) Status(t Timer, now time.Time) (Status, error) {
	allowed, err := c.Allowed(t)
	if err != nil {
		return Status{}, err
	}
	ps, open := t.pauses(now)
	s := Status{Deadline: c.deadline(t, allowed, ps), Paused: open, Allowed: allowed, Elapsed: c.Elapsed(t, now)}
	s.Remaining = allowed - s.Elapsed
	s.Overdue = s.Elapsed > allowed
	s.Ratio = float64(s.Elapsed) / float64(allowed)
	if s.Overdue {
		s.OvertimeMultiple = math.Round((s.Ratio-1)*100) / 100
	}
	return s, nil
}
