package grids

import "testing"

// FuzzLevelOf: a code is accepted only as 14 digits under the tenant's admin code, and the
// parent it names is a valid code of the level above.
func FuzzLevelOf(f *testing.F) {
	for _, s := range []string{"53230100100101", "53230100100100", "53230100100000", "5323010010010x", "00000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		level, parent, err := LevelOf(code, "532301")
		if err != nil {
			return
		}
		if len(code) != 14 || code[:6] != "532301" {
			t.Fatalf("accepted %q", code)
		}
		if level != Street {
			pl, _, err := LevelOf(parent, "532301")
			if err != nil || (level == Unit) != (pl == Community) {
				t.Fatalf("%q (%s) has parent %q (%s, %v)", code, level, parent, pl, err)
			}
		}
	})
}
