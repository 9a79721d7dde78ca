package tenants

import (
	"context"
	"testing"

	"github.com/cityops/cityops/internal/errs"
)

// TestPutSettingAudits: a setting written through PutSetting is audited on its tenant as
// setting.put with its value, in the caller's name; bad input and a tenant without a scope write
// nothing.
func TestPutSettingAudits(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, _ := provisionAB(t, s)
		actx := WithScope(WithPrincipal(ctx, &Principal{Identity: &Identity{Email: "admin@a.cn"}}), SystemScope(a))
		for _, tc := range []struct{ key, value, field string }{
			{"Bad Key", "x", "key"},
			{"", "x", "key"},
			{"big", string(make([]byte, 4097)), "value"},
		} {
			if _, err := s.PutSetting(actx, tc.key, tc.value, "admin@a.cn"); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("PutSetting(%q): %v, want invalid %s", tc.key, err, tc.field)
			}
		}
		if _, err := s.PutSetting(ctx, "theme", "dark", "x"); !errs.Is(err, errs.Internal) {
			t.Fatalf("without a scope: %v", err)
		}
		st, err := s.PutSetting(actx, "theme", "dark", "admin@a.cn")
		if err != nil || st.Key != "theme" || st.Value != "dark" || st.UpdatedBy != "admin@a.cn" {
			t.Fatalf("PutSetting: %+v, %v", st, err)
		}
		if got, _ := getSettings(ctx, s, SystemScope(a)); got["theme"] != "dark" {
			t.Fatalf("settings after PutSetting: %v", got)
		}
		es, err := s.FindAudit(ctx, AuditFilter{TenantID: &a.ID, Action: "setting.put"})
		if err != nil || len(es) != 1 {
			t.Fatalf("audit entries: %v, %v", es, err)
		}
		if e := es[0]; e.Target != "theme" || e.Detail != `{"value":"dark"}` || e.ActorEmail != "admin@a.cn" {
			t.Fatalf("audit entry: %+v", e)
		}
	})
}
