package evaluation_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
)

// tally is the brute-force recount of one period: every object's counts by key, the cases
// behind each, and the totals.
type tally struct {
	rows                                  map[evaluation.Object]map[string]map[string]int64
	behind                                map[evaluation.Object]map[string]map[string]map[string]bool
	reported, filed, closed, closedOnTime int64
	sources                               map[string]int64
}

func newTally() *tally {
	return &tally{rows: map[evaluation.Object]map[string]map[string]int64{},
		behind: map[evaluation.Object]map[string]map[string]map[string]bool{}, sources: map[string]int64{}}
}

// add counts n for case id under o's key.
func (t *tally) add(o evaluation.Object, key, count, id string, n int64) {
	if n == 0 {
		return
	}
	if t.rows[o] == nil {
		t.rows[o], t.behind[o] = map[string]map[string]int64{}, map[string]map[string]map[string]bool{}
	}
	if t.rows[o][key] == nil {
		t.rows[o][key], t.behind[o][key] = map[string]int64{}, map[string]map[string]bool{}
	}
	t.rows[o][key][count] += n
	if t.behind[o][key][count] == nil {
		t.behind[o][key][count] = map[string]bool{}
	}
	t.behind[o][key][count][id] = true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// recount counts the period [from, to) from the histories, as the definitions in
// docs/evaluation.md say, seeing only what had happened by to. identityOf maps staff ids (a
// responsibility grid's inspector) to the identities staff act as.
func recount(tb testing.TB, hist []*cases.Case, from, to time.Time, identityOf map[string]string) *tally {
	t := newTally()
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	for _, c := range hist {
		var seen []cases.Event
		for _, e := range c.Events {
			if e.At.Before(to) {
				seen = append(seen, e)
			}
		}
		if len(seen) == 0 {
			continue
		}
		if in(c.CreatedAt) {
			t.reported++
			t.sources[string(c.Source)]++
		}
		late := func(e cases.Event) bool {
			d := detailOf(tb, e)
			return d.Stage != nil && d.Stage.Overdue
		}
		has := func(after int, action cases.Action) bool {
			return slices.ContainsFunc(seen[after+1:], func(e cases.Event) bool { return e.Action == action })
		}
		selfHandled := seen[0].Action == cases.SelfHandle
		filedAt := -1 // the event that filed the case (file, or self_handle: filed and closed at once)
		for i, e := range seen {
			if e.Action == cases.File || e.Action == cases.SelfHandle {
				filedAt = i
			}
		}
		closed := selfHandled || has(-1, cases.Close)
		// On time: the department's last feedback came within the disposal limit.
		lastFeedbackLate := false
		for _, e := range seen {
			if e.Action == cases.Feedback {
				lastFeedbackLate = late(e)
			}
		}
		closedOnTime := selfHandled || (closed && !lastFeedbackLate)

		// Regions: the cases filed in the period where they are, and what became of them.
		if filedAt >= 0 && in(seen[filedAt].At) {
			grid := ""
			if c.GridCode != nil {
				grid = *c.GridCode
			}
			keys := map[evaluation.Object]string{evaluation.Grids: grid}
			if len(grid) == 14 {
				keys[evaluation.Streets] = grid[:9] + "00000"
				keys[evaluation.Communities] = grid[:12] + "00"
			}
			for o, k := range keys {
				t.add(o, k, "filed", c.ID, 1)
				t.add(o, k, "closed", c.ID, b2i(closed))
				t.add(o, k, "closed_on_time", c.ID, b2i(closedOnTime))
				t.add(o, k, "inspector_reported", c.ID, b2i(c.Source == cases.FromInspector))
			}
			t.filed++
			t.closed += b2i(closed)
			t.closedOnTime += b2i(closedOnTime)
			// The responsible inspector of the place: the cases filed there, and those not
			// reported by an inspector (missed on patrol).
			if c.InspectorID != nil {
				k := identityOf[*c.InspectorID]
				t.add(evaluation.Inspectors, k, "filed_in_area", c.ID, 1)
				t.add(evaluation.Inspectors, k, "missed", c.ID, b2i(c.Source != cases.FromInspector))
			}
		}

		// Departments: each case dispatched to a department in the period, once per department.
		counted := map[string]bool{}
		for i, e := range seen {
			if e.Action != cases.Dispatch || !in(e.At) {
				continue
			}
			dept := detailOf(tb, e).DepartmentID
			if counted[dept] {
				continue
			}
			counted[dept] = true
			t.add(evaluation.Departments, dept, "dispatched", c.ID, 1)
			returned := slices.ContainsFunc(seen[i+1:], func(x cases.Event) bool {
				d := detailOf(tb, x)
				return x.Action == cases.ApproveReturn && d.ReturnedBy != nil && *d.ReturnedBy == dept
			})
			if returned {
				t.add(evaluation.Departments, dept, "returned", c.ID, 1)
				continue
			}
			t.add(evaluation.Departments, dept, "due", c.ID, 1)
			handled, fbLate := false, false
			var reworks, extensions int64
			for _, x := range seen[i+1:] {
				switch x.Action {
				case cases.Feedback:
					handled, fbLate = true, late(x)
				case cases.Rework:
					reworks++
				case cases.ApproveExtension:
					extensions++
				}
			}
			t.add(evaluation.Departments, dept, "handled", c.ID, b2i(handled))
			t.add(evaluation.Departments, dept, "handled_on_time", c.ID, b2i(handled && !fbLate))
			t.add(evaluation.Departments, dept, "reworks", c.ID, reworks)
			t.add(evaluation.Departments, dept, "extensions", c.ID, extensions)
			// Overdue pending: not fed back, and the deadline recorded last by the end (from the
			// dispatch on, which records one) had passed; none while suspended.
			var deadline *time.Time
			recorded := false
			for _, x := range seen[i:] {
				if d, ok := recordedDeadline(tb, x); ok {
					deadline, recorded = d, true
				}
			}
			if !recorded {
				tb.Fatalf("case %s: the dispatch v%d recorded no deadline", c.Number, e.Version)
			}
			t.add(evaluation.Departments, dept, "overdue_pending", c.ID, b2i(!handled && deadline != nil && deadline.Before(to)))
		}

		for i, e := range seen {
			if !in(e.At) {
				continue
			}
			k := e.ActorID
			switch {
			case (e.Action == cases.Report || e.Action == cases.SelfHandle) && e.Post == tenants.Inspector:
				t.add(evaluation.Inspectors, k, "reports", c.ID, 1)
				t.add(evaluation.Inspectors, k, "valid_reports", c.ID, b2i(filedAt >= 0))
			case e.Action == cases.Verify:
				t.add(evaluation.Inspectors, k, "verifies", c.ID, 1)
				t.add(evaluation.Inspectors, k, "verifies_on_time", c.ID, b2i(!late(e)))
			case e.Action == cases.Check:
				t.add(evaluation.Inspectors, k, "checks", c.ID, 1)
				t.add(evaluation.Inspectors, k, "checks_on_time", c.ID, b2i(!late(e)))
			}
			if e.Post == tenants.Acceptor {
				switch e.Action {
				case cases.Accept, cases.Void, cases.SendVerify:
					// Accepted (受理): the acceptor's first answer to a report.
					t.add(evaluation.Acceptors, k, "accepted", c.ID, b2i(e.From == string(cases.Reported)))
					if e.Action == cases.SendVerify {
						t.add(evaluation.Acceptors, k, "verify_sends", c.ID, 1)
						t.add(evaluation.Acceptors, k, "verify_sends_on_time", c.ID, b2i(!late(e)))
					}
				case cases.SendCheck:
					t.add(evaluation.Acceptors, k, "check_sends", c.ID, 1)
					t.add(evaluation.Acceptors, k, "check_sends_on_time", c.ID, b2i(!late(e)))
				}
			}
			if e.Post == tenants.ShiftLead {
				switch e.Action {
				case cases.File:
					// Accurately filed: no department had it returned (回退) since.
					t.add(evaluation.ShiftLeads, k, "filed", c.ID, 1)
					t.add(evaluation.ShiftLeads, k, "filed_on_time", c.ID, b2i(!late(e)))
					t.add(evaluation.ShiftLeads, k, "filed_accurate", c.ID, b2i(!has(i, cases.ApproveReturn)))
				case cases.Close:
					t.add(evaluation.ShiftLeads, k, "closed", c.ID, 1)
					t.add(evaluation.ShiftLeads, k, "closed_on_time", c.ID, b2i(!late(e)))
				}
			}
			if e.Action == cases.Dispatch {
				// Accurately dispatched: the department did not have it returned before it was
				// dispatched again.
				wrong := false
				for _, x := range seen[i+1:] {
					if x.Action == cases.Dispatch {
						break
					}
					if x.Action == cases.ApproveReturn {
						wrong = true
					}
				}
				t.add(evaluation.Dispatchers, k, "dispatched", c.ID, 1)
				t.add(evaluation.Dispatchers, k, "dispatched_on_time", c.ID, b2i(!late(e)))
				t.add(evaluation.Dispatchers, k, "dispatched_accurate", c.ID, b2i(!wrong))
			}
		}
	}
	return t
}

// recordedDeadline is the disposal deadline event e recorded (nil: null, the clock was not
// running), and whether it recorded one.
func recordedDeadline(tb testing.TB, e cases.Event) (*time.Time, bool) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		tb.Fatalf("detail of %s: %v", e.Action, err)
	}
	raw, ok := d["deadline"]
	if !ok {
		return nil, false
	}
	var text *string
	if err := json.Unmarshal(raw, &text); err != nil {
		tb.Fatalf("deadline of %s: %s: %v", e.Action, raw, err)
	}
	if text == nil {
		return nil, true
	}
	at, err := time.Parse(time.RFC3339Nano, *text)
	if err != nil {
		tb.Fatalf("deadline of %s: %v", e.Action, err)
	}
	return &at, true
}

