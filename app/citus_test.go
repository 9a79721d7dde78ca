package app

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/migrations"
)

// TestTenantSchemaFitsCitus: what Citus's schema-based sharding needs of a tenant schema, checked
// on every tenant migration (the platform's and every module's), since no Citus cluster installs
// here: a tenant schema names no other schema but ref (which becomes Citus reference tables:
// docs/operations.md, "Citus"), has no foreign key out of itself, and creates no objects outside
// itself (no schema-qualified CREATE, no extension, no search_path change).
func TestTenantSchemaFitsCitus(t *testing.T) {
	ms, err := migrations.Load(migrations.Tenant, string(dbx.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := moduleMigrations(platformModules(nil, nil), dbx.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	ms = append(ms, mods...)
	comment := regexp.MustCompile(`(?m)--.*$`)
	qualified := regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b`)
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bREFERENCES\s+ref\.`),
		regexp.MustCompile(`(?i)\bCREATE\s+(EXTENSION|SCHEMA)\b`),
		regexp.MustCompile(`(?i)\bSET\s+(LOCAL\s+)?search_path\s+(TO|=)`),
		regexp.MustCompile(`(?i)\bCREATE\s+(OR\s+REPLACE\s+)?(TABLE|FUNCTION|VIEW|SEQUENCE|TYPE|INDEX)\s+(IF\s+NOT\s+EXISTS\s+)?[a-z_]+\.`),
	}
	for _, m := range ms {
		sql := comment.ReplaceAllString(m.SQL, "")
		for _, re := range forbidden {
			if loc := re.FindString(sql); loc != "" {
				t.Errorf("%s: %q does not fit a distributed schema", m.Version, loc)
			}
		}
		// Qualified names are mostly aliases (c.id, NEW.state): only the schemas that exist
		// besides the tenant's own and ref count.
		for _, q := range qualified.FindAllStringSubmatch(sql, -1) {
			schema := strings.ToLower(q[1])
			if schema == "control" || schema == "public" || strings.HasPrefix(schema, "t_") {
				t.Errorf("%s: %s names another schema", m.Version, q[0])
			}
		}
	}
}
