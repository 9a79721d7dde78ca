// Package analysis is 动态分析 and 决策建议: it reads a tenant's case history for what is
// changing — hot spots (a grid's problem class rising against its own history), problems that
// recur at the same place, departments whose share of late handling climbs month after month,
// and seasonal patterns (a class that peaked in the coming month last year) — and says each as a
// plain sentence with its evidence and a link to the cases behind it. Nothing is said without
// data behind it: a finding needs its thresholds met, and a kind of finding the history is too
// short for is reported as such instead. The thresholds are the tenant's (Settings), audited.
package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it).
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Evaluations are the monthly department figures the overdue trend reads (evaluation.Service).
type Evaluations interface {
	Evaluate(ctx context.Context, p evaluation.Period) (*evaluation.Figures, error)
}

// Service analyses a tenant's case history.
type Service struct {
	gate  Gate
	evals Evaluations
	now   func() time.Time
}

// NewService returns a Service over gate, reading departments' monthly figures from evals.
func NewService(gate Gate, evals Evaluations, now func() time.Time) *Service {
	return &Service{gate: gate, evals: evals, now: now}
}

// Settings are a tenant's thresholds.
type Settings struct {
	// WindowDays is the recent window a hot spot is counted over; BaselineWindows how many equal
	// windows before it make its baseline; HotMinCases and HotRatio what the window's count must
	// reach: at least HotMinCases, and HotRatio times the baseline's mean per window.
	WindowDays      int     `json:"window_days"`
	BaselineWindows int     `json:"baseline_windows"`
	HotMinCases     int     `json:"hot_min_cases"`
	HotRatio        float64 `json:"hot_ratio"`
	// RecurDays and RecurMinCases: RecurMinCases cases of one class within about RecurMeters of
	// each other in the last RecurDays.
	RecurDays     int `json:"recur_days"`
	RecurMinCases int `json:"recur_min_cases"`
	RecurMeters   int `json:"recur_meters"`
	// OverdueMonths months in a row of a rising late share, the last at least OverdueShare, over
	// at least OverdueMinHandled handled cases.
	OverdueMonths     int     `json:"overdue_months"`
	OverdueShare      float64 `json:"overdue_share"`
	OverdueMinHandled int     `json:"overdue_min_handled"`
	// SeasonRatio and SeasonMinCases: a class whose count in the coming month last year reached
	// SeasonRatio times that year's monthly mean, and at least SeasonMinCases.
	SeasonRatio    float64 `json:"season_ratio"`
	SeasonMinCases int     `json:"season_min_cases"`
}

// DefaultSettings are the thresholds until a tenant sets its own.
func DefaultSettings() Settings {
	return Settings{WindowDays: 30, BaselineWindows: 3, HotMinCases: 5, HotRatio: 1.5,
		RecurDays: 90, RecurMinCases: 3, RecurMeters: 50,
		OverdueMonths: 3, OverdueShare: 0.2, OverdueMinHandled: 5,
		SeasonRatio: 1.5, SeasonMinCases: 5}
}

// Check refuses thresholds out of their ranges.
func (s Settings) Check() error {
	ints := []struct {
		name     string
		v, lo, h int
	}{
		{"window_days", s.WindowDays, 7, 92}, {"baseline_windows", s.BaselineWindows, 1, 12}, {"hot_min_cases", s.HotMinCases, 1, 10000},
		{"recur_days", s.RecurDays, 7, 366}, {"recur_min_cases", s.RecurMinCases, 2, 1000}, {"recur_meters", s.RecurMeters, 10, 1000},
		{"overdue_months", s.OverdueMonths, 2, 12}, {"overdue_min_handled", s.OverdueMinHandled, 1, 10000}, {"season_min_cases", s.SeasonMinCases, 1, 10000},
	}
	for _, i := range ints {
		if i.v < i.lo || i.v > i.h {
			return errs.Field(i.name, msgIntRange, i.name, i.lo, i.h)
		}
	}
	for _, f := range []struct {
		name      string
		v, lo, hi float64
	}{{"hot_ratio", s.HotRatio, 1, 100}, {"overdue_share", s.OverdueShare, 0, 1}, {"season_ratio", s.SeasonRatio, 1, 100}} {
		if math.IsNaN(f.v) || f.v < f.lo || f.v > f.hi {
			return errs.Field(f.name, msgFloatRange, f.name, f.lo, f.hi)
		}
	}
	return nil
}

// setting is the settings' row (one per tenant).
type setting struct {
	bun.BaseModel `bun:"table:analysis_settings"`

	ID        int       `bun:"id,pk"`
	Value     string    `bun:"value"`
	UpdatedAt time.Time `bun:"updated_at"`
	UpdatedBy string    `bun:"updated_by"`
}

