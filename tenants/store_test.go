package tenants

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/migrations"
	"github.com/uptrace/bun"
)

func putSetting(ctx context.Context, s *Store, sc *Scope, key, value string) error {
	return s.Tx(WithScope(ctx, sc), Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&Setting{Key: key, Value: value, UpdatedAt: s.now()}).
			On("CONFLICT (key) DO UPDATE").Set("value = EXCLUDED.value").Exec(ctx)
		return err
	})
}

func getSettings(ctx context.Context, s *Store, sc *Scope) (map[string]string, error) {
	var rows []Setting
	err := s.Tx(WithScope(ctx, sc), Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rows).Scan(ctx)
	})
	out := map[string]string{}
	for _, r := range rows {
		out[r.Key] = r.Value
	}
	return out, err
}

func TestProvisionAndIsolation(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) { isolationSuite(t, s) })
}

// isolationSuite is run directly and through PgBouncer in transaction mode.
func isolationSuite(t *testing.T, s *Store) {
	ctx := context.Background()
	p := NewProvisioner(s)
	mustProvision(t, p, prefecture)
	a := mustProvision(t, p, countyA)
	b := mustProvision(t, p, countyB)
	if a.Status != StatusActive || a.SchemaName != "t_532301" {
		t.Fatalf("got %s %s, want active t_532301", a.Status, a.SchemaName)
	}
	if err := putSetting(ctx, s, SystemScope(a), "secret_of_a", "A-only"); err != nil {
		t.Fatal(err)
	}
	got, err := getSettings(ctx, s, SystemScope(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, leaked := got["secret_of_a"]; leaked {
		t.Fatalf("tenant B sees tenant A's setting: %v", got)
	}
	if got["admin_code"] != "532329" {
		t.Fatalf("tenant B's own seed: got %v", got)
	}
	// No gate without a scope.
	err = s.Tx(ctx, Read, func(context.Context, bun.IDB) error { return nil })
	if errs.CodeOf(err) != errs.Internal {
		t.Fatalf("gate without scope: got %v, want an internal error", err)
	}
	// A read-only scope cannot write, even asking for Read and writing anyway: the database refuses.
	ro := &Scope{Tenant: a, ReadOnly: true}
	err = s.Tx(WithScope(ctx, ro), Read, func(ctx context.Context, db bun.IDB) error {
		_, err := db.ExecContext(ctx, "UPDATE settings SET value = 'x'")
		return err
	})
	if !errs.Is(err, errs.Forbidden) {
		t.Fatalf("write in a read-only transaction: got %v, want forbidden from the database", err)
	}
	if err := putSetting(ctx, s, ro, "k", "v"); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("write through a read-only scope: got %v, want forbidden", err)
	}
	// Shared reference data is readable from inside a tenant, unqualified through the search path.
	err = s.Tx(WithScope(ctx, &Scope{Tenant: b, ReadOnly: true}), Read, func(ctx context.Context, db bun.IDB) error {
		var name string
		return db.NewRaw("SELECT name_zh FROM admin_divisions WHERE code = '532329'").Scan(ctx, &name)
	})
	if err != nil {
		t.Fatalf("tenant reading ref: %v", err)
	}
	if s.dialect == dbx.Postgres {
		// Inside B's transaction, A's schema is out of reach of B's role, even named explicitly.
		err = s.Tx(WithScope(ctx, SystemScope(b)), Read, func(ctx context.Context, db bun.IDB) error {
			var n int
			return db.NewRaw("SELECT count(*) FROM t_532301.settings").Scan(ctx, &n)
		})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("B reading A's schema: got %v, want permission denied", err)
		}
		// And the control plane is out of reach of every tenant role.
		err = s.Tx(WithScope(ctx, SystemScope(b)), Read, func(ctx context.Context, db bun.IDB) error {
			var n int
			return db.NewRaw("SELECT count(*) FROM control.identities").Scan(ctx, &n)
		})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("tenant reading control: got %v, want permission denied", err)
		}
		// Nothing leaks to the session: the next plain query runs with the default search_path.
		var sp string
		if err := s.db.NewRaw("SHOW search_path").Scan(ctx, &sp); err != nil || strings.Contains(sp, "t_5323") {
			t.Fatalf("search_path after a tenant transaction: %q, %v", sp, err)
		}
	}
}

