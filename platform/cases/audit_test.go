package cases_test

import (
	"encoding/json"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// TestPutStageLimitAudits: a stage limit set by the tenant admin is audited on the tenant as
// cases.stage_limit with the limits set; a refused one records nothing.
func TestPutStageLimitAudits(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir()})
		in := cases.StageLimitInput{Limit: &calendar.Limit{Amount: 1, Unit: calendar.WorkingHours}}
		if _, err := s.PutStageLimit(as(e.TenantA, uuid.New(), tenants.Inspector), cases.StageAccept, in); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("an inspector set a stage limit: %v", err)
		}
		l, err := s.PutStageLimit(as(e.TenantA, uuid.New(), tenants.TenantAdmin), cases.StageAccept, in)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(l)
		if es := e.MustAudit(t, e.TenantA, "cases.stage_limit"); len(es) != 1 || es[0].Target != "accept" || es[0].Detail != string(want) {
			t.Fatalf("cases.stage_limit audit: %+v, want one on accept with %s", es, want)
		}
	})
}
