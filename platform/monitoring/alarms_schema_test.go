package monitoring_test

import (
	"testing"

	"github.com/cityops/cityops/platform/monitoring"
)

// The alarm tables exist on both dialects; a new tenant has no alarms, and a bogus state is a
// field error.
func TestFindAlarmsEmpty(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		got, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{State: "open"})
		if err != nil || len(got) != 0 {
			t.Fatalf("FindAlarms = %v, %v", got, err)
		}
		if _, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{State: "bogus"}); err == nil {
			t.Fatal("a bogus state is accepted")
		}
	})
}
