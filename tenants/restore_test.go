package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/pgbackrest"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/uptrace/bun"
)

// restoreEnv is a store on a cluster of the test's own that archives its WAL with pgBackRest.
type restoreEnv struct {
	arch *testdb.Archived
	s    *Store
	repo pgbackrest.Repo
}

func mustRestoreEnv(tb testing.TB) *restoreEnv {
	tb.Helper()
	arch := testdb.ArchivedCluster(tb)
	s := mustOpen(tb, Config{DatabaseURL: arch.DSN, RolePrefix: "cityops", Passwords: testPasswords})
	return &restoreEnv{arch: arch, s: s, repo: pgbackrest.Repo{Config: arch.Config, Stanza: arch.Stanza, OSUser: arch.OSUser}}
}

func (e *restoreEnv) opts(to time.Time, mode RestoreMode) RestoreOptions {
	return RestoreOptions{To: to, Mode: mode, Backup: e.repo, WorkDir: e.arch.Dir, BinDir: e.arch.BinDir, Settle: 200 * time.Millisecond}
}

// seedCases adds cases (from, to] to t's schema, each with its report event, set-based.
func seedCases(tb testing.TB, db bun.IDB, t *Tenant, from, to int) {
	tb.Helper()
	q := dbx.QuoteIdent(t.SchemaName)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO `+q+`.cases (id, number, seq, state, version, source, kind, class_code,
		description, lon, lat, grid_code, reported_by, created_at, updated_at)
		SELECT md5(?::text || i)::uuid::text, ? || '-' || lpad(i::text, 8, '0'), i, 'reported', 1,
			CASE WHEN i % 2 = 0 THEN 'inspector' ELSE 'hotline' END, CASE WHEN i % 3 = 0 THEN 'event' ELSE 'component' END,
			lpad((i % 50 + 1)::text, 4, '0'), 'case ' || i, 101.5 + (i % 200) * 0.001, 25.0 + (i % 97) * 0.0001,
			? || lpad((i % 200)::text, 8, '0'), 'seed', timestamptz '2025-01-01 00:00:00+08' + i * interval '1 minute',
			timestamptz '2025-01-01 00:00:00+08' + i * interval '1 minute'
		FROM generate_series(?::bigint + 1, ?::bigint) AS i`, t.AdminCode, t.AdminCode, t.AdminCode, from, to); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO `+q+`.case_events (id, case_id, version, action, from_state, to_state,
		actor_id, actor_email, post, detail, at)
		SELECT md5('ev' || c.id)::uuid::text, c.id, 1, 'report', '', 'reported', 'seed', 'seed@example.cn', 'inspector', '{}', c.created_at
		FROM `+q+`.cases c WHERE c.seq > ? AND c.seq <= ?`, from, to); err != nil {
		tb.Fatal(err)
	}
}

// schemaSums is every table of a schema with its row count and a checksum of its rows.
func schemaSums(tb testing.TB, s *Store, schema string) map[string]string {
	tb.Helper()
	ctx := context.Background()
	var tables []string
	if err := s.db.NewRaw("SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY 1", schema).Scan(ctx, &tables); err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range tables {
		var n int64
		var sum string
		if err := s.db.NewRaw("SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM "+
			dbx.QuoteIdent(schema)+"."+dbx.QuoteIdent(name)+" x").Scan(ctx, &n, &sum); err != nil {
			tb.Fatal(err)
		}
		out[name] = strconv.FormatInt(n, 10) + ":" + sum
	}
	return out
}

func sameSums(tb testing.TB, what string, got, want map[string]string) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%s: %d tables, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			tb.Errorf("%s: table %s is %s, want %s", what, k, got[k], w)
		}
	}
}

// writer writes a setting to a tenant through the gate every few milliseconds, resolving the
// tenant each time as a request does, and remembers which writes committed and which the gate
// refused (and when).
type writer struct {
	slug      string
	committed []string
	refused   int
	failed    []error
	firstRef  time.Time
	lastRef   time.Time
}

