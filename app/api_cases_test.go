package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/msg"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The posts of tenant A, one account each (adminA and inspectorA come from newFixture).
var casePosts = map[tenants.Role]string{
	tenants.Inspector: "inspectorA", tenants.Acceptor: "acceptorA", tenants.ShiftLead: "shiftA",
	tenants.Dispatcher: "dispatcherA", tenants.Handler: "handlerA", tenants.Leader: "leaderA", tenants.TenantAdmin: "adminA",
}

const (
	casesA   = "/api/v1/t/chuxiong/cases"
	pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-a-tiny-test-image"
	// A point inside A's unit grid 53230100100101 (setupPlatformA).
	reportA = `{"source":"hotline","kind":"component","class_code":"0101","description":"井盖缺失","lon":101.505,"lat":25.005,"reporter_name":"张三PII","reporter_phone":"13800138000"}`
)

type caseFixture struct {
	*fixture
	dept string
}

// msgTestKeysDown is what the tests' failing key store says.
var msgTestKeysDown = msg.New("app.test_keys_down", "The key store is down.", "密钥存储不可用。")

// newCaseFixture is newFixture with A's platform set up (department SZJ, grids, the standard of
// 0101: SZJ, 2 urgent hours) and one account per post; handlerA is staff of SZJ, handlerX of
// another department.
func newCaseFixture(t *testing.T, dialect string) *caseFixture {
	t.Helper()
	return newCaseFixtureWith(t, dialect, Options{})
}

// newCaseFixtureWith is newCaseFixture on an App booted with opts.
func newCaseFixtureWith(t *testing.T, dialect string, opts Options) *caseFixture {
	t.Helper()
	return newCaseFixtureConfig(t, dialect, opts, nil)
}

// newCaseFixtureConfig is newCaseFixtureWith on a configuration changed by adjust (when not nil).
func newCaseFixtureConfig(t *testing.T, dialect string, opts Options, adjust func(*Config)) *caseFixture {
	t.Helper()
	f := newFixtureConfig(t, dialect, opts, adjust)
	dept, _ := setupPlatformA(t, f)
	ctx := context.Background()
	ta, err := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	for who, role := range map[string]tenants.Role{"acceptorA": tenants.Acceptor, "shiftA": tenants.ShiftLead,
		"dispatcherA": tenants.Dispatcher, "handlerA": tenants.Handler, "handlerX": tenants.Handler, "leaderA": tenants.Leader} {
		id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: strings.ToLower(who) + "@test.cn", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.store.Grant(ctx, ta, id.ID, role); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.app.store.CreateAPIToken(ctx, id.ID, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[who], f.ids[who] = tok, id.ID.String()
	}
	res, _ := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/departments", `{"code":"HBJ","name":"环保局"}`)
	var other struct{ ID string }
	json.Unmarshal([]byte(res.body), &other)
	for who, d := range map[string]string{"handlerA": dept, "handlerX": other.ID} {
		if res, _ := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/staff", fmt.Sprintf(`{"name":%q,"identity_id":%q,"department_id":%q,"posts":["handler"]}`, who, f.ids[who], d)); res.status != 201 {
			t.Fatalf("staff %s: %d %s", who, res.status, res.body)
		}
	}
	return &caseFixture{fixture: f, dept: dept}
}

type caseView struct {
	ID, Number, State string
	Version           int
	Overdue           bool
	OvertimeMultiple  float64 `json:"overtime_multiple"`
	Deadline          *time.Time
	Supervised        bool
	Reporter          *cases.Reporter
	Events            []cases.Event
	Photos            []cases.Photo
}

