package tenants

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/uptrace/bun"
)

// mustTwoClusters opens a store whose control plane is on the shared test server ("main") with a
// second cluster of the test's own ("b"), with the capacities given.
// The second cluster runs with wal_level=logical unless settings say otherwise.
func mustTwoClusters(tb testing.TB, capacities string, settings ...string) *Store {
	tb.Helper()
	pg := testdb.Postgres(tb)
	cl, err := ParseClusters("b="+testdb.Cluster(tb, settings...), capacities)
	if err != nil {
		tb.Fatal(err)
	}
	return mustOpen(tb, Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords, Clusters: cl})
}

// countyOnB provisions the prefecture on the main cluster and countyA on "b" with n cases: the
// county a move test moves.
func countyOnB(tb testing.TB, s *Store, n int) (*Provisioner, *Tenant) {
	tb.Helper()
	p := NewProvisioner(s)
	in := []NewTenant{prefecture, countyA}
	in[0].Cluster, in[1].Cluster = MainCluster, "b"
	mustProvision(tb, p, in[0])
	a := mustProvision(tb, p, in[1])
	seedCases(tb, mustPool(tb, s, "b"), a, 0, n)
	return p, a
}

// sumsOn is every table of a schema on a cluster with its row count and a checksum of its rows.
func sumsOn(tb testing.TB, s *Store, cluster, schema string) map[string]string {
	tb.Helper()
	tables, err := s.verifyCopy(context.Background(), schema, cluster, cluster)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range tables {
		out[x.Name] = strconv.FormatInt(x.Rows, 10) + ":" + x.Sum
	}
	return out
}

func schemaOn(tb testing.TB, s *Store, cluster, schema string) bool {
	tb.Helper()
	db, err := s.pool(cluster)
	if err != nil {
		tb.Fatal(err)
	}
	var there bool
	if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", schema).Scan(context.Background(), &there); err != nil {
		tb.Fatal(err)
	}
	return there
}

// moveWriter writes settings to a tenant through the gate, resolving the tenant each time as a
// request does, and counts the writes the freeze refused (503 with a Retry-After).
type moveWriter struct {
	slug      string
	prefix    string
	committed []string
	at        []time.Time // when each committed
	refused   int
	failed    []error
}