func (w *writer) run(ctx context.Context, s *Store, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("w.%d", i)
		t, _, err := s.ResolveSlug(context.Background(), w.slug)
		if err == nil {
			err = s.Tx(WithScope(context.Background(), SystemScope(t)), Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.NewInsert().Model(&Setting{Key: key, Value: "x", UpdatedAt: time.Now()}).Exec(ctx)
				return err
			})
		}
		switch {
		case err == nil:
			w.committed = append(w.committed, key)
		case errs.Is(err, errs.Forbidden):
			if w.refused == 0 {
				w.firstRef = time.Now()
			}
			w.refused++
			w.lastRef = time.Now()
		default:
			w.failed = append(w.failed, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestoreDrill is the backup drill: write to two counties, back up, note the time, write
// more, damage one county, restore it in place to the noted time while both are written to, and
// check that it is back exactly as it was and that the other never noticed.
func TestRestoreDrill(t *testing.T) {
	e := mustRestoreEnv(t)
	s, ctx := e.s, context.Background()
	a, b := provisionAB(t, s)
	pref, err := s.FindTenantBySlug(ctx, prefecture.Slug)
	if err != nil {
		t.Fatal(err)
	}
	seedCases(t, s.db, a, 0, 300)
	seedCases(t, s.db, b, 0, 300)
	beforeBackup := time.Now()
	time.Sleep(1100 * time.Millisecond)
	e.arch.PgBackRest(t, "backup", "--type=full")

	// Bad input, before anything is written.
	t.Run("bad input", func(t *testing.T) {
		for _, c := range []struct {
			name string
			t    *Tenant
			o    RestoreOptions
			code errs.Code
			id   string
		}{
			{"before the first backup", a, e.opts(beforeBackup, RestoreInPlace), errs.Invalid, msgRestoreBeforeFirstBackup.ID()},
			{"in the future", a, e.opts(time.Now().Add(time.Hour), RestoreInPlace), errs.Invalid, msgRestoreTimeFuture.ID()},
			{"no time", a, e.opts(time.Time{}, RestoreInPlace), errs.Invalid, msgRestoreTimeRequired.ID()},
			{"before the tenant", a, e.opts(a.CreatedAt.Add(-time.Hour), RestoreSide), errs.Invalid, msgRestoreBeforeTenant.ID()},
			{"bad mode", a, e.opts(time.Now(), "over"), errs.Invalid, msgRestoreMode.ID()},
			{"prefecture in place", pref, e.opts(time.Now().Add(-time.Second), RestoreInPlace), errs.Conflict, msgRestorePrefecture.ID()},
			{"no stanza", a, func() RestoreOptions {
				o := e.opts(time.Now().Add(-time.Second), RestoreSide)
				o.Backup.Stanza = "nosuch"
				return o
			}(), errs.Unavailable, msgRestoreBackupUnusable.ID()},
		} {
			_, err := s.Restore(ctx, c.t, c.o)
			if errs.CodeOf(err) != c.code || errs.MessageID(err) != c.id {
				t.Errorf("%s: got %v (%s), want %s %s", c.name, err, errs.CodeOf(err), c.code, c.id)
			}
		}
		if _, err := s.FindTenantBySlug(ctx, "nosuch"); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown slug: got %v, want not found", err)
		}
	})

	// pgBackRest records a backup's end to the second: a time a second later is after it.
	time.Sleep(1100 * time.Millisecond)
	to := time.Now()
	time.Sleep(300 * time.Millisecond)
	wantA := schemaSums(t, s, a.SchemaName)
	wantB := schemaSums(t, s, b.SchemaName)

	// After the noted time: more writes in both, then A is damaged.
	seedCases(t, s.db, a, 300, 400)
	seedCases(t, s.db, b, 300, 400)
	if err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		qa := dbx.QuoteIdent(a.SchemaName)
		_, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica; DELETE FROM "+qa+".case_events; DELETE FROM "+qa+
			".cases WHERE seq % 2 = 0; UPDATE "+qa+".cases SET description = 'damaged'; DELETE FROM "+qa+".settings")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("side leaves the live schema alone", func(t *testing.T) {
		liveB := schemaSums(t, s, b.SchemaName)
		res, err := s.Restore(ctx, b, e.opts(to, RestoreSide))
		if err != nil {
			t.Fatal(err)
		}
		sameSums(t, "live B after a side restore", schemaSums(t, s, b.SchemaName), liveB)
		sameSums(t, "side schema of B", schemaSums(t, s, res.Schema), wantB)
		for _, tb := range res.Tables {
			if tb.Name == "cases" && (tb.Restored != 300 || tb.Live != 400) {
				t.Errorf("cases: restored %d, live %d, want 300 and 400", tb.Restored, tb.Live)
			}
		}
		// The tenant's read-write role cannot write there; its read-only role can read.
		err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "SET LOCAL ROLE "+dbx.QuoteIdent(b.DBRole)+"; INSERT INTO "+dbx.QuoteIdent(res.Schema)+
				".settings (key, value, updated_at) VALUES ('x', 'y', now())")
			return err
		})
		if err == nil {
			t.Error("the tenant's role wrote to the side schema")
		}
		err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "SET LOCAL ROLE "+dbx.QuoteIdent(b.ReadOnlyRole())+"; SELECT count(*) FROM "+dbx.QuoteIdent(res.Schema)+".cases")
			return err
		})
		if err != nil {
			t.Errorf("the tenant's read-only role cannot read the side schema: %v", err)
		}
		if _, err := s.Restore(ctx, b, e.opts(to, RestoreSide)); errs.MessageID(err) != msgRestoreSchemaExists.ID() {
			t.Errorf("second side restore to the same time: got %v, want %s", err, msgRestoreSchemaExists.ID())
		}
	})

	t.Run("a failed swap leaves the tenant as it was", func(t *testing.T) {
		damaged := schemaSums(t, s, a.SchemaName)
		o := e.opts(to, RestoreInPlace)
		o.failAt = "swap"
		_, err := s.Restore(ctx, a, o)
		if errs.MessageID(err) != msgRestoreFailedUnchanged.ID() {
			t.Fatalf("got %v, want %s", err, msgRestoreFailedUnchanged.ID())
		}
		cur, err := s.FindTenantBySlug(ctx, a.Slug)
		if err != nil || cur.Status != StatusActive {
			t.Fatalf("after a failed restore: %v, %v; want active", cur, err)
		}
		sameSums(t, "A after a failed restore", schemaSums(t, s, a.SchemaName), damaged)
		var left int
		if err := s.db.NewRaw("SELECT count(*) FROM pg_namespace WHERE nspname LIKE ?", a.SchemaName+"\\_%").Scan(ctx, &left); err != nil || left != 0 {
			t.Errorf("schemas left behind: %d (%v)", left, err)
		}
	})

	// The restore in place, with both counties written to throughout.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wa, wb := &writer{slug: a.Slug}, &writer{slug: b.Slug}
	wg.Add(2)
	go wa.run(wctx, s, &wg)
	go wb.run(wctx, s, &wg)
	var reads atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for wctx.Err() == nil {
			if err := s.Tx(WithScope(ctx, SystemScope(b)), Read, func(ctx context.Context, db bun.IDB) error {
				return db.NewRaw("SELECT count(*) FROM cases").Scan(ctx, new(int))
			}); err != nil {
				t.Errorf("reading B during the restore: %v", err)
				return
			}
			reads.Add(1)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	res, err := s.Restore(ctx, a, e.opts(to, RestoreInPlace))
	time.Sleep(200 * time.Millisecond)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restore in place: cluster %v, dump %v, load %v, swap %v, freeze %v, total %v",
		res.ClusterRestore, res.Dump, res.Load, res.Swap, res.Freeze, res.Total)

	// A is back as it was at the noted time, apart from the writes that came after the swap.
	gotA := schemaSums(t, s, a.SchemaName)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM "+dbx.QuoteIdent(a.SchemaName)+".settings WHERE key LIKE 'w.%'"); err != nil {
		t.Fatal(err)
	}
	sameSums(t, "A restored", schemaSums(t, s, a.SchemaName), wantA)
	_ = gotA
	if cur, err := s.FindTenantBySlug(ctx, a.Slug); err != nil || cur.Status != StatusActive {
		t.Errorf("A after the restore: %v, %v; want active", cur, err)
	}
	// What A held before the swap is kept aside.
	if n := schemaSums(t, s, res.Aside)["cases"]; n[:3] != "200" {
		t.Errorf("aside cases: %s, want the 200 left by the damage", n)
	}
	// B never noticed: every row, those after the noted time and those written during the restore.
	var bCases, bWrites int
	if err := s.db.NewRaw("SELECT (SELECT count(*) FROM "+dbx.QuoteIdent(b.SchemaName)+".cases), (SELECT count(*) FROM "+
		dbx.QuoteIdent(b.SchemaName)+".settings WHERE key LIKE 'w.%')").Scan(ctx, &bCases, &bWrites); err != nil {
		t.Fatal(err)
	}
	if bCases != 400 || bWrites != len(wb.committed) || wb.refused != 0 || len(wb.failed) != 0 {
		t.Errorf("B: %d cases (want 400), %d writes kept of %d committed, %d refused, errors %v",
			bCases, bWrites, len(wb.committed), wb.refused, wb.failed)
	}
	if reads.Load() == 0 {
		t.Error("B was not read during the restore")
	}
	// A refused writes only during its freeze, and took writes before and after it.
	if len(wa.failed) != 0 {
		t.Errorf("A's writes failed otherwise than by refusal: %v", wa.failed)
	}
	if wa.refused == 0 || wa.lastRef.Sub(wa.firstRef) > res.Freeze+time.Second {
		t.Errorf("A: %d writes refused over %v; the freeze was %v", wa.refused, wa.lastRef.Sub(wa.firstRef), res.Freeze)
	}
	t.Logf("A: %d writes committed, %d refused during the freeze; B: %d committed, %d reads", len(wa.committed), wa.refused, len(wb.committed), reads.Load())

	// Offboarding drops what the restores left beside each tenant, and only that.
	for _, c := range []struct {
		t    *Tenant
		want string
	}{{a, "[" + res.Aside + "]"}, {b, "[" + b.SchemaName + "_at_" + to.UTC().Format("20060102t150405") + "]"}, {pref, "[]"}} {
		got, err := restoreLeftovers(ctx, s.db, c.t)
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("leftovers of %s: %v %v, want %s", c.t.Slug, got, err, c.want)
		}
	}

	// The audit log has the restore.
	entries, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: AuditRestoreDone})
	if err != nil || len(entries) != 1 {
		t.Errorf("audit of the restore: %d entries, %v", len(entries), err)
	}
}

