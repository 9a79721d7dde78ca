package app

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/cases"
)

// stageView is what the stage tests read of a case.
type stageView struct {
	ID, State, Stage      string
	Version               int
	Urgent                bool
	StageStartedAt        *time.Time `json:"stage_started_at"`
	StageDeadline         *time.Time `json:"stage_deadline"`
	StageOverdue          bool       `json:"stage_overdue"`
	StageOvertimeMultiple float64    `json:"stage_overtime_multiple"`
	StageLimit            *struct {
		Amount float64
		Unit   string
	} `json:"stage_limit"`
	Events []struct {
		Action string
		Detail json.RawMessage
	}
}

// fakeClock is a settable clock for the case service.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (f *caseFixture) stageOf(t *testing.T, id string) stageView {
	t.Helper()
	var v stageView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+id, "", 200).body), &v)
	return v
}

// TestCaseStageLimitsAPI: the tenant admin reads and sets the stage limits; bad input is a 400,
// an unknown stage a 404, other posts and the prefecture get 403, tenant B does not see A's.
func TestCaseStageLimitsAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			path := "/api/v1/t/chuxiong/case-stage-limits"
			var got struct{ Stages []cases.StageLimit }
			json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", path, "", 200).body), &got)
			if len(got.Stages) != 7 || !got.Stages[0].Default || got.Stages[0].Stage != cases.StageAccept {
				t.Fatalf("defaults: %+v", got.Stages)
			}
			set := `{"limit":{"amount":2,"unit":"working_hours"},"urgent":{"amount":1,"unit":"urgent_hours"}}`
			runScenarios(t, f.fixture, []scenario{
				{"admin sets", "adminA", "PUT", path + "/verify", set, 200, `"working_hours"`, ""},
				{"admin reads it back", "adminA", "GET", path, "", 200, `"default":false`, ""},
				{"acceptor may not set", "acceptorA", "PUT", path + "/verify", set, 403, "", ""},
				{"prefecture may read", "viewer", "GET", path, "", 200, `"verify"`, ""},
				{"prefecture may not set", "viewer", "PUT", path + "/verify", set, 403, "", ""},
				{"B does not see A's", "adminB", "GET", path, "", 404, "", "admina"},
				{"B does not set A's", "adminB", "PUT", path + "/verify", set, 404, "", ""},
				{"B's own are the defaults", "adminB", "GET", "/api/v1/t/wuding/case-stage-limits", "", 200, `"default":true`, "admina"},
				{"unknown stage", "adminA", "PUT", path + "/nap", set, 404, "", ""},
				{"handling is the standard's", "adminA", "PUT", path + "/handle", set, 400, "立结案标准", ""},
				{"no limit", "adminA", "PUT", path + "/verify", `{}`, 400, "limit", ""},
				{"bad unit", "adminA", "PUT", path + "/verify", `{"limit":{"amount":1,"unit":"fortnights"}}`, 400, "unit", ""},
				{"zero", "adminA", "PUT", path + "/verify", `{"limit":{"amount":0,"unit":"working_hours"}}`, 400, "", ""},
				{"urgent in working time", "adminA", "PUT", path + "/verify", `{"limit":{"amount":1,"unit":"working_hours"},"urgent":{"amount":1,"unit":"working_hours"}}`, 400, "urgent", ""},
				{"not JSON", "adminA", "PUT", path + "/verify", `{"limit":`, 400, "", ""},
				{"bad stage filter", "adminA", "GET", casesA + "?stage=nap", "", 400, "stage", ""},
				{"bad stage_overdue filter", "adminA", "GET", casesA + "?stage_overdue=maybe", "", 400, "stage_overdue", ""},
			})
		})
	}
}

// TestCaseStageClocks: every stage of the loop gets a deadline when a case enters it (the
// tenant's limit, urgent hours for an urgent case), the overdue job alone marks the stage
// overdue with its overtime multiple without changing the version, overdue=true and stage=
// list it, and the action that ends the stage records how it went.
func TestCaseStageClocks(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			// Monday 2 March 2026, 09:00 in Chuxiong: working time.
			clk := &fakeClock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
			stageClocks(t, newCaseFixtureWith(t, dialect, Options{CaseConfig: func(c *cases.Config) { c.Now = clk.now }}), clk)
		})
	}
}

