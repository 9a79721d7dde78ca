package evaluation

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The counts as hand-written SQL: one row query per spec, with a correlated subquery per check of
// what became of a case by the period's end, summed per key. It was the module's counting before
// the fold of counts.go; it stays as the benchmark's floor (the same aggregates in SQL, through
// psql) and as a second implementation the fold is checked against on the benchmark history.

// late is 1 when event a ended a stage that ran over its limit (detail.stage.overdue, recorded
// by the case loop when the stage ended, under the calendar and limits then in force), else 0.
func (d sqlDialect) late(a string) string {
	if d.pg {
		return "(CASE WHEN (" + a + ".detail::jsonb #>> '{stage,overdue}') = 'true' THEN 1 ELSE 0 END)"
	}
	return "(CASE WHEN json_extract(" + a + ".detail, '$.stage.overdue') = 1 THEN 1 ELSE 0 END)"
}

// fence keeps a subquery in FROM from being merged into the query around it, so that the
// correlated subqueries of its columns run once per row rather than once per use of the column.
func (d sqlDialect) fence() string {
	if d.pg {
		return " OFFSET 0"
	}
	return " LIMIT -1 OFFSET 0"
}

// member is the text of the top-level member name of a's detail.
func (d sqlDialect) member(a, name string) string {
	if d.pg {
		return "(" + a + ".detail::jsonb ->> '" + name + "')"
	}
	return "json_extract(" + a + ".detail, '$." + name + "')"
}

// recordsDeadline is the condition that event a records the disposal deadline after it
// (detail.deadline: an RFC 3339 UTC timestamp, or null while the clock is not running), as the
// case loop does on the actions that start, move, stop or reset the clock.
func (d sqlDialect) recordsDeadline(a string) string {
	if d.pg {
		return "(" + a + ".detail::jsonb -> 'deadline') IS NOT NULL"
	}
	return "json_type(" + a + ".detail, '$.deadline') IS NOT NULL"
}

// deadlinePassed is 1 when event a records a deadline (not null) before the end ?1, else 0.
// SQLite compares julian days (to the millisecond): the recorded text ("…T…Z") and the bound
// end ("… …+00:00") are not written alike.
func (d sqlDialect) deadlinePassed(a string) string {
	if d.pg {
		return "(CASE WHEN (" + a + ".detail::jsonb ->> 'deadline')::timestamptz < ?1 THEN 1 ELSE 0 END)"
	}
	return "(CASE WHEN julianday(json_extract(" + a + ".detail, '$.deadline')) < julianday(?1) THEN 1 ELSE 0 END)"
}

// The queries read the append-only history (case_events) of the tenant; ?0 is the period's start,
// ?1 its end. Every count is "as of the period's end": events after it are not seen, so a past
// period counts the same whenever it is counted again.
const (
	// closedBy: the case of event f was closed by the end; filedBy: the case of e was filed by
	// the end; returned: the case of e was returned (回退) after e, by the end.
	closedBy = "EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = f.case_id AND x.action = 'close' AND x.at < ?1)"
	filedBy  = "EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = e.case_id AND x.action = 'file' AND x.at < ?1)"
	returned = "EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = e.case_id AND x.action = 'approve_return' AND x.version > e.version AND x.at < ?1)"
)

// The row queries below give one row per case (or per event) an object counts: its key k, the
// email of a staff key, the case_id, and one column per count (Definition.Counts order, or the
// spec's), each 0 or more for that row. A count is the sum of its column over the key's rows (the
// aggregate query); the cases behind a count are the rows where its column is positive.

func regionsRows(d sqlDialect) string {
	lastFeedbackLate := "COALESCE((SELECT " + d.late("x") + " FROM case_events x WHERE x.case_id = f.case_id AND x.action = 'feedback' AND x.at < ?1 ORDER BY x.version DESC LIMIT 1), 0)"
	return `SELECT COALESCE(c.grid_code, '') AS k, '' AS email, f.case_id, 1 AS n1,
	CASE WHEN f.action = 'self_handle' OR ` + closedBy + ` THEN 1 ELSE 0 END AS n2,
	CASE WHEN f.action = 'self_handle' OR (` + closedBy + ` AND ` + lastFeedbackLate + ` = 0) THEN 1 ELSE 0 END AS n3,
	CASE WHEN c.source = 'inspector' THEN 1 ELSE 0 END AS n4
FROM case_events f JOIN cases c ON c.id = f.case_id
WHERE f.action IN ('file', 'self_handle') AND f.at >= ?0 AND f.at < ?1`
}