func (f *caseFixture) mustDo(t *testing.T, who, method, path, body string, want int) *response {
	t.Helper()
	res, err := f.do(t, who, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != want {
		t.Fatalf("%s %s as %s: %d, want %d\n%s", method, path, who, res.status, want, res.body)
	}
	return res
}

func (f *caseFixture) report(t *testing.T, who, body string) caseView {
	t.Helper()
	var c caseView
	json.Unmarshal([]byte(f.mustDo(t, who, "POST", casesA, body, 201).body), &c)
	return c
}

func (f *caseFixture) photo(t *testing.T, who, id string) string {
	t.Helper()
	res := f.upload(t, who, casesA+"/"+id+"/photos", "image/png", pngBytes)
	if res.status != 201 {
		t.Fatalf("photo: %d %s", res.status, res.body)
	}
	var p struct{ ID string }
	json.Unmarshal([]byte(res.body), &p)
	return p.ID
}

// actionBody is a valid body for action at version v (photo for feedback).
func actionBody(action cases.Action, v int, photo string) string {
	m := map[string]any{"version": v, "reason": "因为 " + string(action)}
	switch action {
	case cases.RequestExtension:
		m["extension"] = map[string]any{"amount": 2, "unit": "urgent_hours"}
	case cases.Feedback:
		m["attachments"] = []string{photo}
	case cases.Check:
		m["passed"] = true
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// act takes action as who and returns the case after it.
func (f *caseFixture) act(t *testing.T, who string, c caseView, action cases.Action, want int) caseView {
	t.Helper()
	photo := ""
	if action == cases.Feedback && want == 200 {
		photo = f.photo(t, who, c.ID)
	}
	res := f.mustDo(t, who, "POST", casesA+"/"+c.ID+"/actions/"+string(action), actionBody(action, c.Version, photo), want)
	if want != 200 {
		return c
	}
	var out caseView
	json.Unmarshal([]byte(res.body), &out)
	return out
}

// pathTo drives a new case from reported to state.
var pathTo = map[cases.State][]cases.Action{
	cases.Reported:            nil,
	cases.Verifying:           {cases.SendVerify},
	cases.Accepted:            {cases.Accept},
	cases.Filed:               {cases.Accept, cases.File},
	cases.Dispatched:          {cases.Accept, cases.File, cases.Dispatch},
	cases.Handling:            {cases.Accept, cases.File, cases.Dispatch, cases.Take},
	cases.ExtensionRequested:  {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.RequestExtension},
	cases.ReturnRequested:     {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.RequestReturn},
	cases.SuspensionRequested: {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.RequestSuspension},
	cases.Suspended:           {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.RequestSuspension, cases.ApproveSuspension},
	cases.FedBack:             {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.Feedback},
	cases.Checking:            {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.Feedback, cases.SendCheck},
	cases.Checked:             {cases.Accept, cases.File, cases.Dispatch, cases.Take, cases.Feedback, cases.SendCheck, cases.Check},
}

func (f *caseFixture) drive(t *testing.T, to cases.State) caseView {
	t.Helper()
	c := f.report(t, "acceptorA", reportA)
	for _, a := range pathTo[to] {
		from := c.State
		tr := transitionOf(t, cases.State(from), a)
		c = f.act(t, casePosts[tr.Posts[0]], c, a, 200)
	}
	if c.State != string(to) {
		t.Fatalf("drove to %s, got %s", to, c.State)
	}
	return c
}

func transitionOf(t *testing.T, from cases.State, a cases.Action) cases.Transition {
	t.Helper()
	for _, tr := range cases.Machine {
		if tr.From == from && tr.Action == a {
			return tr
		}
	}
	t.Fatalf("no transition %s from %s", a, from)
	return cases.Transition{}
}

// TestCaseEveryTransitionEveryPost takes every transition of the machine with every post: the
// posts it is not for get 403 and leave the case as it was; its own post gets 200, the next
// state, and an event in the timeline saying who, which post, from, to and why.
func TestCaseEveryTransitionEveryPost(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { everyTransitionEveryPost(t, newCaseFixture(t, dialect)) })
	}
}

func everyTransitionEveryPost(t *testing.T, f *caseFixture) {
	for _, tr := range cases.Machine {
		t.Run(string(tr.From)+"/"+string(tr.Action), func(t *testing.T) {
			c := f.drive(t, tr.From)
			for role, who := range casePosts {
				if role == tr.Posts[0] {
					continue
				}
				f.act(t, who, c, tr.Action, 403)
			}
			if tr.Posts[0] == tenants.Handler {
				f.act(t, "handlerX", c, tr.Action, 403) // a handler of another department
			}
			who := casePosts[tr.Posts[0]]
			got := f.act(t, who, c, tr.Action, 200)
			if got.State != string(tr.To) || got.Version != c.Version+1 {
				t.Fatalf("%s: state %s version %d, want %s %d", tr.Action, got.State, got.Version, tr.To, c.Version+1)
			}
			var full caseView
			json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+c.ID, "", 200).body), &full)
			last := full.Events[len(full.Events)-1]
			if len(full.Events) != c.Version+1 || last.Action != tr.Action || last.From != string(tr.From) || last.To != tr.To ||
				last.Post != tr.Posts[0] || last.ActorID != f.ids[who] || !strings.Contains(last.Reason, string(tr.Action)) {
				t.Fatalf("timeline after %s: %+v", tr.Action, full.Events)
			}
		})
	}
	t.Run("wrong state is 409", func(t *testing.T) {
		c := f.report(t, "acceptorA", reportA)
		f.act(t, "shiftA", c, cases.Close, 409)
		f.act(t, "dispatcherA", c, cases.Dispatch, 409)
		f.mustDo(t, "acceptorA", "POST", casesA+"/"+c.ID+"/actions/fly", `{"version":1}`, 404)
		f.mustDo(t, "acceptorA", "POST", casesA+"/"+c.ID+"/actions/void", `{"version":1}`, 400) // no reason
	})
	t.Run("a failed check cannot be closed", func(t *testing.T) {
		c := f.drive(t, cases.Checking)
		var got caseView
		res := f.mustDo(t, "inspectorA", "POST", casesA+"/"+c.ID+"/actions/check", fmt.Sprintf(`{"version":%d,"passed":false,"reason":"井盖仍缺"}`, c.Version), 200)
		json.Unmarshal([]byte(res.body), &got)
		if res := f.mustDo(t, "shiftA", "POST", casesA+"/"+c.ID+"/actions/close", actionBody(cases.Close, got.Version, ""), 409); !strings.Contains(res.body, "rework") {
			t.Fatalf("close after a failed check: %s", res.body)
		}
		f.act(t, "shiftA", got, cases.Rework, 200)
	})
	t.Run("supervise", func(t *testing.T) {
		c := f.drive(t, cases.Dispatched)
		for role, who := range casePosts {
			if role != tenants.Leader {
				f.act(t, who, c, cases.Supervise, 403)
			}
		}
		got := f.act(t, "leaderA", c, cases.Supervise, 200)
		if !got.Supervised || got.State != string(cases.Dispatched) {
			t.Fatalf("supervised: %+v", got)
		}
		f.mustDo(t, "adminA", "GET", casesA+"?supervised=true", "", 200)
		closed := f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"self_handled":true}`)
		f.act(t, "leaderA", closed, cases.Supervise, 409)
	})
	t.Run("self handle", func(t *testing.T) {
		c := f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"self_handled":true}`)
		if c.State != "closed" {
			t.Fatalf("self-handled case is %s", c.State)
		}
		f.photo(t, "inspectorA", c.ID) // its photos follow
		for _, who := range []string{"acceptorA", "shiftA", "dispatcherA", "handlerA", "leaderA", "adminA"} {
			want := 403
			if who == "acceptorA" {
				want = 400 // acceptors report, but only inspectors handle on the spot
			}
			f.mustDo(t, who, "POST", casesA, `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"self_handled":true}`, want)
		}
	})
	t.Run("report posts", func(t *testing.T) {
		for _, who := range []string{"shiftA", "dispatcherA", "handlerA", "leaderA", "adminA"} {
			f.mustDo(t, who, "POST", casesA, reportA, 403)
		}
		f.mustDo(t, "inspectorA", "POST", casesA, reportA, 400) // an inspector reports from patrol
		f.mustDo(t, "inspectorA", "POST", casesA, `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005}`, 201)
		f.mustDo(t, "acceptorA", "POST", casesA, `{"kind":"component","class_code":"9999","lon":101.505,"lat":25.005}`, 400)
		if res := f.mustDo(t, "acceptorA", "POST", casesA, `{"kind":"部件","class_code":"0101","lon":101.505,"lat":25.005}`, 201); !strings.Contains(res.body, `"kind":"component"`) {
			t.Fatalf("kind in Chinese: %s", res.body)
		}
	})
	t.Run("an approved return needs a new department and starts a fresh clock", func(t *testing.T) {
		c := f.drive(t, cases.ReturnRequested)
		c = f.act(t, "dispatcherA", c, cases.ApproveReturn, 200)
		if c.State != "filed" || c.Deadline != nil {
			t.Fatalf("after the return: %+v", c)
		}
		f.mustDo(t, "dispatcherA", "POST", casesA+"/"+c.ID+"/actions/dispatch", actionBody(cases.Dispatch, c.Version, ""), 400)
		var got caseView
		json.Unmarshal([]byte(f.mustDo(t, "dispatcherA", "POST", casesA+"/"+c.ID+"/actions/dispatch",
			fmt.Sprintf(`{"version":%d,"department_id":%q}`, c.Version, f.dept), 200).body), &got)
		if got.State != "dispatched" || got.Deadline == nil {
			t.Fatalf("dispatched again: %+v", got)
		}
	})
}

