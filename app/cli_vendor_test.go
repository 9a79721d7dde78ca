package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIVendorImport: the operator imports a county's vendor export from the command line: the
// dry run prints what would happen, the import what it did, a re-run changes nothing, and a file
// with values the mapping lacks prints them and fails.
func TestCLIVendorImport(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	if out, e, code := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s %s", out, e)
	}
	if out, e, code := runCLI(t, "", "tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329"); code != 0 {
		t.Fatalf("create: %s %s", out, e)
	}
	// The sample mapping without its department table (this county has no departments yet).
	var m map[string]any
	if err := json.Unmarshal([]byte(vendorSample(t, "szcg-a.mapping.json")), &m); err != nil {
		t.Fatal(err)
	}
	delete(m["fields"].(map[string]any), "department")
	delete(m["codes"].(map[string]any), "department")
	b, _ := json.Marshal(m)
	mapping, data, bad := filepath.Join(dir, "szcg-a.mapping.json"), filepath.Join(dir, "szcg-a.csv"), filepath.Join(dir, "bad.csv")
	sample := vendorSample(t, "szcg-a.csv")
	for p, s := range map[string]string{mapping: string(b), data: sample, bad: strings.ReplaceAll(sample, "处置反馈", "处理完毕")} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		cmd, file string
		ok        bool
		want      string
	}{
		{"dry-run", data, true, "Dry run of 3 records: 3 cases would be created"},
		{"import", data, true, "3 records imported: 3 cases created, 0 updated, 0 unchanged, 0 kept as the case loop left them; 17 history events written"},
		{"import", data, true, "0 cases created, 0 updated, 3 unchanged"},
		{"import", bad, false, "处理完毕"},
	} {
		out, e, code := runCLI(t, "", "exchange", tc.cmd, "wuding", mapping, tc.file)
		if (code == 0) != tc.ok || !strings.Contains(out, tc.want) || !strings.Contains(out, "mapping szcg-a version 1") {
			t.Fatalf("%s %s: %d\n%s\n%s", tc.cmd, tc.file, code, out, e)
		}
	}
	if _, e, code := runCLI(t, "", "exchange", "import", "nowhere", mapping, data); code == 0 || !strings.Contains(e, "nowhere") {
		t.Fatalf("an unknown tenant: %d %s", code, e)
	}
}

// TestCLIVendorImportEntities: the operator imports a county's whole szcg-a set from the command
// line, in order — departments, grids, components, staff with --entity, then the cases, whose
// departments now resolve through the mapping's table — and a re-run changes nothing.
func TestCLIVendorImportEntities(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	if out, e, code := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s %s", out, e)
	}
	if out, e, code := runCLI(t, "", "tenants", "create", "--slug", "chuxiong", "--name-zh", "楚雄市", "--admin-code", "532301"); code != 0 {
		t.Fatalf("create: %s %s", out, e)
	}
	path := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(vendorSample(t, name)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mapping := path("szcg-a.mapping.json")
	for _, tc := range []struct {
		cmd, file, entity, want string
	}{
		{"dry-run", "szcg-a-departments.csv", "departments", "Dry run of 4 records of departments: 4 would be created"},
		{"import", "szcg-a-departments.csv", "departments", "4 records of departments imported: 4 created"},
		{"import", "szcg-a-grids.csv", "grids", "5 records of grids imported: 5 created"},
		{"import", "szcg-a-components.csv", "components", "4 records of components imported: 4 created"},
		{"import", "szcg-a-staff.csv", "staff", "6 records of staff imported: 6 created"},
		{"import", "szcg-a-staff.csv", "staff", "0 created, 0 updated, 6 unchanged"},
		{"import", "szcg-a.csv", "", "3 cases created"},
	} {
		args := []string{"exchange", tc.cmd, "chuxiong", mapping, path(tc.file)}
		if tc.entity != "" {
			args = append(args, "--entity", tc.entity)
		}
		out, e, code := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Fatalf("%s %s: %d\n%s\n%s", tc.cmd, tc.file, code, out, e)
		}
	}
	if out, e, code := runCLI(t, "", "exchange", "import", "chuxiong", mapping, path("szcg-a-staff.csv"), "--entity", "roads"); code == 0 || !strings.Contains(out+e, "roads") {
		t.Fatalf("an unknown entity: %d %s %s", code, out, e)
	}
}
