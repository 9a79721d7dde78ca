package evaluation

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/uptrace/bun"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it).
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Service computes a tenant's evaluation from its case history, and keeps its weighting schemes.
type Service struct {
	gate  Gate
	now   func() time.Time
	cache *lru.Cache[cacheKey, *Figures]
	sums  *lru.Cache[cacheKey, *Figures] // Summarize's: totals only
	log   *slog.Logger
}

// NewService returns a Service over gate.
func NewService(gate Gate, now func() time.Time) *Service {
	c, _ := lru.New[cacheKey, *Figures](512)
	sums, _ := lru.New[cacheKey, *Figures](4096)
	return &Service{gate: gate, now: now, cache: c, sums: sums, log: slog.New(slog.DiscardHandler)}
}

// Forget drops the figures this process keeps of tenant, so that they are read again: for a
// writer of past history (the vendor import), whose events may land behind the newest one a
// period's figures were read with. Other processes keep theirs (docs/evaluation.md).
func (s *Service) Forget(tenant uuid.UUID) {
	id := tenant.String()
	for _, c := range []*lru.Cache[cacheKey, *Figures]{s.cache, s.sums} {
		for _, k := range c.Keys() {
			if k.tenant == id {
				c.Remove(k)
			}
		}
	}
}

// Period is the window [From, To) an evaluation counts, in China time: a month, a quarter, a year
// or any run of days. Name says which ("2026-05", "2026-Q2", "2026", "2026-05-01~2026-05-14").
type Period struct {
	Name string    `json:"name"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Row is one object's line of a ranking: its counts, the value of each indicator (a rate between
// 0 and 1, absent when its denominator is zero) and its composite score out of 100 (absent when
// no indicator has a value). Rank is 1 for the best score; rows without a score come last,
// unranked (0).
type Row struct {
	Key    string              `json:"key"`
	Name   string              `json:"name"`
	Counts map[string]int64    `json:"counts"`
	Values map[string]*float64 `json:"values"`
	Score  *float64            `json:"score"`
	Rank   int                 `json:"rank"`
}

// Ranking is one object's rows, best first, with the weights that scored them.
type Ranking struct {
	Object  Object             `json:"object"`
	Weights map[string]float64 `json:"weights"`
	Rows    []Row              `json:"rows"`
}

// ClassCount is how many cases of a class (kind/code) were reported.
type ClassCount struct {
	Class string `json:"class"`
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// Figures are a tenant's evaluation of a period.
type Figures struct {
	Period Period `json:"period"`
	// Scheme is the weighting in force at the period's start.
	Scheme   Scheme              `json:"scheme"`
	Rankings map[Object]*Ranking `json:"rankings"`
	// Totals: cases reported in the period, filed in it, and of those closed and closed on time
	// by its end.
	Reported          int64            `json:"reported"`
	Filed             int64            `json:"filed"`
	Closed            int64            `json:"closed"`
	ClosedOnTime      int64            `json:"closed_on_time"`
	InspectorReported int64            `json:"inspector_reported"`
	Sources           map[string]int64 `json:"sources"`
	TopClasses        []ClassCount     `json:"top_classes"`
	// ComputedAt is when the counts were read.
	ComputedAt time.Time `json:"computed_at"`
	// newest is the time of the newest event before the period's end when the counts were read:
	// the figures stay valid while it is the same.
	newest time.Time
}

// Rate is num/den, absent when den is zero.
func Rate(num, den int64) *float64 {
	if den == 0 {
		return nil
	}
	v := float64(num) / float64(den)
	return &v
}

// runningTTL is how long the figures of a period still running stay cached without a new event:
// time passing alone makes cases overdue.
const runningTTL = time.Minute

type cacheKey struct {
	tenant   string
	from, to time.Time
	scheme   string
}

// Evaluate computes the evaluation of the tenant in ctx over p under the tenant's own scheme in
// force at p's start. Figures already computed for the same period and scheme are returned while
// nothing was added to the case history within it since (the newest event before its end is the
// same) — for a period still running, for a minute at most. The figures returned are shared: do
// not change them.
func (s *Service) Evaluate(ctx context.Context, p Period) (*Figures, error) {
	return s.evaluate(ctx, p, nil)
}

// EvaluateWith is Evaluate under scheme (a prefecture's common scheme, for its counties'
// rankings) instead of the tenant's own.
func (s *Service) EvaluateWith(ctx context.Context, p Period, scheme *Scheme) (*Figures, error) {
	return s.evaluate(ctx, p, scheme)
}

func (s *Service) evaluate(ctx context.Context, p Period, scheme *Scheme) (*Figures, error) {
	if !p.From.Before(p.To) {
		return nil, errs.Field("from", msgPeriodStartBeforeEnd)
	}
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoTenantScope)
	}
	var out *Figures
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if scheme == nil {
			own, err := schemeAt(ctx, db, clock.StartOfDay(p.From))
			if err != nil {
				return err
			}
			scheme = own
		}
		newest, err := newestBefore(ctx, db, p.To)
		if err != nil {
			return err
		}
		key := cacheKey{tenant: sc.Tenant.ID.String(), from: p.From.UTC(), to: p.To.UTC(), scheme: scheme.ID + "|" + scheme.weightsKey()}
		now := s.now()
		if f, ok := s.cache.Get(key); ok && f.fresh(newest, now) {
			out = f
			return nil
		}
		c, err := count(ctx, db, p.From, s.asOf(p))
		if err != nil {
			return err
		}
		names, err := readNames(ctx, db)
		if err != nil {
			return err
		}
		f := score(c, names, *scheme)
		f.Period, f.ComputedAt, f.newest = p, now, newest
		s.cache.Add(key, f)
		out = f
		return nil
	})
	return out, err
}

// newestBefore is the time of the newest event before end. Events after a period's end (the case
// loop's work since a past period ended) do not change its figures, so they stay cached.
func newestBefore(ctx context.Context, db bun.IDB, end time.Time) (time.Time, error) {
	var newest time.Time
	err := db.NewRaw("SELECT COALESCE(max(at), ?) FROM case_events WHERE at < ?", time.Unix(0, 0).UTC(), end.UTC()).Scan(ctx, &newest)
	return newest, err
}

// fresh tells whether figures computed earlier still hold at now, newest being the newest event
// before the period's end: nothing new within the period, and for a period still running, computed
// within runningTTL.
func (f *Figures) fresh(newest, now time.Time) bool {
	return f.newest.Equal(newest) && (!f.Period.To.After(f.ComputedAt) || now.Sub(f.ComputedAt) < runningTTL)
}

// totals adds up the unit grids' counts: the period's totals.
func (f *Figures) totals(c *Counts) {
	f.Reported, f.Sources = c.Reported, c.Sources
	for _, counts := range c.Rows[Grids] {
		f.Filed += counts["filed"]
		f.Closed += counts["closed"]
		f.ClosedOnTime += counts["closed_on_time"]
		f.InspectorReported += counts["inspector_reported"]
	}
}

// Summarize is the totals of the tenant in ctx over p (reported, filed, closed, closed on time,
// reported by inspectors), as Evaluate would give them: what a prefecture's comparison sets side
// by side. It counts the regions alone, from the period's filings and what became of them, and
// keeps its totals as Evaluate keeps figures. Totals the loop stored (StoreTotals) are read
// instead: an ended period's as they are while they hold, a running period's with what the events
// since they were counted changed (advance).
func (s *Service) Summarize(ctx context.Context, p Period) (Summary, error) {
	if !p.From.Before(p.To) {
		return Summary{}, errs.Field("from", msgPeriodStartBeforeEnd)
	}
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return Summary{}, errs.E(errs.Internal, msgNoTenantScope)
	}
	var out Summary
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		newest, err := newestBefore(ctx, db, p.To)
		if err != nil {
			return err
		}
		key := cacheKey{tenant: sc.Tenant.ID.String(), from: p.From.UTC(), to: p.To.UTC()}
		now := s.now()
		if f, ok := s.sums.Get(key); ok && f.fresh(newest, now) {
			out = summary(f)
			return nil
		}
		if f, ok := s.anyFigures(key); ok && f.fresh(newest, now) {
			out = summary(f)
			return nil
		}
		f := &Figures{Period: p, ComputedAt: now, newest: newest}
		r, err := storedRow(ctx, db, p)
		if err != nil {
			return err
		}
		ok := r != nil && r.final(p, newest)
		if !ok && r != nil && s.asOf(p).After(r.AsOf) {
			if ok, err = r.partial(ctx, db, p); err != nil {
				return err
			}
			if ok {
				if r, err = advance(ctx, db, p, r, s.asOf(p)); err != nil {
					return err
				}
			}
		}
		if ok {
			r.figures(f)
		} else {
			c, err := countOf(ctx, db, filings, p.From, s.asOf(p))
			if err != nil {
				return err
			}
			f.totals(c)
		}
		s.sums.Add(key, f)
		out = summary(f)
		return nil
	})
	return out, err
}

// anyFigures is figures Evaluate keeps for key's tenant and period under any scheme (their totals
// do not depend on it).
func (s *Service) anyFigures(key cacheKey) (*Figures, bool) {
	for _, k := range s.cache.Keys() {
		if k.tenant == key.tenant && k.from.Equal(key.from) && k.to.Equal(key.to) {
			return s.cache.Peek(k)
		}
	}
	return nil, false
}

// score turns counts into rankings under scheme.
func score(c *Counts, names map[string]string, scheme Scheme) *Figures {
	f := &Figures{Scheme: scheme, Rankings: map[Object]*Ranking{}}
	f.totals(c)
	for _, o := range Objects {
		def := Definitions[o]
		w := scheme.weights(o)
		rk := &Ranking{Object: o, Weights: w, Rows: []Row{}}
		peakOf := map[string]int64{}
		for _, counts := range c.Rows[o] {
			for _, ind := range def.Indicators {
				if ind.Relative && counts[ind.Num] > peakOf[ind.Num] {
					peakOf[ind.Num] = counts[ind.Num]
				}
			}
		}
		for key, counts := range c.Rows[o] {
			if key == "" {
				continue // cases outside every grid; department or staff unknown
			}
			r := Row{Key: key, Name: names[key], Counts: counts, Values: map[string]*float64{}}
			if r.Name == "" {
				r.Name = c.Emails[key]
			}
			if r.Name == "" {
				r.Name = key
			}
			r.Values, r.Score = values(def, w, counts, peakOf)
			rk.Rows = append(rk.Rows, r)
		}
		rank(rk.Rows)
		f.Rankings[o] = rk
	}
	for class, n := range c.Classes {
		f.TopClasses = append(f.TopClasses, ClassCount{Class: class, Count: n})
	}
	sort.Slice(f.TopClasses, func(i, j int) bool {
		if f.TopClasses[i].Count != f.TopClasses[j].Count {
			return f.TopClasses[i].Count > f.TopClasses[j].Count
		}
		return f.TopClasses[i].Class < f.TopClasses[j].Class
	})
	if len(f.TopClasses) > topClasses {
		f.TopClasses = f.TopClasses[:topClasses]
	}
	return f
}

// values are the indicators' values of a row with counts, and its composite score out of 100
// under the weights w (absent when no weighted indicator has a value). A Relative indicator is
// the count against peakOf, the largest among the row's peers.
func values(def Definition, w map[string]float64, counts map[string]int64, peakOf map[string]int64) (map[string]*float64, *float64) {
	vals := map[string]*float64{}
	var sum, weight float64
	for _, ind := range def.Indicators {
		var v *float64
		if ind.Relative {
			v = Rate(counts[ind.Num], peakOf[ind.Num])
		} else {
			v = Rate(counts[ind.Num], counts[ind.Den])
		}
		vals[ind.ID] = v
		if v == nil || w[ind.ID] <= 0 {
			continue
		}
		x := *v
		if ind.Inverse {
			x = 1 - x
		}
		sum += w[ind.ID] * x
		weight += w[ind.ID]
	}
	if weight == 0 {
		return vals, nil
	}
	sc := math.Round(sum/weight*100*100) / 100
	return vals, &sc
}

// rank orders rows best score first (rows without a score last, by key) and numbers them; equal
// scores share a rank.
func rank(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if (a.Score == nil) != (b.Score == nil) {
			return a.Score != nil
		}
		if a.Score != nil && *a.Score != *b.Score {
			return *a.Score > *b.Score
		}
		return a.Key < b.Key
	})
	r := 0
	for i := range rows {
		if rows[i].Score == nil {
			break
		}
		if i == 0 || *rows[i].Score != *rows[i-1].Score {
			r = i + 1
		}
		rows[i].Rank = r
	}
}

// topClasses is how many problem classes the figures list.
const topClasses = 10

// readNames names the keys of the rows: grids by code, departments by id, staff by identity id
// (the org's staff linked to an account) or, not linked, by staff id (the inspector of a
// responsibility grid). The names are today's; the
// keys, what the figures count by, are those recorded when each case ran.
func readNames(ctx context.Context, db bun.IDB) (map[string]string, error) {
	out := map[string]string{}
	var kv []struct {
		K string `bun:"k"`
		V string `bun:"v"`
	}
	for _, q := range []string{
		"SELECT code AS k, name AS v FROM grids",
		"SELECT id AS k, name AS v FROM departments",
		"SELECT identity_id AS k, name AS v FROM staff WHERE identity_id IS NOT NULL",
		"SELECT id AS k, name AS v FROM staff WHERE identity_id IS NULL", // an inspector of a grid with no account
	} {
		kv = kv[:0]
		if err := db.NewRaw(q).Scan(ctx, &kv); err != nil {
			return nil, fmt.Errorf("evaluation: names: %w", err)
		}
		for _, r := range kv {
			out[r.K] = r.V
		}
	}
	return out, nil
}

// asOf is when p is counted: its end, or now for a period still running (its end has not come).
func (s *Service) asOf(p Period) time.Time {
	if now := s.now(); now.Before(p.To) {
		return now
	}
	return p.To
}

// CaseRef is a case behind a figure, as its list shows it.
type CaseRef struct {
	bun.BaseModel `bun:"table:cases"`

	ID           string    `bun:"id" json:"id"`
	Number       string    `bun:"number" json:"number"`
	State        string    `bun:"state" json:"state"`
	Source       string    `bun:"source" json:"source"`
	Kind         string    `bun:"kind" json:"kind"`
	ClassCode    string    `bun:"class_code" json:"class_code"`
	Address      string    `bun:"address" json:"address"`
	GridCode     *string   `bun:"grid_code" json:"grid_code"`
	DepartmentID *string   `bun:"department_id" json:"department_id"`
	Overdue      bool      `bun:"overdue" json:"overdue"`
	CreatedAt    time.Time `bun:"created_at" json:"created_at"`
}

// maxBehind is how many cases CasesBehind lists; Total says how many there are.
const maxBehind = 1000

// Behind is the list of the cases behind one figure.
type Behind struct {
	Object Object    `json:"object"`
	Key    string    `json:"key"`
	Name   string    `json:"name"` // the row's name (as the ranking names it; the key when unknown)
	Count  string    `json:"count"`
	Period Period    `json:"period"`
	Total  int       `json:"total"`
	Cases  []CaseRef `json:"cases"`
}

// CasesBehind lists the cases that make up object o's count of key over p (the newest first, at
// most maxBehind), so that a department can check a figure it disputes: Total is the figure.
func (s *Service) CasesBehind(ctx context.Context, p Period, o Object, key, countName string) (*Behind, error) {
	def, ok := Definitions[o]
	if !ok {
		return nil, errs.Field("object", msgUnknownObject, string(o))
	}
	if !slices.Contains(def.Counts, countName) {
		return nil, errs.Field("count", msgUnknownMeasure, countName, string(o))
	}
	out := &Behind{Object: o, Key: key, Count: countName, Period: p, Cases: []CaseRef{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		ids, ok, err := behind(ctx, db, o, key, countName, p.From, s.asOf(p))
		if err != nil {
			return err
		}
		if !ok {
			return errs.Field("count", msgUnknownMeasure, countName, string(o))
		}
		out.Total = len(ids)
		names, err := readNames(ctx, db)
		if err != nil {
			return err
		}
		if out.Name = names[key]; out.Name == "" {
			out.Name = key
		}
		for chunk := range slices.Chunk(ids, 500) {
			var part []CaseRef
			if err := db.NewSelect().Model(&part).Where("id IN (?)", bun.List(chunk)).Scan(ctx); err != nil {
				return err
			}
			out.Cases = append(out.Cases, part...)
		}
		sort.Slice(out.Cases, func(i, j int) bool { return out.Cases[i].CreatedAt.After(out.Cases[j].CreatedAt) })
		if len(out.Cases) > maxBehind {
			out.Cases = out.Cases[:maxBehind]
		}
		return nil
	})
	return out, err
}

// Summary is a period's totals.
type Summary struct {
	Period            Period `json:"period"`
	Reported          int64  `json:"reported"`
	Filed             int64  `json:"filed"`
	Closed            int64  `json:"closed"`
	ClosedOnTime      int64  `json:"closed_on_time"`
	InspectorReported int64  `json:"inspector_reported"`
}

// Trend is a row's score in the previous period and in the same period a year before (absent
// where it had none).
type Trend struct {
	Previous   *float64 `json:"previous"`
	YearBefore *float64 `json:"year_before"`
}

// Report is a period's figures with their trends: the totals of the previous period and of the
// same period last year, and every row's score then, by object and key.
type Report struct {
	*Figures
	Previous   Summary                     `json:"previous"`
	YearBefore Summary                     `json:"year_before"`
	Trends     map[Object]map[string]Trend `json:"trends"`
}

// Compare is the report of p: its figures (Evaluate) against the previous period and the same
// period last year, each counted under the scheme in force at p's start so the scores compare.
func (s *Service) Compare(ctx context.Context, p Period) (*Report, error) {
	return s.compare(ctx, p, nil)
}

// CompareWith is Compare under scheme.
func (s *Service) CompareWith(ctx context.Context, p Period, scheme *Scheme) (*Report, error) {
	return s.compare(ctx, p, scheme)
}

func (s *Service) compare(ctx context.Context, p Period, scheme *Scheme) (*Report, error) {
	f, err := s.evaluate(ctx, p, scheme)
	if err != nil {
		return nil, err
	}
	prev, err := s.evaluate(ctx, p.Previous(), &f.Scheme)
	if err != nil {
		return nil, err
	}
	last, err := s.evaluate(ctx, p.YearBefore(), &f.Scheme)
	if err != nil {
		return nil, err
	}
	r := &Report{Figures: f, Previous: summary(prev), YearBefore: summary(last), Trends: map[Object]map[string]Trend{}}
	for o, rk := range f.Rankings {
		scores := func(g *Figures) map[string]*float64 {
			out := map[string]*float64{}
			if other := g.Rankings[o]; other != nil {
				for _, row := range other.Rows {
					out[row.Key] = row.Score
				}
			}
			return out
		}
		ps, ys := scores(prev), scores(last)
		t := map[string]Trend{}
		for _, row := range rk.Rows {
			t[row.Key] = Trend{Previous: ps[row.Key], YearBefore: ys[row.Key]}
		}
		r.Trends[o] = t
	}
	return r, nil
}

func summary(f *Figures) Summary {
	return Summary{Period: f.Period, Reported: f.Reported, Filed: f.Filed, Closed: f.Closed, ClosedOnTime: f.ClosedOnTime, InspectorReported: f.InspectorReported}
}