// Settings are the tenant's thresholds (the defaults for what it never set).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	out := DefaultSettings()
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return readSettings(ctx, db, &out)
	})
	return out, err
}

func readSettings(ctx context.Context, db bun.IDB, out *Settings) error {
	var rows []setting
	if err := db.NewSelect().Model(&rows).Where("id = 1").Scan(ctx); err != nil {
		return err
	}
	if len(rows) == 1 {
		return json.Unmarshal([]byte(rows[0].Value), out)
	}
	return nil
}

// PutSettings sets the tenant's thresholds. Audited.
func (s *Service) PutSettings(ctx context.Context, in Settings) (Settings, error) {
	if err := in.Check(); err != nil {
		return in, err
	}
	b, _ := json.Marshal(in)
	by := "system"
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		by = p.Identity.Email
	}
	row := &setting{ID: 1, Value: string(b), UpdatedAt: s.now(), UpdatedBy: by}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").Set("value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return in, err
	}
	return in, s.gate.AuditTenant(ctx, "analysis.settings", "thresholds", in)
}

// Kind is a kind of finding.
type Kind string

// The kinds of finding.
const (
	HotSpot       Kind = "hot_spot"
	Recurring     Kind = "recurring"
	OverdueRising Kind = "overdue_rising"
	SeasonalPeak  Kind = "seasonal_peak"
)

// Kinds lists the kinds of finding in the order a report shows them.
var Kinds = []Kind{HotSpot, Recurring, OverdueRising, SeasonalPeak}

// Finding is one thing the history shows. Subject names what it is about (a grid and a class, a
// place and a class, a department, a class); Evidence holds its figures (the message's
// arguments, numbers as they were counted); Cases is the filter of the case list behind it (query
// parameters of /cases); Numbers, for a place, the cases themselves.
type Finding struct {
	Kind     Kind              `json:"kind"`
	Subject  map[string]string `json:"subject"`
	Evidence map[string]any    `json:"evidence"`
	Cases    url.Values        `json:"cases"`
	Numbers  []CaseRef         `json:"numbers,omitempty"`
	// Weight orders findings of a kind: the strongest first.
	Weight float64 `json:"weight"`
}

// CaseRef is a case a finding names.
type CaseRef struct {
	ID     string `bun:"id" json:"id"`
	Number string `bun:"number" json:"number"`
}

// Report is the analysis at a day: the findings, and for each kind the history could not support
// a reason (Short: too short, with the months it needs).
type Report struct {
	At       time.Time         `json:"at"`
	Settings Settings          `json:"settings"`
	Findings []Finding         `json:"findings"`
	Short    map[Kind]int      `json:"short"`
	Names    map[string]string `json:"names"`
}

// Analyse reads the tenant's history as of now.
func (s *Service) Analyse(ctx context.Context) (*Report, error) {
	now := s.now()
	out := &Report{At: now, Findings: []Finding{}, Short: map[Kind]int{}, Names: map[string]string{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		set := DefaultSettings()
		if err := readSettings(ctx, db, &set); err != nil {
			return err
		}
		out.Settings = set
		var first time.Time
		if err := db.NewRaw("SELECT COALESCE(min(created_at), ?) FROM cases", now).Scan(ctx, &first); err != nil {
			return err
		}
		pg := db.Dialect().Name() == dialect.PG
		for _, f := range []func(context.Context, bun.IDB, bool, Settings, time.Time, time.Time, *Report) error{hotSpots, recurring, seasonal} {
			if err := f(ctx, db, pg, set, now, first, out); err != nil {
				return err
			}
		}
		return names(ctx, db, out.Names)
	})
	if err != nil {
		return nil, err
	}
	if err := s.overdueRising(ctx, out); err != nil {
		return nil, err
	}
	sort.SliceStable(out.Findings, func(i, j int) bool {
		a, b := out.Findings[i], out.Findings[j]
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) < kindOrder(b.Kind)
		}
		return a.Weight > b.Weight
	})
	return out, nil
}

func kindOrder(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}

// rfc is a time as the case list's from/to take it.
func rfc(t time.Time) string { return t.In(clock.China).Format(time.RFC3339) }

