package evaluation

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/valyala/fastjson"
)

// Counts are the counts of one object's rows, by key (grid code, department id, staff id) and
// count name (Definition.Counts). Emails names the staff keys: the address each acted with.
type Counts struct {
	Rows   map[Object]map[string]map[string]int64
	Emails map[string]string
	// Sources counts the cases reported in the period by source; Classes by "kind/code".
	Sources map[string]int64
	Classes map[string]int64
	// Reported counts the cases reported in the period (every source).
	Reported int64
}

func (c *Counts) add(o Object, key, count string, n int64) {
	if c.Rows[o] == nil {
		c.Rows[o] = map[string]map[string]int64{}
	}
	r := c.Rows[o][key]
	if r == nil {
		r = map[string]int64{}
		for _, name := range Definitions[o].Counts {
			r[name] = 0
		}
		c.Rows[o][key] = r
	}
	r[count] += n
}

// How the counts are made. Every count is "as of the period's end": events after it are not
// seen, so a past period counts the same whenever it is counted again. The history read is every
// event, up to the end, of every case that had an event in the period (read), in one pass in case
// and version order; each case's events are then folded by the specs below, in Go, one case at a
// time. A spec gives one row per case (or per event) an object counts: its key, the email of a
// staff key, and one value per count (Definition.Counts order, or the spec's), each 0 or more. A
// count is the sum of its values over the key's rows; the cases behind a count are the rows where
// its value is positive.
//
// The reading is one index range of the events of the period (case_events (at), or the filings'
// case_events_filed) and, per case, one probe of cases and one of case_events_history, which
// holds the case's events side by side (evaluation.0004): the table itself is not visited. The
// earlier design (a correlated SQL subquery per check and case) cost twenty index probes per case
// (docs/benchmarks.md#evaluation).

// event is one event of a case's history, as the counts read it.
type event struct {
	version   int
	action    string
	post      string
	actor     string
	email     string
	fromState string
	at        time.Time
	// late: the event ended a stage that ran over its limit (detail.stage.overdue, recorded by
	// the case loop when the stage ended, under the calendar and limits then in force).
	late bool
	// dept is the department a dispatch chose (detail.department_id); returnedBy the department
	// an approved return (回退) took the case from (detail.returned_by). Empty when absent.
	dept, returnedBy string
	// recordsDeadline: the event records the disposal deadline after it (detail.deadline, as
	// the case loop does on the actions that start, move, stop or reset the clock); deadline is
	// that deadline, zero while the clock is not running (null).
	recordsDeadline bool
	deadline        time.Time
}

// history is one case as the counts see it: what its row says and its events up to the end.
type history struct {
	id     string
	grid   string // the unit grid's code, "" outside every grid
	source string
	// inspector is the identity of the responsible inspector of the place (the staff id when the
	// staff member has no account), "" when none.
	inspector  string
	deadlineAt time.Time // the case's current deadline (zero when none)
	events     []event
}

// in tells whether e happened in the period (every event read is before its end).
func in(e *event, from time.Time) bool { return !e.at.Before(from) }

// has tells whether an event of action follows version v.
func (h *history) has(v int, action string) bool {
	for i := range h.events {
		if e := &h.events[i]; e.version > v && e.action == action {
			return true
		}
	}
	return false
}

// lastLate is the lateness of the last event of action after version v (false when none).
func (h *history) lastLate(v int, action string) bool {
	late := false
	for i := range h.events {
		if e := &h.events[i]; e.version > v && e.action == action {
			late = e.late
		}
	}
	return late
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// emit receives one row of a spec: its key, the email of a staff key and its values.
type emit func(k, email string, n ...int64)

// spec is what one fold of a case's history counts for an object.
type spec struct {
	object Object
	counts []string // the count of each value of a row, in order
	fold   func(h *history, from, end time.Time, out emit)
}

// regions is the spec of the unit grids' counts, which streets, communities and a county's totals
// roll up.
var regions = spec{Grids, []string{"filed", "closed", "closed_on_time", "inspector_reported"}, foldRegions}

var specs = []spec{
	regions,
	{Departments, Definitions[Departments].Counts, foldDepartments},
	{Inspectors, []string{"reports", "valid_reports"}, foldInspectorReports},
	{Inspectors, []string{"verifies", "verifies_on_time", "checks", "checks_on_time"}, foldInspectorSite},
	{Inspectors, []string{"filed_in_area", "missed"}, foldInspectorArea},
	{Acceptors, Definitions[Acceptors].Counts, foldAcceptors},
	{ShiftLeads, Definitions[ShiftLeads].Counts, foldShiftLeads},
	{Dispatchers, Definitions[Dispatchers].Counts, foldDispatchers},
}

// filings are the events that file a case: file, or self_handle (filed and closed at once).
func filing(e *event) bool { return e.action == "file" || e.action == "self_handle" }

// foldRegions: each filing in the period, in its unit grid: closed by the end, closed on time
// (the last feedback by the end was within the disposal limit), reported by an inspector.
func foldRegions(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		f := &h.events[i]
		if !filing(f) || !in(f, from) {
			continue
		}
		self := f.action == "self_handle"
		closed := h.has(-1, "close")
		out(h.grid, "", 1, b2i(self || closed), b2i(self || closed && !h.lastLate(-1, "feedback")),
			b2i(h.source == "inspector"))
	}
}