func TestProvisionCrashAtEveryStepConverges(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustProvision(t, NewProvisioner(s), prefecture)
		steps := NewProvisioner(s).StepNames()
		for i, step := range steps {
			in := countyA
			in.Slug = fmt.Sprintf("county-%d", i)
			in.AdminCode = fmt.Sprintf("5323%02d", 22+i)
			in.FirstAdminEmail = "admin@" + in.Slug + ".cn"
			crashing := NewProvisioner(s)
			crashing.crash = func(got string) error {
				if got == step {
					return errors.New("injected crash after " + step)
				}
				return nil
			}
			if _, err := crashing.Provision(ctx, in); err == nil {
				t.Fatalf("step %s: the injected crash did not surface", step)
			}
			res, err := NewProvisioner(s).Provision(ctx, in)
			if step == stepDone {
				// The crash came after the last step: the tenant is complete already.
				if !errs.Is(err, errs.Conflict) {
					t.Fatalf("re-run after a crash past the end: got %v, want conflict (exists)", err)
				}
			} else if err != nil {
				t.Fatalf("step %s: re-run: %v", step, err)
			} else if !res.Resumed && step != stepRecord {
				t.Fatalf("step %s: re-run did not resume the existing tenant", step)
			}
			assertOneHealthyTenant(t, s, in)
		}
	})
}

func assertOneHealthyTenant(t *testing.T, s *Store, in NewTenant) {
	t.Helper()
	ctx := context.Background()
	n, err := s.db.NewSelect().Model((*Tenant)(nil)).Where("slug = ?", in.Slug).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%s: %d tenant rows (%v), want 1", in.Slug, n, err)
	}
	tn, err := s.FindTenantBySlug(ctx, in.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if tn.Status != StatusActive || tn.ProvisionError != "" {
		t.Fatalf("%s: status %s, error %q", in.Slug, tn.Status, tn.ProvisionError)
	}
	var versions []string
	if err := s.tenantTx(ctx, tn, Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT version FROM schema_migrations").Scan(ctx, &versions)
	}); err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(s.tenantSet) {
		t.Fatalf("%s: migrations recorded %v, want each of %d once", in.Slug, versions, len(s.tenantSet))
	}
	inv, err := s.db.NewSelect().Model((*Invitation)(nil)).Where("tenant_id = ?", tn.ID).Count(ctx)
	if err != nil || inv != 1 {
		t.Fatalf("%s: %d invitations, want 1", in.Slug, inv)
	}
	if s.dialect == dbx.Postgres {
		var roles int
		if err := s.db.NewRaw("SELECT count(*) FROM pg_roles WHERE rolname IN (?, ?)", tn.DBRole, tn.ReadOnlyRole()).Scan(ctx, &roles); err != nil || roles != 2 {
			t.Fatalf("%s: %d roles, want 2", in.Slug, roles)
		}
	}
}

