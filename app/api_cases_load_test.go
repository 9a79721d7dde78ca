package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the floor's table
)

// loadCounties are the ten county tenants of BenchmarkCaseLoad: the nine of 楚雄州 that
// MustBootApp leaves, and 大理市, which has no parent tenant (楚雄州 has only ten county-level
// divisions); the first holds the CITYOPS_BENCH_CASES seeded cases.
var loadCounties = []struct{ slug, code, parent string }{
	{"shuangbai", "532322", "chuxiong-zhou"}, {"mouding", "532323", "chuxiong-zhou"}, {"nanhua", "532324", "chuxiong-zhou"},
	{"yaoan", "532325", "chuxiong-zhou"}, {"dayao", "532326", "chuxiong-zhou"}, {"yongren", "532327", "chuxiong-zhou"},
	{"yuanmou", "532328", "chuxiong-zhou"}, {"wuding", "532329", "chuxiong-zhou"}, {"lufeng", "532302", "chuxiong-zhou"},
	{"dali", "532901", ""},
}

// BenchmarkCaseLoad is the case loop under concurrent load over real HTTP on PostgreSQL: ten
// active county tenants, CITYOPS_BENCH_CASES cases (default 20000) seeded into the first, the app
// served on a loopback listener and driven by CITYOPS_LOAD_CLIENTS closed-loop keep-alive
// clients (default 16) for CITYOPS_LOAD_SECONDS (default 10) per phase: (a) POST /cases spread
// over the ten tenants, (b) the first page of a grid+state filtered list on the big tenant. The
// floor is pgbench on the same server in the same run, a single-row INSERT script with the same
// client count and duration; a second floor is pgbench doing a report's own writes (counter,
// case, event in one transaction, reportFloorScript). The list is also timed with a single client, for its latency
// without queueing. docs/cases.md ("Load over HTTP") has the figures. Run with
// -benchtime=1x: each call runs the whole scenario once.
func BenchmarkCaseLoad(b *testing.B) {
	n := envInt("CITYOPS_BENCH_CASES", 20_000)
	clients := envInt("CITYOPS_LOAD_CLIENTS", 16)
	dur := time.Duration(envInt("CITYOPS_LOAD_SECONDS", 10)) * time.Second
	const maxRequests = 2_000_000 // per phase, on top of the time bound

	a, _, _ := MustBootApp(b, "postgres")
	ctx := context.Background()
	id, tok := benchAccount(b, a)
	var ts []*tenants.Tenant
	for _, c := range loadCounties {
		p, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: c.slug, NameZH: c.slug, Kind: tenants.County, AdminCode: c.code, ParentSlug: c.parent})
		if err != nil {
			b.Fatal(err)
		}
		benchTenant(b, a, p.Tenant, id, tok)
		ts = append(ts, p.Tenant)
	}
	big := ts[0]
	seedCases(b, a, big, n)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go a.fiber.Listener(lingering(ln, new(tasks.Group)))
	b.Cleanup(func() { a.fiber.Shutdown() })
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute,
	}}
	send := func(method, url, body string) error {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, url, r)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, got)
		}
		return nil
	}

	// (a) creation: client i starts at tenant i and moves to the next tenant after each request.
	create := func(worker, k int) error {
		t := ts[(worker+k)%len(ts)]
		return send("POST", base+"/api/v1/t/"+t.Slug+"/cases", reportA)
	}
	// (b) the first page of a filtered list on the big tenant (the benchmark's creations are
	// 'reported', so the page is the seeded cases'; the states alternate).
	listStates := []string{"handling", "dispatched"}
	list := func(worker, k int) error {
		return send("GET", fmt.Sprintf("%s/api/v1/t/%s/cases?grid=%s00100101&state=%s&limit=50",
			base, big.Slug, big.AdminCode, listStates[(worker+k)%len(listStates)]), "")
	}

	b.ResetTimer()
	for b.Loop() {
		runLoad(b, "warm-up", clients, 2*time.Second, maxRequests, create)
		c := runLoad(b, "create", clients, dur, maxRequests, create)
		runLoad(b, "warm-up", clients, 2*time.Second, maxRequests, list)
		l := runLoad(b, "list", clients, dur, maxRequests, list)
		l1 := runLoad(b, "list, one client", 1, dur, maxRequests, list)
		tps := pgbenchInsert(b, a.cfg.DatabaseURL, clients, dur)
		rtps := pgbench(b, a.cfg.DatabaseURL, "report's writes (counter, case, event)", reportFloorScript, clients, dur)

		b.ReportMetric(c.rps, "create_req/s")
		b.ReportMetric(c.p50, "create_p50_ms")
		b.ReportMetric(c.p99, "create_p99_ms")
		b.ReportMetric(l.rps, "list_req/s")
		b.ReportMetric(l.p50, "list_p50_ms")
		b.ReportMetric(l.p99, "list_p99_ms")
		b.ReportMetric(l1.p99, "list_1client_p99_ms")
		if tps > 0 {
			b.ReportMetric(tps, "pgbench_insert_tps")
			b.ReportMetric(c.rps/tps, "create/pgbench")
		}
		if rtps > 0 {
			b.ReportMetric(rtps, "pgbench_report_tps")
			b.ReportMetric(c.rps/rtps, "create/pgbench_report")
		}
	}
}