// stageClocks runs the stage clocks on f, whose case loop tells time by clk (set to a Monday,
// 09:00 in Chuxiong).
func stageClocks(t *testing.T, f *caseFixture, clk *fakeClock) {
	base := clk.now()
	// Distinct urgent limits per stage, so that a case cannot pass with another stage's.
	limits := map[cases.Stage]float64{cases.StageAccept: 0.25, cases.StageVerify: 0.5, cases.StageFile: 0.75,
		cases.StageDispatch: 1, cases.StageSendCheck: 1.25, cases.StageCheck: 1.5, cases.StageClose: 1.75}
	for st, h := range limits {
		body := `{"limit":{"amount":3,"unit":"working_hours"},"urgent":{"amount":` + jsonNum(h) + `,"unit":"urgent_hours"}}`
		f.mustDo(t, "adminA", "PUT", "/api/v1/t/chuxiong/case-stage-limits/"+string(st), body, 200)
	}
	limits[cases.StageHandle] = 2 // the standard of 0101: 2 urgent hours
	for _, tc := range []struct {
		state cases.State
		stage cases.Stage
		next  cases.Action
	}{
		{cases.Reported, cases.StageAccept, cases.Accept},
		{cases.Verifying, cases.StageVerify, cases.Verify},
		{cases.Accepted, cases.StageFile, cases.File},
		{cases.Filed, cases.StageDispatch, cases.Dispatch},
		{cases.Handling, cases.StageHandle, cases.Feedback},
		{cases.FedBack, cases.StageSendCheck, cases.SendCheck},
		{cases.Checking, cases.StageCheck, cases.Check},
		{cases.Checked, cases.StageClose, cases.Close},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			clk.set(base)
			c := f.drive(t, tc.state)
			allowed := time.Duration(limits[tc.stage] * float64(time.Hour))
			v := f.stageOf(t, c.ID)
			if v.Stage != string(tc.stage) || !v.Urgent {
				t.Fatalf("stage %q urgent %v, want %s and urgent", v.Stage, v.Urgent, tc.stage)
			}
			if v.StageDeadline == nil || !v.StageDeadline.Equal(base.Add(allowed)) {
				t.Fatalf("stage deadline %v, want %v", v.StageDeadline, base.Add(allowed))
			}
			if v.StageLimit == nil || v.StageLimit.Amount != limits[tc.stage] || v.StageLimit.Unit != "urgent_hours" {
				t.Fatalf("stage limit %+v", v.StageLimit)
			}
			// Just before the deadline the job leaves it alone.
			clk.set(base.Add(allowed - time.Minute))
			f.markOverdue(t)
			if v := f.stageOf(t, c.ID); v.StageOverdue {
				t.Fatalf("overdue too early: %+v", v)
			}
			// Four times the allowance: three times over.
			clk.set(base.Add(4 * allowed))
			f.markOverdue(t)
			v = f.stageOf(t, c.ID)
			if !v.StageOverdue || v.StageOvertimeMultiple != 3 || v.Version != c.Version {
				t.Fatalf("after the job: overdue %v multiple %v version %d (was %d)", v.StageOverdue, v.StageOvertimeMultiple, v.Version, c.Version)
			}
			for _, q := range []string{"?overdue=true", "?stage_overdue=true", "?stage=" + string(tc.stage) + "&overdue=true"} {
				if !strings.Contains(f.mustDo(t, "adminA", "GET", casesA+q+"&limit=500", "", 200).body, c.ID) {
					t.Errorf("%s does not list the case", q)
				}
			}
			if strings.Contains(f.mustDo(t, "adminA", "GET", casesA+"?overdue=false&limit=500", "", 200).body, c.ID) {
				t.Errorf("overdue=false lists the case")
			}
			// The action that ends the stage records it; the next stage starts now, on time.
			tr := transitionOf(t, tc.state, tc.next)
			f.act(t, casePosts[tr.Posts[0]], c, tc.next, 200)
			v = f.stageOf(t, c.ID)
			if v.Stage == string(tc.stage) || v.StageOverdue {
				t.Fatalf("after %s: stage %s overdue %v", tc.next, v.Stage, v.StageOverdue)
			}
			last := v.Events[len(v.Events)-1]
			var d struct {
				Stage cases.StageStatus
			}
			json.Unmarshal(last.Detail, &d)
			if last.Action != string(tc.next) || d.Stage.Stage != tc.stage || !d.Stage.Overdue || d.Stage.OvertimeMultiple != 3 {
				t.Fatalf("event %s detail %s", last.Action, last.Detail)
			}
			if tc.next == cases.Close {
				if v.Stage != "" || v.StageDeadline != nil {
					t.Fatalf("a closed case has no stage clock: %+v", v)
				}
			} else if v.StageStartedAt == nil || !v.StageStartedAt.Equal(base.Add(4*allowed)) {
				t.Fatalf("next stage %s started %v", v.Stage, v.StageStartedAt)
			}
		})
	}

	// A case of a class without a standard is not urgent: its stages count working time in the
	// tenant's calendar. Reported on Friday 6 March at 17:45, its 3 working hours to be accepted
	// run out on Monday at 11:15 (15 minutes on Friday, 08:30–11:15 on Monday).
	friday := time.Date(2026, 3, 6, 9, 45, 0, 0, time.UTC)
	clk.set(friday)
	var c stageView
	json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "POST", casesA, `{"source":"hotline","kind":"event","class_code":"0101","lon":101.505,"lat":25.005}`, 201).body), &c)
	want := time.Date(2026, 3, 9, 3, 15, 0, 0, time.UTC)
	if c.Urgent || c.Stage != "accept" || c.StageDeadline == nil || !c.StageDeadline.Equal(want) {
		t.Fatalf("working-hours case: urgent %v stage %s deadline %v, want %v", c.Urgent, c.Stage, c.StageDeadline, want)
	}
	// Over the weekend nothing runs.
	clk.set(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) // Monday 08:00
	f.markOverdue(t)
	if v := f.stageOf(t, c.ID); v.StageOverdue {
		t.Fatalf("overdue over the weekend: %+v", v)
	}
	// Monday 15:00: 15 min + 3 h 30 min + 30 min = 4 h 15 min of working time, 0.42 over.
	clk.set(time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC))
	f.markOverdue(t)
	if v := f.stageOf(t, c.ID); !v.StageOverdue || v.StageOvertimeMultiple != 0.42 {
		t.Fatalf("working-hours overrun: overdue %v multiple %v", v.StageOverdue, v.StageOvertimeMultiple)
	}
}

func jsonNum(x float64) string {
	b, _ := json.Marshal(x)
	return string(b)
}