func TestProvisionRejectsBadInput(t *testing.T) {
	s := MustOpenSQLite(t)
	p := NewProvisioner(s)
	mustProvision(t, p, prefecture)
	cases := []struct {
		name  string
		in    NewTenant
		field string
	}{
		{"sql slug", NewTenant{Slug: "a'; DROP TABLE x;--", NameZH: "x", Kind: County, AdminCode: "532322", ParentSlug: "chuxiong-zhou"}, "slug"},
		{"upper slug", NewTenant{Slug: "Chuxiong", NameZH: "x", Kind: County, AdminCode: "532322", ParentSlug: "chuxiong-zhou"}, "slug"},
		{"short code", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "5323", ParentSlug: "chuxiong-zhou"}, "admin_code"},
		{"code injection", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "53232;", ParentSlug: "chuxiong-zhou"}, "admin_code"},
		{"county code 00", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532300", ParentSlug: "chuxiong-zhou"}, "admin_code"},
		{"outside parent", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532501", ParentSlug: "chuxiong-zhou"}, "admin_code"},
		{"no province", NewTenant{Slug: "x1", NameZH: "x", Kind: Prefecture, AdminCode: "992300"}, "admin_code"},
		{"unknown kind", NewTenant{Slug: "x1", NameZH: "x", Kind: "village", AdminCode: "532322", ParentSlug: "chuxiong-zhou"}, "kind"},
		{"no name", NewTenant{Slug: "x1", Kind: County, AdminCode: "532322", ParentSlug: "chuxiong-zhou"}, "name_zh"},
		{"missing parent", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532322", ParentSlug: "nowhere"}, "parent"},
		{"slug taken", NewTenant{Slug: "chuxiong-zhou", NameZH: "x", Kind: County, AdminCode: "532322", ParentSlug: "chuxiong-zhou"}, "slug"},
		{"bad email", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532322", ParentSlug: "chuxiong-zhou", FirstAdminEmail: "nope"}, "first_admin_email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Provision(context.Background(), tc.in)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Fatalf("got %v (field %q), want invalid %s", err, errs.FieldOf(err), tc.field)
			}
		})
	}
	ts, _ := s.FindTenants(context.Background(), TenantFilter{IncludeDeleted: true})
	if len(ts) != 1 {
		t.Fatalf("bad input left %d tenants, want only the prefecture", len(ts))
	}
}

func TestSuspendExportOffboard(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		if err := putSetting(ctx, s, SystemScope(a), "note", "逗号,和\"引号\""); err != nil {
			t.Fatal(err)
		}
		if err := s.Suspend(ctx, a, "unpaid"); err != nil {
			t.Fatal(err)
		}
		if err := s.Suspend(ctx, a, "again"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("suspending twice: got %v, want conflict", err)
		}
		if err := putSetting(ctx, s, SystemScope(a), "note", "changed"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("write to a suspended tenant: got %v, want forbidden", err)
		}
		if got, err := getSettings(ctx, s, SystemScope(a)); err != nil || got["note"] != "逗号,和\"引号\"" {
			t.Fatalf("read of a suspended tenant: %v, %v", got, err)
		}
		var buf bytes.Buffer
		if err := s.Export(ctx, a, &buf); err != nil {
			t.Fatalf("export of a suspended tenant: %v", err)
		}
		files := unzip(t, buf.Bytes())
		for _, name := range []string{"manifest.json", "settings.json", "settings.csv", "schema_migrations.csv"} {
			if _, ok := files[name]; !ok {
				t.Fatalf("export lacks %s; has %v", name, keys(files))
			}
		}
		if !strings.Contains(files["settings.csv"], `"逗号,和""引号"""`) || !strings.Contains(files["settings.json"], `逗号,和\"引号\"`) {
			t.Fatalf("export content:\n%s\n%s", files["settings.csv"], files["settings.json"])
		}
		if err := s.Reactivate(ctx, a); err != nil {
			t.Fatal(err)
		}
		var archive bytes.Buffer
		if err := p.Offboard(ctx, a, &archive); err != nil {
			t.Fatal(err)
		}
		if archive.Len() == 0 {
			t.Fatal("offboarding wrote no export")
		}
		if _, err := s.FindTenantBySlug(ctx, "chuxiong"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("offboarded tenant still found: %v", err)
		}
		if s.dialect == dbx.Postgres {
			var n int
			s.db.NewRaw("SELECT count(*) FROM pg_namespace WHERE nspname = 't_532301'").Scan(ctx, &n)
			var r int
			s.db.NewRaw("SELECT count(*) FROM pg_roles WHERE rolname LIKE ?", a.DBRole+"%").Scan(ctx, &r)
			if n != 0 || r != 0 {
				t.Fatalf("after offboarding: %d schemas, %d roles left", n, r)
			}
		}
		// The slug and code can be used again.
		b := mustProvision(t, p, countyA)
		if got, _ := getSettings(ctx, s, SystemScope(b)); got["note"] != "" {
			t.Fatalf("a new tenant with the old code sees old data: %v", got)
		}
		// A prefecture with children cannot be offboarded.
		pref, _ := s.FindTenantBySlug(ctx, "chuxiong-zhou")
		if err := p.Offboard(ctx, pref, io.Discard); !errs.Is(err, errs.Conflict) {
			t.Fatalf("offboarding a prefecture with counties: got %v, want conflict", err)
		}
	})
}

