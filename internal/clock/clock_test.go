package clock_test

import (
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
)

func TestChina(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, clock.China)
	if got, want := at.UTC(), time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, want := at.Format("2006-01-02T15:04:05Z07:00 MST"), "2026-01-01T00:00:00+08:00 CST"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// The IANA zone, where the host has it, agrees with China for every date the platform sees.
	if loc, err := time.LoadLocation(clock.ChinaZoneName); err == nil {
		for _, d := range []time.Time{time.Date(1992, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)} {
			_, a := d.In(loc).Zone()
			_, b := d.In(clock.China).Zone()
			if a != b {
				t.Errorf("%v: %s has offset %d, China %d", d, clock.ChinaZoneName, a, b)
			}
		}
	}
}

func TestStartOf(t *testing.T) {
	for _, tc := range []struct {
		name        string
		at          time.Time
		day, month  string
		nextMonthAt string
	}{
		// 2026-01-31 17:30 UTC is already 1 February in China.
		{"after UTC midnight in China", time.Date(2026, 1, 31, 17, 30, 0, 0, time.UTC), "2026-02-01 00:00 +0800", "2026-02-01 00:00 +0800", "2026-03-01"},
		{"before China midnight", time.Date(2026, 1, 31, 15, 59, 59, 0, time.UTC), "2026-01-31 00:00 +0800", "2026-01-01 00:00 +0800", "2026-02-01"},
		{"year end", time.Date(2026, 12, 31, 23, 0, 0, 0, clock.China), "2026-12-31 00:00 +0800", "2026-12-01 00:00 +0800", "2027-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const layout = "2006-01-02 15:04 -0700"
			if got := clock.StartOfDay(tc.at).Format(layout); got != tc.day {
				t.Errorf("StartOfDay: got %s, want %s", got, tc.day)
			}
			m := clock.StartOfMonth(tc.at)
			if got := m.Format(layout); got != tc.month {
				t.Errorf("StartOfMonth: got %s, want %s", got, tc.month)
			}
			if got := m.AddDate(0, 1, 0).Format(time.DateOnly); got != tc.nextMonthAt {
				t.Errorf("next month: got %s, want %s", got, tc.nextMonthAt)
			}
		})
	}
}