// TestRestoreBench is the figure of docs/benchmarks.md: one county of
// CITYOPS_BENCH_RESTORE_CASES cases (e.g. 100000) restored in place, step by step.
func TestRestoreBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CITYOPS_BENCH_RESTORE_CASES"))
	if n <= 0 {
		t.Skip("set CITYOPS_BENCH_RESTORE_CASES (e.g. 100000) to time a restore")
	}
	e := mustRestoreEnv(t)
	s, ctx := e.s, context.Background()
	a, b := provisionAB(t, s)
	start := time.Now()
	for from := 0; from < n; from += 50_000 {
		seedCases(t, s.db, a, from, min(from+50_000, n))
	}
	seedCases(t, s.db, b, 0, 1000)
	if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	size, _ := s.DatabaseSize(ctx, a)
	t.Logf("seeded %d cases (%d MB) in %v", n, size>>20, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	e.arch.PgBackRest(t, "backup", "--type=full")
	t.Logf("full backup in %v", time.Since(start).Round(time.Millisecond))
	// Writes after the backup are WAL the cluster restore replays: CITYOPS_BENCH_RESTORE_WAL_CASES
	// more cases in the other county before the time.
	time.Sleep(1100 * time.Millisecond)
	if w, _ := strconv.Atoi(os.Getenv("CITYOPS_BENCH_RESTORE_WAL_CASES")); w > 0 {
		start := time.Now()
		seedCases(t, s.db, b, 1000, 1000+w)
		var wal string
		if err := s.db.NewRaw("SELECT pg_size_pretty(pg_current_wal_lsn() - '0/0'::pg_lsn)").Scan(ctx, &wal); err == nil {
			t.Logf("%d cases written after the backup in %v (WAL position %s)", w, time.Since(start).Round(time.Millisecond), wal)
		}
	}
	to := time.Now()
	time.Sleep(200 * time.Millisecond)
	seedCases(t, s.db, b, 1_000_000, 1_001_000)
	var info []map[string]any
	if err := json.Unmarshal([]byte(e.arch.PgBackRest(t, "info", "--output=json")), &info); err == nil && len(info) > 0 {
		if bs, ok := info[0]["backup"].([]any); ok && len(bs) > 0 {
			t.Logf("backup: %v", bs[0].(map[string]any)["info"])
		}
	}
	for _, mode := range []RestoreMode{RestoreSide, RestoreInPlace, RestoreInPlace} {
		o := e.opts(to, mode)
		o.Settle = 0 // production's: three cache sync intervals
		res, err := s.Restore(ctx, a, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: cluster restore %v, dump %v, load %v, swap %v, freeze %v, total %v", mode,
			res.ClusterRestore.Round(time.Millisecond), res.Dump.Round(time.Millisecond), res.Load.Round(time.Millisecond),
			res.Swap.Round(time.Millisecond), res.Freeze.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	}
}

func TestRestoreMessages(t *testing.T) {
	for _, p := range msg.Check() {
		t.Error(p)
	}
}

// TestRestoreFile puts a SQLite tenant's file back from a copy, and refuses another tenant's.
func TestRestoreFile(t *testing.T) {
	s := MustOpenSQLite(t)
	ctx := context.Background()
	a, b := provisionAB(t, s)
	put := func(tn *Tenant, key string) {
		t.Helper()
		if err := s.Tx(WithScope(ctx, SystemScope(tn)), Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewInsert().Model(&Setting{Key: key, Value: "x", UpdatedAt: time.Now()}).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(tn *Tenant) (out []string) {
		t.Helper()
		if err := s.Tx(WithScope(ctx, SystemScope(tn)), Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT key FROM settings WHERE key LIKE 'k.%' ORDER BY key").Scan(ctx, &out)
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	put(a, "k.before")
	put(b, "k.before")
	backup := t.TempDir()
	for _, tn := range []*Tenant{a, b} {
		s.handles.forget(s.tenantPath(tn)) // closed: the file holds everything (a file-level backup)
		if err := copyFile(s.tenantPath(tn), backup+"/"+tn.SchemaName+".db"); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "k.after")
	put(b, "k.after")
	if _, err := s.RestoreFile(ctx, a, backup+"/"+b.SchemaName+".db"); errs.MessageID(err) != msgRestoreFileNotTenant.ID() {
		t.Fatalf("restoring B's file into A: got %v", err)
	}
	if _, err := s.RestoreFile(ctx, a, backup+"/nosuch.db"); errs.MessageID(err) != msgRestoreFileUnreadable.ID() {
		t.Fatalf("a missing file: got %v", err)
	}
	aside, err := s.RestoreFile(ctx, a, backup+"/"+a.SchemaName+".db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(aside); err != nil {
		t.Errorf("the replaced file is not kept: %v", err)
	}
	cur, err := s.FindTenantBySlug(ctx, a.Slug)
	if err != nil || cur.Status != StatusActive {
		t.Fatalf("A after the restore: %v %v", cur, err)
	}
	if got := fmt.Sprint(keys(cur)); got != "[k.before]" {
		t.Errorf("A: %s, want [k.before]", got)
	}
	if got := fmt.Sprint(keys(b)); got != "[k.after k.before]" {
		t.Errorf("B: %s, want both", got)
	}
	put(cur, "k.later")
}