// TestCaseLoopFlow runs a case from report to close through rework, extension and suspension
// on both dialects, and checks the deadline, the concurrent-action rule and the history.
func TestCaseLoopFlow(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			c := f.report(t, "acceptorA", reportA)
			if !strings.HasPrefix(c.Number, "532301-") || !strings.HasSuffix(c.Number, "-000001") {
				t.Fatalf("number %q", c.Number)
			}
			if c2 := f.report(t, "acceptorA", reportA); !strings.HasSuffix(c2.Number, "-000002") {
				t.Fatalf("second number %q", c2.Number)
			}
			// Each new case is one cases_created usage event, keyed by the case.
			if err := f.app.billing.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := f.app.store.DB().NewSelect().Table("control.usage_events").ColumnExpr("count(*)").
				Where("meter = 'cases_created' AND idempotency_key = ?", "case:"+c.ID).Scan(context.Background(), &n); err != nil || n != 1 {
				t.Fatalf("usage events of the case: %d %v", n, err)
			}
			for _, step := range []struct {
				who    string
				action cases.Action
			}{{"acceptorA", cases.SendVerify}, {"inspectorA", cases.Verify}, {"shiftA", cases.File}, {"dispatcherA", cases.Dispatch}, {"handlerA", cases.Take},
				{"handlerA", cases.RequestExtension}, {"shiftA", cases.ApproveExtension}, {"handlerA", cases.RequestSuspension}, {"shiftA", cases.ApproveSuspension},
				{"shiftA", cases.Resume}, {"handlerA", cases.Feedback}, {"acceptorA", cases.SendCheck}, {"inspectorA", cases.Check}, {"shiftA", cases.Rework},
				{"handlerA", cases.Take}, {"handlerA", cases.Feedback}, {"acceptorA", cases.SendCheck}, {"inspectorA", cases.Check}} {
				c = f.act(t, step.who, c, step.action, 200)
			}
			if c.Deadline == nil {
				t.Fatalf("no deadline after dispatch: %+v", c)
			}
			// Two actions with the same version: one wins, the other is told to reload.
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, a := range []cases.Action{cases.Close, cases.Rework} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := f.do(t, "shiftA", "POST", casesA+"/"+c.ID+"/actions/"+string(a), actionBody(a, c.Version, ""))
					if err == nil {
						statuses[i] = res.status
						if res.status == 409 && !strings.Contains(res.body, "Reload") && !strings.Contains(res.body, "reload") {
							t.Errorf("409 without a clear message: %s", res.body)
						}
					}
				}()
			}
			wg.Wait()
			if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
				t.Fatalf("concurrent actions: %v, want one 200 and one 409", statuses)
			}
			// A stale version is refused too.
			f.mustDo(t, "shiftA", "POST", casesA+"/"+c.ID+"/actions/close", actionBody(cases.Close, c.Version, ""), 409)
			var full caseView
			json.Unmarshal([]byte(f.mustDo(t, "shiftA", "GET", casesA+"/"+c.ID, "", 200).body), &full)
			if len(full.Events) != full.Version || full.Events[0].Action != cases.Report || full.Reporter == nil || full.Reporter.Name != "张三PII" {
				t.Fatalf("case after the loop: %+v", full)
			}
			if e := full.Events[1]; e.Action != cases.SendVerify || !strings.Contains(string(e.Detail), "inspector_id") {
				t.Fatalf("send_verify names no inspector: %+v", e)
			}
			// History is append-only in the database.
			ctx := tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong")))
			for _, q := range []string{"UPDATE case_events SET reason = 'x'", "DELETE FROM case_events"} {
				err := f.app.store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
					_, err := db.ExecContext(ctx, q)
					return err
				})
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s: %v", q, err)
				}
			}
		})
	}
}