type loadResult struct {
	n             int
	rps, p50, p99 float64 // requests per second; latencies in milliseconds
}

// runLoad runs clients closed-loop workers calling do until d has passed or max calls were made,
// fails b on the first error, and returns the throughput and latency percentiles.
func runLoad(b *testing.B, name string, clients int, d time.Duration, max int64, do func(worker, k int) error) loadResult {
	var (
		issued   atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			for k := 0; time.Now().Before(deadline) && issued.Add(1) <= max; k++ {
				t0 := time.Now()
				err := do(w, k)
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					break
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatalf("%s: %v", name, firstErr)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	r := loadResult{n: len(lat), rps: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99)}
	b.Logf("%s: %d requests in %s with %d clients: %.0f req/s, p50 %.2f ms, p99 %.2f ms",
		name, r.n, elapsed.Round(time.Millisecond), clients, r.rps, r.p50, r.p99)
	return r
}

var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// insertFloorScript is the floor: a single-row INSERT into a small table in the test database.
const insertFloorScript = "\\set t random(1, 10)\nINSERT INTO public.bench_floor (tenant, body) VALUES (:t, 'bench');\n"

// reportFloorScript is pgbench's version of a report's writes in a tenant schema: the year's
// counter, the case and its first event in one transaction, one statement each, spread over eight
// of the ten tenants (t_532322 … t_532329). It uses the year 2099 so that its numbers never meet
// the app's. It skips what the app also does (usage events, encryption, HTTP).
const reportFloorScript = `\set t random(22, 29)
BEGIN;
INSERT INTO t_5323:t.case_counters (year, last) VALUES (2099, 1) ON CONFLICT (year) DO UPDATE SET last = t_5323:t.case_counters.last + 1 RETURNING last \gset
INSERT INTO t_5323:t.cases (id, number, seq, state, version, source, kind, class_code, description, lon, lat, grid_code, reported_by, created_at, updated_at, stage, stage_started_at) VALUES (gen_random_uuid()::text, '5323:t-2099-' || lpad(:last::text, 6, '0'), 2099::bigint * 100000000 + :last, 'reported', 1, 'citizen', 'event', '0101', 'pgbench', 101.5, 25.0, '5323:t00100101', 'pgbench', now(), now(), 'accept', now()) RETURNING id \gset
INSERT INTO t_5323:t.case_events (id, case_id, version, action, from_state, to_state, actor_id, post, at) VALUES (gen_random_uuid()::text, ':id', 1, 'report', '', 'reported', 'pgbench', 'acceptor', now());
END;
`

// pgbenchInsert is the floor: pgbench on the same server, a single-row INSERT into a small table
// in the test database, with the load's client count and duration. It returns the tps, or 0
// (logged) when pgbench is not installed.
func pgbenchInsert(b *testing.B, dsn string, clients int, d time.Duration) float64 {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS public.bench_floor (id bigserial PRIMARY KEY, tenant int NOT NULL,
		body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	return pgbench(b, dsn, "single-row INSERT", insertFloorScript, clients, d)
}

// pgbench runs script with the load's client count and duration and returns its tps, or 0
// (logged) when pgbench is not installed.
func pgbench(b *testing.B, dsn, name, script string, clients int, d time.Duration) float64 {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		bin = "/usr/lib/postgresql/15/bin/pgbench"
		if _, err := os.Stat(bin); err != nil {
			b.Logf("no pgbench: the floor is not measured")
			return 0
		}
	}
	file := filepath.Join(b.TempDir(), "script.sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", file, "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench: no tps in\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	b.Logf("pgbench %s (%d clients, %s): %.0f tps", name, clients, d, tps)
	return tps
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
