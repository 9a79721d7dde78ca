package console

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/errgroup"
)

// PrefectureDeps are what the prefecture's overview uses.
type PrefectureDeps struct {
	UI    *UI
	Store *tenants.Store
	Cases *cases.Service
	Log   *slog.Logger
	// AuditCrossRead records a read of sc's tenant by someone from outside it, as the tenant
	// scope middleware does for a request; the overview reads every county through its own scope.
	AuditCrossRead func(ctx context.Context, sc *tenants.Scope, method, path string) error
}

// prefecturePages are the prefecture's overview.
type prefecturePages struct{ d PrefectureDeps }

// MountPrefecture registers the prefecture's overview on r, the /t/:tenant group. It is read-only
// for everyone: it has no POST route, and the tenant scope refuses any POST of a read-only viewer
// before routing.
func MountPrefecture(r fiber.Router, d PrefectureDeps) {
	r.Get("/overview", (&prefecturePages{d: d}).overview)
}

// overviewWorkers bounds how many counties' figures are counted at once: each holds a
// read transaction (a pooled connection on PostgreSQL, a tenant file on SQLite).
const overviewWorkers = 4

// overviewPeriods are the periods the overview offers, the first being the default.
var overviewPeriods = []string{"month", "30d", "year"}

// OverviewPeriod is the window of period name at now, in Beijing time: this month, the last 30
// days, or this year so far; daily buckets but for the year.
func OverviewPeriod(name string, now time.Time) (string, cases.Period) {
	switch name {
	case "30d":
		return name, cases.Period{From: clock.StartOfDay(now).AddDate(0, 0, -29), To: now, Bucket: cases.ByDay}
	case "year":
		return name, cases.Period{From: time.Date(now.In(clock.China).Year(), 1, 1, 0, 0, 0, 0, clock.China), To: now, Bucket: cases.ByMonth}
	}
	return "month", cases.Period{From: clock.StartOfMonth(now), To: now, Bucket: cases.ByDay}
}

// CountyFigures are one county's indicators as the overview shows them. Unavailable is set when
// the county could not be read (still provisioning, or its database did not answer); the page
// shows the others.
type CountyFigures struct {
	Tenant      *tenants.Tenant
	Ind         *cases.Indicators
	Rate        float64 // on-time closing rate in percent, when HasRate (something was closed)
	HasRate     bool
	AvgHours    float64
	Overdue     []cases.Case // the oldest cases overdue now, at most overviewOverdue
	Unavailable bool
}

// overviewOverdue is how many overdue cases per county the overview links to.
const overviewOverdue = 5

// openStates are the states of a case still in the loop (all but closed and voided): a closed
// case that ran over is late, not overdue now.
var openStates = []cases.State{cases.Reported, cases.Verifying, cases.Accepted, cases.Filed, cases.Dispatched, cases.Handling,
	cases.ExtensionRequested, cases.ReturnRequested, cases.SuspensionRequested, cases.Suspended, cases.FedBack, cases.Checking, cases.Checked}