func mustTenant(t *testing.T, f *fixture, slug string) *tenants.Tenant {
	t.Helper()
	tn, err := f.app.store.FindTenantBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestCaseEndpointsIsolation: every case endpoint for its owner, tenant B (404, none of A's
// data), the prefecture viewer (reads work, writes refused) and the operator's support.
func TestCaseEndpointsIsolation(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	c := f.report(t, "acceptorA", reportA)
	photo := f.photo(t, "acceptorA", c.ID)
	one := casesA + "/" + c.ID
	bOne := "/api/v1/t/wuding/cases/" + c.ID
	act := one + "/actions/accept"
	body := `{"version":1}`
	runScenarios(t, f.fixture, []scenario{
		{"owner lists", "adminA", "GET", casesA, "", 200, c.Number, "张三PII"},
		{"owner reads", "acceptorA", "GET", one, "", 200, "张三PII", ""},
		{"inspector reads masked", "inspectorA", "GET", one, "", 200, `"masked"`, "张三PII"},
		{"owner map", "adminA", "GET", casesA + ".geojson?bbox=101,24,102,26", "", 200, c.Number, ""},
		{"owner photo", "adminA", "GET", one + "/photos/" + photo, "", 200, "PNG", ""},

		{"B lists A", "adminB", "GET", casesA, "", 404, "", c.Number},
		{"B reads A case", "adminB", "GET", one, "", 404, "", c.Number},
		{"B reads A case through B", "adminB", "GET", bOne, "", 404, "", c.Number},
		{"B map of A", "adminB", "GET", casesA + ".geojson?bbox=101,24,102,26", "", 404, "", c.Number},
		{"B own map", "adminB", "GET", "/api/v1/t/wuding/cases.geojson?bbox=101,24,102,26", "", 200, "", c.Number},
		{"B own list", "adminB", "GET", "/api/v1/t/wuding/cases", "", 200, "", c.Number},
		{"B reports into A", "adminB", "POST", casesA, reportA, 404, "", ""},
		{"B acts on A", "adminB", "POST", act, body, 404, "", ""},
		{"B acts on A through B", "adminB", "POST", "/api/v1/t/wuding/cases/" + c.ID + "/actions/accept", body, 404, "", ""},
		{"B reads A photo", "adminB", "GET", one + "/photos/" + photo, "", 404, "", "PNG"},
		{"B reads A photo through B", "adminB", "GET", bOne + "/photos/" + photo, "", 404, "", "PNG"},
		{"B uploads to A", "adminB", "POST", one + "/photos", pngBytes, 404, "", ""},
		{"nobody lists A", "nobody", "GET", casesA, "", 404, "", c.Number},

		{"viewer lists A", "viewer", "GET", casesA, "", 200, c.Number, ""},
		{"viewer reads A masked", "viewer", "GET", one, "", 200, `"masked"`, "张三PII"},
		{"viewer map", "viewer", "GET", casesA + ".geojson?bbox=101,24,102,26", "", 200, c.Number, ""},
		{"viewer photo", "viewer", "GET", one + "/photos/" + photo, "", 200, "PNG", ""},
		{"viewer reports", "viewer", "POST", casesA, reportA, 403, "read-only", ""},
		{"viewer acts", "viewer", "POST", act, body, 403, "read-only", ""},
		{"viewer uploads", "viewer", "POST", one + "/photos", pngBytes, 403, "read-only", ""},
		{"support reads masked", "support", "GET", one, "", 200, `"masked"`, "张三PII"},
		{"support acts", "support", "POST", act, body, 403, "", ""},

		// 城管通's routes (docs/field.md).
		{"B acts on A through the field app", "adminB", "POST", fieldA + "/cases/" + c.ID + "/actions/accept", body, 404, "", ""},
		{"B reads A's field tasks", "adminB", "GET", fieldA + "/tasks", "", 404, "", c.Number},
		{"B reads A's tracks", "adminB", "GET", fieldA + "/tracks", "", 404, "", ""},
		{"B posts A's tracks", "adminB", "POST", fieldA + "/tracks", `{"points":[]}`, 404, "", ""},
		{"viewer acts through the field app", "viewer", "POST", fieldA + "/cases/" + c.ID + "/actions/accept", body, 403, "read-only", ""},
		{"viewer field tasks", "viewer", "GET", fieldA + "/tasks", "", 403, "", c.Number},
		{"viewer tracks", "viewer", "GET", fieldA + "/tracks", "", 403, "", ""},
		{"support tracks", "support", "GET", fieldA + "/tracks", "", 403, "", ""},
	})
	// Nothing B or the viewer tried changed the case.
	var got caseView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", one, "", 200).body), &got)
	if got.Version != 1 || got.State != "reported" {
		t.Fatalf("case after the attempts: %+v", got)
	}
}

func TestCasePhotos(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	c := f.report(t, "acceptorA", reportA)
	path := casesA + "/" + c.ID + "/photos"
	// The type is judged by the bytes: a text file sent as image/png is refused.
	if res := f.upload(t, "acceptorA", path, "image/png", "<html>not a photo</html>"); res.status != 415 {
		t.Fatalf("text as png: %d %s", res.status, res.body)
	}
	f.app.cases.SetMaxPhoto(64)
	if res := f.upload(t, "acceptorA", path, "image/png", pngBytes+strings.Repeat("x", 64)); res.status != 413 {
		t.Fatalf("oversize: %d %s", res.status, res.body)
	}
	f.app.cases.SetMaxPhoto(cases.DefaultMaxPhoto)
	// Multipart, with a lying header: still a PNG by its bytes.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	fw.Write([]byte(pngBytes))
	mw.Close()
	res := f.upload(t, "acceptorA", path, mw.FormDataContentType(), buf.String())
	if res.status != 201 || !strings.Contains(res.body, `"image/png"`) {
		t.Fatalf("multipart: %d %s", res.status, res.body)
	}
	var p cases.Photo
	json.Unmarshal([]byte(res.body), &p)
	got := f.mustDo(t, "inspectorA", "GET", path+"/"+p.ID, "", 200)
	if got.body != pngBytes || got.header.Get("Content-Type") != "image/png" {
		t.Fatalf("photo back: %q %s", got.body, got.header.Get("Content-Type"))
	}
	// A photo of another case of the same tenant is not reachable under this case.
	other := f.report(t, "acceptorA", reportA)
	f.mustDo(t, "adminA", "GET", casesA+"/"+other.ID+"/photos/"+p.ID, "", 404)
	// Nor may it be attached to the other case.
	f.mustDo(t, "acceptorA", "POST", casesA+"/"+other.ID+"/actions/accept", `{"version":1,"attachments":["`+p.ID+`"]}`, 400)
}

type downCipher struct{}

func (downCipher) Encrypt(context.Context, uuid.UUID, []byte) (string, error) {
	return "", errs.E(errs.Unavailable, msgTestKeysDown)
}
func (downCipher) Decrypt(context.Context, uuid.UUID, string) ([]byte, error) {
	return nil, errs.E(errs.Unavailable, msgTestKeysDown)
}
func (downCipher) EncryptBatch(context.Context, uuid.UUID, [][]byte) ([]string, error) {
	return nil, errs.E(errs.Unavailable, msgTestKeysDown)
}
func (downCipher) DecryptBatch(context.Context, uuid.UUID, []string) ([][]byte, error) {
	return nil, errs.E(errs.Unavailable, msgTestKeysDown)
}

// TestCasePersonalData: the reporter's name and phone are stored encrypted, and a key store
// outage refuses the report with 503 and writes nothing.
func TestCasePersonalData(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			keys := &switchCipher{}
			f := newCaseFixtureWith(t, dialect, Options{CaseConfig: func(c *cases.Config) { keys.Cipher, c.Cipher = c.Cipher, keys }})
			c := f.report(t, "acceptorA", reportA)
			ctx := tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong")))
			var name, phone string
			count := func() (n int) {
				f.app.store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
					m, _ := db.NewSelect().Table("cases").Count(ctx)
					n = int(m)
					return nil
				})
				return n
			}
			if err := f.app.store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
				return db.NewSelect().Table("cases").Column("reporter_name_enc", "reporter_phone_enc").Where("id = ?", c.ID).Scan(ctx, &name, &phone)
			}); err != nil {
				t.Fatal(err)
			}
			if name == "" || strings.Contains(name, "张三") || strings.Contains(phone, "13800138000") || phone == "" {
				t.Fatalf("stored in clear: %q %q", name, phone)
			}
			before := count()
			keys.down.Store(true)
			f.mustDo(t, "acceptorA", "POST", casesA, reportA, 503)
			// Without personal data the report needs no key.
			f.mustDo(t, "inspectorA", "POST", casesA, `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005}`, 201)
			// Reading degrades: the case is shown, its personal data marked unavailable.
			f.mustDo(t, "acceptorA", "GET", casesA+"/"+c.ID, "", 200)
			if res := f.mustDo(t, "acceptorA", "GET", casesA+"/"+c.ID, "", 200); !strings.Contains(res.body, `"unavailable"`) {
				t.Fatalf("read during outage: %s", res.body)
			}
			keys.down.Store(false)
			if n := count(); n != before+1 {
				t.Fatalf("cases after the outage: %d, want %d", n, before+1)
			}
		})
	}
}

