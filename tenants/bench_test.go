package tenants

// Benchmarks for the foundation's scale goals: provisioning speed, the same DDL through psql as a
// floor, rolling a tenant migration out, and memory with many tenants touched. They run only with
// -bench; docs/benchmarks.md gives the command, the goals and the last figures.
//
// On PostgreSQL every benchmark logs in the way production does (docs/operations.md): as a login
// role with CREATEROLE that owns the database, not as a superuser, which would skip the
// role-membership checks that CREATE SCHEMA ... AUTHORIZATION, ALTER DEFAULT PRIVILEGES FOR ROLE and
// SET LOCAL ROLE make in production.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/migrations"
	"github.com/jackc/pgx/v5/pgconn"
)

// benchTenants returns the first n tenants of the GB/T 2260 divisions of ref.admin_divisions, in
// code order: each prefecture-level division followed by its county-level units (北京's 市辖区 and
// its 16 districts first), and the province-administered units (xx90xx) without a parent. 100
// tenants reach into 河北, 1,000 into 辽宁 or so; none reaches benchProbe.
func benchTenants(tb testing.TB, n int) []NewTenant {
	tb.Helper()
	ds, err := MustOpenSQLite(tb).FindDivisions(context.Background(), DivisionFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]NewTenant, 0, n)
	for _, d := range ds {
		if len(out) == n {
			break
		}
		if d.Code == benchProbe.AdminCode {
			tb.Fatalf("benchTenants(%d) reaches the probe %s", n, d.Code)
		}
		in := NewTenant{Slug: "c" + d.Code, NameZH: d.NameZH, NameEN: "Bench " + d.Code, Kind: d.Kind(), AdminCode: d.Code,
			FirstAdminEmail: "admin@c" + d.Code + ".example.cn"}
		if d.Level == LevelPrefecture {
			in.Slug, in.FirstAdminEmail = "p"+d.Code, "admin@p"+d.Code+".example.cn"
		} else if !strings.HasSuffix(d.ParentCode, "0000") {
			in.ParentSlug = "p" + d.ParentCode
		}
		out = append(out, in)
	}
	if len(out) < n {
		tb.Fatalf("benchTenants: at most %d tenants", len(out))
	}
	return out
}

// benchProbe is a tenant outside every benchTenants list: 阿勒泰地区, near the end of the codes.
var benchProbe = NewTenant{Slug: "p654300", NameZH: "阿勒泰地区", Kind: Prefecture, AdminCode: "654300"}

// benchDB is a fresh PostgreSQL database with the app's own login role.
type benchDB struct {
	testdb.PG
	// AppDSN logs in as <RolePrefix>_app: LOGIN CREATEROLE, owner of the database, no superuser.
	AppDSN string
	// Admin is a superuser connection to the same database, for what the app may not do.
	Admin *sql.DB
}

func benchPostgres(tb testing.TB) benchDB {
	tb.Helper()
	pg := testdb.Postgres(tb)
	admin, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	app := pg.RolePrefix + "_app"
	secret := make([]byte, 16)
	rand.Read(secret)
	password := hex.EncodeToString(secret)
	if _, err := admin.Exec("CREATE ROLE " + dbx.QuoteIdent(app) + " LOGIN CREATEROLE PASSWORD '" + password + "'"); err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("ALTER DATABASE " + dbx.QuoteIdent(pg.Database) + " OWNER TO " + dbx.QuoteIdent(app)); err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(pg.DSN)
	if err != nil {
		tb.Fatal(err)
	}
	u.User = url.UserPassword(app, password)
	return benchDB{PG: pg, AppDSN: u.String(), Admin: admin}
}

// benchOpenPostgres opens a migrated store on db as the app role.
func benchOpenPostgres(tb testing.TB, db benchDB) *Store {
	tb.Helper()
	return mustOpen(tb, Config{DatabaseURL: db.AppDSN, RolePrefix: db.RolePrefix, Passwords: testPasswords})
}

