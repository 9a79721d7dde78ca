package evaluation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// eachDialect runs body on SQLite and PostgreSQL with the evaluation's own tables.
func eachDialect(t *testing.T, body func(t *testing.T, e *platformtest.Env)) {
	platformtest.EachDialect(t, body, evaluation.Module(nil, nil, nil))
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// person is a staff member with an account: the identity the history records (actor_id), the
// staff id (what a responsibility grid names) and a context holding their post.
type person struct {
	id, staff, email string
	ctx              context.Context
}

// The test city: street 鹿城街道 with two communities; community 1 has the unit grids g101
// (responsibility grid R1, inspector 0) and g102 (R2, inspector 1), community 2 has g201 (no
// responsible inspector). A point outside every grid is placed nowhere.
const (
	g101 = "53230100100101"
	g102 = "53230100100102"
	g201 = "53230100100201"
)

var points = map[string][2]float64{g101: {101.505, 25.005}, g102: {101.515, 25.005}, g201: {101.525, 25.005}, "": {101.7, 25.5}}

func square(lon0, lat0, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon0, lat0, lon0+d, lat0, lon0+d, lat0+d, lon0, lat0+d, lon0, lat0)
}

func rect(lon0, lat0, w, h float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon0, lat0, lon0+w, lat0, lon0+w, lat0+h, lon0, lat0+h, lon0, lat0)
}

func feature(code, name, geom string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, code, name, geom)
}

var gridsJSON = `{"type":"FeatureCollection","features":[` + strings.Join([]string{
	feature(g101, "鹿城一号网格", square(101.50, 25.00, 0.01)),
	feature(g102, "鹿城二号网格", square(101.51, 25.00, 0.01)),
	feature(g201, "东瓜一号网格", square(101.52, 25.00, 0.01)),
	feature("53230100100100", "鹿城社区", rect(101.50, 25.00, 0.02, 0.01)),
	feature("53230100100200", "东瓜社区", rect(101.52, 25.00, 0.01, 0.01)),
	feature("53230100100000", "鹿城街道", square(101.49, 24.99, 0.05)),
}, ",") + `]}`

// The work calendar of 2026 around the test: 清明 (Sat 4 – Mon 6 April) and 劳动节 (Fri 1 – Tue 5
// May) off, Sunday 26 April and Saturday 9 May worked (调休).
const days2026 = `日期,类型,名称
2026-04-04,放假,清明节
2026-04-05,放假,清明节
2026-04-06,放假,清明节
2026-05-01,放假,劳动节
2026-05-02,放假,劳动节
2026-05-03,放假,劳动节
2026-05-04,放假,劳动节
2026-05-05,放假,劳动节
2026-04-26,上班,劳动节调休
2026-05-09,上班,劳动节调休
`

// Two classes with one 立结案标准 each: a missing cover (部件 0101) for 市政局 within 2 urgent
// hours, exposed rubbish (事件 0102) for 环卫站 within 1 working day.
const standardsCSV = "类型,小类代码,立案条件,责任部门,处置时限,结案条件\n部件,0101,丢失,市政局,2紧急工作时,补齐\n事件,0102,暴露垃圾,环卫站,1工作日,已清除\n"

// world is a tenant (A) set up for the case loop: grids, departments, staff with posts, classes,
// a calendar, and the case and evaluation services on a fake clock.
type world struct {
	t        testing.TB
	e        *platformtest.Env
	clk      *fakeClock
	cs       *cases.Service
	ev       *evaluation.Service
	cal      *calendar.Calendar
	depts    []string // 市政局, 环卫站
	handlers map[string]person
	ins      []person // inspectors: 0 of R1, 1 of R2, 2 of none
	acc      []person
	sl       []person
	dis      []person
	leader   person
	// identityOf maps staff ids to identity ids.
	identityOf map[string]string
	// tick, when set, is called each time the history's clock has moved on (the loops' work).
	tick func()
}