func TestCaseListFiltersAndPages(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	var ids []string
	for range 5 {
		ids = append(ids, f.report(t, "acceptorA", reportA).ID)
	}
	f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.8,"lat":25.3}`) // outside every grid
	d := f.drive(t, cases.Dispatched)
	type page struct {
		Cases []caseView
		Next  string
	}
	list := func(q string) page {
		var p page
		json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+q, "", 200).body), &p)
		return p
	}
	// Pages of 2 cover all 7 cases, newest first, no repeats.
	seen := map[string]bool{}
	q := "?limit=2"
	for pages := 0; ; pages++ {
		p := list(q)
		for _, c := range p.Cases {
			if seen[c.ID] {
				t.Fatalf("case %s twice", c.ID)
			}
			seen[c.ID] = true
		}
		if p.Next == "" {
			break
		}
		q = "?limit=2&cursor=" + p.Next
	}
	if len(seen) != 7 {
		t.Fatalf("pages gave %d cases, want 7", len(seen))
	}
	for q, want := range map[string]int{
		"?state=dispatched":                        1,
		"?state=reported,dispatched":               7,
		"?source=inspector":                        1,
		"?source=hotline":                          6,
		"?grid=53230100100101":                     6,
		"?grid=53230100100100":                     6,
		"?grid=53230100100000":                     6,
		"?department=" + f.dept:                    1,
		"?kind=component&class_code=0101":          7,
		"?kind=event":                              0,
		"?overdue=true":                            0,
		"?overdue=false":                           7,
		"?from=2000-01-01":                         7,
		"?to=2000-01-01":                           0,
		"?from=2000-01-01T00:00:00Z&to=2999-01-01": 7,
	} {
		if got := len(list(q).Cases); got != want {
			t.Errorf("%s: %d cases, want %d", q, got, want)
		}
	}
	if p := list("?state=dispatched"); p.Cases[0].ID != d.ID {
		t.Fatalf("dispatched: %+v", p)
	}
	f.mustDo(t, "adminA", "GET", casesA+"?cursor=bogus", "", 400)
	f.mustDo(t, "adminA", "GET", casesA+"?overdue=maybe", "", 400)
	// The map window.
	var fc struct{ Features []json.RawMessage }
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+".geojson?bbox=101.5,25,101.51,25.01", "", 200).body), &fc)
	if len(fc.Features) != 6 {
		t.Fatalf("features in the window: %d, want 6", len(fc.Features))
	}
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+".geojson?bbox=100,20,100.1,20.1", "", 200).body), &fc)
	if len(fc.Features) != 0 {
		t.Fatalf("features outside: %d", len(fc.Features))
	}
	f.mustDo(t, "adminA", "GET", casesA+".geojson", "", 400)
	_ = ids
}

// markOverdue runs the overdue job once over every tenant, as the server's loop does.
// switchCipher is the app's key store until down is set, then one that is down (downCipher).
type switchCipher struct {
	cases.Cipher
	down atomic.Bool
}

func (c *switchCipher) now() cases.Cipher {
	if c.down.Load() {
		return downCipher{}
	}
	return c.Cipher
}

func (c *switchCipher) Encrypt(ctx context.Context, t uuid.UUID, p []byte) (string, error) {
	return c.now().Encrypt(ctx, t, p)
}
func (c *switchCipher) Decrypt(ctx context.Context, t uuid.UUID, s string) ([]byte, error) {
	return c.now().Decrypt(ctx, t, s)
}
func (c *switchCipher) EncryptBatch(ctx context.Context, t uuid.UUID, p [][]byte) ([]string, error) {
	return c.now().EncryptBatch(ctx, t, p)
}
func (c *switchCipher) DecryptBatch(ctx context.Context, t uuid.UUID, s []string) ([][]byte, error) {
	return c.now().DecryptBatch(ctx, t, s)
}

func (f *caseFixture) markOverdue(tb testing.TB) {
	tb.Helper()
	if failed, err := f.app.cases.MarkOverdueAll(context.Background(), 2); failed != 0 || err != nil {
		tb.Fatalf("overdue job: %d tenants failed, %v", failed, err)
	}
}

// TestCaseOverdueJob: with a fake clock, a dispatched case (2 urgent hours) becomes overdue after
// five hours with an overtime multiple of 1.5, by the job alone.
func TestCaseOverdueJob(t *testing.T) {
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newCaseFixtureWith(t, "sqlite", Options{CaseConfig: func(c *cases.Config) { c.Now = clock }})
	c := f.drive(t, cases.Dispatched)
	if c.Deadline == nil || !c.Deadline.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("deadline %v, want %v", c.Deadline, now.Add(2*time.Hour))
	}
	f.markOverdue(t)
	if got := f.getCase(t, c.ID); got.Overdue {
		t.Fatalf("overdue too early: %+v", got)
	}
	mu.Lock()
	now = now.Add(5 * time.Hour)
	mu.Unlock()
	f.markOverdue(t)
	got := f.getCase(t, c.ID)
	if !got.Overdue || got.OvertimeMultiple != 1.5 || got.Version != c.Version {
		t.Fatalf("after the job: overdue %v multiple %v version %d", got.Overdue, got.OvertimeMultiple, got.Version)
	}
	var p struct{ Cases []caseView }
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"?overdue=true", "", 200).body), &p)
	if len(p.Cases) != 1 {
		t.Fatalf("overdue list: %+v", p.Cases)
	}
}

func (f *caseFixture) getCase(t *testing.T, id string) caseView {
	t.Helper()
	var c caseView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+id, "", 200).body), &c)
	return c
}

// TestCasePhotosGoAtOffboarding: offboarding a tenant removes its photos from the object store, and only
// its own.
func TestCasePhotosGoAtOffboarding(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	ctx := context.Background()
	tb := mustTenant(t, f.fixture, "wuding")
	id, err := f.app.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "inspectorb@test.cn", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.app.store.Grant(ctx, tb, id.ID, tenants.Inspector); err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.app.store.CreateAPIToken(ctx, id.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["inspectorB"] = tok
	res := f.mustDo(t, "inspectorB", "POST", "/api/v1/t/wuding/cases", `{"kind":"component","class_code":"0101","lon":102.4,"lat":25.5}`, 201)
	var cb caseView
	json.Unmarshal([]byte(res.body), &cb)
	if res := f.upload(t, "inspectorB", "/api/v1/t/wuding/cases/"+cb.ID+"/photos", "image/png", pngBytes); res.status != 201 {
		t.Fatalf("B's photo: %d %s", res.status, res.body)
	}
	ca := f.report(t, "acceptorA", reportA)
	f.photo(t, "acceptorA", ca.ID)
	objects := func(tn *tenants.Tenant) []blob.Info {
		infos, err := f.app.blobs.List(ctx, blob.TenantPrefix(tn.ID))
		if err != nil {
			t.Fatal(err)
		}
		return infos
	}
	if len(objects(tb)) == 0 {
		t.Fatal("B's photo is not in the object store")
	}
	f.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/offboard", `{"confirm":"wuding"}`, 200)
	if got := objects(tb); len(got) != 0 {
		t.Fatalf("B's photos after offboarding: %v", got)
	}
	f.mustDo(t, "adminA", "GET", casesA+"/"+ca.ID, "", 200)
	if got := objects(mustTenant(t, f.fixture, "chuxiong")); len(got) == 0 {
		t.Fatal("A's photos went with B's")
	}
}
