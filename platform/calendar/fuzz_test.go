package calendar

import "testing"

// FuzzParseLimit: any text is a valid limit or a coded refusal, never a panic.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"2紧急工作时", "4 工作时", "15工作日", "0.5working_days", "1e400工作日", ".", "9."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err == nil && l.Validate() != nil {
			t.Fatalf("ParseLimit(%q) = %v, which does not validate", s, l)
		}
	})
}
