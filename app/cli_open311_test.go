package app

import (
	"strings"
	"testing"
)

func TestCLIOpen311Keys(t *testing.T) {
	t.Setenv("CITYOPS_DATA_DIR", t.TempDir())
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	for _, args := range [][]string{{"migrate"},
		{"tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300"},
		{"tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou"}} {
		if out, e, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, e)
		}
	}
	out, e, code := runCLI(t, "", "open311", "keys", "create", "--tenant", "wuding", "--name", "12345 hotline")
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "o311_") || strings.Count(out, "\n") != 1 || strings.Contains(e, key) {
		t.Fatalf("create: %d %q %q", code, out, e)
	}
	out, _, code = runCLI(t, "", "open311", "keys", "list", "--tenant", "wuding")
	if code != 0 || !strings.Contains(out, "12345 hotline") || strings.Contains(out, key) {
		t.Fatalf("list: %s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if out, e, code := runCLI(t, "", "open311", "keys", "revoke", "--tenant", "wuding", id); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %s %s", out, e)
	}
	if out, _, _ := runCLI(t, "", "open311", "keys", "list", "--tenant", "wuding"); strings.Contains(strings.Split(out, "\n")[1], " - ") {
		t.Fatalf("revoked key listed as live: %s", out)
	}
	if _, e, code := runCLI(t, "", "open311", "keys", "create", "--name", "x"); code == 0 || !strings.Contains(e, "--tenant") {
		t.Fatalf("no tenant: %d %s", code, e)
	}
	if _, e, code := runCLI(t, "", "open311", "keys", "create", "--tenant", "nowhere", "--name", "x"); code == 0 {
		t.Fatalf("unknown tenant: %s", e)
	}
	if out, e, code := runCLI(t, "", "open311", "services", "add", "--tenant", "wuding", "component-0101"); code != 0 {
		t.Fatalf("services add: %s %s", out, e)
	}
	if out, _, _ := runCLI(t, "", "open311", "services", "list", "--tenant", "wuding"); !strings.Contains(out, "component-0101") {
		t.Fatalf("services list: %s", out)
	}
	for _, bad := range []string{"event-9999", "0101", "component-01x1"} {
		if _, e, code := runCLI(t, "", "open311", "services", "add", "--tenant", "wuding", bad); code == 0 {
			t.Fatalf("services add %s: %s", bad, e)
		}
	}
	if out, e, code := runCLI(t, "", "open311", "services", "remove", "--tenant", "wuding", "component-0101"); code != 0 {
		t.Fatalf("services remove: %s %s", out, e)
	}
}
