package evaluation

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/migrations"
	"github.com/cityops/cityops/tenants"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the bulk load and the floor
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"
)

// The benchmarks run only with -bench, on PostgreSQL. Sizes are set by environment variables so
// that the big fixtures are built only when asked:
//
//	CITYOPS_BENCH_EVAL_CASES     histories BenchmarkEvaluate grows one county through, in order
//	                             (default "100000"; docs/benchmarks.md: "100000,300000,1000000")
//	CITYOPS_BENCH_EVAL_COUNTIES  counties of BenchmarkEvaluateCounties (default 10: 楚雄州's; up to
//	                             129: Yunnan's, under their prefectures)
//	CITYOPS_BENCH_EVAL_PER_COUNTY cases per county there (default 100000)
//
// The history spans 2023-01-01 to 2025-12-31 (China time) evenly, so a month holds ~1/36 of it;
// the clock stands at 2026-03-01, after every event.

// benchNow is the benchmarks' clock: every period counted is over.
var benchNow = time.Date(2026, 3, 1, 0, 0, 0, 0, clock.China)

func envInts(name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			panic(fmt.Sprintf("%s: %q is not a list of positive numbers", name, v))
		}
		out = append(out, n)
	}
	return out
}

// benchEnv is a PostgreSQL store with the evaluation's migrations, the prefecture 楚雄州 and some
// of its counties, and a superuser connection to the same database for the bulk load.
type benchEnv struct {
	store      *tenants.Store
	pg         testdb.PG
	admin      *sql.DB
	counties   []*tenants.Tenant
	seeded     []int // cases seeded in each county
	prefecture *tenants.Tenant
}

func newBenchEnv(b testing.TB, counties int) *benchEnv {
	b.Helper()
	pg := testdb.Postgres(b)
	migs, err := migrations.LoadFS(files, "migrations/postgres", "evaluation")
	if err != nil {
		b.Fatal(err)
	}
	s, err := tenants.Open(tenants.Config{DataDir: b.TempDir(), DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix,
		Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}, Migrations: migs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.MigrateControl(ctx); err != nil {
		b.Fatal(err)
	}
	admin, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close() })
	p := tenants.NewProvisioner(s)
	zhou, err := p.Provision(ctx, tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"})
	if err != nil {
		b.Fatal(err)
	}
	// 楚雄州's counties first, then those of Yunnan's other prefectures (each provisioned as their
	// parent): a province's 129.
	ds, err := s.FindDivisions(ctx, tenants.DivisionFilter{Province: "53"})
	if err != nil {
		b.Fatal(err)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].ParentCode == "532300" && ds[j].ParentCode != "532300" })
	e := &benchEnv{store: s, pg: pg, admin: admin, prefecture: zhou.Tenant}
	parents := map[string]string{"532300": "chuxiong-zhou"}
	for _, d := range ds {
		if len(e.counties) == counties {
			break
		}
		if d.Level == tenants.LevelPrefecture || d.ParentCode == "" {
			continue
		}
		parent, ok := parents[d.ParentCode]
		if !ok {
			pd, err := s.FindDivisionByCode(ctx, d.ParentCode)
			if err != nil {
				b.Fatal(err)
			}
			parent = "p" + pd.Code
			if _, err := p.Provision(ctx, tenants.NewTenant{Slug: parent, NameZH: pd.NameZH, Kind: tenants.Prefecture, AdminCode: pd.Code}); err != nil {
				b.Fatalf("provision %s: %v", pd.Code, err)
			}
			parents[d.ParentCode] = parent
		}
		res, err := p.Provision(ctx, tenants.NewTenant{Slug: "c" + d.Code, NameZH: d.NameZH, Kind: d.Kind(), AdminCode: d.Code, ParentSlug: parent})
		if err != nil {
			b.Fatalf("provision %s: %v", d.Code, err)
		}
		e.counties = append(e.counties, res.Tenant)
		e.seeded = append(e.seeded, 0)
	}
	if len(e.counties) < counties {
		b.Fatalf("Yunnan has %d county-level divisions, %d asked", len(e.counties), counties)
	}
	return e
}

