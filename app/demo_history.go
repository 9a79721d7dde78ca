package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
)

// demoHistoryMonths is how far back the demo's history of 楚雄市 reaches.
const demoHistoryMonths = 6

// demoExtraStaff are the demo's further staff in 楚雄市, so that rankings rank several people.
var demoExtraStaff = []struct {
	who, name string
	role      tenants.Role
	post      org.Post
	dept      string // department code, for handlers
}{
	{"inspector2", "监督员 吴巡", tenants.Inspector, "inspector", ""},
	{"inspector3", "监督员 郑巡", tenants.Inspector, "inspector", ""},
	{"handler2", "处置员 周园", tenants.Handler, "handler", "YLJ"},
	{"handler3", "处置员 冯环", tenants.Handler, "handler", "HWC"},
}

// demoGrids are the unit grids of the history besides the loop's (53230100100101), each with its
// community and street, and its centre.
var demoGrids = []struct {
	code, name         string
	lon, lat           float64
	parentCode, parent string
}{
	{"53230100100102", "北浦社区 2 号网格", 101.5560, 25.0330, "", ""},
	{"53230100100201", "龙川社区 1 号网格", 101.5360, 25.0430, "53230100100200", "龙川社区"},
	{"53230100100202", "龙川社区 2 号网格", 101.5360, 25.0230, "", ""},
	{"53230100200101", "东兴社区 1 号网格", 101.5860, 25.0330, "53230100200100", "东兴社区"},
}