// stepTimes is how long each provisioning step took for one tenant. A step's time includes the
// bookkeeping UPDATE that recorded the step before it; "record" is the control transaction that
// validates the request and inserts the tenant and its audit entry.
type stepTimes map[string]time.Duration

// provisionAll provisions specs in order, one at a time, and returns the time of each Provision
// call and of its steps.
func provisionAll(tb testing.TB, p *Provisioner, specs []NewTenant) ([]time.Duration, []stepTimes) {
	tb.Helper()
	ctx := context.Background()
	calls := make([]time.Duration, 0, len(specs))
	steps := make([]stepTimes, 0, len(specs))
	var last time.Time
	var cur stepTimes
	// The crash hook runs after each step and before it is recorded; returning nil changes nothing.
	p.crash = func(step string) error {
		now := time.Now()
		cur[step] = now.Sub(last)
		last = now
		return nil
	}
	defer func() { p.crash = nil }()
	for _, in := range specs {
		cur = stepTimes{}
		start := time.Now()
		last = start
		res, err := p.Provision(ctx, in)
		calls = append(calls, time.Since(start))
		steps = append(steps, cur)
		if err != nil {
			tb.Fatalf("provision %s: %v", in.Slug, err)
		}
		if res.Tenant.Status != StatusActive {
			tb.Fatalf("provision %s: status %s, want active", in.Slug, res.Tenant.Status)
		}
	}
	return calls, steps
}

// quantile returns the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Sorted(slices.Values(ds))
	i := int(float64(len(ds))*q+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// hostLoad marks the start of a benchmark, to report how contended the machine's CPUs were while
// it ran: the share of wall time in which some runnable task waited for a CPU (Linux PSI "some").
// On a quiet machine it is near 0; figures taken above a few per cent are inflated by other load.
type hostLoad struct {
	at    time.Time
	stall time.Duration
}

func startHostLoad() hostLoad { return hostLoad{time.Now(), cpuStall()} }

func (h hostLoad) report(b *testing.B) {
	if h.stall < 0 {
		return
	}
	b.ReportMetric(100*float64(cpuStall()-h.stall)/float64(time.Since(h.at)), "host-cpu-stall-%")
}

// processCPU is the CPU time this process has used (user and system), or -1 where /proc is
// missing. It shows how much of a benchmark's wall time is spent in Go rather than waiting for
// PostgreSQL.
func processCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// The command name in parentheses may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// cpuStall reads the cumulative CPU pressure stall time, or -1 where PSI is not available.
func cpuStall() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	for _, f := range strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) {
		if v, ok := strings.CutPrefix(f, "total="); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return time.Duration(us) * time.Microsecond
		}
	}
	return -1
}

// BenchmarkProvision provisions 100 and 1,000 tenants on PostgreSQL, one after another, each run
// in a fresh database. Goals: median under 150 ms per tenant; 1,000 tenants under 3 minutes.
func BenchmarkProvision(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			load := startHostLoad()
			specs := benchTenants(b, n)
			var calls []time.Duration
			var steps []stepTimes
			var total, cpu time.Duration
			b.StopTimer()
			for range b.N {
				p := NewProvisioner(benchOpenPostgres(b, benchPostgres(b)))
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()
				c, st := provisionAll(b, p, specs)
				total += time.Since(start)
				cpu += processCPU() - cpu0
				b.StopTimer()
				calls, steps = append(calls, c...), append(steps, st...)
			}
			b.ReportMetric(ms(quantile(calls, 0.5)), "median-ms/tenant")
			b.ReportMetric(ms(quantile(calls, 0.95)), "p95-ms/tenant")
			b.ReportMetric(ms(quantile(calls, 0.99)), "p99-ms/tenant")
			b.ReportMetric(total.Seconds()/float64(b.N), "total-s")
			b.ReportMetric(ms(cpu)/float64(n*b.N), "go-cpu-ms/tenant")
			// Where the time goes: the median of each step.
			for _, name := range NewProvisioner(nil).StepNames() {
				var ds []time.Duration
				for _, st := range steps {
					ds = append(ds, st[name])
				}
				b.ReportMetric(ms(quantile(ds, 0.5)), name+"-ms/tenant")
			}
			// The trend: is the last tenth slower than the first?
			tenth := len(specs) / 10
			b.ReportMetric(ms(quantile(calls[:tenth], 0.5)), "first-tenth-median-ms")
			b.ReportMetric(ms(quantile(calls[len(specs)-tenth:len(specs)], 0.5)), "last-tenth-median-ms")
			load.report(b)
		})
	}
}