// replayDeadline replays the disposal clock of a case over events: it starts at the first
// dispatch (again after a return, which also drops the extensions and pauses), runs for the
// filed limit plus the approved extensions, and stands still while suspended or between feedback
// and rework. It returns the deadline after the last event, nil while the clock is not running.
func replayDeadline(tb testing.TB, cal *calendar.Calendar, events []cases.Event) *time.Time {
	var tm calendar.Timer
	var start, stopped *time.Time
	for _, e := range events {
		d := detailOf(tb, e)
		switch e.Action {
		case cases.File:
			tm.Limit = *d.Limit
		case cases.Dispatch:
			if start == nil {
				at := e.At
				start = &at
			}
		case cases.ApproveReturn:
			start, tm.Extensions, tm.Pauses = nil, nil, nil
		case cases.ApproveExtension:
			tm.Extensions = append(tm.Extensions, *d.Extension)
		case cases.ApproveSuspension:
			tm.Pauses = append(tm.Pauses, calendar.Interval{From: e.At})
		case cases.Resume:
			tm.Pauses[len(tm.Pauses)-1].To = e.At
		case cases.Feedback:
			at := e.At
			stopped = &at
		case cases.Rework:
			tm.Pauses = append(tm.Pauses, calendar.Interval{From: *stopped, To: e.At})
			stopped = nil
		}
	}
	if start == nil || stopped != nil || (len(tm.Pauses) > 0 && tm.Pauses[len(tm.Pauses)-1].To.IsZero()) {
		return nil
	}
	tm.Start = *start
	d, err := cal.Deadline(tm, events[len(events)-1].At)
	if err != nil {
		tb.Fatal(err)
	}
	d = d.UTC().Truncate(time.Microsecond)
	return &d
}