func TestMigrationRollout(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := provisionAB(t, s)
		// B has a table in the way, so the new migration fails there and only there.
		if err := s.tenantTx(ctx, b, Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.ExecContext(ctx, "CREATE TABLE rollout_probe (x int)")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		s.tenantSet = append(s.tenantSet, migrations.Migration{Version: "9999_probe", SQL: "CREATE TABLE rollout_probe (id int PRIMARY KEY);"})
		var seen int
		results, err := s.MigrateTenants(ctx, 2, func(done, total int, _ RolloutResult) { seen = done })
		if err != nil {
			t.Fatal(err)
		}
		if seen != 3 || len(results) != 3 {
			t.Fatalf("progress %d, results %d, want 3", seen, len(results))
		}
		bySlug := map[string]RolloutResult{}
		for _, r := range results {
			bySlug[r.Slug] = r
		}
		if r := bySlug[a.Slug]; r.Error != "" || len(r.Applied) != 1 {
			t.Fatalf("tenant A: %+v", r)
		}
		if r := bySlug[b.Slug]; r.Error == "" {
			t.Fatalf("tenant B should fail: %+v", r)
		}
		// Fix B and run again: only B applies, A is up to date.
		s.tenantTx(ctx, b, Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.ExecContext(ctx, "DROP TABLE rollout_probe")
			return err
		})
		results, err = s.MigrateTenants(ctx, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			want := 0
			if r.Slug == b.Slug {
				want = 1
			}
			if r.Error != "" || len(r.Applied) != want {
				t.Fatalf("second rollout, %s: %+v", r.Slug, r)
			}
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustProvision(t, NewProvisioner(s), prefecture)
		es, err := s.FindAudit(ctx, AuditFilter{})
		if err != nil || len(es) == 0 || es[0].Action != "tenant.create" {
			t.Fatalf("audit entries: %v %v", es, err)
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE control.audit_log SET action = 'x'"); err == nil {
			t.Fatal("the database let an audit entry change")
		}
		if _, err := s.db.ExecContext(ctx, "DELETE FROM control.audit_log"); err == nil {
			t.Fatal("the database let an audit entry be deleted")
		}
	})
}

func TestSQLiteHandleCacheIsBounded(t *testing.T) {
	s := mustOpen(t, Config{DataDir: t.TempDir(), MaxOpenTenants: 3, Passwords: testPasswords})
	p := NewProvisioner(s)
	mustProvision(t, p, prefecture)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		in := countyA
		in.Slug, in.AdminCode = fmt.Sprintf("c%d", i), fmt.Sprintf("5323%02d", 22+i)
		tn := mustProvision(t, p, in)
		if err := putSetting(ctx, s, SystemScope(tn), "k", in.Slug); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.handles.len(); n > 3 {
		t.Fatalf("%d tenant files open, want at most 3", n)
	}
	// Evicted tenants reopen transparently.
	tn, _ := s.FindTenantBySlug(ctx, "c0")
	if got, err := getSettings(ctx, s, SystemScope(tn)); err != nil || got["k"] != "c0" {
		t.Fatalf("reopened tenant: %v %v", got, err)
	}
}