// hotSpots finds the grids' classes whose last window's count rose against the baseline windows
// before it.
func hotSpots(ctx context.Context, db bun.IDB, _ bool, set Settings, now, first time.Time, out *Report) error {
	window := time.Duration(set.WindowDays) * 24 * time.Hour
	cur := now.Add(-window)
	base := cur.Add(-time.Duration(set.BaselineWindows) * window)
	if first.After(base) {
		out.Short[HotSpot] = int(math.Ceil(now.Sub(base).Hours() / 24 / 30))
		return nil
	}
	var rows []struct {
		Grid  string `bun:"grid"`
		Kind  string `bun:"kind"`
		Class string `bun:"class_code"`
		Cur   int    `bun:"cur"`
		Base  int    `bun:"base"`
	}
	if err := db.NewRaw(`SELECT grid_code AS grid, kind, class_code,
	SUM(CASE WHEN created_at >= ?0 THEN 1 ELSE 0 END) AS cur, SUM(CASE WHEN created_at < ?0 THEN 1 ELSE 0 END) AS base
FROM cases WHERE created_at >= ?1 AND created_at < ?2 AND grid_code IS NOT NULL
GROUP BY grid_code, kind, class_code`, cur, base, now).Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		mean := float64(r.Base) / float64(set.BaselineWindows)
		if r.Cur < set.HotMinCases || float64(r.Cur) < set.HotRatio*mean {
			continue
		}
		ratio := 0.0
		if mean > 0 {
			ratio = math.Round(float64(r.Cur)/mean*10) / 10
		}
		out.Findings = append(out.Findings, Finding{Kind: HotSpot,
			Subject:  map[string]string{"grid": r.Grid, "class": r.Kind + "/" + r.Class},
			Evidence: map[string]any{"count": r.Cur, "baseline_mean": math.Round(mean*10) / 10, "ratio": ratio, "days": set.WindowDays, "windows": set.BaselineWindows},
			Cases:    url.Values{"kind": {r.Kind}, "class_code": {r.Class}, "grid": {r.Grid}, "from": {rfc(cur)}, "to": {rfc(now)}},
			Weight:   float64(r.Cur) - mean})
	}
	return nil
}

// recurring finds a class reported again and again at the same place: cases within a cell of
// about RecurMeters (latitude and longitude rounded to a grid of that size).
func recurring(ctx context.Context, db bun.IDB, _ bool, set Settings, now, _ time.Time, out *Report) error {
	from := now.Add(-time.Duration(set.RecurDays) * 24 * time.Hour)
	per := 111000.0 / float64(set.RecurMeters) // cells per degree (latitude; longitude near enough at China's latitudes)
	var rows []struct {
		Kind  string `bun:"kind"`
		Class string `bun:"class_code"`
		Y     int64  `bun:"y"`
		X     int64  `bun:"x"`
		N     int    `bun:"n"`
		Grid  string `bun:"grid"`
	}
	if err := db.NewRaw(`SELECT kind, class_code, CAST(round(lat * ?0) AS bigint) AS y, CAST(round(lon * ?0) AS bigint) AS x, count(*) AS n, max(COALESCE(grid_code, '')) AS grid
FROM cases WHERE created_at >= ?1 AND created_at < ?2
GROUP BY kind, class_code, CAST(round(lat * ?0) AS bigint), CAST(round(lon * ?0) AS bigint) HAVING count(*) >= ?3`, per, from, now, set.RecurMinCases).Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		var refs []CaseRef
		if err := db.NewRaw(`SELECT id, number FROM cases WHERE kind = ? AND class_code = ? AND created_at >= ? AND created_at < ?
AND CAST(round(lat * ?) AS bigint) = ? AND CAST(round(lon * ?) AS bigint) = ? ORDER BY created_at DESC LIMIT 20`,
			r.Kind, r.Class, from, now, per, r.Y, per, r.X).Scan(ctx, &refs); err != nil {
			return err
		}
		f := Finding{Kind: Recurring, Subject: map[string]string{"class": r.Kind + "/" + r.Class, "grid": r.Grid,
			"place": fmt.Sprintf("%.5f,%.5f", float64(r.Y)/per, float64(r.X)/per)},
			Evidence: map[string]any{"count": r.N, "days": set.RecurDays, "meters": set.RecurMeters},
			Cases:    url.Values{"kind": {r.Kind}, "class_code": {r.Class}, "from": {rfc(from)}, "to": {rfc(now)}},
			Numbers:  refs, Weight: float64(r.N)}
		if r.Grid != "" {
			f.Cases.Set("grid", r.Grid)
		}
		out.Findings = append(out.Findings, f)
	}
	return nil
}