// checkDeadlines checks the deadline every event of the histories recorded against the clock
// replayed up to it, and that exactly the actions that change the clock record one.
func checkDeadlines(tb testing.TB, cal *calendar.Calendar, hist []*cases.Case) {
	clock := []cases.Action{cases.Dispatch, cases.ApproveExtension, cases.ApproveSuspension, cases.Resume, cases.ApproveReturn, cases.Feedback, cases.Rework}
	for _, c := range hist {
		for j, e := range c.Events {
			got, ok := recordedDeadline(tb, e)
			if ok != slices.Contains(clock, e.Action) {
				tb.Errorf("case %s v%d %s: records a deadline: %v", c.Number, e.Version, e.Action, ok)
				continue
			}
			if !ok {
				continue
			}
			want := replayDeadline(tb, cal, c.Events[:j+1])
			if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
				tb.Errorf("case %s v%d %s: recorded deadline %v, replayed %v\n%s", c.Number, e.Version, e.Action, got, want, story(c))
			}
		}
	}
}

// history drives the real case service through random paths of the loop over about two months
// of fake time, and returns the ids of the cases it made.
func history(w *world, rng *rand.Rand, until time.Time) []string {
	type live struct {
		c      *cases.Case
		passed bool // the last check found the closing condition met
	}
	var all []string
	var open []*live
	pick := func(ps []person) person { return ps[rng.IntN(len(ps))] }
	chance := func(p float64) bool { return rng.Float64() < p }
	grids := []string{g101, g101, g102, g102, g201, ""}
	others := []cases.Source{cases.FromCitizen, cases.FromHotline, cases.FromVideo, cases.FromReferral, cases.FromMedia, cases.FromSensor}
	classes := [][2]string{{"component", "0101"}, {"event", "0102"}}
	for w.clk.now().Before(until) {
		// Time passes: minutes, hours, or days (overnight, across weekends and holidays).
		switch r := rng.Float64(); {
		case r < 0.55:
			w.clk.add(time.Duration(1+rng.IntN(40)) * time.Minute)
		case r < 0.9:
			w.clk.add(time.Duration(60+rng.IntN(300)) * time.Minute)
		default:
			w.clk.add(time.Duration(6+rng.IntN(60)) * time.Hour)
		}
		if w.tick != nil {
			w.tick()
		}
		if len(all) < 90 && chance(0.3) {
			cl := classes[rng.IntN(len(classes))]
			grid := grids[rng.IntN(len(grids))]
			var c *cases.Case
			if chance(0.45) {
				c = w.report(pick(w.ins), cases.FromInspector, cl[0], cl[1], grid, chance(0.2))
			} else {
				c = w.report(pick(w.acc), others[rng.IntN(len(others))], cl[0], cl[1], grid, false)
			}
			all = append(all, c.ID)
			if !c.State.Final() {
				open = append(open, &live{c: c})
			}
		}
		for range 1 + rng.IntN(3) {
			if len(open) == 0 {
				break
			}
			i := rng.IntN(len(open))
			l := open[i]
			c := l.c
			var a cases.Action
			var p person
			in := cases.ActionInput{}
			switch c.State {
			case cases.Reported:
				p = pick(w.acc)
				a = []cases.Action{cases.Accept, cases.Accept, cases.Accept, cases.SendVerify, cases.SendVerify, cases.Void}[rng.IntN(6)]
			case cases.Verifying:
				p, a = pick(w.ins), cases.Verify
			case cases.Accepted:
				switch r := rng.Float64(); {
				case r < 0.75:
					p, a = pick(w.sl), cases.File
				case r < 0.9:
					p, a = pick(w.acc), cases.SendVerify
				default:
					p, a = pick(w.sl), cases.Void
				}
			case cases.Filed:
				p, a = pick(w.dis), cases.Dispatch
				if c.DepartmentID == nil || chance(0.25) {
					in.DepartmentID = w.depts[rng.IntN(len(w.depts))] // after a return, or another than the standard's
				}
			case cases.Dispatched:
				p, a = w.handler(c), cases.Take
				if chance(0.2) {
					a = cases.RequestReturn
				}
			case cases.Handling:
				p = w.handler(c)
				switch r := rng.Float64(); {
				case r < 0.5:
					a = cases.Feedback
				case r < 0.7:
					a, in.Extension = cases.RequestExtension, &calendar.Limit{Amount: 1, Unit: c.Limit.Unit}
				case r < 0.85:
					a = cases.RequestSuspension
				default:
					a = cases.RequestReturn
				}
			case cases.ReturnRequested:
				p, a = pick(w.dis), cases.ApproveReturn
				if chance(0.35) {
					a = cases.RejectReturn
				}
			case cases.ExtensionRequested:
				p, a = pick(w.sl), cases.ApproveExtension
				if chance(0.3) {
					a = cases.RejectExtension
				}
			case cases.SuspensionRequested:
				p, a = pick(w.sl), cases.ApproveSuspension
				if chance(0.3) {
					a = cases.RejectSuspension
				}
			case cases.Suspended:
				if !chance(0.3) {
					continue // 挂账 lasts a while
				}
				p, a = pick(w.sl), cases.Resume
			case cases.FedBack:
				p, a = pick(w.acc), cases.SendCheck
			case cases.Checking:
				p, a = pick(w.ins), cases.Check
				passed := chance(0.75)
				in.Passed, l.passed = &passed, passed
			case cases.Checked:
				p, a = pick(w.sl), cases.Rework
				if l.passed && chance(0.85) {
					a = cases.Close
				}
			}
			if chance(0.03) {
				p, a, in = w.leader, cases.Supervise, cases.ActionInput{}
			}
			l.c = w.act(p, c, a, in)
			if l.c.State.Final() {
				open = slices.Delete(open, i, i+1)
			}
		}
	}
	return all
}

