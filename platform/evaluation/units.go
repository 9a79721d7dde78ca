package evaluation

import (
	"context"
	"sort"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"golang.org/x/sync/errgroup"
)

// unitWorkers is how many units a comparison evaluates at once.
const unitWorkers = 4

// UnitRow is one county's line of a prefecture's comparison: its totals as a Row (key: the slug;
// counts: reported, filed, closed, closed_on_time, inspector_reported), its score in the previous
// period and last year, and Unavailable when it could not be read (still provisioning, or its
// database did not answer).
type UnitRow struct {
	Row
	Tenant      *tenants.Tenant `json:"-"`
	Trend       Trend           `json:"trend"`
	Unavailable bool            `json:"unavailable"`
	// Satisfaction is the county's citizen satisfaction in the period (satisfaction.go).
	Satisfaction *SatisfactionRow `json:"satisfaction,omitempty"`
	// Supervision is the prefecture's scores of the county's answers to its supervision tasks
	// in the period (supervision.go); absent when none was scored.
	Supervision *SupervisionRow `json:"supervision,omitempty"`
}

// Comparison is a prefecture's counties side by side over a period, ranked under the scheme in
// force in the prefecture at the period's start (its common scheme; the counties' own schemes
// rank their own staff and departments only).
type Comparison struct {
	Period  Period             `json:"period"`
	Scheme  Scheme             `json:"scheme"`
	Weights map[string]float64 `json:"weights"`
	Units   []UnitRow          `json:"units"`
	Totals  Summary            `json:"totals"`
}

// CompareUnits evaluates every unit of scopes (the counties a prefecture reads: tenants.Store
// ReadableUnder) over p under the scheme in force in the tenant of ctx, the prefecture, and ranks
// them. Each county's read is audited with audit before it is read.
func (s *Service) CompareUnits(ctx context.Context, scopes []*tenants.Scope, p Period, audit func(ctx context.Context, sc *tenants.Scope) error) (*Comparison, error) {
	scheme, err := s.SchemeAt(ctx, p.From)
	if err != nil {
		return nil, err
	}
	out := &Comparison{Period: p, Scheme: *scheme, Weights: scheme.weights(Counties), Units: make([]UnitRow, len(scopes))}
	// Each county's totals of the period, the period before and the same period a year before.
	sums := make([][3]Summary, len(scopes))
	read := make([]bool, len(scopes))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(unitWorkers)
	for i, sc := range scopes {
		out.Units[i] = UnitRow{Row: Row{Key: sc.Tenant.Slug, Name: sc.Tenant.NameZH}, Tenant: sc.Tenant}
		if sc.Tenant.Status != tenants.StatusActive && sc.Tenant.Status != tenants.StatusSuspended {
			out.Units[i].Unavailable = true
			continue
		}
		g.Go(func() error {
			if err := audit(gctx, sc); err != nil {
				return err
			}
			uctx := tenants.WithScope(gctx, sc)
			for j, q := range []Period{p, p.Previous(), p.YearBefore()} {
				sum, err := s.Summarize(uctx, q)
				if err != nil {
					if code := errs.CodeOf(err); code == errs.Internal {
						return err
					}
					out.Units[i].Unavailable = true
					return nil
				}
				sums[i][j] = sum
			}
			// Satisfaction is a figure beside the score: a county that cannot give it (say, before
			// tenant migration 0032 reached it) is compared without it.
			if sat, err := s.Satisfaction(uctx, p); err == nil {
				sat.Total.Key, sat.Total.Name = sc.Tenant.Slug, sc.Tenant.NameZH
				out.Units[i].Satisfaction = &sat.Total
			} else {
				s.log.Warn("satisfaction not read; the county is compared without it", "tenant", sc.Tenant.Slug, "err", err)
			}
			read[i] = true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// The supervision scores are the prefecture's own records (ctx's tenant); a prefecture whose
	// scores cannot be read is compared without them.
	var sups [3]map[string]*SupervisionRow
	for j, q := range []Period{p, p.Previous(), p.YearBefore()} {
		sup, err := s.supervisionScores(ctx, q.From, q.To)
		if err != nil {
			s.log.Warn("supervision scores not read; the counties are compared without them", "err", err)
			break
		}
		sups[j] = sup
	}
	for i := range out.Units {
		if out.Units[i].Tenant != nil && sups[0] != nil {
			out.Units[i].Supervision = sups[0][out.Units[i].Tenant.ID.String()]
		}
	}
	// countsOf are a county's counts in period j with its supervision scores.
	countsOf := func(i, j int, sum Summary) map[string]int64 {
		c := unitCounts(sum)
		if t := out.Units[i].Tenant; t != nil && sups[j] != nil {
			if r := sups[j][t.ID.String()]; r != nil {
				c["supervision_points"], c["supervision_max"] = r.Sum, 100*r.Scored
			}
		}
		return c
	}
	def, w := Definitions[Counties], out.Weights
	var rows []Row
	for i, sum := range sums {
		if !read[i] {
			continue
		}
		u := &out.Units[i]
		u.Counts = countsOf(i, 0, sum[0])
		u.Values, u.Score = values(def, w, u.Counts, nil)
		_, u.Trend.Previous = values(def, w, countsOf(i, 1, sum[1]), nil)
		_, u.Trend.YearBefore = values(def, w, countsOf(i, 2, sum[2]), nil)
		out.Totals.Reported += sum[0].Reported
		out.Totals.Filed += sum[0].Filed
		out.Totals.Closed += sum[0].Closed
		out.Totals.ClosedOnTime += sum[0].ClosedOnTime
		out.Totals.InspectorReported += sum[0].InspectorReported
		rows = append(rows, u.Row)
	}
	out.Totals.Period = p
	rank(rows)
	ranks := map[string]int{}
	for _, r := range rows {
		ranks[r.Key] = r.Rank
	}
	for i := range out.Units {
		out.Units[i].Rank = ranks[out.Units[i].Key]
	}
	// Ranked first, in rank order; unavailable units last.
	sortUnits(out.Units)
	return out, nil
}

func unitCounts(s Summary) map[string]int64 {
	return map[string]int64{"reported": s.Reported, "filed": s.Filed, "closed": s.Closed,
		"closed_on_time": s.ClosedOnTime, "inspector_reported": s.InspectorReported}
}

func sortUnits(us []UnitRow) {
	sort.SliceStable(us, func(i, j int) bool {
		a, b := us[i], us[j]
		switch {
		case a.Rank > 0 && b.Rank > 0:
			return a.Rank < b.Rank || a.Rank == b.Rank && a.Key < b.Key
		case (a.Rank > 0) != (b.Rank > 0):
			return a.Rank > 0
		}
		return a.Key < b.Key
	})
}
