package calendar

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// MustCalendar builds a calendar with the default hours, weekends and the 2025 National Day
// holiday with its adjusted working days (国庆中秋: 10-01…10-08 off; 09-28 and 10-11 worked).
func MustCalendar(tb testing.TB) *Calendar {
	tb.Helper()
	days := map[Date]DayKind{{2025, 9, 28}: Workday, {2025, 10, 11}: Workday}
	for d := 1; d <= 8; d++ {
		days[Date{2025, 10, d}] = Holiday
	}
	c, err := New(shanghai, DefaultHours, []time.Weekday{time.Saturday, time.Sunday}, days)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadlines(t *testing.T) {
	c := MustCalendar(t)
	for _, tc := range []struct {
		start string
		limit Limit
		want  string
	}{
		{"2025-09-22 10:00", Limit{2, UrgentHours}, "2025-09-22 12:00"},
		{"2025-09-26 23:00", Limit{2, UrgentHours}, "2025-09-27 01:00"},  // natural time runs at night
		{"2025-09-22 10:00", Limit{4, WorkingHours}, "2025-09-22 16:30"}, // lunch break skipped
		{"2025-09-22 11:00", Limit{1, WorkingHours}, "2025-09-22 12:00"}, // ends at the end of a period
		{"2025-09-22 12:30", Limit{1, WorkingHours}, "2025-09-22 15:30"}, // starts at the next period
		{"2025-09-26 17:00", Limit{5, WorkingHours}, "2025-09-28 15:00"}, // Sunday 09-28 is an adjusted workday
		{"2025-09-22 10:00", Limit{1, WorkingDays}, "2025-09-23 10:00"},
		{"2025-09-22 10:00", Limit{0.5, WorkingDays}, "2025-09-22 16:00"},
		{"2025-09-30 10:00", Limit{1, WorkingDays}, "2025-10-09 10:00"},  // over the National Day holiday
		{"2025-10-03 10:00", Limit{1, WorkingHours}, "2025-10-09 09:30"}, // reported on a holiday
		{"2025-09-22 09:00", Limit{15, WorkingDays}, "2025-10-17 09:00"}, // illegal structure, 15 days
	} {
		got, err := c.Deadline(Timer{Start: at(tc.start), Limit: tc.limit}, at(tc.start))
		if err != nil {
			t.Fatal(err)
		}
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("%s + %s: got %s, want %s", tc.start, tc.limit, got.In(shanghai).Format("2006-01-02 15:04"), tc.want)
		}
	}
}

func TestPausesExtensionsAndOvertime(t *testing.T) {
	c := MustCalendar(t)
	tm := Timer{Start: at("2025-09-22 09:00"), Limit: Limit{4, WorkingHours}}
	// Suspended 10:00–15:30 (3 working hours): the deadline moves from 15:30 to 09:00 next day.
	tm.Pauses = []Interval{{at("2025-09-22 10:00"), at("2025-09-22 15:30")}}
	d, _ := c.Deadline(tm, at("2025-09-23 09:00"))
	if want := at("2025-09-23 09:00"); !d.Equal(want) {
		t.Fatalf("paused deadline %s, want %s", d, want)
	}
	// An extension of 1 working hour moves it to 10:00.
	tm.Extensions = []Limit{{1, WorkingHours}}
	d, _ = c.Deadline(tm, at("2025-09-23 09:00"))
	if want := at("2025-09-23 10:00"); !d.Equal(want) {
		t.Fatalf("extended deadline %s, want %s", d, want)
	}
	// At 09:00 next day: elapsed = 1h (9–10) + 2.5h (15:30–18:00) + 0.5h (8:30–9:00) = 4h of 5h.
	st, _ := c.Status(tm, at("2025-09-23 09:00"))
	if st.Elapsed != 4*time.Hour || st.Overdue {
		t.Fatalf("status %+v", st)
	}
	// At 14:00 the next day: 4h + 3h = 7h elapsed of 5h: overdue, 0.4 times over.
	st, _ = c.Status(tm, at("2025-09-23 14:00"))
	if !st.Overdue || st.OvertimeMultiple != 0.4 || st.Remaining != -2*time.Hour {
		t.Fatalf("overdue status %+v", st)
	}
	// An open pause stops the clock.
	tm.Pauses = append(tm.Pauses, Interval{From: at("2025-09-23 08:00")})
	st, _ = c.Status(tm, at("2025-09-24 12:00"))
	if !st.Paused || st.Elapsed != 3*time.Hour+30*time.Minute {
		t.Fatalf("open pause %+v", st)
	}
	// Mixed measures are refused.
	if _, err := c.Deadline(Timer{Start: tm.Start, Limit: Limit{2, UrgentHours}, Extensions: []Limit{{1, WorkingDays}}}, tm.Start); err == nil {
		t.Fatal("urgent limit extended by working days was accepted")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Limit{"2紧急工作时": {2, UrgentHours}, "4 工作时": {4, WorkingHours}, "15工作日": {15, WorkingDays}, "0.5working_days": {0.5, WorkingDays}} {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "工作日", "2 weeks", "-1工作日", "0工作时", "9999工作日"} {
		if _, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
	if _, err := ParseHours("08:30-12:00,11:00-18:00"); err == nil {
		t.Error("overlapping hours accepted")
	}
	if _, err := ParseHours("18:00-08:00"); err == nil {
		t.Error("backwards hours accepted")
	}
	if _, err := ParseDate("2025-02-30"); err == nil {
		t.Error("2025-02-30 accepted")
	}
}

// genCalendar draws working hours, a weekend and a scatter of holidays and workdays in 2025.
func genCalendar(t *rapid.T) *Calendar {
	var hours []Span
	m := rapid.IntRange(0, 600).Draw(t, "first")
	for i := rapid.IntRange(1, 3).Draw(t, "periods"); i > 0 && m < 24*60-1; i-- {
		end := m + rapid.IntRange(1, min(300, 24*60-m)).Draw(t, "len")
		hours = append(hours, Span{m, end})
		m = end + rapid.IntRange(0, 180).Draw(t, "gap")
	}
	var weekend []time.Weekday
	for w := range 7 {
		if rapid.IntRange(0, 3).Draw(t, "off") == 0 && len(weekend) < 6 {
			weekend = append(weekend, time.Weekday(w))
		}
	}
	days := map[Date]DayKind{}
	for range rapid.IntRange(0, 40).Draw(t, "days") {
		d := Date{2025, time.Month(rapid.IntRange(1, 12).Draw(t, "m")), rapid.IntRange(1, 28).Draw(t, "d")}
		days[d] = []DayKind{Holiday, Workday}[rapid.IntRange(0, 1).Draw(t, "kind")]
	}
	c, err := New(shanghai, hours, weekend, days)
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	return c
}

func genTime(t *rapid.T, label string) time.Time {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai)
	return base.Add(time.Duration(rapid.Int64Range(0, 365*24*60).Draw(t, label)) * time.Minute)
}

func genDuration(t *rapid.T, label string) time.Duration {
	return time.Duration(rapid.Int64Range(0, 30*24*60).Draw(t, label)) * time.Minute
}

// Adding working time and measuring it back gives the same amount.
func TestPropAddThenMeasure(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCalendar(t)
		start, d := genTime(t, "start"), genDuration(t, "d")
		end := c.AddWorking(start, d)
		if got := c.WorkingBetween(start, end); got != d {
			t.Fatalf("WorkingBetween(start, AddWorking(start, %s)) = %s", d, got)
		}
		if end.Before(start) {
			t.Fatalf("end %s before start %s", end, start)
		}
	})
}