// floorTxs returns what the provisioning steps schema, migrate and seed execute for one tenant,
// statement for statement, as their three transactions. It mirrors createSchema, migrateTenant
// (migrations.Apply) and the seed step; BenchmarkProvisionFloorPsql checks that a tenant made by
// it matches one made by the Provisioner.
func floorTxs(rolePrefix string, in NewTenant, set []migrations.Migration) []string {
	schemaName := schemaFor(in.AdminCode)
	rwName := rolePrefix + "_" + schemaName
	schema, rw, ro := dbx.QuoteIdent(schemaName), dbx.QuoteIdent(rwName), dbx.QuoteIdent(rwName+"_ro")
	createSchema := fmt.Sprintf(`BEGIN;
SELECT pg_advisory_xact_lock(7032);
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%[4]s') THEN CREATE ROLE %[2]s NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%[4]s_ro') THEN CREATE ROLE %[3]s NOLOGIN; END IF;
END $$;
GRANT %[2]s, %[3]s TO CURRENT_USER;
CREATE SCHEMA IF NOT EXISTS %[1]s AUTHORIZATION %[2]s;
REVOKE ALL ON SCHEMA %[1]s FROM PUBLIC;
GRANT USAGE ON SCHEMA %[1]s TO %[3]s;
ALTER DEFAULT PRIVILEGES FOR ROLE %[2]s IN SCHEMA %[1]s GRANT SELECT ON TABLES TO %[3]s;
ALTER DEFAULT PRIVILEGES FOR ROLE %[2]s IN SCHEMA %[1]s GRANT SELECT ON SEQUENCES TO %[3]s;
COMMIT;
`, schema, rw, ro, rwName)
	enter := "BEGIN;\nSET LOCAL search_path TO " + schema + ", ref; SET LOCAL ROLE " + rw + ";\n"
	var migrate strings.Builder
	migrate.WriteString(enter)
	fmt.Fprintf(&migrate, `SELECT pg_advisory_xact_lock(hashtext('%s'));
CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamp NOT NULL);
SELECT version FROM schema_migrations;
`, schemaName)
	var versions []string
	for _, m := range set {
		migrate.WriteString(m.SQL)
		migrate.WriteString("\n;\n")
		versions = append(versions, "('"+m.Version+"', localtimestamp)")
	}
	fmt.Fprintf(&migrate, "INSERT INTO schema_migrations (version, applied_at) VALUES %s;\nCOMMIT;\n", strings.Join(versions, ", "))
	seed := enter + fmt.Sprintf(`INSERT INTO settings (key, value, updated_at, updated_by) VALUES
    ('locale', 'zh-CN', now(), ''), ('timezone', 'Asia/Shanghai', now(), ''), ('admin_code', '%s', now(), '')
    ON CONFLICT (key) DO NOTHING;
COMMIT;
`, in.AdminCode)
	return []string{createSchema, migrate.String(), seed}
}