// dropTotals deletes the stored totals of the first k counties, so that a cold comparison counts.
func (e *benchEnv) dropTotals(b testing.TB, k int) {
	for i := range k {
		if err := e.store.Tx(e.ctx(i), tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("DELETE FROM evaluation_totals").Exec(ctx)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func (e *benchEnv) ctx(i int) context.Context {
	return tenants.WithScope(context.Background(), tenants.SystemScope(e.counties[i]))
}

// A case runs one of these loops (variant: share of cases): the plain loop, and voids,
// self-handling, verification, rework after a failed check, a return (回退) and redispatch, an
// extension. Post "reporter" is the inspector for patrol reports, else the acceptor; alt marks
// the second department's dispatch; fail the failed check.
type benchStep struct {
	action, from, to, post string
	alt, fail              bool
}

var (
	stReport    = benchStep{action: "report", to: "reported", post: "reporter"}
	stAccept    = benchStep{action: "accept", from: "reported", to: "accepted", post: "acceptor"}
	stFile      = benchStep{action: "file", from: "accepted", to: "filed", post: "shift_lead"}
	stDispatch  = benchStep{action: "dispatch", from: "filed", to: "dispatched", post: "dispatcher"}
	stTake      = benchStep{action: "take", from: "dispatched", to: "handling", post: "handler"}
	stFeedback  = benchStep{action: "feedback", from: "handling", to: "fed_back", post: "handler"}
	stSendCheck = benchStep{action: "send_check", from: "fed_back", to: "checking", post: "acceptor"}
	stCheck     = benchStep{action: "check", from: "checking", to: "checked", post: "inspector"}
	stClose     = benchStep{action: "close", from: "checked", to: "closed", post: "shift_lead"}
	tail        = []benchStep{stTake, stFeedback, stSendCheck, stCheck, stClose}
	benchLoops  = []struct {
		per1000 int
		steps   []benchStep
	}{
		{30, []benchStep{stReport, {action: "void", from: "reported", to: "voided", post: "acceptor"}}},
		{30, []benchStep{{action: "self_handle", to: "closed", post: "inspector"}}},
		{50, slices.Concat([]benchStep{stReport, {action: "send_verify", from: "reported", to: "verifying", post: "acceptor"},
			{action: "verify", from: "verifying", to: "accepted", post: "inspector"}, stFile, stDispatch}, tail)},
		{80, slices.Concat([]benchStep{stReport, stAccept, stFile, stDispatch, stTake, stFeedback, stSendCheck,
			{action: "check", from: "checking", to: "checked", post: "inspector", fail: true},
			{action: "rework", from: "checked", to: "dispatched", post: "shift_lead"}}, tail)},
		{60, slices.Concat([]benchStep{stReport, stAccept, stFile, stDispatch,
			{action: "request_return", from: "dispatched", to: "return_requested", post: "handler"},
			{action: "approve_return", from: "return_requested", to: "filed", post: "dispatcher"},
			{action: "dispatch", from: "filed", to: "dispatched", post: "dispatcher", alt: true}}, tail)},
		{70, []benchStep{stReport, stAccept, stFile, stDispatch, stTake,
			{action: "request_extension", from: "handling", to: "extension_requested", post: "handler"},
			{action: "approve_extension", from: "extension_requested", to: "handling", post: "shift_lead"},
			stFeedback, stSendCheck, stCheck, stClose}},
		{1000, []benchStep{stReport, stAccept, stFile, stDispatch, stTake, stFeedback, stSendCheck, stCheck, stClose}},
	}
)

// seedSQL is the two statements that add the cases with seq in ($1, $2] to schema and their
// history: set-based, every attribute a hash of seq.
func seedSQL(schema, code string) (casesQ, eventsQ string) {
	var variant, steps, versions strings.Builder
	variant.WriteString("CASE")
	acc := 0
	for v, l := range benchLoops {
		if v < len(benchLoops)-1 {
			acc += l.per1000
			fmt.Fprintf(&variant, " WHEN (SEQ::bigint * 40503) %% 1000 < %d THEN %d", acc, v)
		} else {
			fmt.Fprintf(&variant, " ELSE %d END", v)
		}
		fmt.Fprintf(&versions, " WHEN %d THEN %d", v, len(l.steps))
		for i, s := range l.steps {
			if steps.Len() > 0 {
				steps.WriteString(", ")
			}
			fmt.Fprintf(&steps, "(%d, %d, '%s', '%s', '%s', '%s', %t, %t)", v, i+1, s.action, s.from, s.to, s.post, s.alt, s.fail)
		}
	}
	variantOf := func(seq string) string { return strings.ReplaceAll(variant.String(), "SEQ", seq) }
	q := dbx.QuoteIdent(schema)
	id := func(kind, n string) string { return "md5('" + kind + "' || (" + n + "))::uuid::text" }
	// v7 is a UUIDv7 as the case loop makes them (uuid.NewV7): the milliseconds of at first, so
	// that a period's cases and events sit together in the indexes that start with their ids.
	v7 := func(at, seed string) string {
		h := "lpad(to_hex((extract(epoch FROM " + at + ") * 1000)::bigint), 12, '0')"
		m := "md5(" + seed + ")"
		return "substr(" + h + ", 1, 8) || '-' || substr(" + h + ", 9, 4) || '-7' || substr(" + m + ", 1, 3) || '-8' || substr(" + m + ", 4, 3) || '-' || substr(" + m + ", 7, 12)"
	}
	dept1, dept2 := id("dept", "(i * 11) % 20"), id("dept", "(i * 11 + 1) % 20")
	// Cases: created evenly over 2023–2025 (a permutation of the seconds of 1,095 days), one of
	// 200 unit grids (5 streets × 8 communities × 5 units), the grid's inspector, ~2/3
	// components, 50 classes; half reported on patrol.
	casesQ = `INSERT INTO ` + q + `.cases (id, number, seq, state, version, source, kind, class_code, lon, lat, grid_code,
		inspector_id, reported_by, department_id, limit_amount, limit_unit, clock_start, deadline_at, clock_stopped_at,
		overdue, created_at, updated_at, closed_at)
	SELECT ` + v7("t0", "'case' || i") + `, '` + code + `-' || lpad(i::text, 8, '0'), i, CASE v WHEN 0 THEN 'voided' ELSE 'closed' END,
		CASE v` + versions.String() + ` END,
		CASE WHEN v = 1 OR (i * 17) % 100 < 50 THEN 'inspector' WHEN (i * 17) % 100 < 75 THEN 'hotline' WHEN (i * 17) % 100 < 90 THEN 'citizen' ELSE 'wechat' END,
		CASE WHEN i % 3 = 0 THEN 'event' ELSE 'component' END, lpad(((i * 7) % 50 + 1)::text, 4, '0'),
		101.5 + g * 0.001, 25.0 + (i % 97) * 0.0001,
		'` + code + `' || lpad((g / 40 + 1)::text, 3, '0') || lpad(((g / 5) % 8 + 1)::text, 3, '0') || lpad((g % 5 + 1)::text, 2, '0'),
		` + id("insp", "g % 40") + `, 'bench',
		CASE WHEN v IN (0, 1) THEN NULL WHEN v = 4 THEN ` + dept2 + ` ELSE ` + dept1 + ` END,
		CASE WHEN v IN (0, 1) THEN NULL ELSE 5 END, CASE WHEN v IN (0, 1) THEN NULL ELSE 'workday' END,
		CASE WHEN v IN (0, 1) THEN NULL ELSE t0 + h * 3 END, CASE WHEN v IN (0, 1) THEN NULL ELSE t0 + interval '4 days' END,
		CASE WHEN v IN (0, 1) THEN NULL ELSE t0 + h * 6 END,
		v > 1 AND (i * 29) % 100 < 8, t0, t0 + h * 13, CASE WHEN v = 0 THEN NULL ELSE t0 + h * 13 END
	FROM (SELECT i, ` + variantOf("i") + ` AS v, (i * 7919) % 200 AS g,
			timestamptz '2023-01-01 00:00:00+08' + ((i::bigint * 2654435761) % 94608000) * interval '1 second' AS t0,
			(2 + i % 7) * interval '1 hour' AS h
		FROM generate_series($1::bigint + 1, $2::bigint) AS i) x
	ORDER BY t0`
	// Events: one per step of the case's loop, (2 + seq % 7) hours apart, appended in time order
	// as the history is; every event but the report ends a stage (its limit, start, deadline and
	// lateness, overdue ~10 %, as the case loop records them), and the actions that move the
	// disposal clock record the deadline after them.
	rfc := func(ts string) string {
		return `to_char((` + ts + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	}
	actor := `CASE s.post WHEN 'reporter' THEN CASE WHEN c.source = 'inspector' THEN c.inspector_id ELSE ` + id("acc", "i % 6") + ` END
			WHEN 'inspector' THEN c.inspector_id WHEN 'acceptor' THEN ` + id("acc", "i % 6") + `
			WHEN 'shift_lead' THEN ` + id("lead", "i % 4") + ` WHEN 'dispatcher' THEN ` + id("disp", "i % 4") + `
			ELSE ` + id("hand", "CASE WHEN v = 4 AND s.step > 6 THEN (i * 11 + 1) % 20 ELSE (i * 11) % 20 END") + ` END`
	eventsQ = `INSERT INTO ` + q + `.case_events (id, case_id, version, action, from_state, to_state, actor_id, actor_email, post, detail, at)
	SELECT ` + v7("ev.at", "ev.case_id || '/' || ev.version") + `, ev.* FROM (
	SELECT c.id AS case_id, s.step AS version, s.action, s.from_state, s.to_state, a.actor, a.actor || '@bench.cn',
		CASE s.post WHEN 'reporter' THEN CASE WHEN c.source = 'inspector' THEN 'inspector' ELSE 'acceptor' END ELSE s.post END,
		(CASE WHEN s.from_state = '' THEN '{}'::jsonb ELSE jsonb_build_object('stage', jsonb_build_object(
			'stage', CASE s.from_state WHEN 'reported' THEN 'accept' WHEN 'verifying' THEN 'verify' WHEN 'accepted' THEN 'file'
				WHEN 'filed' THEN 'dispatch' WHEN 'fed_back' THEN 'send_check' WHEN 'checking' THEN 'check' WHEN 'checked' THEN 'close'
				ELSE 'handle' END,
			'limit', CASE WHEN s.from_state IN ('dispatched', 'handling') THEN '{"amount":5,"unit":"workday"}'::jsonb
				ELSE '{"amount":0.5,"unit":"workhour"}'::jsonb END,
			'started_at', ` + rfc("t.at - t.hh") + `, 'deadline', ` + rfc("t.at - t.hh + interval '30 minutes'") + `,
			'overdue', (i * 31 + s.step * 17) % 100 < 10, 'overtime_multiple', 0)) END
		|| CASE s.action WHEN 'dispatch' THEN jsonb_build_object('department_id', CASE WHEN s.alt THEN ` + dept2 + ` ELSE ` + dept1 + ` END,
				'deadline', ` + rfc("t.at + interval '3 days'") + `)
			WHEN 'approve_return' THEN jsonb_build_object('returned_by', ` + dept1 + `, 'deadline', NULL::text)
			WHEN 'approve_extension' THEN jsonb_build_object('deadline', ` + rfc("t.at + interval '5 days'") + `)
			WHEN 'rework' THEN jsonb_build_object('deadline', ` + rfc("t.at + interval '2 days'") + `)
			WHEN 'feedback' THEN jsonb_build_object('deadline', NULL::text)
			WHEN 'check' THEN jsonb_build_object('passed', NOT s.fail) ELSE '{}'::jsonb END)::text,
		t.at
	FROM (SELECT c.*, c.seq AS i, ` + variantOf("c.seq") + ` AS v FROM ` + q + `.cases c WHERE c.seq > $1 AND c.seq <= $2) c
	JOIN (VALUES ` + steps.String() + `) AS s(variant, step, action, from_state, to_state, post, alt, fail) ON s.variant = c.v
	CROSS JOIN LATERAL (SELECT c.created_at + (s.step - 1) * (2 + i % 7) * interval '1 hour' AS at, (2 + i % 7) * interval '1 hour' AS hh) t
	CROSS JOIN LATERAL (SELECT ` + actor + ` AS actor) a) ev
	ORDER BY ev.at`
	return casesQ, eventsQ
}

// grow seeds county i up to n cases (the cases are added evenly over the same three years, so
// every history's month holds ~n/36) and analyzes its tables. Seeded at once, the rows lie in
// time order as a live history's do; grown in steps, each step's rows lie after the last's.
func (e *benchEnv) grow(b testing.TB, i, n int) {
	b.Helper()
	if e.seeded[i] >= n {
		return
	}
	start := time.Now()
	ctx := context.Background()
	conn, err := e.admin.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	t := e.counties[i]
	casesQ, eventsQ := seedSQL(t.SchemaName, t.AdminCode)
	schema := dbx.QuoteIdent(t.SchemaName)
	// The load skips the foreign key check and the append-only triggers (session_replication_role)
	// and builds case_events' secondary indexes (those not behind a constraint) once, after the
	// rows, as the migrations define them.
	var defs string
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(string_agg(indexdef, E'\n'), '') FROM pg_indexes i
		WHERE schemaname = $1 AND tablename = 'case_events'
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = $1::regnamespace)`,
		t.SchemaName).Scan(&defs); err != nil {
		b.Fatalf("case_events' indexes: %v", err)
	}
	var indexes []string
	if defs != "" {
		indexes = strings.Split(defs, "\n")
	}
	for _, def := range indexes {
		f := strings.Fields(def) // CREATE [UNIQUE] INDEX name ON …
		name := f[slices.Index(f, "ON")-1]
		if _, err := conn.ExecContext(ctx, "DROP INDEX "+schema+"."+name); err != nil {
			b.Fatalf("drop %s: %v", name, err)
		}
	}
	for _, q := range []string{
		"SET session_replication_role = replica",
		"SET maintenance_work_mem = '512MB'",
		"SET work_mem = '1GB'",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, casesQ, e.seeded[i], n); err != nil {
		b.Fatalf("seed cases: %v", err)
	}
	mid := time.Now()
	if _, err := conn.ExecContext(ctx, eventsQ, e.seeded[i], n); err != nil {
		b.Fatalf("seed events: %v", err)
	}
	ev := time.Now()
	for _, q := range append(indexes,
		"ANALYZE "+schema+".cases",
		"ANALYZE "+schema+".case_events",
		"VACUUM "+schema+".case_events", // the visibility map, as a settled history has it
	) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	var events int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+schema+".case_events").Scan(&events); err != nil {
		b.Fatal(err)
	}
	b.Logf("county %s: %d → %d cases, %d events (%.2f per case) in %s (cases %s, events %s, indexes+analyze %s)",
		t.AdminCode, e.seeded[i], n, events, float64(events)/float64(n), time.Since(start).Round(time.Millisecond),
		mid.Sub(start).Round(time.Millisecond), ev.Sub(mid).Round(time.Millisecond), time.Since(ev).Round(time.Millisecond))
	e.seeded[i] = n
}

func sizeLabel(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// timings collects durations and reports their median.
type timings []time.Duration

func (t timings) median() time.Duration {
	s := slices.Clone(t)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkEvaluate counts one county's month (and a quarter and a year) cold, the month warm,
// and the month's floor: the same statements through psql, in the same run, interleaved with the
// cold counts. Each history of CITYOPS_BENCH_EVAL_CASES is a county of its own.
func BenchmarkEvaluate(b *testing.B) {
	sizes := envInts("CITYOPS_BENCH_EVAL_CASES", []int{100_000})
	e := newBenchEnv(b, len(sizes))
	periods := []Period{Month(2025, 6), Quarter(2025, 2), Year(2025)}
	for ci, n := range sizes {
		b.Run("cases="+sizeLabel(n), func(b *testing.B) {
			ctx := e.ctx(ci)
			e.grow(b, ci, n)
			e.hold(b, ci, periods[0])
			for pi, p := range periods {
				name := []string{"month", "quarter", "year"}[pi]
				b.Run(name+"/cold", func(b *testing.B) {
					floor := pi == 0
					var cold, server, wall, read timings
					var f *Figures
					floors := func() {
						b.StopTimer()
						sv, w := e.psqlFloor(b, ci, p, true)
						server, wall = append(server, sv), append(wall, w)
						rd, _ := e.psqlFloor(b, ci, p, false)
						read = append(read, rd)
						b.StartTimer()
					}
					for i := 0; i < b.N; i++ {
						if floor && i%2 == 1 {
							floors()
						}
						start := time.Now()
						var err error
						if f, err = NewService(e.store, func() time.Time { return benchNow }).Evaluate(ctx, p); err != nil {
							b.Fatal(err)
						}
						cold = append(cold, time.Since(start))
						if floor && i%2 == 0 {
							floors()
						}
					}
					b.ReportMetric(ms(cold.median()), "median-ms")
					if floor {
						b.ReportMetric(ms(server.median()), "floor-ms")
						b.ReportMetric(ms(wall.median()), "psql-wall-ms")
						b.ReportMetric(ms(cold.median())/ms(server.median()), "x-floor")
						b.ReportMetric(ms(read.median()), "read-ms")
						b.ReportMetric(ms(cold.median())/ms(read.median()), "x-read")
						e.sameAsSQL(b, ci, p)
					}
					b.Logf("%s: reported %d, filed %d, closed %d (on time %d); %d grids, %d departments, %d dispatchers",
						p.Name, f.Reported, f.Filed, f.Closed, f.ClosedOnTime, len(f.Rankings[Grids].Rows),
						len(f.Rankings[Departments].Rows), len(f.Rankings[Dispatchers].Rows))
				})
				if pi == 0 {
					b.Run(name+"/warm", func(b *testing.B) {
						s := NewService(e.store, func() time.Time { return benchNow })
						if _, err := s.Evaluate(ctx, p); err != nil {
							b.Fatal(err)
						}
						for b.Loop() {
							if _, err := s.Evaluate(ctx, p); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}

// BenchmarkEvaluateCounties compares one month of 1 and of all the counties of a prefecture
// (CITYOPS_BENCH_EVAL_COUNTIES × CITYOPS_BENCH_EVAL_PER_COUNTY cases) as the prefecture's page
// does (CompareUnits: each county's month with its trends), cold and warm, and evaluates each
// county's month alone, at most unitWorkers at once as the comparison does, and one after the
// other.
func BenchmarkEvaluateCounties(b *testing.B) {
	counties := envInts("CITYOPS_BENCH_EVAL_COUNTIES", []int{10})[0]
	per := envInts("CITYOPS_BENCH_EVAL_PER_COUNTY", []int{100_000})[0]
	e := newBenchEnv(b, counties)
	for i := range counties {
		e.grow(b, i, per)
	}
	p := Month(2025, 6)
	evaluate := func(b *testing.B, s *Service, i int) {
		if _, err := s.Evaluate(e.ctx(i), p); err != nil {
			b.Error(err)
		}
	}
	// compare is the prefecture's comparison of the first k counties: each county's month, the
	// month before and the same month a year before, ranked.
	compare := func(b *testing.B, s *Service, k int) {
		var scopes []*tenants.Scope
		for _, t := range e.counties[:k] {
			scopes = append(scopes, &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true})
		}
		ctx := tenants.WithScope(context.Background(), tenants.SystemScope(e.prefecture))
		cmp, err := s.CompareUnits(ctx, scopes, p, func(context.Context, *tenants.Scope) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range cmp.Units {
			if u.Unavailable || u.Counts["filed"] == 0 {
				b.Fatalf("county %s: unavailable %v, %v", u.Key, u.Unavailable, u.Counts)
			}
		}
	}
	newService := func() *Service { return NewService(e.store, func() time.Time { return benchNow }) }
	ks := []int{1, counties}
	if counties > 10 {
		ks = []int{1, 10, counties}
	}
	for _, k := range ks {
		b.Run(fmt.Sprintf("counties=%d/compare/cold", k), func(b *testing.B) {
			for b.Loop() {
				compare(b, newService(), k)
			}
		})
		b.Run(fmt.Sprintf("counties=%d/compare/warm", k), func(b *testing.B) {
			s := newService()
			compare(b, s, k)
			for b.Loop() {
				compare(b, s, k)
			}
		})
		// stored: a process with nothing in memory, the counties' totals of the three months
		// stored by the loop (StoreTotals): what a prefecture's comparison of ended months costs.
		b.Run(fmt.Sprintf("counties=%d/compare/stored", k), func(b *testing.B) {
			s := newService()
			for i := range k {
				for _, q := range []Period{p, p.Previous(), p.YearBefore()} {
					if _, err := s.StoreTotals(e.ctx(i), q); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Cleanup(func() { e.dropTotals(b, k) })
			for b.Loop() {
				compare(b, newService(), k)
			}
		})
		// running: the month still running (now is 2025-06-20 10:00), nothing in memory, the
		// month before and the same month a year before stored by the loop, and the running
		// month as its last pass, a loop interval before, stored it: the first visit of the
		// prefecture's page to the current month after a restart. running/counted: the running
		// month without a stored row (a county the loop has not reached), counted up to now.
		midJune := time.Date(2025, 6, 20, 10, 0, 0, 0, clock.China)
		for _, pass := range []bool{true, false} {
			name := "running"
			if !pass {
				name = "running/counted"
			}
			b.Run(fmt.Sprintf("counties=%d/compare/%s", k, name), func(b *testing.B) {
				s := NewService(e.store, func() time.Time { return midJune })
				last := NewService(e.store, func() time.Time { return midJune.Add(-totalsInterval) })
				for i := range k {
					for _, q := range []Period{p.Previous(), p.YearBefore()} {
						if _, err := s.StoreTotals(e.ctx(i), q); err != nil {
							b.Fatal(err)
						}
					}
					if !pass {
						continue
					}
					if _, err := last.StoreTotals(e.ctx(i), p); err != nil {
						b.Fatal(err)
					}
				}
				b.Cleanup(func() { e.dropTotals(b, k) })
				for b.Loop() {
					compare(b, NewService(e.store, func() time.Time { return midJune }), k)
				}
			})
		}
		b.Run(fmt.Sprintf("counties=%d/month/concurrent/cold", k), func(b *testing.B) {
			for b.Loop() {
				s := newService()
				var g errgroup.Group
				g.SetLimit(unitWorkers)
				for i := range k {
					g.Go(func() error { evaluate(b, s, i); return nil })
				}
				_ = g.Wait()
			}
		})
		b.Run(fmt.Sprintf("counties=%d/month/sequential/cold", k), func(b *testing.B) {
			for b.Loop() {
				s := newService()
				for i := range k {
					evaluate(b, s, i)
				}
			}
		})
	}
}

// floorScript is, for psql, the statements of a cold Evaluate of p in county i with their
// arguments written in, as one read-only transaction: the scheme, the newest event, the sources and
// classes, the names, and the counts — either as the hand-written SQL aggregates of
// floor_sql_test.go (aggregates true: the floor) or as the statement the fold reads the period's
// histories by (aggregates false: what the module reads, without its Go side).
func (e *benchEnv) floorScript(b testing.TB, i int, p Period, aggregates bool) string {
	var sb strings.Builder
	t := e.counties[i]
	fmt.Fprintf(&sb, "SET search_path TO %s, ref;\n\\o /dev/null\n\\timing on\nBEGIN READ ONLY;\n", dbx.QuoteIdent(t.SchemaName))
	err := e.store.Tx(e.ctx(i), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		from, to := p.From.UTC(), p.To.UTC()
		day := clock.StartOfDay(p.From).In(clock.China).Format(time.DateOnly)
		qs := []string{
			db.NewRaw("SELECT * FROM evaluation_schemes WHERE effective_from <= ? ORDER BY effective_from DESC LIMIT 1", day).String(),
			db.NewRaw("SELECT COALESCE(max(at), ?) FROM case_events", time.Unix(0, 0).UTC()).String(),
		}
		if aggregates {
			qs = append(qs, noJIT)
			for _, s := range sqlSpecs(sqlDialect{pg: true}) {
				qs = append(qs, db.NewRaw(s.aggregate(), from, to).String())
			}
		} else {
			qs = append(qs, noJIT, db.NewRaw(sqlDialect{pg: true}.historiesQuery(everything), from, to).String())
		}
		qs = append(qs,
			db.NewRaw("SELECT source, count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? GROUP BY source", from, to).String(),
			db.NewRaw("SELECT kind, class_code, count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? GROUP BY kind, class_code", from, to).String(),
			"SELECT code AS k, name AS v FROM grids",
			"SELECT id AS k, name AS v FROM departments",
			"SELECT identity_id AS k, name AS v FROM staff WHERE identity_id IS NOT NULL")
		for _, q := range qs {
			sb.WriteString(strings.ReplaceAll(q, "\n", " ") + ";\n")
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	sb.WriteString("COMMIT;\n")
	return sb.String()
}

var timingRe = regexp.MustCompile(`Time: ([0-9.]+) ms`)

// psqlFloor runs floorScript through psql and returns the sum of the statements' times as psql
// measured them (\timing: from sending each statement to its last row) and the wall time of the
// whole psql run (process start and connection included).
func (e *benchEnv) psqlFloor(b testing.TB, i int, p Period, aggregates bool) (server, wall time.Duration) {
	script := e.floorScript(b, i, p, aggregates)
	cmd := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", e.pg.DSN)
	cmd.Stdin = strings.NewReader(script)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("psql: %v\n%s", err, errOut.String())
	}
	wall = time.Since(start)
	ms := timingRe.FindAllStringSubmatch(out.String(), -1)
	if len(ms) < 10 {
		b.Fatalf("psql: %d timings in %q", len(ms), out.String())
	}
	var sum float64
	for _, m := range ms {
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
	}
	return time.Duration(sum * float64(time.Millisecond)), wall
}

// hold, when CITYOPS_BENCH_EVAL_HOLD is a duration, writes the floor script of p in county i to
// $TMPDIR/evaluation-floor.sql, logs the database's DSN and waits that long: time to EXPLAIN the
// statements against the seeded history with psql.
func (e *benchEnv) hold(b testing.TB, i int, p Period) {
	d, err := time.ParseDuration(os.Getenv("CITYOPS_BENCH_EVAL_HOLD"))
	if err != nil || d <= 0 {
		return
	}
	path := os.TempDir() + "/evaluation-floor.sql"
	if err := os.WriteFile(path, []byte(e.floorScript(b, i, p, true)+e.floorScript(b, i, p, false)), 0o600); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "holding %s: psql %q -f %s\n", d, e.pg.DSN, path)
	time.Sleep(d)
}

// TestFiguresOnBenchHistory, when CITYOPS_EVAL_FIGURES names a file, evaluates a month, a
// quarter and a year of a 30,000-case benchmark history and writes the figures there as JSON:
// run it before and after changing the counting SQL, the two files must be the same.
func TestFiguresOnBenchHistory(t *testing.T) {
	path := os.Getenv("CITYOPS_EVAL_FIGURES")
	if path == "" {
		t.Skip("CITYOPS_EVAL_FIGURES is not set")
	}
	e := newBenchEnv(t, 1)
	e.grow(t, 0, 30_000)
	s := NewService(e.store, func() time.Time { return benchNow })
	var all []*Figures
	for _, p := range []Period{Month(2025, 6), Month(2024, 2), Quarter(2025, 2), Year(2024)} {
		f, err := s.Evaluate(e.ctx(0), p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	out, err := json.MarshalIndent(all, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}