func departmentsRows(d sqlDialect) string {
	after := "x.case_id = t.case_id AND x.version > t.v AND x.at < ?1"
	// Overdue pending: not fed back by the end, and the deadline the case ran under at the end
	// had passed: the one recorded last by the end, from the dispatch on (the dispatch records
	// one; null while suspended or returned). A history recorded before the case loop recorded
	// deadlines has none: it falls back to the case's current deadline (cases.deadline_at),
	// which a later extension, return, suspension or resume moves.
	passed := "(SELECT " + d.deadlinePassed("x") + " FROM case_events x WHERE x.case_id = t.case_id AND x.version >= t.v AND x.at < ?1 AND " +
		d.recordsDeadline("x") + " ORDER BY x.version DESC LIMIT 1)"
	return `SELECT dept AS k, '' AS email, case_id, 1 AS n1, returned AS n2, 1 - returned AS n3,
	CASE WHEN returned = 0 THEN handled ELSE 0 END AS n4,
	CASE WHEN returned = 0 AND handled = 1 AND late = 0 THEN 1 ELSE 0 END AS n5,
	CASE WHEN returned = 0 THEN reworks ELSE 0 END AS n6,
	CASE WHEN returned = 0 THEN extensions ELSE 0 END AS n7,
	CASE WHEN returned = 0 AND handled = 0 AND COALESCE(deadline_passed,
		CASE WHEN deadline_at IS NOT NULL AND deadline_at < ?1 THEN 1 ELSE 0 END) = 1 THEN 1 ELSE 0 END AS n8
FROM (SELECT t.dept, t.case_id, c.deadline_at, ` + passed + ` AS deadline_passed,
		CASE WHEN EXISTS (SELECT 1 FROM case_events x WHERE ` + after + ` AND x.action = 'approve_return' AND ` + d.member("x", "returned_by") + ` = t.dept) THEN 1 ELSE 0 END AS returned,
		CASE WHEN EXISTS (SELECT 1 FROM case_events x WHERE ` + after + ` AND x.action = 'feedback') THEN 1 ELSE 0 END AS handled,
		COALESCE((SELECT ` + d.late("x") + ` FROM case_events x WHERE ` + after + ` AND x.action = 'feedback' ORDER BY x.version DESC LIMIT 1), 0) AS late,
		(SELECT CAST(count(*) AS integer) FROM case_events x WHERE ` + after + ` AND x.action = 'rework') AS reworks,
		(SELECT CAST(count(*) AS integer) FROM case_events x WHERE ` + after + ` AND x.action = 'approve_extension') AS extensions
	FROM (SELECT e.case_id, ` + d.member("e", "department_id") + ` AS dept, min(e.version) AS v
		FROM case_events e WHERE e.action = 'dispatch' AND e.at >= ?0 AND e.at < ?1
		GROUP BY e.case_id, ` + d.member("e", "department_id") + `) t
	JOIN cases c ON c.id = t.case_id` + d.fence() + `) r`
}

const inspectorReportsRows = `SELECT e.actor_id AS k, e.actor_email AS email, e.case_id, 1 AS n1,
	CASE WHEN e.action = 'self_handle' OR ` + filedBy + ` THEN 1 ELSE 0 END AS n2
FROM case_events e
WHERE e.action IN ('report', 'self_handle') AND e.post = 'inspector' AND e.at >= ?0 AND e.at < ?1`

func inspectorSiteRows(d sqlDialect) string {
	return `SELECT e.actor_id AS k, e.actor_email AS email, e.case_id,
	CASE WHEN e.action = 'verify' THEN 1 ELSE 0 END AS n1,
	CASE WHEN e.action = 'verify' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n2,
	CASE WHEN e.action = 'check' THEN 1 ELSE 0 END AS n3,
	CASE WHEN e.action = 'check' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n4
FROM case_events e
WHERE e.action IN ('verify', 'check') AND e.at >= ?0 AND e.at < ?1`
}

// inspectorAreaRows counts the cases filed in the area of a responsibility grid's inspector. The
// case records the inspector's staff id; the other inspector rows are keyed by the identity the
// inspector acts as (actor_id), so the staff id is mapped to it (a staff member without an
// account keeps the staff id).
const inspectorAreaRows = `SELECT COALESCE(s.identity_id, c.inspector_id) AS k, '' AS email, f.case_id, 1 AS n1, CASE WHEN c.source <> 'inspector' THEN 1 ELSE 0 END AS n2
FROM case_events f JOIN cases c ON c.id = f.case_id LEFT JOIN staff s ON s.id = c.inspector_id
WHERE f.action IN ('file', 'self_handle') AND f.at >= ?0 AND f.at < ?1 AND c.inspector_id IS NOT NULL AND c.inspector_id <> ''`