// tenantFingerprint describes what provisioning leaves in the database for one tenant (roles,
// schema, privileges, tables, seeded rows), with its admin code replaced by CODE so that two
// tenants can be compared.
func tenantFingerprint(tb testing.TB, admin *sql.DB, rolePrefix, code string) string {
	tb.Helper()
	schema := schemaFor(code)
	role := rolePrefix + "_" + schema
	q := `SELECT concat_ws(E'\n',
	(SELECT pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = $1),
	(SELECT string_agg(pg_get_userbyid(d.defaclrole) || ' ' || d.defaclobjtype::text || ' ' || d.defaclacl::text, '; ' ORDER BY d.defaclobjtype)
	   FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = $1),
	(SELECT string_agg(c.relname || ' ' || c.relkind::text || ' ' || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, ''), '; ' ORDER BY c.relname)
	   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1),
	(SELECT string_agg(r.rolname || ' login=' || r.rolcanlogin || ' member=' || pg_has_role($3::name, r.oid, 'MEMBER'), '; ' ORDER BY r.rolname)
	   FROM pg_roles r WHERE r.rolname IN ($2::text, $2::text || '_ro')),
	(SELECT string_agg(key || '=' || value, '; ' ORDER BY key) FROM ` + dbx.QuoteIdent(schema) + `.settings),
	(SELECT string_agg(version, '; ' ORDER BY version) FROM ` + dbx.QuoteIdent(schema) + `.schema_migrations))`
	var fp string
	if err := admin.QueryRow(q, schema, role, rolePrefix+"_app").Scan(&fp); err != nil {
		tb.Fatalf("fingerprint of %s: %v", schema, err)
	}
	return strings.ReplaceAll(fp, code, "CODE")
}

// BenchmarkProvisionFloorPsql runs the tenant DDL of provisioning (createSchema, the tenant
// migrations, the seed) for the same tenants three ways, each in a fresh database with the control
// plane, one after the other so that they share the machine's conditions:
//
//   - floor: straight through one psql session (psql sends statement by statement);
//   - batched floor: one request per transaction over one connection, the fewest round trips the
//     same three transactions can take;
//   - ours: the Provisioner, with everything it adds (control row, audit entry, step records,
//     first-admin invitation, status change).
//
// The timer covers the psql run only.
func BenchmarkProvisionFloorPsql(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Fatal("this benchmark needs psql on PATH: apt-get install postgresql-client")
	}
	set, err := migrations.Load(migrations.Tenant, string(dbx.Postgres))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// floorDB returns a database with the control plane and one tenant made by the Provisioner, to
	// compare the floor's tenants with.
	floorDB := func(b *testing.B) benchDB {
		db := benchPostgres(b)
		mustProvision(b, NewProvisioner(benchOpenPostgres(b, db)), benchProbe)
		return db
	}
	checkFloor := func(b *testing.B, db benchDB, how string, code string) {
		want := tenantFingerprint(b, db.Admin, db.RolePrefix, benchProbe.AdminCode)
		if got := tenantFingerprint(b, db.Admin, db.RolePrefix, code); got != want {
			b.Fatalf("the %s no longer does what provisioning does:\nfloor:\n%s\nProvisioner:\n%s", how, got, want)
		}
	}
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			load := startHostLoad()
			specs := benchTenants(b, n)
			var floor, batched time.Duration
			var ours []time.Duration
			b.StopTimer()
			for range b.N {
				db := floorDB(b)
				var script strings.Builder
				script.WriteString("SET client_min_messages = warning;\n")
				for _, in := range specs {
					for _, tx := range floorTxs(db.RolePrefix, in, set) {
						script.WriteString(tx)
					}
				}
				path := filepath.Join(b.TempDir(), "floor.sql")
				if err := os.WriteFile(path, []byte(script.String()), 0o600); err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", os.DevNull, "-f", path, db.AppDSN)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				b.StartTimer()
				start := time.Now()
				err := cmd.Run()
				floor += time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatalf("psql: %v\n%s", err, stderr.String())
				}
				checkFloor(b, db, "psql floor", specs[0].AdminCode)

				db = floorDB(b)
				conn, err := pgconn.Connect(ctx, db.AppDSN)
				if err != nil {
					b.Fatal(err)
				}
				start = time.Now()
				for _, in := range specs {
					for _, tx := range floorTxs(db.RolePrefix, in, set) {
						if _, err := conn.Exec(ctx, tx).ReadAll(); err != nil {
							b.Fatalf("batched floor, %s: %v", in.Slug, err)
						}
					}
				}
				batched += time.Since(start)
				conn.Close(ctx)
				checkFloor(b, db, "batched floor", specs[0].AdminCode)

				c, _ := provisionAll(b, NewProvisioner(benchOpenPostgres(b, benchPostgres(b))), specs)
				ours = append(ours, c...)
			}
			floorPer, batchedPer := floor/time.Duration(n*b.N), batched/time.Duration(n*b.N)
			var sum time.Duration
			for _, d := range ours {
				sum += d
			}
			median := quantile(ours, 0.5)
			b.ReportMetric(ms(floorPer), "floor-ms/tenant")
			b.ReportMetric(ms(batchedPer), "batched-floor-ms/tenant")
			b.ReportMetric(ms(median), "ours-median-ms/tenant")
			b.ReportMetric(ms(sum/time.Duration(len(ours))), "ours-mean-ms/tenant")
			b.ReportMetric(float64(median)/float64(floorPer), "ratio-median/floor")
			b.ReportMetric(float64(median)/float64(batchedPer), "ratio-median/batched-floor")
			load.report(b)
		})
	}
}

