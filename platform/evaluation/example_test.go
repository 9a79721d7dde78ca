package evaluation_test

import (
	"math"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/platformtest"
)

// TestWorkedExample is the worked example of docs/evaluation.md: eight cases of April 2026 with
// known outcomes, and every figure of the month's evaluation.
func TestWorkedExample(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC))
		at := func(day int, hh, mm int) { w.clk.set(time.Date(2026, 4, day, hh, mm, 0, 0, clock.China)) }
		szj, hwz := w.depts[0], w.depts[1]
		ins0, ins1, acc0, acc1, sl0, dis0, dis1 := w.ins[0], w.ins[1], w.acc[0], w.acc[1], w.sl[0], w.dis[0], w.dis[1]
		yes, no := true, false
		none := cases.ActionInput{}
		// closeOut is feedback … close with every step in time.
		closeOut := func(c *cases.Case, day, hh, mm int, checker int) *cases.Case {
			at(day, hh, mm)
			c = w.act(w.handler(c), c, cases.Feedback, none)
			at(day, hh, mm+10)
			c = w.act(acc0, c, cases.SendCheck, none)
			at(day, hh, mm+30)
			c = w.act(w.ins[checker], c, cases.Check, cases.ActionInput{Passed: &yes})
			at(day, hh, mm+40)
			return w.act(sl0, c, cases.Close, none)
		}

		// C1 on time: patrol report in g101, every step in time.
		at(1, 9, 0)
		c1 := w.report(ins0, cases.FromInspector, "event", "0102", g101, false)
		at(1, 9, 10)
		c1 = w.act(acc0, c1, cases.Accept, none)
		at(1, 9, 20)
		c1 = w.act(sl0, c1, cases.File, none)
		at(1, 9, 30)
		c1 = w.act(dis0, c1, cases.Dispatch, none)
		at(1, 10, 0)
		c1 = w.act(w.handler(c1), c1, cases.Take, none)
		closeOut(c1, 1, 11, 0, 0)

		// C2 late: a hotline report in g102 sent to verify, verified late; fed back after the
		// working day allowed (deadline 2 April 16:45), sent to check late.
		at(1, 14, 40)
		c2 := w.report(acc0, cases.FromHotline, "event", "0102", g102, false)
		at(1, 14, 50)
		c2 = w.act(acc0, c2, cases.SendVerify, none)
		at(1, 16, 30)
		c2 = w.act(ins1, c2, cases.Verify, none)
		at(1, 16, 40)
		c2 = w.act(sl0, c2, cases.File, none)
		at(1, 16, 45)
		c2 = w.act(dis0, c2, cases.Dispatch, none)
		at(2, 8, 40)
		c2 = w.act(w.handler(c2), c2, cases.Take, none)
		at(3, 10, 0)
		c2 = w.act(w.handler(c2), c2, cases.Feedback, none)
		at(3, 11, 0)
		c2 = w.act(acc0, c2, cases.SendCheck, none)
		at(3, 11, 20)
		c2 = w.act(ins1, c2, cases.Check, cases.ActionInput{Passed: &yes})
		at(3, 11, 30)
		w.act(sl0, c2, cases.Close, none)

		// C5 suspended across 清明: filed late, suspended on Thursday 2 April and resumed on
		// Wednesday 8 April; 2 h 55 min of the 7 working hours used.
		at(2, 9, 0)
		c5 := w.report(ins0, cases.FromInspector, "event", "0102", g101, false)
		at(2, 9, 5)
		c5 = w.act(acc0, c5, cases.Accept, none)
		at(2, 9, 50)
		c5 = w.act(sl0, c5, cases.File, none)
		at(2, 9, 55)
		c5 = w.act(dis0, c5, cases.Dispatch, none)
		at(2, 10, 0)
		c5 = w.act(w.handler(c5), c5, cases.Take, none)
		at(2, 10, 20)
		c5 = w.act(w.handler(c5), c5, cases.RequestSuspension, none)
		at(2, 10, 30)
		c5 = w.act(sl0, c5, cases.ApproveSuspension, none)

		// C3 reworked: the first check fails, the shift lead orders rework.
		at(7, 9, 0)
		c3 := w.report(ins1, cases.FromInspector, "event", "0102", g102, false)
		at(7, 9, 5)
		c3 = w.act(acc0, c3, cases.Accept, none)
		at(7, 9, 10)
		c3 = w.act(sl0, c3, cases.File, none)
		at(7, 9, 15)
		c3 = w.act(dis0, c3, cases.Dispatch, none)
		at(7, 9, 30)
		c3 = w.act(w.handler(c3), c3, cases.Take, none)
		at(7, 10, 0)
		c3 = w.act(w.handler(c3), c3, cases.Feedback, none)
		at(7, 10, 5)
		c3 = w.act(acc0, c3, cases.SendCheck, none)
		at(7, 10, 20)
		c3 = w.act(ins1, c3, cases.Check, cases.ActionInput{Passed: &no})
		at(7, 10, 30)
		c3 = w.act(sl0, c3, cases.Rework, none)
		at(7, 11, 0)
		c3 = w.act(w.handler(c3), c3, cases.Take, none)
		closeOut(c3, 7, 11, 30, 1)

		// C4 returned: a citizen's report in g101 dispatched to 市政局, returned, then to 环卫站.
		at(8, 9, 0)
		c4 := w.report(acc0, cases.FromCitizen, "event", "0102", g101, false)
		at(8, 9, 5)
		c4 = w.act(acc0, c4, cases.Accept, none)
		at(8, 9, 10)
		c4 = w.act(sl0, c4, cases.File, none)
		at(8, 9, 15)
		c4 = w.act(dis0, c4, cases.Dispatch, cases.ActionInput{DepartmentID: szj})
		at(8, 9, 30)
		c4 = w.act(w.handler(c4), c4, cases.RequestReturn, none)
		at(8, 9, 40)
		c4 = w.act(dis0, c4, cases.ApproveReturn, none)
		at(8, 9, 50)
		c4 = w.act(dis0, c4, cases.Dispatch, cases.ActionInput{DepartmentID: hwz})
		at(8, 10, 0)
		c4 = w.act(w.handler(c4), c4, cases.Take, none)
		closeOut(c4, 8, 14, 40, 0)

		// C5 resumes and closes on 8 April.
		at(8, 9, 0)
		c5 = w.act(sl0, c5, cases.Resume, none)
		closeOut(c5, 8, 11, 0, 0)

		// C6 self-handled on patrol in g102; C7 a video report in g201, voided.
		at(9, 10, 0)
		w.report(ins1, cases.FromInspector, "event", "0102", g102, true)
		at(9, 14, 40)
		c7 := w.report(acc0, cases.FromVideo, "event", "0102", g201, false)
		at(9, 14, 50)
		w.act(acc0, c7, cases.Void, cases.ActionInput{Reason: "重复"})

		// C8 extended and still pending at the month's end: a citizen's report in g201 (no
		// responsible inspector); 2 working days allowed, run out on 29 April 09:15.
		at(27, 9, 0)
		c8 := w.report(acc0, cases.FromCitizen, "event", "0102", g201, false)
		at(27, 9, 5)
		c8 = w.act(acc1, c8, cases.Accept, none)
		at(27, 9, 10)
		c8 = w.act(sl0, c8, cases.File, none)
		at(27, 9, 15)
		c8 = w.act(dis1, c8, cases.Dispatch, none)
		at(27, 9, 30)
		c8 = w.act(w.handler(c8), c8, cases.Take, none)
		at(27, 9, 40)
		c8 = w.act(w.handler(c8), c8, cases.RequestExtension, cases.ActionInput{Extension: &calendar.Limit{Amount: 1, Unit: calendar.WorkingDays}})
		at(27, 10, 0)
		w.act(sl0, c8, cases.ApproveExtension, none)

		w.clk.set(time.Date(2026, 5, 6, 9, 0, 0, 0, clock.China))
		f, err := w.ev.Evaluate(e.A, evaluation.Month(2026, 4))
		if err != nil {
			t.Fatal(err)
		}
		if f.Reported != 8 || f.Filed != 7 || f.Closed != 6 || f.ClosedOnTime != 5 {
			t.Errorf("totals: reported %d filed %d closed %d on time %d, want 8 7 6 5", f.Reported, f.Filed, f.Closed, f.ClosedOnTime)
		}
		if s := f.Sources; s["inspector"] != 4 || s["hotline"] != 1 || s["citizen"] != 2 || s["video"] != 1 {
			t.Errorf("sources %v", s)
		}
		type want struct {
			counts map[string]int64
			score  float64 // -1: no score
		}
		n := func(kv ...any) map[string]int64 {
			m := map[string]int64{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = int64(kv[i+1].(int))
			}
			return m
		}
		region := func(filed, closed, onTime, insp int, score float64) want {
			return want{n("filed", filed, "closed", closed, "closed_on_time", onTime, "inspector_reported", insp), score}
		}
		wants := map[evaluation.Object]map[string]want{
			evaluation.Streets:     {"53230100100000": region(7, 6, 5, 4, 74.29)},
			evaluation.Communities: {"53230100100100": region(6, 6, 5, 4, 86.67), "53230100100200": region(1, 0, 0, 0, 0)},
			evaluation.Grids:       {g101: region(3, 3, 3, 2, 93.33), g102: region(3, 3, 2, 2, 80), g201: region(1, 0, 0, 0, 0)},
			evaluation.Departments: {
				hwz: {n("dispatched", 6, "returned", 0, "due", 6, "handled", 5, "handled_on_time", 4, "reworks", 1, "extensions", 1, "overdue_pending", 1), 76.33},
				szj: {n("dispatched", 1, "returned", 1), -1},
			},
			evaluation.Inspectors: {
				ins0.id: {n("reports", 2, "valid_reports", 2, "checks", 3, "checks_on_time", 3, "filed_in_area", 3, "missed", 1), 91.67},
				ins1.id: {n("reports", 2, "valid_reports", 2, "verifies", 1, "verifies_on_time", 0, "checks", 3, "checks_on_time", 3, "filed_in_area", 3, "missed", 1), 73.33},
			},
			evaluation.Acceptors: {
				acc0.id: {n("accepted", 6, "verify_sends", 1, "verify_sends_on_time", 1, "check_sends", 6, "check_sends_on_time", 5), 94.17},
				acc1.id: {n("accepted", 1), 16.67},
			},
			evaluation.ShiftLeads: {sl0.id: {n("filed", 6, "filed_on_time", 5, "filed_accurate", 5, "closed", 5, "closed_on_time", 5), 89.17}},
			evaluation.Dispatchers: {
				dis0.id: {n("dispatched", 6, "dispatched_on_time", 6, "dispatched_accurate", 5), 93.33},
				dis1.id: {n("dispatched", 1, "dispatched_on_time", 1, "dispatched_accurate", 1), 83.33},
			},
		}
		for o, rows := range wants {
			got := map[string]evaluation.Row{}
			for _, r := range f.Rankings[o].Rows {
				got[r.Key] = r
			}
			if len(got) != len(rows) {
				t.Errorf("%s: %d rows, want %d", o, len(got), len(rows))
			}
			for k, wr := range rows {
				r, ok := got[k]
				if !ok {
					t.Errorf("%s: no row %s", o, k)
					continue
				}
				for _, name := range evaluation.Definitions[o].Counts {
					if r.Counts[name] != wr.counts[name] {
						t.Errorf("%s %s (%s): %s = %d, want %d", o, r.Name, k, name, r.Counts[name], wr.counts[name])
					}
				}
				switch {
				case wr.score < 0 && r.Score != nil:
					t.Errorf("%s %s: score %v, want none", o, r.Name, *r.Score)
				case wr.score >= 0 && (r.Score == nil || math.Abs(*r.Score-wr.score) > 0.001):
					t.Errorf("%s %s: score %v, want %v", o, r.Name, r.Score, wr.score)
				}
			}
		}
		// A few rates as the indicators give them.
		rate := func(o evaluation.Object, k, id string) float64 {
			for _, r := range f.Rankings[o].Rows {
				if r.Key == k && r.Values[id] != nil {
					return math.Round(*r.Values[id]*10000) / 10000
				}
			}
			return -1
		}
		for _, c := range []struct {
			o     evaluation.Object
			k, id string
			want  float64
		}{
			{evaluation.Streets, "53230100100000", "close_rate", 0.8571},
			{evaluation.Streets, "53230100100000", "on_time_close_rate", 0.7143},
			{evaluation.Departments, hwz, "handle_rate", 0.8333},
			{evaluation.Departments, hwz, "rework_rate", 0.2},
			{evaluation.Departments, hwz, "overdue_pending_rate", 0.1667},
			{evaluation.Inspectors, ins1.id, "on_time_verify_rate", 0},
			{evaluation.Acceptors, acc1.id, "accepted_score", 0.1667},
			{evaluation.Dispatchers, dis0.id, "accurate_dispatch_rate", 0.8333},
		} {
			if got := rate(c.o, c.k, c.id); got != c.want {
				t.Errorf("%s %s %s = %v, want %v", c.o, c.k, c.id, got, c.want)
			}
		}
	})
}