// seasonal finds the classes that peaked, in the month after this one, a year ago: their count
// then reached SeasonRatio times that year's monthly mean. It needs twelve months of history.
func seasonal(ctx context.Context, db bun.IDB, pg bool, set Settings, now, first time.Time, out *Report) error {
	n := now.In(clock.China)
	next := time.Date(n.Year(), n.Month()+1, 1, 0, 0, 0, 0, clock.China)
	lastYear := next.AddDate(-1, 0, 0)
	yearFrom := lastYear.AddDate(0, -6, 0) // the twelve months around that month
	yearTo := lastYear.AddDate(0, 6, 0)
	if first.After(yearFrom) {
		out.Short[SeasonalPeak] = int(math.Ceil(now.Sub(yearFrom).Hours() / 24 / 30))
		return nil
	}
	var rows []struct {
		Kind  string `bun:"kind"`
		Class string `bun:"class_code"`
		Peak  int    `bun:"peak"`
		Year  int    `bun:"year"`
	}
	if err := db.NewRaw(`SELECT kind, class_code, SUM(CASE WHEN created_at >= ?0 AND created_at < ?1 THEN 1 ELSE 0 END) AS peak, count(*) AS year
FROM cases WHERE created_at >= ?2 AND created_at < ?3 GROUP BY kind, class_code`,
		lastYear, lastYear.AddDate(0, 1, 0), yearFrom, yearTo).Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		mean := float64(r.Year) / 12
		if r.Peak < set.SeasonMinCases || float64(r.Peak) < set.SeasonRatio*mean {
			continue
		}
		out.Findings = append(out.Findings, Finding{Kind: SeasonalPeak,
			Subject:  map[string]string{"class": r.Kind + "/" + r.Class, "month": lastYear.Format("2006-01"), "coming": next.Format("2006-01")},
			Evidence: map[string]any{"count": r.Peak, "monthly_mean": math.Round(mean*10) / 10, "ratio": math.Round(float64(r.Peak)/mean*10) / 10},
			Cases:    url.Values{"kind": {r.Kind}, "class_code": {r.Class}, "from": {rfc(lastYear)}, "to": {rfc(lastYear.AddDate(0, 1, 0))}},
			Weight:   float64(r.Peak) / mean})
	}
	return nil
}

// overdueRising finds departments whose share of cases handled late rose every month for
// OverdueMonths complete months, the last at least OverdueShare.
func (s *Service) overdueRising(ctx context.Context, out *Report) error {
	set := out.Settings
	n := out.At.In(clock.China)
	var shares []map[string]float64
	handled := map[string]int64{}
	for i := set.OverdueMonths; i >= 1; i-- {
		m := time.Date(n.Year(), n.Month()-time.Month(i), 1, 0, 0, 0, 0, clock.China)
		f, err := s.evals.Evaluate(ctx, evaluation.Month(m.Year(), m.Month()))
		if err != nil {
			return err
		}
		share := map[string]float64{}
		for _, r := range f.Rankings[evaluation.Departments].Rows {
			if h := r.Counts["handled"]; h > 0 {
				share[r.Key] = 1 - float64(r.Counts["handled_on_time"])/float64(h)
				if i == 1 {
					handled[r.Key] = h
				}
			}
			out.Names[r.Key] = r.Name
		}
		shares = append(shares, share)
	}
	for dept, h := range handled {
		if h < int64(set.OverdueMinHandled) {
			continue
		}
		series := make([]float64, 0, len(shares))
		rising := true
		for i, sh := range shares {
			v, ok := sh[dept]
			if !ok || (i > 0 && v <= series[i-1]) {
				rising = false
				break
			}
			series = append(series, math.Round(v*1000)/10)
		}
		if !rising || series[len(series)-1] < set.OverdueShare*100 {
			continue
		}
		last := time.Date(n.Year(), n.Month()-1, 1, 0, 0, 0, 0, clock.China)
		out.Findings = append(out.Findings, Finding{Kind: OverdueRising, Subject: map[string]string{"department": dept},
			Evidence: map[string]any{"shares": series, "months": set.OverdueMonths, "handled": h},
			Cases:    url.Values{"department": {dept}, "overdue": {"true"}, "from": {rfc(last)}, "to": {rfc(last.AddDate(0, 1, 0))}},
			Weight:   series[len(series)-1]})
	}
	return nil
}

// names names the grids and departments findings mention (today's names).
func names(ctx context.Context, db bun.IDB, out map[string]string) error {
	var kv []struct {
		K string `bun:"k"`
		V string `bun:"v"`
	}
	for _, q := range []string{"SELECT code AS k, name AS v FROM grids", "SELECT id AS k, name AS v FROM departments"} {
		kv = kv[:0]
		if err := db.NewRaw(q).Scan(ctx, &kv); err != nil {
			return err
		}
		for _, r := range kv {
			out[r.K] = r.V
		}
	}
	return nil
}