// foldDepartments: each department a case was dispatched to in the period, once (from its first
// such dispatch on): returned (回退) by it; else due, handled (fed back) by the end and on time,
// its reworks and extensions, and overdue pending — not fed back by the end and the deadline the
// case ran under at the end had passed: the one recorded last by the end, from the dispatch on
// (the dispatch records one; none while suspended or returned). A history recorded before the
// case loop recorded deadlines has none: it falls back to the case's current deadline
// (cases.deadline_at), which a later extension, return, suspension or resume moves.
func foldDepartments(h *history, from, end time.Time, out emit) {
	var seen []string
	for i := range h.events {
		t := &h.events[i]
		if t.action != "dispatch" || !in(t, from) || slices.Contains(seen, t.dept) {
			continue
		}
		seen = append(seen, t.dept)
		returned, handled, late := false, false, false
		var reworks, extensions int64
		deadline := h.deadlineAt
		for j := range h.events {
			x := &h.events[j]
			if x.version >= t.version && x.recordsDeadline {
				deadline = x.deadline
			}
			if x.version <= t.version {
				continue
			}
			switch x.action {
			case "approve_return":
				returned = returned || t.dept != "" && x.returnedBy == t.dept
			case "feedback":
				handled, late = true, x.late
			case "rework":
				reworks++
			case "approve_extension":
				extensions++
			}
		}
		if returned {
			out(t.dept, "", 1, 1, 0, 0, 0, 0, 0, 0)
			continue
		}
		pending := !handled && !deadline.IsZero() && deadline.Before(end)
		out(t.dept, "", 1, 0, 1, b2i(handled), b2i(handled && !late), reworks, extensions, b2i(pending))
	}
}

// foldInspectorReports: an inspector's reports in the period, and those filed by the end.
func foldInspectorReports(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		e := &h.events[i]
		if (e.action == "report" || e.action == "self_handle") && e.post == "inspector" && in(e, from) {
			out(e.actor, e.email, 1, b2i(e.action == "self_handle" || h.has(-1, "file")))
		}
	}
}

// foldInspectorSite: the verifications (核实) and checks (核查) done in the period, and on time.
func foldInspectorSite(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		e := &h.events[i]
		if (e.action == "verify" || e.action == "check") && in(e, from) {
			v, c := b2i(e.action == "verify"), b2i(e.action == "check")
			out(e.actor, e.email, v, v*(1-b2i(e.late)), c, c*(1-b2i(e.late)))
		}
	}
}

// foldInspectorArea: the cases filed in the period in the area of a responsibility grid's
// inspector, and those not reported by an inspector (missed on patrol). The case records the
// inspector's staff id; the other inspector rows are keyed by the identity the inspector acts as
// (actor_id), so the reading maps the staff id to it.
func foldInspectorArea(h *history, from, _ time.Time, out emit) {
	if h.inspector == "" {
		return
	}
	for i := range h.events {
		if f := &h.events[i]; filing(f) && in(f, from) {
			out(h.inspector, "", 1, b2i(h.source != "inspector"))
		}
	}
}

// foldAcceptors: an acceptor's first answers to reports (accepted: accept, send to verify or
// void), sends to verify and to check, and those on time.
func foldAcceptors(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		e := &h.events[i]
		if e.post != "acceptor" || !in(e, from) {
			continue
		}
		switch e.action {
		case "accept", "send_verify", "void", "send_check":
			v, c := b2i(e.action == "send_verify"), b2i(e.action == "send_check")
			first := b2i(e.fromState == "reported" && e.action != "send_check")
			out(e.actor, e.email, first, v, v*(1-b2i(e.late)), c, c*(1-b2i(e.late)))
		}
	}
}