func unzip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(data)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTxEach: a group of parts for two tenants commits together, each part as its own tenant;
// a part that reaches for another tenant's schema fails the whole group and nothing is written;
// read-only and suspended scopes are refused before any SQL; SQLite cannot group.
func TestTxEach(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := provisionAB(t, s)
		if s.dialect != dbx.Postgres {
			if s.CanGroup() || errs.CodeOf(s.TxEach(ctx, nil)) != errs.Internal {
				t.Fatal("SQLite offers TxEach")
			}
			return
		}
		put := func(sc *Scope, key, value string, seen *string) Part {
			return Part{Ctx: WithScope(ctx, sc), Fn: func(ctx context.Context, db bun.IDB) error {
				if err := db.NewRaw("SELECT current_user || ' ' || current_setting('search_path')").Scan(ctx, seen); err != nil {
					return err
				}
				_, err := db.NewInsert().Model(&Setting{Key: key, Value: value, UpdatedAt: s.now()}).Exec(ctx)
				return err
			}}
		}
		var seen [3]string
		err := s.TxEach(ctx, []Part{put(SystemScope(b), "g1", "B", &seen[0]), put(SystemScope(a), "g1", "A", &seen[1]), put(SystemScope(b), "g2", "B", &seen[2])})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(seen[0], b.DBRole+" "+b.SchemaName) || !strings.HasPrefix(seen[1], a.DBRole+" "+a.SchemaName) || seen[2] != seen[0] {
			t.Fatalf("parts ran as %q", seen)
		}
		ga, _ := getSettings(ctx, s, SystemScope(a))
		gb, _ := getSettings(ctx, s, SystemScope(b))
		if ga["g1"] != "A" || gb["g1"] != "B" || gb["g2"] != "B" || ga["g2"] != "" {
			t.Fatalf("A has %v, B has %v", ga, gb)
		}
		// B's part reaching into A's schema fails, and A's part in the same group is not written.
		var x string
		err = s.TxEach(ctx, []Part{put(SystemScope(a), "g3", "A", &x), {Ctx: WithScope(ctx, SystemScope(b)), Fn: func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE t_532301.settings SET value = 'B was here'").Exec(ctx)
			return err
		}}})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("B writing A's schema in a group: %v", err)
		}
		if ga, _ := getSettings(ctx, s, SystemScope(a)); ga["g3"] != "" || ga["g1"] != "A" {
			t.Fatalf("a failed group left %v", ga)
		}
		// Scopes are admitted as for Tx: a read-only scope cannot write through a group.
		err = s.TxEach(ctx, []Part{put(&Scope{Tenant: a, ReadOnly: true}, "g4", "A", &x)})
		if errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("read-only part: %v", err)
		}
	})
}

// TestOffboardTo: without the slug repeated nothing happens; with it the archive lands in the
// object store under the tenant's archive prefix and the tenant is gone.
func TestOffboardTo(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		dir := filepath.Join(t.TempDir(), "blobs")
		archives := blob.NewLocal(dir)
		for _, confirm := range []string{"", "wuding", "CHUXIONG"} {
			if path, err := p.OffboardTo(ctx, a, confirm, archives); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "confirm" || path != "" {
				t.Fatalf("confirmed with %q: %q, %v; want an invalid confirm", confirm, path, err)
			}
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an unconfirmed offboarding stored something: %v", err)
		}
		if got, err := s.FindTenantBySlug(ctx, "chuxiong"); err != nil || got.Status != StatusActive {
			t.Fatalf("after an unconfirmed offboarding: %+v, %v", got, err)
		}
		// A download is audited; the export that offboarding takes is not a download.
		if err := s.ExportAudited(ctx, a, io.Discard, ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		path, err := p.OffboardTo(ctx, a, "chuxiong", archives)
		if err != nil {
			t.Fatal(err)
		}
		if es, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: "tenant.export"}); err != nil || len(es) != 1 || es[0].Target != "chuxiong" {
			t.Fatalf("tenant.export audit: %+v %v", es, err)
		}
		if !strings.HasPrefix(path, ArchivePrefix(a.ID)+"chuxiong-") || filepath.Ext(path) != ".zip" {
			t.Fatalf("archive at %s", path)
		}
		if got := p.LatestArchive(ctx, a, archives); got != path {
			t.Fatalf("LatestArchive: %q, want %q", got, path)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		if files := unzip(t, b); files["manifest.json"] == "" {
			t.Fatalf("archive lacks the manifest; has %v", keys(files))
		}
		if _, err := s.FindTenantBySlug(ctx, "chuxiong"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("offboarded tenant still found: %v", err)
		}
	})
}
