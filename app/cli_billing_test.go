package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
)

func TestCLIBilling(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	t.Setenv("CITYOPS_STRIPE_KEY", "")
	for _, args := range [][]string{
		{"migrate"},
		{"tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300"},
		{"tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou"},
	} {
		if out, errOut, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	month := clock.StartOfMonth(time.Now())
	next, last := month.AddDate(0, 1, 0).Format("2006-01"), month.AddDate(0, -1, 0).Format("2006-01")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"billing", "plans"}, "starter"},
		{[]string{"billing", "advance", "wuding", "--amount", "1,200,000.50", "--category", "fit_out", "--memo", "平台建设", "--key", "contract-1"}, "owes ¥1200000.50"},
		{[]string{"billing", "advance", "wuding", "--amount", "1200000.50", "--category", "fit_out", "--key", "contract-1"}, "owes ¥1200000.50"},
		{[]string{"billing", "repay", "wuding", "--amount", "200000.50", "--reference", "BANK-7"}, "owes ¥1000000.00"},
		{[]string{"billing", "schedule", "wuding", "--principal", "1000000", "--years", "4", "--start-year", "2026", "--rate-bp", "300"}, "250000.00"},
		{[]string{"billing", "set-plan", "wuding", "standard", "--module", "monitoring=off"}, `"monitoring": false`},
		{[]string{"billing", "balances"}, "1000000.00"},
		{[]string{"billing", "statement", "wuding", "--year", "2026"}, "期末余额"},
		{[]string{"billing", "statement", "wuding", "--year", "2026", "--lang", "en"}, "Closing balance"},
		{[]string{"billing", "outbox"}, "KIND"},
		{[]string{"billing", "change-plan", "wuding", "prefecture", "--effective", next, "--memo", "州批复"}, "standard → prefecture from " + next + " (recorded)"},
		{[]string{"billing", "change-plan", "wuding", "prefecture", "--effective", next}, "already so; nothing recorded"},
		{[]string{"billing", "plan-changes", "wuding"}, "州批复"},
		// Without --month, --year: last month and this year, China time, by the app's clock.
		{[]string{"billing", "rate"}, last + " wuding: plan ¥"},
		{[]string{"billing", "statement", "wuding", "--format", "json"}, fmt.Sprintf(`"year": %d`, month.Year())},
	}
	for _, s := range steps {
		out, errOut, code := runCLI(t, "", s.args...)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("%v: %d\n%s\n%s\nwant %q", s.args, code, out, errOut, s.want)
		}
	}
	for _, bad := range [][]string{
		{"billing", "advance", "wuding", "--amount", "1.234"},
		{"billing", "advance", "wuding", "--amount", "-5"},
		{"billing", "advance", "nowhere", "--amount", "5"},
		{"billing", "set-plan", "wuding", "--module", "monitoring"},
		{"billing", "stripe-sync"},
		{"billing", "statement", "wuding", "--format", "pdf"},
		{"billing", "change-plan", "wuding", "gold"},
		{"billing", "change-plan", "wuding", "standard", "--effective", "2020-01"},
		{"billing", "change-plan", "nowhere", "standard"},
		{"billing", "subscribe", "wuding"},
	} {
		if out, _, code := runCLI(t, "", bad...); code == 0 {
			t.Fatalf("%v succeeded: %s", bad, out)
		}
	}
}