func acceptorsRows(d sqlDialect) string {
	return `SELECT e.actor_id AS k, e.actor_email AS email, e.case_id,
	CASE WHEN e.from_state = 'reported' AND e.action IN ('accept', 'send_verify', 'void') THEN 1 ELSE 0 END AS n1,
	CASE WHEN e.action = 'send_verify' THEN 1 ELSE 0 END AS n2,
	CASE WHEN e.action = 'send_verify' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n3,
	CASE WHEN e.action = 'send_check' THEN 1 ELSE 0 END AS n4,
	CASE WHEN e.action = 'send_check' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n5
FROM case_events e
WHERE e.post = 'acceptor' AND e.action IN ('accept', 'send_verify', 'void', 'send_check') AND e.at >= ?0 AND e.at < ?1`
}

func shiftLeadsRows(d sqlDialect) string {
	return `SELECT e.actor_id AS k, e.actor_email AS email, e.case_id,
	CASE WHEN e.action = 'file' THEN 1 ELSE 0 END AS n1,
	CASE WHEN e.action = 'file' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n2,
	CASE WHEN e.action = 'file' AND NOT ` + returned + ` THEN 1 ELSE 0 END AS n3,
	CASE WHEN e.action = 'close' THEN 1 ELSE 0 END AS n4,
	CASE WHEN e.action = 'close' THEN 1 - ` + d.late("e") + ` ELSE 0 END AS n5
FROM case_events e
WHERE e.post = 'shift_lead' AND e.action IN ('file', 'close') AND e.at >= ?0 AND e.at < ?1`
}

func dispatchersRows(d sqlDialect) string {
	// A dispatch is accurate unless the department it chose had the case returned (回退) before
	// the case was dispatched again.
	wrong := `EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = e.case_id AND x.action = 'approve_return' AND x.version > e.version AND x.at < ?1
		AND NOT EXISTS (SELECT 1 FROM case_events y WHERE y.case_id = e.case_id AND y.action = 'dispatch' AND y.version > e.version AND y.version < x.version))`
	return `SELECT e.actor_id AS k, e.actor_email AS email, e.case_id, 1 AS n1,
	1 - ` + d.late("e") + ` AS n2,
	CASE WHEN ` + wrong + ` THEN 0 ELSE 1 END AS n3
FROM case_events e
WHERE e.action = 'dispatch' AND e.at >= ?0 AND e.at < ?1`
}

// sqlSpec is one row query and what its columns count.
type sqlSpec struct {
	rows   string
	object Object
	counts []string // the count of n1, n2 …
}

func sqlSpecs(d sqlDialect) []sqlSpec {
	return []sqlSpec{
		{regionsRows(d), Grids, []string{"filed", "closed", "closed_on_time", "inspector_reported"}},
		{departmentsRows(d), Departments, Definitions[Departments].Counts},
		{inspectorReportsRows, Inspectors, []string{"reports", "valid_reports"}},
		{inspectorSiteRows(d), Inspectors, []string{"verifies", "verifies_on_time", "checks", "checks_on_time"}},
		{inspectorAreaRows, Inspectors, []string{"filed_in_area", "missed"}},
		{acceptorsRows(d), Acceptors, Definitions[Acceptors].Counts},
		{shiftLeadsRows(d), ShiftLeads, Definitions[ShiftLeads].Counts},
		{dispatchersRows(d), Dispatchers, Definitions[Dispatchers].Counts},
	}
}

// aggregate is the spec's counts per key: the sums of its row query.
func (s sqlSpec) aggregate() string {
	var b strings.Builder
	b.WriteString("SELECT k, max(email) AS email")
	for i := range s.counts {
		fmt.Fprintf(&b, ", SUM(n%d) AS n%d", i+1, i+1)
	}
	b.WriteString(" FROM (" + s.rows + ") q GROUP BY k")
	return b.String()
}