// Deadlines never move earlier when the limit grows, and never before the start.
func TestPropDeadlineMonotonic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCalendar(t)
		start := genTime(t, "start")
		unit := []Unit{UrgentHours, WorkingHours, WorkingDays}[rapid.IntRange(0, 2).Draw(t, "unit")]
		a := float64(rapid.IntRange(1, 400).Draw(t, "a")) / 4
		b := a + float64(rapid.IntRange(0, 400).Draw(t, "b"))/4
		da, err := c.Deadline(Timer{Start: start, Limit: Limit{a, unit}}, start)
		if err != nil {
			t.Fatal(err)
		}
		db, _ := c.Deadline(Timer{Start: start, Limit: Limit{b, unit}}, start)
		if db.Before(da) || da.Before(start) {
			t.Fatalf("deadline(%v)=%s, deadline(%v)=%s, start %s", a, da, b, db, start)
		}
	})
}

// A pause moves the deadline by exactly the working time it covers before the deadline: the
// working time from start to the new deadline, less the paused working time, is the limit.
func TestPropPauseShiftsByPausedTime(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCalendar(t)
		start := genTime(t, "start")
		natural := rapid.Bool().Draw(t, "natural")
		unit := WorkingHours
		if natural {
			unit = UrgentHours
		}
		limit := Limit{float64(rapid.IntRange(1, 200).Draw(t, "hours")), unit}
		var pauses []Interval
		cursor := start
		for range rapid.IntRange(0, 4).Draw(t, "pauses") {
			from := cursor.Add(genDuration(t, "gap") / 4)
			to := from.Add(genDuration(t, "len") / 4)
			pauses = append(pauses, Interval{from, to})
			cursor = to
		}
		tm := Timer{Start: start, Limit: limit, Pauses: pauses}
		now := cursor.Add(time.Hour)
		d, err := c.Deadline(tm, now)
		if err != nil {
			t.Fatal(err)
		}
		allowed, _ := c.Allowed(tm)
		plain, _ := c.Deadline(Timer{Start: start, Limit: limit}, now)
		var paused time.Duration
		for _, p := range pauses {
			to := p.To
			if to.After(d) {
				to = d
			}
			paused += c.between(natural, p.From, to)
		}
		if got := c.between(natural, start, d) - paused; got != allowed {
			t.Fatalf("running time to the deadline %s = %s, want %s (paused %s)", d, got, allowed, paused)
		}
		if d.Before(plain) {
			t.Fatalf("a pause moved the deadline earlier: %s < %s", d, plain)
		}
		// At the deadline, the elapsed time is exactly the allowance and the case is not overdue.
		if e := c.Elapsed(tm, d); e != allowed {
			t.Fatalf("elapsed at deadline %s, want %s", e, allowed)
		}
	})
}

// Working time is additive: measuring a..b equals a..m plus m..b for any m between.
func TestPropMeasureAdditive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCalendar(t)
		a := genTime(t, "a")
		m := a.Add(genDuration(t, "m"))
		b := m.Add(genDuration(t, "b"))
		if c.WorkingBetween(a, b) != c.WorkingBetween(a, m)+c.WorkingBetween(m, b) {
			t.Fatal("not additive")
		}
	})
}