// foldShiftLeads: a shift lead's filings (立案) and closings (结案) in the period, on time, and
// filings no department had returned (回退) by the end.
func foldShiftLeads(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		e := &h.events[i]
		if e.post != "shift_lead" || (e.action != "file" && e.action != "close") || !in(e, from) {
			continue
		}
		f, c := b2i(e.action == "file"), b2i(e.action == "close")
		out(e.actor, e.email, f, f*(1-b2i(e.late)), f*(1-b2i(h.has(e.version, "approve_return"))), c, c*(1-b2i(e.late)))
	}
}

// foldDispatchers: the dispatches in the period, on time, and accurate: the department chosen
// did not have the case returned (回退) before it was dispatched again.
func foldDispatchers(h *history, from, _ time.Time, out emit) {
	for i := range h.events {
		e := &h.events[i]
		if e.action != "dispatch" || !in(e, from) {
			continue
		}
		wrong := false
		for j := i + 1; j < len(h.events); j++ {
			if a := h.events[j].action; a == "dispatch" || a == "approve_return" {
				wrong = a == "approve_return"
				break
			}
		}
		out(e.actor, e.email, 1, 1-b2i(e.late), 1-b2i(wrong))
	}
}

// sqlDialect writes the statements that differ between PostgreSQL and SQLite.
type sqlDialect struct{ pg bool }

// historiesQuery reads the histories of the cases with an event of r's drivers in [?0, ?1): their
// events of r's actions up to ?1, each case's together and in version order, each with its detail
// as written (the members the counts use are read in Go). The first row of a case also carries the
// case: its id, grid, source, responsible inspector (as the identity they act as) and current
// deadline; on the other rows these are null, which the driver passes without making a string.
//
// On PostgreSQL the cases are found once (the materialised pc) and each case's row and events are
// read by its key (the fenced laterals): one index range over the period's events and two probes
// per case. Left to itself the planner, which cannot estimate how few distinct cases a period's
// events name, hash-joins the whole of cases and case_events instead. (Building one JSON array
// per case in the database instead halves the Go side's work but costs the database 70 % more
// time, and the database is what every replica shares.)
func (d sqlDialect) historiesQuery(r reading) string {
	inspector := "CASE WHEN c.inspector_id IS NULL OR c.inspector_id = '' THEN '' ELSE COALESCE(s.identity_id, c.inspector_id) END"
	events := "e.version, e.action, e.post, e.actor_id, e.actor_email, e.from_state, e.at, e.detail"
	drivers, actions := r.only("action", r.drivers), r.only("e.action", r.actions)
	if d.pg {
		return `WITH pc AS MATERIALIZED (SELECT DISTINCT case_id FROM case_events WHERE at >= ?0 AND at < ?1` + drivers + `)
SELECT CASE WHEN x.n = 1 THEN pc.case_id END, CASE WHEN x.n = 1 THEN ci.grid END, CASE WHEN x.n = 1 THEN ci.source END,
	CASE WHEN x.n = 1 THEN ci.inspector END, CASE WHEN x.n = 1 THEN ci.deadline_at END,
	x.version, x.action, x.post, x.actor_id, x.actor_email, x.from_state, x.at, x.detail
FROM pc
CROSS JOIN LATERAL (SELECT COALESCE(c.grid_code, '') AS grid, c.source, ` + inspector + ` AS inspector, c.deadline_at
	FROM cases c LEFT JOIN staff s ON s.id = c.inspector_id WHERE c.id = pc.case_id OFFSET 0) ci
CROSS JOIN LATERAL (SELECT row_number() OVER (ORDER BY e.version) AS n, ` + events + `
	FROM case_events e WHERE e.case_id = pc.case_id AND e.at < ?1` + actions + ` ORDER BY e.version) x`
	}
	first := "CASE WHEN row_number() OVER (PARTITION BY e.case_id ORDER BY e.version) = 1 THEN "
	return `SELECT ` + first + `e.case_id END, ` + first + `COALESCE(c.grid_code, '') END, ` + first + `c.source END,
	` + first + inspector + ` END, ` + first + `c.deadline_at END, ` + events + `
FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN staff s ON s.id = c.inspector_id
WHERE e.case_id IN (SELECT case_id FROM case_events WHERE at >= ?0 AND at < ?1` + drivers + `) AND e.at < ?1` + actions + `
ORDER BY e.case_id, e.version`
}

// reading is which histories a count reads and how much of each: the cases with an event of one
// of drivers in the period, and their events of one of actions (nil: any action).
type reading struct {
	drivers, actions []string
	specs            []spec
	classes          bool // count the period's reports by problem class too
}

// only is the condition that column is one of actions ("" for any).
func (reading) only(column string, actions []string) string {
	if actions == nil {
		return ""
	}
	return " AND " + column + " IN ('" + strings.Join(actions, "', '") + "')"
}