// countRow is a row of the aggregate queries: the key, the email of a staff key, then the counts
// n1, n2 … in the order of the spec.
type countRow struct {
	K     sql.NullString `bun:"k"`
	Email sql.NullString `bun:"email"`
	N1    sql.NullInt64  `bun:"n1"`
	N2    sql.NullInt64  `bun:"n2"`
	N3    sql.NullInt64  `bun:"n3"`
	N4    sql.NullInt64  `bun:"n4"`
	N5    sql.NullInt64  `bun:"n5"`
	N6    sql.NullInt64  `bun:"n6"`
	N7    sql.NullInt64  `bun:"n7"`
	N8    sql.NullInt64  `bun:"n8"`
}

func (r *countRow) cols() []sql.NullInt64 {
	return []sql.NullInt64{r.N1, r.N2, r.N3, r.N4, r.N5, r.N6, r.N7, r.N8}
}

// countSQL is count by the SQL aggregates: the same Counts, for the floor's check.
func countSQL(ctx context.Context, db bun.IDB, from, to time.Time) (*Counts, error) {
	d := sqlDialect{pg: db.Dialect().Name() == dialect.PG}
	out := &Counts{Rows: map[Object]map[string]map[string]int64{}, Emails: map[string]string{},
		Sources: map[string]int64{}, Classes: map[string]int64{}}
	from, to = from.UTC(), to.UTC()
	if d.pg {
		if _, err := db.ExecContext(ctx, noJIT); err != nil {
			return nil, err
		}
	}
	for _, s := range sqlSpecs(d) {
		var rows []countRow
		if err := db.NewRaw(s.aggregate(), from, to).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("counting %s: %w", s.object, err)
		}
		for _, r := range rows {
			k := r.K.String
			cols := r.cols()
			if r.Email.String != "" {
				out.Emails[k] = r.Email.String
			}
			for j, name := range s.counts {
				out.add(s.object, k, name, cols[j].Int64)
			}
		}
	}
	rollUp(out)
	return out, nil
}

// sameCounts reports where the fold's counts of [from, to) differ from the SQL aggregates'.
func sameCounts(tb testing.TB, ctx context.Context, db bun.IDB, from, to time.Time) {
	tb.Helper()
	fold, err := count(ctx, db, from, to)
	if err != nil {
		tb.Fatal(err)
	}
	agg, err := countSQL(ctx, db, from, to)
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range []Object{Grids, Departments, Inspectors, Acceptors, ShiftLeads, Dispatchers} {
		if len(agg.Rows[o]) == 0 {
			tb.Fatalf("%s: the SQL aggregates count nothing in %s – %s", o, from, to)
		}
	}
	if !reflect.DeepEqual(fold.Rows, agg.Rows) {
		for o, rows := range agg.Rows {
			for k, counts := range rows {
				if !reflect.DeepEqual(fold.Rows[o][k], counts) {
					tb.Errorf("%s %q: fold %v, SQL %v", o, k, fold.Rows[o][k], counts)
				}
			}
		}
		for o, rows := range fold.Rows {
			for k := range rows {
				if agg.Rows[o][k] == nil {
					tb.Errorf("%s %q: fold %v, not in SQL", o, k, rows[k])
				}
			}
		}
	}
	if !reflect.DeepEqual(fold.Emails, agg.Emails) {
		tb.Errorf("emails: fold %v, SQL %v", fold.Emails, agg.Emails)
	}
}

// sameAsSQL checks county i's counts of p by the fold against the SQL aggregates.
func (e *benchEnv) sameAsSQL(tb testing.TB, i int, p Period) {
	err := e.store.Tx(e.ctx(i), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		sameCounts(tb, ctx, db, p.From, p.To)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestFoldMatchesSQL: on a benchmark history (every loop of the case, returns, reworks,
// extensions, late stages), the fold counts a month, a quarter and a year exactly as the SQL
// aggregates do, row for row, and Summarize's totals are Evaluate's.
func TestFoldMatchesSQL(t *testing.T) {
	e := newBenchEnv(t, 1)
	e.grow(t, 0, 3_000)
	for _, p := range []Period{Month(2025, 6), Month(2024, 2), Quarter(2025, 2), Year(2024)} {
		e.sameAsSQL(t, 0, p)
		// The totals alone read the same as the whole evaluation's.
		f, err := NewService(e.store, func() time.Time { return benchNow }).Evaluate(e.ctx(0), p)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := NewService(e.store, func() time.Time { return benchNow }).Summarize(e.ctx(0), p)
		if err != nil {
			t.Fatal(err)
		}
		if want := summary(f); sum != want || sum.Filed == 0 {
			t.Errorf("%s: Summarize %+v, Evaluate %+v", p.Name, sum, want)
		}
	}
}
