package evaluation

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
)

var (
	monthRe   = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	quarterRe = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)
	yearRe    = regexp.MustCompile(`^(\d{4})$`)
)

// maxCustomDays is the longest custom period.
const maxCustomDays = 366

// minYear and maxYear bound the years a period may fall in, named or custom (a custom period's
// previous period and year before stay within what both databases store).
const minYear, maxYear = 2000, 2100

// Last is the period's last day (its end is the start of the day after).
func (p Period) Last() time.Time { return p.To.AddDate(0, 0, -1) }

// Month is the month of year/month in China time.
func Month(year int, month time.Month) Period {
	from := time.Date(year, month, 1, 0, 0, 0, 0, clock.China)
	return Period{Name: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}

// Quarter is quarter q (1–4) of year.
func Quarter(year, q int) Period {
	from := time.Date(year, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, clock.China)
	return Period{Name: fmt.Sprintf("%d-Q%d", year, q), From: from, To: from.AddDate(0, 3, 0)}
}

// Year is the calendar year.
func Year(year int) Period {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, clock.China)
	return Period{Name: strconv.Itoa(year), From: from, To: from.AddDate(1, 0, 0)}
}

// Containing is the month, the quarter and the year, China time, that contain t.
func Containing(t time.Time) (month, quarter, year Period) {
	n := t.In(clock.China)
	return Month(n.Year(), n.Month()), Quarter(n.Year(), int(n.Month()-1)/3+1), Year(n.Year())
}

// Days is the custom period from the day from to the day to, both included ("2006-01-02").
func Days(from, to string) (Period, error) {
	f, err := time.ParseInLocation(time.DateOnly, from, clock.China)
	if err != nil {
		return Period{}, errs.Field("from", msgNotDate, from)
	}
	t, err := time.ParseInLocation(time.DateOnly, to, clock.China)
	if err != nil {
		return Period{}, errs.Field("to", msgNotDate, to)
	}
	if y := f.Year(); y < minYear || y > maxYear {
		return Period{}, errs.Field("from", msgPeriodYears, from, minYear, maxYear)
	}
	if y := t.Year(); y < minYear || y > maxYear {
		return Period{}, errs.Field("to", msgPeriodYears, to, minYear, maxYear)
	}
	end := t.AddDate(0, 0, 1)
	if !f.Before(end) {
		return Period{}, errs.Field("from", msgPeriodStartBeforeEnd)
	}
	if end.Sub(f) > maxCustomDays*24*time.Hour {
		return Period{}, errs.Field("to", msgPeriodTooLong)
	}
	return Period{Name: from + "~" + to, From: f, To: end}, nil
}

// ParsePeriod reads a period as the API and the pages name it: "2026-05", "2026-Q2", "2026", or
// empty with from and to dates. Empty with no dates is the month of now.
func ParsePeriod(name, from, to string, now time.Time) (Period, error) {
	switch {
	case name == "" && from == "" && to == "":
		n := now.In(clock.China)
		return Month(n.Year(), n.Month()), nil
	case name == "":
		return Days(from, to)
	}
	if m := monthRe.FindStringSubmatch(name); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo >= 1 && mo <= 12 && y >= minYear && y <= maxYear {
			return Month(y, time.Month(mo)), nil
		}
	}
	if m := quarterRe.FindStringSubmatch(name); m != nil {
		y, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		if y >= minYear && y <= maxYear {
			return Quarter(y, q), nil
		}
	}
	if m := yearRe.FindStringSubmatch(name); m != nil {
		y, _ := strconv.Atoi(m[1])
		if y >= minYear && y <= maxYear {
			return Year(y), nil
		}
	}
	return Period{}, errs.Field("period", msgPeriodKind, name)
}

// Previous is the period of the same length just before p (the month, quarter or year before).
func (p Period) Previous() Period {
	switch {
	case monthRe.MatchString(p.Name):
		f := p.From.AddDate(0, -1, 0)
		return Month(f.Year(), f.Month())
	case quarterRe.MatchString(p.Name):
		f := p.From.AddDate(0, -3, 0)
		return Quarter(f.Year(), int(f.Month()-1)/3+1)
	case yearRe.MatchString(p.Name):
		return Year(p.From.Year() - 1)
	}
	d := p.To.Sub(p.From)
	from, to := p.From.Add(-d), p.From
	return Period{Name: from.Format(time.DateOnly) + "~" + to.AddDate(0, 0, -1).Format(time.DateOnly), From: from, To: to}
}

// YearBefore is the same period a year earlier.
func (p Period) YearBefore() Period {
	switch {
	case monthRe.MatchString(p.Name):
		return Month(p.From.Year()-1, p.From.Month())
	case quarterRe.MatchString(p.Name):
		return Quarter(p.From.Year()-1, int(p.From.Month()-1)/3+1)
	case yearRe.MatchString(p.Name):
		return Year(p.From.Year() - 1)
	}
	from, to := p.From.AddDate(-1, 0, 0), p.To.AddDate(-1, 0, 0)
	return Period{Name: from.Format(time.DateOnly) + "~" + to.AddDate(0, 0, -1).Format(time.DateOnly), From: from, To: to}
}
