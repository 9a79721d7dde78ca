package calendar_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/platformtest"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const days2025 = `日期,类型,名称
2025-10-01,放假,国庆节
2025-10-02,放假,国庆节
2025-10-03,放假,国庆节
2025-10-06,放假,中秋节
2025-10-07,放假,国庆节
2025-10-08,放假,国庆节
2025-09-28,上班,国庆节调休
2025-10-11,上班,国庆节调休
`

func TestServiceImportAndDeadline(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := calendar.NewService(e.Store, nil)
		rep, err := s.ImportYear(e.A, 2025, []byte(days2025), "csv", false)
		if err != nil || !rep.Applied || rep.Accepted != 8 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		cal, err := s.Calendar(e.A)
		if err != nil {
			t.Fatal(err)
		}
		loc := cal.Location()
		start := time.Date(2025, 9, 30, 10, 0, 0, 0, loc)
		d, _ := cal.Deadline(calendar.Timer{Start: start, Limit: calendar.Limit{Amount: 1, Unit: calendar.WorkingDays}}, start)
		if want := time.Date(2025, 10, 9, 10, 0, 0, 0, loc); !d.Equal(want) {
			t.Fatalf("deadline over the holiday %s, want %s", d, want)
		}
		// B's calendar is untouched; the viewer reads A's but cannot change it.
		if days, _ := s.FindDays(e.B, 2025); len(days) != 0 {
			t.Fatalf("B sees %d days of A", len(days))
		}
		if days, err := s.FindDays(e.View, 2025); err != nil || len(days) != 8 {
			t.Fatalf("viewer reads A: %d %v", len(days), err)
		}
		if _, err := s.ImportYear(e.View, 2025, []byte(days2025), "csv", false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer import: %v", err)
		}
		if _, err := s.UpdateSettings(e.View, calendar.DefaultSettings(), "x"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer settings: %v", err)
		}
		// Settings: a six-day week with one long period.
		st, err := s.UpdateSettings(e.A, calendar.Settings{TimeZone: "Asia/Shanghai", WorkingHours: "09:00-17:00", Weekend: []time.Weekday{time.Sunday}}, "admin")
		if err != nil || st.WorkingHours != "09:00-17:00" {
			t.Fatalf("settings: %+v %v", st, err)
		}
		want, _ := json.Marshal(st)
		if es := e.MustAudit(t, e.TenantA, "calendar.settings"); len(es) != 1 || es[0].Detail != string(want) {
			t.Fatalf("calendar.settings audit: %+v, want one with %s", es, want)
		}
		cal, _ = s.Calendar(e.A)
		if cal.DayLength() != 8*time.Hour || !cal.IsWorkingDay(calendar.Date{Year: 2025, Month: 9, Day: 27}) {
			t.Fatalf("settings not applied: %s", cal.DayLength())
		}
		if _, err := s.UpdateSettings(e.A, calendar.Settings{TimeZone: "Mars/Base", WorkingHours: "09:00-17:00"}, "admin"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad zone: %v", err)
		}
		// GBK-encoded CSV from a government site, and JSON, both work; re-import replaces the year.
		gbk, _ := simplifiedchinese.GBK.NewEncoder().String("日期,类型,名称\n2025-01-01,放假,元旦\n")
		if rep, err := s.ImportYear(e.A, 2025, []byte(gbk), "csv", false); err != nil || rep.Accepted != 1 {
			t.Fatalf("GBK import: %+v %v", rep, err)
		}
		// Both applied imports are audited; the viewer's refused one is not.
		if es := e.MustAudit(t, e.TenantA, "calendar.import"); len(es) != 2 || es[0].Detail != `{"accepted":1,"rows":1}` {
			t.Fatalf("calendar.import audit: %+v", es)
		}
		if days, _ := s.FindDays(e.A, 2025); len(days) != 1 || days[0].Name != "元旦" {
			t.Fatalf("after re-import: %+v", days)
		}
		if rep, err := s.ImportYear(e.A, 2026, []byte(`{"days":[{"date":"2026-01-01","kind":"holiday","name":"元旦"}]}`), "json", false); err != nil || rep.Accepted != 1 {
			t.Fatalf("JSON import: %+v %v", rep, err)
		}
	})
}

func TestServiceImportRejectsBrokenFiles(t *testing.T) {
	e := platformtest.MustEnv(t, "sqlite")
	s := calendar.NewService(e.Store, nil)
	if _, err := s.ImportYear(e.A, 2025, []byte(days2025), "csv", false); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data    string
		problem string // a substring of the error or of a row problem
	}{
		"missing column": {"日期,名称\n2025-01-01,元旦\n", "kind"},
		"bad encoding":   {"\xff\xfe2\x000\x00", "UTF-16"},
		"not GBK":        {"日期,类型\n2025-01-01,\x81\x20\n", "neither UTF-8 nor GBK"},
		"bad rows":       {"日期,类型\n2025-01-01,放假\n2025-02-30,放假\n2024-05-01,放假\n2025-01-02,摸鱼\n2025-01-01,上班\n", "row 3"},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := s.ImportYear(e.A, 2025, []byte(tc.data), "csv", false)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error() + errs.MessageOf(err)
			if rep != nil {
				for _, p := range rep.Problems {
					msg += " row " + itoa(p.Row) + " " + p.Column + ": " + p.Message
				}
			}
			if !strings.Contains(msg, tc.problem) {
				t.Fatalf("error %q lacks %q", msg, tc.problem)
			}
		})
	}
	// The bad-rows file reports every bad row, each with its column.
	rep, err := s.ImportYear(e.A, 2025, []byte("日期,类型\n2025-01-01,放假\n2025-02-30,放假\n2024-05-01,放假\n2025-01-02,摸鱼\n2025-01-01,上班\n"), "csv", false)
	var rej *tabular.Rejected
	if !asRejected(err, &rej) || len(rep.Problems) != 4 || rep.Problems[0].Row != 3 || rep.Problems[2].Column != "kind" || rep.Problems[3].Column != "date" {
		t.Fatalf("report %+v", rep)
	}
	// Nothing of any rejected file was written: A still has its eight days.
	if days, _ := s.FindDays(e.A, 2025); len(days) != 8 {
		t.Fatalf("a rejected import changed the days: %d", len(days))
	}
	// A dry run checks without writing.
	rep, err = s.ImportYear(e.A, 2025, []byte("日期,类型\n2025-01-01,放假\n"), "csv", true)
	if err != nil || rep.Applied || rep.Accepted != 1 {
		t.Fatalf("dry run %+v %v", rep, err)
	}
	if days, _ := s.FindDays(e.A, 2025); len(days) != 8 {
		t.Fatal("a dry run wrote")
	}
}
