// Package migrations holds the SQL for the control plane and for a tenant, per dialect, embedded
// in the binary, and the runner that applies it.
//
// There are two sets. The control set runs once per deployment and creates the control and ref
// schemas. The tenant set runs inside every tenant, through the tenant gate, so its SQL is written
// without a schema: on PostgreSQL the gate sets search_path to the tenant's schema, on SQLite the
// tenant's own file is the main database. Each tenant records what it has applied in its own
// schema_migrations table, so a rollout can stop anywhere and resume.
//
// The runner is deliberately small instead of bun/migrate: a tenant's migrations must run inside
// the gate's transaction (with its transaction-local search_path and role), which bun/migrate,
// holding its own *bun.DB, cannot do; and a new tenant applies all of its pending files as one
// script in one transaction instead of replaying them one by one.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

//go:embed control tenant
var files embed.FS

// Set names a set of migrations.
type Set string

// The two sets.
const (
	Control Set = "control"
	Tenant  Set = "tenant"
)

// Migration is one SQL file. Version is the file name without its extension; files apply in
// lexical order, so names start with a zero-padded number.
type Migration struct {
	Version string
	SQL     string
}

// Load returns the migrations of set for dialect ("postgres" or "sqlite"), in order.
func Load(set Set, dialect string) ([]Migration, error) {
	ms, err := LoadFS(files, path.Join(string(set), dialect), "")
	if err != nil {
		return nil, fmt.Errorf("migrations %s/%s: %w", set, dialect, err)
	}
	return ms, nil
}

// LoadFS returns the *.sql files of dir in fsys as migrations, in order, each version prefixed
// with prefix and a dot when prefix is not empty. A platform module's tenant migrations are
// loaded this way, prefixed with its name, and run after the platform's own set: a module's
// tables may refer to the platform's, never the other way round.
func LoadFS(fsys fs.FS, dir, prefix string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		v := strings.TrimSuffix(e.Name(), ".sql")
		if prefix != "" {
			v = prefix + "." + v
		}
		out = append(out, Migration{Version: v, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Latest returns the newest version of a list of migrations.
func Latest(ms []Migration) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].Version
}

// Apply applies every migration in ms not yet recorded in table, inside db (which should be a
// transaction: either all pending migrations apply, or none). table may be schema-qualified.
// It returns the versions it applied.
func Apply(ctx context.Context, db bun.IDB, table string, ms []Migration, now time.Time) ([]string, error) {
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+" (version text PRIMARY KEY, applied_at timestamp NOT NULL)"); err != nil {
		return nil, fmt.Errorf("create %s: %w", table, err)
	}
	applied, err := Applied(ctx, db, table)
	if err != nil {
		return nil, err
	}
	var script strings.Builder
	var versions []string
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		script.WriteString(m.SQL)
		script.WriteString("\n;\n")
		versions = append(versions, m.Version)
	}
	if len(versions) == 0 {
		return nil, nil
	}
	if _, err := db.ExecContext(ctx, script.String()); err != nil {
		return nil, fmt.Errorf("apply %s: %w", strings.Join(versions, ", "), err)
	}
	rows := make([]string, len(versions))
	args := make([]any, 0, 2*len(versions))
	for i, v := range versions {
		rows[i] = "(?, ?)"
		args = append(args, v, now)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (version, applied_at) VALUES "+strings.Join(rows, ", "), args...); err != nil {
		return nil, fmt.Errorf("record %s: %w", strings.Join(versions, ", "), err)
	}
	return versions, nil
}

// Applied returns the set of versions recorded in table. A missing table means none.
func Applied(ctx context.Context, db bun.IDB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}