// BenchmarkRollout provisions 1,000 tenants once, then times MigrateTenants rolling one new tenant
// migration (a table and an index) out to all of them, with 1, 4 and 8 workers. Goal: under 60 s
// with 4 workers.
func BenchmarkRollout(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
		s := benchOpenPostgres(b, benchPostgres(b))
		provisionAll(b, NewProvisioner(s), benchTenants(b, n))
		ctx := context.Background()
		version := 0
		for _, workers := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
				load := startHostLoad()
				var total time.Duration
				var per []time.Duration
				b.StopTimer()
				for range b.N {
					version++
					table := fmt.Sprintf("bench_rollout_%d", version)
					s.tenantSet = append(s.tenantSet, migrations.Migration{
						Version: fmt.Sprintf("9%03d_bench_rollout", version),
						SQL: "CREATE TABLE " + table + " (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '', created_at timestamptz NOT NULL DEFAULT now());\n" +
							"CREATE INDEX " + table + "_created ON " + table + " (created_at);",
					})
					b.StartTimer()
					start := time.Now()
					results, err := s.MigrateTenants(ctx, workers, nil)
					total += time.Since(start)
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					if len(results) != n {
						b.Fatalf("%d results, want %d", len(results), n)
					}
					for _, r := range results {
						if r.Error != "" || len(r.Applied) != 1 {
							b.Fatalf("tenant %s: applied %v, error %q", r.Slug, r.Applied, r.Error)
						}
						per = append(per, r.Duration)
					}
				}
				b.ReportMetric(total.Seconds()/float64(b.N), "total-s")
				b.ReportMetric(ms(quantile(per, 0.5)), "median-ms/tenant")
				b.ReportMetric(ms(quantile(per, 0.95)), "p95-ms/tenant")
				load.report(b)
			})
		}
	})
}

// BenchmarkMemory provisions 1,000 tenants, reopens the store, touches 10 tenants as a warm-up and
// takes the heap as the baseline, then runs one read transaction through the gate in each of the
// 1,000 tenants and reports the heap growth per tenant. Goal: under 10 KB per tenant. It also
// reports the growth over the second 500 tenants alone, when the SQLite handle cache is long full,
// which is what keeps growing with more tenants. The timer covers the 1,000 reads.
func BenchmarkMemory(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("postgres/tenants=%d", n), func(b *testing.B) {
		benchMemory(b, n, func(b *testing.B) func() *Store {
			db := benchPostgres(b)
			// pg_backend_memory_contexts is for superusers on PostgreSQL 15; let the app read its own.
			if _, err := db.Admin.Exec("GRANT SELECT ON pg_backend_memory_contexts TO " + dbx.QuoteIdent(db.RolePrefix+"_app") +
				"; GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO " + dbx.QuoteIdent(db.RolePrefix+"_app")); err != nil {
				b.Fatal(err)
			}
			return func() *Store { return benchOpenPostgres(b, db) }
		})
	})
	b.Run(fmt.Sprintf("sqlite/tenants=%d", n), func(b *testing.B) {
		benchMemory(b, n, func(b *testing.B) func() *Store {
			dir := b.TempDir()
			return func() *Store {
				return mustOpen(b, Config{DataDir: dir, MaxOpenTenants: 64, Passwords: testPasswords})
			}
		})
	})
}