func (w *moveWriter) run(ctx context.Context, s *Store, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("w.%s.%d", w.prefix, i)
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
			w.at = append(w.at, time.Now())
		case errs.Is(err, errs.Unavailable) && errs.RetryAfterOf(err) == FreezeRetryAfter:
			w.refused++
		default:
			w.failed = append(w.failed, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// between counts the writes committed between two times.
func (w *moveWriter) between(from, to time.Time) int {
	n := 0
	for _, at := range w.at {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// noReplicationLeft fails tb if a move left a subscription, replication slot or publication on
// a cluster of s.
func noReplicationLeft(tb testing.TB, s *Store, when string) {
	tb.Helper()
	left, err := s.replicationLeft(context.Background(), MainCluster, "b")
	if err != nil {
		tb.Fatal(err)
	}
	if len(left) > 0 {
		tb.Errorf("%s: left behind %v", when, left)
	}
}

// check proves that every committed write is in the tenant and no other is.
func (w *moveWriter) check(tb testing.TB, s *Store) {
	tb.Helper()
	for _, err := range w.failed {
		tb.Errorf("%s: write failed: %v", w.slug, err)
	}
	t, _, err := s.ResolveSlug(context.Background(), w.slug)
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	if err := s.Tx(WithScope(context.Background(), SystemScope(t)), Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model((*Setting)(nil)).Column("key").Where("key LIKE ?", "w."+w.prefix+".%").Scan(ctx, &keys)
	}); err != nil {
		tb.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	for _, k := range w.committed {
		if !have[k] {
			tb.Errorf("%s: committed write %s was lost", w.slug, k)
		}
	}
	if len(keys) != len(w.committed) {
		tb.Errorf("%s: %d writes in the tenant, %d committed", w.slug, len(keys), len(w.committed))
	}
}

// seedPhotosStaff adds photo references (blobs by hash) and staff to t.
func seedPhotosStaff(tb testing.TB, s *Store, t *Tenant, n int) {
	tb.Helper()
	err := s.Tx(WithScope(context.Background(), SystemScope(t)), Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.ExecContext(ctx, `INSERT INTO case_photos (id, case_id, sha256, media_type, size, uploaded_by, created_at)
			SELECT md5('photo' || c.id), c.id, encode(sha256(c.id::bytea), 'hex'), 'image/jpeg', 1000 + c.seq, 'seed', c.created_at
			FROM cases c WHERE c.seq <= ?`, n); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `INSERT INTO staff (id, identity_id, name, posts, created_at, updated_at)
			SELECT md5('staff' || i), md5('identity' || i), '人员' || i, 'inspector', now(), now() FROM generate_series(1, 5) i`)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestParseClusters(t *testing.T) {
	cl, err := ParseClusters("# clusters\nb=postgres://u:p@h1/db?a=1,2; c = postgresql://h2/db\n", "main=10, b=20")
	if err != nil {
		t.Fatal(err)
	}
	want := []Cluster{{Name: "b", URL: "postgres://u:p@h1/db?a=1,2", Capacity: 20}, {Name: "c", URL: "postgresql://h2/db"}, {Name: MainCluster, Capacity: 10}}
	if fmt.Sprint(cl) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", cl, want)
	}
	for _, bad := range [][2]string{{"main=postgres://h/db", ""}, {"B=postgres://h/db", ""}, {"b=mysql://h/db", ""},
		{"b=postgres://h/db;b=postgres://h/db", ""}, {"", "x=3"}, {"b=postgres://h/db", "b=-1"}, {"b", ""}} {
		if _, err := ParseClusters(bad[0], bad[1]); err == nil {
			t.Errorf("ParseClusters(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// TestClusterPlacement provisions tenants across two clusters by capacity and checks that each
// tenant's data lives on its cluster only.
func TestClusterPlacement(t *testing.T) {
	s := mustTwoClusters(t, "main=1,b=2")
	ctx := context.Background()
	p := NewProvisioner(s)
	pref := mustProvision(t, p, prefecture)
	a := mustProvision(t, p, countyA)
	b := mustProvision(t, p, countyB)
	// b has the most room (2 > 1), then a tie of 1 goes to the cluster with fewer tenants (main),
	// then only b has room.
	for _, c := range []struct {
		t    *Tenant
		want string
	}{{pref, "b"}, {a, MainCluster}, {b, "b"}} {
		if c.t.Cluster != c.want {
			t.Errorf("%s placed on %q, want %q", c.t.Slug, c.t.Cluster, c.want)
		}
		other := map[string]string{"b": MainCluster, MainCluster: "b"}[c.want]
		if !schemaOn(t, s, c.want, c.t.SchemaName) || schemaOn(t, s, other, c.t.SchemaName) {
			t.Errorf("%s: schema not on %s alone", c.t.Slug, c.want)
		}
	}
	_, err := p.Provision(ctx, NewTenant{Slug: "yaoan", NameZH: "姚安县", Kind: County, AdminCode: "532325", ParentSlug: "chuxiong-zhou"})
	if !errs.Is(err, errs.Conflict) {
		t.Errorf("provisioning past every capacity: %v, want a conflict", err)
	}
	use, err := s.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(use); got != "[{b 2 2 true} {main 1 1 true}]" {
		t.Errorf("clusters: %s", got)
	}
	// Each tenant's writes and reads reach its own cluster through the gate.
	for _, x := range []*Tenant{a, b} {
		seedCases(t, mustPool(t, s, x.Cluster), x, 0, 10)
		var n int
		if err := s.Tx(WithScope(ctx, SystemScope(x)), Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().TableExpr("cases").ColumnExpr("count(*)").Scan(ctx, &n)
		}); err != nil || n != 10 {
			t.Errorf("%s reads %d cases (%v), want 10", x.Slug, n, err)
		}
	}
	// A grouped write reaches one cluster: tenants of two are refused before anything runs.
	ran := false
	part := func(x *Tenant) Part {
		return Part{Ctx: WithScope(ctx, SystemScope(x)), Fn: func(context.Context, bun.IDB) error { ran = true; return nil }}
	}
	if err := s.TxEach(ctx, []Part{part(a), part(b)}); !errs.Is(err, errs.Conflict) || ran {
		t.Errorf("TxEach across clusters: %v (ran %v), want a conflict before any part", err, ran)
	}
	if err := s.TxEach(ctx, []Part{part(b), part(pref)}); err != nil || !ran {
		t.Errorf("TxEach on cluster b: %v", err)
	}
	// A tenant placed on a cluster this replica does not know fails closed.
	ghost := *a
	ghost.Cluster = "elsewhere"
	if err := s.Tx(WithScope(ctx, SystemScope(&ghost)), Read, func(context.Context, bun.IDB) error { return nil }); !errs.Is(err, errs.Unavailable) {
		t.Errorf("unknown cluster: %v, want unavailable", err)
	}
	// An explicit placement on an unknown cluster is refused.
	_, err = p.Provision(ctx, NewTenant{Slug: "yaoan", NameZH: "姚安县", Kind: County, AdminCode: "532325", ParentSlug: "chuxiong-zhou", Cluster: "nowhere"})
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown cluster asked for: %v, want invalid", err)
	}
}

func mustPool(tb testing.TB, s *Store, cluster string) *bun.DB {
	tb.Helper()
	db, err := s.pool(cluster)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// TestMoveDrill moves a county with data from the main cluster to b while writers keep writing
// to it and to its neighbour: the freeze refuses writes (503, Retry-After), none is lost, the
// county reads the same data afterwards, the neighbour never notices, and the prefecture (on the
// main cluster) still reads the moved county read-only.
func TestMoveDrill(t *testing.T) {
	s := mustTwoClusters(t, "")
	ctx := context.Background()
	p := NewProvisioner(s)
	in := []NewTenant{prefecture, countyA, countyB}
	in[0].Cluster, in[1].Cluster, in[2].Cluster = MainCluster, "b", "b"
	pref, a, b := mustProvision(t, p, in[0]), mustProvision(t, p, in[1]), mustProvision(t, p, in[2])
	seedCases(t, mustPool(t, s, "b"), a, 0, 2000)
	seedCases(t, mustPool(t, s, "b"), b, 0, 500)
	seedPhotosStaff(t, s, a, 300)
	// A table without a primary key (as the monitoring readings are) is given REPLICA IDENTITY
	// FULL for the replication.
	if _, err := mustPool(t, s, "b").ExecContext(ctx, "CREATE TABLE "+a.SchemaName+".readings_nopk (at timestamptz, v int); INSERT INTO "+
		a.SchemaName+".readings_nopk SELECT now(), i FROM generate_series(1, 100) i"); err != nil {
		t.Fatal(err)
	}
	before := sumsOn(t, s, "b", a.SchemaName)
	beforeB := sumsOn(t, s, "b", b.SchemaName)

	wctx, stop := context.WithCancel(ctx)
	wa, wb := &moveWriter{slug: a.Slug}, &moveWriter{slug: b.Slug}
	var wg sync.WaitGroup
	wg.Add(2)
	go wa.run(wctx, s, &wg)
	go wb.run(wctx, s, &wg)
	time.Sleep(200 * time.Millisecond)
	moveStart := time.Now()
	res, err := s.Move(ctx, a, MoveOptions{To: MainCluster, Settle: 300 * time.Millisecond, KeepOld: true})
	time.Sleep(200 * time.Millisecond)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	duringCopy := wa.between(moveStart, moveStart.Add(res.Copy))
	t.Logf("moved (%s) in %v (copy %v, catch-up %v, verify %v), writes frozen %v; writer: %d committed (%d during the copy), %d refused",
		res.Method, res.Total.Round(time.Millisecond), res.Copy.Round(time.Millisecond), res.CatchUp.Round(time.Millisecond),
		res.Verify.Round(time.Millisecond), res.Freeze.Round(time.Millisecond), len(wa.committed), duringCopy, wa.refused)
	// Copied by replication while the county wrote: the freeze is the catch-up, the checks and
	// the two settle waits, not the copy.
	if res.Method != MoveLogical || res.Fallback != "" {
		t.Errorf("method %q (fallback %q), want logical replication", res.Method, res.Fallback)
	}
	if res.Freeze >= 5*time.Second || res.Freeze <= 0 {
		t.Errorf("writes frozen for %v, want under 5 s", res.Freeze)
	}
	if duringCopy < 10 {
		t.Errorf("%d writes committed during the copy (%v)", duringCopy, res.Copy)
	}
	if time.Duration(wa.refused)*5*time.Millisecond > res.Freeze+time.Second {
		t.Errorf("%d writes refused, more than a freeze of %v refuses", wa.refused, res.Freeze)
	}
	noReplicationLeft(t, s, "after the move")
	if fmt.Sprint(res.IdentityFull) != "[readings_nopk]" {
		t.Errorf("replica identity full given to %v", res.IdentityFull)
	}
	if a.Cluster != MainCluster || a.WriteFreeze != "" {
		t.Errorf("after the move: cluster %q, freeze %q", a.Cluster, a.WriteFreeze)
	}
	if wa.refused == 0 {
		t.Error("no write was refused during the move")
	}
	if wb.refused != 0 {
		t.Errorf("the neighbour had %d writes refused", wb.refused)
	}
	wa.check(t, s)
	wb.check(t, s)

	// The moved county reads the same data: the tables the writer did not touch are identical.
	after := sumsOn(t, s, MainCluster, a.SchemaName)
	delete(before, "settings")
	delete(after, "settings")
	sameSums(t, "moved county", after, before)
	afterB := sumsOn(t, s, "b", b.SchemaName)
	delete(beforeB, "settings")
	delete(afterB, "settings")
	sameSums(t, "neighbour", afterB, beforeB)
	if schemaOn(t, s, "b", a.SchemaName) {
		t.Error("the old schema is still live on cluster b")
	}
	if res.Aside == "" || !schemaOn(t, s, "b", res.Aside) {
		t.Errorf("the old schema was not kept aside (%q)", res.Aside)
	}
	if len(res.Tables) < 10 {
		t.Errorf("verified %d tables", len(res.Tables))
	}

	// The prefecture, on the main cluster, reads the moved county read-only through the gate.
	moved, _, err := s.ResolveSlug(ctx, a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	view := WithScope(ctx, &Scope{Tenant: moved, Roles: []Role{Viewer}, ReadOnly: true, Via: pref})
	var n, photos int
	if err := s.Tx(view, Read, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().TableExpr("cases").ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			return err
		}
		return db.NewSelect().TableExpr("case_photos").ColumnExpr("count(*)").Scan(ctx, &photos)
	}); err != nil || n != 2000 || photos != 300 {
		t.Errorf("prefecture reads %d cases, %d photos (%v), want 2000, 300", n, photos, err)
	}
	if err := s.Tx(view, Write, func(context.Context, bun.IDB) error { return nil }); !errs.Is(err, errs.Forbidden) {
		t.Errorf("prefecture write: %v, want forbidden", err)
	}
	// Read-only in the database too, on the new cluster: the read-only role cannot write.
	err = s.tenantTx(ctx, moved, Read, func(ctx context.Context, db bun.IDB) error {
		_, err := db.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('x', 'y', now())")
		return err
	})
	if err == nil {
		t.Error("the read-only role wrote to the moved county")
	}
	// The writer role writes on the new cluster (grants came along).
	if err := s.Tx(WithScope(ctx, SystemScope(moved)), Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.ExecContext(ctx, "UPDATE cases SET description = description || '.' WHERE seq = 1")
		return err
	}); err != nil {
		t.Errorf("write after the move: %v", err)
	}

	// Audited; moving again to where it is, or a second move while one runs, is refused.
	entries, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Action] = true
	}
	for _, act := range []string{AuditMoveStart, AuditMoveSwitched, AuditMoveDone} {
		if !seen[act] {
			t.Errorf("no audit entry %s", act)
		}
	}
	if _, err := s.Move(ctx, moved, MoveOptions{To: MainCluster}); !errs.Is(err, errs.Conflict) {
		t.Errorf("move to where it is: %v, want conflict", err)
	}
	if ok, err := s.TryLease(ctx, "tenant-move:"+a.ID.String(), "other replica", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := s.Move(ctx, moved, MoveOptions{To: "b"}); !errs.Is(err, errs.Conflict) {
		t.Errorf("second move at once: %v, want conflict", err)
	}
}

// TestMoveResume interrupts a move mid-copy as a crash would, then resumes it; and rolls another
// interrupted move back.
func TestMoveResume(t *testing.T) {
	s := mustTwoClusters(t, "")
	ctx := context.Background()
	p := NewProvisioner(s)
	in := []NewTenant{prefecture, countyA}
	for i := range in {
		in[i].Cluster = MainCluster
	}
	mustProvision(t, p, in[0])
	a := mustProvision(t, p, in[1])
	seedCases(t, s.db, a, 0, 500)
	before := sumsOn(t, s, MainCluster, a.SchemaName)

	o := MoveOptions{To: "b", Settle: 50 * time.Millisecond, failAt: "copy"}
	if _, err := s.Move(ctx, a, o); err == nil {
		t.Fatal("the crash did not stop the move")
	}
	// Left frozen, on the main cluster, with a copy on b; writes say to come back later.
	cur, _, err := s.ResolveSlug(ctx, a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Cluster != MainCluster || cur.WriteFreeze == "" || !schemaOn(t, s, "b", a.SchemaName) {
		t.Fatalf("after the crash: cluster %q, freeze %q", cur.Cluster, cur.WriteFreeze)
	}
	err = s.Tx(WithScope(ctx, SystemScope(cur)), Write, func(context.Context, bun.IDB) error { return nil })
	if !errs.Is(err, errs.Unavailable) || errs.RetryAfterOf(err) != FreezeRetryAfter {
		t.Errorf("write while frozen: %v, want unavailable with a retry-after", err)
	}
	if err := s.Tx(WithScope(ctx, SystemScope(cur)), Read, func(context.Context, bun.IDB) error { return nil }); err != nil {
		t.Errorf("read while frozen: %v", err)
	}
	// Another destination is refused while this move is unfinished.
	if _, err := s.Move(ctx, cur, MoveOptions{To: MainCluster}); !errs.Is(err, errs.Conflict) {
		t.Errorf("move elsewhere during an unfinished move: %v, want conflict", err)
	}
	// Running it again resumes and finishes it.
	o.failAt = ""
	res, err := s.Move(ctx, cur, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || cur.Cluster != "b" || schemaOn(t, s, MainCluster, a.SchemaName) {
		t.Errorf("resumed %v, cluster %q", res.Resumed, cur.Cluster)
	}
	sameSums(t, "resumed move", sumsOn(t, s, "b", a.SchemaName), before)

	// A crash after the switch: running it again finishes (the old schema goes, writes resume).
	if _, err := s.Move(ctx, cur, MoveOptions{To: MainCluster, Settle: 50 * time.Millisecond, failAt: "switch"}); err == nil {
		t.Fatal("the crash did not stop the move")
	}
	if _, err := s.Move(ctx, cur, MoveOptions{Abort: true}); !errs.Is(err, errs.Conflict) {
		t.Errorf("abort after the switch: %v, want conflict", err)
	}
	if _, err := s.Move(ctx, cur, MoveOptions{To: MainCluster, Settle: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if cur.Cluster != MainCluster || schemaOn(t, s, "b", a.SchemaName) {
		t.Errorf("back: cluster %q", cur.Cluster)
	}

	// A crash mid-copy rolled back: the copy goes, the tenant stays and writes again.
	if _, err := s.Move(ctx, cur, MoveOptions{To: "b", Settle: 50 * time.Millisecond, failAt: "copy"}); err == nil {
		t.Fatal("the crash did not stop the move")
	}
	res, err = s.Move(ctx, cur, MoveOptions{Abort: true})
	if err != nil || !res.Aborted {
		t.Fatal(res, err)
	}
	if cur.Cluster != MainCluster || cur.WriteFreeze != "" || schemaOn(t, s, "b", a.SchemaName) {
		t.Errorf("after the abort: cluster %q, freeze %q", cur.Cluster, cur.WriteFreeze)
	}
	fresh, _, err := s.ResolveSlug(ctx, a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tx(WithScope(ctx, SystemScope(fresh)), Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&Setting{Key: "after", Value: "abort", UpdatedAt: time.Now()}).Exec(ctx)
		return err
	}); err != nil {
		t.Errorf("write after the abort: %v", err)
	}
	if _, err := s.Move(ctx, fresh, MoveOptions{Abort: true}); !errs.Is(err, errs.Conflict) {
		t.Errorf("abort with no move: %v, want conflict", err)
	}
}

// TestMoveResumeReplication crashes logical moves between the subscription's initial copy and the
// switch: the county keeps writing meanwhile; resuming drops the subscription, slot and
// publication and starts again, aborting drops them; neither leaves any behind on either cluster.
func TestMoveResumeReplication(t *testing.T) {
	s := mustTwoClusters(t, "")
	ctx := context.Background()
	_, a := countyOnB(t, s, 500)
	before := sumsOn(t, s, "b", a.SchemaName)
	o := MoveOptions{To: MainCluster, Settle: 50 * time.Millisecond, failAt: "sync"}
	crash := func(when string) *Tenant {
		t.Helper()
		if _, err := s.Move(ctx, a, o); err == nil {
			t.Fatal("the crash did not stop the move")
		}
		left, err := s.replicationLeft(ctx, MainCluster, "b")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) < 3 {
			t.Errorf("%s: the crash left %v, want a subscription, a slot and a publication", when, left)
		}
		cur, _, err := s.ResolveSlug(ctx, a.Slug)
		if err != nil {
			t.Fatal(err)
		}
		// Not frozen: the copy runs while the county writes.
		if err := s.Tx(WithScope(ctx, SystemScope(cur)), Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewInsert().Model(&Setting{Key: "during." + when, Value: "x", UpdatedAt: time.Now()}).Exec(ctx)
			return err
		}); err != nil {
			t.Errorf("%s: write while the copy ran: %v", when, err)
		}
		return cur
	}
	cur := crash("resume")
	o.failAt = ""
	res, err := s.Move(ctx, cur, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Method != MoveLogical || cur.Cluster != MainCluster || schemaOn(t, s, "b", a.SchemaName) {
		t.Errorf("resumed %v, method %q, cluster %q", res.Resumed, res.Method, cur.Cluster)
	}
	noReplicationLeft(t, s, "after the resume")
	after := sumsOn(t, s, MainCluster, a.SchemaName)
	delete(before, "settings")
	delete(after, "settings")
	sameSums(t, "resumed move", after, before)
	var n int
	if err := s.Tx(WithScope(ctx, SystemScope(cur)), Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().TableExpr("settings").ColumnExpr("count(*)").Where("key = 'during.resume'").Scan(ctx, &n)
	}); err != nil || n != 1 {
		t.Errorf("the write during the crashed copy: %d (%v)", n, err)
	}

	// Back to b (its source, the main cluster, may have no logical replication: either way),
	// then a crash on the way to main again, rolled back.
	if _, err := s.Move(ctx, cur, MoveOptions{To: "b", Settle: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	noReplicationLeft(t, s, "after the move back")
	o.failAt = "sync"
	a = cur
	cur = crash("abort")
	res, err = s.Move(ctx, cur, MoveOptions{Abort: true})
	if err != nil || !res.Aborted {
		t.Fatal(res, err)
	}
	noReplicationLeft(t, s, "after the abort")
	if cur.Cluster != "b" || cur.WriteFreeze != "" || schemaOn(t, s, MainCluster, a.SchemaName) {
		t.Errorf("after the abort: cluster %q, freeze %q", cur.Cluster, cur.WriteFreeze)
	}
}

// TestMoveFallback: from a source cluster without wal_level=logical, or one where the subscription
// cannot be made (no replication slots), a county is moved the old way, pg_dump under the freeze,
// and the result, the log and the audit say why.
func TestMoveFallback(t *testing.T) {
	for _, c := range []struct{ setting, why string }{
		{"wal_level=replica", "wal_level is replica on cluster b, not logical"},
		{"max_replication_slots=0", "create subscription on main"},
	} {
		t.Run(c.setting, func(t *testing.T) { testMoveFallback(t, c.setting, c.why) })
	}
}

func testMoveFallback(t *testing.T, setting, why string) {
	s := mustTwoClusters(t, "", setting)
	ctx := context.Background()
	_, a := countyOnB(t, s, 300)
	before := sumsOn(t, s, "b", a.SchemaName)
	wctx, stop := context.WithCancel(ctx)
	wa := &moveWriter{slug: a.Slug}
	var wg sync.WaitGroup
	wg.Add(1)
	go wa.run(wctx, s, &wg)
	time.Sleep(100 * time.Millisecond)
	res, err := s.Move(ctx, a, MoveOptions{To: MainCluster, Settle: 100 * time.Millisecond})
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	wa.check(t, s)
	if res.Method != MoveDump || !strings.Contains(res.Fallback, why) {
		t.Errorf("method %q, fallback %q", res.Method, res.Fallback)
	}
	if wa.refused == 0 || res.Freeze < res.Copy {
		t.Errorf("the dump was not under the freeze: %d refused, freeze %v, copy %v", wa.refused, res.Freeze, res.Copy)
	}
	after := sumsOn(t, s, MainCluster, a.SchemaName)
	delete(before, "settings")
	delete(after, "settings")
	sameSums(t, "fallback move", after, before)
	noReplicationLeft(t, s, "after the fallback")
	entries, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Action == AuditMoveFallback
	}
	if !found {
		t.Error("no audit entry " + AuditMoveFallback)
	}
}

// TestMoveSQLite: on SQLite there is one cluster, the data directory; a move is refused with a
// message that says so, and provisioning places every tenant there.
func TestMoveSQLite(t *testing.T) {
	s := MustOpenSQLite(t)
	a, _ := provisionAB(t, s)
	if a.Cluster != MainCluster {
		t.Errorf("cluster %q", a.Cluster)
	}
	if _, err := s.Move(context.Background(), a, MoveOptions{To: "b"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("move on SQLite: %v, want invalid", err)
	}
	if _, err := Open(Config{DataDir: t.TempDir(), Clusters: []Cluster{{Name: "b", URL: "postgres://h/db"}}}); err == nil {
		t.Error("clusters accepted on SQLite")
	}
}

// TestMoveBench times moves of a county of CITYOPS_BENCH_MOVE_CASES cases between clusters with
// the production settle time, while a writer keeps writing to it: b → c → b → main by logical
// replication (b and c run with wal_level=logical), and main → b by pg_dump when the suite's
// server has no logical replication.
func TestMoveBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CITYOPS_BENCH_MOVE_CASES"))
	if n <= 0 {
		t.Skip("set CITYOPS_BENCH_MOVE_CASES (e.g. 100000) to time a move")
	}
	// Clusters b and c run with wal_level=logical; the suite's server (main) may not.
	pg := testdb.Postgres(t)
	cl, err := ParseClusters("b="+testdb.Cluster(t)+";c="+testdb.Cluster(t), "")
	if err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords, Clusters: cl})
	ctx := context.Background()
	p := NewProvisioner(s)
	in := []NewTenant{prefecture, countyA, countyB}
	in[0].Cluster, in[1].Cluster, in[2].Cluster = MainCluster, "b", "b"
	mustProvision(t, p, in[0])
	a, b := mustProvision(t, p, in[1]), mustProvision(t, p, in[2])
	for from := 0; from < n; from += 50_000 {
		seedCases(t, mustPool(t, s, "b"), a, from, min(from+50_000, n))
	}
	seedCases(t, mustPool(t, s, "b"), b, 0, 1000)
	if _, err := mustPool(t, s, "b").ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	size, _ := s.DatabaseSize(ctx, a)
	t.Logf("seeded %d cases (%d MB)", n, size>>20)
	for i, to := range []string{"c", "b", MainCluster, "b"} {
		wctx, stop := context.WithCancel(ctx)
		wa := &moveWriter{slug: a.Slug, prefix: strconv.Itoa(i)}
		var wg sync.WaitGroup
		wg.Add(1)
		go wa.run(wctx, s, &wg)
		time.Sleep(100 * time.Millisecond)
		cur, _, _ := s.ResolveSlug(ctx, a.Slug)
		res, err := s.Move(ctx, cur, MoveOptions{To: to})
		stop()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		wa.check(t, s)
		t.Logf("move %d to %s (%s%s): copy %v, catch-up %v, verify %v, freeze %v, total %v; writer: %d committed, %d refused (every 5 ms)", i+1, to,
			res.Method, map[bool]string{true: ", fallback: " + res.Fallback}[res.Fallback != ""],
			res.Copy.Round(time.Millisecond), res.CatchUp.Round(time.Millisecond), res.Verify.Round(time.Millisecond), res.Freeze.Round(time.Millisecond),
			res.Total.Round(time.Millisecond), len(wa.committed), wa.refused)
	}
}

// Offboarding a county that moved drops what the move left on the cluster it left: the schema
// kept aside and its roles there.
func TestMoveLeftoversOffboarded(t *testing.T) {
	s := mustTwoClusters(t, "")
	ctx := context.Background()
	p, a := countyOnB(t, s, 50)
	res, err := s.Move(ctx, a, MoveOptions{To: MainCluster, Settle: 50 * time.Millisecond, KeepOld: true})
	if err != nil {
		t.Fatal(err)
	}
	roleOnB := func() bool {
		var n int
		if err := mustPool(t, s, "b").NewRaw("SELECT count(*) FROM pg_roles WHERE rolname IN (?, ?)", a.DBRole, a.ReadOnlyRole()).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	if res.Aside == "" || !schemaOn(t, s, "b", res.Aside) || !roleOnB() {
		t.Fatalf("before offboarding: aside %q, roles on b %v", res.Aside, roleOnB())
	}
	if err := p.Offboard(ctx, a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if schemaOn(t, s, "b", res.Aside) || roleOnB() || schemaOn(t, s, MainCluster, a.SchemaName) {
		t.Fatalf("after offboarding: aside schema %v, roles on b %v", schemaOn(t, s, "b", res.Aside), roleOnB())
	}
}
