package evaluation

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// Citizen satisfaction (公众满意度): the answers of the citizens' survey (回访, platform/open311,
// table case_surveys of tenant migration 0032) given in a period, per county and per street,
// community, unit grid (the case's grid) and department (the one the case was last dispatched
// to). Two figures: the satisfaction average (1–5) and the rate of the surveyed cases the citizen
// says were solved (以群众评价为准的解决率). They are read beside the weighted indicators, not
// inside the composite score: a county that takes no public reports has none, and the scheme's
// weights stay those of GB/T 30428.4 (docs/evaluation.md#citizen-satisfaction).

// SatisfactionRow is one unit's survey answers in the period.
type SatisfactionRow struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	Surveyed  int64  `json:"surveyed"`
	Solved    int64  `json:"solved"`
	RatingSum int64  `json:"rating_sum"`
	// Average is RatingSum/Surveyed (1–5) and SolvedRate Solved/Surveyed; absent with no answer.
	Average    *float64 `json:"average"`
	SolvedRate *float64 `json:"solved_rate"`
}

func (r *SatisfactionRow) add(solved bool, rating int64) {
	r.Surveyed++
	r.Solved += b2i(solved)
	r.RatingSum += rating
}

func (r *SatisfactionRow) rates() {
	if r.Surveyed == 0 {
		r.Average, r.SolvedRate = nil, nil
		return
	}
	avg := math.Round(float64(r.RatingSum)/float64(r.Surveyed)*100) / 100
	r.Average, r.SolvedRate = &avg, Rate(r.Solved, r.Surveyed)
}

// Satisfaction is the period's citizen satisfaction: the county's total and its rows per object
// (streets, communities, grids, departments), most answers first.
type Satisfaction struct {
	Period Period                       `json:"period"`
	Total  SatisfactionRow              `json:"total"`
	Rows   map[Object][]SatisfactionRow `json:"rows"`
}

// Satisfaction reads the survey answers given in p in the tenant of ctx (its members and its
// prefecture's viewers, read-only).
func (s *Service) Satisfaction(ctx context.Context, p Period) (*Satisfaction, error) {
	if !p.From.Before(p.To) {
		return nil, errs.Field("from", msgPeriodStartBeforeEnd)
	}
	if sc := tenants.ScopeFrom(ctx); sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoTenantScope)
	}
	out := &Satisfaction{Period: p, Total: SatisfactionRow{Key: ""}, Rows: map[Object][]SatisfactionRow{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return satisfactionIn(ctx, db, p.From, p.To, out)
	})
	return out, err
}

// satisfactionIn counts the answers given in [from, to).
func satisfactionIn(ctx context.Context, db bun.IDB, from, to time.Time, out *Satisfaction) error {
	var rows []struct {
		Grid   string `bun:"grid"`
		Dept   string `bun:"dept"`
		Solved bool   `bun:"solved"`
		Rating int64  `bun:"rating"`
	}
	if err := db.NewRaw(`SELECT COALESCE(c.grid_code, '') AS grid, COALESCE(c.department_id, '') AS dept, s.solved, s.rating
FROM case_surveys s JOIN cases c ON c.id = s.case_id WHERE s.answered_at >= ? AND s.answered_at < ?`, from.UTC(), to.UTC()).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("evaluation: satisfaction: %w", err)
	}
	by := map[Object]map[string]*SatisfactionRow{}
	add := func(o Object, key string, solved bool, rating int64) {
		if key == "" {
			return
		}
		if by[o] == nil {
			by[o] = map[string]*SatisfactionRow{}
		}
		r := by[o][key]
		if r == nil {
			r = &SatisfactionRow{Key: key}
			by[o][key] = r
		}
		r.add(solved, rating)
	}
	for _, r := range rows {
		out.Total.add(r.Solved, r.Rating)
		for _, o := range []Object{Streets, Communities, Grids} {
			add(o, regionOf(o, r.Grid), r.Solved, r.Rating)
		}
		add(Departments, r.Dept, r.Solved, r.Rating)
	}
	out.Total.rates()
	if len(rows) == 0 {
		return nil
	}
	names, err := readNames(ctx, db)
	if err != nil {
		return err
	}
	for o, m := range by {
		list := make([]SatisfactionRow, 0, len(m))
		for _, r := range m {
			r.Name = names[r.Key]
			if r.Name == "" {
				r.Name = r.Key
			}
			r.rates()
			list = append(list, *r)
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].Surveyed != list[j].Surveyed {
				return list[i].Surveyed > list[j].Surveyed
			}
			return list[i].Key < list[j].Key
		})
		out.Rows[o] = list
	}
	return nil
}

// apiSatisfaction is GET /evaluation/satisfaction: the period's citizen satisfaction.
func (h *handlers) apiSatisfaction(c *fiber.Ctx) error {
	p, err := h.period(c)
	if err != nil {
		return err
	}
	v, err := h.s.Satisfaction(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// satisfactionCell is a row of the page's satisfaction table.
type satisfactionCell struct {
	Object                              Object
	Name, Surveyed, Average, SolvedRate string
}

func avgText(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// satisfactionCells are the county's total and its streets' and departments' rows for the page.
func satisfactionCells(sat *Satisfaction) (total satisfactionCell, rows []satisfactionCell) {
	cellOf := func(o Object, r SatisfactionRow) satisfactionCell {
		return satisfactionCell{Object: o, Name: r.Name, Surveyed: strconv.FormatInt(r.Surveyed, 10), Average: avgText(r.Average), SolvedRate: pct(r.SolvedRate)}
	}
	for _, o := range []Object{Streets, Departments} {
		for _, r := range sat.Rows[o] {
			rows = append(rows, cellOf(o, r))
		}
	}
	return cellOf("", sat.Total), rows
}