// memSample is the process's memory after a full collection.
type memSample struct {
	heap, rss uint64
}

func sampleMemory() memSample {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{heap: m.HeapAlloc, rss: residentBytes()}
}

// residentBytes is the process's resident set, which also counts memory the SQLite driver
// allocates outside the Go heap; 0 where /proc is missing.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// backendMemory returns the pid and total memory-context bytes of the PostgreSQL backend behind
// the store's one open connection, or ok false if the pool holds more than one.
func backendMemory(ctx context.Context, s *Store) (pid int, bytes int64, ok bool) {
	if s.DB().Stats().OpenConnections != 1 {
		return 0, 0, false
	}
	err := s.DB().QueryRowContext(ctx, "SELECT pg_backend_pid(), sum(total_bytes)::bigint FROM pg_backend_memory_contexts").Scan(&pid, &bytes)
	return pid, bytes, err == nil && s.DB().Stats().OpenConnections == 1
}

func benchMemory(b *testing.B, n int, setup func(b *testing.B) func() *Store) {
	load := startHostLoad()
	ctx := context.Background()
	var all, second memSample // summed growth over all tenants, and over the second half
	var backend int64
	backendOK := true
	var openHandles int
	specs := benchTenants(b, n)
	b.StopTimer()
	for range b.N {
		open := setup(b)
		first := open()
		provisionAll(b, NewProvisioner(first), specs)
		first.Close()
		s := open()
		ts, err := s.FindTenants(ctx, TenantFilter{Status: StatusActive})
		if err != nil || len(ts) != n {
			b.Fatalf("%d tenants, %v; want %d", len(ts), err, n)
		}
		touch := func(ts []*Tenant) {
			b.StartTimer()
			defer b.StopTimer()
			for _, t := range ts {
				if _, err := getSettings(ctx, s, SystemScope(t)); err != nil {
					b.Fatalf("read %s: %v", t.Slug, err)
				}
			}
		}
		touch(ts[:10])
		before := sampleMemory()
		pid0, back0, ok0 := backendMemory(ctx, s)
		touch(ts[:n/2])
		half := sampleMemory()
		touch(ts[n/2:])
		after := sampleMemory()
		runtime.KeepAlive(ts)
		all.heap, all.rss = all.heap+after.heap-before.heap, all.rss+after.rss-before.rss
		second.heap, second.rss = second.heap+after.heap-half.heap, second.rss+after.rss-half.rss
		if s.Dialect() == dbx.Postgres {
			pid1, back1, ok1 := backendMemory(ctx, s)
			backendOK = backendOK && ok0 && ok1 && pid0 == pid1
			backend += back1 - back0
		} else {
			openHandles = s.handles.len()
		}
	}
	// Growth can be negative (a collection freed more than the reads kept): convert before dividing.
	per := func(sum uint64, tenants int) float64 { return float64(int64(sum)) / float64(tenants*b.N) }
	b.ReportMetric(per(all.heap, n), "heap-B/tenant")
	b.ReportMetric(per(all.rss, n), "rss-B/tenant")
	b.ReportMetric(per(second.heap, n-n/2), "heap-B/tenant-2nd-half")
	b.ReportMetric(per(second.rss, n-n/2), "rss-B/tenant-2nd-half")
	switch {
	case openHandles > 0:
		b.ReportMetric(float64(openHandles), "open-files")
	case backendOK:
		b.ReportMetric(float64(backend)/float64(n*b.N), "pg-backend-B/tenant")
	default:
		b.Log("the pool opened more than one connection; the backend's memory was not measured")
	}
	load.report(b)
}