// PrefectureFigures counts the indicators of every county under pref that p may read, each
// through the tenant gate with the county's own read-only scope, at most overviewWorkers at a
// time. Every county read by someone from outside it is audited once, as the tenant scope
// middleware audits a request, with path as the page that read it.
func PrefectureFigures(ctx context.Context, d PrefectureDeps, p *tenants.Principal, pref *tenants.Tenant, period cases.Period, path string) ([]*CountyFigures, error) {
	units, err := d.Store.ReadableUnder(ctx, p, pref)
	if err != nil {
		return nil, err
	}
	out := make([]*CountyFigures, 0, len(units))
	scopes := map[*CountyFigures]*tenants.Scope{}
	for _, sc := range units {
		f := &CountyFigures{Tenant: sc.Tenant}
		out = append(out, f)
		scopes[f] = sc
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(overviewWorkers)
	for _, f := range out {
		sc := scopes[f]
		g.Go(func() error {
			if f.Tenant.Status != tenants.StatusActive && f.Tenant.Status != tenants.StatusSuspended {
				f.Unavailable = true
				return nil
			}
			if err := d.AuditCrossRead(gctx, sc, fiber.MethodGet, path); err != nil {
				return err
			}
			cctx := tenants.WithScope(gctx, sc)
			ind, err := d.Cases.CountIndicators(cctx, period)
			if err == nil {
				yes := true
				var page *cases.Page
				if page, err = d.Cases.FindCases(cctx, cases.Filter{States: openStates, Overdue: &yes, Limit: overviewOverdue}); err == nil {
					f.Overdue = page.Cases
				}
			}
			if err != nil {
				if errs.CodeOf(err) == errs.Internal {
					return err
				}
				d.Log.Warn("overview: county not read", "tenant", f.Tenant.Slug, "err", err)
				f.Unavailable = true
				return nil
			}
			f.Ind = ind
			if r, ok := ind.OnTimeRate(); ok {
				f.Rate, f.HasRate = math.Round(r*1000)/10, true
			}
			f.AvgHours = math.Round(ind.AvgHandling.Hours()*10) / 10
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// OverviewTotals sums the counties' figures for the table's last row (the mean handling time
// weighted by the cases closed).
func OverviewTotals(fs []*CountyFigures) *CountyFigures {
	t := &cases.Indicators{}
	var hours float64
	for _, f := range fs {
		if f.Ind == nil {
			continue
		}
		t.Reported += f.Ind.Reported
		t.Closed += f.Ind.Closed
		t.ClosedOnTime += f.Ind.ClosedOnTime
		t.OpenNow += f.Ind.OpenNow
		t.OverdueNow += f.Ind.OverdueNow
		t.ActiveStaff += f.Ind.ActiveStaff
		hours += f.Ind.AvgHandling.Hours() * float64(f.Ind.Closed)
	}
	out := &CountyFigures{Ind: t}
	if r, ok := t.OnTimeRate(); ok {
		out.Rate, out.HasRate = math.Round(r*1000)/10, true
	}
	if t.Closed > 0 {
		out.AvgHours = math.Round(hours/float64(t.Closed)*10) / 10
	}
	return out
}

// OverviewCharts builds the ECharts options: cases reported over time per county (lines), the
// on-time closing rate per county (bars) and the counties ranked by cases reported.
func OverviewCharts(lang string, fs []*CountyFigures, period cases.Period) (trend, onTime, rank map[string]any) {
	buckets := period.Buckets()
	var names []string
	var lines []map[string]any
	var rates []any
	type ranked struct {
		name string
		n    int
	}
	var rk []ranked
	for _, f := range fs {
		if f.Ind == nil {
			continue
		}
		name := f.Tenant.Name(lang)
		names = append(names, name)
		data := make([]int, len(buckets))
		for i, b := range buckets {
			data[i] = f.Ind.Series[b]
		}
		lines = append(lines, map[string]any{"name": name, "type": "line", "data": data, "smooth": false, "symbolSize": 5})
		if f.HasRate {
			rates = append(rates, f.Rate)
		} else {
			rates = append(rates, nil)
		}
		rk = append(rk, ranked{name, f.Ind.Reported})
	}
	slices.SortStableFunc(rk, func(a, b ranked) int { return cmp.Compare(a.n, b.n) }) // the largest at the top
	var rkNames []string
	var rkData []int
	for _, r := range rk {
		rkNames, rkData = append(rkNames, r.name), append(rkData, r.n)
	}
	grid := map[string]any{"left": 48, "right": 24, "top": 40, "bottom": 40, "containLabel": true}
	trend = map[string]any{"animation": false, "tooltip": map[string]any{"trigger": "axis"}, "legend": map[string]any{"type": "scroll", "top": 0},
		"grid": grid, "xAxis": map[string]any{"type": "category", "data": buckets}, "yAxis": map[string]any{"type": "value", "minInterval": 1},
		"series": lines}
	onTime = map[string]any{"animation": false, "tooltip": map[string]any{"trigger": "axis"}, "grid": grid,
		"xAxis": map[string]any{"type": "category", "data": names}, "yAxis": map[string]any{"type": "value", "min": 0, "max": 100, "axisLabel": map[string]any{"formatter": "{value}%"}},
		"series": []map[string]any{{"type": "bar", "data": rates, "itemStyle": map[string]any{"color": "#3f8f29"}, "label": map[string]any{"show": true, "position": "top", "formatter": "{c}%"}}}}
	rank = map[string]any{"animation": false, "tooltip": map[string]any{"trigger": "axis"}, "grid": grid,
		"xAxis": map[string]any{"type": "value", "minInterval": 1}, "yAxis": map[string]any{"type": "category", "data": rkNames},
		"series": []map[string]any{{"type": "bar", "data": rkData, "itemStyle": map[string]any{"color": "#0b5cad"}, "label": map[string]any{"show": true, "position": "right"}}}}
	return trend, onTime, rank
}

// OverdueLink is an overdue case on the overview, with the county it belongs to.
type OverdueLink struct {
	Tenant *tenants.Tenant
	Case   cases.Case
}

// overview shows every county's indicators, charts and map, and the oldest overdue cases.
func (p *prefecturePages) overview(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sc := tenants.ScopeFrom(ctx)
	if sc.Tenant.Kind != tenants.Prefecture {
		return errs.E(errs.NotFound, msgNotPrefectureOnlyPrefectureHas, sc.Tenant.Slug)
	}
	name, period := OverviewPeriod(c.Query("period"), p.d.Store.Now())
	fs, err := PrefectureFigures(ctx, p.d, module.Principal(c), sc.Tenant, period, c.Path())
	if err != nil {
		return err
	}
	l := Lang(c)
	trend, onTime, rank := OverviewCharts(l, fs, period)
	from := period.From.In(clock.China).Format(time.DateOnly)
	var layers []map[string]any
	var overdue []OverdueLink
	centres := map[string]any{"type": "FeatureCollection", "features": []any{}}
	var features []any
	states := StateLabels(l)
	for _, f := range fs {
		if f.Ind == nil {
			continue
		}
		slug := f.Tenant.Slug
		layers = append(layers, map[string]any{"url": "/api/v1/t/" + slug + "/cases.geojson?from=" + from, "kind": "cases", "cluster": true, "bbox": true,
			"link": "/t/" + slug + "/cases/{id}", "states": states})
		if f.Ind.Reported > 0 {
			features = append(features, map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []float64{f.Ind.Lon, f.Ind.Lat}},
				"properties": map[string]any{"name": f.Tenant.Name(l), "code": fmt.Sprintf(Translate(l, "pref.map.reported"), f.Ind.Reported), "slug": slug}})
		}
		for _, oc := range f.Overdue {
			overdue = append(overdue, OverdueLink{Tenant: f.Tenant, Case: oc})
		}
	}
	if len(features) > 0 {
		centres["features"] = features
		// The counties' centres come first and frame the map; the cases of the window follow.
		layers = append([]map[string]any{{"data": centres, "kind": "points", "fit": true, "link": "/t/{slug}/cases"}}, layers...)
	}
	slices.SortStableFunc(overdue, func(x, y OverdueLink) int { return x.Case.CreatedAt.Compare(y.Case.CreatedAt) })
	return p.d.UI.Render(c, "pref_overview", fiber.Map{"Counties": fs, "Totals": OverviewTotals(fs), "Period": name, "Periods": overviewPeriods,
		"From": period.From, "To": period.To, "Trend": trend, "OnTime": onTime, "Rank": rank, "Layers": layers, "Map": p.d.UI.MapConfig(c), "Overdue": overdue})
}