var (
	// everything: every object's counts, from every event of every case with an event in the
	// period.
	everything = reading{specs: specs, classes: true}
	// filings: the regions' counts (a county's totals), from the filings in the period and what
	// became of them: closed, and the lateness of the last feedback.
	filings = reading{drivers: []string{"file", "self_handle"}, actions: []string{"file", "self_handle", "close", "feedback"},
		specs: []spec{regions}}
)

// read folds the history, up to end, of every case r reads in [from, end) through fn, one case at
// a time (the history passed is reused: fn must not keep it).
func read(ctx context.Context, db bun.IDB, r reading, from, end time.Time, fn func(h *history)) error {
	d := sqlDialect{pg: db.Dialect().Name() == dialect.PG}
	if d.pg {
		// The lateral probes make the planner's cost estimates large enough to JIT-compile the
		// statement, which costs more than running it (docs/benchmarks.md#evaluation).
		if _, err := db.ExecContext(ctx, noJIT); err != nil {
			return err
		}
	}
	rows, err := db.QueryContext(ctx, d.historiesQuery(r), from, end)
	if err != nil {
		return fmt.Errorf("evaluation: reading the period's histories: %w", err)
	}
	defer rows.Close()
	var (
		h                              history
		caseID, grid, src, insp        sql.NullString
		deadlineAt                     anyTime
		action, post, actor, email, fs sql.RawBytes
		detail                         sql.RawBytes
		parser                         fastjson.Parser
		interned                       = map[string]string{}
	)
	// Actions, posts, states, sources, departments and staff are few: each is made a string once.
	intern := func(b []byte) string {
		if s, ok := interned[string(b)]; ok {
			return s
		}
		s := string(b)
		interned[s] = s
		return s
	}
	for rows.Next() {
		var e event
		if err := rows.Scan(&caseID, &grid, &src, &insp, &deadlineAt, &e.version, &action, &post, &actor, &email, &fs, &e.at, &detail); err != nil {
			return err
		}
		if caseID.Valid { // the first event of the next case
			if h.id != "" {
				fn(&h)
			}
			h = history{id: caseID.String, grid: grid.String, source: intern([]byte(src.String)), inspector: intern([]byte(insp.String)),
				deadlineAt: time.Time(deadlineAt), events: h.events[:0]}
		}
		e.action, e.post, e.actor, e.email, e.fromState = intern(action), intern(post), intern(actor), intern(email), intern(fs)
		v, err := parser.ParseBytes(detail)
		if err != nil {
			return fmt.Errorf("evaluation: case %s v%d: detail: %w", h.id, e.version, err)
		}
		if err := e.readDetail(v, intern); err != nil {
			return fmt.Errorf("evaluation: case %s v%d: %w", h.id, e.version, err)
		}
		h.events = append(h.events, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if h.id != "" {
		fn(&h)
	}
	return nil
}

// anyTime scans a time the driver gives as a time or, where SQLite no longer knows the column's
// type (an expression), as its text; null is the zero time.
type anyTime time.Time

func (t *anyTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t = anyTime{}
	case time.Time:
		*t = anyTime(v)
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("evaluation: a time of type %T", v)
	}
	return nil
}

func (t *anyTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = anyTime(v)
			return nil
		}
	}
	return fmt.Errorf("evaluation: time %q", s)
}

// readDetail reads the members of the event's detail the counts use: stage.overdue,
// department_id, returned_by and deadline (present, and a time or null). Departments are few:
// intern makes each a string once.
func (e *event) readDetail(v *fastjson.Value, intern func([]byte) string) error {
	e.late = v.GetBool("stage", "overdue")
	e.dept, e.returnedBy = intern(v.GetStringBytes("department_id")), intern(v.GetStringBytes("returned_by"))
	if dl := v.Get("deadline"); dl != nil {
		e.recordsDeadline = true
		if dl.Type() == fastjson.TypeString {
			var err error
			if e.deadline, err = time.Parse(time.RFC3339Nano, string(dl.GetStringBytes())); err != nil {
				return fmt.Errorf("recorded deadline: %w", err)
			}
		}
	}
	return nil
}

// noJIT turns PostgreSQL's JIT compilation off for the rest of the counting transaction.
const noJIT = "SET LOCAL jit = off"

// tally sums a spec's rows by key, with the greatest email of each key (as max(email) would).
type tally struct {
	sums   map[string]*[8]int64
	emails map[string]string
}