func newWorld(t testing.TB, e *platformtest.Env, start time.Time) *world {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, e: e, clk: &fakeClock{t: start}, handlers: map[string]person{}, identityOf: map[string]string{}}
	o := org.NewService(e.Store, nil)
	g := grids.NewService(e.Store, nil)
	cat := catalog.NewService(e.Store, o, g, nil)
	calSvc := calendar.NewService(e.Store, nil)
	if rep, err := calSvc.ImportYear(e.A, 2026, []byte(days2026), "csv", false); err != nil || !rep.Applied {
		t.Fatalf("calendar: %+v %v", rep, err)
	}
	cal, err := calSvc.Calendar(e.A)
	must(err)
	w.cal = cal
	for _, d := range []org.DepartmentInput{{Code: "SZJ", Name: "市政局"}, {Code: "HWZ", Name: "环卫站"}} {
		dept, err := o.CreateDepartment(e.A, d)
		must(err)
		w.depts = append(w.depts, dept.ID)
	}
	newPerson := func(role tenants.Role, n int, dept *string) person {
		id := uuid.New()
		ids := id.String()
		email := fmt.Sprintf("%s%d@test.cn", role, n)
		st, err := o.CreateStaff(e.A, org.StaffInput{IdentityID: &ids, Name: fmt.Sprintf("%s %d", role, n), DepartmentID: dept, Posts: []org.Post{org.Post(role)}})
		must(err)
		w.identityOf[st.ID] = ids
		ctx := tenants.WithPrincipal(context.Background(), &tenants.Principal{Identity: &tenants.Identity{ID: id, Email: email}})
		ctx = tenants.WithScope(ctx, &tenants.Scope{Tenant: e.TenantA, Roles: []tenants.Role{role}})
		return person{id: ids, staff: st.ID, email: email, ctx: ctx}
	}
	for i := range 3 {
		w.ins = append(w.ins, newPerson(tenants.Inspector, i, nil))
	}
	for i := range 2 {
		w.acc = append(w.acc, newPerson(tenants.Acceptor, i, nil))
		w.sl = append(w.sl, newPerson(tenants.ShiftLead, i, nil))
		w.dis = append(w.dis, newPerson(tenants.Dispatcher, i, nil))
	}
	for i, d := range w.depts {
		w.handlers[d] = newPerson(tenants.Handler, i, &d)
	}
	w.leader = newPerson(tenants.Leader, 0, nil)
	if rep, err := g.Import(e.A, []byte(gridsJSON), false); err != nil || rep.Accepted != 6 {
		t.Fatalf("grids: %+v %v", rep, err)
	}
	_, err = g.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R1", Name: "一", InspectorID: &w.ins[0].staff, Units: []string{g101}})
	must(err)
	_, err = g.PutResponsibility(e.A, grids.ResponsibilityGrid{Code: "R2", Name: "二", InspectorID: &w.ins[1].staff, Units: []string{g102}})
	must(err)
	if rep, err := cat.ImportStandards(e.A, []byte(standardsCSV), tabular.CSV, false); err != nil || rep.Accepted != 2 {
		t.Fatalf("standards: %+v %v", rep, err)
	}
	w.cs = cases.NewService(cases.Config{Gate: e.Store, PhotoDir: t.TempDir(), Now: w.clk.now, Places: g.Index(), Classes: cat.Entries(), RulesTTL: -1})
	w.ev = evaluation.NewService(e.Store, w.clk.now)
	return w
}

// report reports a case of class kind/code at the grid's point.
func (w *world) report(p person, src cases.Source, kind, code, grid string, self bool) *cases.Case {
	w.t.Helper()
	pt := points[grid]
	c, err := w.cs.Report(p.ctx, cases.ReportInput{Source: src, Kind: catalog.Kind(kind), ClassCode: code, Lon: pt[0], Lat: pt[1], Description: "test", SelfHandled: self})
	if err != nil {
		w.t.Fatalf("report by %s at %s: %v", p.email, grid, err)
	}
	if (c.GridCode == nil) != (grid == "") || (c.GridCode != nil && *c.GridCode != grid) {
		w.t.Fatalf("reported at %s, placed in %v", grid, c.GridCode)
	}
	return c
}

var png = []byte("\x89PNG\r\n\x1a\nnot really an image")

// act takes action a on c as p and returns the case after it (feedback uploads a photo first).
func (w *world) act(p person, c *cases.Case, a cases.Action, in cases.ActionInput) *cases.Case {
	w.t.Helper()
	in.Version = c.Version
	if in.Reason == "" {
		in.Reason = "test"
	}
	if a == cases.Feedback {
		ph, err := w.cs.AddPhoto(p.ctx, c.ID, png)
		if err != nil {
			w.t.Fatalf("photo: %v", err)
		}
		in.Attachments = []string{ph.ID}
	}
	got, err := w.cs.Act(p.ctx, c.ID, a, in)
	if err != nil {
		w.t.Fatalf("%s of case %s (%s) by %s at %s: %v", a, c.Number, c.State, p.email, w.clk.now(), err)
	}
	return got
}

// handler is the handler of the department c is dispatched to.
func (w *world) handler(c *cases.Case) person {
	return w.handlers[*c.DepartmentID]
}

// histories reads every case of the tenant with its events.
func (w *world) histories(ids []string) []*cases.Case {
	w.t.Helper()
	out := make([]*cases.Case, 0, len(ids))
	for _, id := range ids {
		c, err := w.cs.FindCaseByID(w.leader.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// detail is what the recount reads of an event's detail.
type detail struct {
	Stage *struct {
		Overdue bool `json:"overdue"`
	} `json:"stage"`
	DepartmentID string          `json:"department_id"`
	ReturnedBy   *string         `json:"returned_by"`
	Limit        *calendar.Limit `json:"limit"`
	Extension    *calendar.Limit `json:"extension"`
}

func detailOf(t testing.TB, e cases.Event) detail {
	var d detail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatalf("detail of %s: %v", e.Action, err)
	}
	return d
}
