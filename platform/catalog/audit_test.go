package catalog_test

import (
	"testing"

	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/platformtest"
)

// TestClassAudit: an extension class's creation and removal are audited on the tenant as the API
// and the console always recorded them (the input as given; kind/code as target); a refused
// change records nothing.
func TestClassAudit(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := newEnv(t, pe)
		if _, err := e.cat.CreateClass(e.A, catalog.ClassInput{Kind: catalog.Event, Code: "0101", NameZH: "重复"}); err == nil {
			t.Fatal("a national code was reused")
		}
		if _, err := e.cat.CreateClass(e.A, catalog.ClassInput{Kind: catalog.Event, Code: " 50 ", NameZH: "服务事项"}); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.DeleteClass(e.A, catalog.Event, "50"); err != nil {
			t.Fatal(err)
		}
		for action, want := range map[string][2]string{
			"catalog.class.create": {"event/50", `{"kind":"event","code":" 50 ","name_zh":"服务事项","name_en":""}`},
			"catalog.class.delete": {"event/50", `{}`},
		} {
			e.MustAuditedOnce(t, action, want[0], want[1])
		}
	})
}