// TestEvaluateMatchesRecount builds random case histories through the case service and checks
// every count of every object, and the totals, of several periods against a recount in Go of
// the raw histories; and the cases behind a sample of counts. CITYOPS_EVAL_SEED replays a seed.
func TestEvaluateMatchesRecount(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CITYOPS_EVAL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		t.Logf("seed %d (CITYOPS_EVAL_SEED=%d replays it)", seed, seed)
		rng := rand.New(rand.NewPCG(seed, 1))
		start := time.Date(2026, 3, 25, 0, 30, 0, 0, time.UTC) // 08:30 China time, a Wednesday
		w := newWorld(t, e, start)
		// The loop "totals" keeps the running month, quarter and year as the history goes, a
		// pass every few hours: Summarize below reads them and adds what changed since.
		var pass time.Time
		w.tick = func() {
			now := w.clk.now()
			if now.Sub(pass) < 3*time.Hour {
				return
			}
			pass = now
			m, q, y := evaluation.Containing(now)
			for _, p := range []evaluation.Period{m, q, y} {
				if _, err := w.ev.StoreTotals(e.A, p); err != nil && !errs.Is(err, errs.Invalid) {
					t.Fatalf("storing %s at %s: %v", p.Name, now, err)
				}
			}
		}
		ids := history(w, rng, time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC))
		w.tick = nil
		// A moment later: an evaluation of a running period counts as of now, and events of
		// this very instant are not yet in it.
		w.clk.add(time.Minute)
		hist := w.histories(ids)
		var events int
		for _, c := range hist {
			events += len(c.Events)
		}
		t.Logf("%d cases, %d events", len(hist), events)
		checkDeadlines(t, w.cal, hist)
		custom, err := evaluation.Days("2026-04-20", "2026-05-08")
		if err != nil {
			t.Fatal(err)
		}
		periods := []evaluation.Period{
			evaluation.Month(2026, 4),
			custom,
			evaluation.Month(2026, 2), // nothing happened
			evaluation.Month(2026, 5), // still running: as of now
			{Name: "all", From: start.Add(-time.Hour), To: w.clk.now().Add(time.Hour)}, // everything
		}
		for _, p := range periods {
			f, err := w.ev.Evaluate(e.A, p)
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			asOf := p.To
			if now := w.clk.now(); now.Before(asOf) {
				asOf = now
			}
			want := recount(t, hist, p.From, asOf, w.identityOf)
			compare(t, p, f, want, seed)
			// The totals alone (a prefecture's comparison), counted by a service that has not
			// evaluated the period.
			sum, err := evaluation.NewService(e.Store, w.clk.now).Summarize(e.A, p)
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if sum.Reported != want.reported || sum.Filed != want.filed || sum.Closed != want.closed || sum.ClosedOnTime != want.closedOnTime ||
				sum.InspectorReported != f.InspectorReported {
				t.Errorf("seed %d, %s: Summarize %+v, want reported %d filed %d closed %d on time %d, inspector reported %d", seed, p.Name,
					sum, want.reported, want.filed, want.closed, want.closedOnTime, f.InspectorReported)
			}
			// The cases behind a sample of counts, and a few that should have none.
			var triples [][3]string
			for o, byKey := range want.rows {
				for k, counts := range byKey {
					for name := range counts {
						triples = append(triples, [3]string{string(o), k, name})
					}
				}
			}
			sort.Slice(triples, func(i, j int) bool { return fmt.Sprint(triples[i]) < fmt.Sprint(triples[j]) })
			rng.Shuffle(len(triples), func(i, j int) { triples[i], triples[j] = triples[j], triples[i] })
			if len(triples) > 40 {
				triples = triples[:40]
			}
			triples = append(triples, [3]string{string(evaluation.Inspectors), w.ins[2].id, "missed"}, [3]string{string(evaluation.Streets), "53230100100000", "closed_on_time"})
			for _, tr := range triples {
				o := evaluation.Object(tr[0])
				b, err := w.ev.CasesBehind(e.A, p, o, tr[1], tr[2])
				if err != nil {
					t.Fatalf("%s behind %v: %v", p.Name, tr, err)
				}
				got := map[string]bool{}
				for _, c := range b.Cases {
					got[c.ID] = true
				}
				exp := want.behind[o][tr[1]][tr[2]]
				if b.Total != len(exp) || !sameSet(got, exp) {
					t.Errorf("seed %d, %s: cases behind %s %s %s: %d %v, want %d %v", seed, p.Name, o, tr[1], tr[2], b.Total, keys(got), len(exp), keys(exp))
					for _, c := range hist {
						if got[c.ID] != exp[c.ID] {
							t.Log(story(c))
						}
					}
				}
			}
		}
		// The running quarter and year: their stored totals and what changed since, against the
		// recount (the running month and the ended April read theirs above).
		for _, p := range []evaluation.Period{evaluation.Quarter(2026, 2), evaluation.Year(2026)} {
			want := recount(t, hist, p.From, w.clk.now(), w.identityOf)
			sum, err := evaluation.NewService(e.Store, w.clk.now).Summarize(e.A, p)
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if sum.Reported != want.reported || sum.Filed != want.filed || sum.Closed != want.closed || sum.ClosedOnTime != want.closedOnTime {
				t.Errorf("seed %d, %s: Summarize %+v, want reported %d filed %d closed %d on time %d", seed, p.Name,
					sum, want.reported, want.filed, want.closed, want.closedOnTime)
			}
		}
	})
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// compare fails t where the figures differ from the recount.
func compare(t *testing.T, p evaluation.Period, f *evaluation.Figures, want *tally, seed uint64) {
	t.Helper()
	if f.Reported != want.reported || f.Filed != want.filed || f.Closed != want.closed || f.ClosedOnTime != want.closedOnTime {
		t.Errorf("seed %d, %s: totals reported %d filed %d closed %d on time %d, want %d %d %d %d", seed, p.Name,
			f.Reported, f.Filed, f.Closed, f.ClosedOnTime, want.reported, want.filed, want.closed, want.closedOnTime)
	}
	for src, n := range want.sources {
		if f.Sources[src] != n {
			t.Errorf("seed %d, %s: source %s %d, want %d", seed, p.Name, src, f.Sources[src], n)
		}
	}
	for _, o := range evaluation.Objects {
		got := map[string]map[string]int64{}
		for _, r := range f.Rankings[o].Rows {
			got[r.Key] = r.Counts
		}
		exp := want.rows[o]
		for k, counts := range got {
			if _, ok := exp[k]; !ok && nonzero(counts) {
				t.Errorf("seed %d, %s: %s has a row %s %v the recount has not", seed, p.Name, o, k, counts)
			}
		}
		for k, counts := range exp {
			if k == "" {
				continue // outside every grid: in the totals only
			}
			for _, name := range evaluation.Definitions[o].Counts {
				if got[k][name] != counts[name] {
					t.Errorf("seed %d, %s: %s %s %s = %d, want %d", seed, p.Name, o, k, name, got[k][name], counts[name])
				}
			}
		}
	}
}

func nonzero(counts map[string]int64) bool {
	for _, n := range counts {
		if n != 0 {
			return true
		}
	}
	return false
}

// story is a case's history, one event a line, for a failure's log.
func story(c *cases.Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "case %s %s grid %v source %s:\n", c.ID, c.Number, ptr(c.GridCode), c.Source)
	for _, e := range c.Events {
		fmt.Fprintf(&b, "  v%d %s %s %s→%s by %s (%s) %s\n", e.Version, e.At.Format(time.RFC3339), e.Action, e.From, e.To, e.ActorEmail, e.Post, e.Detail)
	}
	return b.String()
}

func ptr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