// demoClock is the clock of the demo's history: the case loop runs through the past at the
// times it is set to.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *demoClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// seedDemoHistory gives 楚雄市 half a year of case history, walked through the real case loop on
// a clock set into the past: a few cases a day from several sources and classes across five unit
// grids, three departments and three inspectors; most closed in time, some late, some reworked,
// returned, extended or voided; the last days' cases still open. It is what the evaluation pages
// show on a first start. The history is the same on every seeding (a fixed seed).
func (a demo) seedDemoHistory(ctx context.Context, t *tenants.Tenant, photo []byte) error {
	sctx := tenants.WithScope(ctx, tenants.SystemScope(t))
	depts := map[string]string{}
	ds, err := a.platform.org.FindDepartments(sctx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		depts[d.Code] = d.ID
	}
	for _, d := range []org.DepartmentInput{{Code: "YLJ", Name: "园林绿化局", Phone: "0878-0000001"}, {Code: "HWC", Name: "环境卫生管理处", Phone: "0878-0000002"}} {
		dep, err := a.platform.org.CreateDepartment(sctx, d)
		if err != nil {
			return fmt.Errorf("demo department: %w", err)
		}
		depts[d.Code] = dep.ID
	}
	as := map[string]context.Context{}
	for _, p := range demoPosts {
		id, err := a.store.FindIdentityByEmail(ctx, p.who+"@"+t.Slug+".demo")
		if err != nil {
			return err
		}
		as[p.who] = tenants.WithScope(tenants.WithPrincipal(ctx, &tenants.Principal{Identity: id}), &tenants.Scope{Tenant: t, Roles: []tenants.Role{p.role}})
	}
	ids := map[string]string{} // staff ids by account
	for _, p := range demoExtraStaff {
		id, staff, err := a.seedDemoStaff(ctx, t, p.who, p.name, p.role, p.post, depts[p.dept])
		if err != nil {
			return err
		}
		ids[p.who] = staff
		as[p.who] = tenants.WithScope(tenants.WithPrincipal(ctx, &tenants.Principal{Identity: id}), &tenants.Scope{Tenant: t, Roles: []tenants.Role{p.role}})
	}
	if err := a.seedDemoGrids(sctx, t, ids); err != nil {
		return err
	}
	classes, err := a.platform.catalog.FindClasses(sctx, catalog.ClassFilter{})
	if err != nil {
		return err
	}
	var minor []catalog.Class
	for _, cl := range classes {
		if cl.Level == "minor" && len(minor) < 12 {
			minor = append(minor, cl)
		}
	}
	clk := &demoClock{}
	cfg := a.casesConfig(nil)
	cfg.Now, cfg.Usage, cfg.RulesTTL = clk.now, nil, -1
	svc := cases.NewService(cfg)
	h := &demoHistory{svc: svc, clk: clk, as: as, photo: photo, rng: rand.New(rand.NewPCG(2026, 532301)),
		depts: []string{depts["SZJ"], depts["YLJ"], depts["HWC"]}, minor: minor,
		handlerOf: map[string]string{depts["SZJ"]: "handler", depts["YLJ"]: "handler2", depts["HWC"]: "handler3"}}
	today := clock.StartOfDay(a.store.Now())
	for day := today.AddDate(0, -demoHistoryMonths, 0); day.Before(today); day = day.AddDate(0, 0, 1) {
		n := 2 + h.rng.IntN(3)
		if wd := day.In(clock.China).Weekday(); wd == time.Saturday || wd == time.Sunday {
			n = h.rng.IntN(2)
		}
		for range n {
			at := day.Add(8*time.Hour + time.Duration(h.rng.IntN(10*60))*time.Minute)
			if err := h.walk(at, today.Sub(day) < 5*24*time.Hour); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedDemoGrids adds the history's unit grids (and their communities and street) and two
// responsibility grids, each with its inspector.
func (a demo) seedDemoGrids(sctx context.Context, t *tenants.Tenant, ids map[string]string) error {
	square := func(lon, lat, h float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}`, lon-h, lat-h, lon+h, lat+h)
	}
	fc := `{"type":"FeatureCollection","features":[` +
		`{"type":"Feature","properties":{"code":"53230100200000","name":"东瓜街道"},"geometry":` + square(101.5860, 25.0330, 0.012) + `}`
	for _, g := range demoGrids {
		if g.parentCode != "" {
			fc += `,{"type":"Feature","properties":{"code":"` + g.parentCode + `","name":"` + g.parent + `"},"geometry":` + square(g.lon, g.lat, 0.011) + `}`
		}
		fc += `,{"type":"Feature","properties":{"code":"` + g.code + `","name":"` + g.name + `"},"geometry":` + square(g.lon, g.lat, 0.0045) + `}`
	}
	fc += `]}`
	if _, err := a.platform.grids.Import(sctx, []byte(fc), false); err != nil {
		return fmt.Errorf("demo history grids: %w", err)
	}
	staff, err := a.platform.org.FindStaff(sctx, org.StaffFilter{})
	if err != nil {
		return err
	}
	var zid string
	for _, st := range staff {
		if st.Name == demoPosts[0].name {
			zid = st.ID
		}
	}
	wid := ids["inspector2"]
	for _, rg := range []grids.ResponsibilityGrid{
		{Code: "ZR01", Name: "北浦责任区", InspectorID: &zid, Units: []string{"53230100100101", "53230100100102"}},
		{Code: "ZR02", Name: "龙川责任区", InspectorID: &wid, Units: []string{"53230100100201", "53230100100202"}},
	} {
		if _, err := a.platform.grids.PutResponsibility(sctx, rg); err != nil {
			return fmt.Errorf("demo responsibility grid: %w", err)
		}
	}
	return nil
}

// demoHistory walks the history's cases.
type demoHistory struct {
	svc       *cases.Service
	clk       *demoClock
	as        map[string]context.Context
	photo     []byte
	rng       *rand.Rand
	depts     []string
	handlerOf map[string]string
	minor     []catalog.Class
}

var demoHistoryPlaces = [][2]float64{{101.5460, 25.0330}, {101.5560, 25.0330}, {101.5360, 25.0430}, {101.5360, 25.0230}, {101.5860, 25.0330}}

// step moves the clock on by a usual delay (minutes to a day), now and then by a long one (two
// to six days: the stage runs over its limit).
func (h *demoHistory) step(at time.Time) time.Time {
	d := time.Duration(10+h.rng.IntN(8*60)) * time.Minute
	if h.rng.IntN(12) == 0 {
		d = time.Duration(48+h.rng.IntN(96)) * time.Hour
	}
	return at.Add(d)
}

// walk reports one case at the time at and takes it through the loop; a recent case (open) may
// stop anywhere on the way.
func (h *demoHistory) walk(at time.Time, open bool) error {
	cl := h.minor[h.rng.IntN(len(h.minor))]
	if h.rng.IntN(3) == 0 {
		cl = h.minor[0] // the most common problem: missing manhole covers
	}
	pl := demoHistoryPlaces[h.rng.IntN(len(demoHistoryPlaces))]
	in := cases.ReportInput{Kind: cl.Kind, ClassCode: cl.Code, Description: cl.NameZH, Address: "楚雄市鹿城镇",
		Lon: pl[0] + (h.rng.Float64()-0.5)*0.006, Lat: pl[1] + (h.rng.Float64()-0.5)*0.006}
	who := []string{"inspector", "inspector2", "inspector3"}[h.rng.IntN(3)]
	switch r := h.rng.IntN(20); {
	case r < 3:
		in.Source, who = cases.FromHotline, "acceptor"
	case r < 5:
		in.Source, who = cases.FromCitizen, "acceptor"
	case r < 6:
		in.Source, who = cases.FromVideo, "acceptor"
	case r < 7:
		in.SelfHandled = true
	}
	h.clk.set(at)
	c, err := h.svc.Report(h.as[who], in)
	if err != nil {
		return fmt.Errorf("demo history report: %w", err)
	}
	if in.SelfHandled {
		return nil
	}
	act := func(who string, a cases.Action, in cases.ActionInput) error {
		at = h.step(at)
		h.clk.set(at)
		in.Version = c.Version
		if in.Reason == "" && cases.NeedsReason(a) {
			in.Reason = "演示"
		}
		next, err := h.svc.Act(h.as[who], c.ID, a, in)
		if err != nil {
			return fmt.Errorf("demo history %s %s: %w", c.Number, a, err)
		}
		c = next
		return nil
	}
	stop := func() bool { return open && h.rng.IntN(4) == 0 }
	if h.rng.IntN(14) == 0 {
		return act("acceptor", cases.Void, cases.ActionInput{Reason: "不属于受理范围"})
	}
	if in.Source != "" && h.rng.IntN(2) == 0 {
		if err := act("acceptor", cases.SendVerify, cases.ActionInput{}); err != nil {
			return err
		}
		if err := act([]string{"inspector", "inspector2", "inspector3"}[h.rng.IntN(3)], cases.Verify, cases.ActionInput{}); err != nil {
			return err
		}
	} else if err := act("acceptor", cases.Accept, cases.ActionInput{}); err != nil {
		return err
	}
	if stop() {
		return nil
	}
	dept := h.depts[h.rng.IntN(len(h.depts))]
	if err := act("shiftlead", cases.File, cases.ActionInput{Limit: &calendar.Limit{Amount: float64(1 + h.rng.IntN(3)), Unit: calendar.WorkingDays}}); err != nil {
		return err
	}
	if stop() {
		return nil
	}
	if err := act("dispatcher", cases.Dispatch, cases.ActionInput{DepartmentID: dept}); err != nil {
		return err
	}
	if h.rng.IntN(25) == 0 { // not this department's: returned and dispatched elsewhere
		if err := act(h.handlerOf[dept], cases.RequestReturn, cases.ActionInput{}); err != nil {
			return err
		}
		if err := act("dispatcher", cases.ApproveReturn, cases.ActionInput{}); err != nil {
			return err
		}
		dept = h.depts[(slices.Index(h.depts, dept)+1)%len(h.depts)]
		if err := act("dispatcher", cases.Dispatch, cases.ActionInput{DepartmentID: dept}); err != nil {
			return err
		}
	}
	handler := h.handlerOf[dept]
	if err := act(handler, cases.Take, cases.ActionInput{}); err != nil {
		return err
	}
	if stop() {
		return nil
	}
	if h.rng.IntN(10) == 0 {
		if err := act(handler, cases.RequestExtension, cases.ActionInput{Extension: &calendar.Limit{Amount: 1, Unit: calendar.WorkingDays}}); err != nil {
			return err
		}
		if err := act("shiftlead", cases.ApproveExtension, cases.ActionInput{}); err != nil {
			return err
		}
	}
	for round := 0; ; round++ {
		ph, err := h.svc.AddPhoto(h.as[handler], c.ID, h.photo)
		if err != nil {
			return fmt.Errorf("demo history photo: %w", err)
		}
		if err := act(handler, cases.Feedback, cases.ActionInput{Attachments: []string{ph.ID}, Reason: "已处理"}); err != nil {
			return err
		}
		if stop() {
			return nil
		}
		if err := act("acceptor", cases.SendCheck, cases.ActionInput{}); err != nil {
			return err
		}
		passed := round > 0 || h.rng.IntN(9) != 0
		if err := act([]string{"inspector", "inspector2", "inspector3"}[h.rng.IntN(3)], cases.Check, cases.ActionInput{Passed: &passed}); err != nil {
			return err
		}
		if passed {
			break
		}
		if err := act("shiftlead", cases.Rework, cases.ActionInput{Reason: "核查未通过，返工"}); err != nil {
			return err
		}
		if err := act(handler, cases.Take, cases.ActionInput{}); err != nil {
			return err
		}
	}
	if stop() {
		return nil
	}
	return act("shiftlead", cases.Close, cases.ActionInput{})
}