// count reads every object's counts for [from, to) from db (one tenant's, in one read
// transaction).
func count(ctx context.Context, db bun.IDB, from, to time.Time) (*Counts, error) {
	return countOf(ctx, db, everything, from, to)
}

// countOf reads the counts of r's specs for [from, to), with the sources and classes.
func countOf(ctx context.Context, db bun.IDB, r reading, from, to time.Time) (*Counts, error) {
	out := &Counts{Rows: map[Object]map[string]map[string]int64{}, Emails: map[string]string{},
		Sources: map[string]int64{}, Classes: map[string]int64{}}
	from, to = from.UTC(), to.UTC()
	specs := r.specs
	tallies := make([]tally, len(specs))
	emits := make([]emit, len(specs))
	for i := range specs {
		t := &tallies[i]
		t.sums, t.emails = map[string]*[8]int64{}, map[string]string{}
		emits[i] = func(k, email string, n ...int64) {
			s := t.sums[k]
			if s == nil {
				s = &[8]int64{}
				t.sums[k] = s
			}
			for j, v := range n {
				s[j] += v
			}
			if email > t.emails[k] {
				t.emails[k] = email
			}
		}
	}
	err := read(ctx, db, r, from, to, func(h *history) {
		for i := range specs {
			specs[i].fold(h, from, to, emits[i])
		}
	})
	if err != nil {
		return nil, err
	}
	for i, s := range specs {
		for k, sums := range tallies[i].sums {
			if e := tallies[i].emails[k]; e != "" {
				out.Emails[k] = e
			}
			for j, name := range s.counts {
				out.add(s.object, k, name, sums[j])
			}
		}
	}
	rollUp(out)
	var srcs []struct {
		Source string `bun:"source"`
		N      int64  `bun:"n"`
	}
	if err := db.NewRaw("SELECT source, count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? GROUP BY source", from, to).Scan(ctx, &srcs); err != nil {
		return nil, err
	}
	for _, s := range srcs {
		out.Sources[s.Source] = s.N
		out.Reported += s.N
	}
	if !r.classes {
		return out, nil
	}
	var cls []struct {
		Kind string `bun:"kind"`
		Code string `bun:"class_code"`
		N    int64  `bun:"n"`
	}
	if err := db.NewRaw("SELECT kind, class_code, count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? GROUP BY kind, class_code", from, to).Scan(ctx, &cls); err != nil {
		return nil, err
	}
	for _, c := range cls {
		out.Classes[c.Kind+"/"+c.Code] = c.N
	}
	return out, nil
}

// rollUp adds the unit grids' counts to their communities and streets (a grid code is 6 digits of
// the county, 3 of the street, 3 of the community and 2 of the unit: grids.LevelOf). Cases
// outside every grid stay under the key "" of Grids and count in the totals only.
func rollUp(c *Counts) {
	for code, counts := range c.Rows[Grids] {
		if len(code) != 14 {
			continue
		}
		for _, o := range []Object{Streets, Communities} {
			if k := regionOf(o, code); k != "" {
				for name, n := range counts {
					c.add(o, k, name, n)
				}
			}
		}
	}
}

// regionOf is the key a unit grid's code counts under at level o (Streets, Communities, Grids).
func regionOf(o Object, code string) string {
	if len(code) != 14 || o == Grids {
		return code
	}
	if o == Streets {
		return code[:9] + "00000"
	}
	if strings.HasSuffix(code, "00000") {
		return ""
	}
	return code[:12] + "00"
}

// behind is the ids of the cases behind object o's count of key over [from, to): the rows of the
// count's spec where it is positive. ok is false when o counts nothing of that name.
func behind(ctx context.Context, db bun.IDB, o Object, key, countName string, from, to time.Time) (ids []string, ok bool, err error) {
	src := o
	if o == Streets || o == Communities || o == Counties {
		src = Grids // a county's counts are all its grid rows'
	}
	i := slices.IndexFunc(specs, func(s spec) bool { return s.object == src && slices.Contains(s.counts, countName) })
	if i < 0 {
		return nil, false, nil
	}
	s := specs[i]
	col := slices.Index(s.counts, countName)
	from, to = from.UTC(), to.UTC()
	seen := map[string]bool{}
	r := everything
	if src == Grids {
		r = filings
	}
	err = read(ctx, db, r, from, to, func(h *history) {
		s.fold(h, from, to, func(k, _ string, n ...int64) {
			switch {
			case n[col] <= 0 || seen[h.id]:
			case src == o && k != key:
			case src != o && o != Counties && regionOf(o, k) != key:
			default:
				seen[h.id] = true
				ids = append(ids, h.id)
			}
		})
	})
	return ids, true, err
}
